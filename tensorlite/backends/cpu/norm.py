"""Fast batch normalisation (training mode) on the CPU: per-channel Numba loops over x seen as (N, C, L),
L = H*W*... The normalisation itself is out = x * scale_c + shift_c, with scale_c = weight_c * invstd_c and
shift_c = bias_c - mean_c * scale_c from the batch's statistics.
"""
import numba
import numpy as np

# Sums may be reordered (and a*b + c fused), so LLVM vectorises them: 2-4x faster. No flag assumes finite
# values, so NaN and inf still propagate.
FAST_SUMS = {"reassoc", "contract"}


def _as_ncl(x):
    """x (N, C) or (N, C, *) as a C-contiguous (N, C, L) array."""
    return np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], -1)


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _moments(x):
    """mean_c = sum_{n, l} x[n, c, l] / M and var_c = sum_{n, l} (x[n, c, l] - mean_c)^2 / M, M = N*L.

    x (N, C, L) -> mean, var (C,) float64. Optimisations: two passes (no cancellation, unlike E[x^2] - E[x]^2)
    with float64 sums, each reading its channel in memory order; vectorised sums (FAST_SUMS).
    """
    n, c, l = x.shape
    mean, var = np.empty(c), np.empty(c)
    for k in range(c):
        total = 0.0
        for i in range(n):
            for j in range(l):
                total += x[i, k, j]
        mean[k] = total / (n * l)
        total = 0.0
        for i in range(n):
            for j in range(l):
                total += (x[i, k, j] - mean[k]) ** 2
        var[k] = total / (n * l)
    return mean, var


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _scale_shift(x, scale, shift, out):
    """out[n, c, l] = x[n, c, l] * scale[c] + shift[c], x (N, C, L), scale and shift (C,) float64.

    Optimisations: one fused pass in memory order, vectorised inner loop."""
    n, c, l = x.shape
    for i in range(n):
        for k in range(c):
            for j in range(l):
                out[i, k, j] = x[i, k, j] * scale[k] + shift[k]


@numba.njit(cache=True, fastmath=FAST_SUMS)
def _batch_norm_backward(grad_out, x, mean, invstd, weight, grad_x):
    """Per channel, with x_hat = (x - mean) * invstd and sums over the M = N*L elements of the channel:

        grad_bias = sum g,   grad_weight = sum g * x_hat,
        grad_x = weight * invstd * (g - grad_bias / M - x_hat * grad_weight / M)

    grad_out, x (N, C, L) -> grad_x written in place; returns (grad_weight, grad_bias) float64.
    Optimisations: both sums in one pass with float64 accumulators, grad_x in a second pass; vectorised
    sums (FAST_SUMS).
    """
    n, c, l = x.shape
    grad_weight, grad_bias = np.empty(c), np.empty(c)
    for k in range(c):
        sum_g, sum_g_x_hat = 0.0, 0.0
        for i in range(n):
            for j in range(l):
                sum_g += grad_out[i, k, j]
                sum_g_x_hat += grad_out[i, k, j] * (x[i, k, j] - mean[k])
        sum_g_x_hat *= invstd[k]
        grad_bias[k], grad_weight[k] = sum_g, sum_g_x_hat
        scale, m = weight[k] * invstd[k], n * l
        for i in range(n):
            for j in range(l):
                x_hat = (x[i, k, j] - mean[k]) * invstd[k]
                grad_x[i, k, j] = scale * (grad_out[i, k, j] - sum_g / m - x_hat * sum_g_x_hat / m)
    return grad_weight, grad_bias


def _normalise(x, weight, bias, mean, invstd):
    """(x - mean) * invstd * weight + bias per channel, as x * scale + shift (float64 scale and shift, so that the
    rewrite loses no precision); weight 1 and bias 0 when None."""
    scale = invstd if weight is None else weight * invstd
    shift = -mean * scale if bias is None else bias - mean * scale
    x_ncl = _as_ncl(x)
    out = np.empty(x_ncl.shape, dtype=x.dtype)
    _scale_shift(x_ncl, scale.astype(np.float64), shift.astype(np.float64), out)
    return out.reshape(x.shape)


def batch_norm_forward(x, weight, bias, eps):
    """Batch normalisation with the batch's statistics (training mode), per channel c = axis 1:

        mean_c = mean of x[:, c],  var_c = mean of (x[:, c] - mean_c)^2 (biased),  invstd_c = 1 / sqrt(var_c + eps)
        out[:, c] = (x[:, c] - mean_c) * invstd_c * weight_c + bias_c       (weight 1, bias 0 when None)

    x (N, C) or (N, C, *) -> (out like x, mean (C,), invstd (C,)), all in x's dtype.
    Optimisations: two-pass float64 moments, then one fused scale-and-shift pass (see _moments, _scale_shift).
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
