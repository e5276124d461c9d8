"""The CUDA backend against the CPU backend: every op's values and gradients, a few training steps, devices.

Runs on numba's CUDA simulator when there is no GPU (tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1), so the
shapes are the tiny ones of the op tables in tests/test_ops.py and tests/nn/test_cnn.py, reused here.
"""
import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")

import tensorlite as tl  # noqa: E402
import tensorlite.nn.functional as F  # noqa: E402
from tensorlite import nn  # noqa: E402
from tests.autograd.test_double_backward import check_detached_operand_kept_apart  # noqa: E402
from tests.nn.test_cnn import CASES  # noqa: E402
from tests.test_ops import OPS, _arrays  # noqa: E402

if not tl.cuda.is_available():
    pytest.skip("numba.cuda sees no GPU and the simulator is off", allow_module_level=True)

RTOL, ATOL = 1e-4, 1e-5


def _run(fn, arrays, device):
    """fn on leaves made from ``arrays`` on ``device``; returns (outputs, grads) as NumPy arrays. The backward
    seed is a fixed random array, so every element of the output's gradient path is checked."""
    leaves = [tl.tensor(a, device=device, requires_grad=True) for a in arrays]
    out = fn(*leaves)
    assert out.device.type == device
    seed = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    (out * tl.tensor(seed, device=device)).sum().backward()
    grads = [None if t.grad is None else t.grad.cpu().numpy() for t in leaves]
    for t in leaves:
        assert t.grad is None or t.grad.device.type == device
    return out.detach().cpu().numpy(), grads


def _check(fn, arrays):
    out_cpu, grads_cpu = _run(fn, arrays, "cpu")
    out_cuda, grads_cuda = _run(fn, arrays, "cuda")
    assert out_cuda.dtype == out_cpu.dtype and out_cuda.shape == out_cpu.shape
    np.testing.assert_allclose(out_cuda, out_cpu, rtol=RTOL, atol=ATOL)
    for g_cuda, g_cpu in zip(grads_cuda, grads_cpu):
        assert (g_cuda is None) == (g_cpu is None)
        if g_cpu is not None:
            np.testing.assert_allclose(g_cuda, g_cpu, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", sorted(OPS))
def test_op_matches_cpu(name):
    fn, _, shapes = OPS[name]
    _check(fn, _arrays(shapes, np.float32))


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("name", sorted(CASES))
def test_cnn_op_matches_cpu(name):
    fn, shapes = CASES[name]
    _check(fn, _arrays(shapes, np.float32))


EXTRA = {
    "cross_entropy": (lambda x: F.cross_entropy(x, tl.tensor([0, 2, 1], device=x.device)), [(3, 4)]),
    "nll_loss_ignore": (lambda x: F.nll_loss(x.log_softmax(1), tl.tensor([1, -100, 3], device=x.device)), [(3, 4)]),
    "mse_loss": (lambda x, y: F.mse_loss(x, y), [(2, 3), (2, 3)]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), [(3, 3)]),
    "linear": (lambda x, w, b: F.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    "index_tensor": (lambda x: x[tl.tensor([2, 0], device=x.device)], [(3, 2)]),
    "argmax_mask": (lambda x: x * (x.argmax(dim=1, keepdim=True) == tl.arange(3, device=x.device)), [(2, 3)]),
    "logical_not_and_or": (lambda x: x * (~(x > 0) | (x > 1) & (x < 2)).float(), [(3, 3)]),
    "setitem_then_grad": (lambda x: x * _written(x), [(2, 3)]),
    "any_all": (lambda x: x * float((x > -10).all()) * float((x > 1).any() | True), [(2, 2)]),
}


def _written(x):
    mask = tl.zeros(2, 3, device=x.device)
    mask[[0, 1], [2, 0]] = 2.0
    mask[1, 1:] = tl.tensor([3.0, 4.0], device=x.device)
    return mask


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_more_ops_match_cpu(name):
    fn, shapes = EXTRA[name]
    _check(fn, _arrays(shapes, np.float32))


def _model():
    # no conv bias: before batch norm its gradient is ~0, and Adam would amplify rounding noise into a real step
    return nn.Sequential(
        nn.Conv2d(1, 2, 3, padding=1, bias=False), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * 2 * 2, 3),
    )


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_module_trains_to_the_same_parameters_on_cuda(optimizer):
    tl.manual_seed(0)
    cpu_model = _model()
    cuda_model = _model()
    cuda_model.load_state_dict(cpu_model.state_dict())
    assert cuda_model.to("cuda") is cuda_model
    assert all(p.device.type == "cuda" for p in cuda_model.parameters())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 4, 4)).astype(np.float32)
    y = np.array([0, 1, 2, 1])
    for model, device in ((cpu_model, "cpu"), (cuda_model, "cuda")):
        make = tl.optim.SGD if optimizer == "sgd" else tl.optim.Adam
        kwargs = {"lr": 0.1, "momentum": 0.5} if optimizer == "sgd" else {"lr": 0.01}
        opt = make(model.parameters(), **kwargs)
        for _ in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(model(tl.tensor(x, device=device)), tl.tensor(y, device=device))
            loss.backward()
            opt.step()
    for (name, a), (_, b) in zip(cpu_model.state_dict().items(), cuda_model.state_dict().items()):
        assert b.device.type == "cuda", name
        np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


