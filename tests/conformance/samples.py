"""Sample inputs for the conformance table: hypothesis strategies that draw an op's arguments.

A sample is library-neutral: tensors are ``TensorArg`` (a NumPy array, the layout to present it in and
whether it requires grad) and dtypes are ``DType`` names; the harness turns both into torch or tensorlite
objects. The strategies reach the corners where the two libraries have differed: 0-d, empty and size-1
tensors, non-contiguous views, every dtype (int32, int64, bool, uint8, float32, float64), NaN and infinities,
Python scalars beside tensors, and invalid arguments (dims out of range, shapes that do not broadcast, sizes
that do not divide), on which torch's error is the expected result.
"""
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

DTYPES = ("float32", "float64", "int64", "int32", "uint8", "bool")
FLOATS = ("float32", "float64")
INTEGERS = ("int64", "int32", "uint8")
SPECIAL_FLOATS = (0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e20, -1e-20)
EXTREMES = (1e20, -1e-20)  # huge and tiny magnitudes, beside the infinities and NaN


@dataclass(frozen=True, eq=False)
class TensorArg:
    """A tensor argument. ``layout`` is how the op sees it: ``contiguous``, ``transposed`` (the last two dims
    of a contiguous base swapped back) or ``strided`` (every other element of a base twice as long)."""

    array: np.ndarray
    layout: str = "contiguous"
    requires_grad: bool = False

    def __repr__(self):
        flags = "".join([f", {self.layout}" * (self.layout != "contiguous"), ", requires_grad" * self.requires_grad])
        values = np.array2string(self.array, threshold=12, precision=4, separator=", ").replace("\n", "")
        if self.array.size == 0:
            values = f"[], shape={self.array.shape}"
        return f"tensor({values}, {self.array.dtype}{flags})"


@dataclass(frozen=True)
class DType:
    """A dtype argument, by name: ``torch.float64`` or ``tl.float64``."""

    name: str

    def __repr__(self):
        return f"lib.{self.name}"


@dataclass
class Sample:
    """The positional and keyword arguments of one call. A layer's sample also holds its constructor's."""

    args: tuple
    kwargs: dict = field(default_factory=dict)
    init: tuple = ()
    init_kwargs: dict = field(default_factory=dict)
    training: bool = True

    def __repr__(self):
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        call = f"({', '.join(parts)})"
        if not self.init and not self.init_kwargs:
            return call
        init = [repr(a) for a in self.init] + [f"{k}={v!r}" for k, v in self.init_kwargs.items()]
        return f"layer({', '.join(init)}){'' if self.training else '.eval()'}{call}"


# --------------------------------------------------------------------------------------------- tensors
def elements(dtype, specials=False, low=-4, high=4, extremes=True):
    """Element values: small floats (with NaN, infinities and, with ``extremes``, 1e20 and -1e-20 when
    ``specials``), small integers."""
    if dtype in FLOATS:
        finite = st.floats(low, high, width=32)
        chosen = [v for v in SPECIAL_FLOATS if extremes or v not in EXTREMES]
        return st.one_of(finite, st.sampled_from(chosen)) if specials else finite
    if dtype == "bool":
        return st.booleans()
    if dtype == "uint8":
        return st.integers(max(int(low), 0), max(int(high), 0) + 6)
    return st.integers(int(low) - 1, int(high) + 1) if (low, high) == (-4, 4) else st.integers(int(low), int(high))


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


@st.composite
def tensors(draw, dtypes=DTYPES, shape=None, min_dims=0, max_dims=3, min_side=0, max_side=4, low=-4, high=4,
            specials=True, extremes=True):
    """A ``TensorArg`` of one of ``dtypes``; ``shape`` fixes the shape (or is drawn). Floating tensors
    usually require grad; one in eight holds special values (see ``elements``)."""
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(shapes(min_dims, max_dims, min_side, max_side)) if shape is None else tuple(shape)
    with_specials = specials and draw(st.integers(0, 7)) == 0
    array = draw(hnp.arrays(np.dtype(dtype), shape, elements=elements(dtype, with_specials, low, high, extremes)))
    layouts = ["contiguous"] + ["strided"] * (len(shape) >= 1) + ["transposed"] * (len(shape) >= 2)
    layout = draw(st.sampled_from(layouts))
    requires_grad = dtype in FLOATS and draw(st.integers(0, 3)) > 0
    return TensorArg(array, layout, requires_grad)


def scalars():
    """Python numbers as torch takes them beside tensors."""
    return st.one_of(st.integers(-3, 3), st.floats(-3, 3, width=32), st.booleans(), st.sampled_from([0.5, 2, -1.5]))


def dims(ndim, allow_none=True, allow_tuple=True):
    """A ``dim`` argument for a tensor of ``ndim`` dims: in range, negative, one past either end, a tuple
    (possibly empty or with a repeated dim), or None."""
    span = max(ndim, 1)
    single = st.integers(-span - 1, span)
    options = [single, single]
    if allow_none:
        options.append(st.none())
    if allow_tuple:
        options.append(st.lists(st.integers(-span, span - 1), max_size=3).map(tuple))
    return st.one_of(*options)


@st.composite
def broadcastable_pair(draw, dtypes=DTYPES, dtypes_other=None):
    """Two tensors whose shapes broadcast, or (one time in ten) two unrelated shapes."""
    if draw(st.integers(0, 9)) == 0:
        first, second = draw(shapes()), draw(shapes())
    else:
        first, second = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3)).input_shapes
    return (draw(tensors(dtypes, shape=first)), draw(tensors(dtypes_other or dtypes, shape=second)))


@st.composite
def operand_pairs(draw, dtypes=DTYPES):
    """Operands of a binary op: two tensors, a tensor and a 0-d tensor, or a tensor and a Python scalar (on
    either side)."""
    kind = draw(st.sampled_from(["tensors", "tensors", "zero-dim", "scalar", "scalar-first"]))
    if kind == "tensors":
        return draw(broadcastable_pair(dtypes))
    first = draw(tensors(dtypes))
    if kind == "zero-dim":
        return first, draw(tensors(dtypes, shape=()))
    scalar = draw(scalars())
    return (first, scalar) if kind == "scalar" else (scalar, first)
