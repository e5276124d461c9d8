"""Tensor creation, dtypes, printing, indexing and in-place writes behave as in torch."""
import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip


def test_dtype_inference_from_python_data():
    assert tl.tensor([1, 2]).dtype is tl.int64
    assert tl.tensor([1.0, 2]).dtype is tl.float32
    assert tl.tensor([True, False]).dtype is tl.bool
    assert tl.tensor(np.zeros(2)).dtype is tl.float64  # NumPy arrays keep their dtype, as in torch
    assert tl.tensor([1, 2], dtype=tl.float64).dtype is tl.float64


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.ones(2, 3, dtype=lib.int64) + 2.5,
        lambda lib: lib.ones(2, 3, dtype=lib.int64) / 2,
        lambda lib: lib.ones(3) + lib.ones(3, dtype=lib.float64),
        lambda lib: lib.ones(3, dtype=lib.int64) * lib.ones(3),
        lambda lib: lib.ones(3, dtype=lib.bool) + 1,
        lambda lib: lib.ones(3, dtype=lib.float64) * 3,
        lambda lib: lib.ones(3, dtype=lib.int64).sum(),
        lambda lib: lib.ones(3, dtype=lib.bool).sum(),
        lambda lib: lib.arange(5),
        lambda lib: lib.arange(0, 1, 0.25),
        lambda lib: lib.full((2,), 7),
        lambda lib: lib.ones(2) > 0,
    ],
)
def test_result_dtypes_match_torch(make):
    torch = torch_or_skip()
    ours, theirs = make(tl), make(torch)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_creation_functions():
    assert tl.zeros(2, 3).shape == (2, 3)
    assert tl.ones((4,)).tolist() == [1.0] * 4
    assert tl.full((2, 2), 3.0).sum().item() == 12.0
    assert tl.eye(3).numpy().trace() == 3
    assert tl.arange(1, 7, 2).tolist() == [1, 3, 5]
    assert tl.zeros_like(tl.ones(2, dtype=tl.int64)).dtype is tl.int64
    assert tl.stack([tl.ones(2), tl.zeros(2)]).shape == (2, 2)
    assert tl.cat([tl.ones(2, 1), tl.zeros(2, 3)], dim=1).shape == (2, 4)
    assert tl.linspace(0, 1, 5).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_manual_seed_makes_random_tensors_reproducible():
    tl.manual_seed(0)
    a = tl.randn(3, 4)
    b = tl.rand(2)
    tl.manual_seed(0)
    np.testing.assert_array_equal(a.numpy(), tl.randn(3, 4).numpy())
    np.testing.assert_array_equal(b.numpy(), tl.rand(2).numpy())
    g = tl.Generator().manual_seed(5)
    assert tl.randint(0, 10, (20,), generator=g).numpy().max() < 10
    assert sorted(tl.randperm(6).tolist()) == list(range(6))
    assert tl.normal(2.0, 0.0, (3,)).tolist() == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor([1.0, 2.0, 3.0]),
        lambda lib: lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True),
        lambda lib: lib.tensor([0.1, 0.25]),
        lambda lib: lib.tensor(3.5),
        lambda lib: lib.tensor([1, 2, 3]),
        lambda lib: lib.tensor([True, False]),
        lambda lib: lib.tensor([1.5, 2.0], dtype=lib.float64),
        lambda lib: (lib.tensor([1.0, 2.0], requires_grad=True) * 2).sum(),
    ],
)
def test_repr_matches_torch(make):
    torch = torch_or_skip()
    ours = repr(make(tl))
    theirs = repr(make(torch)).replace("torch.", "tensorlite.").replace("MulBackward0", "SumBackward0")
    assert ours == theirs


def test_shape_queries():
    x = tl.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.size() == (2, 3, 4)
    assert x.size(1) == 3 and x.size(-1) == 4
    assert x.dim() == 3 and x.ndim == 3 and x.numel() == 24
    assert repr(x.shape) == "tensorlite.Size([2, 3, 4])"
    assert len(x) == 2


def test_item_tolist_numpy():
    assert tl.tensor([[2.5]]).item() == 2.5
    assert tl.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        tl.ones(2).item()
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        tl.ones(2, requires_grad=True).numpy()


def test_slice_assignment_as_in_the_edge_lesson():
    X = tl.ones(6, 8)
    X[:, 2:6] = 0
    assert X.sum().item() == 6 * 4
    assert X[0].tolist() == [1, 1, 0, 0, 0, 0, 1, 1]
    X[X == 1] = tl.tensor(5.0)
    assert X.max().item() == 5


def test_data_shares_storage_for_manual_gradient_steps():
    w = tl.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w.data[:] -= 0.5 * w.grad
    assert w.tolist() == [0.0, 0.0]
    assert w.requires_grad and w.is_leaf


# name: (the op that may copy, whether torch's result shares x's storage)
COPY_OR_VIEW = {
    "index tensor": (lambda lib, x: x[lib.tensor([1, 0, 1])], False),
    "index list": (lambda lib, x: x[:, [2, 0]], False),
    "bool mask": (lambda lib, x: x[x > 0], False),
    "reshape that must copy": (lambda lib, x: x.t().reshape(-1), False),
    "flatten that must copy": (lambda lib, x: x.t().flatten(), False),
    "contiguous of a transpose": (lambda lib, x: x.t().contiguous(), False),
    "reshape that can view": (lambda lib, x: x.reshape(-1), True),
    "contiguous of a contiguous tensor": (lambda lib, x: x.contiguous(), True),
    "basic index": (lambda lib, x: x[1:, ::2], True),
    "narrow": (lambda lib, x: x.narrow(1, -2, 2), True),
}


