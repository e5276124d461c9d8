"""The IDX file format of MNIST-style datasets: a small big-endian header, then the raw array.

Layout (from the MNIST page, http://yann.lecun.com/exdb/mnist/)::

    bytes 0-1     zero
    byte  2       element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3       number of dimensions d
    4 * d bytes   each dimension's size, a big-endian uint32
    the rest      the elements in C order, big-endian

The first four bytes read as one big-endian integer are the file's *magic number*: an images file
(uint8, 3 dimensions: N x H x W) has ``0x00000803`` = 2051, a labels file (uint8, 1 dimension: N) has
``0x00000801`` = 2049. A file whose name ends in ``.gz`` is decompressed while it is read.
"""
import gzip
import math
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
ELEMENT_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class IDXError(ValueError):
    """A file that is not the IDX file expected: unreadable, wrong magic number, or the wrong size."""


def read_idx(path, magic=None):
    """The array stored in the IDX file at ``path`` (gzip-compressed when its name ends in ``.gz``).

    ``magic``, when given, is the magic number the file must have (``IMAGES_MAGIC``, ``LABELS_MAGIC``).
    Returns a writable NumPy array in native byte order, shaped as the header says.
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), path.name, magic)


def parse_idx(content, name, magic=None):
    """The array held by ``content``, the bytes of an IDX file called ``name`` (used in error messages)."""
    if len(content) < 4:
        raise IDXError(f"{name}: {len(content)} bytes is too short for an IDX file (its header has 4 bytes or more)")
    found = int.from_bytes(content[:4], "big")
    type_code, ndim = content[2], content[3]
    if magic is not None and found != magic:
        raise IDXError(f"{name}: magic number is {found:#010x}, expected {magic:#010x} ({describe_magic(magic)})")
    if content[:2] != b"\0\0" or type_code not in ELEMENT_TYPES:
        raise IDXError(
            f"{name}: magic number {found:#010x} is not an IDX one (two zero bytes, then an element type among "
            f"{', '.join(f'{code:#04x}' for code in ELEMENT_TYPES)}, then the number of dimensions)"
        )
    header = 4 + 4 * ndim
    if len(content) < header:
        raise IDXError(
            f"{name}: truncated header: {ndim} dimensions need {header} header bytes, the file has {len(content)}"
        )
    shape = tuple(int(n) for n in np.frombuffer(content, ">u4", ndim, offset=4))
    dtype = np.dtype(ELEMENT_TYPES[type_code])
    expected = header + math.prod(shape) * dtype.itemsize
    if len(content) != expected:
        problem = "truncated" if len(content) < expected else "trailing bytes after the data"
        raise IDXError(
            f"{name}: {problem}: the header says {' x '.join(map(str, shape))} {dtype.name} elements, "
            f"{expected} bytes in all, but the file has {len(content)} bytes"
        )
    return np.frombuffer(content, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def describe_magic(magic):
    """``0x00000803`` → ``'uint8, 3 dimensions'``."""
    type_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    return f"{np.dtype(ELEMENT_TYPES[type_code]).name}, {ndim} dimension{'s' * (ndim != 1)}"


def _read_bytes(path):
    if path.suffix != ".gz":
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise IDXError(f"{path.name}: not a complete gzip file ({err})") from None
