"""Reductions along dimensions: sum, mean, max/min (values and indices), argmax/argmin, var/std.

Each also takes NumPy's spellings, as torch does: ``x.sum(axis=1, keepdims=True)`` (``numpy_aliases``)."""
import functools
import inspect
import math
from collections import namedtuple

from .. import dtypes
from ..autograd.function import Op, named
from ..tensor import Tensor, scalar_tensor
from .elementwise import where
from .kernel import Kernel
from .registry import register
from .shape import IndexAdd

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def numpy_aliases(fn):
    """``fn`` taking NumPy's ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=`` (where ``fn`` has those
    parameters), as torch's reductions do; both spellings at once is torch's TypeError."""
    parameters = inspect.signature(fn).parameters
    aliases = [(alias, name) for alias, name in (("axis", "dim"), ("keepdims", "keepdim")) if name in parameters]

    @functools.wraps(fn)
    def with_aliases(*args, **kwargs):
        if kwargs:
            for alias, name in aliases:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}() got an unexpected keyword argument '{alias}'")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return with_aliases


def normalize_dims(x, dim):
    """``dim`` (None, an int or a sequence) as a sorted tuple of non-negative axes; None means all."""
    dims = (dim,) if isinstance(dim, int) else tuple(dim) if dim is not None else ()
    if not dims:  # None or (): every dimension, as torch
        return tuple(range(x.dim()))
    axes = [x._dim(d) for d in dims]
    for axis in axes:
        if axes.count(axis) > 1:
            raise RuntimeError(f"dim {axis} appears multiple times in the list of dims")
    return tuple(sorted(axes)) if x.dim() else ()


def _count(x, axes):
    return math.prod(x.shape[a] for a in axes)


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Sum(Op):
    """sum over ``axes``; the gradient is the output gradient broadcast back over the summed axes."""

    @staticmethod
    def forward(ctx, b, x, axes, keepdim):
        ctx.shape = x.shape
        ctx.axes = axes
        return b.sum(x, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(_keepdim_shape(ctx.shape, ctx.axes)).expand(ctx.shape), None, None


@register("sum")
@numpy_aliases
def sum(input, dim=None, keepdim=False, dtype=None):
    """The sum over ``dim`` (every dim when None), in ``dtype`` when given."""
    x = input if dtype is None else input.to(dtype)
    if not x.dtype.is_floating_point and x.dtype is not dtypes.int64:
        x = x.to(dtypes.int64)  # torch sums bool and small ints as int64
    return Sum.apply(x, normalize_dims(x, dim), keepdim)


@register("mean")
@numpy_aliases
def mean(input, dim=None, keepdim=False):
    x = input
    if not x.dtype.is_floating_point:
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
            f"Got: {x.dtype.name.capitalize()}"
        )
    axes = normalize_dims(x, dim)
    return named(Sum.apply(x, axes, keepdim) / _count(x, axes), "MeanBackward0" if dim is None else "MeanBackward1")


class Extreme(Op):
    """max or min over ``axes``; the gradient goes to the elements equal to the result, split evenly on ties.
    With ``nan_wins`` (torch's ``x.max()`` of the whole tensor) a NaN result's gradient is split among the NaNs;
    otherwise (``amax``) a NaN result has no equal element and its gradient is NaN, as in torch."""

    @staticmethod
    def forward(ctx, b, x, kernel, axes, keepdim, nan_wins=False):
        out = getattr(b, kernel)(x, axis=axes, keepdims=True)
        result = out if keepdim else b.reshape(out, _squeezed(x.shape, axes))
        ctx.save_for_backward(x, result)
        ctx.axes, ctx.kept_shape, ctx.nan_wins = axes, out.shape, nan_wins
        return result

    @staticmethod
    def backward(ctx, grad):
        x, result = ctx.saved_tensors
        result = result.reshape(ctx.kept_shape)
        hit = x == result
        if ctx.nan_wins:
            hit = hit | ((x != x) & (result != result))
        hit = hit.to(grad.dtype)
        share = hit / hit.sum(dim=ctx.axes, keepdim=True)
        return share * grad.reshape(ctx.kept_shape), None, None, None, None


