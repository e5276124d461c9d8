"""Layers: shapes, torch's initialisation, and forward/backward equal to the same torch module's."""
import math

import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip

nn = tl.nn


def test_linear_shape():
    assert nn.Linear(10, 5)(tl.ones(3, 10)).shape == (3, 5)
    assert nn.Linear(10, 5)(tl.ones(2, 4, 10)).shape == (2, 4, 5)
    assert nn.Linear(10, 5)(tl.ones(10)).shape == (5,)


def test_linear_parameters():
    layer = nn.Linear(4, 3)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    no_bias = nn.Linear(4, 3, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    assert nn.Linear(4, 3, dtype=tl.float64).weight.dtype is tl.float64


def test_linear_init_is_uniform_within_one_over_sqrt_fan_in():
    tl.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
    assert np.abs(weight).max() > 0.99 * bound  # the whole interval is used
    np.testing.assert_allclose(weight.std(), bound / math.sqrt(3), rtol=0.01)  # std of U(-b, b)
    assert abs(weight.mean()) < 0.01 * bound


def test_linear_init_follows_the_seed():
    tl.manual_seed(7)
    first = nn.Linear(3, 2).weight.detach().numpy().copy()
    tl.manual_seed(7)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.detach().numpy(), first)


def test_linear_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x5 and 3x4\)"):
        nn.Linear(3, 4)(tl.ones(2, 5))


def test_flatten_unflatten():
    x = tl.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Unflatten(1, (3, 20))(nn.Flatten()(x)).shape == (2, 3, 20)
    assert nn.Unflatten(-1, (-1, 5))(tl.ones(2, 10)).shape == (2, 2, 5)
    with pytest.raises(RuntimeError, match=r"Provided sizes \[2, 4\] don't multiply up to the size of dim 1 \(6\)"):
        nn.Unflatten(1, (2, 4))(tl.ones(2, 6))


def test_dropout_layer_follows_train_and_eval():
    layer = nn.Dropout(0.5)
    x = tl.ones(50, 50)
    assert (layer(x).numpy() == 0).any()
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.2"):
        nn.Dropout(1.2)


def test_identity_returns_its_input():
    x = tl.randn(2)
    assert nn.Identity(54, unused="argument")(x) is x


# --------------------------------------------------------------------- parity with torch
# name: (make(nn) → module, input shape); the same lambda builds the tensorlite and the torch module.
LAYERS = {
    "Linear": (lambda nn: nn.Linear(6, 4), (3, 6)),
    "Linear_no_bias": (lambda nn: nn.Linear(6, 4, bias=False), (2, 5, 6)),
    "Identity": (lambda nn: nn.Identity(), (3, 4)),
    "Flatten": (lambda nn: nn.Flatten(), (2, 3, 4)),
    "Flatten_0_1": (lambda nn: nn.Flatten(0, 1), (2, 3, 4)),
    "Unflatten": (lambda nn: nn.Unflatten(1, (2, 3)), (4, 6)),
    "ReLU": (lambda nn: nn.ReLU(), (3, 4)),
    "LeakyReLU": (lambda nn: nn.LeakyReLU(0.2), (3, 4)),
    "Sigmoid": (lambda nn: nn.Sigmoid(), (3, 4)),
    "Tanh": (lambda nn: nn.Tanh(), (3, 4)),
    "Softplus": (lambda nn: nn.Softplus(beta=2.0, threshold=1.0), (3, 4)),
    "Softmax": (lambda nn: nn.Softmax(dim=1), (3, 4)),
    "LogSoftmax": (lambda nn: nn.LogSoftmax(-1), (2, 3, 4)),
    "Dropout_eval": (lambda nn: nn.Dropout(0.3).eval(), (3, 4)),
    "MLP": (lambda nn: nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 3)), (5, 3, 4)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch(name):
    """Same weights (copied from torch through state_dict), same input: same output, input grad, param grads."""
    torch = torch_or_skip()
    make, shape = LAYERS[name]
    theirs = make(torch.nn)
    ours = make(nn)
    ours.load_state_dict({k: tl.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    data = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x, tx = tl.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, tout = ours(x), theirs(tx)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = np.random.default_rng(1).standard_normal(tuple(tout.shape)).astype(np.float32)
    out.backward(tl.tensor(upstream))
    tout.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    for (name, p), (tname, tp) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        assert name == tname
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_repr_matches_torch(name):
    torch = torch_or_skip()
    make, _ = LAYERS[name]
    assert repr(make(nn)) == repr(make(torch.nn))


def test_layer_reprs():
    assert repr(nn.Linear(10, 5)) == "Linear(in_features=10, out_features=5, bias=True)"
    assert repr(nn.Linear(3, 4, bias=False)) == "Linear(in_features=3, out_features=4, bias=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 2))) == "Unflatten(dim=1, unflattened_size=(2, 2))"
    assert repr(nn.ReLU()) == "ReLU()" and repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)" and repr(nn.LogSoftmax()) == "LogSoftmax(dim=None)"
    assert repr(nn.Dropout()) == "Dropout(p=0.5, inplace=False)"
    assert repr(nn.Sigmoid()) == "Sigmoid()" and repr(nn.Tanh()) == "Tanh()" and repr(nn.Identity()) == "Identity()"
