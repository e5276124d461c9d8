"""Elementwise ops: one ``Op`` per op, its forward array math and its backward tensor ops, and one registration
that gives it its Tensor method, its ``tl.`` function and, where torch has them, its operator and in-place form.

Binary ops first bring both operands to one dtype and device (torch's promotion rules) and check that
their shapes broadcast; the autograd engine sums broadcast gradients back to each input's shape.
"""
import numbers
import operator

import numpy as np

from .. import dtypes
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from ..device import check_same_device
from ..tensor import Tensor, ones_like, scalar_tensor, zeros_like
from .kernel import Kernel
from .registry import register


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
        return scalar_tensor(dtypes.scalar_to(a, dtype), dtype=dtype, device=b.device), _cast(b, dtype)
    if not isinstance(b, Tensor):
        return _cast(a, dtype), scalar_tensor(dtypes.scalar_to(b, dtype), dtype=dtype, device=a.device)
    check_same_device(a, b)
    return _cast(a, dtype), _cast(b, dtype)


def _cast(a, dtype):
    """``a.to(dtype)``, without parsing ``to``'s arguments for the usual operand that has the dtype already."""
    return a if a.dtype is dtype else a.to(dtype)


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


def floating(a):
    """``a``, integers and bools first converted to the default float dtype, as torch's unary math does (an int64
    sigmoid is not rounded to 0)."""
    return a if a.dtype.is_floating_point else a.to(dtypes.get_default_dtype())


def _is_floating(array):
    return array.dtype.kind == "f"


# --------------------------------------------------------------------- arithmetic
class Add(Op):
    @staticmethod
    def forward(ctx, b, x, y):
        return b.add(x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Op):
    @staticmethod
    def forward(ctx, b, x, y):
        return b.subtract(x, y)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad


class Mul(Op):
    """d(xy) = y dx + x dy."""

    @staticmethod
    def forward(ctx, b, x, y):
        needs_x, needs_y = ctx.needs_input_grad
        ctx.save_for_backward(x if needs_y else None, y if needs_x else None)  # as torch: only what is used
        return b.multiply(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * y if ctx.needs_input_grad[0] else None, grad * x if ctx.needs_input_grad[1] else None


class Div(Op):
    """d(x/y) = dx / y - x dy / y^2."""

    @staticmethod
    def forward(ctx, b, x, y):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)
        return b.true_divide(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad / y, -grad * (x / y) / y if ctx.needs_input_grad[1] else None  # x / y first, as torch


class Pow(Op):
    """d(x^y) = y x^(y-1) dx + x^y log(x) dy; as in torch, the first term is 0 where y = 0 and the second where
    x = 0 and y >= 0 (0^y is flat in y there)."""

    node_name = "PowBackward1"

    @staticmethod
    def forward(ctx, b, x, y, exponent_dtype):
        out = b.power(x, y) if _is_floating(x) else _integer_power(b, x, y)
        ctx.save_for_backward(x, y, out if ctx.needs_input_grad[1] else None)
        ctx.exponent_dtype = exponent_dtype
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        # y - 1 in the exponent's own dtype, as torch computes it (and, for a bool exponent, refuses it)
        exponent_less_one = sub(y.to(ctx.exponent_dtype), 1) if ctx.needs_input_grad[0] else None
        grad_x = grad * where(y == 0, 0, y * x ** exponent_less_one) if ctx.needs_input_grad[0] else None
        grad_y = grad * where((x == 0) & (y >= 0), 0, out * x.log()) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y, None


def _integer_power(b, base, exponent):
    """base ** exponent for integer arrays (``b`` their backend), as torch computes it: a negative exponent gives
    1 for base 1, +-1 for base -1 and 0 otherwise (NumPy refuses it)."""
    zero, one = b.asarray(0, exponent.dtype), b.asarray(1, exponent.dtype)
    negative = b.less(exponent, zero)
    unit = b.logical_or(b.equal(base, one), b.equal(base, b.negative(one)))
    inverse = b.where(unit, b.power(base, b.bitwise_and(exponent, one)), b.asarray(0, base.dtype))
    return b.where(negative, inverse, b.power(base, b.where(negative, zero, exponent)))


def _scalar_power(b, x, exponent):
    """x ** exponent for a number ``exponent``, as torch's CPU kernel computes it: sqrt for 0.5, 1/sqrt for -0.5,
    products and reciprocals for 2, 3, -1 and -2, ``power`` otherwise. The special cases decide the signs at
    -0.0 and the infinities: 1/sqrt(-0.0) is -inf as in torch, where C's pow(-0.0, -0.5) is +inf (and NumPy's
    SIMD power follows one or the other depending on the processor)."""
    if not _is_floating(x):
        return b.power(x, b.asarray(exponent, x.dtype))
    one = b.asarray(1, x.dtype)
    special = {
        0.5: lambda: b.sqrt(x),
        -0.5: lambda: b.true_divide(one, b.sqrt(x)),
        2: lambda: b.multiply(x, x),
        3: lambda: b.multiply(b.multiply(x, x), x),
        -1: lambda: b.true_divide(one, x),
        -2: lambda: b.true_divide(one, b.multiply(x, x)),
    }.get(exponent)
    return special() if special is not None else b.power(x, b.asarray(exponent, x.dtype))


class PowScalar(Op):
    """d(x^p) = p x^(p-1) dx, for a constant exponent p."""

    node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, b, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return _scalar_power(b, x, exponent)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0:  # x^0 = 1 everywhere: its derivative is 0, also at x = 0 (where p x^(p-1) would be 0 * inf)
            return zeros_like(grad)
        return grad * p * x ** (p - 1) if p != 1 else grad


def _scaled(a, b, alpha):
    """The operands of ``a + alpha * b``: ``alpha`` scales ``b`` within the result's dtype, as in torch."""
    a, b = operands(a, b)
    if alpha == 1:
        return a, b
    if isinstance(alpha, float) and not a.dtype.is_floating_point:
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    return a, (b * alpha).to(b.dtype)


@register("add", operator="__add__", reflected=True)
def add(input, other, alpha=1):
    return Add.apply(*_scaled(input, other, alpha))


def refuse_bool_subtraction(a, b):
    if any(isinstance(x, bool) or (isinstance(x, Tensor) and x.dtype is dtypes.bool) for x in (a, b)):
        raise RuntimeError(f"Subtraction, the `-` operator, with a bool tensor is not supported. {_USE_NOT}")


@register("sub", operator="__sub__", reflected=True)
def sub(input, other, alpha=1):
    refuse_bool_subtraction(input, other)
    return Sub.apply(*_scaled(input, other, alpha))


@register("mul", operator="__mul__", reflected=True)
def mul(input, other):
    return Mul.apply(*operands(input, other))


@register("div", operator="__truediv__", reflected=True)
def div(input, other):
    """True division; integer operands are each converted to the default float type first (not to their common
    integer type, which would wrap -3 into a uint8 253)."""
    if not result_type(input, other).is_floating_point:
        input, other = (x.to(dtypes.get_default_dtype()) if isinstance(x, Tensor) else float(x) for x in (input, other))
    return Div.apply(*operands(input, other))


@register("pow", operator="__pow__", reflected=True, inplace=True)
def pow(input, exponent):
    a, b = input, exponent
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
class Neg(Op):
    @staticmethod
    def forward(ctx, b, x):
        return b.negative(x)

    @staticmethod
    def backward(ctx, grad):
        return -grad


@register("neg", operator="__neg__", inplace=True)
def neg(input):
    refuse_bool(input, RuntimeError, f"Negation, the `-` operator, on a bool tensor is not supported. {_USE_NOT}")
    return Neg.apply(input)


class Exp(Op):
    """d exp(x) = exp(x) dx."""

    @staticmethod
    def forward(ctx, b, x):
        out = b.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Op):
    """d log(x) = dx / x."""

    @staticmethod
    def forward(ctx, b, x):
        ctx.save_for_backward(x)
        return b.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Op):
    """d sqrt(x) = dx / (2 sqrt(x))."""

    @staticmethod
    def forward(ctx, b, x):
        out = b.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Sin(Op):
    """d sin(x) = cos(x) dx."""

    @staticmethod
    def forward(ctx, b, x):
        ctx.save_for_backward(x)
        return b.sin(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()


class Cos(Op):
    """d cos(x) = -sin(x) dx."""

    @staticmethod
    def forward(ctx, b, x):
        ctx.save_for_backward(x)
        return b.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return -grad * x.sin()


class Tanh(Op):
    """d tanh(x) = (1 - tanh(x)^2) dx."""

    @staticmethod
    def forward(ctx, b, x):
        out = b.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


class Sigmoid(Op):
    """d sigmoid(x) = s (1 - s) dx, s = sigmoid(x)."""

    @staticmethod
    def forward(ctx, b, x):
        out = b.sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out * (1 - out)


def _floating_math(name, function):
    """Register ``function`` (an Op of one floating-point argument) as the unary math op ``name``."""

    def math_op(input):
        return function.apply(floating(input))

    math_op.__name__ = name
    math_op.__doc__ = f"{name}(x) elementwise; integers and bools are converted to the default float dtype first."
    return register(name, inplace=True, functional=name in ("sigmoid", "tanh"))(math_op)


exp, log, sqrt = _floating_math("exp", Exp), _floating_math("log", Log), _floating_math("sqrt", Sqrt)
sin, cos = _floating_math("sin", Sin), _floating_math("cos", Cos)
tanh, sigmoid = _floating_math("tanh", Tanh), _floating_math("sigmoid", Sigmoid)


class GradMask(Op):
    """grad * mask, for a backward formula whose factor ``mask`` is piecewise constant in ``source``:
    differentiable in grad, and in source with derivative zero, so that with ``create_graph`` the result requires
    grad whenever source does (torch's leaky_relu and abs backwards behave so; relu's is ReLUGrad)."""

    node_name = "MaskedBackwardBackward0"

    @staticmethod
    def forward(ctx, b, grad, source, mask):
        ctx.save_for_backward(mask)
        return b.multiply(grad, mask)

    @staticmethod
    def backward(ctx, grad_grad):
        (mask,) = ctx.saved_tensors
        grad_source = zeros_like(grad_grad) if ctx.needs_input_grad[1] else None
        return GradMask.apply(grad_grad, None, mask), grad_source, None


def sign_array(b, array, dtype):
    """[a > 0] - [a < 0] in ``dtype``, with backend ``b``: as torch's sign, 0 at NaN (NumPy's sign gives NaN)."""
    return b.subtract(b.astype(b.greater(array, 0), dtype), b.astype(b.less(array, 0), dtype))


class Sign(Op):
    """sign(x) in {-1, 0, 1} (0 at NaN); its derivative is zero wherever it exists."""

    @staticmethod
    def forward(ctx, b, x):
        return b.copy(x) if x.dtype == dtypes.bool.numpy else sign_array(b, x, x.dtype)

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad)


