"""The fast CPU kernels equal the reference kernels (hypothesis sweep, contiguous or not, float32 and float64),
equal torch.nn.functional when torch is installed, and their backward kernels pass a finite-difference gradcheck."""
import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tensorlite.backends import reference as ref
from tensorlite.backends.geometry import pool_output_size
from tensorlite.backends.cpu import activation, conv, norm, pool, scratch

pytestmark = pytest.mark.fast_kernels  # the fast kernels called directly: the same tests under either kernel set

fast = SimpleNamespace(
    conv2d_forward=conv.conv2d_forward, conv2d_backward=conv.conv2d_backward,
    max_pool2d_forward=pool.max_pool2d_forward, max_pool2d_backward=pool.max_pool2d_backward,
    avg_pool2d_forward=pool.avg_pool2d_forward, avg_pool2d_backward=pool.avg_pool2d_backward,
    batch_norm_forward=norm.batch_norm_forward,
    batch_norm_backward=norm.batch_norm_backward,
    relu_backward=activation.relu_backward)

BACKENDS = pytest.mark.parametrize("kernels", [ref, fast], ids=["reference", "cpu"])
TOLERANCE = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-10)}
SWEEP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def as64(a):
    """a in float64 (None stays None): the oracle runs in float64, so only the fast kernel's rounding is tested."""
    return None if a is None else a.astype(np.float64)


def assert_close(actual, expected, dtype):
    assert actual.dtype == dtype and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, **TOLERANCE[dtype])


def array(rng, shape, dtype, layout="contiguous"):
    """Uniform(-1, 1) values of ``shape``, laid out contiguously, transposed (last two axes) or sliced (every other
    element of the last axis): the kernels must not depend on the memory layout."""
    if layout == "transposed":
        return rng.uniform(-1, 1, shape[:-2] + shape[:-3:-1]).astype(dtype).swapaxes(-1, -2)
    if layout == "sliced":
        return rng.uniform(-1, 1, shape[:-1] + (2 * shape[-1],)).astype(dtype)[..., ::2]
    return rng.uniform(-1, 1, shape).astype(dtype)


dtypes = st.sampled_from([np.float32, np.float64])
layouts = st.sampled_from(["contiguous", "transposed", "sliced"])


def pairs(lo, hi):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


@st.composite
def conv_cases(draw):
    groups = draw(st.sampled_from([1, 2, 4]))
    c_in, c_out = (groups * draw(st.integers(1, 8 // groups)) for _ in range(2))
    kernel, stride, padding, dilation = draw(pairs(1, 5)), draw(pairs(1, 3)), draw(pairs(0, 2)), draw(pairs(1, 2))
    # the smallest input with one output is d(k-1)+1-2p; go a few rows beyond it
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 4))
                 for k, p, d in zip(kernel, padding, dilation))
    x_shape = (draw(st.integers(1, 4)), c_in) + size
    w_shape = (c_out, c_in // groups) + kernel
    return x_shape, w_shape, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def every_window_touches_the_input(size, kernel, stride, padding, dilation, ceil_mode):
    """False when dilation lets a max-pool window fall wholly into the padding (torch returns -inf there)."""
    return all(any(0 <= o * s - p + d * t < n for t in range(k))
               for n, k, s, p, d in zip(size, kernel, stride, padding, dilation)
               for o in range(pool_output_size(n, k, s, p, d, ceil_mode)))


@st.composite
def pool_cases(draw, with_dilation):
    kernel = draw(pairs(1, 4))
    stride = draw(pairs(1, 3))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = draw(pairs(1, 2)) if with_dilation else (1, 1)
    size = tuple(max(1, d * (k - 1) + 1 - 2 * p) + draw(st.integers(0, 5))
                 for k, p, d in zip(kernel, padding, dilation))
    ceil_mode = draw(st.booleans())
    x_shape = (draw(st.integers(1, 4)), draw(st.integers(1, 8))) + size
    return x_shape, dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode), dilation


# ------------------------------------------------------------------------------------------ fast == reference

@SWEEP
@given(conv_cases(), dtypes, layouts, st.booleans(), st.integers(0, 2**32 - 1))
def test_conv2d_matches_reference(case, dtype, layout, with_bias, seed):
    x_shape, w_shape, args = case
    rng = np.random.default_rng(seed)
    x, w = array(rng, x_shape, dtype, layout), array(rng, w_shape, dtype)
    bias = array(rng, w_shape[:1], dtype) if with_bias else None
    args = tuple(args.values())
    out = fast.conv2d_forward(x, w, bias, *args)
    assert_close(out, ref.conv2d_forward(as64(x), as64(w), as64(bias), *args), dtype)
    grad_out = array(rng, out.shape, dtype, layout)
    for got, expected in zip(fast.conv2d_backward(grad_out, x, w, *args),
                             ref.conv2d_backward(as64(grad_out), as64(x), as64(w), *args)):
        assert_close(got, expected, dtype)


