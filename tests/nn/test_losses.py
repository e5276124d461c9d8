"""Losses: gradcheck in float64, values and gradients equal to torch's, stability, and torch's errors."""
import math
import re

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.nn.functional as F
from tests.helpers import check_against_torch, check_gradients, torch_or_skip

rng = np.random.default_rng(0)
W5 = rng.uniform(0.5, 2.0, 5).astype(np.float32)  # class weights for C = 5


def logits(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def labels(*shape, classes=5):
    return rng.integers(0, classes, shape).astype(np.int64)


def probabilities(*shape):
    return rng.uniform(0.05, 0.95, shape).astype(np.float32)


def soft_targets(n, c):
    e = np.exp(logits(n, c))
    return (e / e.sum(1, keepdims=True)).astype(np.float32)


IGNORED = np.array([0, -100, 4, 2, -100, 1], dtype=np.int64)

# name: (fn(lib, F, *inputs), inputs). ``lib`` is tensorlite or torch, ``F`` its functional module: the same
# lambda runs in both, so each case is written once. Float inputs require grad; weights are constants.
CASES = {
    "ce": (lambda lib, F, x, t: F.cross_entropy(x, t), [logits(4, 5), labels(4)]),
    "ce_sum": (lambda lib, F, x, t: F.cross_entropy(x, t, reduction="sum"), [logits(4, 5), labels(4)]),
    "ce_none": (lambda lib, F, x, t: F.cross_entropy(x, t, reduction="none"), [logits(4, 5), labels(4)]),
    "ce_weight": (lambda lib, F, x, t: F.cross_entropy(x, t, weight=lib.tensor(W5)), [logits(6, 5), labels(6)]),
    "ce_ignore_index": (lambda lib, F, x, t: F.cross_entropy(x, t), [logits(6, 5), IGNORED]),
    "ce_custom_ignore": (lambda lib, F, x, t: F.cross_entropy(x, t, ignore_index=2), [logits(6, 5), labels(6, classes=3)]),
    "ce_smoothing": (lambda lib, F, x, t: F.cross_entropy(x, t, label_smoothing=0.1), [logits(4, 5), labels(4)]),
    "ce_smoothing_weight_ignore": (
        lambda lib, F, x, t: F.cross_entropy(x, t, weight=lib.tensor(W5), label_smoothing=0.2),
        [logits(6, 5), IGNORED],
    ),
    "ce_smoothing_none": (
        lambda lib, F, x, t: F.cross_entropy(x, t, weight=lib.tensor(W5), reduction="none", label_smoothing=0.3),
        [logits(6, 5), IGNORED],
    ),
    "ce_smoothing_sum": (
        lambda lib, F, x, t: F.cross_entropy(x, t, reduction="sum", label_smoothing=0.3), [logits(6, 5), IGNORED]
    ),
    "ce_spatial": (lambda lib, F, x, t: F.cross_entropy(x, t), [logits(2, 5, 3, 4), labels(2, 3, 4)]),
    "ce_spatial_weight_smoothing": (
        lambda lib, F, x, t: F.cross_entropy(x, t, weight=lib.tensor(W5), label_smoothing=0.1),
        [logits(2, 5, 3), labels(2, 3)],
    ),
    "ce_unbatched": (lambda lib, F, x, t: F.cross_entropy(x, t), [logits(5), np.array(3)]),
    "ce_probabilities": (lambda lib, F, x, p: F.cross_entropy(x, p), [logits(4, 5), soft_targets(4, 5)]),
    "ce_probabilities_weight_smoothing": (
        lambda lib, F, x, p: F.cross_entropy(x, p, weight=lib.tensor(W5), label_smoothing=0.2),
        [logits(4, 5), soft_targets(4, 5)],
    ),
    "ce_probabilities_none": (
        lambda lib, F, x, p: F.cross_entropy(x, p, reduction="none"), [logits(4, 5), soft_targets(4, 5)]
    ),
    "nll": (lambda lib, F, x, t: F.nll_loss(x, t), [logits(4, 5), labels(4)]),
    "nll_weight_ignore": (lambda lib, F, x, t: F.nll_loss(x, t, weight=lib.tensor(W5)), [logits(6, 5), IGNORED]),
    "nll_spatial_none": (
        lambda lib, F, x, t: F.nll_loss(x, t, reduction="none"), [logits(2, 5, 3, 2), labels(2, 3, 2)]
    ),
    "mse": (lambda lib, F, x, y: F.mse_loss(x, y), [logits(3, 4), logits(3, 4)]),
    "mse_sum": (lambda lib, F, x, y: F.mse_loss(x, y, reduction="sum"), [logits(3, 4), logits(3, 4)]),
    "l1": (lambda lib, F, x, y: F.l1_loss(x, y), [logits(3, 4), logits(3, 4)]),
    "l1_none": (lambda lib, F, x, y: F.l1_loss(x, y, reduction="none"), [logits(3, 4), logits(3, 4)]),
    "bce": (lambda lib, F, p, y: F.binary_cross_entropy(p, y), [probabilities(3, 4), probabilities(3, 4)]),
    "bce_weight_sum": (
        lambda lib, F, p, y: F.binary_cross_entropy(p, y, weight=lib.tensor(W5[:4]), reduction="sum"),
        [probabilities(3, 4), probabilities(3, 4)],
    ),
    "bce_logits": (lambda lib, F, x, y: F.binary_cross_entropy_with_logits(x, y), [logits(3, 4), probabilities(3, 4)]),
    "bce_logits_pos_weight": (
        lambda lib, F, x, y: F.binary_cross_entropy_with_logits(
            x, y, weight=lib.tensor(W5[:4]), pos_weight=lib.tensor(W5[1:]), reduction="none"
        ),
        [logits(3, 4), probabilities(3, 4)],
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_gradcheck(name):
    fn, inputs = CASES[name]
    check_gradients(lambda *xs: fn(tl, F, *xs), inputs)


@pytest.mark.parametrize("name", CASES)
def test_matches_torch(name):
    torch = torch_or_skip()
    fn, inputs = CASES[name]
    check_against_torch(lambda *xs: fn(tl, F, *xs), lambda *xs: fn(torch, torch.nn.functional, *xs), inputs)


# Loss modules pass their settings to the functions above; one case per module and argument.
MODULES = {
    "CrossEntropyLoss": (lambda nn, lib: nn.CrossEntropyLoss(), [logits(4, 5), labels(4)]),
    "CrossEntropyLoss_args": (
        lambda nn, lib: nn.CrossEntropyLoss(lib.tensor(W5), ignore_index=1, reduction="sum", label_smoothing=0.1),
        [logits(6, 5), labels(6)],
    ),
    "NLLLoss": (lambda nn, lib: nn.NLLLoss(lib.tensor(W5), ignore_index=0, reduction="none"), [logits(6, 5), labels(6)]),
    "MSELoss": (lambda nn, lib: nn.MSELoss(reduction="sum"), [logits(3, 4), logits(3, 4)]),
    "L1Loss": (lambda nn, lib: nn.L1Loss(), [logits(3, 4), logits(3, 4)]),
    "BCELoss": (lambda nn, lib: nn.BCELoss(lib.tensor(W5[:4])), [probabilities(2, 4), probabilities(2, 4)]),
    "BCEWithLogitsLoss": (
        lambda nn, lib: nn.BCEWithLogitsLoss(pos_weight=lib.tensor(W5[:4]), reduction="sum"),
        [logits(2, 4), probabilities(2, 4)],
    ),
}


@pytest.mark.parametrize("name", MODULES)
def test_loss_module_matches_torch(name):
    torch = torch_or_skip()
    make, inputs = MODULES[name]
    check_against_torch(make(tl.nn, tl), make(torch.nn, torch), inputs)


def test_loss_module_repr_and_buffers():
    criterion = tl.nn.CrossEntropyLoss(tl.ones(3))
    assert repr(criterion) == "CrossEntropyLoss()"
    assert list(criterion.state_dict()) == ["weight"]
    assert list(tl.nn.BCEWithLogitsLoss(pos_weight=tl.ones(2)).state_dict()) == ["pos_weight"]


# --------------------------------------------------------------------- numerical stability
HUGE_LOGITS = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, 1e4]], dtype=np.float32)
HUGE_TARGETS = np.array([1, 0, 2], dtype=np.int64)


