"""Layout ops: reshape, permute, expand, indexing, concatenation, dtype and device moves.

None of them does arithmetic, so each backward just moves the gradient back into the input's layout.
"""
import math
import numbers
import operator

import numpy as np

from .. import dtypes
from ..autograd.function import Function, Op, named
from ..backends import backend_for
from ..device import check_same_device
from ..tensor import Tensor, _size, arange, replay_view, zeros, zeros_like
from .elementwise import broadcast_shapes, promote_types
from .registry import register


class Reshape(Op):
    is_view = True
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, b, x, shape, view=False):
        if view and not b.can_view(x, shape):
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
                "two contiguous subspaces). Use .reshape(...) instead."
            )
        ctx.shape = x.shape
        return b.reshape(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None, None


class ReshapeCopy(Op):
    """``x.reshape(shape)`` where the layout cannot take the shape without a copy: a new tensor, as in torch, so
    that an in-place op on the result leaves ``x`` alone (``x.t().reshape(-1).add_(1)`` changes nothing in ``x``)."""

    node_name = "UnsafeViewBackward0"

    @staticmethod
    def forward(ctx, b, x, shape):
        ctx.shape = x.shape
        out = b.reshape(x, shape)
        return b.copy(out) if b.shares_memory(out, x) else out  # (the GPU's arrays always reshape as views)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape), None


def reshape(x, shape, view=False):
    """``shape`` may hold one -1, inferred from the number of elements. With ``view`` (``x.view(shape)``), a
    layout the new shape cannot be laid over without a copy is torch's error."""
    shape = list(_size(shape))
    known = math.prod(n for n in shape if n != -1)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape and known:
        shape[shape.index(-1)] = x.numel() // known
    if math.prod(shape) != x.numel() or any(n < 0 for n in shape):
        raise RuntimeError(f"shape '{list(_size(shape))}' is invalid for input of size {x.numel()}")
    shape = tuple(shape)
    if view or shape == x.shape or not x._copied_view and x._backend.can_view(x._array, shape):
        return Reshape.apply(x, shape, view)
    return ReshapeCopy.apply(x, shape)


def _sizes_argument(name, parameter, sizes):
    """The sizes of ``x.expand(2, 3)`` or ``x.expand((2, 3))``; none at all is torch's TypeError."""
    if not sizes:
        raise TypeError(f'{name}() missing 1 required positional arguments: "{parameter}"')
    return tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes


@register("reshape")
def _reshape(input, *shape):
    """``x.reshape(2, 3)``, ``x.reshape((2, 3))`` or ``tl.reshape(x, (2, 3))``; a view where the layout allows."""
    return reshape(input, shape)


@register("view", function=False)
def view(input, *shape):
    """``x.reshape``, but a layout that the shape cannot be laid over without a copy is torch's error."""
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported")
    return reshape(input, shape, view=True)


@register("view_as", function=False)
def view_as(input, other):
    return view(input, other.shape)


@register("reshape_as", function=False)
def reshape_as(input, other):
    return reshape(input, other.shape)


@register("flatten")
def flatten(x, start_dim=0, end_dim=-1):
    if x.dim() == 0:
        x._dim(start_dim), x._dim(end_dim)  # in range [-1, 0]
        return x.reshape(1)
    start, end = x._dim(start_dim), x._dim(end_dim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])


@register("unflatten")
def unflatten(input, dim, sizes):
    """Split dim ``dim`` into ``sizes`` (one of them may be -1, inferred)."""
    dim = input._dim(dim)
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    known = math.prod(n for n in sizes if n != -1)
    if sizes.count(-1) == 1 and known:  # the one inferred size is worked out within this dim
        sizes = tuple(input.shape[dim] // known if n == -1 else n for n in sizes)
    if sizes.count(-1) > 1 or math.prod(sizes) != input.shape[dim]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({input.shape[dim]}) in the input tensor"
        )
    return reshape(input, input.shape[:dim] + sizes + input.shape[dim + 1 :])


@register("squeeze")
def squeeze(x, dim=None):
    if dim is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    dims = [x._dim(d) for d in ((dim,) if isinstance(dim, int) else dim)]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