def test_mixed_devices_raise_torchs_error():
    a, b = tl.ones(2), tl.ones(2, device="cuda")
    message = "Expected all tensors to be on the same device"
    for fn in (lambda: a + b, lambda: b * a, lambda: tl.cat([a, b]), lambda: a @ b, lambda: a.add_(b),
               lambda: F.conv2d(tl.ones(1, 1, 3, 3), tl.ones(1, 1, 2, 2, device="cuda"))):
        with pytest.raises(RuntimeError, match=message):
            fn()


def test_data_stays_on_the_device_and_moves_only_when_asked():
    x = tl.tensor([[1.0, -2.0], [3.0, 4.0]], device="cuda")
    assert x.is_cuda and x.device == tl.device("cuda") and str(x.device) in ("cuda", "cuda:0")
    assert not isinstance(x._array, np.ndarray)  # a numba device array
    y = (x * 2).relu().sum(dim=0)
    assert y.device.type == "cuda" and not isinstance(y._array, np.ndarray)
    assert y.tolist() == [8.0, 8.0] and y.numpy().tolist() == [8.0, 8.0]
    assert (x.cpu() + 1).device.type == "cpu" and x.cpu().tolist() == [[1.0, -2.0], [3.0, 4.0]]
    assert x.sum().item() == 6.0 and float(x[1, 1]) == 4.0
    assert "device='cuda" in repr(x) and "tensor([[ 1., -2.]" in str(x)
    z = x.cpu().cuda()
    assert z.is_cuda and z.to("cpu").tolist() == x.tolist()
    assert x.to(tl.float64).dtype is tl.float64 and x.to(tl.float64).is_cuda


def test_creation_functions_take_device():
    for t in (tl.zeros(2, 3, device="cuda"), tl.ones(2, device="cuda"), tl.full((2,), 7.0, device="cuda"),
              tl.arange(5, device="cuda"), tl.eye(3, device="cuda"), tl.rand(2, device="cuda"),
              tl.randn(2, 2, device=tl.device("cuda")), tl.empty(3, device="cuda"), tl.zeros_like(tl.ones(2, device="cuda"))):
        assert t.device.type == "cuda", t
    assert tl.arange(1, 7, 2, device="cuda").tolist() == [1, 3, 5]
    assert tl.eye(2, 3, device="cuda").tolist() == [[1, 0, 0], [0, 1, 0]]
    tl.manual_seed(3)
    a = tl.randn(4)
    tl.manual_seed(3)
    assert tl.randn(4, device="cuda").tolist() == a.tolist()  # one seed, the same numbers on every device


def test_in_place_updates_and_setitem_on_cuda():
    x = tl.zeros(2, 4, device="cuda")
    x[:, 1:3] = 1.0
    x[0] = tl.tensor([5.0, 6.0, 7.0, 8.0], device="cuda")
    x.add_(1).mul_(2)
    assert x.tolist() == [[12, 14, 16, 18], [2, 4, 4, 2]]
    assert tl.zeros(2, dtype=tl.int64, device="cuda").copy_(tl.ones(2, device="cuda")).tolist() == [1, 1]
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type Long"):
        tl.zeros(2, dtype=tl.int64, device="cuda").add_(0.5)


def test_writes_through_views_reach_the_base_on_cuda():
    """The GPU's layout ops copy, so a view there is a copy kept in step with its base: a write through it is
    copied back, and a view made before the base changed reads it again."""
    y = tl.ones(4, device="cuda")
    later = y[2:4]
    y[0:2].mul_(3)
    y[1:3] = 7
    assert y.tolist() == [3, 7, 7, 1] and later.tolist() == [7, 1]
    y.reshape(2, 2).add_(1)
    assert y.tolist() == [4, 8, 8, 2]
    for device in ("cpu", "cuda"):
        x = tl.ones(4, device=device, requires_grad=True)
        z = x * 1
        z[1:3].mul_(x[0:2])
        z.sum().backward()
        assert x.grad.tolist() == [2, 2, 1, 1]


