"""``make_grid`` and ``save_image`` with torchvision.utils' names, arguments and layout: a batch of images ``(B, C, H, W)``
tiled ``nrow`` to a row with ``padding`` pixels of ``pad_value`` around each, written as a PNG file.

    save_image(samples.view(64, 1, 28, 28), "sample.png")        # an 8 x 8 grid, 242 x 242 pixels

The PNG is written here (8-bit RGB or RGBA, zlib-compressed rows), so no imaging library is needed.
"""
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from ..autograd.grad_mode import no_grad
from ..ops.shape import cat, stack
from ..tensor import Tensor, full

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_COLOR_TYPES = {3: 2, 4: 6}  # channels -> PNG colour type (RGB, RGBA)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """The images of ``tensor`` ``(B, C, H, W)`` (or a list of ``(C, H, W)``) tiled into one ``(C, H', W')`` image,
    ``nrow`` per row: H' = rows (H + padding) + padding, W' = min(nrow, B) (W + padding) + padding. One-channel
    images become three (grey RGB). ``normalize`` maps ``value_range`` (default: the min and max, of each image with
    ``scale_each``) to [0, 1]. A batch of one image is returned unpadded."""
    if isinstance(tensor, (list, tuple)):
        tensor = stack(tensor, dim=0)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor should be of type torch.Tensor, got {type(tensor).__name__}")
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() != 4:
        raise ValueError(f"make_grid expects images (B, C, H, W), (C, H, W) or (H, W), got shape {tuple(tensor.shape)}")
    if tensor.size(1) == 1:
        tensor = cat((tensor, tensor, tensor), 1)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        tensor = stack([_normalized(t, value_range) for t in tensor]) if scale_each else _normalized(tensor, value_range)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    count, channels, height, width = tensor.shape
    columns = min(nrow, count)
    rows = math.ceil(count / columns)
    step_y, step_x = height + padding, width + padding
    grid = full((channels, rows * step_y + padding, columns * step_x + padding), pad_value, dtype=tensor.dtype,
                device=tensor.device)
    with no_grad():
        for k in range(count):
            y, x = divmod(k, columns)
            grid[:, y * step_y + padding:(y + 1) * step_y, x * step_x + padding:(x + 1) * step_x] = tensor[k]
    return grid


def _normalized(images, value_range):
    """``images`` clamped to ``value_range`` (default: their min and max) and mapped to [0, 1]."""
    low, high = value_range if value_range is not None else (float(images.min()), float(images.max()))
    return (images.clamp(min=low, max=high) - low) / max(high - low, 1e-5)


def save_image(tensor, fp, format=None, **kwargs):
    """Write ``make_grid(tensor, **kwargs)`` to ``fp`` (a path or a binary file) as a PNG, each value v in [0, 1]
    stored as the byte round(255 v) (clamped to 0..255), as torchvision does."""
    name = format or (Path(fp).suffix.lstrip(".") if isinstance(fp, (str, Path)) else "png")
    if name.lower() != "png":
        raise ValueError(f"save_image writes PNG files only, got format {name!r}")
    grid = make_grid(tensor, **kwargs).detach()
    pixels = np.clip(grid.cpu().numpy() * 255 + 0.5, 0, 255).astype(np.uint8)  # in the grid's dtype, as torchvision
    content = png_bytes(pixels.transpose(1, 2, 0))
    if isinstance(fp, (str, Path)):
        Path(fp).write_bytes(content)
    else:
        fp.write(content)


def png_bytes(pixels):
    """The PNG file of ``pixels`` ``(H, W, 3)`` (RGB) or ``(H, W, 4)`` (RGBA), uint8: signature, IHDR, one IDAT
    (each row prefixed by filter type 0, the whole zlib-compressed), IEND."""
    height, width, channels = pixels.shape
    if channels not in PNG_COLOR_TYPES:
        raise ValueError(f"save_image writes 1-, 3- or 4-channel images, got {channels} channels")
    header = struct.pack(">IIBBBBB", width, height, 8, PNG_COLOR_TYPES[channels], 0, 0, 0)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * channels)], axis=1)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes())) + _chunk(b"IEND", b"")


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
