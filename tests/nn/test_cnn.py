"""CNN ops and layers: gradcheck in float64, values and gradients equal to torch's, torch-like errors."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.backends import reference
import tensorlite.nn.functional as F
from tensorlite import nn
from tests.helpers import check_against_torch, check_gradients, torch_or_skip


def _torch_F():
    return torch_or_skip().nn.functional


def _lib_F(t):
    return F if isinstance(t, tl.Tensor) else _torch_F()


# name: (fn(x, *params) written against either library's F, input shapes)
CASES = {
    "conv2d": (lambda x, w, b: _lib_F(x).conv2d(x, w, b), [(2, 3, 6, 5), (4, 3, 3, 2), (4,)]),
    "conv2d_stride_padding_dilation": (
        lambda x, w: _lib_F(x).conv2d(x, w, None, stride=(2, 1), padding=(1, 2), dilation=(2, 1)),
        [(1, 2, 7, 6), (3, 2, 2, 3)],
    ),
    "conv2d_groups": (lambda x, w: _lib_F(x).conv2d(x, w, groups=2, padding=1), [(2, 4, 5, 5), (6, 2, 3, 3)]),
    "conv2d_depthwise": (lambda x, w: _lib_F(x).conv2d(x, w, groups=3), [(1, 3, 5, 5), (3, 1, 3, 3)]),
    "conv2d_depthwise_multiplier_strided": (
        lambda x, w, b: _lib_F(x).conv2d(x, w, b, stride=2, padding=1, dilation=(1, 2), groups=2),
        [(2, 2, 6, 7), (4, 1, 3, 2), (4,)],
    ),
    "conv2d_same_even_kernel": (lambda x, w: _lib_F(x).conv2d(x, w, padding="same"), [(1, 2, 5, 6), (2, 2, 4, 2)]),
    "conv2d_unbatched": (lambda x, w: _lib_F(x).conv2d(x, w, padding=1), [(2, 4, 4), (3, 2, 3, 3)]),
    "conv2d_kernel_equals_padded_input": (lambda x, w: _lib_F(x).conv2d(x, w, padding=1), [(1, 1, 2, 3), (2, 1, 4, 5)]),
    "conv2d_one_by_one_input": (lambda x, w: _lib_F(x).conv2d(x, w), [(2, 3, 1, 1), (2, 3, 1, 1)]),
    "max_pool2d": (lambda x: _lib_F(x).max_pool2d(x, 2), [(2, 3, 6, 6)]),
    "max_pool2d_padding_dilation_ceil": (
        lambda x: _lib_F(x).max_pool2d(x, (3, 2), stride=2, padding=1, dilation=(1, 2), ceil_mode=True),
        [(1, 2, 7, 8)],
    ),
    "avg_pool2d": (lambda x: _lib_F(x).avg_pool2d(x, 3, stride=2, padding=1), [(2, 2, 7, 6)]),
    "avg_pool2d_ceil_exclude_pad": (
        lambda x: _lib_F(x).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        [(1, 2, 6, 6)],
    ),
    "avg_pool2d_divisor_override": (lambda x: _lib_F(x).avg_pool2d(x, 2, divisor_override=3), [(1, 1, 4, 4)]),
    "adaptive_avg_pool2d_divisible": (lambda x: _lib_F(x).adaptive_avg_pool2d(x, (2, 3)), [(2, 2, 4, 6)]),
    "adaptive_avg_pool2d_uneven": (lambda x: _lib_F(x).adaptive_avg_pool2d(x, 3), [(1, 2, 5, 7)]),
    "batch_norm_train": (
        lambda x, w, b: _lib_F(x).batch_norm(x, None, None, w, b, training=True),
        [(4, 3, 2, 2), (3,), (3,)],
    ),
    "batch_norm_1d": (lambda x: _lib_F(x).batch_norm(x, None, None, training=True), [(5, 4)]),
    "layer_norm": (lambda x, w, b: _lib_F(x).layer_norm(x, (3, 4), w, b), [(2, 3, 4), (3, 4), (3, 4)]),
    "group_norm": (lambda x, w, b: _lib_F(x).group_norm(x, 2, w, b), [(2, 4, 3, 3), (4,), (4,)]),
    "instance_norm": (lambda x: _lib_F(x).instance_norm(x), [(2, 3, 4, 4)]),
    "interpolate_nearest_scale": (lambda x: _lib_F(x).interpolate(x, scale_factor=2, mode="nearest"), [(1, 2, 3, 4)]),
    "interpolate_nearest_size": (lambda x: _lib_F(x).interpolate(x, size=(5, 3), mode="nearest"), [(1, 1, 3, 4)]),
    "pad": (lambda x: _lib_F(x).pad(x, (1, 2, 0, 1)), [(1, 2, 3, 3)]),
}


def _arrays(shapes, dtype):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck(name):
    fn, shapes = CASES[name]
    check_gradients(fn, _arrays(shapes, np.float64))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, shapes = CASES[name]
    check_against_torch(fn, fn, _arrays(shapes, np.float32), rtol=1e-4, atol=1e-5)


def test_max_pool2d_return_indices_match_torch():
    torch = torch_or_skip()
    x = np.random.default_rng(1).standard_normal((2, 3, 5, 5)).astype(np.float32)
    out, idx = F.max_pool2d(tl.tensor(x), 2, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())


def _copy_parameters(ours, theirs):
    import torch

    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


@pytest.mark.parametrize(
    "make",
    [
        lambda nn_: nn_.BatchNorm2d(3),
        lambda nn_: nn_.BatchNorm2d(3, momentum=None),
        lambda nn_: nn_.BatchNorm1d(3, affine=False),
        lambda nn_: nn_.InstanceNorm2d(3, affine=True, track_running_stats=True),
    ],
)
def test_running_statistics_match_torch_over_train_and_eval(make):
    torch = torch_or_skip()
    ours, theirs = make(nn), make(torch.nn)
    _copy_parameters(ours, theirs)
    rng = np.random.default_rng(2)
    shape = (4, 3) if isinstance(ours, nn.BatchNorm1d) else (4, 3, 3, 3)
    for _ in range(3):
        x = rng.standard_normal(shape).astype(np.float32) * 3 + 1
        np.testing.assert_allclose(ours(tl.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), rtol=1e-5, atol=1e-6, err_msg=key)
    ours.eval(), theirs.eval()
    x = rng.standard_normal(shape).astype(np.float32)
    np.testing.assert_allclose(ours(tl.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda nn_: nn_.Conv2d(3, 4, 3, stride=2, padding=1),
        lambda nn_: nn_.Conv2d(4, 4, (3, 1), groups=2, bias=False, padding="same"),
        lambda nn_: nn_.MaxPool2d(3, stride=1, padding=1),
        lambda nn_: nn_.AvgPool2d(2),
        lambda nn_: nn_.AdaptiveAvgPool2d(1),
        lambda nn_: nn_.LayerNorm([5, 5]),
        lambda nn_: nn_.GroupNorm(2, 4),
        lambda nn_: nn_.Upsample(scale_factor=2),
    ],
)
def test_layers_match_torch_and_have_torch_keys_and_repr(make):
    torch = torch_or_skip()
    ours, theirs = make(nn), make(torch.nn)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    _copy_parameters(ours, theirs)
    channels = getattr(ours, "in_channels", 4)
    x = np.random.default_rng(3).standard_normal((2, channels, 5, 5)).astype(np.float32)
    check_against_torch(lambda t: ours(t), lambda t: theirs(t), [x], rtol=1e-4, atol=1e-5)


def test_conv2d_init_bounds():
    conv = nn.Conv2d(3, 8, 5)
    bound = 1 / np.sqrt(3 * 5 * 5)
    assert float(conv.weight.abs().max()) <= bound and float(conv.bias.abs().max()) <= bound


def test_conv2d_second_backward_with_retain_graph_repeats_the_gradients():
    """The first backward takes the forward's columns out of the workspace; the second recomputes them."""
    rng = np.random.default_rng(4)
    x = tl.tensor(rng.standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = tl.tensor(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), requires_grad=True)
    out = (F.conv2d(x, w, padding=1) ** 2).sum()
    out.backward(retain_graph=True)
    first = (x.grad.numpy().copy(), w.grad.numpy().copy())
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), 2 * first[0])
    np.testing.assert_array_equal(w.grad.numpy(), 2 * first[1])