@register("unsqueeze")
def unsqueeze(x, dim):
    n = x.dim() + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim %= n
    return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])


class Permute(Op):
    is_view = True

    @staticmethod
    def forward(ctx, b, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return b.transpose(x, dims)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(ctx.inverse), None


class Transpose(Permute):
    """``transpose`` and ``mT``: a Permute that swaps two dims, its node named as torch's (TransposeBackward0)."""


class MatrixTranspose(Permute):
    """``t()`` of a matrix: a Permute whose node is named as torch's."""

    node_name = "TBackward0"


@register("permute")
def _permute(input, *dims):
    return permute(input, _sizes_argument("permute", "dims", dims))


def permute(x, dims):
    dims = tuple(x._dim(d) for d in dims)
    if sorted(dims) != list(range(x.dim())):
        raise RuntimeError(
            f"permute(): number of dimensions in the tensor input does not match the length of the "
            f"desired ordering of dimensions i.e. input.dim() = {x.dim()} is not equal to len(dims) = {len(dims)}"
            if len(dims) != x.dim()
            else f"permute(): duplicate dims are not allowed, got {list(dims)}"
        )
    return Permute.apply(x, dims)


@register("transpose")
def transpose(x, dim0, dim1):
    dims = list(range(x.dim()))
    a, b = x._dim(dim0), x._dim(dim1)
    if x.dim() == 0:
        return Transpose.apply(x, ())
    dims[a], dims[b] = dims[b], dims[a]
    return Transpose.apply(x, tuple(dims))


@register("t")
def t(input):
    """The transpose of a matrix; a vector or a scalar as it is."""
    if input.dim() > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.dim()}D")
    return MatrixTranspose.apply(input, (1, 0)) if input.dim() == 2 else input


class Expand(Op):
    """A broadcast view; its gradient is summed back to the input's shape by the autograd engine."""

    is_view = True

    @staticmethod
    def forward(ctx, b, x, shape):
        return b.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


@register("expand", function=False)
def _expand(input, *sizes):
    return expand(input, _sizes_argument("expand", "size", sizes))


@register("expand_as", function=False)
def expand_as(input, other):
    return expand(input, other.shape)


def expand(x, sizes):
    shape = expanded_shape(x.shape, _size(sizes))
    return x if shape == x.shape else Expand.apply(x, shape)


def expanded_shape(shape, sizes):
    """``shape`` broadcast to ``sizes`` (-1 keeps a dim as it is), or torch's error where it cannot be."""
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    expanded = []
    for i, n in enumerate(sizes):
        old = shape[i - lead] if i >= lead else 1
        if n == -1:
            n = old
        if old != 1 and old != n:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({old}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}"
            )
        expanded.append(n)
    return tuple(expanded)


@register("repeat", function=False)
def _repeat(input, *sizes):
    return repeat(input, _sizes_argument("repeat", "repeats", sizes))


def repeat(x, sizes):
    """Tile ``x`` ``sizes[i]`` times along dim i: view as (1, n_i) pairs, expand to (r_i, n_i), merge, and copy
    (the merged expansion can still be a view of ``x``, which a write would change)."""
    sizes = _size(sizes)
    if len(sizes) < x.dim():
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    shape = (1,) * (len(sizes) - x.dim()) + x.shape
    pairs = x.reshape([m for n in shape for m in (1, n)])
    tiled = pairs.expand([m for r, n in zip(sizes, shape) for m in (r, n)])
    return named(Clone.apply(tiled.reshape([r * n for r, n in zip(sizes, shape)])), "RepeatBackward0")


class Pad(Op):
    """Constant padding; ``widths`` is one (before, after) pair per dimension. The gradient is the inner slice."""

    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, b, x, widths, value):
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return b.pad(x, widths, value)

    @staticmethod
    def backward(ctx, grad):
        return grad[ctx.inner], None, None


def pad(x, pad, value=0.0):
    """torch's ``F.pad`` in constant mode: ``pad`` lists (before, after) counts from the last dimension backwards,
    e.g. (left, right, top, bottom) for the last two dimensions of an image."""
    if len(pad) % 2 or len(pad) // 2 > x.dim():
        raise RuntimeError(f"Padding length must be divisible by 2 and at most twice the number of dimensions, got {len(pad)}")
    if min(pad, default=0) < 0:
        raise RuntimeError(f"pad: negative padding is not supported, got {list(pad)}")
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]
    widths = tuple([(0, 0)] * (x.dim() - len(pairs)) + pairs[::-1])
    return Pad.apply(x, widths, value)