def test_cross_entropy_stable_for_huge_logits():
    x = tl.tensor(HUGE_LOGITS, requires_grad=True)
    loss = tl.nn.CrossEntropyLoss()(x, tl.tensor(HUGE_TARGETS))
    loss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(x.grad.numpy()).all()
    np.testing.assert_allclose(loss.item(), (1e4 + (1e4 + np.log(2)) + 0) / 3, rtol=1e-6)


def test_cross_entropy_huge_logits_match_torch():
    torch = torch_or_skip()
    torch_fn = torch.nn.functional.cross_entropy
    check_against_torch(lambda x, t: F.cross_entropy(x, t), lambda x, t: torch_fn(x, t), [HUGE_LOGITS, HUGE_TARGETS])


def test_bce_with_logits_stable_and_exact_at_zero():
    x = tl.tensor([-1e4, 0.0, 1e4], requires_grad=True)
    y = tl.tensor([1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 2e4 + np.log(2), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [-1.0, -0.5, 1.0])  # d/dx = sigmoid(x) - y, also at x = 0


def test_bce_with_logits_gradients_are_torchs_at_an_infinite_pos_weight():
    """torch's backward formula, ((p y + 1 - y) σ(x) - p y) for the logits: at pos_weight = inf and y = 1 it is
    inf - inf = NaN (the loss's own formula would give -inf), and the target's gradient is inf."""
    torch = torch_or_skip()
    inputs = [np.array([1.3, 0.0, 0.01, -0.7]), np.array([0.0, 1.0, 0.51, 1.0])]
    for reduction in ("none", "mean"):
        check_against_torch(
            lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                            pos_weight=tl.tensor([1e20, math.inf, 1.0, 2.0])),
            lambda x, y: torch.nn.functional.binary_cross_entropy_with_logits(
                x, y, reduction=reduction, pos_weight=torch.tensor([1e20, math.inf, 1.0, 2.0])),
            inputs)
    x = tl.tensor(inputs[0], requires_grad=True)
    F.binary_cross_entropy_with_logits(x, tl.tensor(inputs[1]), pos_weight=tl.tensor([1.0, math.inf, 1.0, 1.0])
                                       ).backward()
    assert np.isnan(x.grad.numpy()[1]) and np.isfinite(x.grad.numpy()[[0, 2, 3]]).all()


