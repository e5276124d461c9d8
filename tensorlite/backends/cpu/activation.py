"""Activation kernels: the softmax family in NumPy, computed stably by subtracting the row maximum first, and
relu's backward in Numba."""
import numba
import numpy as np

from .vectors import prefer_wide_vectors


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


@numba.njit(cache=True)
def _relu_backward(grad, out, grad_x):
    """grad_x[i] = 0 if out[i] <= 0 else grad[i], over flat arrays: a select, which LLVM vectorises."""
    prefer_wide_vectors()
    zero = grad_x.dtype.type(0)
    for i in range(grad_x.shape[0]):
        grad_x[i] = zero if out[i] <= 0 else grad[i]


def relu_backward(grad, out):
    """relu's backward, torch's threshold_backward(grad, out, 0): grad where out > 0, else 0; an out of NaN passes
    its gradient on. grad, out of one shape -> grad_x, grad's dtype. One pass: NumPy's grad * (out > 0) takes three
    and turns an inf gradient into NaN where out <= 0, and its ``where`` is 10x slower (branches on the mask)."""
    grad_x = np.empty(out.shape, dtype=grad.dtype)
    _relu_backward(np.ascontiguousarray(grad, dtype=grad.dtype).reshape(-1), np.ascontiguousarray(out).reshape(-1),
                   grad_x.reshape(-1))
    return grad_x
