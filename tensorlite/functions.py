"""The ``tl.<name>(tensor, ...)`` forms of tensor methods, and the ops that take several tensors."""
from .ops import elementwise, linalg
from .ops.shape import cat, stack  # noqa: F401
from .tensor import Tensor

_METHODS = [
    "abs", "amax", "amin", "all", "any", "argmax", "argmin", "clamp", "cos", "exp", "flatten", "log", "log_softmax",
    "max", "mean", "min", "numel", "permute", "relu", "reshape", "sigmoid", "sin", "softmax", "sqrt", "squeeze", "std",
    "sum", "tanh", "transpose", "unsqueeze", "var",
]
__all__ = _METHODS + [
    "allclose", "cat", "clip", "equal", "is_tensor", "isclose", "matmul", "maximum", "minimum", "mm", "stack", "where",
]


def _method(name):
    """``tl.<name>(x, ...)`` as ``x.<name>(...)``, with the method's own arguments and defaults."""

    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"``tl.{name}(x, ...)`` is ``x.{name}(...)``."
    return function


globals().update({name: _method(name) for name in _METHODS})
clip = clamp  # noqa: F821 - defined just above


def is_tensor(obj):
    return isinstance(obj, Tensor)


def where(condition, input, other):
    return elementwise.where(condition, input, other)


def maximum(input, other):
    return elementwise.maximum(input, other)


def minimum(input, other):
    return elementwise.minimum(input, other)


def matmul(input, other):
    return linalg.matmul(input, other)


def mm(input, mat2):
    return linalg.mm(input, mat2)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| for finite values; infinities are close only to themselves, NaNs
    to each other only with ``equal_nan``."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{input.dtype.legacy_name} did not match {other.dtype.legacy_name}")
    finite = (input.abs() < float("inf")) & (other.abs() < float("inf"))
    close = finite & ((input - other).abs() <= atol + rtol * other.abs())
    if equal_nan:
        close = close | ((input != input) & (other != other))
    return close | (input == other)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True when both tensors have the same shape and the same elements."""
    return input.shape == other.shape and bool((input == other).all())
