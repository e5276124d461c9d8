"""``tl.cuda``: is an NVIDIA GPU usable through numba.cuda (the ``cuda`` extra) on this machine?"""
import functools


@functools.lru_cache(maxsize=None)
def _numba_cuda():
    try:
        from numba import cuda
    except ImportError:
        return None
    return cuda


def is_available():
    """True when numba.cuda can see a GPU (or its simulator runs, under ``NUMBA_ENABLE_CUDASIM=1``)."""
    cuda = _numba_cuda()
    try:
        return bool(cuda is not None and cuda.is_available())
    except Exception:  # a driver that fails to initialise means: not available
        return False


def device_count():
    return len(_numba_cuda().gpus) if is_available() else 0


def get_device_name(device=0):
    if not is_available():
        raise RuntimeError("No CUDA GPUs are available")
    name = _numba_cuda().gpus[device].name
    return name.decode() if isinstance(name, bytes) else str(name)


def manual_seed(seed):
    """Does nothing: tensorlite draws every device's random numbers on the host from the one default generator, so
    ``tl.manual_seed`` already seeds what runs on a GPU, and there is no separate CUDA generator to seed."""


manual_seed_all = manual_seed