@register("sign")
def sign(input):
    return Sign.apply(input)


class Abs(Op):
    """d |x| = sign(x) dx (0 at x = 0 and at NaN, as in torch)."""

    @staticmethod
    def forward(ctx, b, x):
        ctx.save_for_backward(x)
        return b.abs(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return GradMask.apply(grad, x, x.sign().to(grad.dtype))


@register("abs", operator="__abs__", inplace=True)
def abs(input):
    refuse_bool(input, NotImplementedError, '"abs_cpu" not implemented for \'Bool\'')
    return Abs.apply(input)


class ReLU(Op):
    """relu(x) = max(x, 0); the gradient passes where x > 0."""

    node_name = "ReluBackward0"

    @staticmethod
    def forward(ctx, b, x):
        out = b.maximum(x, b.asarray(0, x.dtype))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ReLUGrad.apply(grad, out)


class ReLUGrad(Op):
    """relu's backward, torch's threshold_backward: grad where out > 0, else 0 (an out of NaN passes its gradient
    on), one backend kernel. Linear in grad (its own gradient is ReLUGrad again) and piecewise constant in out
    (derivative zero), as GradMask."""

    node_name = "ThresholdBackwardBackward0"

    @staticmethod
    def forward(ctx, b, grad, out):
        ctx.save_for_backward(out)
        return b.relu_backward(grad, out)

    @staticmethod
    def backward(ctx, grad_grad):
        (out,) = ctx.saved_tensors
        return ReLUGrad.apply(grad_grad, out), zeros_like(grad_grad) if ctx.needs_input_grad[1] else None


@register("relu", inplace=True)
def relu(input):
    refuse_bool(input, RuntimeError, "Boolean inputs not supported for relu")
    return ReLU.apply(input)


class LeakyReLU(Op):
    """leaky_relu(x) = x if x > 0 else slope * x."""

    node_name = "LeakyReluBackward0"

    @staticmethod
    def forward(ctx, b, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return b.where(b.greater(x, b.asarray(0, x.dtype)), x, b.multiply(x, b.asarray(slope, x.dtype)))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        slope = scalar_tensor(ctx.slope, dtype=grad.dtype, device=grad.device)
        return GradMask.apply(grad, x, where(x > 0, 1.0, slope)), None


class Clamp(Op):
    """clamp(x, lo, hi) = min(max(x, lo), hi); the gradient passes where lo <= x <= hi."""

    node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, b, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return b.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        inside = (x >= (-np.inf if lo is None else lo)) & (x <= (np.inf if hi is None else hi))
        return where(inside, grad, 0), None, None  # no node depends on x here, as in torch


@register("clamp", inplace=True)
def clamp(input, min=None, max=None):
    """Bounds are Python numbers; the result takes their type as torch's promotion says (an int tensor clamped
    to 0.5 is a float tensor)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    dtype = input.dtype
    for bound in (min, max):
        if bound is not None:
            dtype = promote_types(dtype, _scalar_dtype(bound, input.dtype))
    if dtype is dtypes.bool:
        kernel = "clamp" if min is not None and max is not None else "clamp_min" if min is not None else "clamp_max"
        raise NotImplementedError(f'"{kernel}_scalar_cpu" not implemented for \'Bool\'')
    min, max = (None if bound is None else dtypes.scalar_to(bound, dtype).item() for bound in (min, max))
    return Clamp.apply(input.to(dtype), min, max)


clip = register("clip", inplace=True)(clamp)


# --------------------------------------------------------------------- selection
class Where(Op):
    """where(c, x, y) takes x where c holds, else y; the gradient follows the same choice."""

    @staticmethod
    def forward(ctx, b, condition, x, y):
        ctx.save_for_backward(condition)
        return b.where(condition, x, y)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        zero = scalar_tensor(0, dtype=grad.dtype, device=grad.device)
        grad_x = Where.apply(condition, grad, zero) if ctx.needs_input_grad[1] else None
        grad_y = Where.apply(condition, zero, grad) if ctx.needs_input_grad[2] else None
        return None, grad_x, grad_y


@register("where", method=False)
def where(condition, input, other):
    if not isinstance(condition, Tensor) or condition.dtype not in (dtypes.bool, dtypes.uint8):
        raise TypeError(f"where expected condition to be a bool tensor, but got {getattr(condition, 'dtype', type(condition))}")
    condition = condition.to(dtypes.bool)  # torch still takes a uint8 condition
    input, other = operands(input, other)
    broadcast_shapes(condition.shape, input.shape, other.shape)
    return Where.apply(condition, input, other)


@register("where", function=False)
def _where_method(self, condition, other):
    """``x.where(condition, y)`` is ``tl.where(condition, x, y)``."""
    return where(condition, self, other)


@register("masked_fill")
def masked_fill(input, mask, value):
    """``value`` where ``mask`` holds, else ``input``; the result keeps input's dtype."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        got = mask.dtype.c_name if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {got}")
    if isinstance(value, Tensor) and value.dim() != 0:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.dim()} dimension(s)."
        )
    if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled() and not input.is_floating_point():
        raise RuntimeError(f"Autograd not support dtype: {input.dtype.legacy_name}")
    if isinstance(value, Tensor):
        dtypes.scalar_to(value.item(), input.dtype)  # torch checks a value tensor as it checks a number
        value = value.to(input.dtype)
    else:
        value = dtypes.scalar_to(value, input.dtype).item()
    return where(mask, value, input)


