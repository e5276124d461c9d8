"""The ``tl.<name>(tensor, ...)`` functions: every op registered as a function (tensorlite/ops/registry.py), and the
few helpers that are not ops."""
from .ops.registry import FUNCTIONS
from .tensor import Tensor

globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS) + ["allclose", "equal", "is_tensor", "isclose", "numel"]


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    return input.numel()


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
