"""``tl.backends.mps``: Apple's Metal GPUs, which tensorlite has no backend for (it computes on the CPU or on NVIDIA
GPUs through numba.cuda)."""


def is_available():
    return False


def is_built():
    return False
