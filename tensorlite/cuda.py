"""``tl.cuda``: is an NVIDIA GPU usable through numba-cuda (the ``cuda`` extra) on this machine, and if not, why?

Four things must be in place before a kernel runs on a GPU, and ``why_unavailable`` checks them in this order:

1. numba-cuda, NVIDIA's CUDA target for numba (``pip install "tensorlite[cuda]"``). numba's own ``numba.cuda``,
   deprecated, is not used.
2. The NVIDIA driver (``libcuda.so``), which comes with the operating system's driver package, never from pip.
3. A GPU that the driver sees.
4. The CUDA compiler libraries numba-cuda builds kernels with: NVVM (CUDA's LLVM-based compiler), libdevice (its
   math library, a bitcode file next to NVVM) and NVRTC (the runtime compiler). The ``cuda`` extra installs them
   from pip, so no system CUDA toolkit is needed.

Under ``NUMBA_ENABLE_CUDASIM=1`` numba-cuda's simulator stands in for 2-4: the kernels run on the CPU as Python
threads. Tensors on ``'cuda'`` then work (``is_available()`` is True) but no GPU is used, and ``why_unavailable()``
says so.
"""
import importlib
import importlib.metadata

_NOT_INSTALLED = 'numba-cuda, which runs the CUDA kernels, is not installed; pip install "tensorlite[cuda]" installs it'
_SIMULATED = ("NUMBA_ENABLE_CUDASIM=1 is set, so numba-cuda's simulator runs the CUDA kernels on the CPU as Python "
              "threads and no GPU is used; unset it to use a GPU")
_NO_DRIVER = ("the NVIDIA driver library libcuda.so was not found; install the NVIDIA driver for the GPU, or set "
              "NUMBA_ENABLE_CUDASIM=1 to run the CUDA kernels on numba-cuda's simulator without one")
_NO_DEVICE = ("the NVIDIA driver is installed but sees no GPU, its cuInit answers CUDA_ERROR_NO_DEVICE; `nvidia-smi` "
              "lists the GPUs the driver sees, and CUDA_VISIBLE_DEVICES may be hiding them")

# The CUDA compiler libraries numba-cuda needs, by the names numba.cuda.cuda_paths gives them, and the pip packages
# that provide them for each CUDA major version (that of the installed cuda-bindings).
_LIBRARIES = {"nvvm": "NVVM", "libdevice": "libdevice", "nvrtc": "NVRTC"}
_PACKAGES = {
    12: {"nvvm": "nvidia-cuda-nvcc-cu12", "libdevice": "nvidia-cuda-nvcc-cu12", "nvrtc": "nvidia-cuda-nvrtc-cu12"},
    13: {"nvvm": "nvidia-nvvm", "libdevice": "nvidia-nvvm", "nvrtc": "nvidia-cuda-nvrtc"},
}


def _numba_cuda():
    """numba-cuda's ``numba.cuda``, or None when numba-cuda is not installed. Raises ImportError when it is installed
    but does not import (its CUDA Python bindings missing, for instance)."""
    try:
        importlib.import_module("numba_cuda")  # numba-cuda puts its numba.cuda over numba's own, deprecated, one
    except ImportError:
        return None
    from numba import cuda

    return cuda


def _simulated():
    """True when numba-cuda runs its simulator: it read NUMBA_ENABLE_CUDASIM=1 when numba.cuda was imported."""
    from numba.cuda.core import config

    return bool(config.ENABLE_CUDASIM)


def _first_line(text):
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def _driver_reason(error):
    """One sentence for numba-cuda's driver error message ``error`` (``numba.cuda.cuda_error()``)."""
    if "cannot be found" in error:  # numba.cuda.cudadrv.driver.DRIVER_NOT_FOUND_MSG
        return _NO_DRIVER
    if "CUDA_ERROR_NO_DEVICE" in error:
        return _NO_DEVICE
    if "NUMBA_DISABLE_CUDA" in error:
        return "NUMBA_DISABLE_CUDA=1 is set, which turns numba-cuda's CUDA support off; unset it to use a GPU"
    if "error occurred during load" in error:  # DRIVER_LOAD_ERROR_MSG, followed by the loader's messages
        details = [line.strip() for line in error.splitlines() if line.strip()][1:]
        return (f"an NVIDIA driver library was found but does not load ({'; '.join(details)}); reinstalling the "
                "NVIDIA driver usually mends it")
    return (f"the NVIDIA driver did not start ({_first_line(error)}); `nvidia-smi` shows whether the driver and "
            "the GPU work")


