"""The conformance table: every public function, method and layer, with the samples it is checked on.

An ``OpInfo`` names an op, calls it as ``fn(lib, *args, **kwargs)`` where ``lib`` is ``torch`` or
``tensorlite`` (the two spell the op the same way, so one call serves both), and draws its samples from a
hypothesis strategy. A layer's entry gives ``layer(lib)``, the class to build from the sample's constructor
arguments; the harness loads torch's copy with tensorlite's initial parameters. Adding an op to tensorlite
means adding a line here.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from hypothesis import assume, strategies as st

from .samples import (
    DTYPES, FLOATS, DType, Sample, TensorArg, broadcastable_pair, dims, operand_pairs, scalars, shapes,
    tensors,
)


@dataclass
class OpInfo:
    name: str
    fn: Optional[Callable]
    samples: st.SearchStrategy
    layer: Optional[Callable] = None
    tolerances: dict = field(default_factory=dict)


def _resolve(lib, path):
    for part in path.split("."):
        lib = getattr(lib, part)
    return lib


def function(path):
    """``lib.<path>(*args, **kwargs)``, e.g. ``function("nn.functional.conv2d")``."""
    return lambda lib, *args, **kwargs: _resolve(lib, path)(*args, **kwargs)


def method(name):
    """``x.<name>(*args, **kwargs)``."""
    return lambda lib, x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def inplace(name):
    """``x.clone().<name>(*args, **kwargs)``: an in-place method on a non-leaf copy, returning the copy."""
    return lambda lib, x, *args, **kwargs: getattr(x.clone(), name)(*args, **kwargs)


def layer(name):
    return lambda lib: _resolve(lib.nn, name)


def _setitem(lib, x, index, value):
    y = x.clone()
    y[index] = value
    return y


def sample(*args, **kwargs):
    return Sample(args, kwargs)


def ndim(t):
    return t.array.ndim


def one_tensor(dtypes=DTYPES, **kwargs):
    return tensors(dtypes, **kwargs).map(sample)


def pairs(dtypes=DTYPES, scalar_first=True):
    strategy = operand_pairs(dtypes)
    if not scalar_first:
        strategy = strategy.filter(lambda pair: isinstance(pair[0], TensorArg))
    return strategy.map(lambda pair: sample(*pair))


# --------------------------------------------------------------------------------------------- samples
@st.composite
def reductions(draw, dtypes=DTYPES, single_dim=False, keepdim=True, unbiased=False):
    """A tensor and the reduction's keywords, ``dim``/``keepdim`` or NumPy's ``axis``/``keepdims`` spelling."""
    x = draw(tensors(dtypes))
    kwargs = {}
    dim = draw(dims(ndim(x), allow_tuple=not single_dim))
    numpy_names = draw(st.integers(0, 3)) == 0
    if dim is not None:
        kwargs["axis" if numpy_names else "dim"] = dim
        if keepdim and draw(st.booleans()):
            kwargs["keepdims" if numpy_names else "keepdim"] = True
    if unbiased:  # torch's var backward treats dim=() as no dims, its forward as all; and n <= correction as inf
        assume(dim != ())
        choice = draw(st.sampled_from(["", "unbiased", "correction"]))
        if choice == "unbiased":
            kwargs["unbiased"] = draw(st.booleans())
        elif choice == "correction":
            kwargs["correction"] = draw(st.integers(0, min(1, max(x.array.size - 1, 0))))
    return Sample((x,), kwargs)


@st.composite
def softmaxes(draw):
    x = draw(tensors(FLOATS + ("int64",)))
    return sample(x, draw(st.integers(-ndim(x) - 1, max(ndim(x), 1))))


@st.composite
def clamps(draw):
    x = draw(tensors())
    bound = st.one_of(st.none(), scalars())
    return Sample((x,), {"min": draw(bound), "max": draw(bound)})


@st.composite
def wheres(draw):
    condition, first = draw(broadcastable_pair(("bool",) * 9 + ("uint8",), DTYPES))
    second = draw(st.one_of(tensors(shape=first.array.shape), tensors(shape=()), scalars()))
    return sample(condition, first, second)


@st.composite
def masked_fills(draw, inplace=False):
    x, mask = draw(broadcastable_pair(dtypes_other=("bool",) * 9 + ("int64",)))
    value = draw(st.one_of(scalars(), tensors(shape=())))
    if inplace and isinstance(value, TensorArg) and x.array.dtype.kind != "f":
        value = TensorArg(value.array)  # torch marks an integer result as requiring grad here, which it cannot
    return sample(x, mask, value)


def _factorisations(n):
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def target_shapes(draw, x):
    """A shape for reshape/view of ``x``: usually the same number of elements, with or without -1."""
    n = x.array.size
    choice = draw(st.sampled_from(["flat", "inferred", "split", "reversed", "random", "two-inferred"]))
    if choice == "flat":
        return (n,)
    if choice == "reversed":
        return tuple(reversed(x.array.shape))
    if choice == "random":
        return draw(shapes(max_dims=3))
    if choice == "two-inferred":
        return (-1, -1)
    first = draw(st.sampled_from(_factorisations(n))) if n else draw(st.integers(0, 2))
    second = n // first if first else 0
    return (first, -1) if choice == "inferred" else (first, second)


@st.composite
def reshapes(draw):
    x = draw(tensors())
    return sample(x, draw(target_shapes(x)))


@st.composite
def dim_args(draw, count=1, dtypes=DTYPES, extra_slot=False):
    """A tensor and ``count`` dims (range one past each end); ``extra_slot`` for unsqueeze's ndim + 1 slots."""
    x = draw(tensors(dtypes))
    span = max(ndim(x) + extra_slot, 1)
    return sample(x, *[draw(st.integers(-span - 1, span)) for _ in range(count)])


