"""Elementwise ops: one ``Function`` per op, each a forward kernel call and its derivative.

Binary ops first bring both operands to one dtype and device (torch's promotion rules) and check that
their shapes broadcast; the autograd engine sums broadcast gradients back to each input's shape.
"""
import numbers
import operator

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..device import check_same_device
from ..tensor import Tensor, ones_like, zeros_like


def _new(array, like):
    return Tensor(array, like.device)


# --------------------------------------------------------------------- operands
def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to, or torch's error naming the first mismatching dimension."""
    if len(shapes) == 2 and shapes[0] == shapes[1]:
        return tuple(shapes[0])
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i} - {1}
        if len(sizes) > 1:
            a, b = (s[i] if len(s) >= -i else 1 for s in shapes[:2])
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension {ndim + i}"
            )
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def promote_types(a, b):
    """torch's rule: a floating type beats an integer one; within a kind the wider type wins."""
    if a is b:
        return a
    if a.is_floating_point != b.is_floating_point:
        return a if a.is_floating_point else b
    return dtypes.as_dtype(np.promote_types(a.numpy, b.numpy))


def _scalar_tensor(value, like):
    """A 0-d tensor of the Python scalar ``value`` on ``like``'s device, in the dtype it takes next to ``like``."""
    dtype = _scalar_dtype(value, like.dtype)
    return Tensor(like._backend.asarray(value, dtype.numpy), like.device)


def _scalar_dtype(value, other):
    """The dtype a Python scalar takes next to a tensor of dtype ``other`` (scalars never widen a tensor)."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral) and other is not dtypes.bool):
        return other
    if isinstance(value, numbers.Integral):
        return dtypes.int64
    return other if other.is_floating_point else dtypes.get_default_dtype()


def result_type(a, b):
    """The dtype of a binary op's result, by torch's rules: a Python scalar never widens a tensor of its kind, and
    a 0-d tensor changes a dimensioned tensor's dtype only if it is of a higher category."""
    dtype_a = a.dtype if isinstance(a, Tensor) else _scalar_dtype(a, b.dtype)
    dtype_b = b.dtype if isinstance(b, Tensor) else _scalar_dtype(b, a.dtype)
    if dtype_a is dtype_b:
        return dtype_a
    dims_a, dims_b = (x.dim() if isinstance(x, Tensor) else 0 for x in (a, b))
    if dims_a == 0 and dims_b > 0 and dtypes.category(dtype_a) <= dtypes.category(dtype_b):
        return dtype_b
    if dims_b == 0 and dims_a > 0 and dtypes.category(dtype_b) <= dtypes.category(dtype_a):
        return dtype_a
    return promote_types(dtype_a, dtype_b)


def promote(a, b):
    """Both operands as tensors of one dtype on one device (Python scalars become tensors)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"expected at least one Tensor operand, got {type(a).__name__} and {type(b).__name__}")
    dtype = result_type(a, b)
    if not isinstance(a, Tensor):
        return Tensor(b._backend.asarray(dtypes.scalar_to(a, dtype), dtype.numpy), b.device), b.to(dtype)
    if not isinstance(b, Tensor):
        return a.to(dtype), Tensor(a._backend.asarray(dtypes.scalar_to(b, dtype), dtype.numpy), a.device)
    check_same_device(a, b)
    return a.to(dtype), b.to(dtype)


_USE_NOT = "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead."


def refuse_bool(a, error, message):
    """Raise ``error(message)`` if ``a`` is a bool tensor: ops that torch does not define for bools."""
    if a.dtype is dtypes.bool:
        raise error(message)


def operands(a, b):
    """``promote(a, b)``, checking that the two shapes broadcast."""
    a, b = promote(a, b)
    broadcast_shapes(a.shape, b.shape)
    return a, b


# --------------------------------------------------------------------- arithmetic
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _new(a._backend.add(a._array, b._array), a)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _new(a._backend.subtract(a._array, b._array), a)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Function):
    """d(ab) = b da + a db."""

    @staticmethod
    def forward(ctx, a, b):
        needs_a, needs_b = ctx.needs_input_grad
        ctx.save_for_backward(a if needs_b else None, b if needs_a else None)  # as torch: only what is used
        return _new(a._backend.multiply(a._array, b._array), a)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b if ctx.needs_input_grad[0] else None, grad * a if ctx.needs_input_grad[1] else None


class Div(Function):
    """d(a/b) = da / b - a db / b^2."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return _new(a._backend.true_divide(a._array, b._array), a)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad / b, -grad * (a / b) / b if ctx.needs_input_grad[1] else None  # a / b first, as torch


