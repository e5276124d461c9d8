"""tl.cuda.why_unavailable: one sentence for each thing that keeps tensorlite off a GPU, checked by standing in for
numba-cuda's answers; and what `tensorlite info` and a tensor asked for on 'cuda' say, on this machine as it is."""
import os
import subprocess
import sys
from collections import namedtuple
from types import SimpleNamespace

import pytest

import tensorlite as tl
from tensorlite import cuda
from tensorlite.cli import _cuda_status

# numba-cuda 0.30's own messages (numba.cuda.cudadrv.driver), as numba.cuda.cuda_error() returns them.
DRIVER_NOT_FOUND = ("\nCUDA driver library cannot be found.\nEnsure that a compatible NVIDIA driver is installed and "
                    "available on your system path.\n")
DRIVER_LOAD_ERROR = ("\nPossible CUDA driver libraries are found but error occurred during load:\n"
                     "libcuda.so: cannot open shared object file: No such file or directory\n"
                     "/usr/lib/libcuda.so.1: wrong ELF class: ELFCLASS32\n")
NO_DEVICE = "Call to cuInit results in CUDA_ERROR_NO_DEVICE (<CUresult.CUDA_ERROR_NO_DEVICE: 100>)"
MISMATCH = ("Call to cuInit results in CUDA_ERROR_SYSTEM_DRIVER_MISMATCH "
            "(<CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH: 803>)")
DISABLED = ("CUDA is disabled due to setting NUMBA_DISABLE_CUDA=1 in the environment, or because CUDA is unsupported "
            "on 32-bit systems.")


def _needs_numba_cuda():
    pytest.importorskip("numba_cuda", reason="the cuda extra (numba-cuda) is not installed")


@pytest.fixture
def machine(monkeypatch):
    """Stand in for numba-cuda on a machine described by the returned function's arguments: whether its
    ``is_available()`` is True, its ``cuda_error()`` message, and which CUDA libraries are missing."""
    def describe(available=False, error=None, missing=(), gpu_name=b"NVIDIA GeForce RTX 3060"):
        fake = SimpleNamespace(is_available=lambda: available, cuda_error=lambda: error,
                               gpus=[SimpleNamespace(name=gpu_name)])
        monkeypatch.setattr(cuda, "_numba_cuda", lambda: fake)
        monkeypatch.setattr(cuda, "_simulated", lambda: False)
        monkeypatch.setattr(cuda, "_missing_libraries", lambda: list(missing))
    return describe


def _assert_unavailable(*phrases):
    reason = cuda.why_unavailable()
    assert reason is not None and all(phrase in reason for phrase in phrases), reason
    assert "\n" not in reason
    assert not cuda.is_available() and cuda.device_count() == 0
    assert _cuda_status(cuda) == f"no ({reason})"
    with pytest.raises(RuntimeError, match="No CUDA GPUs are available: ") as raised:
        cuda.get_device_name()
    assert reason in str(raised.value)
    return reason


def test_a_gpu_with_the_driver_and_the_libraries_is_usable(machine):
    machine(available=True)
    assert cuda.why_unavailable() is None and cuda.is_available() and cuda.device_count() == 1
    assert cuda.get_device_name() == "NVIDIA GeForce RTX 3060"
    assert _cuda_status(cuda) == "yes (NVIDIA GeForce RTX 3060)"


def test_without_numba_cuda_it_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba_cuda", None)  # import numba_cuda now fails, as when it is not installed
    reason = _assert_unavailable("numba-cuda", 'pip install "tensorlite[cuda]"')
    assert reason == cuda._NOT_INSTALLED


def test_a_numba_cuda_that_does_not_import_is_named(monkeypatch):
    def broken():
        raise ImportError("NVIDIA CUDA Python bindings not found. Install the 'cuda' package")
    monkeypatch.setattr(cuda, "_numba_cuda", broken)
    _assert_unavailable("numba-cuda is installed but does not import (NVIDIA CUDA Python bindings not found",
                        'pip install "tensorlite[cuda]"')


@pytest.mark.parametrize("error, phrases", [
    (DRIVER_NOT_FOUND, ["the NVIDIA driver library libcuda.so was not found", "install the NVIDIA driver",
                        "NUMBA_ENABLE_CUDASIM=1"]),
    (DRIVER_LOAD_ERROR, ["an NVIDIA driver library was found but does not load",
                         "/usr/lib/libcuda.so.1: wrong ELF class: ELFCLASS32", "reinstalling the NVIDIA driver"]),
    (NO_DEVICE, ["the NVIDIA driver is installed but sees no GPU", "CUDA_ERROR_NO_DEVICE", "nvidia-smi",
                 "CUDA_VISIBLE_DEVICES"]),
    (DISABLED, ["NUMBA_DISABLE_CUDA=1 is set", "unset it"]),
    (MISMATCH, ["the NVIDIA driver did not start (Call to cuInit results in CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
                "nvidia-smi"]),
], ids=["no driver", "driver does not load", "no device", "disabled", "driver does not start"])
def test_each_driver_failure_has_its_own_sentence(machine, error, phrases):
    machine(available=False, error=error, missing=["nvrtc"])  # the driver is the first thing to mend
    _assert_unavailable(*phrases)