@register("masked_fill_", function=False)
def masked_fill_(self, mask, value):
    if isinstance(value, Tensor) and not self.is_floating_point():
        value = value.detach()  # an integer tensor takes the value, never its gradient
    return self._inplace(lambda x, v: masked_fill(x, mask, v), value)


class Extremum(Op):
    """maximum/minimum of two tensors (the backend kernel named ``kernel``). As in torch, the gradient goes to the
    operand that wins, is split evenly on ties and reaches both where a NaN makes the comparison fail."""

    kernel = None
    loses = None  # x loses where loses(x, y), y where loses(y, x)

    @classmethod
    def forward(cls, ctx, b, x, y):
        ctx.save_for_backward(x, y)
        return getattr(b, cls.kernel)(x, y)

    @classmethod
    def backward(cls, ctx, grad):
        x, y = ctx.saved_tensors
        shared = grad * (1 - 0.5 * (x == y).to(grad.dtype))
        return where(cls.loses(x, y), 0, shared), where(cls.loses(y, x), 0, shared)


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


@register("maximum")
def maximum(input, other):
    return Maximum.apply(*_tensors_only("maximum", input, other))


@register("minimum")
def minimum(input, other):
    return Minimum.apply(*_tensors_only("minimum", input, other))


# --------------------------------------------------------------------- comparisons and logic (no gradient)
def _comparison(name, kernel, operator_name):
    def compare(input, other):
        input, other = operands(input, other)
        return Kernel.apply(kernel, input, other)

    compare.__name__ = name
    compare.__doc__ = f"``input {operator_name} other`` elementwise, as a bool tensor."
    return register(name, operator=f"__{name}__")(compare)