@SWEEP
@given(pool_cases(with_dilation=True), dtypes, layouts, st.integers(0, 2**32 - 1))
def test_max_pool2d_matches_reference(case, dtype, layout, seed):
    x_shape, args, dilation = case
    rng = np.random.default_rng(seed)
    x = array(rng, x_shape, dtype, layout)
    geometry = (args["kernel_size"], args["stride"], args["padding"], dilation, args["ceil_mode"])
    out, indices = fast.max_pool2d_forward(x, *geometry)
    expected_out, expected_indices = ref.max_pool2d_forward(x, *geometry)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, expected_indices)
    assert_close(out, expected_out, dtype)
    grad_out = array(rng, out.shape, dtype, layout)
    assert_close(fast.max_pool2d_backward(grad_out, indices, x.shape, *geometry[:4]),
                 ref.max_pool2d_backward(grad_out, indices, x.shape, *geometry[:4]), dtype)


@SWEEP
@given(pool_cases(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 3]), dtypes, layouts,
       st.integers(0, 2**32 - 1))
def test_avg_pool2d_matches_reference(case, count_include_pad, divisor_override, dtype, layout, seed):
    x_shape, args, _ = case
    rng = np.random.default_rng(seed)
    x = array(rng, x_shape, dtype, layout)
    geometry = tuple(args.values()) + (count_include_pad, divisor_override)
    out = fast.avg_pool2d_forward(x, *geometry)
    assert_close(out, ref.avg_pool2d_forward(x.astype(np.float64), *geometry), dtype)
    grad_out = array(rng, out.shape, dtype, layout)
    assert_close(fast.avg_pool2d_backward(grad_out, x.shape, *geometry),
                 ref.avg_pool2d_backward(grad_out.astype(np.float64), x.shape, *geometry), dtype)


@SWEEP
@given(st.sampled_from([(5, 3), (4, 2, 6), (2, 3, 4, 5), (3, 1, 2, 2, 2)]), st.booleans(), dtypes, layouts,
       st.integers(0, 2**32 - 1))
