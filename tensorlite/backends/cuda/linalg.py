"""Matrix multiplication with shared-memory tiles, batched with NumPy's broadcasting of the leading dimensions.

    out[z, i, j] = sum_k a[z, i, k] * b[z, k, j]          a (..., n, K), b (..., K, m) -> (..., n, m)

Launch layout: 2-D blocks of TILE x TILE = 16 x 16 threads, one thread per output element; grid
(ceil(m / 16), ceil(n / 16), batch). Each block walks the K dimension in steps of 16: its threads load one
16 x 16 tile of a and one of b into shared memory (2 x 16 x 16 values), synchronise, and each thread adds the
16 products of its row of the a tile and column of the b tile; so every global value is read once per tile
instead of once per product. Out-of-range tile entries load as 0. One kernel is compiled per dtype
(the shared-memory arrays need it at compile time).
"""
import functools

import numba
import numpy as np
from numba import cuda

from ._launch import at_least_1d, broadcast_strides, empty, flat, offset

TILE = 16


@functools.lru_cache(maxsize=None)
def _kernel(dtype):
    scalar = numba.from_dtype(np.dtype(dtype))

    @cuda.jit
    def kernel(out, a, b, n, kdim, m, batch_shape, a_batch, b_batch):
        sa = cuda.shared.array((TILE, TILE), dtype=scalar)
        sb = cuda.shared.array((TILE, TILE), dtype=scalar)
        tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
        j = cuda.blockIdx.x * TILE + tx
        i = cuda.blockIdx.y * TILE + ty
        z = cuda.blockIdx.z
        a_base = offset(z, batch_shape, a_batch)
        b_base = offset(z, batch_shape, b_batch)
        acc = scalar(0)
        for t in range(0, kdim, TILE):
            sa[ty, tx] = a[a_base + i * kdim + t + tx] if i < n and t + tx < kdim else 0
            sb[ty, tx] = b[b_base + (t + ty) * m + j] if j < m and t + ty < kdim else 0
            cuda.syncthreads()
            for k in range(TILE):
                acc += sa[ty, k] * sb[k, tx]
            cuda.syncthreads()
        if i < n and j < m:
            out[z * n * m + i * m + j] = acc

    return kernel


def matmul(a, b):
    """``a @ b`` for a (..., n, K) and b (..., K, m), batch dimensions broadcast (see the module docstring)."""
    from .elementwise import astype

    dtype = np.result_type(a.dtype, b.dtype)
    a, b = astype(a, dtype), astype(b, dtype)
    (n, kdim), (_, m) = a.shape[-2:], b.shape[-2:]
    batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    out = empty(batch + (n, m), dtype)
    n_batch = out.size // max(n * m, 1)
    if out.size == 0:
        return out
    # batch strides in elements of each operand's (n*K or K*m) matrices, 0 where broadcast
    a_batch = tuple(s * n * kdim for s in broadcast_strides(a.shape[:-2], batch))
    b_batch = tuple(s * kdim * m for s in broadcast_strides(b.shape[:-2], batch))
    batch_shape, a_batch, b_batch = at_least_1d(batch, a_batch, b_batch)
    grid = (-(-m // TILE), -(-n // TILE), n_batch)
    _kernel(dtype)[grid, (TILE, TILE)](flat(out), flat(a), flat(b), n, kdim, m, batch_shape, a_batch, b_batch)
    return out