@st.composite
def flattens(draw):
    x = draw(tensors())
    span = max(ndim(x), 1)
    return sample(x, draw(st.integers(-span - 1, span)), draw(st.integers(-span - 1, span)))


@st.composite
def unflattens(draw):
    x = draw(tensors(min_dims=1))
    dim = draw(st.integers(-ndim(x) - 1, ndim(x)))
    size = x.array.shape[dim] if -ndim(x) <= dim < ndim(x) else 4
    options = [(size,), (1, size), (-1, 1)] + [(d, size // d) for d in _factorisations(size)] + [(2, 3)]
    return sample(x, dim, draw(st.sampled_from(options)))


@st.composite
def squeezes(draw):
    x = draw(tensors(min_side=1))
    dim = draw(dims(ndim(x)))
    return Sample((x,)) if dim is None else sample(x, dim)


@st.composite
def permutes(draw):
    x = draw(tensors())
    order = draw(st.permutations(range(ndim(x))))
    broken = draw(st.sampled_from(["", "", "", "negative", "repeat", "short"]))
    if broken == "negative" and order:
        order[0] -= ndim(x)
    if broken == "repeat" and len(order) > 1:
        order[0] = order[1]
    if broken == "short" and order:
        order = order[1:]
    return sample(x, *order) if draw(st.booleans()) else sample(x, tuple(order))


@st.composite
def expands(draw):
    x = draw(tensors(max_dims=2))
    sizes = [draw(st.sampled_from([-1, n, 3] if n == 1 else [-1, n, n, 2])) for n in x.array.shape]
    sizes = draw(st.lists(st.integers(0, 3), max_size=2)) + sizes
    return sample(x, *sizes)


@st.composite
def repeats(draw):
    x = draw(tensors(max_dims=2))
    sizes = draw(st.lists(st.integers(0, 3), min_size=max(ndim(x) - 1, 0), max_size=ndim(x) + 2))
    return sample(x, *sizes)


@st.composite
def splits(draw):
    x = draw(tensors(min_dims=1))
    dim = draw(st.integers(-ndim(x) - 1, ndim(x)))
    size = x.array.shape[dim] if -ndim(x) <= dim < ndim(x) else 3
    sections = draw(st.one_of(st.integers(0, 4), st.lists(st.integers(0, size), min_size=1, max_size=3)))
    if isinstance(sections, list) and draw(st.booleans()):
        sections.append(size - sum(sections))
    return sample(x, sections, dim)


@st.composite
def chunks(draw):
    x = draw(tensors())
    span = max(ndim(x), 1)
    return sample(x, draw(st.integers(-1, 5)), draw(st.integers(-span - 1, span)))


@st.composite
def narrows(draw):
    x = draw(tensors())
    span = max(ndim(x), 1)
    dim = draw(st.integers(-span - 1, span))
    size = x.array.shape[dim] if -ndim(x) <= dim < ndim(x) else 3
    return sample(x, dim, draw(st.integers(-size - 1, size + 1)), draw(st.integers(-1, size + 1)))


@st.composite
def joins(draw):
    """cat/stack inputs: 1-3 tensors of one shape, or with one differing dim; mixed dtypes sometimes."""
    shape = list(draw(shapes(max_dims=3)))
    count = draw(st.integers(0, 3))
    dtypes = draw(st.sampled_from([("float32",), ("float64",), ("int64",), DTYPES]))
    dim = draw(st.integers(-len(shape) - 2, len(shape) + 1))
    items = []
    for _ in range(count):
        item_shape = list(shape)
        if item_shape and draw(st.booleans()):
            item_shape[draw(st.integers(0, len(shape) - 1))] = draw(st.integers(0, 3))
        items.append(draw(tensors(dtypes, shape=item_shape)))
    return sample(items, dim)


@st.composite
def indices(draw, x):
    """An index for ``x``: ints, slices (with steps), None, Ellipsis, bool masks, int lists and int tensors."""
    shape = x.array.shape
    # int lists and tensors only where x has elements: torch does not bounds-check an index into an empty tensor
    advanced = x.array.size > 0

    def one(size):
        return draw(st.one_of(
            st.integers(-size - 1, size),
            st.builds(slice, st.none() | st.integers(-size - 1, size + 1), st.none() | st.integers(-size - 1, size + 1),
                      st.none() | st.integers(1, 3)),
            st.just(None),
            st.lists(st.integers(-size, max(size - 1, 0)), max_size=3) if size and advanced else st.just([]),
            tensors(("int64",), shape=(draw(st.integers(0, 3)) * advanced,), low=-size, high=max(size - 1, 0)),
        ))

    choice = draw(st.sampled_from(["single", "tuple", "tuple", "mask", "ellipsis"]))
    if choice == "mask":
        return draw(tensors(("bool",), shape=shape))
    if not shape:
        return draw(st.sampled_from([(), None, Ellipsis, 0, True]))
    if choice == "single":
        return one(shape[0])
    picks = tuple(one(size) for size in shape[: draw(st.integers(1, len(shape)))])
    if choice == "ellipsis":
        picks = picks[:-1] + (Ellipsis,)
    return picks


@st.composite
def getitems(draw):
    x = draw(tensors())
    return sample(x, draw(indices(x)))


@st.composite
def setitems(draw):
    x = draw(tensors())
    value = draw(st.one_of(scalars(), tensors(shape=()), tensors(shape=draw(shapes(max_dims=1, max_side=2)))))
    if isinstance(value, TensorArg) and x.array.dtype.kind != "f":
        value = TensorArg(value.array)  # torch marks an integer result as requiring grad here, which it cannot
    return sample(x, draw(indices(x)), value)


@st.composite
def matmuls(draw, max_dims=3):
    dtypes = draw(st.sampled_from([("float32",), ("float64",), ("int64",), FLOATS, DTYPES]))
    n, k, m = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    first_dims, second_dims = draw(st.integers(1, max_dims)), draw(st.integers(1, max_dims))
    batch = tuple(draw(st.lists(st.integers(1, 2), max_size=1)))
    first = {1: (k,), 2: (n, k), 3: batch + (n, k)}[first_dims]
    second = {1: (k,), 2: (k, m), 3: batch + (k, m)}[second_dims]
    if draw(st.integers(0, 7)) == 0:
        second = (second[0] + 1,) + second[1:]
    if 0 in first + second:  # torch multiplies empty matrices of different dtypes, or not, by the path taken
        dtypes = dtypes[:1]
    return sample(draw(tensors(dtypes, shape=first)), draw(tensors(dtypes, shape=second)))


@st.composite
def linears(draw):
    dtypes = draw(st.sampled_from([("float32",), ("float64",), FLOATS, ("int64",)]))
    features, out = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    x_shape = draw(shapes(max_dims=2, max_side=3)) + (features,)
    if 0 in x_shape + (out,):  # as in matmuls: torch's empty products check the dtypes or not by the path taken
        dtypes = dtypes[:1]
    x = draw(tensors(dtypes, shape=x_shape))
    weight = draw(tensors(dtypes, shape=(out, draw(st.sampled_from([features, features, features + 1])))))
    bias = draw(st.one_of(st.none(), tensors(dtypes, shape=(out,))))
    strided = "contiguous" not in (x.layout, weight.layout) or (bias is not None and bias.layout != "contiguous")
    if bias is not None and strided and (ndim(x) != 2 or "contiguous" not in (x.layout, weight.layout)):
        # torch's fused path, which refuses a bias of another dtype, is taken for a 2-D input always, for others
        # only when the input and the bias are contiguous: a memory layout tensorlite does not model
        bias = draw(tensors((str(weight.array.dtype),), shape=(out,)))
    return sample(x, weight, bias)


# ------------------------------------------------------------------ convolution, pooling, normalisation
def windows(max_size=3):
    return st.one_of(st.integers(0, max_size), st.tuples(st.integers(1, max_size), st.integers(1, max_size)))


@st.composite
def images(draw, dtypes=FLOATS, channels=None, batched=None, extremes=True):
    channels = draw(st.integers(1, 3)) if channels is None else channels
    size = (draw(st.integers(0, 2)),) if (draw(st.integers(0, 5)) > 0 if batched is None else batched) else ()
    shape = size + (channels, draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    return draw(tensors(dtypes, shape=shape, extremes=extremes))


# Normalising values near 1e20 with eps = 1e-5 is rounding noise in any precision (torch's float64 disagrees
# with itself in float32); the normalisation samples keep NaN and the infinities but leave these out.
NO_EXTREMES = dict(extremes=False)


@st.composite
def conv_arguments(draw):
    groups = draw(st.sampled_from([1, 1, 1, 2, 3]))
    in_channels = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0] * 9 + [1]))
    out_channels = groups * draw(st.integers(1, 2))
    kernel = draw(windows())
    padding = draw(st.one_of(windows(2), st.sampled_from(["same", "valid"])))
    stride = draw(windows(2))
    if padding == "same":
        stride = draw(st.sampled_from([1, stride]))
    return in_channels, out_channels, kernel, stride, padding, draw(windows(2)), groups