@pytest.mark.fast_kernels
def test_conv2d_keeps_its_columns_for_backward_only_when_the_call_is_recorded(monkeypatch):
    """Under no_grad the im2col columns go straight back to the CPU scratch pool; with grad they wait in the
    op's workspace until backward returns them."""
    from tensorlite.backends.cpu import scratch

    monkeypatch.setattr(scratch, "_kept", {})
    x, w = tl.ones(1, 1, 5, 5, requires_grad=True), tl.ones(1, 1, 3, 3, requires_grad=True)
    with tl.no_grad():
        out = F.conv2d(x, w, stride=2)  # stride 2: the im2col path (stride 1 and a small window run direct)
    assert out.grad_fn is None and out.tolist() == [[[[9.0, 9.0], [9.0, 9.0]]]]
    assert len(scratch._kept["columns"]) == 1
    scratch._kept.clear()
    out = F.conv2d(x, w, stride=2)
    assert scratch._kept.get("columns", []) == []
    out.sum().backward()
    assert len(scratch._kept["columns"]) == 1


def test_dropout2d_zeroes_whole_channels():
    tl.manual_seed(0)
    out = F.dropout2d(tl.ones(8, 16, 3, 3), p=0.5)
    per_channel = out.reshape(8, 16, 9)
    assert ((per_channel == 0).all(dim=2) | (per_channel == 2).all(dim=2)).all()
    assert nn.Dropout2d().eval()(tl.ones(1, 2, 2, 2)).tolist() == tl.ones(1, 2, 2, 2).tolist()