class ExtremeAlongDim(Op):
    """``(values, indices)`` of the max or min along ``dim``; the gradient goes to the returned index only (as in
    torch), scattered by the same index that picked the values."""

    @staticmethod
    def forward(ctx, b, x, kernel, dim, keepdim):
        indices = b.astype(getattr(b, "arg" + kernel)(x, axis=dim, keepdims=True), dtypes.int64.numpy)
        index = tuple(indices if axis == dim else _positions_along(b, x.ndim, axis, n) for axis, n in enumerate(x.shape))
        values = b.getitem(x, index)
        ctx.index, ctx.shape, ctx.kept_shape = index, x.shape, indices.shape
        if not keepdim:
            values, indices = b.reshape(values, _squeezed(x.shape, (dim,))), b.reshape(indices, _squeezed(x.shape, (dim,)))
        return values, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        return IndexAdd.apply(grad.reshape(ctx.kept_shape), ctx.shape, ctx.index), None, None, None


def _positions_along(b, ndim, axis, n):
    """0 .. n-1 laid along ``axis`` of an ``ndim``-dimensional array (size 1 elsewhere), to index with."""
    return b.reshape(b.arange(0, n, 1, dtype=dtypes.int64.numpy), [n if a == axis else 1 for a in range(ndim)])


def _squeezed(shape, axes):
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _check_nonempty(name, x, dims):
    """torch's error for a max, min or arg-reduction along a dim with nothing to choose from."""
    for dim in dims:
        if x.dim() and x.shape[x._dim(dim)] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {dim} to have non-zero size.")


def extreme(kernel, x, dim=None, keepdim=False, whole=False):
    """``amax``/``amin`` over ``dim``, or with ``whole`` torch's ``x.max()``/``x.min()`` of every element."""
    if (whole or dim is None or dim == ()) and x.numel() == 0:
        name = kernel if whole else f"a{kernel}"
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim "
            "with the 'dim' argument."
        )
    if dim is not None:
        _check_nonempty(f"a{kernel}", x, (dim,) if isinstance(dim, int) else dim)
    out = Extreme.apply(x, kernel, normalize_dims(x, dim), keepdim, whole)
    return named(out, f"{kernel.capitalize()}Backward1" if whole else f"A{kernel}Backward0")


def arg_extreme(kernel, x, dim=None, keepdim=False):
    """Index of the largest (``argmax``) or smallest (``argmin``) element; over the flattened tensor if no dim."""
    if x.dtype is dtypes.bool:
        raise RuntimeError(f"{kernel}(): does not support bool input")
    if x.numel() == 0 and dim is None:
        raise IndexError(f"{kernel}(): Expected reduction dim to be specified for input.numel() == 0.")
    if dim is not None:
        _check_nonempty(kernel, x, (dim,))
    if dim is None:
        out = Kernel.apply(kernel, x.reshape(-1)).to(dtypes.int64)
        return out.reshape([1] * x.dim()) if keepdim else out
    return Kernel.apply(kernel, x, axis=x._dim(dim), keepdims=keepdim).to(dtypes.int64)


def logical(kernel, x, dim=None, keepdim=False):
    """``all`` or ``any`` over ``dim``, as a bool tensor (a uint8 one for uint8 input, as in torch). Unlike the
    other reductions, ``dim=()`` reduces nothing: each element is tested alone."""
    axes = () if dim == () else normalize_dims(x, dim)
    out = Kernel.apply(kernel, x, axis=axes, keepdims=keepdim)
    return out.to(dtypes.uint8 if x.dtype is dtypes.uint8 else dtypes.bool)


def max_or_min(which, x, dim=None, keepdim=False):
    """``x.max()`` is the largest element; ``x.max(dim)`` is ``(values, indices)`` along ``dim`` and ``x.max(other)``
    the elementwise maximum, as in torch (``which`` is "max" or "min")."""
    if dim is None:
        return extreme(which, x, whole=True)
    if isinstance(dim, Tensor):
        return x.maximum(dim) if which == "max" else x.minimum(dim)
    _check_nonempty(which, x, (dim,))
    values, indices = ExtremeAlongDim.apply(x, which, x._dim(dim), keepdim)
    return ValuesIndices(named(values, f"{which.capitalize()}Backward0"), indices)