@st.composite
def conv2ds(draw):
    in_channels, out_channels, kernel, stride, padding, dilation, groups = draw(conv_arguments())
    dtypes = draw(st.sampled_from([("float32",), ("float64",), ("float32",), FLOATS, ("int64",)]))
    x = draw(images(dtypes, channels=in_channels))
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    # finite: torch multiplies the padding's zeros by the weights (0 * inf = NaN), tensorlite skips them
    weight = draw(tensors(dtypes, shape=(out_channels, max(in_channels // groups, 1), kh, kw), specials=False))
    bias = draw(st.one_of(st.none(), tensors(dtypes, shape=(out_channels,))))
    if isinstance(padding, str) and bias is not None:  # torch casts such a bias, or not, by the kernel it picks
        bias = draw(tensors((str(x.array.dtype),), shape=(out_channels,)))
    return Sample((x, weight, bias), dict(stride=stride, padding=padding, dilation=dilation, groups=groups))


@st.composite
def conv_layers(draw):
    in_channels, out_channels, kernel, stride, padding, dilation, groups = draw(conv_arguments())
    init = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=draw(st.booleans()))
    x = draw(images(channels=in_channels + draw(st.sampled_from([0] * 9 + [1]))))
    return Sample((x,), init=(in_channels, out_channels, kernel), init_kwargs=init)


@st.composite
def pool_windows(draw, dilation=True):
    kwargs = dict(kernel_size=draw(windows()), stride=draw(st.one_of(st.none(), windows(2))),
                  padding=draw(windows(2)), ceil_mode=draw(st.booleans()))
    if dilation:
        kwargs["dilation"] = draw(windows(2))
    return kwargs


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def has_padding_window(shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, **_):
    """Whether a max-pool window would lie wholly in the padding. torch's indices for such a window point
    outside the input and its backward writes out of bounds, so these samples are left out (tensorlite
    returns -inf and a zero gradient)."""
    stride = kernel_size if stride is None else stride
    for size, k, s, p, d in zip(shape[-2:], *map(_pair, (kernel_size, stride, padding, dilation))):
        if min(k, s, d) <= 0 or p > k // 2:
            return False
        span = size + 2 * p - d * (k - 1) - 1
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= size + p:
            out -= 1
        if any(all(not 0 <= o * s - p + j * d < size for j in range(k)) for o in range(out)):
            return True
    return False


@st.composite
def max_pools(draw):
    kwargs = draw(pool_windows())
    kwargs["return_indices"] = draw(st.booleans())
    x = draw(images(FLOATS + ("int64",)))
    assume(not has_padding_window(x.array.shape, **kwargs))
    return Sample((x,), kwargs)


@st.composite
def avg_pools(draw):
    kwargs = draw(pool_windows(dilation=False))
    kwargs["count_include_pad"] = draw(st.booleans())
    kwargs["divisor_override"] = draw(st.sampled_from([None, None, 2, 0]))
    return Sample((draw(images(FLOATS + ("int64",))),), kwargs)


@st.composite
def pool_layers(draw, maximum=True):
    kwargs = draw(pool_windows(dilation=maximum))
    x = draw(images())
    assume(not maximum or not has_padding_window(x.array.shape, **kwargs))
    return Sample((x,), init_kwargs=kwargs)


@st.composite
def adaptive_sizes(draw):
    size = draw(st.one_of(st.integers(0, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)),
                          st.tuples(st.none(), st.integers(1, 3))))
    return size


@st.composite
def adaptive_pools(draw):
    return sample(draw(images(FLOATS + ("int64",))), draw(adaptive_sizes()))


def _contiguous(t):
    return TensorArg(t.array, requires_grad=t.requires_grad)


@st.composite
def batch_norms(draw, spatial=2):
    channels = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 3)), channels) + tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    dtypes = draw(st.sampled_from([("float32",), ("float64",)]))
    x = draw(tensors(dtypes, shape=shape, **NO_EXTREMES))
    stats = [draw(tensors(dtypes, shape=(channels,), low=0.5, high=2, specials=False)) for _ in range(2)]
    stats = [TensorArg(s.array) for s in stats] if draw(st.integers(0, 3)) else [None, None]
    # contiguous and finite: in eval mode torch reads a strided weight ignoring its strides, and its result for
    # an infinite weight depends on the input's memory layout
    affine = [draw(st.one_of(st.none(), tensors(dtypes, shape=(channels,), specials=False).map(_contiguous)))
              for _ in range(2)]
    training = draw(st.booleans()) or stats[0] is None
    return Sample((x, *stats, *affine), dict(training=training, momentum=draw(st.sampled_from([0.1, 0.5])),
                                             eps=draw(st.sampled_from([1e-5, 1e-3]))))