def test_dropout2d_of_3d_input_drops_per_sample_and_channel_as_torch():
    """torch reads a 3-D input as (N, C, L): the mask is (N, C, 1), with a warning; 2-D input is (N, C)."""
    tl.manual_seed(0)
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        out = F.dropout2d(tl.ones(64, 8, 5), p=0.5)
    assert ((out == 0).all(dim=2) | (out == 2).all(dim=2)).all()
    kept_per_sample = (out[:, :, 0] == 2).sum(dim=1)
    assert ((kept_per_sample > 0) & (kept_per_sample < 8)).any()  # not whole samples: channels within one differ
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        assert F.dropout2d(tl.ones(4, 6), p=0.5).shape == (4, 6)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.dropout2d(tl.ones(5), p=0.5)


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("shape", [(8, 8), (1, 1, 1, 8, 8)])
def test_conv2d_rejects_2d_and_5d_input(shape):
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d"):
        nn.Conv2d(1, 1, 3)(tl.ones(*shape))


def test_conv2d_channel_mismatch_names_shapes():
    with pytest.raises(RuntimeError, match=r"expected input\[1, 3, 8, 8\] to have 1 channels, but got 3 channels"):
        nn.Conv2d(1, 1, 3)(tl.ones(1, 3, 8, 8))


def test_conv2d_kernel_larger_than_padded_input():
    with pytest.raises(RuntimeError, match=r"padded input size per channel: \(4 x 4\). Kernel size: \(5 x 5\)"):
        nn.Conv2d(1, 1, 5, padding=1)(tl.ones(1, 1, 2, 2))


def test_conv2d_groups_must_divide_channels():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)