class Pow(Function):
    """d(a^b) = b a^(b-1) da + a^b log(a) db; as in torch, the first term is 0 where b = 0 and the second where
    a = 0 and b >= 0 (0^b is flat in b there)."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, a, b, exponent_dtype):
        backend = a._backend
        if a.dtype.is_floating_point:
            out = _new(backend.power(a._array, b._array), a)
        else:
            out = _new(_integer_power(backend, a._array, b._array), a)
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        ctx.exponent_dtype = exponent_dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        # b - 1 in the exponent's own dtype, as torch computes it (and, for a bool exponent, refuses it)
        exponent_less_one = sub(b.to(ctx.exponent_dtype), 1) if ctx.needs_input_grad[0] else None
        grad_a = grad * where(b == 0, 0, b * a ** exponent_less_one) if ctx.needs_input_grad[0] else None
        grad_b = grad * where((a == 0) & (b >= 0), 0, out * a.log()) if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, None


def _integer_power(b, base, exponent):
    """base ** exponent for integer arrays (``b`` their backend), as torch computes it: a negative exponent gives
    1 for base 1, +-1 for base -1 and 0 otherwise (NumPy refuses it)."""
    zero, one = b.asarray(0, exponent.dtype), b.asarray(1, exponent.dtype)
    negative = b.less(exponent, zero)
    unit = b.logical_or(b.equal(base, one), b.equal(base, b.negative(one)))
    inverse = b.where(unit, b.power(base, b.bitwise_and(exponent, one)), b.asarray(0, base.dtype))
    return b.where(negative, inverse, b.power(base, b.where(negative, zero, exponent)))


class PowScalar(Function):
    """d(a^p) = p a^(p-1) da, for a constant exponent p."""

    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, exponent):
        ctx.save_for_backward(a)
        ctx.exponent = exponent
        return _new(a._backend.power(a._array, a._backend.asarray(exponent, a.dtype.numpy)), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:  # a^0 = 1 everywhere: its derivative is 0, also at a = 0 (where p a^(p-1) would be 0 * inf)
            return zeros_like(grad)
        return grad * p * a ** (p - 1) if p != 1 else grad


def _scaled(a, b, alpha):
    """The operands of ``a + alpha * b``: ``alpha`` scales ``b`` within the result's dtype, as in torch."""
    a, b = operands(a, b)
    if alpha == 1:
        return a, b
    if isinstance(alpha, float) and not a.dtype.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return a, (b * alpha).to(b.dtype)


def add(a, b, alpha=1):
    return Add.apply(*_scaled(a, b, alpha))


def refuse_bool_subtraction(a, b):
    if any(isinstance(x, bool) or (isinstance(x, Tensor) and x.dtype is dtypes.bool) for x in (a, b)):
        raise RuntimeError(f"Subtraction, the `-` operator, with a bool tensor is not supported. {_USE_NOT}")


def sub(a, b, alpha=1):
    refuse_bool_subtraction(a, b)
    return Sub.apply(*_scaled(a, b, alpha))


def mul(a, b):
    return Mul.apply(*operands(a, b))


def div(a, b):
    """True division; integer operands are each converted to the default float type first (not to their common
    integer type, which would wrap -3 into a uint8 253)."""
    if not result_type(a, b).is_floating_point:
        a, b = (x.to(dtypes.get_default_dtype()) if isinstance(x, Tensor) else float(x) for x in (a, b))
    return Div.apply(*operands(a, b))


def pow(a, b):
    if isinstance(a, Tensor) and not a.dtype.is_floating_point and isinstance(b, numbers.Number):
        if isinstance(b, bool) and a.dtype is dtypes.bool:  # torch answers x ** False and x ** True without a kernel
            return a.clone() if b else ones_like(a)
        if isinstance(b, numbers.Integral) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    if isinstance(a, Tensor) and isinstance(b, numbers.Real) and not isinstance(b, bool) and a.dtype is not dtypes.bool:
        if a.dtype.is_floating_point or (isinstance(b, numbers.Integral) and b >= 0):
            return PowScalar.apply(a, b)
    exponent_dtype = b.dtype if isinstance(b, Tensor) else None
    a, b = operands(a, b)
    if a.dtype is dtypes.bool:
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")
    return Pow.apply(a, b, exponent_dtype or b.dtype)


# --------------------------------------------------------------------- unary
class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        refuse_bool(a, RuntimeError, f"Negation, the `-` operator, on a bool tensor is not supported. {_USE_NOT}")
        return _new(a._backend.negative(a._array), a)

    @staticmethod
    def backward(ctx, grad):
        return -grad


