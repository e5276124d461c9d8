"""Elementwise kernels with NumPy broadcasting: one kernel generated per op from a one-line device function.

    out[i] = f(a[offset(i, shape, strides_a)], b[offset(i, shape, strides_b)])      (binary; unary: out[i] = f(a[i]))

Launch layout: one thread per output element, 1-D grid of ceil(n / 128) blocks of 128 threads (``grid_1d``).
A broadcast operand is read with stride 0 on its broadcast dimensions, so nothing is materialised. Python scalars
become 0-d device arrays of the dtype NumPy would give them (NEP 50: a scalar never widens an array).
The result dtype is NumPy's for the same call, so the CUDA and CPU backends agree on dtypes.
"""
import math

import numpy as np
from numba import cuda

from ._launch import at_least_1d, broadcast_strides, empty, flat, grid_1d, is_device_array, offset


def _binary_kernel(fn):
    @cuda.jit
    def kernel(out, a, b, shape, sa, sb):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(a[offset(i, shape, sa)], b[offset(i, shape, sb)])

    return kernel


def _ternary_kernel(fn):
    @cuda.jit
    def kernel(out, a, b, c, shape, sa, sb, sc):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(a[offset(i, shape, sa)], b[offset(i, shape, sb)], c[offset(i, shape, sc)])

    return kernel


def _unary_kernel(fn):
    @cuda.jit
    def kernel(out, a):
        i = cuda.grid(1)
        if i < out.size:
            out[i] = fn(a[i])

    return kernel


def device(fn):
    return cuda.jit(device=True)(fn)


def _result_dtype(numpy_fn, *args):
    """The dtype NumPy gives ``numpy_fn`` on operands like ``args`` (device arrays → empty arrays of their dtype)."""
    probes = [np.empty(0, a.dtype) if hasattr(a, "dtype") and not isinstance(a, np.generic) else a for a in args]
    return numpy_fn(*probes).dtype


_constants = {}


def to_device(x, dtype=None):
    """``x`` (a device array, NumPy array or scalar) as a device array, cast to ``dtype`` when given.

    Scalars (the 2 in ``x * 2``, relu's 0) are copied to the device once per (value, dtype) and reused, so a
    training step does no host-to-device copies; these 0-d constants are operands only, never written to."""
    if is_device_array(x):
        return x if dtype is None or x.dtype == np.dtype(dtype) else astype(x, dtype)
    if isinstance(x, (bool, int, float, np.generic)):
        key = (type(x), repr(x), None if dtype is None else np.dtype(dtype))  # repr tells -0.0 and NaN apart
        if key not in _constants:
            if len(_constants) > 1024:
                _constants.clear()
            _constants[key] = cuda.to_device(np.asarray(x, dtype=dtype))
        return _constants[key]
    host = np.asarray(x, dtype=dtype)
    return cuda.to_device(host if host.flags.c_contiguous else host.copy())


def _operands(args):
    """Device arrays for ``args``; scalars take the dtype NumPy would give them next to the array operands."""
    arrays = [a for a in args if is_device_array(a) or isinstance(a, np.ndarray)]
    out = []
    for a in args:
        if is_device_array(a):
            out.append(a)
        else:
            dtype = np.result_type(*[x.dtype for x in arrays], a) if arrays else None
            out.append(to_device(a, dtype))
    return out


def _launch_broadcast(kernel, out_dtype, operands):
    shape = np.broadcast_shapes(*[a.shape for a in operands])
    out = empty(shape, out_dtype)
    if out.size:
        kshape, *strides = at_least_1d(shape, *[broadcast_strides(a.shape, shape) for a in operands])
        blocks, threads = grid_1d(out.size)
        kernel[blocks, threads](flat(out), *[flat(a) for a in operands], kshape, *strides)
    return out


def binary(numpy_fn, fn):
    """A backend function ``f(a, b)`` with NumPy's broadcasting and result dtype, computing ``fn`` elementwise."""
    kernel = _binary_kernel(device(fn))

    def op(a, b):
        dtype = _result_dtype(numpy_fn, a, b)
        return _launch_broadcast(kernel, dtype, _operands([a, b]))

    op.__name__ = numpy_fn.__name__
    op.__doc__ = f"Elementwise {numpy_fn.__name__}(a, b) with broadcasting, as NumPy's (one thread per output)."
    op.kernel = kernel
    return op