@st.composite
def batch_norm_layers(draw, spatial):
    channels = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 3)), channels + draw(st.sampled_from([0] * 9 + [1])))
    shape += tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    init = dict(affine=draw(st.booleans()), track_running_stats=draw(st.booleans()),
                momentum=draw(st.sampled_from([0.1, 0.5, None])))
    return Sample((draw(tensors(("float32",), shape=shape, **NO_EXTREMES)),), init=(channels,), init_kwargs=init,
                  training=draw(st.booleans()))


@st.composite
def layer_norms(draw):
    x = draw(tensors(FLOATS, min_dims=1, **NO_EXTREMES))
    count = draw(st.integers(1, ndim(x)))
    normalized = x.array.shape[ndim(x) - count:]
    if draw(st.integers(0, 9)) == 0:
        normalized = (3,) + normalized[1:]
    # a finite weight: torch's backward sums dy * weight * x over the row before centring, so one infinite weight
    # makes every element of the row's gradient NaN, where the centred formula gives the +-inf that is the limit
    weight = draw(st.one_of(st.none(), tensors((str(x.array.dtype),), shape=normalized, specials=False)))
    bias = draw(st.one_of(st.none(), tensors((str(x.array.dtype),), shape=normalized)))
    return sample(x, normalized, weight, bias)


@st.composite
def layer_norm_layers(draw):
    x = draw(tensors(("float32",), min_dims=1, min_side=1, **NO_EXTREMES))
    normalized = x.array.shape[ndim(x) - draw(st.integers(1, ndim(x))):]
    init = dict(elementwise_affine=draw(st.booleans()), bias=draw(st.booleans()))
    return Sample((x,), init=(normalized,), init_kwargs=init)


@st.composite
def group_norms(draw):
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 2)) + draw(st.sampled_from([0] * 9 + [1]))
    shape = (draw(st.integers(1, 2)), channels) + tuple(draw(shapes(max_dims=2, min_side=1)))
    x = draw(tensors(FLOATS, shape=shape, **NO_EXTREMES))
    # finite: torch's fused affine x * s + (b - mean * s) makes an infinite weight NaN where tensorlite gives inf
    weight = draw(st.one_of(st.none(), tensors((str(x.array.dtype),), shape=(channels,), specials=False)))
    # a bias without a weight: torch's backward fails ("tensor does not have a device")
    bias = draw(st.one_of(st.none(), tensors((str(x.array.dtype),), shape=(channels,)))) if weight else None
    return sample(x, groups, weight, bias)