class Exp(Function):
    """d exp(a) = exp(a) da."""

    @staticmethod
    def forward(ctx, a):
        out = _new(a._backend.exp(a._array), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """d log(a) = da / a."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _new(a._backend.log(a._array), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad / a


class Sqrt(Function):
    """d sqrt(a) = da / (2 sqrt(a))."""

    @staticmethod
    def forward(ctx, a):
        out = _new(a._backend.sqrt(a._array), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class GradMask(Function):
    """grad * mask, for a backward formula whose factor ``mask`` (a backend array) is piecewise constant in
    ``source``: differentiable in grad, and in source with derivative zero, so that with ``create_graph`` the
    result requires grad whenever source does (torch's relu, leaky_relu and abs backwards behave so)."""

    node_name = "MaskedBackwardBackward0"

    @staticmethod
    def forward(ctx, grad, source, mask):
        ctx.mask = mask
        return _new(grad._backend.multiply(grad._array, mask), grad)

    @staticmethod
    def backward(ctx, grad_grad):
        grad_source = zeros_like(grad_grad) if ctx.needs_input_grad[1] else None
        return GradMask.apply(grad_grad, None, ctx.mask), grad_source, None


def sign_array(b, array, dtype):
    """[a > 0] - [a < 0] in ``dtype``, with backend ``b``: as torch's sign, 0 at NaN (NumPy's sign gives NaN)."""
    return b.subtract(b.astype(b.greater(array, 0), dtype), b.astype(b.less(array, 0), dtype))


class Sign(Function):
    """sign(a) in {-1, 0, 1} (0 at NaN); its derivative is zero wherever it exists."""

    @staticmethod
    def forward(ctx, a):
        if a.dtype is dtypes.bool:
            return _new(a._backend.copy(a._array), a)
        return _new(sign_array(a._backend, a._array, a.dtype.numpy), a)

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad)


class Abs(Function):
    """d |a| = sign(a) da (0 at a = 0 and at NaN, as in torch)."""

    @staticmethod
    def forward(ctx, a):
        refuse_bool(a, NotImplementedError, '"abs_cpu" not implemented for \'Bool\'')
        ctx.save_for_backward(a)
        return _new(a._backend.abs(a._array), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return GradMask.apply(grad, a, sign_array(a._backend, a._array, grad.dtype.numpy))


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _new(a._backend.sin(a._array), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * a.cos()


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _new(a._backend.cos(a._array), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return -grad * a.sin()


class Tanh(Function):
    """d tanh(a) = (1 - tanh(a)^2) da."""

    @staticmethod
    def forward(ctx, a):
        out = _new(a._backend.tanh(a._array), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sigmoid(Function):
    """d sigmoid(a) = s (1 - s) da, s = sigmoid(a)."""

    @staticmethod
    def forward(ctx, a):
        out = _new(a._backend.sigmoid(a._array), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


class ReLU(Function):
    """relu(a) = max(a, 0); the gradient passes where a > 0."""

    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, a):
        refuse_bool(a, RuntimeError, "Boolean inputs not supported for relu")
        out = _new(a._backend.maximum(a._array, a._backend.asarray(0, a.dtype.numpy)), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        b = grad._backend
        # [not out <= 0] rather than [out > 0]: a NaN passes its gradient on, as torch's threshold_backward does
        passes = b.astype(b.logical_not(b.less_equal(out._array, b.asarray(0, out.dtype.numpy))), grad.dtype.numpy)
        if is_grad_enabled():  # create_graph: a node, so that it can be differentiated again
            return GradMask.apply(grad, out, passes)
        return Tensor(b.multiply(grad._array, passes), grad.device)  # grad * [out > 0]: faster than a select


class LeakyReLU(Function):
    """leaky_relu(a) = a if a > 0 else slope * a."""

    node_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx, a, slope):
        ctx.save_for_backward(a)
        ctx.slope = slope
        b = a._backend
        scaled = b.multiply(a._array, b.asarray(slope, a.dtype.numpy))
        return _new(b.where(b.greater(a._array, b.asarray(0, a.dtype.numpy)), a._array, scaled), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        b = a._backend
        positive = b.greater(a._array, b.asarray(0, a.dtype.numpy))
        slopes = b.where(positive, b.asarray(1, grad.dtype.numpy), b.asarray(ctx.slope, grad.dtype.numpy))
        return GradMask.apply(grad, a, slopes), None


class Clamp(Function):
    """clamp(a, lo, hi) = min(max(a, lo), hi); the gradient passes where lo <= a <= hi."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a)
        ctx.bounds = (lo, hi)
        return _new(a._backend.clip(a._array, lo, hi), a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = (a >= (-np.inf if lo is None else lo)) & (a <= (np.inf if hi is None else hi))
        return where(inside, grad, 0), None, None  # no node depends on a here, as in torch


def clamp(a, min=None, max=None):
    """Bounds are Python numbers; the result takes their type as torch's promotion says (an int tensor clamped
    to 0.5 is a float tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    dtype = a.dtype
    for bound in (min, max):
        if bound is not None:
            dtype = promote_types(dtype, _scalar_dtype(bound, a.dtype))
    if dtype is dtypes.bool:
        kernel = "clamp" if min is not None and max is not None else "clamp_min" if min is not None else "clamp_max"
        raise NotImplementedError(f'"{kernel}_scalar_cpu" not implemented for \'Bool\'')
    min, max = (None if bound is None else dtypes.scalar_to(bound, dtype).item() for bound in (min, max))
    return Clamp.apply(a.to(dtype), min, max)


# --------------------------------------------------------------------- selection
class Where(Function):
    """where(c, a, b) takes a where c holds, else b; the gradient follows the same choice."""

    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return _new(a._backend.where(condition._array, a._array, b._array), a)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        zero = _scalar_tensor(0, grad)
        grad_a = Where.apply(condition, grad, zero) if ctx.needs_input_grad[1] else None
        grad_b = Where.apply(condition, zero, grad) if ctx.needs_input_grad[2] else None
        return None, grad_a, grad_b


def where(condition, a, b):
    if not isinstance(condition, Tensor) or condition.dtype not in (dtypes.bool, dtypes.uint8):
        raise TypeError(f"where expected condition to be a bool tensor, but got {getattr(condition, 'dtype', type(condition))}")
    condition = condition.to(dtypes.bool)  # torch still takes a uint8 condition
    a, b = operands(a, b)
    broadcast_shapes(condition.shape, a.shape, b.shape)
    return Where.apply(condition, a, b)


class Extremum(Function):
    """maximum/minimum of two tensors (the backend kernel named ``kernel``). As in torch, the gradient goes to the
    operand that wins, is split evenly on ties and reaches both where a NaN makes the comparison fail."""

    kernel = None
    loses = None  # a loses where loses(a, b), b where loses(b, a)

    @classmethod
    def forward(cls, ctx, a, b):
        out = _new(getattr(a._backend, cls.kernel)(a._array, b._array), a)
        ctx.save_for_backward(a, b)
        return out

    @classmethod
    def backward(cls, ctx, grad):
        a, b = ctx.saved_tensors
        shared = grad * (1 - 0.5 * (a == b).to(grad.dtype))
        return where(cls.loses(a, b), 0, shared), where(cls.loses(b, a), 0, shared)


class Maximum(Extremum):
    kernel = "maximum"
    loses = operator.lt


class Minimum(Extremum):
    kernel = "minimum"
    loses = operator.gt


def _tensors_only(name, a, b):
    for position, x in ((1, a), (2, b)):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"{name}(): argument '{'input' if position == 1 else 'other'}' (position {position}) must be Tensor, "
                f"not {type(x).__name__}"
            )
    return operands(a, b)


def maximum(a, b):
    return Maximum.apply(*_tensors_only("maximum", a, b))


def minimum(a, b):
    return Minimum.apply(*_tensors_only("minimum", a, b))


# --------------------------------------------------------------------- comparisons (no gradient)
def compare(kernel, a, b):
    """``a <op> b`` elementwise as a bool tensor; ``kernel`` names the backend comparison."""
    a, b = operands(a, b)
    return _new(getattr(a._backend, kernel)(a._current_array(), b._current_array()), a)


def logical_not(a):
    return _new(a._backend.logical_not(a._current_array()), a)


def bitwise(kernel, a, b):
    """``a & b``, ``a | b``, ``a ^ b`` (``kernel`` names the backend function): bitwise on integers, logical on
    bools; floating point operands raise, as in torch."""
    a, b = operands(a, b)
    if a.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{a.dtype.legacy_name}\'')
    return _new(getattr(a._backend, kernel)(a._current_array(), b._current_array()), a)


def bitwise_not(a):
    """``~a``: logical not on bools, two's-complement inversion on integers; floats raise, as in torch."""
    if a.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    if a.dtype is dtypes.bool:
        return logical_not(a)
    return _new(a._backend.invert(a._current_array()), a)


def floating(function, a):
    """Apply the unary ``function`` (exp, log, sigmoid, ...) to ``a``, integers and bools first converted to the
    default float dtype, as torch does (an int64 sigmoid is not rounded to 0)."""
    return function.apply(a if a.dtype.is_floating_point else a.to(dtypes.get_default_dtype()))
