"""Creation, transfer and layout on the device: every result is a new C-contiguous device array.

Three kernels do all the moving, each one thread per element of what they write or read (1-D grid, 128 threads
per block):

    strided_copy:  dst[dst_off + offset(i, shape, dst_strides)] = src[src_off + offset(i, shape, src_strides)]
                   (transpose, broadcast_to, copy, astype-free copies, concatenate, pad, basic getitem/setitem)
    gather:        out[i] = src[offsets[i]]                     (indexing with integer or boolean arrays)
    scatter:       dst[offsets[i]] = values[i]  /  atomic dst[offsets[i]] += values[i]    (setitem / index_add)

``offsets`` for an index are built on the device from the index arrays and the input's strides, with NumPy's
placement rules for advanced indices. The one host step: a boolean mask is turned into integer indices on the
host (``np.nonzero``), because the size of the result depends on how many entries are True.
"""
import math
import operator

import numpy as np
from numba import cuda

from . import elementwise as ew
from ._launch import at_least_1d, broadcast_strides, contiguous_strides, empty, flat, is_device_array, launch, offset


@cuda.jit
def _strided_copy(dst, dst_off, dst_strides, src, src_off, src_strides, shape, n):
    i = cuda.grid(1)
    if i < n:
        dst[dst_off + offset(i, shape, dst_strides)] = src[src_off + offset(i, shape, src_strides)]


@cuda.jit
def _fill(out, value):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = value


@cuda.jit
def _arange(out, start, step):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = start + i * step


@cuda.jit
def _eye(out, m):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = 1 if i // m == i % m else 0


@cuda.jit
def _gather(out, src, offsets):
    i = cuda.grid(1)
    if i < out.size:
        o = offsets[i]
        out[i] = src[o] if 0 <= o < src.size else 0  # an out-of-range device index reads 0, never past the array


@cuda.jit
def _scatter(dst, offsets, values):
    i = cuda.grid(1)
    if i < values.size and 0 <= offsets[i] < dst.size:
        dst[offsets[i]] = values[i]


@cuda.jit
def _scatter_add(dst, offsets, values):
    i = cuda.grid(1)
    if i < values.size and 0 <= offsets[i] < dst.size:
        cuda.atomic.add(dst, offsets[i], values[i])


def copy_strided(dst, dst_off, dst_strides, src, src_off, src_strides, shape):
    """Copy ``shape`` elements from ``src`` (read with offset/strides) into ``dst`` (written with offset/strides)."""
    n = math.prod(shape)
    if n:
        kshape, dst_strides, src_strides = at_least_1d(shape, dst_strides, src_strides)
        launch(_strided_copy, n, flat(dst), dst_off, dst_strides, flat(src), src_off, src_strides, kshape, n)


# --------------------------------------------------------------------- creation and transfer
def asarray(data, dtype=None):
    """A device array of ``data``: host data is copied to the device; a device array is cast only if needed."""
    return ew.to_device(data, dtype)


def to_numpy(array):
    """Copy to host memory (the only way values leave the device: .numpy(), .item(), print, .to('cpu'))."""
    return array.copy_to_host()


def full(shape, fill_value, dtype=None):
    dtype = np.dtype(dtype) if dtype is not None else np.asarray(fill_value).dtype
    out = empty(shape if isinstance(shape, tuple) else (shape,), dtype)
    launch(_fill, out.size, flat(out), dtype.type(fill_value))
    return out


def zeros(shape, dtype=float):
    return full(shape, 0, dtype)


def ones(shape, dtype=float):
    return full(shape, 1, dtype)


def arange(start, stop, step=1, dtype=None):
    """start, start + step, ... below ``stop``: out[i] = start + i * step."""
    dtype = np.dtype(dtype) if dtype is not None else np.arange(start, stop, step).dtype
    out = empty((max(0, math.ceil((stop - start) / step)),), dtype)
    launch(_arange, out.size, out, start, step)
    return out


def eye(n, m=None, dtype=float):
    m = n if m is None else m
    out = empty((n, m), dtype)
    launch(_eye, out.size, flat(out), m)
    return out


def astype(array, dtype):
    return ew.astype(array, dtype)


def copy(array):
    return ew.astype(array, array.dtype, copy=True)


def copy_into(dst, src):
    """Write ``src`` (device array or scalar, broadcast to dst's shape) into ``dst`` in place, casting within a kind
    only (float into an int array raises, as NumPy's ``same_kind`` and torch do)."""
    if not is_device_array(src):
        src_dtype = np.result_type(dst.dtype, src) if isinstance(src, (bool, int, float)) else np.asarray(src).dtype
        if not np.can_cast(src_dtype, dst.dtype, "same_kind"):
            raise TypeError(f"Cannot cast scalar from dtype('{src_dtype}') to dtype('{dst.dtype}') according to the rule 'same_kind'")
        src = ew.to_device(src, dst.dtype)
    elif not np.can_cast(src.dtype, dst.dtype, "same_kind"):
        raise TypeError(f"Cannot cast array data from dtype('{src.dtype}') to dtype('{dst.dtype}') according to the rule 'same_kind'")
    if src.dtype != dst.dtype:
        src = ew.astype(src, dst.dtype)
    shape = tuple(dst.shape)
    np.broadcast_shapes(src.shape, shape)
    copy_strided(dst, 0, contiguous_strides(shape), src, 0, broadcast_strides(src.shape, shape), shape)


