"""SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta follow torch's update rules: after 20 steps on the same
problem the parameters agree."""
import re

import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip
from tests.optim.least_squares import LeastSquares, max_abs_difference

# (optimizer class name, options): the same call builds the tensorlite and the torch optimiser.
CONFIGS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.5)),
    "sgd_nesterov": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "sgd_weight_decay": ("SGD", dict(lr=0.1, momentum=0.5, weight_decay=0.1)),
    "sgd_dampening": ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    "sgd_all": ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    "adam": ("Adam", dict(lr=0.05)),
    "adam_betas_eps": ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    "adam_weight_decay": ("Adam", dict(lr=0.05, weight_decay=0.1)),
    "adam_amsgrad": ("Adam", dict(lr=0.05, amsgrad=True)),
    "adam_maximize": ("Adam", dict(lr=0.05, maximize=True, amsgrad=True)),
    "adamw": ("AdamW", dict(lr=0.05)),
    "adamw_weight_decay_amsgrad": ("AdamW", dict(lr=0.05, weight_decay=0.5, amsgrad=True)),
    "rmsprop": ("RMSprop", dict()),
    "rmsprop_alpha_eps": ("RMSprop", dict(lr=0.02, alpha=0.9, eps=1e-4)),
    "rmsprop_weight_decay": ("RMSprop", dict(weight_decay=0.1)),
    "rmsprop_momentum": ("RMSprop", dict(lr=0.01, momentum=0.9)),
    "rmsprop_centered": ("RMSprop", dict(lr=0.01, centered=True)),
    "rmsprop_centered_momentum": ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True)),
    "rmsprop_all": (
        "RMSprop", dict(lr=0.005, alpha=0.95, momentum=0.8, centered=True, weight_decay=0.05, maximize=True)
    ),
    "adagrad": ("Adagrad", dict(lr=0.1)),
    "adagrad_lr_decay": ("Adagrad", dict(lr=0.5, lr_decay=0.1)),
    "adagrad_weight_decay": ("Adagrad", dict(lr=0.1, weight_decay=0.2)),
    "adagrad_initial_accumulator": ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    "adagrad_all": (
        "Adagrad", dict(lr=0.2, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1, maximize=True)
    ),
    "adadelta": ("Adadelta", dict()),
    "adadelta_rho_eps": ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-3)),
    "adadelta_weight_decay": ("Adadelta", dict(weight_decay=0.1)),
    "adadelta_all": ("Adadelta", dict(lr=2.0, rho=0.95, eps=1e-5, weight_decay=0.05, maximize=True)),
}


def run_both(torch, name, options, steps=20, dtype="float64"):
    """The problem after ``steps`` steps of the named optimiser, in tensorlite and in torch."""
    ours, theirs = LeastSquares(tl, dtype), LeastSquares(torch, dtype)
    ours.train(getattr(tl.optim, name)(ours.params, **options), steps)
    theirs.train(getattr(torch.optim, name)(theirs.params, **options), steps)
    return ours, theirs


@pytest.mark.parametrize("config", CONFIGS)
def test_matches_torch_float64(config):
    torch = torch_or_skip()
    ours, theirs = run_both(torch, *CONFIGS[config])
    assert max_abs_difference(ours, theirs) < 1e-10


@pytest.mark.parametrize("config", ["sgd_momentum", "adam", "adamw", "rmsprop_all", "adagrad_all", "adadelta_all"])
def test_matches_torch_float32(config):
    torch = torch_or_skip()
    ours, theirs = run_both(torch, *CONFIGS[config], dtype="float32")
    assert ours.params[0].dtype is tl.float32
    # float32 keeps about 7 digits: the parameters agree to 1e-6 relative to the largest (a few ulps).
    scale = max(1.0, *(float(np.abs(array).max()) for array in theirs.arrays().values()))
    assert max_abs_difference(ours, theirs) < 1e-6 * scale


