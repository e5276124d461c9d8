"""Scratch arrays for the big temporaries of the CPU kernels, on buffers kept between calls.

Allocating megabytes afresh can cost page faults on every call (2000 per MNIST convolution, 2-3x its time,
once other code allocates between the calls). A kernel takes a buffer with ``scratch`` and gives it back with
``keep`` when it is done; a buffer is out of the pool while in use, so two threads never share one, and
several layers can each hold a buffer until their backward pass. One lock guards the pool: picking a buffer
and taking it out of the list is one step, whatever other threads do meanwhile.
"""
import math
import threading
from pathlib import Path

import numpy as np


def last_level_cache_bytes(cpu_caches=Path("/sys/devices/system/cpu/cpu0/cache")):
    """The size in bytes of the first processor's largest cache, as Linux describes it (sysfs ``index*/size``,
    such as '8192K'), or None where the system does not say."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    sizes = []
    for size_file in cpu_caches.glob("index*/size"):
        try:
            text = size_file.read_text().strip()
        except OSError:
            continue
        if text[:-1].isdigit() and text[-1] in units:
            sizes.append(int(text[:-1]) * units[text[-1]])
        elif text.isdigit():
            sizes.append(int(text))
    return max(sizes, default=None)


def chunk_bytes_for(cache_bytes):
    """The temporaries of one chunk of a batch: half the last-level cache, between 4 and 32 MiB (4 MiB where
    its size is unknown). Measured on the 3x3 convolutions of ``tensorlite bench`` (kernels.md): with an 8 MB
    L3, 4 MiB beat 2, 8, 16 and 64 MiB; with a 260 MB L3, 32 MiB beat 4 and 16 and tied with 64."""
    return 4 << 20 if cache_bytes is None else min(max(cache_bytes // 2, 4 << 20), 32 << 20)


CHUNK_BYTES = chunk_bytes_for(last_level_cache_bytes())
KEEP_BYTES = 64 << 20  # scratch memory kept per name between calls; past it, the oldest buffers are freed
_kept = {}  # name -> the uint8 buffers under scratch arrays that no call is using, oldest first
_lock = threading.Lock()


def batch_chunks(n_images, image_bytes):
    """Slices of a batch of ``n_images`` whose temporaries, ``image_bytes`` per image, take about CHUNK_BYTES:
    enough work for a fast GEMM, small enough to stay in the cache between the loops that write them and the
    GEMM that reads them."""
    step = max(1, CHUNK_BYTES // image_bytes)
    return [slice(start, min(start + step, n_images)) for start in range(0, n_images, step)]


def scratch(name, shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype``, on the smallest kept buffer of that name that fits
    (or a new one)."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    with _lock:
        buffers = _kept.setdefault(name, [])
        fitting = [i for i, buffer in enumerate(buffers) if buffer.nbytes >= nbytes]
        buffer = buffers.pop(min(fitting, key=lambda i: buffers[i].nbytes)) if fitting else None
    if buffer is None:
        buffer = np.empty(nbytes, dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def keep(name, array):
    """Keep the buffer under a ``scratch`` array for a later call, freeing the oldest kept buffers of that
    name while together they are over KEEP_BYTES."""
    with _lock:
        buffers = _kept.setdefault(name, [])
        buffers.append(array.base)
        while sum(buffer.nbytes for buffer in buffers) > KEEP_BYTES:
            buffers.pop(0)