@pytest.mark.parametrize("name", COPY_OR_VIEW)
def test_writes_into_a_copy_leave_the_source_alone_and_into_a_view_reach_it(name):
    """A gather, or a reshape or contiguous() that had to copy, is a new tensor in torch: an in-place op on it must
    not change x, nor x's gradient. A view's write reaches x."""
    make, shares = COPY_OR_VIEW[name]
    start = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]])
    x = tl.tensor(start)
    make(tl, x).mul_(10)
    changed = not np.array_equal(x.numpy(), start)
    assert changed == shares
    leaf = tl.tensor(start, requires_grad=True)
    x = leaf * 1
    out = make(tl, x)
    out.mul_(3)
    (x.sum() + out.sum()).backward()
    torch = pytest.importorskip("torch")
    torch_leaf = torch.tensor(start, requires_grad=True)
    torch_x = torch_leaf * 1
    torch_out = make(torch, torch_x)
    torch_out.mul_(3)
    (torch_x.sum() + torch_out.sum()).backward()
    np.testing.assert_array_equal(x.detach().numpy(), torch_x.detach().numpy())
    np.testing.assert_array_equal(leaf.grad.numpy(), torch_leaf.grad.numpy())


def test_is_contiguous_as_torch():
    x = tl.ones(2, 3)
    assert x.is_contiguous() and not x.t().is_contiguous() and x.t().contiguous().is_contiguous()
    assert not x[:, ::2].is_contiguous() and x[1:].is_contiguous() and x[2:].is_contiguous()  # x[2:]: no elements


def test_inplace_on_leaf_that_requires_grad_is_refused():
    w = tl.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w += 1
    with tl.no_grad():
        w -= 1
    assert w.tolist() == [0.0, 0.0]


def test_inplace_methods():
    x = tl.zeros(3)
    x.add_(2).mul_(3).sub_(1, alpha=2).div_(2)
    assert x.tolist() == [2.0, 2.0, 2.0]
    assert x.zero_().tolist() == [0.0, 0.0, 0.0]
    assert x.fill_(4).tolist() == [4.0, 4.0, 4.0]
    x.copy_(tl.tensor([1.0, 2.0, 3.0]))
    assert x.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize("method", ["add_", "sub_"])
@pytest.mark.parametrize("alpha", [-0.3, 2, 1])
def test_inplace_add_with_alpha_is_torchs(method, alpha):
    """alpha * other inside the op, recorded or not (an optimiser's update, and a graph through it), and an
    int tensor scaled by an int alpha; an int tensor with a float alpha is refused as in torch."""
    torch = torch_or_skip()
    rng = np.random.default_rng(7)
    base, other = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((3,)).astype(np.float32)
    for lib in (tl, torch):
        x, y = lib.tensor(base.copy()), lib.tensor(other)
        with lib.no_grad():
            getattr(x, method)(y, alpha=alpha)
        a, b = lib.tensor(base, requires_grad=True), lib.tensor(other, requires_grad=True)
        z = a * 1.5
        getattr(z, method)(b, alpha=alpha)
        (z * z).sum().backward()
        ints = lib.tensor([1, 2, 3])
        getattr(ints, method)(lib.tensor([4, 5, 6]), alpha=2 if alpha == 2 else 1)
        if lib is tl:
            got = (x.numpy(), z.detach().numpy(), a.grad.numpy(), b.grad.numpy(), ints.tolist())
        else:
            expected = (x.numpy(), z.detach().numpy(), a.grad.numpy(), b.grad.numpy(), ints.tolist())
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-6)
    with pytest.raises(RuntimeError, match="For integral input tensors, argument alpha must not be a floating point"):
        getattr(tl.tensor([1, 2]), method)(tl.tensor([1, 2]), alpha=0.5)


def test_inplace_float_into_int_is_refused():
    x = tl.zeros(3, dtype=tl.int64)
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        x += 0.5
    assert x.copy_(tl.tensor([1.5, 2.5, -0.5])).tolist() == [1, 2, 0]  # copy_ casts, as torch's does


def test_requires_grad_only_on_floating_tensors():
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        tl.tensor([1, 2], requires_grad=True)


def test_comparisons_and_logic():
    x = tl.tensor([1.0, -2.0, 3.0])
    assert (x > 0).tolist() == [True, False, True]
    assert ((x > 0) & (x < 2)).tolist() == [True, False, False]
    assert (~(x > 0)).tolist() == [False, True, False]
    assert tl.equal(x, x.clone()) and not tl.equal(x, x + 1)
    assert tl.allclose(x, x + 1e-9)
    assert x.argmax().item() == 2 and x.argmin().item() == 1
    assert tl.tensor([[1, 5], [7, 2]]).argmax(dim=1).tolist() == [1, 0]


def test_float_index_is_refused():
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        tl.ones(3)[tl.tensor([0.0])]


def test_to_dtype_and_conversions():
    x = tl.tensor([1.7, -2.2])
    assert x.long().tolist() == [1, -2]
    assert x.double().dtype is tl.float64
    assert x.to(tl.int32).dtype is tl.int32
    assert float(tl.tensor(2.5)) == 2.5 and int(tl.tensor(3)) == 3
    assert np.asarray(x).dtype == np.float32
