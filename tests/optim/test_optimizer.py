"""The bookkeeping every optimiser shares: parameter groups, zero_grad, step(closure), state_dict round trips."""
import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip
from tests.optim.least_squares import LeastSquares, max_abs_difference


def test_params_may_be_tensors_or_groups_and_groups_take_missing_options_from_defaults():
    a, b = tl.zeros(2, requires_grad=True), tl.zeros(3, requires_grad=True)
    optimizer = tl.optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.5]
    assert [g["momentum"] for g in optimizer.param_groups] == [0.9, 0.9]
    assert optimizer.param_groups[1]["params"][0] is b
    c = tl.zeros(1, requires_grad=True)
    optimizer.add_param_group({"params": (p for p in [c]), "nesterov": True})
    assert optimizer.param_groups[2]["params"][0] is c and optimizer.param_groups[2]["nesterov"] is True


@pytest.mark.parametrize(
    "params, error, message",
    [
        ([], ValueError, "optimizer got an empty parameter list"),
        (tl.zeros(2, requires_grad=True), TypeError, "should be an iterable of Tensors or dicts"),
        ([{"params": {tl.zeros(2, requires_grad=True)}}], TypeError, "Please use a list instead"),
        ([tl.zeros(2, requires_grad=True), 3.0], TypeError, "optimizer can only optimize Tensors"),
        ([tl.zeros(2, requires_grad=True) * 2], ValueError, "can't optimize a non-leaf Tensor"),
    ],
)
def test_bad_params_raise(params, error, message):
    with pytest.raises(error, match=message):
        tl.optim.SGD(params, lr=0.1)


def test_a_parameter_may_not_be_in_two_groups():
    a = tl.zeros(2, requires_grad=True)
    optimizer = tl.optim.Adam([a])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optimizer.add_param_group({"params": [a]})


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    problem = LeastSquares(tl)
    optimizer = tl.optim.SGD(problem.params, lr=0.1)
    problem.loss().backward()
    grad = problem.params[0].grad
    optimizer.zero_grad(set_to_none=set_to_none)
    if set_to_none:
        assert all(p.grad is None for p in problem.params)
    else:
        assert problem.params[0].grad is grad and not grad.numpy().any()


def test_step_with_closure_returns_the_loss_and_computes_it_with_grad_enabled():
    problem = LeastSquares(tl)
    optimizer = tl.optim.SGD(problem.params, lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = problem.loss()
        loss.backward()
        return loss

    before = problem.loss().item()
    with tl.no_grad():
        loss = optimizer.step(closure)
    assert loss.item() == pytest.approx(before)
    assert problem.loss().item() < before


def test_parameters_without_grad_are_left_alone():
    problem = LeastSquares(tl)
    frozen = tl.ones(2, requires_grad=True)
    optimizer = tl.optim.Adam(problem.params + [frozen], lr=0.1)
    problem.train(optimizer, 3)
    assert frozen.tolist() == [1.0, 1.0] and frozen not in optimizer.state


# (optimizer class name, options) whose state has every key the algorithm can keep.
FULL_STATE = {
    "sgd": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "adam": ("Adam", dict(lr=0.1, amsgrad=True)),
    "rmsprop": ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    "adagrad": ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    "adadelta": ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.01)),
}


def two_groups(lib, params, name, options):
    """The named optimiser with the weight and the bias in two groups, the second with its own lr."""
    weight, bias = params
    return getattr(lib.optim, name)([{"params": [weight]}, {"params": [bias], "lr": 0.01}], **options)


@pytest.mark.parametrize("config", FULL_STATE)
def test_state_dict_has_torchs_layout(config):
    torch = torch_or_skip()
    ours, theirs = LeastSquares(tl), LeastSquares(torch)
    our_optimizer = two_groups(tl, ours.params, *FULL_STATE[config])
    their_optimizer = two_groups(torch, theirs.params, *FULL_STATE[config])
    ours.train(our_optimizer, 2)
    theirs.train(their_optimizer, 2)
    our_state, their_state = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert our_state.keys() == their_state.keys() == {"state", "param_groups"}
    assert our_state["state"].keys() == their_state["state"].keys() == {0, 1}
    for index in (0, 1):
        ours_now, theirs_now = our_state["state"][index], their_state["state"][index]
        assert list(ours_now) == list(theirs_now)
        for key, value in theirs_now.items():
            if key == "step":
                assert ours_now[key] == int(value) == 2
            else:
                np.testing.assert_allclose(ours_now[key].numpy(), value.numpy(), rtol=1e-12, atol=1e-15)
    for our_group, their_group in zip(our_state["param_groups"], their_state["param_groups"]):
        # torch's groups also hold its implementation switches, which tensorlite has no use for
        switches = {"foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"}
        assert set(their_group) - set(our_group) <= switches
        assert {key: our_group[key] for key in our_group} == {key: their_group[key] for key in our_group}


@pytest.mark.parametrize("config", FULL_STATE)
def test_a_torch_optimizers_state_dict_loads_and_training_continues_as_in_torch(config):
    """Ten steps in torch, its state dict converted to tensorlite tensors, ten more steps in both libraries."""
    torch = torch_or_skip()
    theirs = LeastSquares(torch)
    their_optimizer = two_groups(torch, theirs.params, *FULL_STATE[config])
    theirs.train(their_optimizer, 10)
    converted = {
        "state": {
            index: {key: tl.tensor(value.numpy()) if torch.is_tensor(value) else value for key, value in state.items()}
            for index, state in their_optimizer.state_dict()["state"].items()
        },
        "param_groups": their_optimizer.state_dict()["param_groups"],
    }
    ours = LeastSquares(tl, start=theirs.arrays())
    our_optimizer = two_groups(tl, ours.params, FULL_STATE[config][0], dict(lr=0.5))
    our_optimizer.load_state_dict(converted)
    loaded = our_optimizer.state[ours.params[0]]
    assert list(loaded) == list(converted["state"][0]) and loaded.get("step", 10) == 10  # SGD keeps no step
    ours.train(our_optimizer, 10)
    theirs.train(their_optimizer, 10)
    assert max_abs_difference(ours, theirs) < 1e-10