def test_batch_norm_matches_reference(shape, affine, dtype, layout, seed):
    rng = np.random.default_rng(seed)
    x = array(rng, shape, dtype, layout) * 3 + 1
    weight, bias = (array(rng, shape[1:2], dtype), array(rng, shape[1:2], dtype)) if affine else (None, None)
    out, mean, invstd = fast.batch_norm_forward(x, weight, bias, 1e-5)
    for got, expected in zip((out, mean, invstd), ref.batch_norm_forward(x.astype(np.float64), weight, bias, 1e-5)):
        assert_close(got, expected, dtype)
    grad_out = array(rng, shape, dtype, layout)
    for got, expected in zip(fast.batch_norm_backward(grad_out, x, weight, mean, invstd),
                             ref.batch_norm_backward(grad_out.astype(np.float64), x.astype(np.float64), weight,
                                                     mean, invstd)):
        assert_close(got, expected, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_sums_long_channels_far_from_zero(dtype):
    """Long channels (1517 values per image) with a mean large next to the spread still match the float64
    reference."""
    rng = np.random.default_rng(0)
    shape = (3, 2, 37, 41)
    x = (rng.standard_normal(shape) * 3 + 100).astype(dtype)
    weight, bias, grad_out = (array(rng, s, dtype) for s in ((2,), (2,), shape))
    out, mean, invstd = fast.batch_norm_forward(x, weight, bias, 1e-5)
    for got, expected in zip((out, mean, invstd), ref.batch_norm_forward(x.astype(np.float64), weight, bias, 1e-5)):
        assert_close(got, expected, dtype)
    for got, expected in zip(fast.batch_norm_backward(grad_out, x, weight, mean, invstd),
                             ref.batch_norm_backward(grad_out.astype(np.float64), x.astype(np.float64), weight,
                                                     mean, invstd)):
        assert_close(got, expected, dtype)


def test_batch_norm_statistics_accumulate_in_float64():
    """float32 channels whose squares overflow float32 (values near 1e20), or whose float32 sum rounds away from
    a constant, normalise as in float64 (as torch's CPU kernels, whose acc_type of float is double)."""
    x = np.zeros((4, 2, 3), dtype=np.float32)
    x[0, 0, 0] = 1e20              # channel 0: one outlier among 12, x_hat = sqrt(11) there, -1 / sqrt(11) elsewhere
    x[:, 1] = 3.4008632            # channel 1: a constant, x_hat = 0
    out, mean, invstd = fast.batch_norm_forward(x, None, None, 1e-5)
    expected = np.full(12, -(11 ** -0.5))
    expected[0] = 11 ** 0.5
    np.testing.assert_allclose(out[:, 0].ravel(), expected, rtol=1e-6)
    np.testing.assert_array_equal(out[:, 1], 0)
    grad_x, grad_weight, _ = fast.batch_norm_backward(np.ones_like(x), x, None, mean, invstd)
    assert np.isfinite(grad_weight).all() and np.isfinite(grad_x).all()


@pytest.mark.parametrize("x_shape, w_shape, padding", [
    ((1, 1, 1, 1), (1, 1, 1, 1), (0, 0)),   # 1x1 input
    ((2, 3, 1, 1), (4, 3, 3, 3), (1, 1)),   # 1x1 input, kernel equal to the padded input
    ((2, 2, 5, 4), (3, 2, 5, 4), (0, 0)),   # kernel equal to the input
    ((1, 2, 3, 2), (2, 2, 5, 4), (1, 1)),   # kernel equal to the padded input
])
def test_conv2d_edge_cases(x_shape, w_shape, padding):
    rng = np.random.default_rng(0)
    x, w = array(rng, x_shape, np.float64), array(rng, w_shape, np.float64)
    args = ((1, 1), padding, (1, 1), 1)
    out = fast.conv2d_forward(x, w, None, *args)
    assert_close(out, ref.conv2d_forward(x, w, None, *args), np.float64)
    grad_out = array(rng, out.shape, np.float64)
    for got, expected in zip(fast.conv2d_backward(grad_out, x, w, *args), ref.conv2d_backward(grad_out, x, w, *args)):
        assert_close(got, expected, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, padding, dilation", [
    ((2, 3, 7, 6), (4, 3, 3, 2), (1, 2), (1, 1)),
    ((1, 2, 9, 8), (3, 2, 2, 3), (0, 1), (2, 2)),
    ((3, 1, 5, 5), (2, 1, 5, 5), (0, 0), (1, 1)),   # kernel equal to the input
    ((2, 1, 1, 1), (2, 1, 3, 3), (1, 1), (1, 1)),   # 1x1 input, kernel equal to the padded input
    ((2, 2, 6, 7), (5, 2, 1, 4), (0, 1), (1, 2)),   # odd C_out, fewer taps than one pass of the weight gradient
])
@pytest.mark.parametrize("window", [0, 10**6], ids=["im2col", "direct"])
def test_conv2d_direct_and_im2col_paths_match_the_reference(monkeypatch, window, x_shape, w_shape, padding,
                                                             dilation, dtype):
    """Stride-1 convolutions run direct up to DIRECT_MAX_WINDOW values per window and on im2col + GEMM
    beyond it; both paths, forward and backward, against the reference."""
    monkeypatch.setattr(conv, "DIRECT_MAX_WINDOW", window)
    assert (conv.conv2d_route(x_shape, w_shape, (1, 1), dilation, 1) == "direct") == bool(window)
    rng = np.random.default_rng(1)
    x, w, b = array(rng, x_shape, dtype), array(rng, w_shape, dtype), array(rng, w_shape[:1], dtype)
    args = ((1, 1), padding, dilation, 1)
    out = fast.conv2d_forward(x, w, b, *args)
    assert_close(out, ref.conv2d_forward(as64(x), as64(w), as64(b), *args), dtype)
    grad_out = array(rng, out.shape, dtype)
    expected = ref.conv2d_backward(as64(grad_out), as64(x), as64(w), *args)
    for got, want in zip(fast.conv2d_backward(grad_out, x, w, *args), expected):
        assert_close(got, want, dtype)
    grad_x, *grads = fast.conv2d_backward(grad_out, x, w, *args, input_grad=False)  # direct: no margins then
    assert grad_x is None
    for got, want in zip(grads, expected[1:]):
        assert_close(got, want, dtype)


