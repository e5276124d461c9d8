"""Backends: one module of kernels per device type, chosen in exactly one place, ``backend_for``.

A backend is a module exposing the same kernel functions on its own array type: creation and transfer
(``asarray``, ``to_numpy``, ``zeros``, ``full``, ``arange``, ``eye``), elementwise math (``add``, ``exp``, ...,
``where``, comparisons), reductions (``sum``, ``max``, ``argmax``, ...), ``matmul``, layout (``reshape``,
``transpose``, ``broadcast_to``, ``concatenate``, ``getitem``/``setitem``/``index_add``) and the
neural-network kernels (softmax, convolution, pooling, normalisation). ``reference`` holds slow, plain
versions of the neural-network kernels: the oracle the tests compare the fast ones against.

``conv2d_forward`` and ``conv2d_backward`` take a ``workspace``: a dict that the op hands to both passes of one
call when backward will follow (None otherwise). A backend may leave in it what forward computed and backward
needs again: the CPU kernels keep their im2col columns there; the reference and CUDA kernels leave it empty.
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
