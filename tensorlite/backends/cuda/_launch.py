"""Shared helpers of the CUDA backend: device-array checks, element strides, 1-D launch configurations and the
flat-index → offset device function every kernel uses.

Every array this backend makes is C-contiguous, so a kernel can take it flat (``a.reshape(a.size)``) and find an
element's position from the shape and element strides it is given as tuples: no kernel depends on the number of
dimensions, and broadcasting is a zero stride.
"""
import numpy as np
from numba import cuda

THREADS = 128  # threads per block of the 1-D kernels: four warps


def is_device_array(x):
    """True for a numba device array (real or simulated), which is what this backend stores."""
    return hasattr(x, "copy_to_host") and hasattr(x, "shape")


def grid_1d(n):
    """(blocks, threads) covering n elements with one thread each: ceil(n / T) blocks of T threads,
    T = 128, or n rounded up to a warp when n is small (fewer idle threads; the simulator pays per thread)."""
    threads = min(THREADS, max(32, -(-n // 32) * 32))
    return max(1, -(-n // threads)), threads


def launch(kernel, n, *args):
    """Launch ``kernel`` over n elements, one thread each (``grid_1d``); nothing when n is 0."""
    if n:
        blocks, threads = grid_1d(n)
        kernel[blocks, threads](*args)


def contiguous_strides(shape):
    """Element strides of a C-contiguous array of ``shape``."""
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def broadcast_strides(shape, out_shape):
    """Element strides that read an array of ``shape`` as if broadcast to ``out_shape`` (0 on broadcast dims)."""
    own = contiguous_strides(shape)
    lead = len(out_shape) - len(shape)
    return tuple(0 if i < lead or shape[i - lead] == 1 and out_shape[i] != 1 else own[i - lead]
                 for i in range(len(out_shape)))


def at_least_1d(shape, *strides):
    """Kernels index with non-empty tuples: a 0-d shape becomes (1,) with stride 0."""
    if len(shape):
        return (tuple(shape),) + tuple(tuple(s) for s in strides)
    return ((1,),) + tuple((0,) for _ in strides)


def flat(a):
    """The 1-D view of a contiguous device array."""
    return a if a.ndim == 1 else a.reshape(a.size)


def empty(shape, dtype):
    return cuda.device_array(tuple(int(n) for n in shape), dtype=np.dtype(dtype))


@cuda.jit(device=True)
def offset(i, shape, strides):
    """Offset of the element at flat (C-order) position ``i`` of ``shape`` in an array read with ``strides``."""
    off = 0
    for d in range(len(shape) - 1, -1, -1):
        off += (i % shape[d]) * strides[d]
        i //= shape[d]
    return off