@pytest.mark.parametrize("major, missing, phrases", [
    (12, ["nvrtc"], ["numba-cuda cannot find NVRTC, a CUDA compiler library it builds kernels with",
                     "pip install nvidia-cuda-nvrtc-cu12 provides it,"]),
    (12, ["nvvm", "libdevice"], ["cannot find NVVM and libdevice, the CUDA compiler libraries it builds kernels with",
                                 "pip install nvidia-cuda-nvcc-cu12 provides them,"]),
    (12, ["nvvm", "libdevice", "nvrtc"], ["cannot find NVVM, libdevice and NVRTC, the CUDA",
                                          "pip install nvidia-cuda-nvcc-cu12 nvidia-cuda-nvrtc-cu12 provides"]),
    (13, ["nvvm", "libdevice"], ["cannot find NVVM and libdevice,", "pip install nvidia-nvvm provides"]),
    (13, ["nvrtc"], ["pip install nvidia-cuda-nvrtc provides"]),
])
def test_missing_compiler_libraries_are_named_with_the_package_that_provides_them(machine, monkeypatch, major,
                                                                                  missing, phrases):
    machine(available=True, missing=missing)
    monkeypatch.setattr(cuda, "_cuda_major", lambda: major)
    _assert_unavailable(*phrases, 'pip install "tensorlite[cuda]" installs every library numba-cuda needs')


def test_missing_nvvm_is_found_when_numba_cuda_reports_no_gpu_without_a_driver_error(machine):
    machine(available=False, error=None, missing=["nvvm", "libdevice"])  # numba.cuda.is_available() checks NVVM too
    _assert_unavailable("numba-cuda cannot find NVVM and libdevice")


def test_the_question_never_raises(monkeypatch):
    def failing():
        raise RuntimeError("cuInit crashed")
    monkeypatch.setattr(cuda, "_numba_cuda", lambda: SimpleNamespace(is_available=failing))
    monkeypatch.setattr(cuda, "_simulated", lambda: False)
    _assert_unavailable("numba-cuda failed while looking for a GPU (RuntimeError: cuInit crashed)")


def test_the_simulator_works_but_says_no_gpu_is_used():
    _needs_numba_cuda()
    if not cuda._simulated():
        pytest.skip("this run uses a real GPU (TENSORLITE_REAL_CUDA=1)")
    reason = cuda.why_unavailable()
    assert "NUMBA_ENABLE_CUDASIM=1" in reason and "no GPU is used" in reason
    assert cuda.is_available() and cuda.device_count() == 1
    assert cuda.get_device_name() == "numba-cuda simulator (no GPU)"
    assert _cuda_status(cuda) == "simulated (NUMBA_ENABLE_CUDASIM=1; no GPU is used)"
    assert tl.ones(2, device="cuda").tolist() == [1.0, 1.0]


Path = namedtuple("Path", "by info")


def test_missing_libraries_reads_numba_cudas_own_search(monkeypatch):
    _needs_numba_cuda()
    import numba.cuda.cuda_paths as cuda_paths

    found = {"nvvm": Path("site-packages", "/x/libnvvm.so"), "nvrtc": Path("site-packages", "/x/libnvrtc.so.12"),
             "libdevice": Path("<unknown>", None)}
    monkeypatch.setattr(cuda_paths, "get_cuda_paths", lambda: found)
    assert cuda._missing_libraries() == ["libdevice"]
    found["libdevice"] = Path("NVIDIA NVCC Wheel", "/x/libdevice.10.bc")
    assert cuda._missing_libraries() == []


def test_missing_libraries_asks_for_each_library_when_numba_cudas_search_fails(monkeypatch):
    _needs_numba_cuda()
    import numba.cuda.cuda_paths as cuda_paths
    from cuda import pathfinder

    def search():
        raise pathfinder.DynamicLibNotFoundError('Failure finding "libnvrtc.so.13 or libnvrtc.so.12"')

    def load(name):
        if name == "nvrtc":
            raise pathfinder.DynamicLibNotFoundError(name)
        return SimpleNamespace(abs_path=f"/x/lib{name}.so")

    monkeypatch.setattr(cuda_paths, "get_cuda_paths", search)
    monkeypatch.setattr(pathfinder, "load_nvidia_dynamic_lib", load)
    assert cuda._missing_libraries() == ["nvrtc"]


# On this machine as it is, without the simulator: what info prints, and what a tensor asked for on 'cuda' raises.
SCRIPT = """
import tensorlite as tl
from tensorlite.cli import main
main(["info"])
print("reason:", tl.cuda.why_unavailable())
try:
    print("created:", tl.tensor([1.0], device="cuda").device)
except RuntimeError as err:
    print("raised:", err)
"""


def _run(script, simulator):
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1" if simulator else "0")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return dict(line.split(": ", 1) for line in done.stdout.splitlines() if ": " in line)


@pytest.fixture(scope="module")
def without_simulator():
    return _run(SCRIPT, simulator=False)


def test_info_says_why_cuda_is_unavailable(without_simulator):
    reason = without_simulator["reason"]
    if reason == "None":
        assert without_simulator["cuda available"].startswith("yes (")
    else:
        assert without_simulator["cuda available"] == f"no ({reason})"


def test_a_tensor_on_cuda_without_a_gpu_raises_with_the_reason(without_simulator):
    reason = without_simulator["reason"]
    if reason == "None":
        assert without_simulator["created"] == "cuda"
    else:
        assert without_simulator["raised"] == f"the cuda backend is not available: {reason}"


def test_info_under_the_simulator():
    _needs_numba_cuda()
    out = _run(SCRIPT, simulator=True)
    assert out["cuda available"] == "simulated (NUMBA_ENABLE_CUDASIM=1; no GPU is used)"
    assert out["created"] == "cuda"