@st.composite
def group_norm_layers(draw):
    groups = draw(st.integers(1, 3))
    channels = groups * draw(st.integers(1, 2))
    shape = (draw(st.integers(1, 2)), channels, 2, draw(st.integers(1, 3)))
    x = draw(tensors(("float32",), shape=shape, **NO_EXTREMES))
    return Sample((x,), init=(groups, channels), init_kwargs=dict(affine=draw(st.booleans())))


@st.composite
def instance_norm_layers(draw):
    channels = draw(st.integers(1, 3))
    x = draw(images(("float32",), channels=channels, **NO_EXTREMES))
    init = dict(affine=draw(st.booleans()), track_running_stats=draw(st.booleans()))
    return Sample((x,), init=(channels,), init_kwargs=init, training=draw(st.booleans()))


@st.composite
def interpolates(draw):
    x = draw(images(FLOATS, batched=True))
    if draw(st.booleans()):
        return Sample((x,), dict(scale_factor=draw(st.sampled_from([1, 2, 3, (2, 1), 0.5]))))
    return Sample((x,), dict(size=draw(st.one_of(st.integers(1, 7), st.tuples(st.integers(1, 7), st.integers(1, 7))))))


@st.composite
def one_hots(draw):
    x = draw(tensors(("int64",) * 9 + ("float32",), low=-1, high=4, specials=False))
    return sample(x, draw(st.sampled_from([-1, -1, 5, 3, 0])))


@st.composite
def dropouts(draw):
    return Sample((draw(tensors(FLOATS)),), dict(p=draw(st.sampled_from([0.0, 1.0, 0.5, -0.1, 1.5])), training=False))


# --------------------------------------------------------------------------------------------- losses
@st.composite
def class_targets(draw, batch, classes, extra):
    target = draw(tensors(("int64",), shape=(batch,) + extra, low=0, high=max(classes - 1, 0), specials=False))
    if draw(st.integers(0, 4)) == 0:
        target = TensorArg(np.where(draw(tensors(("bool",), shape=target.array.shape)).array, -100, target.array))
    return target


@st.composite
def classifications(draw, log_probabilities=False):
    """(input, target, options) for cross_entropy / nll_loss: class indices (some ignored) or probabilities."""
    batch, classes = draw(st.integers(0, 3)), draw(st.integers(1, 4))
    extra = tuple(draw(shapes(max_dims=1, min_side=1, max_side=2))) if draw(st.integers(0, 3)) == 0 else ()
    dtype = draw(st.sampled_from(FLOATS))
    x = draw(tensors((dtype,), shape=(batch, classes) + extra))
    if not log_probabilities and draw(st.integers(0, 3)) == 0:
        target = draw(tensors((dtype,), shape=x.array.shape, low=0, high=1, specials=False))
    else:
        target = draw(class_targets(batch, classes, extra))
    options = dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    if draw(st.booleans()):
        options["weight"] = TensorArg(draw(tensors((dtype,), shape=(classes,), low=0, high=2, specials=False)).array)
    if draw(st.booleans()):
        options["ignore_index"] = draw(st.sampled_from([-100, 0, 1]))
    if not log_probabilities and draw(st.booleans()):
        options["label_smoothing"] = draw(st.sampled_from([0.0, 0.1, 0.5]))
    return x, target, options


@st.composite
def class_losses(draw, log_probabilities=False):
    x, target, options = draw(classifications(log_probabilities))
    return Sample((x, target), options)


@st.composite
def class_loss_layers(draw, log_probabilities=False):
    x, target, options = draw(classifications(log_probabilities))
    weight = options.pop("weight", None)
    return Sample((x, target), init=(weight,), init_kwargs=options)


@st.composite
def regressions(draw, probabilities=False, beta=False):
    dtypes = draw(st.sampled_from([("float32",), ("float64",), FLOATS]))
    low, high = (0, 1) if probabilities else (-4, 4)
    x, target = draw(broadcastable_pair(dtypes))
    x = draw(tensors(dtypes, shape=x.array.shape, low=low, high=high, specials=not probabilities))
    target = draw(tensors(dtypes, shape=target.array.shape, low=low, high=high))
    if draw(st.integers(0, 3)):
        target = draw(tensors(dtypes, shape=x.array.shape, low=low, high=high))
    options = dict(reduction=draw(st.sampled_from(["mean", "sum", "none"])))
    if beta:  # smooth L1's: 0 is the L1 loss, a negative one raises
        options["beta"] = draw(st.sampled_from([1.0, 0.5, 2.0, 0.0, -1.0]))
    return x, target, options


@st.composite
def regression_losses(draw, probabilities=False, weights=False, beta=False):
    x, target, options = draw(regressions(probabilities, beta))
    if weights and draw(st.booleans()):
        options["weight"] = TensorArg(np.abs(draw(tensors(FLOATS, shape=x.array.shape[-1:])).array))
    return Sample((x, target), options)


@st.composite
def regression_loss_layers(draw, probabilities=False, beta=False):
    x, target, options = draw(regressions(probabilities, beta))
    return Sample((x, target), init_kwargs=options)


@st.composite
def logits_losses(draw, layer_form=False):
    x, target, options = draw(regressions(probabilities=False))
    target = TensorArg(np.clip(np.nan_to_num(target.array), 0, 1) if target.array.dtype.kind == "f" else target.array)
    if draw(st.booleans()) and x.array.ndim:
        options["pos_weight"] = TensorArg(np.abs(draw(tensors((str(x.array.dtype),), shape=x.array.shape[-1:])).array))
    if layer_form:
        return Sample((x, target), init_kwargs=options)
    return Sample((x, target), options)