# --------------------------------------------------------------------- indexing
def backend_index(index):
    """An index with every tensor in it replaced by its backend array (ints, slices, None, ... pass through)."""
    if isinstance(index, tuple):
        return tuple(backend_index(i) for i in index)
    if isinstance(index, Tensor):
        if index.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return index._array
    if isinstance(index, list):  # a list of ints or bools, as an index array on the host
        array = np.asarray(index) if index else np.asarray(index, dtypes.int64.numpy)
        if array.dtype.kind == "f":
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return array
    return index


def split_selects(index):
    """torch applies the ints of an index as selects, before its tensor indices; NumPy counts an int beside an
    array as one more array index, which moves the result's dims to the front when a slice or None lies between
    them (``x[0, :, [1, 2]]`` is (M, 2) in torch, (2, M) in NumPy). Returns ``(selects, rest)``, two backend
    indices to apply in turn, or None when ``index`` has no int beside an array."""
    parts = index if isinstance(index, tuple) else (index,)
    if is_basic_index(index) or not any(type(p) is int for p in parts):
        return None
    selects, rest = [], []
    for p in parts:
        if type(p) is int:
            selects.append(p)
        elif p is None or p is Ellipsis:
            selects.append(p)
            rest.append(slice(None) if p is None else p)
        elif isinstance(p, slice):
            selects.append(slice(None))
            rest.append(p)
        else:  # an array (a bool mask spans its own number of dims) or a Python bool
            spans = 0 if isinstance(p, bool) else p.ndim if p.dtype == dtypes.bool.numpy else 1
            selects.extend([slice(None)] * spans)
            rest.append(p)
    return tuple(selects), tuple(rest)


def is_basic_index(index):
    """Whether ``index`` (a backend index) holds only ints, slices, None and Ellipsis: its result is a view."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, slice)) for p in parts)


def selects_everything(index, shape):
    """Whether a basic ``index`` is only full slices (``x[:]``, ``x[0:n]``, ``x[..., :]``): torch then writes into
    ``x`` itself rather than into a view of it."""
    parts = [p for p in (index if isinstance(index, tuple) else (index,)) if p is not Ellipsis]
    return len(parts) <= len(shape) and all(
        isinstance(p, slice) and p.indices(n) == (0, n, 1) for p, n in zip(parts, shape)
    )


@register("__getitem__", function=False)
def getitem(input, index):
    """``x[index]``: ints, slices, None, Ellipsis, int/bool tensors and lists, as in torch."""
    index = backend_index(index)
    split = split_selects(index)
    if split is not None:  # torch's order: the ints first
        return input[split[0]][split[1]]
    return take(input, index)


def take(x, index):
    """``x[index]`` for a backend index: a view of ``x`` when the index is basic (``Index``), a new tensor when it
    holds an array (``AdvancedIndex``), as in torch."""
    return (Index if is_basic_index(index) else AdvancedIndex).apply(x, index)


class Index(Op):
    """``x[index]`` with a basic index (ints, slices, None, Ellipsis): a view of ``x``, as in torch. The gradient is
    scattered back, adding up where an element was picked twice (with AdvancedIndex)."""

    is_view = True

    @staticmethod
    def forward(ctx, b, x, index):
        ctx.shape, ctx.index = x.shape, index
        try:
            return b.getitem(x, index)
        except IndexError as err:
            raise IndexError(f"{err} (indexing a tensor of shape {list(x.shape)})") from None

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.shape, ctx.index), None


class AdvancedIndex(Index):
    """``x[index]`` with an int or bool array in the index: a gather into a new tensor, not a view, so that an
    in-place op on the result leaves ``x`` alone (``x[[0, 1]].relu_()`` changes nothing in ``x``, as in torch)."""

    is_view = False
    node_name = "IndexBackward0"


class IndexAdd(Op):
    """Zeros of ``shape`` with ``values`` added at ``[index]`` (repeats add up): the backward of ``x[index]``.
    Its own backward picks the gradient at ``index`` again, so indexing can be differentiated twice."""

    node_name = "IndexPutImplBackward0"

    @staticmethod
    def forward(ctx, b, values, shape, index):
        ctx.index = index
        return b.index_add(shape, index, values, values.dtype)

    @staticmethod
    def backward(ctx, grad):
        return take(grad, ctx.index), None, None


class IndexPut(Op):
    """``x`` with ``x[index] = value`` (a copy): the gradient of ``x`` is zero where written, that of ``value`` is
    the gradient at the written places (summed back to ``value``'s shape by the engine)."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, b, x, index, value):
        ctx.index = index
        out = b.copy(x)
        b.setitem(out, index, value if isinstance(value, numbers.Number) else b.astype(value, x.dtype))
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = IndexPut.apply(grad, ctx.index, 0) if ctx.needs_input_grad[0] else None
        grad_value = take(grad, ctx.index) if ctx.needs_input_grad[2] else None
        return grad_x, None, grad_value


def check_index_put(x, index, value):
    """torch's errors unless ``value`` broadcasts to the shape that ``x[index]`` selects and has ``x``'s dtype."""
    target = tuple(take(x.detach(), index).shape)
    try:
        fits = broadcast_shapes(target, value.shape) == target
    except RuntimeError:
        fits = False
    if not fits:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to indexing result of "
            f"shape {list(target)}"
        )
    fills = value.dim() == 0 and getattr(index, "dtype", None) == dtypes.bool.numpy and index.ndim  # masked_fill
    if fills:  # torch fills with the value's item(), checked to fit
        dtypes.check_fits(np.asarray(value), x.dtype)
    elif value.dtype is not x.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{x.dtype.legacy_name} for the destination and {value.dtype.legacy_name} for the source."
        )


