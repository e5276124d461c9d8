"""Shared test helpers: one checker compares an op's forward and backward with torch, one runs gradcheck."""
import numpy as np
import pytest

import tensorlite as tl


def torch_or_skip():
    """The torch module, or skip the calling test cleanly when torch is not installed."""
    return pytest.importorskip("torch")


def make_inputs(rng, *shapes, dtype=np.float32):
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def check_against_torch(tl_fn, torch_fn, arrays, rtol=1e-5, atol=1e-6, grad=True):
    """Run ``tl_fn`` and ``torch_fn`` on the same inputs and compare the outputs and every input's gradient.

    ``arrays`` are NumPy arrays; floating ones require grad. The upstream gradient is a fixed random
    tensor, so the check sees the whole Jacobian-vector product, not just the sum of the gradient.
    """
    torch = torch_or_skip()
    tl_inputs = [tl.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    torch_inputs = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    tl_out, torch_out = tl_fn(*tl_inputs), torch_fn(*torch_inputs)
    np.testing.assert_allclose(tl_out.detach().numpy(), torch_out.detach().numpy(), rtol=rtol, atol=atol)
    assert tuple(tl_out.shape) == tuple(torch_out.shape)
    if not grad or not torch_out.requires_grad:
        return
    upstream = np.random.default_rng(1).standard_normal(tuple(torch_out.shape)).astype(arrays[0].dtype)
    tl_out.backward(tl.tensor(upstream))
    torch_out.backward(torch.tensor(upstream))
    for tl_x, torch_x in zip(tl_inputs, torch_inputs):
        if torch_x.requires_grad:
            expected = torch_x.grad.numpy() if torch_x.grad is not None else np.zeros(torch_x.shape)
            np.testing.assert_allclose(tl_x.grad.numpy(), expected, rtol=rtol, atol=atol)


def check_gradients(fn, arrays, **kwargs):
    """gradcheck ``fn`` in float64 on inputs made from ``arrays`` (floating ones require grad)."""
    inputs = [
        tl.tensor(a.astype(np.float64), requires_grad=True) if a.dtype.kind == "f" else tl.tensor(a) for a in arrays
    ]
    assert tl.autograd.gradcheck(fn, inputs, **kwargs)
