"""Softmax-family kernels in NumPy, computed stably by subtracting the row maximum first."""
import numpy as np


def log_softmax(x, axis):
    """log_softmax(x)_i = x_i - m - log(sum_j exp(x_j - m)), m = max_j x_j (no overflow for large logits)."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(x, axis):
    """softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), m = max_j x_j."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), written as (1 + tanh(x/2)) / 2 so that no exp overflows."""
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(x.dtype, copy=False)
