"""The ``tl.<name>(tensor, ...)`` forms of tensor methods, and the ops that take several tensors."""
from .ops import elementwise, linalg, reduction
from .ops.shape import cat, stack  # noqa: F401
from .tensor import Tensor

__all__ = [
    "abs", "allclose", "argmax", "argmin", "cat", "clamp", "clip", "cos", "equal", "exp", "flatten", "is_tensor",
    "log", "log_softmax", "matmul", "max", "maximum", "mean", "min", "minimum", "numel", "permute", "relu",
    "reshape", "sigmoid", "sin", "softmax", "sqrt", "squeeze", "stack", "std", "sum", "tanh", "transpose",
    "unsqueeze", "var", "where", "mm", "amax", "amin", "isclose", "all", "any",
]


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(x):
    return x.numel()


def where(condition, input, other):
    return elementwise.where(condition, input, other)


def maximum(input, other):
    return elementwise.maximum(input, other)


def minimum(input, other):
    return elementwise.minimum(input, other)


def matmul(input, other):
    return linalg.matmul(input, other)


mm = matmul


def clamp(input, min=None, max=None):
    return elementwise.clamp(input, min, max)


clip = clamp


def sum(input, dim=None, keepdim=False, dtype=None):
    return input.sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False):
    return reduction.mean(input, dim, keepdim)


def max(input, dim=None, keepdim=False):
    return reduction.max(input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    return reduction.min(input, dim, keepdim)


def amax(input, dim=None, keepdim=False):
    return input.amax(dim, keepdim)


def amin(input, dim=None, keepdim=False):
    return input.amin(dim, keepdim)


def argmax(input, dim=None, keepdim=False):
    return input.argmax(dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return input.argmin(dim, keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return input.var(dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return input.std(dim, unbiased, keepdim, correction)


def softmax(input, dim):
    return input.softmax(dim)


def log_softmax(input, dim):
    return input.log_softmax(dim)


def _method(name):
    def function(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = name
    function.__doc__ = f"``tl.{name}(x, ...)`` is ``x.{name}(...)``."
    return function


abs = _method("abs")
exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
sin = _method("sin")
cos = _method("cos")
tanh = _method("tanh")
sigmoid = _method("sigmoid")
relu = _method("relu")
flatten = _method("flatten")
reshape = _method("reshape")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
transpose = _method("transpose")
permute = _method("permute")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other|, elementwise (NaNs equal each other only with ``equal_nan``)."""
    close = (input - other).abs() <= atol + rtol * other.abs()
    if equal_nan:
        close = close | ((input != input) & (other != other))
    return close | (input == other)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):
    """True when both tensors have the same shape and the same elements."""
    return input.shape == other.shape and bool((input == other).all())


def all(input, dim=None, keepdim=False):
    return input.all(dim, keepdim)


def any(input, dim=None, keepdim=False):
    return input.any(dim, keepdim)
