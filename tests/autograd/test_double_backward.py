"""Second derivatives (``create_graph=True``) through convolution, pooling, normalisation, softmax and the losses.

Without torch: gradcheck (float64) of each Function that a create_graph backward builds (the convolution's input
and weight gradients, the pooling gradients), gradgradcheck of the ops, and torch's grad_fn names. With torch: a
gradient-penalty program, g = d loss / d inputs with create_graph, then (g * g).sum().backward(), gives every
leaf torch's .grad; and a gradient-penalty training step of a small CNN gives torch's parameters.
"""
import numpy as np
import pytest

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn
from tensorlite.ops.conv import ConvInputGrad, ConvWeightGrad
from tensorlite.ops.pool import AvgPool2dBackward, MaxPool2dBackward
from tests.helpers import torch_or_skip


def _is_tl(t):
    return isinstance(t, tl.Tensor)


def _F(t):
    return F if _is_tl(t) else torch_or_skip().nn.functional


def _const(like, array):
    """``array`` as a constant tensor of ``like``'s library."""
    return tl.tensor(array) if _is_tl(like) else torch_or_skip().tensor(array)


def _scalar(out):
    """A loss from an op's output, the sum of its cube: nonlinear, so that the op's gradient is differentiated
    in its incoming gradient too."""
    return (out * out * out).sum()


def _normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def _labels(n, classes):
    return lambda rng: rng.integers(0, classes, size=n)


def _in_unit_interval(*shape):
    return lambda rng: rng.uniform(0.05, 0.95, size=shape)