def test_conv2d_negative_padding_and_zero_stride():
    """As torch, the layer takes them and its call refuses them, as F.conv2d does."""
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        nn.Conv2d(1, 1, 3, padding=-1)(tl.ones(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        nn.Conv2d(1, 1, 3, stride=0)(tl.ones(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        F.conv2d(tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3), padding=-1)
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        F.conv2d(tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3), stride=0)


def test_conv2d_same_padding_with_stride():
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")


def test_pooling_padding_over_half_the_kernel():
    """torch's rules: the pad is checked against the kernel size, not the dilated one."""
    with pytest.raises(RuntimeError, match="pad should be smaller than or equal to half of kernel size, but got padW = 2"):
        F.max_pool2d(tl.ones(1, 1, 6, 6), 3, padding=2)
    with pytest.raises(RuntimeError, match="pad should be smaller than or equal to half of kernel size"):
        F.max_pool2d(tl.ones(1, 1, 2, 2), 2, stride=1, padding=2, dilation=3)  # used to write past the gradient
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size, but got pad=2, kernel_size=2"):
        F.avg_pool2d(tl.ones(1, 1, 6, 6), 2, padding=2)


def test_max_pool_window_wholly_in_the_padding_sends_its_gradient_nowhere():
    """k=2, padding=1, dilation=3 on 2x2: the one window's taps (-1 and 2) both miss the input, so its output is
    -inf with an index past the plane, as torch's; no backward kernel may write there."""
    x = tl.randn(1, 1, 2, 2, requires_grad=True)
    out, indices = F.max_pool2d(x, 2, stride=1, padding=1, dilation=3, return_indices=True)
    out.sum().backward()
    assert out.tolist() == [[[[float("-inf")]]]] and indices.tolist() == [[[[6]]]]
    assert x.grad.tolist() == [[[[0.0, 0.0], [0.0, 0.0]]]]
    grad_out, index = np.ones((1, 1, 1, 1), np.float32), np.array([[[[6]]]])
    assert not reference.max_pool2d_backward(grad_out, index, (1, 1, 2, 2), (2, 2), (1, 1), (1, 1), (3, 3)).any()


def test_pooling_output_too_small():
    with pytest.raises(RuntimeError, match=r"Given input size: \(1x2x2\). Calculated output size: \(1x0x0\). Output size is too small"):
        F.max_pool2d(tl.ones(1, 1, 2, 2), 3)


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size tensorlite.Size\(\[1, 10\]\)"):
        nn.BatchNorm1d(10)(tl.ones(1, 10))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(tl.ones(3, 4, 4))
    with pytest.raises(RuntimeError, match=r"running_mean should contain 4 elements not 3"):
        nn.BatchNorm2d(3)(tl.ones(2, 4, 4, 4))


# ------------------------------------------------------------------ torch's edge cases (the conformance harness)
def test_conv2d_kernel_of_size_zero_is_refused():
    with pytest.raises(RuntimeError, match="kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"):
        F.conv2d(tl.ones(1, 2, 4, 4), tl.ones(3, 2, 0, 0))


def test_conv2d_of_an_empty_batch_runs_no_kernel():
    """torch checks only the shapes of an empty batch: a zero dilation and a weight of another dtype pass, the
    output is input * weight[0, 0, 0, 0] + bias[0] (so an empty weight raises IndexError), the gradients zeros."""
    x = tl.ones(0, 2, 5, 5, requires_grad=True)
    w = tl.ones(3, 2, 2, 2, dtype=tl.float64, requires_grad=True)
    b = tl.ones(3, requires_grad=True)
    out = F.conv2d(x, w, b, dilation=0)
    assert out.shape == (0, 3, 5, 5) and out.dtype is tl.float32 and out.requires_grad
    out.sum().backward()
    assert w.grad.dtype is tl.float64 and not w.grad.any() and not b.grad.any()
    with pytest.raises(IndexError):
        F.conv2d(x, tl.ones(3, 2, 0, 0))


def test_conv2d_bias_dtype():
    """The bias must have the input's dtype. With an int padding torch checks it before anything else; with a
    string padding only its kernels do (they run on a non-empty batch; some of them cast the bias instead, which
    tensorlite does not)."""
    x, w, b64 = tl.ones(1, 2, 5, 5), tl.ones(3, 2, 3, 3), tl.zeros(3, dtype=tl.float64)
    with pytest.raises(RuntimeError, match=r"Input type \(float\) and bias type \(double\) should be the same"):
        F.conv2d(x, w, b64, stride=0)
    with pytest.raises(RuntimeError, match=r"Input type \(float\) and bias type \(double\) should be the same"):
        F.conv2d(x, w, b64, padding="same")
    assert F.conv2d(tl.ones(0, 2, 5, 5), w, b64, padding="same").shape == (0, 3, 5, 5)


def test_conv2d_padding_string_errors_are_runtime_errors():
    x, w = tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3)
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Invalid padding string: 'full'"):
        F.conv2d(x, w, padding="full")


def test_conv2d_weight_needs_an_output_channel_per_group():
    with pytest.raises(RuntimeError, match="expected weight to be at least 1"):
        F.conv2d(tl.ones(1, 2, 4, 4), tl.ones(0, 2, 1, 1))


def test_adaptive_avg_pool2d_to_an_empty_output():
    """Any dtype goes, since no kernel runs; as in torch, the backward refuses a zero output size, not an empty
    batch."""
    x = tl.ones(1, 2, 3, requires_grad=True)
    out = F.adaptive_avg_pool2d(x, 0)
    assert out.shape == (1, 0, 0) and out.requires_grad
    assert nn.AdaptiveAvgPool2d((0, 2))(tl.ones(1, 2, 3, dtype=tl.int64)).dtype is tl.int64
    with pytest.raises(RuntimeError, match="Expected grad_output to have non-zero size for non-batch dimensions"):
        out.sum().backward()
    x = tl.ones(0, 2, 4, 4, requires_grad=True)
    F.adaptive_avg_pool2d(x, 3).sum().backward()
    assert x.grad.shape == x.shape


def test_adaptive_avg_pool2d_refuses_integers():
    x = tl.ones(1, 1, 2, 3, dtype=tl.int32)
    with pytest.raises(NotImplementedError, match="\"adaptive_avg_pool2d\" not implemented for 'Int'"):
        F.adaptive_avg_pool2d(x, 2)
    with pytest.raises(RuntimeError, match="mean"):  # to 1 x 1, torch takes the mean over H and W
        F.adaptive_avg_pool2d(x, 1)


def test_max_pool2d_of_an_empty_batch_has_a_gradient():
    x = tl.zeros(0, 3, 6, 3, dtype=tl.float64, requires_grad=True)
    F.max_pool2d(x, 2, stride=1, ceil_mode=True).sum().backward()
    assert x.grad.shape == x.shape


def test_batch_norm_checks_channels_against_its_tensors():
    """As torch, the channels are checked against the running statistics and the affine parameters, not against
    num_features: a layer without either takes any number of channels."""
    with pytest.raises(RuntimeError, match="weight should contain 2 elements not 1"):
        nn.BatchNorm2d(1, track_running_stats=False)(tl.ones(3, 2, 1, 1))
    assert nn.BatchNorm2d(1, affine=False, track_running_stats=False)(tl.ones(3, 2, 1, 1)).shape == (3, 2, 1, 1)


def test_batch_norm_of_an_empty_batch():
    """No statistics and no running update: torch returns input * weight[0] + bias[0], an IndexError for an empty
    weight."""
    norm = nn.BatchNorm1d(3)
    norm(tl.ones(0, 3, requires_grad=True)).sum().backward()
    assert norm.running_mean.tolist() == [0, 0, 0] and norm.weight.grad.tolist() == [0, 0, 0]
    with pytest.raises(IndexError):
        F.batch_norm(tl.ones(0, 3), None, None, tl.ones(0), training=True)


def test_batch_norm_eps_must_be_positive_when_training():
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but got 0"):
        F.batch_norm(tl.ones(2, 3), None, None, training=True, eps=0)


def test_norm_statistics_of_float32_accumulate_in_float64():
    """A square near 1e40 overflows float32, not the float64 sums: one 1e20 among four values normalises to
    sqrt(3), as in torch (whose CPU acc_type of float is double)."""
    out = nn.BatchNorm1d(1, affine=False)(tl.tensor([[1e20], [0.0], [0.0], [0.0]]))
    np.testing.assert_allclose(out.numpy().ravel(), [3 ** 0.5] + [-(3 ** -0.5)] * 3, rtol=1e-6)
    np.testing.assert_allclose(F.group_norm(tl.tensor([[-0.0, 1e20]]), 1).numpy(), [[-1.0, 1.0]], rtol=1e-6)


def test_batch_norm_gradient_with_an_infinite_weight_is_infinite():
    """torch's grouping, (g - mean(g) - (x - mean) k) * invstd * weight: an infinite weight gives infinite
    gradients, not inf - inf = NaN."""
    x = tl.tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    out = F.batch_norm(x, None, None, tl.tensor([float("inf")]), None, training=True)
    (grad,) = tl.autograd.grad([out], [x], [tl.tensor([[1.0], [0.0], [0.0]])])
    assert np.isinf(grad.numpy()).all()


def test_layer_norm_of_empty_inputs():
    assert F.layer_norm(tl.ones(3, 0), (0,)).shape == (3, 0)
    weight = tl.ones(2, requires_grad=True)
    F.layer_norm(tl.ones(0, 2, requires_grad=True), (2,), weight).sum().backward()
    assert weight.grad.tolist() == [0, 0]


def test_layer_norm_checks_the_weight_shape():
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got weight "
                                           r"of shape \[3\] and normalized_shape = \[2\]"):
        F.layer_norm(tl.ones(4, 2), (2,), tl.ones(3))