def test_param_groups_with_their_own_options_match_torch():
    torch = torch_or_skip()

    def make(lib, params):
        weight, bias = params
        return lib.optim.SGD([{"params": [weight]}, {"params": bias, "lr": 0.02, "momentum": 0.0}], lr=0.1, momentum=0.9)

    ours, theirs = LeastSquares(tl), LeastSquares(torch)
    ours.train(make(tl, ours.params), 20)
    theirs.train(make(torch, theirs.params), 20)
    assert max_abs_difference(ours, theirs) < 1e-10


def test_sgd_step_is_the_textbook_rule():
    """Without torch: two steps of momentum SGD by hand, b1 = g1, b2 = μ b1 + (1 - τ) g2, θ -= γ b."""
    param = tl.tensor([1.0, -2.0], requires_grad=True)
    optimizer = tl.optim.SGD([param], lr=0.1, momentum=0.5, dampening=0.25)
    param.grad = tl.tensor([1.0, 1.0])
    optimizer.step()
    assert param.tolist() == pytest.approx([1.0 - 0.1, -2.0 - 0.1])
    param.grad = tl.tensor([2.0, 0.0])
    optimizer.step()
    buffer = [0.5 * 1.0 + 0.75 * 2.0, 0.5 * 1.0 + 0.75 * 0.0]
    assert param.tolist() == pytest.approx([0.9 - 0.1 * buffer[0], -2.1 - 0.1 * buffer[1]])
    assert optimizer.state[param]["momentum_buffer"].tolist() == pytest.approx(buffer)


def test_adam_first_step_moves_each_coordinate_by_lr():
    """Without torch: after bias correction, Adam's first step is lr · sign(g) (up to eps)."""
    param = tl.tensor([1.0, -2.0, 3.0], requires_grad=True)
    param.grad = tl.tensor([0.5, -4.0, 1e-3])
    tl.optim.Adam([param], lr=0.01).step()
    assert param.tolist() == pytest.approx([0.99, -1.99, 2.99], abs=1e-6)


def test_rmsprop_first_step_by_hand():
    """Without torch: v = (1 - α) g², so the first step is γ g / √((1 - α) g²) = γ sign(g) / √(1 - α) (ε = 0)."""
    param = tl.tensor([1.0, -2.0], requires_grad=True)
    param.grad = tl.tensor([0.5, -3.0])
    tl.optim.RMSprop([param], lr=0.01, alpha=0.75, eps=0.0).step()
    assert param.tolist() == pytest.approx([1.0 - 0.02, -2.0 + 0.02])


def test_adagrad_steps_by_hand():
    """Without torch: s = s₀ + Σ g², θ -= γ / (1 + (t - 1) η) · g / (√s + ε)."""
    param = tl.tensor([1.0], requires_grad=True)
    optimizer = tl.optim.Adagrad([param], lr=0.5, lr_decay=1.0, initial_accumulator_value=5.0, eps=0.0)
    param.grad = tl.tensor([2.0])
    optimizer.step()
    assert param.tolist() == pytest.approx([1.0 - 0.5 * 2.0 / 3.0])
    param.grad = tl.tensor([4.0])
    optimizer.step()
    assert param.tolist() == pytest.approx([1.0 - 0.5 * 2.0 / 3.0 - 0.25 * 4.0 / 5.0])
    assert optimizer.state[param]["sum"].tolist() == [25.0] and optimizer.state[param]["step"] == 2


def test_adadelta_first_step_by_hand():
    """Without torch: v = (1 - ρ) g², Δ = √ε / √(v + ε) · g, u = (1 - ρ) Δ²."""
    param = tl.tensor([0.0], requires_grad=True)
    param.grad = tl.tensor([3.0])
    optimizer = tl.optim.Adadelta([param], lr=2.0, rho=0.5, eps=0.5)
    optimizer.step()
    delta = 0.5**0.5 / (0.5 * 9.0 + 0.5) ** 0.5 * 3.0
    assert param.tolist() == pytest.approx([-2.0 * delta])
    assert optimizer.state[param]["square_avg"].tolist() == pytest.approx([4.5])
    assert optimizer.state[param]["acc_delta"].tolist() == pytest.approx([0.5 * delta**2])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_step_updates_in_place_without_recording(name):
    problem = LeastSquares(tl)
    weight = problem.params[0]
    optimizer = getattr(tl.optim, name)(problem.params, lr=0.1)
    problem.train(optimizer, 2)
    assert problem.params[0] is weight and weight.is_leaf and weight.requires_grad and weight.grad_fn is None
    for state in optimizer.state.values():
        assert all(not value.requires_grad for value in state.values() if isinstance(value, tl.Tensor))


