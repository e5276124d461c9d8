"""Functional layers and activations: gradcheck, torch parity, dropout's statistics, one_hot."""
import warnings

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.nn.functional as F
from tests.helpers import check_against_torch, check_gradients, make_inputs, torch_or_skip

rng = np.random.default_rng(0)

# name: (fn(F, *inputs), input shapes); the same lambda runs with tensorlite's and torch's functional module.
CASES = {
    "linear": (lambda F, x, w, b: F.linear(x, w, b), [(4, 3), (2, 3), (2,)]),
    "linear_batched_no_bias": (lambda F, x, w: F.linear(x, w), [(2, 4, 3), (5, 3)]),
    "relu": (lambda F, x: F.relu(x), [(3, 4)]),
    "leaky_relu": (lambda F, x: F.leaky_relu(x), [(3, 4)]),
    "leaky_relu_slope": (lambda F, x: F.leaky_relu(x, 0.2), [(3, 4)]),
    "sigmoid": (lambda F, x: F.sigmoid(x), [(3, 4)]),
    "tanh": (lambda F, x: F.tanh(x), [(3, 4)]),
    "softmax": (lambda F, x: F.softmax(x, dim=1), [(3, 4)]),
    "softmax_dim0": (lambda F, x: F.softmax(x, 0), [(3, 4)]),
    "log_softmax": (lambda F, x: F.log_softmax(x, dim=-1), [(2, 3, 4)]),
}


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, shapes = CASES[name]
    check_gradients(lambda *xs: fn(F, *xs), make_inputs(rng, *shapes))


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    torch = torch_or_skip()
    fn, shapes = CASES[name]
    check_against_torch(lambda *xs: fn(F, *xs), lambda *xs: fn(torch.nn.functional, *xs), make_inputs(rng, *shapes))


def test_flatten():
    x = tl.randn(2, 3, 4, 5)
    assert F.flatten(x).shape == (120,)
    assert F.flatten(x, 1).shape == (2, 60)
    assert F.flatten(x, 1, 2).shape == (2, 12, 5)


# --------------------------------------------------------------------- dropout
def seeded_dropout(p):
    """Dropout with the same mask on every call (gradcheck calls the function many times)."""

    def fn(x):
        tl.manual_seed(0)
        return F.dropout(x, p)

    return fn


@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_dropout_gradcheck(p):
    check_gradients(seeded_dropout(p), make_inputs(rng, (4, 5)))


def test_dropout_scales_kept_values_and_zeroes_the_rest():
    x = tl.ones(200, 100)
    tl.manual_seed(1)
    y = F.dropout(x, 0.2).numpy()
    assert set(np.unique(y).tolist()) == {0.0, np.float32(1 / 0.8)}
    assert abs((y == 0).mean() - 0.2) < 0.01
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expectation


def test_dropout_gradient_follows_the_mask():
    x = tl.randn(6, 7, requires_grad=True)
    tl.manual_seed(3)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (y.detach().numpy() != 0) * 2.0)


def test_dropout_identity_when_not_training_or_p_zero():
    x = tl.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_bad_probability(p):
    with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
        F.dropout(tl.ones(2), p)


# --------------------------------------------------------------------- one_hot and softmax defaults
def test_one_hot():
    out = F.one_hot(tl.tensor([[0, 2], [1, 1]]))
    assert out.dtype is tl.int64 and out.shape == (2, 2, 3)
    assert out.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 1, 0]]]
    assert F.one_hot(tl.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]


@pytest.mark.parametrize(
    "labels, num_classes, message",
    [
        (tl.tensor([0.0, 1.0]), -1, "index tensor of type LongTensor"),
        (tl.tensor([0, 3]), 3, "Class values must be smaller than num_classes."),
        (tl.tensor([0, -1]), 3, "Class values must be non-negative."),
        (tl.tensor([], dtype=tl.int64), -1, "Can not infer total number of classes from empty tensor."),
    ],
)
def test_one_hot_errors(labels, num_classes, message):
    with pytest.raises(RuntimeError, match=message):
        F.one_hot(labels, num_classes)


def test_softmax_without_dim_warns_and_uses_torch_default():
    x = tl.randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = F.softmax(x)
    np.testing.assert_allclose(y.numpy(), x.softmax(1).numpy())


# ------------------------------------------------------------------ torch's edge cases (the conformance harness)
def test_interpolate_to_an_empty_size():
    with pytest.raises(RuntimeError, match=r"Input and output sizes should be greater than 0, but got input "
                                           r"\(H: 1, W: 2\) output \(H: 0, W: 1\)"):
        F.interpolate(tl.ones(1, 1, 1, 2), scale_factor=0.5)


def test_one_hot_of_an_empty_tensor_needs_a_positive_num_classes():
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor."):
        F.one_hot(tl.zeros(2, 0, dtype=tl.int64), 0)
    assert F.one_hot(tl.zeros(2, 0, dtype=tl.int64), 3).shape == (2, 0, 3)


@pytest.mark.parametrize("dtype, name", [(tl.int64, "Long"), (tl.uint8, "Byte"), (tl.bool, "Bool")])
def test_leaky_relu_refuses_integers(dtype, name):
    with pytest.raises(NotImplementedError, match=f"\"leaky_relu_cpu\" not implemented for '{name}'"):
        F.leaky_relu(tl.zeros(2, dtype=dtype))


def test_linear_bias_dtype():
    """A 2-D input (torch's addmm) or a 1-D bias needs the bias in the weight's dtype; another bias is added in
    place, so the output keeps x W^T's dtype."""
    x, w = tl.ones(2, 3), tl.ones(4, 3)
    with pytest.raises(RuntimeError, match="self and mat2 must have the same dtype, but got Double and Float"):
        F.linear(x, w, tl.ones(4, dtype=tl.float64))
    assert F.linear(tl.ones(2, 2, 3), w, tl.ones(2, 4, dtype=tl.float64)).dtype is tl.float32


@pytest.mark.parametrize("bias_shape", [(), (1, 2), (4, 2), (3, 2), (1, 4, 2)])
def test_linear_of_a_matrix_takes_any_bias_that_expands_to_the_output_as_torchs_addmm(bias_shape):
    """One AddmmBackward0 node, its bias gradient summed to the bias's shape; a bias that does not expand to
    (4, 2) is refused, as torch refuses it (a (1, 4, 2) bias was once broadcast to a 3-D output)."""
    torch = torch_or_skip()
    results = []
    for lib in (tl, torch):
        x, w = lib.ones(4, 3, requires_grad=True), lib.ones(2, 3, requires_grad=True)
        b = lib.ones(bias_shape, requires_grad=True)
        try:
            y = lib.nn.functional.linear(x, w, b)
        except RuntimeError:
            results.append("refused")
            continue
        (y * lib.arange(8.0).reshape(4, 2)).sum().backward()
        results.append((y.grad_fn.name(), y.tolist(), b.grad.tolist(), x.grad.tolist(), w.grad.tolist()))
    assert results[0] == results[1]


def test_softplus_of_large_inputs_warns_of_no_overflow():
    """Past the threshold softplus is x itself; exp is taken of what is kept only, so NumPy has no overflow to
    report (torch prints nothing either)."""
    x = tl.tensor([-1000.0, 0.0, 30.0, 1000.0, float("inf")], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.softplus(x)
        out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), [0.0, np.log(2.0), 30.0, 1000.0, np.inf])
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 1.0, 1.0, 1.0])
