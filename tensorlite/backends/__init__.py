"""Backends: one module of kernels per device type, chosen in exactly one place, ``backend_for``.

A backend is a module exposing the same kernel functions on its own array type: creation and transfer
(``asarray``, ``to_numpy``, ``zeros``, ``full``, ``arange``, ``eye``), elementwise math (``add``, ``exp``, ...,
``where``, comparisons), reductions (``sum``, ``max``, ``argmax``, ...), ``matmul``, layout (``reshape``,
``transpose``, ``broadcast_to``, ``concatenate``, ``getitem``/``setitem``/``index_add``) and the
neural-network kernels (softmax, convolution, pooling, normalisation). ``reference`` holds slow, plain
versions of the neural-network kernels: the oracle the tests compare the fast ones against.
"""
import importlib

_BACKEND_MODULES = {"cpu": "tensorlite.backends.cpu", "cuda": "tensorlite.backends.cuda"}
_loaded = {}


def backend_for(device):
    """The kernel module that computes on ``device`` (a ``tensorlite.device``)."""
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