# --------------------------------------------------------------------------------------------- creation
@st.composite
def nested_data(draw):
    kind = draw(st.sampled_from(["int", "float", "bool", "mixed"]))
    leaf = {"int": st.integers(-5, 5), "float": st.floats(-3, 3, width=32), "bool": st.booleans(),
            "mixed": st.one_of(st.integers(-5, 5), st.floats(-3, 3, width=32), st.booleans())}[kind]
    shape = draw(shapes(max_dims=2))
    data = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        data[index] = draw(leaf)
    return data.tolist() if shape else data.item()


@st.composite
def creations(draw):
    dtype = draw(st.sampled_from([None, None] + [DType(d) for d in DTYPES]))
    return Sample((draw(nested_data()),), {} if dtype is None else {"dtype": dtype})


@st.composite
def sized_creations(draw, fill=False):
    size = draw(shapes(max_dims=3))
    if draw(st.integers(0, 9)) == 0:
        size = (-1,) + size
    args = (tuple(size),) if draw(st.booleans()) or fill else tuple(size)
    if fill:
        args = args + (draw(scalars()),)
    dtype = draw(st.sampled_from([None, None] + [DType(d) for d in DTYPES]))
    return Sample(args, {} if dtype is None else {"dtype": dtype})


@st.composite
def like_creations(draw, fill=False):
    x = draw(tensors())
    args = (x, draw(scalars())) if fill else (x,)
    dtype = draw(st.sampled_from([None, None] + [DType(d) for d in DTYPES]))
    return Sample(args, {} if dtype is None else {"dtype": dtype})


@st.composite
def aranges(draw):
    dtype = draw(st.sampled_from([None, None, DType("float64"), DType("int64"), DType("int32")]))
    numbers = st.integers(-5, 5)
    if dtype is None or dtype.name == "float64":  # torch's integer aranges of fractions differ by dtype
        numbers = st.one_of(numbers, st.sampled_from([0.5, -1.5, 2.25]))
    args = tuple(draw(st.lists(numbers, min_size=1, max_size=3)))
    return Sample(args, {} if dtype is None else {"dtype": dtype})


@st.composite
def linspaces(draw):
    numbers = st.one_of(st.integers(-5, 5), st.floats(-3, 3, width=32))
    return sample(draw(numbers), draw(numbers), draw(st.integers(-1, 5)))


@st.composite
def eyes(draw):
    return sample(*draw(st.lists(st.integers(-1, 4), min_size=1, max_size=2)))


@st.composite
def conversions(draw):
    return sample(draw(tensors()), draw(st.sampled_from([DType(d) for d in DTYPES])))


@st.composite
def closeness(draw):
    first, second = draw(broadcastable_pair(FLOATS))
    return Sample((first, second), dict(equal_nan=draw(st.booleans())))


# --------------------------------------------------------------------------------------------- the table
UNARY = ["abs", "neg", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "sign"]
BINARY = ["add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge"]
OPERATORS = {
    "__add__": lambda a, b: a + b, "__sub__": lambda a, b: a - b, "__mul__": lambda a, b: a * b,
    "__truediv__": lambda a, b: a / b, "__pow__": lambda a, b: a ** b, "__and__": lambda a, b: a & b,
    "__or__": lambda a, b: a | b, "__xor__": lambda a, b: a ^ b, "__eq__": lambda a, b: a == b,
    "__lt__": lambda a, b: a < b, "__ge__": lambda a, b: a >= b,
}
INPLACE_BINARY = ["add_", "sub_", "mul_", "div_", "pow_"]
INPLACE_UNARY = ["exp_", "log_", "sqrt_", "neg_", "abs_", "tanh_", "sigmoid_", "relu_", "zero_"]
LOOSE = {"float32": (1e-3, 1e-4)}
# a Python bool on either side of ** trips torch's backward (an internal assert; x ** False at 0 is NaN)
POW_PAIRS = pairs().filter(lambda s: not any(isinstance(a, bool) for a in s.args))

