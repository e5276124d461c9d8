"""Whole programs against torch: every value, every leaf's gradient, and raising exactly where torch raises.

2,000 seeded programs in blocks of 100 (a failure names its seeds), 200 programs drawn by hypothesis, and a few
hand-written ones whose torch outcome is pinned here, so that the harness itself is checked too. The long run:
``python -m tests.autograd.programs --count 50000 --seed 0``.
"""
import random

import pytest

torch = pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402

import tensorlite as tl  # noqa: E402
from tests.autograd.programs import (  # noqa: E402
    Program, ProgramBuilder, compare, programs, report, run, seeded_program,
)

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


SHARED_GRADS = Program(
    (
        "n0 = lib.tensor([[1.76, 1.31, -0.89]], dtype=lib.float64, requires_grad=True)",
        "n1 = lib.tensor([[-0.95], [-1.0], [0.05]], dtype=lib.float64, requires_grad=True)",
        "w0 = lib.tensor([1.03, 1.9, 0.39], dtype=lib.float64)",
        "loss = ((n0.squeeze(0) + n1.reshape(-1)) * w0).sum()",
        "loss.backward(retain_graph=True)",
        "loss.backward()",
    ),
    ("n0", "n1"),
)


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


def test_gradients_torch_shares_between_leaves_are_not_compared():
    """torch hands both leaves views of one gradient array, so its second backward adds each share into both: 3x
    one pass's gradient. tensorlite gives the sum of the two passes, and the harness does not count torch's."""
    expected, actual = run(SHARED_GRADS, torch), run(SHARED_GRADS, tl)
    assert expected.grads_share_memory and not actual.grads_share_memory
    assert torch_result(expected, "n0.grad")[0] == pytest.approx([3.09, 5.7, 1.17])
    assert torch_result(actual, "n0.grad")[0] == pytest.approx([2.06, 3.8, 0.78])
    assert [row[0] for row in torch_result(actual, "n1.grad")] == pytest.approx([2.06, 3.8, 0.78])
    assert compare(SHARED_GRADS) is None


def test_a_write_gives_grad_to_its_history_not_to_tensors_detached_from_it():
    """The generator's model of requires_grad after an in-place write with a value that requires grad: the
    target's base and views require grad; a tensor detached from them does not, and views of it stay plain views,
    written into by no program (torch's rule for those, once their base gains a history, depends on whether
    .grad_fn was read)."""
    builder = ProgramBuilder(random.Random(0))
    builder.leaf()
    leaf = builder.nodes[0]
    builder.derive(f"{leaf.name}.detach()", leaf.shape, leaf.bound, False, leaf, detached=True)
    detached = builder.nodes[1]
    builder.view_of(detached, f"{detached.name}.unsqueeze(0)", (1, *detached.shape))
    view = builder.nodes[2]
    builder.derive(f"{detached.name}.detach()", leaf.shape, leaf.bound, False, detached, detached=True)
    twice_detached = builder.nodes[3]
    builder.view_of(twice_detached, f"{twice_detached.name}.unsqueeze(0)", (1, *leaf.shape))
    plain_view = builder.nodes[4]
    assert builder.write(f"{view.name}.mul_({leaf.name})", view, 4.0, True)
    assert detached.requires_grad and view.requires_grad
    assert not twice_detached.requires_grad and not plain_view.requires_grad and plain_view.plain_view
    builder.view_of(twice_detached, f"{twice_detached.name}.unsqueeze(-1)", (*leaf.shape, 1))
    assert builder.nodes[5].plain_view  # still a view of a tensor without history
    assert {node.storage for node in builder.nodes} == {leaf.storage}
    assert builder.write_target() not in (plain_view, leaf)


def test_torch_matches_itself():
    """The harness: torch run twice agrees with itself on every program, raising or not."""
    check_seeds(range(200), torch)
