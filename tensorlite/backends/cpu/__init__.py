"""The CPU backend: NumPy for elementwise math, reductions, layout and GEMM (it already runs at memory or BLAS
speed there); ``@numba.njit`` loops where a loop beats NumPy (the CNN kernels in ``conv``, ``pool``, ``norm``)."""
import builtins

import numpy as np
from numpy import (  # noqa: F401 - re-exported kernels
    abs,
    add,
    all,
    any,
    arange,
    argmax,
    argmin,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    clip,
    concatenate,
    cos,
    equal,
    exp,
    eye,
    full,
    greater,
    greater_equal,
    invert,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    max,
    maximum,
    min,
    minimum,
    multiply,
    negative,
    not_equal,
    ones,
    power,
    reshape,
    sign,
    sin,
    sqrt,
    subtract,
    sum,
    tanh,
    transpose,
    true_divide,
    where,
    zeros,
)

from .activation import log_softmax, relu_backward, sigmoid, softmax  # noqa: F401
from .conv import conv2d_backward, conv2d_forward  # noqa: F401
from .norm import batch_norm_backward, batch_norm_forward  # noqa: F401
from .pool import avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward  # noqa: F401


def asarray(data, dtype=None):
    """A NumPy array of ``data`` (no copy when it already is one of that dtype)."""
    return np.asarray(data, dtype=dtype)


def to_numpy(array):
    return array


def astype(array, dtype):
    return array.astype(dtype, copy=False)


def copy(array):
    return array.copy()


def pad(array, widths, value):
    """``array`` with ``widths[i] = (before, after)`` elements of ``value`` added around dimension i."""
    return np.pad(array, widths, constant_values=value)


def getitem(array, index):
    """``array[index]``; basic indices give a view, an int for every dimension a 0-d view (as torch's ``x[i]``)."""
    out = array[index]
    if not isinstance(out, np.ndarray):
        out = array[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
    return out


def broadcast_to(array, shape):
    """``array`` broadcast to ``shape`` as a view (stride 0 along stretched dims), writable as torch's expand is:
    a write is refused only where it would reach one element twice (``has_internal_overlap``)."""
    view = np.broadcast_to(array, shape)
    return np.lib.stride_tricks.as_strided(array, view.shape, view.strides, writeable=array.flags.writeable)


def has_internal_overlap(array):
    """Whether two elements of ``array`` share memory: a stride of 0 along a dimension longer than 1."""
    return array.size > 1 and builtins.any(stride == 0 and n > 1 for stride, n in zip(array.strides, array.shape))


def is_contiguous(array):
    """Whether ``array``'s elements lie in row-major order with no gaps (torch's ``is_contiguous``)."""
    return array.flags.c_contiguous


def can_view(array, shape):
    """Whether ``array`` can take ``shape`` without a copy (the condition of torch's ``view``)."""
    try:
        np.reshape(array, shape, copy=False)
    except ValueError:
        return False
    return True


def shares_memory(a, b):
    """Whether ``a`` may be a view into ``b``'s storage (a cheap bounds check)."""
    return np.may_share_memory(a, b)


def setitem(array, index, value):
    array[index] = value


def index_add(shape, index, values, dtype):
    """Zeros of ``shape`` with ``values`` added at ``array[index]``; repeated indices add up (getitem's backward)."""
    out = np.zeros(shape, dtype=dtype)
    np.add.at(out, index, values)
    return out


def bernoulli(rng, p_keep, shape, dtype):
    """1 with probability ``p_keep``, else 0, in ``dtype`` (dropout's mask), drawn from ``rng`` (a NumPy Generator)."""
    return np.asarray(rng.random(shape) < p_keep, dtype=dtype)


def copy_into(dst, src):
    """Write ``src`` into ``dst`` in place; casting only within a kind (float → int raises, as torch does)."""
    np.copyto(dst, src, casting="same_kind")