OPS = (
    [OpInfo(name, method(name), one_tensor()) for name in UNARY]
    + [OpInfo(f"tl.{name}", function(name), one_tensor()) for name in ("abs", "exp", "sqrt", "relu", "sigmoid")]
    + [OpInfo(name, method(name), pairs(scalar_first=False)) for name in BINARY if name != "pow"]
    + [OpInfo(name, lambda lib, a, b, op=op: op(a, b), pairs()) for name, op in OPERATORS.items() if name != "__pow__"]
    + [OpInfo("__pow__", lambda lib, a, b: a ** b, POW_PAIRS)]
    + [OpInfo(name, function(name), pairs(scalar_first=False)) for name in ("maximum", "minimum")]
    + [OpInfo(name, inplace(name), pairs(scalar_first=False)) for name in INPLACE_BINARY if name != "pow_"]
    + [OpInfo("pow", method("pow"), POW_PAIRS.filter(lambda s: isinstance(s.args[0], TensorArg))),
       OpInfo("pow_", inplace("pow_"), POW_PAIRS.filter(lambda s: isinstance(s.args[0], TensorArg)))]
    + [OpInfo(name, inplace(name), one_tensor()) for name in INPLACE_UNARY]
    + [
        OpInfo("__neg__", lambda lib, x: -x, one_tensor()),
        OpInfo("__invert__", lambda lib, x: ~x, one_tensor()),
        OpInfo("add(alpha)", lambda lib, a, b: a.add(b, alpha=2), pairs(scalar_first=False)),
        OpInfo("clamp", method("clamp"), clamps()),
        OpInfo("clamp_", inplace("clamp_"), clamps()),
        OpInfo("where", function("where"), wheres()),
        OpInfo("masked_fill", method("masked_fill"), masked_fills()),
        OpInfo("masked_fill_", inplace("masked_fill_"), masked_fills(inplace=True)),
        OpInfo("fill_", inplace("fill_"), st.tuples(tensors(), scalars()).map(lambda p: sample(*p))),
        OpInfo("copy_", inplace("copy_"), broadcastable_pair().map(lambda p: sample(*p))),
        OpInfo("isclose", function("isclose"), closeness()),
        OpInfo("allclose", function("allclose"), closeness()),
        OpInfo("equal", function("equal"), broadcastable_pair().map(lambda p: sample(*p))),
    ]
    + [OpInfo(name, method(name), reductions()) for name in ("sum", "mean", "amax", "amin", "all", "any")]
    + [OpInfo(f"tl.{name}", function(name), reductions()) for name in ("sum", "mean")]
    + [OpInfo(name, method(name), reductions(single_dim=True)) for name in ("max", "min", "argmax", "argmin")]
    + [OpInfo(name, method(name), reductions(FLOATS, unbiased=True), tolerances=LOOSE) for name in ("var", "std")]
    + [OpInfo(name, method(name), softmaxes()) for name in ("softmax", "log_softmax")]
    + [OpInfo(f"tl.{name}(axis=)", lambda lib, x, axis, name=name: getattr(lib, name)(x, axis=axis), softmaxes())
       for name in ("softmax", "log_softmax")]
    + [OpInfo(f"F.{name}", function(f"nn.functional.{name}"), softmaxes()) for name in ("softmax", "log_softmax")]
    + [
        OpInfo("reshape", method("reshape"), reshapes()),
        OpInfo("view", method("view"), reshapes()),
        OpInfo("flatten", method("flatten"), flattens()),
        OpInfo("unflatten", method("unflatten"), unflattens()),
        OpInfo("squeeze", method("squeeze"), squeezes()),
        OpInfo("unsqueeze", method("unsqueeze"), dim_args(extra_slot=True)),
        OpInfo("transpose", method("transpose"), dim_args(count=2)),
        OpInfo("permute", method("permute"), permutes()),
        OpInfo("t", method("t"), one_tensor()),
        OpInfo("expand", method("expand"), expands()),
        OpInfo("repeat", method("repeat"), repeats()),
        OpInfo("split", method("split"), splits()),
        OpInfo("chunk", method("chunk"), chunks()),
        OpInfo("narrow", method("narrow"), narrows()),
        OpInfo("cat", function("cat"), joins()),
        OpInfo("stack", function("stack"), joins()),
        OpInfo("__getitem__", lambda lib, x, index: x[index], getitems()),
        OpInfo("__setitem__", _setitem, setitems()),
        OpInfo("clone", method("clone"), one_tensor()),
        OpInfo("contiguous", method("contiguous"), one_tensor()),
        OpInfo("detach", method("detach"), one_tensor()),
        OpInfo("expand_as", method("expand_as"), broadcastable_pair().map(lambda p: sample(*p))),
        OpInfo("view_as", method("view_as"), broadcastable_pair().map(lambda p: sample(*p))),
        OpInfo("item", method("item"), one_tensor(max_dims=2, max_side=1)),
        OpInfo("tolist", method("tolist"), one_tensor()),
        OpInfo("size", lambda lib, x: x.size(), one_tensor()),
        OpInfo("numel", method("numel"), one_tensor()),
        OpInfo("dim", method("dim"), one_tensor()),
        OpInfo("to(dtype)", method("to"), conversions()),
        OpInfo("type(dtype)", method("type"), conversions()),
    ]
    + [OpInfo(name, method(name), one_tensor()) for name in ("float", "double", "long", "int", "bool")]
    + [
        OpInfo("matmul", function("matmul"), matmuls()),
        OpInfo("__matmul__", lambda lib, a, b: a @ b, matmuls()),
        OpInfo("mm", function("mm"), matmuls()),
        OpInfo("F.linear", function("nn.functional.linear"), linears()),
        OpInfo("F.conv2d", function("nn.functional.conv2d"), conv2ds(), tolerances=LOOSE),
        OpInfo("F.max_pool2d", function("nn.functional.max_pool2d"), max_pools()),
        OpInfo("F.avg_pool2d", function("nn.functional.avg_pool2d"), avg_pools()),
        OpInfo("F.adaptive_avg_pool2d", function("nn.functional.adaptive_avg_pool2d"), adaptive_pools()),
        OpInfo("F.batch_norm", function("nn.functional.batch_norm"), batch_norms(), tolerances=LOOSE),
        OpInfo("F.layer_norm", function("nn.functional.layer_norm"), layer_norms(), tolerances=LOOSE),
        OpInfo("F.group_norm", function("nn.functional.group_norm"), group_norms(), tolerances=LOOSE),
        OpInfo("F.interpolate", function("nn.functional.interpolate"), interpolates()),
        OpInfo("F.one_hot", function("nn.functional.one_hot"), one_hots()),
        OpInfo("F.relu", function("nn.functional.relu"), one_tensor()),
        OpInfo("F.leaky_relu", function("nn.functional.leaky_relu"),
               st.tuples(tensors(), st.sampled_from([0.01, 0.2, -1.0, 0])).map(lambda p: sample(*p))),
        OpInfo("F.softplus", function("nn.functional.softplus"),
               st.tuples(tensors(), st.sampled_from([1.0, 2.0, 0.5]), st.sampled_from([20.0, 1.0])).map(lambda p: sample(*p))),
        OpInfo("F.dropout", function("nn.functional.dropout"), dropouts()),
        OpInfo("F.cross_entropy", function("nn.functional.cross_entropy"), class_losses(), tolerances=LOOSE),
        OpInfo("F.nll_loss", function("nn.functional.nll_loss"), class_losses(log_probabilities=True)),
        OpInfo("F.mse_loss", function("nn.functional.mse_loss"), regression_losses(), tolerances=LOOSE),
        OpInfo("F.l1_loss", function("nn.functional.l1_loss"), regression_losses()),
        OpInfo("F.smooth_l1_loss", function("nn.functional.smooth_l1_loss"), regression_losses(beta=True), tolerances=LOOSE),
        OpInfo("F.binary_cross_entropy", function("nn.functional.binary_cross_entropy"),
               regression_losses(probabilities=True, weights=True), tolerances=LOOSE),
        OpInfo("F.binary_cross_entropy_with_logits", function("nn.functional.binary_cross_entropy_with_logits"),
               logits_losses(), tolerances=LOOSE),
    ]
    + [
        OpInfo("tensor", function("tensor"), creations()),
        OpInfo("as_tensor", function("as_tensor"), creations()),
        OpInfo("zeros", function("zeros"), sized_creations()),
        OpInfo("ones", function("ones"), sized_creations()),
        OpInfo("full", function("full"), sized_creations(fill=True)),
        OpInfo("zeros_like", function("zeros_like"), like_creations()),
        OpInfo("ones_like", function("ones_like"), like_creations()),
        OpInfo("full_like", function("full_like"), like_creations(fill=True)),
        OpInfo("arange", function("arange"), aranges()),
        OpInfo("linspace", function("linspace"), linspaces()),
        OpInfo("eye", function("eye"), eyes()),
    ]
    + [
        OpInfo("nn.Conv2d", None, conv_layers(), layer("Conv2d"), LOOSE),
        OpInfo("nn.Linear", None, linears().map(lambda s: Sample(s.args[:1], init=(3, 2))), layer("Linear")),
        OpInfo("nn.BatchNorm1d", None, batch_norm_layers(spatial=0), layer("BatchNorm1d"), LOOSE),
        OpInfo("nn.BatchNorm2d", None, batch_norm_layers(spatial=2), layer("BatchNorm2d"), LOOSE),
        OpInfo("nn.LayerNorm", None, layer_norm_layers(), layer("LayerNorm"), LOOSE),
        OpInfo("nn.GroupNorm", None, group_norm_layers(), layer("GroupNorm"), LOOSE),
        OpInfo("nn.InstanceNorm2d", None, instance_norm_layers(), layer("InstanceNorm2d"), LOOSE),
        OpInfo("nn.MaxPool2d", None, pool_layers(), layer("MaxPool2d")),
        OpInfo("nn.AvgPool2d", None, pool_layers(maximum=False), layer("AvgPool2d")),
        OpInfo("nn.AdaptiveAvgPool2d", None,
               st.tuples(images(), adaptive_sizes()).map(lambda p: Sample((p[0],), init=(p[1],))),
               layer("AdaptiveAvgPool2d")),
        OpInfo("nn.Flatten", None, flattens().map(lambda s: Sample(s.args[:1], init=s.args[1:])), layer("Flatten")),
        OpInfo("nn.Unflatten", None, unflattens().map(lambda s: Sample(s.args[:1], init=s.args[1:])),
               layer("Unflatten")),
        OpInfo("nn.Softmax", None, softmaxes().map(lambda s: Sample(s.args[:1], init=s.args[1:])), layer("Softmax")),
        OpInfo("nn.LogSoftmax", None, softmaxes().map(lambda s: Sample(s.args[:1], init=s.args[1:])),
               layer("LogSoftmax")),
        OpInfo("nn.Upsample", None, interpolates().map(lambda s: Sample(s.args, init_kwargs=s.kwargs)),
               layer("Upsample")),
        OpInfo("nn.Dropout", None, dropouts().map(lambda s: Sample(s.args, init=(s.kwargs["p"],), training=False)),
               layer("Dropout")),
        OpInfo("nn.CrossEntropyLoss", None, class_loss_layers(), layer("CrossEntropyLoss"), LOOSE),
        OpInfo("nn.NLLLoss", None, class_loss_layers(log_probabilities=True), layer("NLLLoss")),
        OpInfo("nn.MSELoss", None, regression_loss_layers(), layer("MSELoss"), LOOSE),
        OpInfo("nn.L1Loss", None, regression_loss_layers(), layer("L1Loss")),
        OpInfo("nn.SmoothL1Loss", None, regression_loss_layers(beta=True), layer("SmoothL1Loss"), LOOSE),
        OpInfo("nn.BCELoss", None, regression_loss_layers(probabilities=True), layer("BCELoss"), LOOSE),
        OpInfo("nn.BCEWithLogitsLoss", None, logits_losses(layer_form=True), layer("BCEWithLogitsLoss"), LOOSE),
    ]
    + [OpInfo(f"nn.{name}", None, one_tensor(), layer(name)) for name in ("ReLU", "Sigmoid", "Tanh", "Identity")]
    + [OpInfo("nn.LeakyReLU", None, st.tuples(tensors(), st.sampled_from([0.01, 0.2])).map(
        lambda p: Sample((p[0],), init=(p[1],))), layer("LeakyReLU"))]
)