def test_each_convolution_takes_its_route():
    route = conv.conv2d_route
    assert route((64, 1, 28, 28), (10, 1, 5, 5), (1, 1), (1, 1), 1) == "direct"             # a 25-value window
    assert route((64, 10, 12, 12), (20, 10, 5, 5), (1, 1), (1, 1), 1) == "im2col + GEMM"    # 250 values
    assert route((64, 1, 28, 28), (10, 1, 5, 5), (2, 2), (1, 1), 1) == "im2col + GEMM"      # stride 2
    assert route((8, 4, 28, 28), (4, 2, 3, 3), (1, 1), (1, 1), 2) == "im2col + GEMM"        # groups
    assert route((8, 4, 28, 28), (8, 4, 1, 1), (1, 1), (1, 1), 1) == "im2col + GEMM"        # 1x1: columns = input
    assert route((8, 64, 56, 56), (64, 1, 3, 3), (1, 1), (1, 1), 64) == "depthwise"         # one channel per group
    assert route((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (1, 1), 1) == "winograd"          # a ResNet's 3x3
    assert route((8, 64, 56, 56), (64, 64, 3, 3), (1, 1), (2, 2), 1) == "im2col + GEMM"     # dilated
    assert route((8, 64, 56, 56), (64, 64, 3, 3), (2, 2), (1, 1), 1) == "im2col + GEMM"     # stride 2
    assert route((8, 20, 56, 56), (64, 20, 3, 3), (1, 1), (1, 1), 1) == "im2col + GEMM"     # 20 channels


def test_a_nan_input_spoils_only_the_weight_gradients_it_reaches():
    """The direct kernels' wide rows also pair the input with thrown-away columns; a NaN there must not reach
    the weight gradient of a tap whose windows never read it (the weight gradients then come from the GEMMs)."""
    x = np.zeros((1, 1, 6, 6), np.float32)
    x[0, 0, 0, 0] = np.nan
    weight, grad_out = np.ones((1, 1, 2, 3), np.float32), np.ones((1, 1, 6, 6), np.float32)
    args = ((1, 1), (1, 2), (2, 2), 1)  # stride, padding, dilation, groups: 'same' for a dilated 2x3 kernel
    assert conv.conv2d_route(x.shape, weight.shape, (1, 1), (2, 2), 1) == "direct"
    _, grad_weight, _ = conv.conv2d_backward(grad_out, x, weight, *args)
    _, expected, _ = ref.conv2d_backward(grad_out, x, weight, *args)
    np.testing.assert_array_equal(np.isnan(grad_weight), np.isnan(expected))
    assert np.isfinite(grad_weight).any()


@pytest.mark.parametrize("x_shape, kernel, padding, ceil_mode", [
    ((1, 1, 1, 1), (1, 1), (0, 0), False),
    ((1, 2, 1, 1), (2, 2), (1, 1), True),
    ((2, 1, 3, 3), (3, 3), (0, 0), True),   # kernel equal to the input
    ((1, 1, 2, 2), (4, 4), (1, 1), False),  # kernel equal to the padded input
])
def test_pool_edge_cases(x_shape, kernel, padding, ceil_mode):
    x = array(np.random.default_rng(0), x_shape, np.float64)
    geometry = (kernel, kernel, padding)
    np.testing.assert_array_equal(fast.max_pool2d_forward(x, *geometry, (1, 1), ceil_mode)[1],
                                  ref.max_pool2d_forward(x, *geometry, (1, 1), ceil_mode)[1])
    for count_include_pad in (False, True):
        assert_close(fast.avg_pool2d_forward(x, *geometry, ceil_mode, count_include_pad, None),
                     ref.avg_pool2d_forward(x, *geometry, ceil_mode, count_include_pad, None), np.float64)


@BACKENDS
def test_pooling_an_empty_batch(kernels):
    """No planes at all (N = 0): empty outputs, and gradients of the input's (empty) shape."""
    x = np.zeros((0, 3, 4, 4))
    out, indices = kernels.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    assert out.shape == indices.shape == (0, 3, 2, 2)
    geometry = ((2, 2), (2, 2), (0, 0), (1, 1))
    assert kernels.max_pool2d_backward(np.zeros(out.shape), indices, x.shape, *geometry).shape == x.shape
    out = kernels.avg_pool2d_forward(x, (2, 2), (2, 2), (0, 0), False, True, None)
    assert out.shape == (0, 3, 2, 2)
    assert kernels.avg_pool2d_backward(out, x.shape, (2, 2), (2, 2), (0, 0), False, True, None).shape == x.shape


@pytest.mark.parametrize("size", [(4, 6), (5, 7), (2, 3), (9, 2)])
@pytest.mark.parametrize("ceil_mode", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d_2x2_windows_match_reference(size, ceil_mode, dtype):
    """2x2 windows of stride 2 take loops of their own (_max_pool_2x2): held to the reference on even and odd sizes
    (an odd last row or column belongs to no window, or with ceil_mode to an overhanging one, which takes the
    general loop), with ties, -inf and NaN, on a transposed input too."""
    rng = np.random.default_rng(sum(size) + ceil_mode)
    x = rng.integers(-2, 2, (3, 4) + size).astype(dtype)  # small integers: many ties
    x[rng.random(x.shape) < 0.1] = np.nan
    x[rng.random(x.shape) < 0.1] = -np.inf
    for layout in (x, np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)):
        geometry = ((2, 2), (2, 2), (0, 0), (1, 1))
        out, indices = fast.max_pool2d_forward(layout, *geometry, ceil_mode)
        expected_out, expected_indices = ref.max_pool2d_forward(layout, *geometry, ceil_mode)
        np.testing.assert_array_equal(indices, expected_indices)
        np.testing.assert_array_equal(out, expected_out)
        grad_out = rng.standard_normal(out.shape).astype(dtype)
        np.testing.assert_array_equal(fast.max_pool2d_backward(grad_out, indices, x.shape, *geometry),
                                      ref.max_pool2d_backward(grad_out, indices, x.shape, *geometry))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_backward_matches_reference(dtype):
    """Zeros where out <= 0 whatever the gradient (inf and NaN included), the gradient where out > 0 or is NaN; on
    a transposed gradient and a broadcast one too."""
    rng = np.random.default_rng(5)
    out = np.maximum(rng.standard_normal((3, 4, 5)), 0).astype(dtype)
    out[0, 0, :2] = np.nan
    grad = rng.standard_normal(out.shape).astype(dtype)
    grad.flat[rng.choice(grad.size, 12, replace=False)] = [np.inf, -np.inf, np.nan] * 4
    transposed = np.ascontiguousarray(grad.transpose(2, 1, 0)).transpose(2, 1, 0)
    for g in (grad, transposed, np.broadcast_to(grad[:1], grad.shape)):
        got = fast.relu_backward(g, out)
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, ref.relu_backward(g, out))
    np.testing.assert_array_equal(ref.relu_backward(np.full(3, np.inf, dtype), np.array([-1, 0, np.nan], dtype)),
                                  [0, 0, np.inf])


