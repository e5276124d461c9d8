"""Layout ops: reshape, permute, expand, indexing, concatenation, dtype and device moves.

None of them does arithmetic, so each backward just moves the gradient back into the input's layout.
"""
import math

from .. import dtypes
from ..autograd.function import Function, named
from ..backends import backend_for
from ..device import CPU, check_same_device
from ..tensor import Tensor, _size, arange, replay_view, zeros, zeros_like
from .elementwise import broadcast_shapes, promote_types


class Reshape(Function):
    is_view = True
    node_name = "ViewBackward0"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return Tensor(x._backend.reshape(x._array, shape), x.device)

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
    if view and not x._backend.can_view(x._array, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead."
        )
    return x if shape == x.shape else Reshape.apply(x, shape)


def flatten(x, start_dim=0, end_dim=-1):
    if x.dim() == 0:
        x._dim(start_dim), x._dim(end_dim)  # in range [-1, 0]
        return x.reshape(1)
    start, end = x._dim(start_dim), x._dim(end_dim)
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])


def squeeze(x, dim=None):
    if dim is None:
        return x.reshape(tuple(n for n in x.shape if n != 1))
    dims = [x._dim(d) for d in ((dim,) if isinstance(dim, int) else dim)]
    for d in dims:
        if dims.count(d) > 1:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return x.reshape(tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x, dim):
    n = x.dim() + 1
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim %= n
    return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return Tensor(x._backend.transpose(x._array, dims), x.device)

    @staticmethod
    def backward(ctx, grad):
        return grad.permute(ctx.inverse), None


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


def transpose(x, dim0, dim1):
    dims = list(range(x.dim()))
    a, b = x._dim(dim0), x._dim(dim1)
    if x.dim() == 0:
        return Permute.apply(x, ())
    dims[a], dims[b] = dims[b], dims[a]
    return permute(x, dims)


class Expand(Function):
    """A broadcast view; its gradient is summed back to the input's shape by the autograd engine."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        return Tensor(x._backend.broadcast_to(x._array, shape), x.device)

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def expand(x, sizes):
    sizes = _size(sizes)
    if len(sizes) < x.dim():
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({x.dim()})"
        )
    lead = len(sizes) - x.dim()
    shape = []
    for i, n in enumerate(sizes):
        old = x.shape[i - lead] if i >= lead else 1
        if n == -1:
            n = old
        if old != 1 and old != n:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({old}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(x.shape)}"
            )
        shape.append(n)
    return x if tuple(shape) == x.shape else Expand.apply(x, tuple(shape))


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


class Pad(Function):
    """Constant padding; ``widths`` is one (before, after) pair per dimension. The gradient is the inner slice."""

    node_name = "ConstantPadNdBackward0"

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(before, before + n) for (before, _), n in zip(widths, x.shape))
        return Tensor(x._backend.pad(x._array, widths, value), x.device)

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
    if isinstance(index, list):
        array = backend_for(CPU).asarray(index) if index else backend_for(CPU).asarray(index, dtypes.int64.numpy)
        return backend_index(Tensor(array, CPU))
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


class Index(Function):
    """``x[index]``; the gradient is scattered back, adding up where an element was picked twice.
    A basic index (ints and slices) gives a view of ``x``, as in torch."""

    is_view = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.shape, ctx.index = x.shape, index
        try:
            return Tensor(x._backend.getitem(x._array, index), x.device)
        except IndexError as err:
            raise IndexError(f"{err} (indexing a tensor of shape {list(x.shape)})") from None

    @staticmethod
    def backward(ctx, grad):
        return IndexAdd.apply(grad, ctx.shape, ctx.index), None


class IndexAdd(Function):
    """Zeros of ``shape`` with ``values`` added at ``[index]`` (repeats add up): the backward of ``x[index]``.
    Its own backward picks the gradient at ``index`` again, so indexing can be differentiated twice."""

    node_name = "IndexPutImplBackward0"

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        b = values._backend
        return Tensor(b.index_add(shape, index, values._array, values.dtype.numpy), values.device)

    @staticmethod
    def backward(ctx, grad):
        return Index.apply(grad, ctx.index), None, None


class IndexPut(Function):
    """``x`` with ``x[index] = value`` (a copy): the gradient of ``x`` is zero where written, that of ``value`` is
    the gradient at the written places (summed back to ``value``'s shape by the engine)."""

    node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, index, value):
        ctx.index = index
        b = x._backend
        out = b.copy(x._array)
        b.setitem(out, index, b.astype(value._array, x.dtype.numpy) if isinstance(value, Tensor) else value)
        return Tensor(out, x.device)

    @staticmethod
    def backward(ctx, grad):
        grad_x = IndexPut.apply(grad, ctx.index, 0) if ctx.needs_input_grad[0] else None
        grad_value = Index.apply(grad, ctx.index) if ctx.needs_input_grad[2] else None
        return grad_x, None, grad_value