# --------------------------------------------------------------------- layout
def reshape(array, shape):
    """The same elements in a new shape (a view: arrays here are always contiguous). One -1 is inferred."""
    shape = tuple(int(n) for n in ((shape,) if isinstance(shape, int) else shape))
    if -1 in shape:
        known = math.prod(n for n in shape if n != -1)
        shape = tuple(array.size // known if n == -1 else n for n in shape)
    return array if tuple(array.shape) == shape else array.reshape(shape)


def transpose(array, axes=None):
    """out[j...] = array[j permuted back]: a strided copy reading the input with its strides permuted."""
    axes = tuple(reversed(range(array.ndim))) if axes is None else tuple(axes)
    strides = contiguous_strides(array.shape)
    shape = tuple(array.shape[a] for a in axes)
    out = empty(shape, array.dtype)
    copy_strided(out, 0, contiguous_strides(shape), array, 0, tuple(strides[a] for a in axes), shape)
    return out


def broadcast_to(array, shape):
    """``array`` broadcast to ``shape``, materialised (a strided copy reading broadcast dims with stride 0)."""
    shape = tuple(shape)
    np.broadcast_shapes(array.shape, shape)
    out = empty(shape, array.dtype)
    copy_strided(out, 0, contiguous_strides(shape), array, 0, broadcast_strides(array.shape, shape), shape)
    return out


def concatenate(arrays, axis=0):
    """Join along ``axis``: one strided copy per piece into its slab of the output."""
    first = arrays[0]
    axis %= first.ndim
    shape = list(first.shape)
    shape[axis] = sum(a.shape[axis] for a in arrays)
    dtype = np.result_type(*[a.dtype for a in arrays])
    out = empty(shape, dtype)
    strides = contiguous_strides(shape)
    start = 0
    for a in arrays:
        a = ew.astype(a, dtype)
        copy_strided(out, start * strides[axis], strides, a, 0, contiguous_strides(a.shape), tuple(a.shape))
        start += a.shape[axis]
    return out


def pad(array, widths, value):
    """``array`` with ``widths[i] = (before, after)`` elements of ``value`` around dim i: fill, then copy inside."""
    shape = tuple(n + b + a for n, (b, a) in zip(array.shape, widths))
    out = full(shape, value, array.dtype)
    strides = contiguous_strides(shape)
    start = sum(b * s for (b, _), s in zip(widths, strides))
    copy_strided(out, start, strides, array, 0, contiguous_strides(array.shape), tuple(array.shape))
    return out


# --------------------------------------------------------------------- indexing
def _is_array(i):
    return is_device_array(i) or isinstance(i, np.ndarray)


def _normalise_index(shape, index):
    """``index`` as a tuple without Ellipsis and without boolean arrays (those become integer arrays, on the host)."""
    index = index if isinstance(index, tuple) else (index,)
    expanded = []
    for i in index:
        if _is_array(i) and i.dtype == np.bool_:
            mask = i.copy_to_host() if is_device_array(i) else i  # host fallback: the count decides the shape
            expanded.extend(np.nonzero(mask))
        else:
            expanded.append(i)
    used = sum(1 for i in expanded if i is not None and i is not Ellipsis)
    if used > len(shape):
        raise IndexError(f"too many indices for array: array is {len(shape)}-dimensional, but {used} were indexed")
    if Ellipsis in [i for i in expanded if not _is_array(i)]:
        at = next(k for k, i in enumerate(expanded) if not _is_array(i) and i is Ellipsis)
        expanded[at:at + 1] = [slice(None)] * (len(shape) - used)
    return tuple(expanded) + (slice(None),) * (len(shape) - sum(1 for i in expanded if i is not None))


def _ramp(n, step, slot, ndim):
    """0, step, 2 step, ... (n values, int64) shaped to lie along dimension ``slot`` of an ``ndim``-d array."""
    values = arange(0, n * step, step, np.int64) if step else zeros((n,), np.int64)
    return reshape(values, (1,) * slot + (n,) + (1,) * (ndim - slot - 1))


def index_geometry(shape, index):
    """(output shape, basic, offsets) for ``array[index]`` on a contiguous array of ``shape``.

    Basic indexing (ints, slices, None) is a strided view: returns (shape, (start, strides), None).
    Advanced indexing returns (shape, None, offsets): a device int64 array holding, for every output element,
    the flat input position it reads, built by broadcasting each index's contribution index * stride
    (NumPy's rule: advanced dimensions replace the indexed ones when adjacent, else they go first).
    """
    index = _normalise_index(shape, index)
    strides = contiguous_strides(shape)
    advanced = any(_is_array(i) for i in index)
    dims, start, adv, dim = [], 0, [], 0  # dims: (position in index, length, step stride) of basic dims
    for k, i in enumerate(index):
        if i is None:
            dims.append((k, 1, 0))
            continue
        n, stride = shape[dim], strides[dim]
        if isinstance(i, slice):
            lo, hi, step = i.indices(n)
            dims.append((k, len(range(lo, hi, step)), step * stride))
            start += lo * stride
        elif _is_array(i) or advanced:
            if not _is_array(i):
                i = operator.index(i)
                if not -n <= i < n:
                    raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
            adv.append((k, i, n, stride, dim))
        else:
            i = operator.index(i)
            if not -n <= i < n:
                raise IndexError(f"index {i} is out of bounds for axis {dim} with size {n}")
            start += (i % n) * stride
        dim += 1
    if not adv:
        return tuple(n for _, n, _ in dims), (start, tuple(s for _, _, s in dims)), None
    adv_shape = np.broadcast_shapes(*[np.shape(i) if not _is_array(i) else i.shape for _, i, *_ in adv])
    positions = [k for k, *_ in adv]
    adjacent = positions == list(range(positions[0], positions[-1] + 1))
    before = [d for d in dims if d[0] < positions[0]] if adjacent else []
    after = [d for d in dims if d not in before]
    out_shape = tuple(n for _, n, _ in before) + tuple(adv_shape) + tuple(n for _, n, _ in after)
    offsets = full(out_shape, start, np.int64)
    lead = len(before)
    for slot, (_, n, step) in list(enumerate(before)) + list(enumerate(after, lead + len(adv_shape))):
        offsets = ew.add(offsets, _ramp(n, step, slot, len(out_shape)))
    for _, i, n, stride, axis in adv:
        if isinstance(i, np.ndarray) and i.size and not (-n <= i.min() and i.max() < n):  # host indices: checked
            bad = i[(i < -n) | (i >= n)].flat[0]
            raise IndexError(f"index {bad} is out of bounds for axis {axis} with size {n}")
        i = ew.to_device(i, np.int64)
        wrapped = ew.where(ew.less(i, 0), ew.add(i, n), i)  # negative indices count from the end
        contribution = ew.multiply(wrapped, stride)
        padded = (1,) * (len(adv_shape) - contribution.ndim) + tuple(contribution.shape)
        offsets = ew.add(offsets, reshape(contribution, (1,) * lead + padded + (1,) * len(after)))
    return out_shape, None, offsets


def can_view(array, shape):
    """Always: arrays on the GPU are contiguous."""
    return True


def is_contiguous(array):
    """Always: arrays on the GPU are contiguous (a tensor that stands for a permuted view is a copied view)."""
    return True


def has_internal_overlap(array):
    """Never: arrays on the GPU are contiguous (``broadcast_to`` copies)."""
    return False


def shares_memory(a, b):
    """Whether the device buffers of ``a`` and ``b`` overlap (``reshape`` returns views; the other layout ops copy)."""
    def extent(array):  # the simulator's arrays wrap host arrays, which have __array_interface__ instead
        interface = getattr(array, "__cuda_array_interface__", None) or array.__array_interface__
        start = interface["data"][0]
        return start, start + array.nbytes

    (a0, a1), (b0, b1) = extent(a), extent(b)
    return a0 < b1 and b0 < a1


def getitem(array, index):
    """``array[index]`` with NumPy's rules, as a new array (strided copy for basic indices, gather otherwise)."""
    shape, basic, offsets = index_geometry(tuple(array.shape), index)
    out = empty(shape, array.dtype)
    if basic is not None:
        copy_strided(out, 0, contiguous_strides(shape), array, basic[0], basic[1], shape)
    else:
        launch(_gather, out.size, flat(out), flat(array), flat(offsets))
    return out


def setitem(array, index, value):
    """``array[index] = value`` in place, ``value`` broadcast to the indexed shape."""
    shape, basic, offsets = index_geometry(tuple(array.shape), index)
    value = ew.to_device(value, array.dtype) if not is_device_array(value) else ew.astype(value, array.dtype)
    if basic is not None:
        np.broadcast_shapes(value.shape, shape)
        copy_strided(array, basic[0], basic[1], value, 0, broadcast_strides(value.shape, shape), shape)
    else:
        value = broadcast_to(value, shape)
        launch(_scatter, value.size, flat(array), flat(offsets), flat(value))


def index_add(shape, index, values, dtype):
    """Zeros of ``shape`` with ``values`` added at ``[index]``; repeated indices add up (atomic adds)."""
    out = zeros(tuple(shape), dtype)
    out_shape, basic, offsets = index_geometry(tuple(shape), index)
    values = broadcast_to(ew.astype(values, dtype), out_shape)
    if basic is not None:
        offsets = full(out_shape, basic[0], np.int64)
        for slot, (n, step) in enumerate(zip(out_shape, basic[1])):
            offsets = ew.add(offsets, _ramp(n, step, slot, len(out_shape)))
    launch(_scatter_add, values.size, flat(out), flat(offsets), flat(values))
    return out