@pytest.mark.parametrize("argument", ["weight", "pos_weight"])
def test_bce_with_logits_refuses_a_weight_that_requires_grad(argument):
    x = tl.zeros(3, requires_grad=True)
    message = (f"The function 'binary_cross_entropy_with_logits' is not differentiable with respect to argument "
               f"'{argument}'. This input cannot have requires_grad True.")
    with pytest.raises(RuntimeError, match=re.escape(message)):
        F.binary_cross_entropy_with_logits(x, tl.zeros(3), **{argument: tl.ones(3, requires_grad=True)})
    with tl.no_grad():
        F.binary_cross_entropy_with_logits(x, tl.zeros(3), **{argument: tl.ones(3, requires_grad=True)})


def test_bce_saturated_probabilities_cost_100_with_finite_gradient():
    p = tl.tensor([0.0, 1.0, 1.0], requires_grad=True)
    loss = F.binary_cross_entropy(p, tl.tensor([1.0, 0.0, 1.0]), reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, 0.0])
    assert np.isfinite(p.grad.numpy()).all()


# --------------------------------------------------------------------- bad input
X = tl.randn(3, 5)


T3 = tl.tensor([0, 1, 2])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: F.cross_entropy(X, tl.tensor([0.0, 1.0, 2.0])), RuntimeError, "to be Long or Byte, but got Float"),
        (lambda: F.nll_loss(X, tl.tensor([0, 1, 2], dtype=tl.int32)), RuntimeError, "to be Long or Byte, but got Int"),
        (lambda: F.cross_entropy(X, tl.tensor([0, 1, 5])), IndexError, "Target 5 is out of bounds."),
        (lambda: F.cross_entropy(X, tl.tensor([0, -3, 1])), IndexError, "Target -3 is out of bounds."),
        (
            lambda: F.cross_entropy(X, tl.tensor([0, 1, 2, 3])),
            ValueError,
            r"Expected input batch_size \(3\) to match target batch_size \(4\).",
        ),
        (lambda: F.cross_entropy(X, T3, reduction="avg"), ValueError, "avg is not a valid value for reduction"),
        (lambda: F.mse_loss(X, X, reduction="mean!"), ValueError, "mean! is not a valid value for reduction"),
        (lambda: F.cross_entropy(X, T3, weight=tl.ones(4)), RuntimeError, "for all 5 classes or no classes"),
        (lambda: F.cross_entropy(X, T3, label_smoothing=1.5), RuntimeError, "label_smoothing must be between"),
        (
            lambda: F.cross_entropy(X, tl.zeros(3, 5, dtype=tl.int64)),
            RuntimeError,
            "Expected floating point type for target with class probabilities, got Long",
        ),
        (lambda: F.cross_entropy(X, tl.rand(3, 5), ignore_index=1), RuntimeError, "ignore_index is not supported"),
        (
            lambda: F.cross_entropy(tl.randn(2, 5, 3), tl.tensor([[0, 1], [2, 3]])),
            RuntimeError,
            r"Expected target size \[2, 3\], got \[2, 2\]",
        ),
        (lambda: F.cross_entropy(tl.randn(5), tl.tensor([1, 2])), ValueError, "For 1D input, 1D target must have size 1"),
        (lambda: F.cross_entropy(tl.tensor(1.0), tl.tensor(1)), ValueError, "got a 0-d tensor"),
        (lambda: F.binary_cross_entropy(tl.rand(3), tl.rand(4)), ValueError, r"target size \(tensorlite.Size\(\[4\]\)\)"),
        (lambda: F.binary_cross_entropy(tl.rand(3) * 3, tl.rand(3)), RuntimeError, "between 0 and 1"),
        (lambda: F.binary_cross_entropy_with_logits(tl.rand(3), tl.rand(4)), ValueError, "must be the same as input size"),
    ],
)
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_regression_losses_warn_about_broadcasting():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(tl.randn(3, 4), tl.randn(3, 1))


