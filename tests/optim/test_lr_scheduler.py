"""The learning-rate schedulers give torch's rates, step by step, and resume from a saved state."""
import math

import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip
from tests.optim.least_squares import LeastSquares, max_abs_difference

# name: (scheduler class name, options); the same call builds the tensorlite and the torch scheduler.
SCHEDULERS = {
    "step": ("StepLR", dict(step_size=7, gamma=0.5)),
    "multistep": ("MultiStepLR", dict(milestones=[3, 12, 12, 20], gamma=0.3)),
    "exponential": ("ExponentialLR", dict(gamma=0.9)),
    "cosine": ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
    "cosine_to_zero": ("CosineAnnealingLR", dict(T_max=7)),
}


def make(lib, name, options, lrs=(0.1, 0.03)):
    """An SGD optimiser with one parameter group per rate in ``lrs``, and the named scheduler on it."""
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    optimizer = lib.optim.SGD(groups, lr=1.0, momentum=0.9)
    return optimizer, getattr(lib.optim.lr_scheduler, name)(optimizer, **options)


def rates(optimizer, scheduler, epochs):
    """The rates of each epoch (the one after construction, then one per ``step()``), flattened over the groups."""
    sequence = list(scheduler.get_last_lr())
    for _ in range(epochs):
        optimizer.step()
        scheduler.step()
        assert scheduler.get_last_lr() == [group["lr"] for group in optimizer.param_groups]
        sequence += scheduler.get_last_lr()
    return sequence


@pytest.mark.parametrize("config", SCHEDULERS)
def test_rates_equal_torchs_over_30_epochs(config):
    torch = torch_or_skip()
    ours = rates(*make(tl, *SCHEDULERS[config]), 30)
    theirs = rates(*make(torch, *SCHEDULERS[config]), 30)
    assert ours == theirs


@pytest.mark.parametrize("config", SCHEDULERS)
def test_step_with_an_epoch_uses_torchs_closed_form(config):
    torch = torch_or_skip()
    results = []
    for lib in (tl, torch):
        optimizer, scheduler = make(lib, *SCHEDULERS[config])
        optimizer.step()
        with pytest.warns(UserWarning, match="deprecated"):
            for epoch in (3, 10, 25, 12):
                scheduler.step(epoch)
        results.append(scheduler.get_last_lr())
    assert results[0] == results[1]


@pytest.mark.parametrize("config", SCHEDULERS)
def test_chainable_and_closed_forms_agree(config):
    optimizer, scheduler = make(tl, *SCHEDULERS[config])
    chained = rates(optimizer, scheduler, 30)
    groups = len(optimizer.param_groups)
    for epoch in range(31):
        scheduler.last_epoch = epoch
        assert scheduler._get_closed_form_lr() == pytest.approx(chained[epoch * groups : (epoch + 1) * groups], rel=1e-12)


def test_cosine_annealing_follows_the_half_cosine_without_torch():
    optimizer, scheduler = make(tl, "CosineAnnealingLR", dict(T_max=4, eta_min=0.0), lrs=(1.0,))
    sequence = rates(optimizer, scheduler, 8)
    expected = [(1 + math.cos(math.pi * t / 4)) / 2 for t in range(9)]
    assert sequence == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("config", SCHEDULERS)
def test_resuming_from_a_saved_checkpoint_continues_the_schedule(config, tmp_path):
    optimizer, scheduler = make(tl, *SCHEDULERS[config])
    uninterrupted = rates(optimizer, scheduler, 30)

    optimizer, scheduler = make(tl, *SCHEDULERS[config])
    rates(optimizer, scheduler, 12)
    checkpoint = {"epoch": 12, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
    tl.save(checkpoint, tmp_path / "checkpoint.npz")

    loaded = tl.load(tmp_path / "checkpoint.npz")
    optimizer, scheduler = make(tl, *SCHEDULERS[config])
    optimizer.load_state_dict(loaded["optimizer"])
    scheduler.load_state_dict(loaded["scheduler"])
    assert loaded["epoch"] == 12
    assert rates(optimizer, scheduler, 18) == uninterrupted[12 * len(optimizer.param_groups) :]


def test_construction_records_initial_lr_and_keeps_the_rates():
    optimizer, scheduler = make(tl, "StepLR", dict(step_size=2))
    assert [g["initial_lr"] for g in optimizer.param_groups] == [0.1, 0.03] == scheduler.base_lrs
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1, 0.03]


def test_resuming_needs_initial_lr_in_the_groups():
    optimizer = tl.optim.SGD([tl.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(KeyError, match="initial_lr"):
        tl.optim.lr_scheduler.StepLR(optimizer, step_size=3, last_epoch=5)


def test_a_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        tl.optim.lr_scheduler.ExponentialLR([], gamma=0.9)


@pytest.mark.parametrize("optimizer_name", ["RMSprop", "Adagrad", "Adadelta"])
@pytest.mark.parametrize("config", ["step", "cosine"])
def test_schedulers_drive_the_adaptive_optimizers_as_in_torch(optimizer_name, config):
    """A scheduler step after every optimiser step: the parameters and the rates end where torch's do."""
    torch = torch_or_skip()
    problems = {}
    for lib in (tl, torch):
        problem = problems[lib.__name__] = LeastSquares(lib)
        optimizer = getattr(lib.optim, optimizer_name)(problem.params, lr=0.1)
        name, options = SCHEDULERS[config]
        scheduler = getattr(lib.optim.lr_scheduler, name)(optimizer, **options)
        for _ in range(15):
            problem.train(optimizer, 1)
            scheduler.step()
        problem.last_lr = scheduler.get_last_lr()
    ours, theirs = problems["tensorlite"], problems["torch"]
    assert ours.last_lr == theirs.last_lr and ours.last_lr != [0.1]
    assert max_abs_difference(ours, theirs) < 1e-10
