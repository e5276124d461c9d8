"""Backends: one module of kernels per device type, chosen in exactly one place, ``backend_for``.

A backend is a module exposing the same kernel functions on its own array type: creation and transfer
(``asarray``, ``to_numpy``, ``zeros``, ``full``, ``arange``, ``eye``), elementwise math (``add``, ``exp``, ...,
``where``, comparisons), reductions (``sum``, ``max``, ``argmax``, ...), ``matmul``, layout (``reshape``,
``transpose``, ``broadcast_to``, ``concatenate``, ``getitem``/``setitem``/``index_add``) and the
neural-network kernels (softmax, convolution, pooling, normalisation). ``reference`` holds slow, plain
versions of the neural-network kernels: the oracle the tests compare the fast ones against.

The CPU has two kernel sets: ``fast`` (``cpu``, the default) and ``reference`` (``cpu_reference``: the same
module with every neural-network kernel replaced by the plain one from ``reference``, to read and step through
in a debugger while a real model trains). ``TENSORLITE_KERNELS=reference|fast`` picks one at import,
``use_kernels`` at run time; ``kernels`` says which is in use. The CUDA backend has one set.

``conv2d_forward`` and ``conv2d_backward`` take a ``workspace``: a dict that the op hands to both passes of one
call when backward will follow (None otherwise). A backend may leave in it what forward computed and backward
needs again: the CPU kernels keep their im2col columns there; the reference and CUDA kernels leave it empty.

``cudnn`` and ``mps`` are not backends: they hold torch's ``torch.backends.cudnn`` / ``torch.backends.mps``
switches and queries (``cudnn.benchmark``, ``mps.is_available()``), which tensorlite accepts and needs nothing from.
"""
import importlib
import os

from . import cudnn, mps  # noqa: F401  (torch's switches, not kernel sets)

KERNEL_SETS = {"fast": "tensorlite.backends.cpu", "reference": "tensorlite.backends.cpu_reference"}
_BACKEND_MODULES = {"cpu": KERNEL_SETS["fast"], "cuda": "tensorlite.backends.cuda"}
_loaded = {}
_kernels = None  # set below, from TENSORLITE_KERNELS


def backend_for(device):
    """The kernel module that computes on ``device`` (a ``tensorlite.device``); the current kernel set's on the CPU."""
    try:
        return _loaded[device.type]
    except KeyError:
        pass
    try:
        module = importlib.import_module(_BACKEND_MODULES[device.type])
    except ImportError as err:
        raise RuntimeError(f"the {device.type} backend is not available: {err}") from err
    _loaded[device.type] = module
    return module


def use_kernels(name):
    """Compute on the CPU with the kernel set ``name`` from now on: "fast" (Numba, the default) or "reference"
    (the plain NumPy kernels of ``tensorlite.backends.reference``). Existing tensors keep working: both sets
    compute on NumPy arrays."""
    global _kernels
    _kernels = _checked(name, "use_kernels()")
    _BACKEND_MODULES["cpu"] = KERNEL_SETS[name]
    _loaded.pop("cpu", None)


def kernels():
    """The name of the CPU kernel set in use: "fast" or "reference"."""
    return _kernels


def _checked(name, source):
    if name not in KERNEL_SETS:
        raise ValueError(f"{source}: expected one of {', '.join(map(repr, KERNEL_SETS))}, but got {name!r}")
    return name


use_kernels(_checked(os.environ.get("TENSORLITE_KERNELS") or "fast", "TENSORLITE_KERNELS"))