def unary(numpy_fn, fn, name=None):
    kernel = _unary_kernel(device(fn))

    def op(a):
        a = to_device(a)
        out = empty(a.shape, _result_dtype(numpy_fn, a))
        if out.size:
            blocks, threads = grid_1d(out.size)
            kernel[blocks, threads](flat(out), flat(a))
        return out

    op.__name__ = name or numpy_fn.__name__
    op.__doc__ = f"Elementwise {op.__name__}(a), as NumPy's (one thread per element)."
    op.kernel = kernel
    return op


add = binary(np.add, lambda a, b: a + b)
subtract = binary(np.subtract, lambda a, b: a - b)
multiply = binary(np.multiply, lambda a, b: a * b)
true_divide = binary(np.true_divide, lambda a, b: a / b)
power = binary(np.power, lambda a, b: a**b)
maximum = binary(np.maximum, lambda a, b: a if a > b or a != a else b)  # NaN propagates, as in NumPy
minimum = binary(np.minimum, lambda a, b: a if a < b or a != a else b)
equal = binary(np.equal, lambda a, b: a == b)
not_equal = binary(np.not_equal, lambda a, b: a != b)
less = binary(np.less, lambda a, b: a < b)
less_equal = binary(np.less_equal, lambda a, b: a <= b)
greater = binary(np.greater, lambda a, b: a > b)
greater_equal = binary(np.greater_equal, lambda a, b: a >= b)
logical_and = binary(np.logical_and, lambda a, b: a and b)
logical_or = binary(np.logical_or, lambda a, b: a or b)
bitwise_and = binary(np.bitwise_and, lambda a, b: a & b)
bitwise_or = binary(np.bitwise_or, lambda a, b: a | b)
bitwise_xor = binary(np.bitwise_xor, lambda a, b: a ^ b)

negative = unary(np.negative, lambda a: -a)
abs = unary(np.abs, lambda a: a if a >= 0 else -a)
sign = unary(np.sign, lambda a: 1 if a > 0 else (-1 if a < 0 else (0 if a == 0 else a)))  # NaN stays NaN
exp = unary(np.exp, lambda a: math.exp(a))
log = unary(np.log, lambda a: math.log(a) if a > 0 else (-math.inf if a == 0 else math.nan))
log1p = unary(np.log1p, lambda a: math.log1p(a) if a > -1 else (-math.inf if a == -1 else math.nan))
sqrt = unary(np.sqrt, lambda a: math.sqrt(a) if a >= 0 else math.nan)
sin = unary(np.sin, lambda a: math.sin(a))
cos = unary(np.cos, lambda a: math.cos(a))
tanh = unary(np.tanh, lambda a: math.tanh(a))
sigmoid = unary(np.tanh, lambda a: 0.5 * (1.0 + math.tanh(0.5 * a)), name="sigmoid")
sigmoid.__doc__ = "sigmoid(x) = 1 / (1 + exp(-x)), computed as (1 + tanh(x / 2)) / 2 so no exp overflows."
logical_not = unary(np.logical_not, lambda a: not a)
invert = unary(np.invert, lambda a: ~a)

_where_kernel = _ternary_kernel(device(lambda c, a, b: a if c else b))


def where(condition, a, b):
    """out = a where condition else b, all three broadcast together (one thread per output)."""
    dtype = _result_dtype(lambda x, y: np.where(np.empty(0, bool), x, y), a, b)
    condition, a, b = _operands([condition, a, b])
    return _launch_broadcast(_where_kernel, dtype, [to_device(condition, np.bool_), a, b])


def relu_backward(grad, out):
    """relu's backward: grad where out > 0, else 0 (an out of NaN passes its gradient on, as torch's
    threshold_backward); one where launch."""
    return where(less_equal(out, 0), np.zeros((), grad.dtype), grad)


def clip(a, lo, hi):
    """min(max(a, lo), hi); a bound of None is not applied."""
    out = a
    if lo is not None:
        out = maximum(out, lo)
    if hi is not None:
        out = minimum(out, hi)
    return out if out is not a else astype(a, a.dtype, copy=True)


_cast_kernel = _unary_kernel(device(lambda a: a))
_to_bool_kernel = _unary_kernel(device(lambda a: a != 0))


def astype(a, dtype, copy=False):
    """``a`` converted to ``dtype`` elementwise (C casting: float → int truncates towards zero, as NumPy)."""
    dtype = np.dtype(dtype)
    if a.dtype == dtype and not copy:
        return a
    out = empty(a.shape, dtype)
    if out.size:
        blocks, threads = grid_1d(out.size)
        kernel = _to_bool_kernel if dtype == np.bool_ and a.dtype != np.bool_ else _cast_kernel
        kernel[blocks, threads](flat(out), flat(a))
    return out