@BACKENDS
def test_max_pool2d_ties_and_nan(kernels):
    """Ties go to the first maximum in row-major order; a NaN makes its window NaN, with the last NaN's index
    (torch's rules)."""
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 2, 3] = x[0, 0, 3, 2] = np.nan
    out, indices = kernels.max_pool2d_forward(x, (2, 2), (2, 2), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(indices[0, 0], [[0, 2], [8, 14]])
    np.testing.assert_array_equal(out[0, 0], [[0, 0], [0, np.nan]])


# ----------------------------------------------------------------------------------------------- gradcheck

def numeric_gradient(loss, x, eps=1e-6):
    """Central differences (loss(x + eps e_i) - loss(x - eps e_i)) / 2eps, one coordinate of x at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        saved = x[index]
        x[index] = saved + eps
        plus = loss()
        x[index] = saved - eps
        minus = loss()
        x[index] = saved
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@BACKENDS
@pytest.mark.parametrize("stride, padding, dilation, groups", [((1, 1), (0, 0), (1, 1), 1),
                                                              ((1, 1), (1, 2), (2, 1), 1),
                                                              ((2, 1), (1, 2), (1, 2), 2)])
def test_conv2d_gradcheck(kernels, stride, padding, dilation, groups):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((2, 2 // groups, 2, 3)), rng.standard_normal(2)
    args = (stride, padding, dilation, groups)
    out = kernels.conv2d_forward(x, w, b, *args)
    upstream = rng.standard_normal(out.shape)
    loss = lambda: (kernels.conv2d_forward(x, w, b, *args) * upstream).sum()  # noqa: E731
    grads = kernels.conv2d_backward(upstream, x, w, *args)
    for analytic, variable in zip(grads, (x, w, b)):
        np.testing.assert_allclose(analytic, numeric_gradient(loss, variable), rtol=1e-6, atol=1e-7)


@BACKENDS
def test_max_pool2d_gradcheck(kernels):
    rng = np.random.default_rng(4)
    x = rng.permutation(2 * 5 * 5).reshape(1, 2, 5, 5) / 10.0  # distinct values: no ties, no kinks at +-eps
    geometry = ((3, 2), (2, 1), (1, 1), (1, 2), True)
    out, indices = kernels.max_pool2d_forward(x, *geometry)
    upstream = rng.standard_normal(out.shape)
    loss = lambda: (kernels.max_pool2d_forward(x, *geometry)[0] * upstream).sum()  # noqa: E731
    np.testing.assert_allclose(kernels.max_pool2d_backward(upstream, indices, x.shape, *geometry[:4]),
                               numeric_gradient(loss, x), rtol=1e-6, atol=1e-7)


@BACKENDS
@pytest.mark.parametrize("count_include_pad, divisor_override", [(True, None), (False, None), (True, 5)])
def test_avg_pool2d_gradcheck(kernels, count_include_pad, divisor_override):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 2, 5, 4))
    geometry = ((3, 2), (2, 2), (1, 1), True, count_include_pad, divisor_override)
    upstream = rng.standard_normal(kernels.avg_pool2d_forward(x, *geometry).shape)
    loss = lambda: (kernels.avg_pool2d_forward(x, *geometry) * upstream).sum()  # noqa: E731
    np.testing.assert_allclose(kernels.avg_pool2d_backward(upstream, x.shape, *geometry),
                               numeric_gradient(loss, x), rtol=1e-6, atol=1e-7)


@BACKENDS
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 2, 3)])
def test_batch_norm_gradcheck(kernels, shape):
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal(shape), rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    upstream = rng.standard_normal(shape)
    loss = lambda: (kernels.batch_norm_forward(x, w, b, 1e-5)[0] * upstream).sum()  # noqa: E731
    _, mean, invstd = kernels.batch_norm_forward(x, w, b, 1e-5)
    grads = kernels.batch_norm_backward(upstream, x, w, mean, invstd)
    for analytic, variable in zip(grads, (x, w, b)):
        np.testing.assert_allclose(analytic, numeric_gradient(loss, variable), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ fast == torch

TORCH_SWEEP = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def torch_grads(torch, fn, *arrays):
    """fn's output and the gradients of (output * upstream).sum() for each array, by torch autograd."""
    tensors = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    upstream = np.random.default_rng(7).standard_normal(tuple(out.shape)).astype(arrays[0].dtype)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), upstream, [None if t is None else t.grad.numpy() for t in tensors]