# views the GPU's layout ops copy; torch's is_contiguous() of each, on a row-major (3, 4) tensor
VIEWS = {
    "a row": (lambda x: x[1], True),
    "rows": (lambda x: x[1:], True),
    "one element": (lambda x: x[1, 2:3], True),
    "no elements": (lambda x: x[3:], True),
    "transposed twice": (lambda x: x.t().t(), True),
    "transposed": (lambda x: x.t(), False),
    "columns": (lambda x: x[:, 1:], False),
    "one column": (lambda x: x[:, 1:2], False),
    "every other row": (lambda x: x[::2], False),
    "expanded": (lambda x: x[:1].expand(3, 4), False),
}


@pytest.mark.parametrize("name", VIEWS)
def test_copied_views_are_contiguous_where_torch_views_are(name):
    """is_contiguous() as torch's, and contiguous() of a view torch finds contiguous is that view: a write into it
    reaches the base on the GPU as on the CPU (it did not, when every copied view counted as not contiguous)."""
    make, contiguous = VIEWS[name]
    bases = {device: tl.arange(12.0, device=device).reshape(3, 4) for device in ("cpu", "cuda")}
    for device, base in bases.items():
        view = make(base)
        assert view.is_contiguous() == contiguous, device
        if contiguous:
            view.contiguous().add_(100)
    np.testing.assert_array_equal(bases["cuda"].cpu().numpy(), bases["cpu"].numpy())


def test_a_tensor_beside_its_detached_self_keeps_them_apart_on_cuda():
    check_detached_operand_kept_apart("cuda")


def test_gradients_cross_devices_through_to():
    w = tl.tensor([1.0, 2.0], requires_grad=True)
    (w.cuda() * 3).sum().backward()
    assert w.grad.device.type == "cpu" and w.grad.tolist() == [3.0, 3.0]


def test_dropout_draws_its_mask_on_the_device():
    x = tl.ones(4, 50, device="cuda", requires_grad=True)
    tl.manual_seed(0)
    y = F.dropout(x, 0.25)
    tl.manual_seed(0)
    again = F.dropout(x, 0.25)
    assert y.device.type == "cuda" and y.tolist() == again.tolist()  # one seed, one mask
    kept = (y != 0).float().mean().item()
    assert 0.6 < kept < 0.9 and set(np.unique(y.detach().numpy()).tolist()) <= {0.0, float(np.float32(1 / 0.75))}
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # the gradient goes through the same mask
    assert F.dropout(x, 0.25, training=False) is x


def test_training_loop_runs_on_cuda():
    """The MNIST command's epoch loop (tensorlite train mnist --device cuda), on a tiny model and data set."""
    from tensorlite.data import DataLoader, TensorDataset
    from tensorlite.train.mnist import evaluate, train_one_epoch

    tl.manual_seed(0)
    rng = np.random.default_rng(0)
    images, labels = tl.tensor(rng.standard_normal((8, 1, 4, 4)).astype(np.float32)), tl.tensor(rng.integers(0, 3, 8))
    loader = DataLoader(TensorDataset(images, labels), batch_size=4)
    model = _model().to("cuda")
    optimizer = tl.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    losses, _ = train_one_epoch(model, loader, optimizer, "cuda", 1, 1)
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert 0.0 <= evaluate(model, loader, "cuda") <= 1.0


def test_every_kernel_compiles_for_the_real_target():
    """The simulator runs kernels as Python and never type-checks them for the device; compiling to PTX does. It
    needs NVVM, libdevice and NVRTC, which the cuda extra installs: so this runs wherever the extra is installed,
    with or without a GPU."""
    missing = tl.cuda._missing_libraries()  # numba-cuda's own search, as ptx_check's compilation will do it
    if missing:
        pytest.skip(tl.cuda._toolkit_reason(missing))
    import os
    import subprocess
    import sys

    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    done = subprocess.run([sys.executable, "-m", "tests.cuda.ptx_check"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " 0 failed" in done.stdout


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda x, w: F.max_pool2d(F.conv2d(x, w, padding=1), 2).log_softmax(1), [(1, 2, 4, 4), (2, 2, 3, 3)]),
        (lambda x, w: F.batch_norm(x, None, None, w, None, training=True).tanh().var(dim=(0, 2)), [(3, 2, 2), (2,)]),
        (lambda a, b: ((a @ b).sigmoid() / (1 + b.abs().sum())).amax(dim=0), [(2, 3), (3, 2)]),
    ],
)
def test_gradcheck_in_float64_on_cuda(fn, shapes):
    inputs = [tl.tensor(a, device="cuda", requires_grad=True) for a in _arrays(shapes, np.float64)]
    assert tl.autograd.gradcheck(fn, inputs)