def check_index_put(x, index, value):
    """torch's errors unless ``value`` broadcasts to the shape that ``x[index]`` selects and has ``x``'s dtype."""
    target = tuple(x._backend.getitem(x._array, index).shape)
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
        dtypes.check_fits(x._backend.to_numpy(value._array), x.dtype)
    elif value.dtype is not x.dtype:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{x.dtype.legacy_name} for the destination and {value.dtype.legacy_name} for the source."
        )


class Overwrite(Function):
    """``x.copy_(src)``: the result is ``src`` broadcast to ``x``'s shape in ``x``'s dtype; ``x``'s old value gets
    a zero gradient."""

    node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, x, src):
        b = x._backend
        if not isinstance(src, Tensor):
            return Tensor(b.full(x.shape, src, dtype=x.dtype.numpy), x.device)
        ctx.src_dtype = src.dtype
        return Tensor(b.copy(b.broadcast_to(b.astype(src._array, x.dtype.numpy), x.shape)), x.device)

    @staticmethod
    def backward(ctx, grad):
        grad_x = zeros_like(grad) if ctx.needs_input_grad[0] else None
        return grad_x, grad.to(ctx.src_dtype) if ctx.needs_input_grad[1] else None


class CopySlices(Function):
    """The base of a view after an in-place write through the view: ``base`` with the view's elements replaced
    by ``new``. ``view`` is the chain of view ops that makes the view from the base. The gradient of the old base
    is zero on the view's elements; ``new`` gets the gradient's view."""

    node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, new, view):
        ctx.view, ctx.shape = view, base.shape
        ctx.base_overlaps = base._backend.has_internal_overlap(base._array)
        return Tensor(base._array, base.device, version=base._version)

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
        grad_base = IndexPut.apply(grad, inside.reshape(ctx.shape)._array, 0)
        return grad_base, grad_new, None


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


def _skipped_by_cat(t):
    """torch's cat still skips 1-D empty tensors, whatever the other shapes (a legacy of its old empty tensor)."""
    return t.shape == (0,)


class Cat(Function):
    @staticmethod
    def forward(ctx, dim, *tensors):
        joined = [t for t in tensors if not _skipped_by_cat(t)] or tensors[:1]
        ctx.dim, ctx.sizes = dim, [t.shape[dim] for t in joined]
        ctx.skipped = [_skipped_by_cat(t) and t is not joined[0] for t in tensors]
        return Tensor(joined[0]._backend.concatenate([t._array for t in joined], axis=dim), joined[0].device)

    @staticmethod
    def backward(ctx, grad):
        pieces = iter(grad.split(ctx.sizes, ctx.dim))
        empty = zeros(0, dtype=grad.dtype, device=grad.device)
        return (None,) + tuple(empty if skipped else next(pieces) for skipped in ctx.skipped)


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
class Cast(Function):
    node_name = "ToCopyBackward0"

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return Tensor(x._backend.astype(x._array, dtype.numpy), x.device)

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


class Clone(Function):
    @staticmethod
    def forward(ctx, x):
        return Tensor(x._backend.copy(x._array), x.device)

    @staticmethod
    def backward(ctx, grad):
        return grad