eq, ne = _comparison("eq", "equal", "=="), _comparison("ne", "not_equal", "!=")
lt, le = _comparison("lt", "less", "<"), _comparison("le", "less_equal", "<=")
gt, ge = _comparison("gt", "greater", ">"), _comparison("ge", "greater_equal", ">=")


@register("logical_not")
def logical_not(input):
    return Kernel.apply("logical_not", input)


def _bitwise(name, operator_name):
    def bitwise(input, other):
        """Bitwise on integers, logical on bools; floating point operands raise, as in torch."""
        input, other = operands(input, other)
        if input.dtype.is_floating_point:
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{input.dtype.legacy_name}\'')
        return Kernel.apply(name, input, other)

    bitwise.__name__ = name
    return register(name, operator=operator_name, reflected=True)(bitwise)


bitwise_and, bitwise_or = _bitwise("bitwise_and", "__and__"), _bitwise("bitwise_or", "__or__")
bitwise_xor = _bitwise("bitwise_xor", "__xor__")


@register("bitwise_not", operator="__invert__")
def bitwise_not(input):
    """``~x``: logical not on bools, two's-complement inversion on integers; floats raise, as in torch."""
    if input.dtype.is_floating_point:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return Kernel.apply("logical_not" if input.dtype is dtypes.bool else "invert", input)