class Variance(Op):
    """var = sum((x - mean)^2) / (n - correction) over ``axes``; d var = 2 (x - mean) / (n - correction) d x.

    float32 input is worked in float64, as torch accumulates, and the result stays float64 (``var`` casts it
    back after any square root): the variance of values near 1e20 overflows float32, their std does not."""

    node_name = "VarBackward0"

    @staticmethod
    def forward(ctx, b, x, axes, correction, keepdim, whole=False):
        wide = b.astype(x, dtypes.float64.numpy) if x.dtype == dtypes.float32.numpy else x
        count = b.asarray(_count(x, axes), wide.dtype)
        centred = b.subtract(wide, b.true_divide(b.sum(wide, axis=axes, keepdims=True), count))
        ctx.save_for_backward(x)
        ctx.axes, ctx.kept_shape, ctx.whole = axes, _keepdim_shape(x.shape, axes), whole
        ctx.dof = _count(x, axes) - correction
        squares = b.sum(b.multiply(centred, centred), axis=axes, keepdims=keepdim)
        return b.true_divide(squares, b.asarray(max(ctx.dof, 0), wide.dtype))

    @staticmethod
    def backward(ctx, grad):
        """torch's var_backward: 2 / dof, signed (inf at dof = 0); reducing everything with dof <= 0, the gradient is
        inf times grad, NaN where x equals the mean (inf * 0)."""
        (x,) = ctx.saved_tensors
        grad = grad.reshape(ctx.kept_shape).to(x.dtype)
        mean = x.mean(dim=ctx.axes, keepdim=True)
        if ctx.whole and ctx.dof <= 0:
            nan = scalar_tensor(math.nan, dtype=x.dtype, device=x.device)
            return grad * where(x == mean, nan, math.inf), None, None, None, None
        scale = 2 / ctx.dof if ctx.dof else math.inf
        return scale * grad * (x - mean), None, None, None, None


class Root(Op):
    """std = sqrt(var); as in torch, the gradient is 0 where std = 0 (a constant sample), not 0 / 0."""

    node_name = "StdBackward0"

    @staticmethod
    def forward(ctx, b, variance):
        out = b.sqrt(variance)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return where(out == 0, 0, grad / (2 * out))


def variance(x, dim=None, unbiased=None, keepdim=False, correction=None, root=False):
    """The variance over ``dim`` (or with ``root`` the standard deviation); correction defaults to 1 (unbiased),
    as in torch."""
    if correction is None:
        correction = 0 if unbiased is False else 1
    whole = dim is None or x.dim() == 0
    out = Variance.apply(x, normalize_dims(x, dim), correction, keepdim, whole)
    out = (Root.apply(out) if root else out).to(x.dtype)
    return named(out, "StdBackward0" if root else "VarBackward0")  # the cast back to float32 included


@register("var")
@numpy_aliases
def var(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return variance(input, dim, unbiased, keepdim, correction)


@register("std")
@numpy_aliases
def std(input, dim=None, unbiased=None, keepdim=False, correction=None):
    return variance(input, dim, unbiased, keepdim, correction, root=True)


def _reduction(name, reduce, kernel):
    """Register ``reduce(kernel, input, dim, keepdim)`` as the reduction ``name``."""

    def reduction(input, dim=None, keepdim=False):
        return reduce(kernel, input, dim, keepdim)

    reduction.__name__ = name
    reduction.__doc__ = reduce.__doc__
    return register(name)(numpy_aliases(reduction))


for _name, _reduce, _kernel in (
    ("max", max_or_min, "max"), ("min", max_or_min, "min"), ("amax", extreme, "max"), ("amin", extreme, "min"),
    ("argmax", arg_extreme, "argmax"), ("argmin", arg_extreme, "argmin"), ("all", logical, "all"),
    ("any", logical, "any"),
):
    _reduction(_name, _reduce, _kernel)