class Overwrite(Op):
    """``x.copy_(src)``: the result is ``src`` broadcast to ``x``'s shape in ``x``'s dtype; ``x``'s old value gets
    a zero gradient."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, b, x, src):
        if isinstance(src, numbers.Number):
            return b.full(x.shape, src, dtype=x.dtype)
        ctx.src_dtype = dtypes.from_numpy(src.dtype)
        return b.copy(b.broadcast_to(b.astype(src, x.dtype), x.shape))

    @staticmethod
    def backward(ctx, grad):
        grad_x = zeros_like(grad) if ctx.needs_input_grad[0] else None
        return grad_x, grad.to(ctx.src_dtype) if ctx.needs_input_grad[1] else None


class CopySlices(Op):
    """The base of a view after an in-place write through the view: ``base`` with the view's elements replaced
    by ``new``. ``view`` is the chain of view ops that makes the view from the base. The gradient of the old base
    is zero on the view's elements; ``new`` gets the gradient's view."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, b, base, new, view):
        ctx.view, ctx.shape = view, base.shape
        ctx.base_overlaps = b.has_internal_overlap(base)
        return base

    @staticmethod
    def backward(ctx, grad):
        if ctx.base_overlaps:  # an expanded base: which of its aliased elements a gradient belongs to is undefined
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation."
            )

        count = math.prod(ctx.shape)
        flat_positions = replay_view(ctx.view, arange(count, device=grad.device).reshape(ctx.shape))
        grad_new = grad.reshape(-1)[flat_positions]
        inside = zeros(count, dtype=dtypes.bool, device=grad.device)
        inside[flat_positions] = True
        grad_base = IndexPut.apply(grad, backend_index(inside.reshape(ctx.shape)), 0)
        return grad_base, grad_new, None


@register("split")
def split(x, split_size, dim=0):
    if x.dim() == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = x._dim(dim)
    n = x.shape[dim]
    if split_size == 0 and n:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
    if isinstance(split_size, int) and n == 0:  # one empty piece
        sizes = [0]
    elif isinstance(split_size, int):
        sizes = [split_size] * (n // split_size) + ([n % split_size] if n % split_size else [])
    else:
        sizes = list(split_size)
    if sum(sizes) != n:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension {dim}), "
            f"but got split_sizes={sizes}"
        )
    if min(sizes, default=0) < 0:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes={sizes}"
        )
    pieces, start = [], 0
    for size in sizes:
        piece = x[(slice(None),) * dim + (slice(start, start + size),)]
        if piece._base is not None:
            piece._view_kind = "multi_output"  # torch forbids writing into one of several views in grad mode
        pieces.append(piece)
        start += size
    return tuple(pieces)


