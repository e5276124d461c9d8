"""Fast batch normalisation (training mode) on the CPU: per-channel Numba loops over x seen as (N, C, L),
L = H*W*... Every sum over a channel accumulates in float64, each value converted before it is added (as
torch's CPU kernels do: float's acc_type is double), so float32 squares do not overflow and long sums do not
drift; the elementwise passes run in x's own dtype. The float64 sums are no slower: vectorised (FAST_SUMS), they
ran 3-7x faster than the float32 block sums with float64 totals that they replaced. The loops are serial:
sharing the channels out with ``prange`` made them only 20-25 % faster on a 2-core machine whose two cores
share one physical core, and cost 9 s more of compilation.
"""
import numba
import numpy as np

from .vectors import prefer_wide_vectors

# Sums may be reordered (and a*b + c fused), so LLVM vectorises them: 2-4x faster. No flag assumes finite
# values, so NaN and inf still propagate.
FAST_SUMS = {"reassoc", "contract"}


def _as_ncl(x):
    """x (N, C) or (N, C, *) as a C-contiguous (N, C, L) array."""
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _moments(x):
    """mean_c = sum_{n, l} x[n, c, l] / M and var_c = sum_{n, l} (x[n, c, l] - mean_c)^2 / M, M = N*L.

    x (N, C, L) -> mean, var (C,) float64. Two passes (no cancellation, unlike E[x^2] - E[x]^2), each value
    converted to float64 before it is added or squared: a float32 square overflows from 1.9e19 on, and a float32
    sum of a constant rounds away from it. Vectorised (FAST_SUMS).
    """
    prefer_wide_vectors()
    n, c, l = x.shape
    mean, var = np.empty(c), np.empty(c)
    for k in range(c):
        total = 0.0
        for i in range(n):
            for j in range(l):
                total += np.float64(x[i, k, j])
        mean[k] = total / (n * l)
        total = 0.0
        for i in range(n):
            for j in range(l):
                total += (np.float64(x[i, k, j]) - mean[k]) ** 2
        var[k] = total / (n * l)
    return mean, var


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _normalise_planes(x, mean, scale, shift, out):
    """out[n, c, l] = (x[n, c, l] - mean[c]) * scale[c] + shift[c], x (N, C, L), mean, scale and shift (C,).

    One fused pass in memory order, the arithmetic in x's dtype (x - mean first: no cancellation when the
    mean is large next to the spread)."""
    prefer_wide_vectors()
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
               = (g - g_mean - (x - mean) * k) * scale,   g_mean = grad_bias / M,  k = invstd * grad_weight / M,
                                                          scale = weight * invstd

    (torch's grouping: an infinite weight makes grad_x infinite, not NaN). grad_out, x (N, C, L) -> grad_x
    written in place; returns (grad_weight, grad_bias) float64. Both sums in one pass, accumulated in float64
    (see _moments), then grad_x in a second with g_mean, k and scale per channel.
    """
    prefer_wide_vectors()
    n, c, l = x.shape
    grad_weight, grad_bias = np.empty(c), np.empty(c)
    for ch in range(c):
        sum_g, sum_g_centred = 0.0, 0.0
        for i in range(n):
            for j in range(l):
                g = np.float64(grad_out[i, ch, j])
                sum_g += g
                sum_g_centred += g * (np.float64(x[i, ch, j]) - mean[ch])
        grad_bias[ch], grad_weight[ch] = sum_g, sum_g_centred * invstd[ch]
        centre, scale = x.dtype.type(mean[ch]), x.dtype.type(weight[ch] * invstd[ch])  # in x's dtype
        g_mean, k = x.dtype.type(sum_g / (n * l)), x.dtype.type(invstd[ch] * grad_weight[ch] / (n * l))
        for i in range(n):
            for j in range(l):
                grad_x[i, ch, j] = (grad_out[i, ch, j] - g_mean - (x[i, ch, j] - centre) * k) * scale
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
