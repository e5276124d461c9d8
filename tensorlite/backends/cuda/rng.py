"""Random numbers generated on the device (dropout's masks), from a counter-based hash: no state arrays, no
host round trip. Each call takes one fresh seed from the host generator (``tl.manual_seed`` makes it
reproducible) and every element hashes (seed, its flat index):

    x = (seed + 40503 i) mod M,  then 3 rounds of  x = 48271 x mod M; x ^= x >> 15; x = 69621 x mod M; x ^= x >> 13
    u = x / M  in [0, 1),  M = 2^31 - 1;    mask[i] = u < p_keep

All arithmetic stays below 2^63 in int64, so the compiled kernel and the simulator compute the same bits.
The numbers differ from the CPU's (NumPy's PCG64) stream: one seed gives the same dropout pattern on one
device run after run, not the same pattern on both devices.
Launch: one thread per element, 1-D grid of ceil(n / 128) blocks of 128 threads.
"""
import numpy as np
from numba import cuda

from ._launch import empty, flat, grid_1d

M = 2147483647


@cuda.jit(device=True)
def uniform(seed, i):
    x = (seed + i * 40503) % M
    for _ in range(3):
        x = (x * 48271) % M
        x ^= x >> 15
        x = (x * 69621) % M
        x ^= x >> 13
    return x / M


@cuda.jit
def _bernoulli(out, seed, p_keep):
    i = cuda.grid(1)
    if i < out.size:
        out[i] = 1 if uniform(seed, i) < p_keep else 0


def bernoulli(rng, p_keep, shape, dtype):
    """1 with probability ``p_keep``, else 0, in ``dtype``; ``rng`` (a NumPy Generator) supplies only the seed."""
    out = empty(tuple(shape), dtype)
    seed = int(rng.integers(0, M))
    if out.size:
        blocks, threads = grid_1d(out.size)
        _bernoulli[blocks, threads](flat(out), np.int64(seed), float(p_keep))
    return out