@TORCH_SWEEP
@given(conv_cases(), dtypes, st.integers(0, 2**32 - 1))
def test_conv2d_matches_torch(case, dtype, seed):
    torch = pytest.importorskip("torch")
    x_shape, w_shape, args = case
    rng = np.random.default_rng(seed)
    x, w, b = array(rng, x_shape, dtype), array(rng, w_shape, dtype), array(rng, w_shape[:1], dtype)
    expected, upstream, grads = torch_grads(torch, lambda *t: torch.nn.functional.conv2d(*t, **args), x, w, b)
    args = tuple(args.values())
    assert_close(fast.conv2d_forward(x, w, b, *args), expected, dtype)
    for got, want in zip(fast.conv2d_backward(upstream, x, w, *args), grads):
        assert_close(got, want, dtype)


@TORCH_SWEEP
@given(pool_cases(with_dilation=True), dtypes, st.integers(0, 2**32 - 1))
def test_max_pool2d_matches_torch(case, dtype, seed):
    torch = pytest.importorskip("torch")
    x_shape, args, dilation = case
    # torch's backward writes past the gradient when a window misses the input (the index is past the plane)
    assume(every_window_touches_the_input(x_shape[2:], args["kernel_size"], args["stride"], args["padding"], dilation,
                                          args["ceil_mode"]))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 3, x_shape).astype(dtype)  # small integers: many ties
    x[rng.random(x_shape) < 0.05] = np.nan
    tx = torch.tensor(x)
    expected, expected_indices = torch.nn.functional.max_pool2d(tx, dilation=dilation, return_indices=True, **args)
    out, indices = fast.max_pool2d_forward(x, args["kernel_size"], args["stride"], args["padding"], dilation,
                                           args["ceil_mode"])
    np.testing.assert_array_equal(out, expected.numpy())
    np.testing.assert_array_equal(indices, expected_indices.numpy())
    _, upstream, (grad,) = torch_grads(torch, lambda t: torch.nn.functional.max_pool2d(t, dilation=dilation, **args),
                                       x)
    geometry = (args["kernel_size"], args["stride"], args["padding"], dilation)
    assert_close(fast.max_pool2d_backward(upstream, indices, x.shape, *geometry), grad, dtype)


@TORCH_SWEEP
@given(pool_cases(with_dilation=False), st.booleans(), st.sampled_from([None, 1, 3]), dtypes,
       st.integers(0, 2**32 - 1))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override, dtype, seed):
    torch = pytest.importorskip("torch")
    x_shape, args, _ = case
    x = array(np.random.default_rng(seed), x_shape, dtype)
    options = dict(args, count_include_pad=count_include_pad, divisor_override=divisor_override)
    expected, upstream, (grad,) = torch_grads(torch, lambda t: torch.nn.functional.avg_pool2d(t, **options), x)
    geometry = tuple(args.values()) + (count_include_pad, divisor_override)
    assert_close(fast.avg_pool2d_forward(x, *geometry), expected, dtype)
    assert_close(fast.avg_pool2d_backward(upstream, x.shape, *geometry), grad, dtype)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_matches_torch(shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    x, w, b = array(rng, shape, dtype) * 2 + 1, array(rng, shape[1:2], dtype), array(rng, shape[1:2], dtype)
    train = lambda tx, tw, tb: torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True)  # noqa: E731
    expected, upstream, grads = torch_grads(torch, train, x, w, b)
    out, mean, invstd = fast.batch_norm_forward(x, w, b, 1e-5)
    assert_close(out, expected, dtype)
    for got, want in zip(fast.batch_norm_backward(upstream, x, w, mean, invstd), grads):
        assert_close(got, want, dtype)


# ------------------------------------------------------------------------------------- the Winograd route

@st.composite
def winograd_cases(draw):
    """3x3 convolutions with stride 1 and at least WINOGRAD_MIN_CHANNELS input channels: odd and even outputs,
    paddings 0 to 2."""
    padding = draw(pairs(0, 2))
    size = tuple(max(1, 3 - 2 * p) + draw(st.integers(0, 5)) for p in padding)
    x_shape = (draw(st.integers(1, 3)), conv.WINOGRAD_MIN_CHANNELS + draw(st.integers(0, 4))) + size
    return x_shape, (draw(st.integers(1, 5)), x_shape[1], 3, 3), ((1, 1), padding, (1, 1), 1)


