"""``tl.accelerator``: torch's device-agnostic questions about the machine's accelerator. tensorlite's one kind of
accelerator is an NVIDIA GPU through numba.cuda (``tl.cuda``), so each answer is ``tl.cuda``'s.

    device = tl.accelerator.current_accelerator() or tl.device("cpu")
"""
from . import cuda
from .device import device


def is_available():
    """True when a GPU is usable (``tl.cuda.is_available()``)."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``tl.device('cuda')`` when a GPU is usable, else None (tensorlite is never built for an accelerator it
    cannot see, so ``check_available`` changes nothing)."""
    return device("cuda") if cuda.is_available() else None


def device_count():
    return cuda.device_count()
