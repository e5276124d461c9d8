"""Image transforms with torchvision's names: ``Compose``, ``ToTensor``, ``Normalize``, ``RandomCrop``,
``RandomHorizontalFlip``.

Images come in two forms. A dataset hands a transform what torchvision would hand it as a PIL image:
a NumPy ``uint8`` array of shape (H, W) or (H, W, C) (a PIL image itself is accepted too). ``ToTensor``
turns that into a float tensor of shape (C, H, W), the form every later transform works on.

A transform that can process a whole batch at once has ``apply_batch(batch)``; datasets use it (when
every transform in the pipeline has one) to transform a batch without a per-sample loop. Random
transforms have none: each sample draws its own random numbers, from tensorlite's global generator,
so ``tl.manual_seed`` makes them reproducible.
"""
import numbers

import numpy as np

from .. import dtypes
from ..random import rand, randint
from ..tensor import Tensor, from_numpy, tensor


class Compose:
    """Apply ``transforms`` one after the other."""

    def __init__(self, transforms):
        self.transforms = transforms

    def __call__(self, img):
        for transform in self.transforms:
            img = transform(img)
        return img

    def apply_batch(self, batch):
        for transform in self.transforms:
            batch = transform.apply_batch(batch)
        return batch

    def __repr__(self):
        return "Compose(\n" + "".join(f"    {t}\n" for t in self.transforms) + ")"


def supports_batch(transform):
    """Whether ``transform`` (or each transform in a ``Compose``) can transform a whole batch at once."""
    if isinstance(transform, Compose):
        return all(supports_batch(t) for t in transform.transforms)
    return hasattr(transform, "apply_batch")


class ToTensor:
    """Image (H, W) or (H, W, C) → tensor (C, H, W), ``uint8`` values scaled from [0, 255] to floats in [0, 1].

    Arrays of other dtypes keep their values and dtype; only the axes move (as in torchvision).
    """

    def __call__(self, pic):
        return _to_tensor(pic, batched=False)

    def apply_batch(self, pics):
        """(N, H, W) or (N, H, W, C) → (N, C, H, W)."""
        return _to_tensor(pics, batched=True)

    def __repr__(self):
        return "ToTensor()"


def _to_tensor(pic, batched):
    if isinstance(pic, Tensor) or not hasattr(pic, "__array_interface__"):
        raise TypeError(f"pic should be a NumPy array or a PIL image of shape (H, W) or (H, W, C). Got {type(pic)}")
    array = np.asarray(pic)
    image_ndim = array.ndim - batched
    if image_ndim not in (2, 3):
        raise ValueError(f"pic should be 2/3 dimensional. Got {image_ndim} dimensions.")
    if image_ndim == 2:
        array = array[..., np.newaxis]
    channels_first = np.moveaxis(array, -1, -3)
    if array.dtype != np.uint8:
        return from_numpy(np.ascontiguousarray(channels_first))
    scaled = np.ascontiguousarray(channels_first, dtype=dtypes.get_default_dtype().numpy)
    scaled /= 255
    return from_numpy(scaled)


class Normalize:
    """``(image - mean[c]) / std[c]`` for each channel c of a float tensor (..., C, H, W).

    ``mean`` and ``std`` hold one value per channel, or one value for all of them.
    """

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, inplace
        if np.any(np.asarray(std) == 0):
            raise ValueError(f"std evaluated to zero, leading to division by zero (std={std})")

    def __call__(self, img):
        if not isinstance(img, Tensor) or not img.is_floating_point():
            kind = img.dtype if isinstance(img, Tensor) else type(img)
            raise TypeError(f"Normalize expects a float tensor (apply ToTensor first), got {kind}")
        if img.dim() < 3:
            raise ValueError(
                f"Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = {img.size()}"
            )
        mean, std = (tensor(np.reshape(v, (-1, 1, 1)), dtype=img.dtype, device=img.device)
                     for v in (self.mean, self.std))
        channels = img.shape[-3]
        if {mean.shape[0], std.shape[0]} - {1, channels}:
            raise ValueError(
                f"Normalize: mean and std need 1 or {channels} values for an image of {channels} channels, "
                f"got {mean.shape[0]} and {std.shape[0]}"
            )
        return img.sub_(mean).div_(std) if self.inplace else (img - mean) / std

    apply_batch = __call__  # (N, C, H, W) broadcasts against the (C, 1, 1) mean and std just the same

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, img):
        if rand(1).item() >= self.p:
            return img
        array, (_, w_axis) = _pixels(img)
        return _like(img, np.flip(array, w_axis))

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """A ``size`` (h, w) window of the image at a random position, after optional padding.

    ``padding``: an int for all four sides, (left/right, top/bottom), or (left, top, right, bottom).
    ``pad_if_needed`` pads an image smaller than ``size`` up to it. ``padding_mode`` is ``'constant'``
    (with the value ``fill``), ``'edge'``, ``'reflect'`` or ``'symmetric'``.
    """

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(
                f"Padding mode should be either constant, edge, reflect or symmetric, got {padding_mode!r}"
            )
        self.size = _pair(size)
        self.padding, self.pad_if_needed, self.fill, self.padding_mode = padding, pad_if_needed, fill, padding_mode

    def __call__(self, img):
        array, axes = _pixels(img)
        if self.padding is not None:
            array = self._pad(array, axes, _sides(self.padding))
        (th, tw), h, w = self.size, array.shape[axes[0]], array.shape[axes[1]]
        if self.pad_if_needed and (h < th or w < tw):
            dh, dw = max(th - h, 0), max(tw - w, 0)
            array = self._pad(array, axes, (dw, dh, dw, dh))
            h, w = array.shape[axes[0]], array.shape[axes[1]]
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        top, left = randint(0, h - th + 1, (1,)).item(), randint(0, w - tw + 1, (1,)).item()
        window = [slice(None)] * array.ndim
        window[axes[0]], window[axes[1]] = slice(top, top + th), slice(left, left + tw)
        return _like(img, array[tuple(window)])

    def _pad(self, array, axes, sides):
        left, top, right, bottom = sides
        widths = [(0, 0)] * array.ndim
        widths[axes[0]], widths[axes[1]] = (top, bottom), (left, right)
        if self.padding_mode == "constant":
            return np.pad(array, widths, mode="constant", constant_values=self.fill)
        return np.pad(array, widths, mode=self.padding_mode)

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


def _pixels(img):
    """The image as a NumPy array, and the axes of its height and width: (0, 1) for a NumPy or PIL image
    (H, W[, C]), (-2, -1) for a tensor (..., H, W)."""
    if isinstance(img, Tensor):
        return img.detach().numpy(), (-2, -1)
    return np.asarray(img), (0, 1)


def _like(img, array):
    """``array`` in the form ``img`` came in: a tensor on ``img``'s device, or a NumPy array."""
    if isinstance(img, Tensor):
        return tensor(np.ascontiguousarray(array), device=img.device)
    return np.ascontiguousarray(array)


def _pair(size):
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if len(size) == 1:
        return int(size[0]), int(size[0])
    return int(size[0]), int(size[1])


def _sides(padding):
    """torchvision's padding spec → (left, top, right, bottom)."""
    if isinstance(padding, numbers.Number):
        padding = [padding]
    if len(padding) == 1:
        return (int(padding[0]),) * 4
    if len(padding) == 2:
        return padding[0], padding[1], padding[0], padding[1]
    if len(padding) == 4:
        return tuple(padding)
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