@SWEEP
@given(winograd_cases(), dtypes, layouts, st.booleans(), st.booleans(), st.integers(0, 2**32 - 1))
def test_winograd_matches_reference(case, dtype, layout, with_bias, input_grad, seed):
    x_shape, w_shape, args = case
    assert conv.conv2d_route(x_shape, w_shape, (1, 1), (1, 1), 1) == "winograd"
    rng = np.random.default_rng(seed)
    x, w = array(rng, x_shape, dtype, layout), array(rng, w_shape, dtype)
    bias = array(rng, w_shape[:1], dtype) if with_bias else None
    out = fast.conv2d_forward(x, w, bias, *args)
    assert_close(out, ref.conv2d_forward(as64(x), as64(w), as64(bias), *args), dtype)
    grad_out = array(rng, out.shape, dtype, layout)
    got = fast.conv2d_backward(grad_out, x, w, *args, input_grad=input_grad)
    expected = ref.conv2d_backward(as64(grad_out), as64(x), as64(w), *args)
    assert (got[0] is None) == (not input_grad)
    for got_grad, expected_grad in zip(got, expected):
        if got_grad is not None:
            assert_close(got_grad, expected_grad, dtype)


def test_chunks_take_half_the_last_level_cache(tmp_path, monkeypatch):
    """Linux's cache sizes ('48K', '2048K', '8M') are read from sysfs, the largest wins, and a chunk of a batch
    takes half of it, within 4 to 32 MiB; 4 MiB where the system does not say."""
    for index, size in enumerate(["48K", "2048K", "8M", "oops"]):
        (tmp_path / f"index{index}").mkdir()
        (tmp_path / f"index{index}" / "size").write_text(size + "\n")
    assert scratch.last_level_cache_bytes(tmp_path) == 8 << 20
    assert scratch.last_level_cache_bytes(tmp_path / "missing") is None
    mib = 1 << 20
    assert [scratch.chunk_bytes_for(size) for size in (None, 2 * mib, 8 * mib, 32 * mib, 260 * mib)] == \
        [4 * mib, 4 * mib, 4 * mib, 16 * mib, 32 * mib]
    monkeypatch.setattr(scratch, "CHUNK_BYTES", 4 * mib)
    assert scratch.batch_chunks(5, 3 * mib // 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
    assert scratch.batch_chunks(2, 5 * mib) == [slice(0, 1), slice(1, 2)]  # an image bigger than a chunk: one each


@pytest.mark.filterwarnings("ignore:invalid value encountered in matmul:RuntimeWarning")  # as NumPy warns on GEMMs
@pytest.mark.parametrize("where", ["x", "weight", "grad_out", "bias"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_non_finite_value_reaches_only_the_values_that_read_it(where, value):
    """Winograd's transforms spread a NaN or inf over whole tiles (inf - inf); the results then come from the
    GEMMs, so every NaN, inf and finite value is the reference's (torch's)."""
    rng = np.random.default_rng(3)
    arrays = dict(x=array(rng, (2, 32, 6, 5), np.float64), weight=array(rng, (3, 32, 3, 3), np.float64),
                  bias=array(rng, (3,), np.float64), grad_out=array(rng, (2, 3, 6, 5), np.float64))
    arrays[where][(0,) * arrays[where].ndim] = value
    args = ((1, 1), (1, 1), (1, 1), 1)
    x, weight, bias, grad_out = arrays["x"], arrays["weight"], arrays["bias"], arrays["grad_out"]
    results = (fast.conv2d_forward(x, weight, bias, *args), *fast.conv2d_backward(grad_out, x, weight, *args))
    expected = (ref.conv2d_forward(x, weight, bias, *args), *ref.conv2d_backward(grad_out, x, weight, *args))
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)  # NaN where NaN, inf where inf
    assert any(np.isfinite(got).any() and not np.isfinite(got).all() for got in results)


def test_winograd_gradcheck():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((1, 32, 3, 4)), rng.standard_normal((2, 32, 3, 3)), rng.standard_normal(2)
    args = ((1, 1), (1, 0), (1, 1), 1)
    assert conv.conv2d_route(x.shape, w.shape, (1, 1), (1, 1), 1) == "winograd"
    upstream = rng.standard_normal(fast.conv2d_forward(x, w, b, *args).shape)
    loss = lambda: (fast.conv2d_forward(x, w, b, *args) * upstream).sum()  # noqa: E731
    for analytic, variable in zip(fast.conv2d_backward(upstream, x, w, *args), (x, w, b)):
        np.testing.assert_allclose(analytic, numeric_gradient(loss, variable), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_matches_torch(dtype):
    """A ResNet block's 3x3 convolution at a small size, forward and backward, against torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x, w, b = array(rng, (2, 32, 9, 8), dtype), array(rng, (16, 32, 3, 3), dtype), array(rng, (16,), dtype)
    expected, upstream, grads = torch_grads(torch, lambda *t: torch.nn.functional.conv2d(*t, padding=1), x, w, b)
    args = ((1, 1), (1, 1), (1, 1), 1)
    assert_close(fast.conv2d_forward(x, w, b, *args), expected, dtype)
    for got, want in zip(fast.conv2d_backward(upstream, x, w, *args), grads):
        assert_close(got, want, dtype)


# (route, what forward leaves, input channels, stride, dtype): a strided 3x3 runs im2col + GEMM, a stride-1 3x3
# with 32 input channels Winograd
WORKSPACE_ROUTES = [("im2col + GEMM", "columns", 2, (1, 2), np.float32), ("winograd", "tiles", 32, (1, 1), np.float64)]


@pytest.mark.parametrize("route, name, c_in, stride, dtype", WORKSPACE_ROUTES, ids=[r[0] for r in WORKSPACE_ROUTES])
@pytest.mark.parametrize("one_chunk", [True, False], ids=["one chunk", "one image per chunk"])
def test_backward_reuses_what_forward_left_in_the_workspace(monkeypatch, route, name, c_in, stride, dtype, one_chunk):
    """With a workspace, forward leaves its im2col columns (or Winograd tiles) for backward when the batch is one
    chunk, and keeps nothing when it went through one image at a time; backward takes them out and computes
    from them exactly what it computes anew, and both equal the reference."""
    monkeypatch.setattr(scratch, "CHUNK_BYTES", scratch.CHUNK_BYTES if one_chunk else 1)
    rng = np.random.default_rng(2)
    x, w, b = array(rng, (3, c_in, 7, 6), dtype), array(rng, (4, c_in, 3, 3), dtype), array(rng, (4,), dtype)
    args = (stride, (1, 0), (1, 1), 1)
    assert conv.conv2d_route(x.shape, w.shape, stride, (1, 1), 1) == route
    workspace = {}
    out = fast.conv2d_forward(x, w, b, *args, workspace=workspace)
    assert_close(out, ref.conv2d_forward(as64(x), as64(w), as64(b), *args), dtype)
    assert list(workspace) == ([name] if one_chunk else [])
    grad_out = array(rng, out.shape, dtype)
    fresh = fast.conv2d_backward(grad_out, x, w, *args)
    for got, anew, expected in zip(fast.conv2d_backward(grad_out, x, w, *args, workspace=workspace), fresh,
                                   ref.conv2d_backward(as64(grad_out), as64(x), as64(w), *args)):
        np.testing.assert_array_equal(got, anew)
        assert_close(got, expected, dtype)
    assert workspace == {}


def test_scratch_buffers_are_reused_smallest_first_and_bounded(monkeypatch):
    monkeypatch.setattr(scratch, "_kept", {})
    monkeypatch.setattr(scratch, "KEEP_BYTES", 1000)
    small, large = scratch.scratch("test", (10,), np.float32), scratch.scratch("test", (100,), np.float32)
    scratch.keep("test", large)
    scratch.keep("test", small)
    assert scratch.scratch("test", (2, 3), np.float32).base is small.base   # the smallest buffer that fits
    assert scratch.scratch("test", (50,), np.float64).base is large.base
    assert scratch._kept["test"] == []
    for array_ in (small, large, scratch.scratch("test", (200,), np.float32)):  # 40 + 400 + 800 bytes
        scratch.keep("test", array_)
    assert [buffer.nbytes for buffer in scratch._kept["test"]] == [800]        # the oldest went first
    scratch.keep("test", scratch.scratch("test", (300,), np.float32))           # 1200 bytes: over the limit alone
    assert scratch._kept["test"] == []


@pytest.mark.parametrize("policy", [None, "ACTIVE"])
def test_numba_threads_start_with_the_cpu_kernels_and_the_environment_is_left_as_it_was(policy):
    """Importing the CPU kernels starts Numba's thread pool, with OMP_WAIT_POLICY=PASSIVE set only for that
    moment unless the user had chosen a policy: afterwards the variable is as it was before."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    script = ("import os, numba, tensorlite.backends.cpu; "
              "print(os.environ.get('OMP_WAIT_POLICY'), numba.threading_layer())")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    seen_policy, layer = out.stdout.split()
    assert seen_policy == str(policy) and layer in ("omp", "tbb", "workqueue")


def test_scratch_buffers_are_never_shared_between_threads(monkeypatch):
    """Threads take and give back buffers of mixed sizes while the interpreter switches threads every
    microsecond: each array has its shape and keeps what its thread wrote until given back."""
    monkeypatch.setattr(scratch, "_kept", {})
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    errors = []

    def work(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(3000):
                shape = (int(rng.integers(1, 64)), 4)
                array = scratch.scratch("stress", shape, np.float32)
                array[...] = seed
                assert array.shape == shape and (array == seed).all()
                scratch.keep("stress", array)
        except Exception as err:  # noqa: BLE001 - reported below, from the main thread
            errors.append(err)

    try:
        threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert not errors, errors[:3]