BAD_HYPERPARAMETERS = [
    ("SGD", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("SGD", dict(lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    ("SGD", dict(lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    ("Adam", dict(lr=-1.0), "Invalid learning rate: -1.0"),
    ("Adam", dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    ("Adam", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adam", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("AdamW", dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    ("RMSprop", dict(lr=-0.01), "Invalid learning rate: -0.01"),
    ("RMSprop", dict(eps=-1.0, momentum=-1.0), "Invalid epsilon value: -1.0"),
    ("RMSprop", dict(momentum=-0.9, weight_decay=-1.0), "Invalid momentum value: -0.9"),
    ("RMSprop", dict(weight_decay=-0.1, alpha=-1.0), "Invalid weight_decay value: -0.1"),
    ("RMSprop", dict(alpha=-0.5), "Invalid alpha value: -0.5"),
    ("RMSprop", dict(alpha=float("nan")), "Invalid alpha value: nan"),
    ("Adagrad", dict(lr=-0.1, lr_decay=-1.0), "Invalid learning rate: -0.1"),
    ("Adagrad", dict(lr_decay=-1.0, weight_decay=-1.0), "Invalid lr_decay value: -1.0"),
    ("Adagrad", dict(weight_decay=-2.0, initial_accumulator_value=-1.0), "Invalid weight_decay value: -2.0"),
    ("Adagrad", dict(initial_accumulator_value=-1.0, eps=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    ("Adagrad", dict(eps=-1e-10), "Invalid epsilon value: -1e-10"),
    ("Adadelta", dict(lr=-1.0, rho=2.0), "Invalid learning rate: -1.0"),
    ("Adadelta", dict(rho=1.5, eps=-1.0), "Invalid rho value: 1.5"),
    ("Adadelta", dict(rho=-0.1), "Invalid rho value: -0.1"),
    ("Adadelta", dict(eps=-1e-6, weight_decay=-1.0), "Invalid epsilon value: -1e-06"),
    ("Adadelta", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
]


@pytest.mark.parametrize("name, options, message", BAD_HYPERPARAMETERS)
def test_bad_hyperparameters_raise_torchs_error(name, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(tl.optim, name)([tl.zeros(2, requires_grad=True)], **options)


@pytest.mark.parametrize("name, options, message", BAD_HYPERPARAMETERS)
def test_torch_raises_the_same_error(name, options, message):
    torch = torch_or_skip()
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **options)


def test_sgd_trains_an_nn_model_like_torch():
    """The MNIST recipe's optimiser, SGD(model.parameters(), lr=0.01, momentum=0.5), on a small classifier."""
    torch = torch_or_skip()
    nn = pytest.importorskip("tensorlite.nn")
    rng = np.random.default_rng(3)
    x, labels = rng.standard_normal((32, 6)).astype(np.float32), rng.integers(0, 4, 32)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 4))
    twin = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4))
    twin.load_state_dict({key: torch.tensor(value.numpy()) for key, value in model.state_dict().items()})
    for lib, layers, net in ((tl, nn, model), (torch, torch.nn, twin)):
        optimizer = lib.optim.SGD(net.parameters(), lr=0.01, momentum=0.5)
        loss_fn = layers.CrossEntropyLoss()
        for _ in range(20):
            optimizer.zero_grad()
            loss_fn(net(lib.tensor(x)), lib.tensor(labels)).backward()
            optimizer.step()
    for key, value in twin.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[key].numpy(), value.numpy(), atol=1e-6)
