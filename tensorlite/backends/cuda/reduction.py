"""Reductions along dimensions: sum, max, min, all, any, argmax, argmin.

    out[k] = combine over r of x[base(k) + offset(r, reduced_shape, reduced_strides)],   base(k) = offset(k, kept_shape, kept_strides)

Launch layout: one thread per output element (1-D grid of ceil(n_out / 128) blocks of 128 threads); each thread
loops over the reduced elements in order, so results are deterministic. ``argmax``/``argmin`` return r, the
position among the reduced elements: the index along ``axis``, or the flat index when every axis is reduced.
"""
import builtins
import math

import numpy as np
from numba import cuda

from ._launch import at_least_1d, contiguous_strides, empty, flat, grid_1d, offset


def _reduce_kernel(combine):
    @cuda.jit
    def kernel(out, x, kept_shape, kept_strides, red_shape, red_strides, count, empty_value):
        k = cuda.grid(1)
        if k < out.size:
            base = offset(k, kept_shape, kept_strides)
            if count == 0:
                out[k] = empty_value
                return
            acc = x[base + offset(0, red_shape, red_strides)]
            for r in range(1, count):
                acc = combine(acc, x[base + offset(r, red_shape, red_strides)])
            out[k] = acc

    return kernel


def _arg_kernel(better):
    @cuda.jit
    def kernel(out, x, kept_shape, kept_strides, red_shape, red_strides, count):
        k = cuda.grid(1)
        if k < out.size:
            base = offset(k, kept_shape, kept_strides)
            best = x[base]
            best_r = 0
            for r in range(1, count):
                v = x[base + offset(r, red_shape, red_strides)]
                if better(v, best) and best == best:  # the first NaN wins, as in NumPy
                    best = v
                    best_r = r
            out[k] = best_r

    return kernel


def _device(fn):
    return cuda.jit(device=True)(fn)


_KERNELS = {
    "sum": _reduce_kernel(_device(lambda acc, v: acc + v)),
    "max": _reduce_kernel(_device(lambda acc, v: v if v > acc or v != v else acc)),
    "min": _reduce_kernel(_device(lambda acc, v: v if v < acc or v != v else acc)),
    "all": _reduce_kernel(_device(lambda acc, v: acc and v)),
    "any": _reduce_kernel(_device(lambda acc, v: acc or v)),
}
_ARG_KERNELS = {
    "argmax": _arg_kernel(_device(lambda v, best: v > best or v != v)),
    "argmin": _arg_kernel(_device(lambda v, best: v < best or v != v)),
}


def _axes(ndim, axis):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % builtins.max(ndim, 1) for a in axes)) if ndim else ()


def _geometry(shape, axes):
    """(kept shape, kept strides, reduced shape, reduced strides, count), each tuple non-empty for the kernel."""
    strides = contiguous_strides(shape)
    kept = [d for d in range(len(shape)) if d not in axes]
    kept_shape, kept_strides = at_least_1d([shape[d] for d in kept], [strides[d] for d in kept])
    red_shape, red_strides = at_least_1d([shape[d] for d in axes], [strides[d] for d in axes])
    return kept_shape, kept_strides, red_shape, red_strides, math.prod(shape[d] for d in axes)


def _out_shape(shape, axes, keepdims):
    return tuple(1 if d in axes else n for d, n in enumerate(shape) if keepdims or d not in axes)


def _reduce(name, x, axis, keepdims, dtype, empty_value):
    axes = _axes(x.ndim, axis)
    out = empty(_out_shape(x.shape, axes, keepdims), dtype)
    if out.size:
        if not axes:
            from .elementwise import astype

            return astype(x, dtype, copy=True).reshape(out.shape)
        count = math.prod(x.shape[d] for d in axes)
        if count == 0 and empty_value is None:
            raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
        blocks, threads = grid_1d(out.size)
        _KERNELS[name][blocks, threads](flat(out), flat(x), *_geometry(x.shape, axes)[:4], count,
                                        np.dtype(dtype).type(empty_value or 0))
    return out


def sum(x, axis=None, keepdims=False, dtype=None):
    """sum of x over ``axis`` (None: all), in x's dtype (bool and small ints in int64, as NumPy)."""
    dtype = np.dtype(dtype) if dtype is not None else np.sum(np.empty(0, x.dtype)).dtype
    if dtype != x.dtype:
        from .elementwise import astype

        x = astype(x, dtype)
    return _reduce("sum", x, axis, keepdims, dtype, 0)


def max(x, axis=None, keepdims=False):
    """max of x over ``axis``; NaN wins, as in NumPy."""
    return _reduce("max", x, axis, keepdims, x.dtype, None)


def min(x, axis=None, keepdims=False):
    return _reduce("min", x, axis, keepdims, x.dtype, None)


def all(x, axis=None, keepdims=False):
    from .elementwise import astype

    return _reduce("all", astype(x, np.bool_), axis, keepdims, np.bool_, True)


def any(x, axis=None, keepdims=False):
    from .elementwise import astype

    return _reduce("any", astype(x, np.bool_), axis, keepdims, np.bool_, False)


def _arg(name, x, axis, keepdims):
    axes = _axes(x.ndim, axis)
    if math.prod(x.shape[d] for d in axes) == 0:
        raise ValueError(f"attempt to get {name} of an empty sequence")
    shape = _out_shape(x.shape, axes, keepdims) if axis is not None else ((1,) * x.ndim if keepdims else ())
    out = empty(shape, np.int64)
    if out.size:
        geometry = _geometry(x.shape, axes)
        blocks, threads = grid_1d(out.size)
        _ARG_KERNELS[name][blocks, threads](flat(out), flat(x), *geometry)
    return out


def argmax(x, axis=None, keepdims=False):
    """Index of the first largest element along ``axis`` (of the flattened array when None), int64."""
    return _arg("argmax", x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg("argmin", x, axis, keepdims)