def test_group_norm_needs_more_than_one_value_per_group():
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size \[1, 3\]"):
        F.group_norm(tl.ones(1, 3), 3)


def test_instance_norm_needs_more_than_one_spatial_element():
    """Even in evaluation, when the layer does not track running statistics (it then uses the input's)."""
    with pytest.raises(ValueError, match=r"Expected more than 1 spatial element when training, got input size "
                                         r"tensorlite.Size\(\[1, 1, 1, 1\]\)"):
        nn.InstanceNorm2d(1).eval()(tl.ones(1, 1, 1, 1))


def test_instance_norm_of_an_empty_batch():
    """Batch norm of the (1, N*C, H, W) view, every per-channel argument repeated N times: with N = 0 the affine
    weight is empty (IndexError), and in training the running statistics average no sample (NaN), as in torch."""
    with pytest.raises(IndexError):
        nn.InstanceNorm2d(2, affine=True)(tl.ones(0, 2, 3, 3))
    norm = nn.InstanceNorm2d(2, track_running_stats=True)
    assert norm(tl.ones(0, 2, 3, 3)).shape == (0, 2, 3, 3)
    assert np.isnan(norm.running_mean.numpy()).all() and np.isnan(norm.running_var.numpy()).all()
    norm = nn.InstanceNorm2d(2, track_running_stats=True).eval()
    norm(tl.ones(0, 2, 3, 3))
    assert norm.running_mean.tolist() == [0, 0]


def test_instance_norm_running_statistics_of_one_channel():
    norm = nn.InstanceNorm2d(1, track_running_stats=True, momentum=1.0)
    norm(tl.tensor([[[[1.0, 3.0]]], [[[2.0, 6.0]]]]))
    assert norm.running_mean.tolist() == [3.0]  # the mean of the planes' means, 2 and 4
    assert norm.running_var.tolist() == [5.0]  # the mean of their unbiased variances, 2 and 8


def test_batch_norm_running_variance_of_huge_values_is_finite():
    """The unbiased variance of this batch, 5.6e38, overflows a float32, but its momentum share does not: the
    running variance is updated in float64 and rounded once (it was inf; torch gives inf for a contiguous input
    and this value for a strided one)."""
    x = np.zeros((2, 1, 3, 3), np.float32)
    x[1, 0, 2, 0] = 1e20
    layer = nn.BatchNorm2d(1)
    layer(tl.tensor(x))
    expected = 0.9 * 1.0 + 0.1 * x.astype(np.float64).var(ddof=1)
    np.testing.assert_allclose(layer.running_var.numpy(), [expected], rtol=1e-6)