def _missing_libraries():
    """Which of NVVM, libdevice and NVRTC numba-cuda cannot find, as keys of ``_LIBRARIES``, using numba-cuda's own
    search (``numba.cuda.cuda_paths``: conda, the pip wheels, CUDA_HOME, /usr/local/cuda)."""
    from numba.cuda.cuda_paths import get_cuda_paths

    try:
        paths = get_cuda_paths()
    except Exception:  # it raises when NVVM or NVRTC is missing; ask for each one alone
        pass
    else:
        return [name for name in _LIBRARIES if paths[name].info is None]
    from cuda import pathfinder  # the finder numba-cuda itself asks for NVVM and NVRTC

    missing = []
    for name in ("nvvm", "nvrtc"):
        try:
            pathfinder.load_nvidia_dynamic_lib(name)
        except Exception:
            missing.append(name)
    return missing


def _cuda_major():
    """The CUDA major version numba-cuda runs with: that of the installed cuda-bindings (12 or 13)."""
    try:
        major = int(importlib.metadata.version("cuda-bindings").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 12
    return major if major in _PACKAGES else 12


def _toolkit_reason(missing):
    labels = [_LIBRARIES[name] for name in missing]
    names = " and ".join(filter(None, [", ".join(labels[:-1]), labels[-1]]))  # "NVVM, libdevice and NVRTC"
    packages = " ".join(dict.fromkeys(_PACKAGES[_cuda_major()][name] for name in missing))
    what, them = ("the CUDA compiler libraries", "them") if len(missing) > 1 else ("a CUDA compiler library", "it")
    return (f"numba-cuda cannot find {names}, {what} it builds kernels with; pip install {packages} provides {them}, "
            'and pip install "tensorlite[cuda]" installs every library numba-cuda needs')


def _reason():
    try:
        cuda = _numba_cuda()
    except ImportError as err:
        return (f"numba-cuda is installed but does not import ({_first_line(err)}); reinstall it with "
                'pip install "tensorlite[cuda]"')
    if cuda is None:
        return _NOT_INSTALLED
    if _simulated():
        return _SIMULATED
    driver_ready = cuda.is_available()  # numba-cuda's own check: the driver, a GPU, and NVVM
    if not driver_ready and cuda.cuda_error():
        return _driver_reason(cuda.cuda_error())
    missing = _missing_libraries()
    if missing:
        return _toolkit_reason(missing)
    if not driver_ready:
        return "numba-cuda finds the NVIDIA driver and the CUDA libraries but reports no usable GPU"
    return None


def why_unavailable():
    """None when tensorlite computes on a real GPU; otherwise one sentence saying why not and what to install or
    change. Under the simulator (``NUMBA_ENABLE_CUDASIM=1``) ``is_available()`` is True, since tensors on
    ``'cuda'`` work, yet this says that no GPU is used. Never raises."""
    try:
        return _reason()
    except Exception as err:  # a broken installation must not break the question about it
        return f"numba-cuda failed while looking for a GPU ({type(err).__name__}: {_first_line(err)})"


def is_available():
    """True when tensors can live on ``'cuda'``: numba-cuda sees a GPU and finds the libraries it compiles kernels
    with, or its simulator runs (``NUMBA_ENABLE_CUDASIM=1``). ``why_unavailable()`` says why not."""
    reason = why_unavailable()
    return reason is None or reason == _SIMULATED


def device_count():
    return len(_numba_cuda().gpus) if is_available() else 0


def get_device_name(device=0):
    reason = why_unavailable()
    if reason == _SIMULATED:
        return "numba-cuda simulator (no GPU)"
    if reason is not None:
        raise RuntimeError(f"No CUDA GPUs are available: {reason}")
    name = _numba_cuda().gpus[device].name
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed):
    """Does nothing: tensorlite draws every device's random numbers on the host from the one default generator, so
    ``tl.manual_seed`` already seeds what runs on a GPU, and there is no separate CUDA generator to seed."""


manual_seed_all = manual_seed
