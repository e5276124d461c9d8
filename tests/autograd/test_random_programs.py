"""Whole programs against torch: every value, every leaf's gradient, and raising exactly where torch raises.

2,000 seeded programs in blocks of 100 (a failure names its seeds), 200 programs drawn by hypothesis, and a few
hand-written ones whose torch outcome is pinned here, so that the harness itself is checked too. The long run:
``python -m tests.autograd.programs --count 50000 --seed 0``.
"""
import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402

import tensorlite as tl  # noqa: E402
from tests.autograd.programs import Program, compare, programs, report, run, seeded_program  # noqa: E402

BLOCKS, BLOCK_SIZE, SHOWN = 20, 100, 3
X = "n0 = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)"
Y = "n1 = lib.tensor([[0.5], [-1.0]], dtype=lib.float64, requires_grad=True)"

HAND_WRITTEN = {  # name: (program, torch's outcome: values and leaves' .grad by name, or the step that raises)
    "diamond": (
        Program((X, "n1 = n0 * 2", "n2 = n1 * 3", "loss = (n1 + n2).sum()", "loss.backward()"), ("n0",)),
        {"n0.grad": [8.0, 8.0, 8.0]},
    ),
    "residual": (
        Program((X, "n1 = n0 + (n0 ** 2)", "n1.sum().backward()"), ("n0",)),
        {"n0.grad": [3.0, 5.0, 7.0]},
    ),
    "setitem": (
        Program((X, "n1 = (n0 * 2).clone()", "n1[1:] = n0[:2] ** 2", "n1.sum().backward()"), ("n0",)),
        {"n1": [2.0, 1.0, 4.0], "n0.grad": [4.0, 4.0, 0.0]},
    ),
    "in-place through a view": (
        Program((X, "n1 = n0 * 1", "n1[0:2].mul_(3)", "n1.sum().backward()"), ("n0",)),
        {"n1": [3.0, 6.0, 3.0], "n0.grad": [3.0, 3.0, 1.0]},
    ),
    "autograd.grad with an unused leaf": (
        Program(
            (X, Y, "g0, g1 = lib.autograd.grad([n0 * n0], [n0, n1], grad_outputs=[n0.detach()], allow_unused=True)"),
            ("n0", "n1"),
        ),
        {"g0": [2.0, 8.0, 18.0], "g1": None, "n0.grad": None},
    ),
    "saved tensor modified": (
        Program((X, "n1 = n0 * 1", "n2 = n1 * n1", "n1.add_(1)", "n2.sum().backward()"), ("n0",)),
        4,
    ),
    "backward twice": (
        Program((X, "loss = (n0 * n0).sum()", "loss.backward()", "loss.backward()"), ("n0",)),
        3,
    ),
    "leaf in place": (
        Program((X, "n0.add_(1)"), ("n0",)),
        1,
    ),
}


def torch_result(outcome, name):
    """A value (``"n1"``) or a leaf's gradient (``"n0.grad"``) from torch's run, as a list, or None."""
    leaf, _, attribute = name.partition(".")
    snapshot = outcome.grads[leaf] if attribute == "grad" else outcome.values[name]
    return None if snapshot is None else snapshot[0].tolist()


def check_seeds(seeds, subject):
    """Fail with the first few programs of ``seeds`` on which ``subject`` differs from torch."""
    failures = []
    for seed in seeds:
        program = seeded_program(seed)
        mismatch = compare(program, subject)
        if mismatch:
            failures.append(report(program, mismatch))
    if failures:
        shown = "\n\n".join(failures[:SHOWN])
        pytest.fail(f"{len(failures)} of {len(seeds)} programs differ from torch; the first:\n\n{shown}", pytrace=False)


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_hand_written_program(name):
    program, torch_outcome = HAND_WRITTEN[name]
    expected = run(program, torch)
    if isinstance(torch_outcome, int):
        assert expected.failed_step == torch_outcome, expected.error
    else:
        assert expected.error is None, expected.error
        assert {name: torch_result(expected, name) for name in torch_outcome} == torch_outcome
    mismatch = compare(program)
    if mismatch:
        pytest.fail(report(program, mismatch), pytrace=False)


@pytest.mark.parametrize("first_seed", range(0, BLOCKS * BLOCK_SIZE, BLOCK_SIZE))
def test_seeded_programs_match_torch(first_seed):
    check_seeds(range(first_seed, first_seed + BLOCK_SIZE), tl)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(programs())
def test_drawn_programs_match_torch(program):
    mismatch = compare(program)
    if mismatch:
        pytest.fail(report(program, mismatch), pytrace=False)


def test_torch_matches_itself():
    """The harness: torch run twice agrees with itself on every program, raising or not."""
    check_seeds(range(200), torch)
