"""Fast batch normalisation (training mode) on the CPU: per-channel Numba loops over x seen as (N, C, L),
L = H*W*... Every pass runs along rows of L values in x's own dtype (8 float32 lanes per AVX2 vector, not 4
float64 ones); the sum of each block of at most SUM_BLOCK values rounds in that dtype, the total over the
blocks in float64. The loops are serial: sharing the channels out with ``prange`` made them only 20-25 %
faster on a 2-core machine whose two cores share one physical core, and cost 9 s more of compilation.
"""
import numba
import numpy as np

# Sums may be reordered (and a*b + c fused), so LLVM vectorises them: 2-4x faster. No flag assumes finite
# values, so NaN and inf still propagate.
FAST_SUMS = {"reassoc", "contract"}
SUM_BLOCK = 1024  # values summed in x's dtype before the float64 total: 32 per lane of a vectorised float32 sum


def _as_ncl(x):
    """x (N, C) or (N, C, *) as a C-contiguous (N, C, L) array."""
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _moments(x):
    """mean_c = sum_{n, l} x[n, c, l] / M and var_c = sum_{n, l} (x[n, c, l] - mean_c)^2 / M, M = N*L.

    x (N, C, L) -> mean, var (C,) float64. Two passes (no cancellation, unlike E[x^2] - E[x]^2); the sum of
    each block in x's dtype, vectorised (FAST_SUMS), the blocks' sums in float64.
    """
    n, c, l = x.shape
    mean, var = np.empty(c), np.empty(c)
    for k in range(c):
        total = 0.0
        for i in range(n):
            for start in range(0, l, SUM_BLOCK):
                block = x.dtype.type(0)
                for j in range(start, min(start + SUM_BLOCK, l)):
                    block += x[i, k, j]
                total += block
        mean[k] = total / (n * l)
        centre, total = x.dtype.type(mean[k]), 0.0
        for i in range(n):
            for start in range(0, l, SUM_BLOCK):
                block = x.dtype.type(0)
                for j in range(start, min(start + SUM_BLOCK, l)):
                    block += (x[i, k, j] - centre) ** 2
                total += block
        var[k] = total / (n * l)
    return mean, var


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _normalise_planes(x, mean, scale, shift, out):
    """out[n, c, l] = (x[n, c, l] - mean[c]) * scale[c] + shift[c], x (N, C, L), mean, scale and shift (C,).

    One fused pass in memory order, the arithmetic in x's dtype (x - mean first: no cancellation when the
    mean is large next to the spread)."""
    n, c, l = x.shape
    for i in range(n):
        for k in range(c):
            centre, factor, offset = x.dtype.type(mean[k]), x.dtype.type(scale[k]), x.dtype.type(shift[k])
            for j in range(l):
                out[i, k, j] = (x[i, k, j] - centre) * factor + offset


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _batch_norm_backward(grad_out, x, mean, invstd, weight, grad_x):
    """Per channel, with x_hat = (x - mean) * invstd and sums over the M = N*L elements of the channel:

        grad_bias = sum g,   grad_weight = sum g * x_hat,
        grad_x = weight * invstd * (g - grad_bias / M - x_hat * grad_weight / M)
               = a * g + b * (x - mean) + d,   a = weight * invstd,  b = -a * invstd * grad_weight / M,
                                               d = -a * grad_bias / M

    grad_out, x (N, C, L) -> grad_x written in place; returns (grad_weight, grad_bias) float64.
    Both sums in one pass, then grad_x in a second with a, b, d per channel; blocks summed in x's dtype
    (see _moments).
    """
    n, c, l = x.shape
    grad_weight, grad_bias = np.empty(c), np.empty(c)
    for k in range(c):
        centre, sum_g, sum_g_centred = x.dtype.type(mean[k]), 0.0, 0.0
        for i in range(n):
            for start in range(0, l, SUM_BLOCK):
                block_g = block_g_centred = x.dtype.type(0)
                for j in range(start, min(start + SUM_BLOCK, l)):
                    block_g += grad_out[i, k, j]
                    block_g_centred += grad_out[i, k, j] * (x[i, k, j] - centre)
                sum_g += block_g
                sum_g_centred += block_g_centred
        grad_bias[k], grad_weight[k] = sum_g, sum_g_centred * invstd[k]
        scale = weight[k] * invstd[k]  # float64; a, b and d in x's dtype
        a = x.dtype.type(scale)
        b = x.dtype.type(-scale * invstd[k] * grad_weight[k] / (n * l))
        d = x.dtype.type(-scale * sum_g / (n * l))
        for i in range(n):
            for j in range(l):
                grad_x[i, k, j] = a * grad_out[i, k, j] + b * (x[i, k, j] - centre) + d
    return grad_weight, grad_bias


def _normalise(x, weight, bias, mean, invstd):
    """(x - mean) * invstd * weight + bias per channel, as (x - mean) * scale + shift; weight 1 and bias 0
    when None."""
    scale = invstd if weight is None else weight * invstd
    shift = np.zeros_like(scale) if bias is None else bias
    x_ncl = _as_ncl(x)
    out = np.empty(x_ncl.shape, dtype=x.dtype)
    _normalise_planes(x_ncl, mean.astype(np.float64), scale.astype(np.float64), shift.astype(np.float64), out)
    return out.reshape(x.shape)


def batch_norm_forward(x, weight, bias, eps):
    """Batch normalisation with the batch's statistics (training mode), per channel c = axis 1:

        mean_c = mean of x[:, c],  var_c = mean of (x[:, c] - mean_c)^2 (biased),  invstd_c = 1 / sqrt(var_c + eps)
        out[:, c] = (x[:, c] - mean_c) * invstd_c * weight_c + bias_c       (weight 1, bias 0 when None)

    x (N, C) or (N, C, *) -> (out like x, mean (C,), invstd (C,)), all in x's dtype.
    Optimisations: two-pass moments, then one fused normalising pass (see _moments, _normalise_planes).
    """
    mean, var = _moments(_as_ncl(x))
    invstd = 1.0 / np.sqrt(var + eps)
    return _normalise(x, weight, bias, mean, invstd), mean.astype(x.dtype), invstd.astype(x.dtype)


def batch_norm_backward(grad_out, x, weight, mean, invstd):
    """Gradients of batch_norm_forward (training mode), per channel, with x_hat = (x - mean) * invstd, g = grad_out,
    sums over the M elements of the channel:

        grad_bias_c = sum g      grad_weight_c = sum g * x_hat
        grad_x = weight_c * invstd_c * (g - grad_bias_c / M - x_hat * grad_weight_c / M)

    Returns (grad_x like x, grad_weight (C,), grad_bias (C,)) in x's dtype; weight None counts as ones.
    Optimisations: see _batch_norm_backward.
    """
    weight = np.ones(x.shape[1], dtype=x.dtype) if weight is None else weight
    grad_x = np.empty(x.shape, dtype=x.dtype)
    x_ncl = _as_ncl(x)
    grad_weight, grad_bias = _batch_norm_backward(_as_ncl(grad_out.astype(x.dtype, copy=False)), x_ncl,
                                                  mean.astype(np.float64), invstd.astype(np.float64),
                                                  weight.astype(np.float64), grad_x.reshape(x_ncl.shape))
    return grad_x, grad_weight.astype(x.dtype), grad_bias.astype(x.dtype)
