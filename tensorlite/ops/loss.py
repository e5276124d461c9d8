"""Cross-entropy of class scores against class indices as one fused op (the common case of every classifier).

    loss = -(1/N) sum_n log_softmax(x)_n[t_n]           ('mean'; 'sum' drops the 1/N)
    d loss / d x = (softmax(x) - onehot(t)) / N

One forward kernel and one backward pass instead of the dozen small ops the general ``cross_entropy``
composes (log-softmax, gather, masks, weights); the general form handles everything else. Beside it, the
elementwise pieces of the binary losses whose gradients torch writes by hand: ``BinaryCrossEntropy`` and
``LogSigmoid``.
"""
import math

from .. import dtypes
from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor


class CrossEntropy(Function):
    """loss = -scale * sum_n log_softmax(logits)_n[t_n]; d loss / d logits = (softmax(logits) - onehot(t)) * scale,
    scale = 1/N ('mean') or 1 ('sum'). With ``create_graph`` the gradient is built from tensor ops, softmax
    recomputed from the logits, so that it can be differentiated again in the logits and in grad_out."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, logits, target, reduction):
        b = logits._backend
        n = logits.shape[0]
        rows = b.arange(0, n, 1, dtype=dtypes.int64.numpy)
        log_probs = b.log_softmax(logits._array, 1)
        picked = b.getitem(log_probs, (rows, target._array))
        scale = 1.0 / n if reduction == "mean" else 1.0
        ctx.save_for_backward(logits, target)
        ctx.log_probs, ctx.rows, ctx.scale = log_probs, rows, scale
        return Tensor(b.multiply(b.sum(picked), b.asarray(-scale, logits.dtype.numpy)), logits.device)

    @staticmethod
    def backward(ctx, grad):
        logits, target = ctx.saved_tensors
        b, dtype = grad._backend, logits.dtype.numpy
        ones = b.ones((logits.shape[0],), dtype=dtype)
        onehot = b.index_add(logits.shape, (ctx.rows, target._array), ones, dtype)
        if is_grad_enabled():  # create_graph
            return (logits.softmax(1) - Tensor(onehot, grad.device)) * (grad * ctx.scale), None, None
        step = b.multiply(grad._array, b.asarray(ctx.scale, dtype))
        return Tensor(b.multiply(b.subtract(b.exp(ctx.log_probs), onehot), step), grad.device), None, None


class BinaryCrossEntropy(Function):
    """Elementwise binary cross-entropy of probabilities p against targets y, as torch computes it:

        loss = -(y log p + (1 - y) log(1 - p))        each log clamped below at -100
        d loss / d p = (p - y) / max(p (1 - p), 1e-12)      d loss / d y = log(1 - p) - log(p)

    The clamps keep the loss finite at p = 0 or 1 (a confident wrong prediction costs 100) while the gradient
    there stays large and of the right sign, not the 0 that differentiating the clamped logs would give.
    """

    @staticmethod
    def forward(ctx, p, y):
        ctx.save_for_backward(p, y)
        return -(y * _clamped_log(p) + (1 - y) * _clamped_log(1 - p))

    @staticmethod
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        grad_p = grad * (p - y) / (p * (1 - p)).clamp(min=1e-12) if ctx.needs_input_grad[0] else None
        grad_y = grad * ((1 - p).log() - p.log()) if ctx.needs_input_grad[1] else None
        return grad_p, grad_y


def _clamped_log(p):
    """log(p) clamped below at -100, computed on p kept above e^-101 so that log never sees 0."""
    return p.clamp(min=math.exp(-101.0)).log().clamp(min=-100.0)


class LogSigmoid(Function):
    """log σ(x) = min(x, 0) - log(1 + exp(-|x|)), torch's formula: no exp overflows, whatever x. The log is taken in
    float64 and rounded once to x's dtype, as accurate as torch's log1p where exp(-|x|) is small next to 1.

        d/dx log σ(x) = 1 - σ(x) = σ(-x)
    """

    node_name = "LogSigmoidBackward0"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(max=0) - ((-x.abs()).double().exp() + 1).log().to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (-x).sigmoid()