def test_all_targets_ignored_sum_is_zero():
    loss = F.cross_entropy(X, tl.tensor([-100, -100, -100]), reduction="sum")
    assert loss.item() == 0.0


# ------------------------------------------------------------------ torch's edge cases (the conformance harness)
def test_regression_losses_broadcast_before_promoting():
    """A 0-d float64 target is expanded to the input's shape first: the loss is float64, as torch's."""
    x, target = tl.zeros(3, 1), tl.tensor(0.0, dtype=tl.float64)
    with pytest.warns(UserWarning, match="different to the input size"):
        assert F.mse_loss(x, target).dtype is tl.float64 and F.l1_loss(x, target).dtype is tl.float64


def test_binary_cross_entropy_checks_the_target():
    p = tl.full((2,), 0.5)
    with pytest.raises(RuntimeError, match="Found dtype Double but expected Float"):
        F.binary_cross_entropy(p, tl.zeros(2, dtype=tl.float64))
    with pytest.raises(RuntimeError, match="all elements of target should be between 0 and 1"):
        F.binary_cross_entropy(p, tl.full((2,), 2.0))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tl.tensor([float("nan")]), tl.zeros(1))


def test_binary_cross_entropy_losses_are_weighted_in_place():
    """The weight multiplies the loss in place: the loss keeps the input's dtype and shape."""
    p = tl.full((2,), 0.5)
    assert F.binary_cross_entropy(p, tl.zeros(2), tl.ones(2, dtype=tl.float64)).dtype is tl.float32
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[3, 2\]"):
        F.binary_cross_entropy_with_logits(p, tl.zeros(2), tl.ones(3, 2))


def test_binary_cross_entropy_with_logits_has_the_target_dtype():
    """torch computes (1 - y) x - log σ(x) in place of 1 - y: the loss has the target's dtype."""
    x = tl.tensor([-2.8354])
    loss = F.binary_cross_entropy_with_logits(x, tl.zeros(1, dtype=tl.float64), reduction="sum")
    assert loss.dtype is tl.float64 and loss.item() == pytest.approx(math.log1p(math.exp(x.item())), rel=1e-5)
    assert F.binary_cross_entropy_with_logits(x.double(), tl.zeros(1)).dtype is tl.float32


def test_ignored_targets_add_nothing_whatever_their_scores():
    scores = tl.tensor([[1.0, float("nan")], [0.0, 1.0]])
    loss = F.cross_entropy(scores, tl.tensor([0, 1]), ignore_index=0, reduction="sum")
    assert loss.item() == pytest.approx(math.log1p(math.exp(-1.0)))
    losses = F.nll_loss(tl.tensor([[1.0, 2.0], [float("nan"), 1.0]]), tl.tensor([1, 0]), ignore_index=0, reduction="none")
    assert losses.tolist() == [-2.0, 0.0]


def test_nll_loss_gradient_with_zero_total_weight():
    """The mean over a zero total weight is NaN, and so is the gradient of the targets weighted 0 (-0 / 0); with
    every target ignored, there is no gradient at all."""
    x = tl.zeros(1, 1, requires_grad=True)
    loss = F.nll_loss(x, tl.tensor([0]), weight=tl.tensor([0.0]))
    loss.backward()
    assert np.isnan(loss.item()) and np.isnan(x.grad.item())
    x = tl.zeros(2, 2, requires_grad=True)
    loss = F.nll_loss(x, tl.tensor([0, 0]), ignore_index=0)
    loss.backward()
    assert np.isnan(loss.item()) and x.grad.tolist() == [[0, 0], [0, 0]]