@register("narrow")
def narrow(input, dim, start, length):
    """The ``length`` entries of ``input`` from ``start`` along ``dim``, as a view,
    input[..., start:start + length, ...], with ``start`` counted from the end when negative (torch.narrow, its
    checks in its order)."""
    start, length = operator.index(start), operator.index(length)
    if input.dim() == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    dim = input._dim(dim)
    size = input.shape[dim]
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    start = start + size if start < 0 else start
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return input[(slice(None),) * dim + (slice(start, start + length),)]


@register("chunk")
def chunk(input, chunks, dim=0):
    """``chunks`` pieces of (nearly) equal size along ``dim``; the last may be smaller, and there may be fewer."""
    if input.dim() == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    length = input.shape[input._dim(dim)]
    if length == 0:  # torch: as many empty chunks as asked for
        return split(input, [0] * chunks, dim)
    return split(input, -(-length // chunks), dim)


def _skipped_by_cat(t):
    """torch's cat still skips 1-D empty tensors (or arrays), whatever the other shapes (a legacy of its old empty
    tensor)."""
    return tuple(t.shape) == (0,)


class Cat(Op):
    @staticmethod
    def forward(ctx, b, dim, *arrays):
        joined = [a for a in arrays if not _skipped_by_cat(a)] or arrays[:1]
        ctx.dim, ctx.sizes = dim, [a.shape[dim] for a in joined]
        ctx.skipped = [_skipped_by_cat(a) and a is not joined[0] for a in arrays]
        return b.concatenate(joined, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(grad.split(ctx.sizes, ctx.dim))
        empty = zeros(0, dtype=grad.dtype, device=grad.device)
        return (None,) + tuple(empty if skipped else next(pieces) for skipped in ctx.skipped)


@register("cat", method=False)
def cat(tensors, dim=0):
    """Join tensors along an existing dimension ``dim``; all other sizes must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.dim() == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    all_tensors, common = tensors, tensors[0].dtype
    for t in tensors:
        common = promote_types(common, t.dtype)
    tensors = [t for t in tensors if not _skipped_by_cat(t)]
    if not tensors:
        return Cat.apply(0, *(t.to(common) for t in all_tensors))
    first = tensors[0]
    dim = first._dim(dim)
    for i, t in enumerate(tensors):
        check_same_device(first, t)
        if t.dim() != first.dim():
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {first.dim()} and {t.dim()}"
            )
        for d in range(first.dim()):
            if d != dim and t.shape[d] != first.shape[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {first.shape[d]} but got "
                    f"size {t.shape[d]} for tensor number {i} in the list."
                )
    return Cat.apply(dim, *(t.to(common) for t in all_tensors))


@register("stack", method=False)
def stack(tensors, dim=0):
    """Join equally shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    tensors[0].unsqueeze(dim)  # dim in range for the result, checked first as torch does
    for i, t in enumerate(tensors[1:], 1):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at entry 0 and "
                f"{list(t.shape)} at entry {i}"
            )
    return named(cat([t.unsqueeze(dim) for t in tensors], dim), "StackBackward0")


# --------------------------------------------------------------------- dtype and device
class Cast(Op):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, b, x, dtype):
        ctx.dtype = dtypes.from_numpy(x.dtype)
        return b.astype(x, dtype.numpy)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.dtype) if ctx.dtype.is_floating_point else None, None


class ToDevice(Function):
    """Copy to another device through host memory; the gradient travels back the same way."""

    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, device):
        ctx.device = x.device
        host = x._backend.to_numpy(x._array)
        return Tensor(backend_for(device).asarray(host), device)

    @staticmethod
    def backward(ctx, grad):
        return grad.to(ctx.device), None


class Clone(Op):
    @staticmethod
    def forward(ctx, b, x):
        return b.copy(x)

    @staticmethod
    def backward(ctx, grad):
        return grad
