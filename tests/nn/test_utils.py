"""Gradient clipping (nn.utils.clip_grad_norm_, clip_grad_value_) against torch, and its errors."""
import math

import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip


def gradients_of(lib, values):
    """Parameters of ``lib`` whose .grad are ``values`` (None: no gradient)."""
    params = []
    for value in values:
        p = lib.zeros(np.shape(value) if value is not None else 2, dtype=lib.float64, requires_grad=True)
        if value is not None:
            p.grad = lib.tensor(value, dtype=lib.float64)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = torch_or_skip()
    values = [[3.0, -4.0], None, [[1.0, 2.0], [-2.0, 0.5]]]
    ours, theirs = gradients_of(tl, values), gradients_of(torch, values)
    total = tl.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-12)
    for p, q in zip(ours, theirs):
        if q.grad is not None:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_scales_to_max_norm():
    (p,) = gradients_of(tl, [[3.0, -4.0]])
    assert tl.nn.utils.clip_grad_norm_(p, 1.0).item() == 5.0
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, -4.0]) / (5.0 + 1e-6))


def test_clip_grad_norm_without_gradients_is_zero():
    assert tl.nn.utils.clip_grad_norm_(gradients_of(tl, [None]), 1.0).item() == 0.0


def test_a_non_finite_norm_raises_only_when_asked():
    message = "The total norm of order 2.0 for gradients from `parameters` is non-finite"
    with pytest.raises(RuntimeError, match=message):
        tl.nn.utils.clip_grad_norm_(gradients_of(tl, [[math.inf, 1.0]]), 1.0, error_if_nonfinite=True)
    params = gradients_of(tl, [[math.inf, 1.0]])
    assert math.isinf(tl.nn.utils.clip_grad_norm_(params, 1.0).item())
    np.testing.assert_array_equal(params[0].grad.numpy(), [math.nan, 0.0])  # scaled by 1 / inf: inf * 0, 1 * 0


def test_clip_grad_value_matches_torch():
    torch = torch_or_skip()
    values = [[3.0, -0.2], [[-7.0, 0.5], [1.0, 2.0]]]
    ours, theirs = gradients_of(tl, values), gradients_of(torch, values)
    assert tl.nn.utils.clip_grad_value_(ours, 1.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
