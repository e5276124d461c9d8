"""The two CPU kernel sets: TENSORLITE_KERNELS picks one at import, tl.use_kernels switches at run time, and a
model computes the same numbers on either; the reference set's neural-network kernels are reference.py's own."""
import inspect
import os
import subprocess
import sys

import numpy as np
import pytest

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import backends, nn
from tensorlite.backends import backend_for, cpu, cpu_reference, reference

CPU = tl.device("cpu")
# The CPU backend's neural-network kernels: the functions it takes from its kernel modules (conv, pool, ...).
NN_KERNELS = sorted(name for name, f in vars(cpu).items()
                    if inspect.isfunction(f) and f.__module__.startswith("tensorlite.backends.cpu."))


@pytest.fixture(autouse=True)
def restore_kernels():
    """Each test leaves the kernel set as it found it."""
    before = backends.kernels()
    yield
    tl.use_kernels(before)


def run_python(*args, kernels=None):
    """``python *args`` with TENSORLITE_KERNELS set to ``kernels`` (unset for None), and without the CUDA simulator
    that the test session turns on, as a user runs it."""
    env = {k: v for k, v in os.environ.items() if k not in ("TENSORLITE_KERNELS", "NUMBA_ENABLE_CUDASIM")}
    if kernels is not None:
        env["TENSORLITE_KERNELS"] = kernels
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kernels, expected", [(None, "fast"), ("", "fast"), ("fast", "fast"),
                                               ("reference", "reference")])
def test_the_environment_variable_picks_the_set_at_import(kernels, expected):
    script = ("import tensorlite as tl\nfrom tensorlite.backends import backend_for, kernels\n"
              "print(kernels(), backend_for(tl.device('cpu')).__name__)")
    done = run_python("-c", script, kernels=kernels)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [expected, backends.KERNEL_SETS[expected]]


def test_an_unknown_name_in_the_environment_stops_the_import():
    done = run_python("-c", "import tensorlite", kernels="numba")
    assert done.returncode != 0
    assert "ValueError: TENSORLITE_KERNELS: expected one of 'fast', 'reference', but got 'numba'" in done.stderr


@pytest.mark.parametrize("kernels", ["fast", "reference"])
def test_info_prints_the_kernel_set(kernels):
    done = run_python("-m", "tensorlite", "info", kernels=kernels)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("kernels")] == [f"kernels: {kernels}"]


def test_use_kernels_switches_the_cpu_backend_and_only_it():
    cuda = backend_for(tl.device("cuda"))
    tl.use_kernels("reference")
    assert backends.kernels() == "reference" and backend_for(CPU) is cpu_reference
    assert backend_for(tl.device("cuda")) is cuda
    tl.use_kernels("fast")
    assert backends.kernels() == "fast" and backend_for(CPU) is cpu
    assert backend_for(tl.device("cuda")) is cuda


def test_the_reference_set_is_the_cpu_backend_with_reference_nn_kernels():
    """Every neural-network kernel of the CPU backend is replaced by reference.py's; everything else is the CPU
    backend's own function (so a fast kernel added without a reference one fails here)."""
    assert NN_KERNELS == ["avg_pool2d_backward", "avg_pool2d_forward", "batch_norm_backward", "batch_norm_forward",
                          "conv2d_backward", "conv2d_forward", "log_softmax", "max_pool2d_backward",
                          "max_pool2d_forward", "relu_backward", "sigmoid", "softmax"]
    tl.use_kernels("reference")
    backend = backend_for(CPU)
    for name in NN_KERNELS:
        assert getattr(backend, name) is getattr(reference, name), name
    for name, f in vars(cpu).items():
        if callable(f) and name not in NN_KERNELS and not name.startswith("_"):
            assert getattr(backend, name) is f, name


def test_use_kernels_refuses_an_unknown_name_and_keeps_the_set():
    tl.use_kernels("reference")
    with pytest.raises(ValueError, match=r"use_kernels\(\): expected one of 'fast', 'reference', but got 'numba'"):
        tl.use_kernels("numba")
    assert backends.kernels() == "reference" and backend_for(CPU) is cpu_reference


def small_cnn():
    """Convolutions on each of the fast backend's routes (direct, depthwise, im2col + GEMM), batch norm, both
    poolings, and a head that uses log_softmax, softmax and sigmoid."""
    tl.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1),              # stride 1, small window: direct
        nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1, groups=4),    # depthwise
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1),    # strided: im2col + GEMM
        nn.AvgPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(6 * 1 * 1, 3),
    )


def forward_and_backward(model, x, target):
    """The logits, the loss and every gradient (input and parameters) of one step, as NumPy arrays."""
    model.zero_grad()
    x = tl.tensor(x, requires_grad=True)
    logits = model(x)
    loss = F.cross_entropy(logits, tl.tensor(target)) + F.softmax(logits, 1)[:, 0].sum() + logits.sigmoid().mean()
    loss.backward()
    grads = [p.grad.numpy() for p in model.parameters()]
    return [logits.detach().numpy(), loss.detach().numpy(), x.grad.numpy()] + grads


def recording(kernel, called):
    """``kernel``, adding its name to ``called`` whenever it runs."""
    def run(*args, **kwargs):
        called.add(kernel.__name__)
        return kernel(*args, **kwargs)
    return run


@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 1e-4), (np.float64, 1e-10)])
def test_a_model_computes_the_same_under_both_sets_on_the_reference_kernels(monkeypatch, dtype, tolerance):
    """Forward and backward of a small CNN agree under the two sets; under the reference set every neural-network
    kernel the step needs is a call into reference.py."""
    model = small_cnn().double() if dtype == np.float64 else small_cnn()
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((5, 2, 8, 8)).astype(dtype), rng.integers(0, 3, 5)
    tl.use_kernels("fast")
    fast = forward_and_backward(model, x, target)
    called = set()
    for name in NN_KERNELS:
        monkeypatch.setattr(cpu_reference, name, recording(getattr(reference, name), called))
    tl.use_kernels("reference")
    slow = forward_and_backward(model, x, target)
    assert called == set(NN_KERNELS) and len(slow) == len(fast) == 3 + len(list(model.parameters()))
    for got, expected in zip(slow, fast):
        assert got.dtype == expected.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)