def test_adagrad_has_state_from_construction_on_as_in_torch():
    torch = torch_or_skip()
    ours, theirs = LeastSquares(tl), LeastSquares(torch)
    our_state = tl.optim.Adagrad(ours.params, initial_accumulator_value=0.5).state_dict()["state"]
    their_state = torch.optim.Adagrad(theirs.params, initial_accumulator_value=0.5).state_dict()["state"]
    assert our_state.keys() == their_state.keys() == {0, 1}
    for index in (0, 1):
        assert list(our_state[index]) == list(their_state[index]) == ["step", "sum"]
        assert our_state[index]["step"] == int(their_state[index]["step"]) == 0
        np.testing.assert_array_equal(our_state[index]["sum"].numpy(), their_state[index]["sum"].numpy())


def test_adagrad_starts_the_state_of_a_group_added_later():
    a, b = tl.zeros(2, requires_grad=True), tl.zeros(3, requires_grad=True)
    optimizer = tl.optim.Adagrad([a], lr=0.1)
    optimizer.add_param_group({"params": [b], "initial_accumulator_value": 2.0})
    assert optimizer.state[b]["step"] == 0 and optimizer.state[b]["sum"].tolist() == [2.0, 2.0, 2.0]
    b.grad = tl.ones(3)
    optimizer.step()
    assert optimizer.state[b]["step"] == 1 and optimizer.state[b]["sum"].tolist() == [3.0, 3.0, 3.0]
    assert optimizer.state[a]["step"] == 0


# Optimiser settings whose state (momentum buffers, moments, step counts) matters for the next steps.
RESUMABLE = {
    "sgd_nesterov": lambda params: tl.optim.SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    "adam_amsgrad": lambda params: tl.optim.Adam(params, lr=0.05, amsgrad=True),
    "adamw_two_groups": lambda params: tl.optim.AdamW([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.05),
    "rmsprop_centered_momentum": lambda params: tl.optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True),
    "adagrad_lr_decay": lambda params: tl.optim.Adagrad(params, lr=0.3, lr_decay=0.1, initial_accumulator_value=0.2),
    "adadelta": lambda params: tl.optim.Adadelta(params, rho=0.7),
}


@pytest.mark.parametrize("config", RESUMABLE)
def test_resuming_from_a_saved_state_dict_continues_exactly(config, tmp_path):
    make = RESUMABLE[config]
    uninterrupted = LeastSquares(tl)
    uninterrupted.train(make(uninterrupted.params), 20)

    first_half = LeastSquares(tl)
    optimizer = make(first_half.params)
    first_half.train(optimizer, 10)
    weight, bias = first_half.params
    tl.save({"weight": weight, "bias": bias, "optimizer": optimizer.state_dict()}, tmp_path / "checkpoint.npz")
    del optimizer

    checkpoint = tl.load(tmp_path / "checkpoint.npz")
    resumed = LeastSquares(tl, start={name: checkpoint[name].detach().numpy() for name in ("weight", "bias")})
    optimizer = make(resumed.params)
    optimizer.load_state_dict(checkpoint["optimizer"])
    resumed.train(optimizer, 10)
    assert max_abs_difference(resumed, uninterrupted) == 0


def test_load_state_dict_copies_state_and_casts_it_to_the_parameters_dtype():
    source = LeastSquares(tl, "float64")
    source_optimizer = tl.optim.Adam(source.params, lr=0.1)
    source.train(source_optimizer, 3)
    saved = source_optimizer.state_dict()
    target = LeastSquares(tl, "float32")
    optimizer = tl.optim.Adam(target.params, lr=0.5)
    optimizer.load_state_dict(saved)
    state = optimizer.state[target.params[0]]
    assert state["exp_avg"].dtype is tl.float32 and state["step"] == 3
    assert state["exp_avg"] is not saved["state"][0]["exp_avg"]
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.1 and all(a is b for a, b in zip(group["params"], target.params))


def test_load_state_dict_rejects_a_state_for_other_groups():
    a, b = tl.zeros(2, requires_grad=True), tl.zeros(3, requires_grad=True)
    saved = tl.optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="different number of parameter groups"):
        tl.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        tl.optim.SGD([a], lr=0.1).load_state_dict(saved)


def test_repr_lists_each_groups_options():
    optimizer = tl.optim.SGD([tl.zeros(1, requires_grad=True)], lr=0.1, momentum=0.5)
    assert repr(optimizer).splitlines()[:3] == ["SGD (", "Parameter Group 0", "    dampening: 0"]
    assert "    momentum: 0.5" in repr(optimizer)


def test_a_subclass_needs_only_update_and_may_lack_weight_decay_and_maximize():
    class SignDescent(tl.optim.Optimizer):
        """θ ← θ - γ sign(g), with no weight_decay or maximize option."""

        def __init__(self, params, lr=0.1):
            super().__init__(params, dict(lr=lr))

        def _update(self, param, grad, state, group):
            param.sub_(grad.sign(), alpha=group["lr"])

    param = tl.tensor([1.0, -1.0], requires_grad=True)
    param.grad = tl.tensor([3.0, -0.5])
    SignDescent([param]).step()
    assert param.tolist() == pytest.approx([0.9, -0.9])
