"""One thread policy for the pools a training step runs on: Numba's (tensorlite's kernels), the BLAS under NumPy
(the GEMMs of im2col convolutions and of Linear) and torch's when torch is imported beside tensorlite.

On a machine with few cores the pools compete: after each product, OpenBLAS's threads spin on the cores for a while
waiting for more work, while Numba's threads want the same cores for the next kernel. Whether the BLAS is faster
with one thread or with all of them depends on the machine, so the choice is measured, not guessed:
``tensorlite bench --threads`` times the MNIST step with each BLAS thread count and stores the fastest in
``~/.cache/tensorlite/threads.json`` (under ``$XDG_CACHE_HOME`` when set), keyed by the processor; ``import
tensorlite`` applies a stored choice, through threadpoolctl. ``TENSORLITE_BLAS_THREADS=N`` overrides it, and
``tl.set_num_threads(n)`` sets every pool at once, as torch's does. ``tensorlite info`` prints what is in force.
"""
import json
import os
import platform
import sys
from pathlib import Path

import numba

_source = "default"


def cpu_model():
    """The processor's name, family, model and widest vector extension from /proc/cpuinfo (Linux), e.g. 'AMD EPYC
    (family 23, model 1, AVX2)'; elsewhere what ``platform`` knows. Figures depend on all three: the same name
    covers several generations, and an AVX-512 core runs other kernels than an AVX2 one."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                fields.setdefault(key.strip(), value.strip())
                if not line.strip():
                    break  # the first processor's block is enough
    except OSError:
        return platform.processor() or platform.machine()
    flags = fields.get("flags", "").split()
    extensions = {"avx512f": "AVX-512", "avx2": "AVX2", "avx": "AVX", "sse4_2": "SSE4.2"}
    isa = next((name for flag, name in extensions.items() if flag in flags), None)
    details = [f"family {fields['cpu family']}" if "cpu family" in fields else None,
               f"model {fields['model']}" if "model" in fields else None, isa]
    name = fields.get("model name") or platform.processor() or platform.machine()
    details = ", ".join(d for d in details if d)
    return f"{name} ({details})" if details else name


def policy_file():
    """Where ``tensorlite bench --threads`` stores its measured choices."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tensorlite" / "threads.json"


def machine_key():
    """The processor and its logical CPU count: a measured choice holds for this pair."""
    return f"{cpu_model()}, {os.cpu_count()} logical CPUs"


def stored_blas_threads():
    """The BLAS thread count measured fastest on this machine, or None when it was never measured here."""
    try:
        return json.loads(policy_file().read_text()).get(machine_key(), {}).get("blas_threads")
    except (OSError, ValueError):
        return None


def store_blas_threads(blas_threads, figures):
    """Record ``blas_threads`` (and the ``figures`` it was chosen by) as this machine's choice."""
    path = policy_file()
    try:
        choices = json.loads(path.read_text())
    except (OSError, ValueError):
        choices = {}
    choices[machine_key()] = {"blas_threads": blas_threads, "measured": figures}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(choices, indent=2))
    return path


def set_blas_threads(count):
    """Limit the BLAS under NumPy to ``count`` threads (for the whole process, until changed)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=count, user_api="blas")


def blas_threads():
    """The BLAS libraries loaded in this process and their thread counts, e.g. ``openblas 2``."""
    from threadpoolctl import threadpool_info

    pools = [f"{pool['internal_api']} {pool['num_threads']}" for pool in threadpool_info() if pool["user_api"] == "blas"]
    return ", ".join(pools) or "none loaded"


def apply_thread_policy():
    """At import: ``TENSORLITE_BLAS_THREADS`` if set, else this machine's measured choice, else leave the BLAS as it
    started (one thread per core)."""
    global _source
    requested = os.environ.get("TENSORLITE_BLAS_THREADS")
    if requested:
        if not requested.isdigit() or int(requested) < 1:
            raise ValueError(f"TENSORLITE_BLAS_THREADS must be a positive integer, got {requested!r}")
        set_blas_threads(int(requested))
        _source = "TENSORLITE_BLAS_THREADS"
        return
    stored = stored_blas_threads()
    if stored is not None:
        set_blas_threads(stored)
        _source = f"measured fastest here ({policy_file()})"


def set_num_threads(count):
    """Use ``count`` threads in every pool: Numba's kernels, the BLAS, and torch's when torch is imported."""
    global _source
    if not isinstance(count, int) or isinstance(count, bool):
        raise RuntimeError(f"set_num_threads expects an int, but got {type(count).__name__}")
    if count < 1:
        raise RuntimeError("set_num_threads expects a positive integer")
    numba.set_num_threads(min(count, numba.config.NUMBA_NUM_THREADS))
    set_blas_threads(count)
    if "torch" in sys.modules and hasattr(sys.modules["torch"], "set_num_threads"):
        sys.modules["torch"].set_num_threads(count)
    _source = "set_num_threads"


def get_num_threads():
    """The number of threads tensorlite's kernels run on (Numba's pool)."""
    return numba.get_num_threads()


def thread_policy():
    """What is in force, in words: Numba's threads, the BLAS's, and where the BLAS count came from."""
    if _source == "default":
        origin = "default; `tensorlite bench --threads` measures this machine's best"
    else:
        origin = _source
    return f"numba {numba.get_num_threads()}, blas {blas_threads()} ({origin})"
