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


# Variables that make a library run the kernels of an older instruction set than the processor's, as in
# `NUMBA_CPU_NAME=haswell OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 tensorlite
# bench` (AVX2 on an AVX-512 machine); each figure measured under them says so. torch needs two: ATen's own
# kernels (pooling, batch norm) read the first, its oneDNN convolutions the second.
ISA_OVERRIDES = {
    "NUMBA_CPU_NAME": "tensorlite's Numba kernels",
    "OPENBLAS_CORETYPE": "numpy's BLAS",
    "ATEN_CPU_CAPABILITY": "torch's ATen kernels",
    "ONEDNN_MAX_CPU_ISA": "torch's oneDNN kernels",
}


def describe_machine(torch=None):
    """The processor, logical CPUs, versions, thread counts and the date, as a flat dict; also the
    ISA_OVERRIDES the environment sets (an AVX2 core type for numpy's BLAS on an AVX-512 processor halves
    its GEMM ceiling)."""
    # Imported here, not at the top: the timed torch processes of ``--loop`` import this module, and loading
    # tensorlite's CPU kernels there would load Numba's OpenMP runtime before torch, which would then share it
    # (docs/kernels.md, "Threads").
    from ..backends.cpu.scratch import CHUNK_BYTES

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
        "chunk_bytes": CHUNK_BYTES,
        "isa_overrides": {name: os.environ[name] for name in ISA_OVERRIDES if os.environ.get(name)},
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def machine_line(machine):
    """'<processor>, <n> logical CPUs', and the instruction sets forced by the environment, if any."""
    line = f"{machine['cpu']}, {machine['logical_cpus']} logical CPUs"
    overrides = machine.get("isa_overrides") or {}
    if overrides:
        line += "; kernels forced by " + ", ".join(f"{name}={value} ({ISA_OVERRIDES[name]})"
                                                     for name, value in overrides.items())
    return line


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
