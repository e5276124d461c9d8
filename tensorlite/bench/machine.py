"""What the numbers were measured on: the processor, the library versions and threads, the date, and the
machine's practical ceiling for float32 arithmetic, the speed of one large matrix product (GEMM).

A convolution done as im2col + GEMM cannot beat the GEMM it calls, so GEMM GFLOP/s is the figure to read
a convolution's GFLOP/s against. An n x n by n x n product takes 2 n^3 FLOPs (n^3 multiply-adds).
"""
import datetime
import os
import platform

import numba
import numpy as np

import tensorlite as tl

from ..threads import cpu_model, thread_policy
from .timing import fastest_in_turns


def describe_machine(torch=None):
    """The processor, logical CPUs, versions, thread counts and the date, as a flat dict; also
    ``OPENBLAS_CORETYPE`` when the environment sets it, since it picks the kernels of numpy's BLAS (an AVX2
    core type on an AVX-512 processor halves the GEMM ceiling)."""
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorlite": tl.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "numba_threads": numba.get_num_threads(),
        "thread_policy": thread_policy(),
        "torch": torch.__version__ if torch else None,
        "torch_threads": torch.get_num_threads() if torch else None,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def gemm_ceiling(size, repeat, torch=None):
    """GFLOP/s of a float32 (size x size) @ (size x size) product, 2 * size^3 FLOPs, fastest of ``repeat`` turns,
    by ``np.matmul`` (the BLAS that tensorlite's convolutions call) and, when given, by ``torch.mm``."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
    out = np.empty_like(a)
    calls = {"numpy": lambda: np.matmul(a, b, out=out)}
    if torch:
        ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out)
        calls["torch"] = lambda: torch.mm(ta, tb, out=tout)
    seconds = fastest_in_turns(calls, repeat)
    return {"size": size, **{f"{name}_gflops": 2 * size**3 / s / 1e9 for name, s in seconds.items()}}