# Convolution geometries (x shape, weight shape, stride, padding, dilation, groups), one for each CPU kernel route:
# direct (stride 1, one group), im2col (padded; stride 2 with dilation 2 never reads every other input row),
# grouped im2col, 1x1, depthwise with a channel multiplier.
CONV_GEOMETRIES = {
    "direct": ((2, 3, 5, 5), (4, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1),
    "strided_dilated": ((2, 3, 8, 7), (4, 3, 3, 2), (2, 1), (1, 2), (2, 1), 1),
    "groups": ((2, 4, 5, 5), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 2),
    "one_by_one": ((2, 3, 4, 4), (2, 3, 1, 1), (1, 1), (0, 0), (1, 1), 1),
    "depthwise": ((2, 2, 6, 7), (4, 1, 3, 2), (2, 2), (1, 1), (1, 2), 2),
}


def _conv_case(x_shape, w_shape, stride, padding, dilation, groups):
    def fn(x, w, b):
        return _F(x).conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    return fn, [_normal(*x_shape), _normal(*w_shape), _normal(w_shape[0])], 3


def _cross_entropy_weighted(x, t):
    weight = _const(x, np.array([0.5, 2.0, 1.0, 1.5]))
    return _F(x).cross_entropy(x, t, weight, ignore_index=1, label_smoothing=0.2)


def _bce_with_logits(x, y):
    weight, pos_weight = _const(x, np.array([1.0, 0.5, 2.0])), _const(x, np.array([2.0, 1.0, 0.5]))
    return _F(x).binary_cross_entropy_with_logits(x, y, weight, pos_weight=pos_weight)


# name: (fn(*inputs) written against either library, input makers, how many leading inputs are differentiated)
CASES = {
    **{f"conv2d_{name}": _conv_case(*geometry) for name, geometry in CONV_GEOMETRIES.items()},
    "max_pool2d": (lambda x: _F(x).max_pool2d(x, 2), [_normal(2, 3, 6, 6)], 1),
    "max_pool2d_padding_dilation_ceil": (
        lambda x: _F(x).max_pool2d(x, (3, 2), stride=2, padding=1, dilation=(1, 2), ceil_mode=True),
        [_normal(1, 2, 7, 8)], 1,
    ),
    "avg_pool2d": (lambda x: _F(x).avg_pool2d(x, 3, stride=2, padding=1), [_normal(2, 2, 7, 6)], 1),
    "avg_pool2d_ceil_exclude_pad": (
        lambda x: _F(x).avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        [_normal(1, 2, 6, 6)], 1,
    ),
    "avg_pool2d_divisor_override": (lambda x: _F(x).avg_pool2d(x, 2, divisor_override=3), [_normal(1, 2, 4, 4)], 1),
    "adaptive_avg_pool2d": (lambda x: _F(x).adaptive_avg_pool2d(x, (2, 3)), [_normal(2, 2, 4, 6)], 1),
    "batch_norm_train": (
        lambda x, w, b: _F(x).batch_norm(x, None, None, w, b, training=True),
        [_normal(4, 3, 2, 2), _normal(3), _normal(3)], 3,
    ),
    "batch_norm_1d_no_affine": (lambda x: _F(x).batch_norm(x, None, None, training=True), [_normal(5, 4)], 1),
    "layer_norm": (
        lambda x, w, b: _F(x).layer_norm(x, (3, 4), w, b), [_normal(2, 3, 4), _normal(3, 4), _normal(3, 4)], 3,
    ),
    "group_norm": (lambda x, w, b: _F(x).group_norm(x, 2, w, b), [_normal(2, 4, 3, 3), _normal(4), _normal(4)], 3),
    "instance_norm": (lambda x: _F(x).instance_norm(x), [_normal(2, 3, 3, 3)], 1),
    "softmax": (lambda x: _F(x).softmax(x, 1), [_normal(3, 5)], 1),
    "log_softmax": (lambda x: _F(x).log_softmax(x, -1), [_normal(2, 3, 4)], 1),
    "relu": (lambda x: _F(x).relu(x), [_normal(3, 4)], 1),
    "cross_entropy": (lambda x, t: _F(x).cross_entropy(x, t), [_normal(4, 5), _labels(4, 5)], 1),
    "cross_entropy_sum": (lambda x, t: _F(x).cross_entropy(x, t, reduction="sum"), [_normal(4, 5), _labels(4, 5)], 1),
    "cross_entropy_weighted_ignored_smoothed": (_cross_entropy_weighted, [_normal(6, 4), _labels(6, 4)], 1),
    "cross_entropy_spatial": (lambda x, t: _F(x).cross_entropy(x, t), [_normal(2, 4, 3), _labels((2, 3), 4)], 1),
    "cross_entropy_probabilities": (
        lambda x, p: _F(x).cross_entropy(x, p.softmax(1)), [_normal(3, 4), _normal(3, 4)], 1,
    ),
    "nll_loss": (
        lambda x, t: _F(x).nll_loss(x.log_softmax(1), t, _const(x, np.array([1.0, 0.3, 2.0]))),
        [_normal(5, 3), _labels(5, 3)], 1,
    ),
    "mse_loss": (lambda x, y: _F(x).mse_loss(x.tanh(), y), [_normal(3, 4), _normal(3, 4)], 2),
    "l1_loss": (lambda x, y: _F(x).l1_loss(x * x, y, reduction="sum"), [_normal(3, 4), _normal(3, 4)], 1),
    "binary_cross_entropy": (
        lambda p, y: _F(p).binary_cross_entropy(p, y), [_in_unit_interval(2, 3), _in_unit_interval(2, 3)], 1,
    ),
    "binary_cross_entropy_with_logits": (_bce_with_logits, [_normal(2, 3), _in_unit_interval(2, 3)], 1),
}


def _arrays(makers, seed=0):
    rng = np.random.default_rng(seed)
    return [make(rng) for make in makers]


def _inputs(lib, arrays, n_diff):
    """Tensors of ``lib`` (tl or torch) for ``arrays``; the first ``n_diff`` require grad."""
    return [lib.tensor(a, requires_grad=i < n_diff) for i, a in enumerate(arrays)]


def _gradient_penalty(lib, fn, arrays, n_diff):
    """loss = fn(inputs); g = d loss / d (differentiated inputs), with create_graph; (sum of g * g).backward().
    Returns [loss, *g, *(each differentiated input's .grad)] as NumPy arrays (a missing .grad as zeros)."""
    inputs = _inputs(lib, arrays, n_diff)
    leaves = inputs[:n_diff]
    loss = _scalar(fn(*inputs))
    grads = lib.autograd.grad(loss, leaves, create_graph=True)
    sum((g * g).sum() for g in grads).backward()
    second = [np.zeros(x.shape) if x.grad is None else x.grad.detach().numpy() for x in leaves]
    return [loss.detach().numpy()] + [g.detach().numpy() for g in grads] + second


@pytest.mark.parametrize("name", CASES)
def test_gradient_penalty_equals_torch(name):
    torch = torch_or_skip()
    fn, makers, n_diff = CASES[name]
    arrays = _arrays(makers)
    got = _gradient_penalty(tl, fn, arrays, n_diff)
    expected = _gradient_penalty(torch, fn, arrays, n_diff)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize(
    "name",
    ["conv2d_strided_dilated", "conv2d_groups", "conv2d_depthwise", "max_pool2d_padding_dilation_ceil",
     "avg_pool2d_ceil_exclude_pad", "batch_norm_train", "layer_norm", "cross_entropy", "softmax", "log_softmax"],
)
def test_second_derivatives_pass_gradgradcheck(name):
    fn, makers, n_diff = CASES[name]
    arrays = _arrays(makers, seed=1)
    if name.startswith("conv2d"):  # one image, to keep the finite differences quick
        arrays = [arrays[0][:1]] + arrays[1:]
    tl.manual_seed(0)
    assert tl.autograd.gradgradcheck(fn, _inputs(tl, arrays, n_diff))


# ------------------------------------------------------------------ the Functions a create_graph backward builds
def _tensor64(rng, shape):
    return tl.tensor(rng.standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("name", CONV_GEOMETRIES)
def test_conv_input_and_weight_gradients_pass_gradcheck(name):
    x_shape, w_shape, *geometry = CONV_GEOMETRIES[name]
    rng = np.random.default_rng(2)
    x, w = _tensor64(rng, x_shape), _tensor64(rng, w_shape)
    out_shape = F.conv2d(x.detach(), w.detach(), None, *geometry).shape
    gy = _tensor64(rng, out_shape)
    assert tl.autograd.gradcheck(lambda gy, w: ConvInputGrad.apply(gy, w, x_shape, *geometry), [gy, w])
    assert tl.autograd.gradcheck(lambda x, gy: ConvWeightGrad.apply(x, gy, w_shape, *geometry), [x, gy])


def test_conv_input_and_weight_gradients_equal_the_fused_backward():
    x_shape, w_shape, *geometry = CONV_GEOMETRIES["groups"]
    rng = np.random.default_rng(3)
    x, w = _tensor64(rng, x_shape), _tensor64(rng, w_shape)
    out = F.conv2d(x, w, None, *geometry)
    gy = tl.tensor(rng.standard_normal(out.shape))
    out.backward(gy)
    grad_x = ConvInputGrad.apply(gy, w, x_shape, *geometry)
    grad_w = ConvWeightGrad.apply(x, gy, w_shape, *geometry)
    np.testing.assert_allclose(grad_x.detach().numpy(), x.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_w.detach().numpy(), w.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "pool_args", [((2, 2), (2, 2), (0, 0), (1, 1), False), ((3, 2), (2, 2), (1, 1), (1, 2), True)],
)
def test_max_pool_backward_passes_gradcheck(pool_args):
    rng = np.random.default_rng(4)
    x = tl.tensor(rng.standard_normal((2, 2, 7, 8)))
    _, indices = F.max_pool2d(x, *pool_args, return_indices=True)
    grad = _tensor64(rng, indices.shape)
    geometry = pool_args[:4]
    assert tl.autograd.gradcheck(lambda g: MaxPool2dBackward.apply(g, indices.numpy(), x.shape, *geometry), [grad])


@pytest.mark.parametrize(
    "pool_args",
    [((3, 3), (2, 2), (1, 1), False, True, None), ((3, 3), (2, 2), (1, 1), True, False, None),
     ((2, 2), (2, 2), (0, 0), False, True, 3)],
)
def test_avg_pool_backward_passes_gradcheck(pool_args):
    rng = np.random.default_rng(5)
    x_shape = (1, 2, 6, 7)
    out_shape = F.avg_pool2d(tl.zeros(x_shape, dtype=tl.float64), *pool_args).shape
    grad = _tensor64(rng, out_shape)
    assert tl.autograd.gradcheck(lambda g: AvgPool2dBackward.apply(g, x_shape, *pool_args), [grad])


# ------------------------------------------------------------------ torch's grad_fn names
@pytest.mark.parametrize(
    "name, forward_name, backward_name",
    [
        ("conv2d_groups", "ConvolutionBackward0", "ConvolutionBackwardBackward0"),
        ("max_pool2d", "MaxPool2DWithIndicesBackward0", "MaxPool2DWithIndicesBackwardBackward0"),
        ("avg_pool2d", "AvgPool2DBackward0", "AvgPool2DBackwardBackward0"),
        ("batch_norm_train", "NativeBatchNormBackward0", None),
        ("cross_entropy", "NllLossBackward0", None),
        ("softmax", "SoftmaxBackward0", None),
        ("log_softmax", "LogSoftmaxBackward0", None),
    ],
)
def test_grad_fn_names_are_torchs(name, forward_name, backward_name):
    fn, makers, n_diff = CASES[name]
    inputs = _inputs(tl, _arrays(makers), n_diff)
    out = fn(*inputs)
    assert out.grad_fn.name() == forward_name
    if backward_name is not None:
        (grad,) = tl.autograd.grad(_scalar(out), inputs[:1], create_graph=True)
        assert grad.grad_fn.name() == backward_name


# ------------------------------------------------------------------ a gradient-penalty training step
def _tiny_cnn(lib):
    nn_ = nn if lib is tl else lib.nn
    return nn_.Sequential(
        nn_.Conv2d(1, 3, 3, padding=1), nn_.ReLU(), nn_.MaxPool2d(2), nn_.BatchNorm2d(3), nn_.Flatten(),
        nn_.Linear(3 * 3 * 3, 4),
    ).double()


def _penalised_steps(lib, model, images, labels, steps=2, penalty=0.5):
    """SGD steps on loss + penalty * |d loss / d images|^2 (a WGAN-GP-style input-gradient penalty)."""
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        x = lib.tensor(images, requires_grad=True)
        loss = (F if lib is tl else lib.nn.functional).cross_entropy(model(x), lib.tensor(labels))
        (g,) = lib.autograd.grad(loss, x, create_graph=True)
        total = loss + penalty * (g * g).sum()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        losses.append(total.item())
    return losses


def test_gradient_penalty_training_step_of_a_cnn_equals_torch():
    torch = torch_or_skip()
    tl.manual_seed(0)
    model = _tiny_cnn(tl)
    reference = _tiny_cnn(torch)
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(6)
    images, labels = rng.standard_normal((4, 1, 6, 6)), rng.integers(0, 4, size=4)
    np.testing.assert_allclose(
        _penalised_steps(tl, model, images, labels), _penalised_steps(torch, reference, images, labels), rtol=1e-9
    )
    expected = reference.state_dict()
    for key, value in model.state_dict().items():
        np.testing.assert_allclose(value.numpy(), expected[key].numpy(), rtol=1e-8, atol=1e-10, err_msg=key)


def check_detached_operand_kept_apart(device):
    """x and x.detach() share one array: an op saving the detached operand must not differentiate through it.
    y = x * x.detach() * x, so dy/dx = 2 x x.detach() and the second derivative is 2 x.detach(), not 4 x."""
    x = tl.tensor([1.0, -2.0, 3.0], dtype=tl.float64, device=device, requires_grad=True)
    (g,) = tl.autograd.grad((x * x.detach() * x).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().cpu().numpy(), 2 * x.detach().cpu().numpy() ** 2)
    (gg,) = tl.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.cpu().numpy(), 2 * x.detach().cpu().numpy())
    (h,) = tl.autograd.grad((x.detach() * x).sum(), x, create_graph=True)
    assert not h.requires_grad  # the saved operand is the detached one: nothing left to differentiate


def test_a_tensor_beside_its_detached_self_keeps_them_apart():
    check_detached_operand_kept_apart("cpu")
