"""Timing on a shared machine: run the contenders in turns and keep each one's fastest run.

Other processes can only add time to a run, never take it away, so the minimum over N runs is the best
estimate of what the code itself costs. Running in turns (a a a, b b b, a a a, ...) exposes both contenders
to the same stretches of the machine's load, so a burst of noise cannot fall on one of them only.

A turn is RUNS_PER_TURN runs in a row, not one: after each call, both torch's OpenMP threads and the BLAS
threads under numpy keep spinning on the cores for a moment, waiting for more work. The first run after a
switch competes with the other library's spinning threads, which on two cores made both libraries' MNIST
convolutions about 2x slower than when they run alone, as they do in training. The later runs of a turn see
each library on its own.

A clock times one call on one device. The CPU's is wall-clock time around the call, which is exact because
CPU kernels finish before they return; a GPU's clock would record CUDA events around the call and synchronise.
"""
import math
import time

import tensorlite as tl

RUNS_PER_TURN = 3


def cpu_clock(fn):
    """Seconds that one call ``fn()`` takes, by ``time.perf_counter``."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cuda_clock(fn):
    """Seconds that one call ``fn()`` takes on the GPU, by CUDA events: synchronise (so earlier work is not
    counted), record a start event, call, record an end event, wait for it, read the elapsed time between them."""
    from numba import cuda

    cuda.synchronize()
    start, end = cuda.event(timing=True), cuda.event(timing=True)
    start.record()
    fn()
    end.record()
    end.synchronize()
    return cuda.event_elapsed_time(start, end) / 1000.0


CLOCKS = {"cpu": cpu_clock, "cuda": cuda_clock}


def _cuda_simulated():
    try:
        from numba import config
    except ImportError:
        return False
    return bool(getattr(config, "ENABLE_CUDASIM", False))


def why_unavailable(device):
    """None when ``device`` can be benchmarked here, else a sentence saying why not."""
    if device == "cuda" and not tl.cuda.is_available():
        return f"no CUDA GPU is usable on this machine: {tl.cuda.why_unavailable()}"
    if device == "cuda" and _cuda_simulated():
        return "no CUDA GPU is usable on this machine (only numba's CUDA simulator, NUMBA_ENABLE_CUDASIM=1, which is not timed)"
    if device not in CLOCKS:
        return f"the benchmark has no clock for device '{device}' (it times: {', '.join(CLOCKS)})"
    return None


def fastest_in_turns(calls, repeat, clock=cpu_clock, runs_per_turn=RUNS_PER_TURN):
    """{name: fewest seconds over ``repeat`` turns of ``runs_per_turn`` runs each} for ``calls``
    {name: zero-argument callable}, the contenders taking turns."""
    best = dict.fromkeys(calls, math.inf)
    for _ in range(repeat):
        for name, fn in calls.items():
            for _ in range(runs_per_turn):
                best[name] = min(best[name], clock(fn))
    return best
