"""Cross-entropy of class scores against class indices as one fused op (the common case of every classifier).

    loss = -(1/N) sum_n log_softmax(x)_n[t_n]           ('mean'; 'sum' drops the 1/N)
    d loss / d x = (softmax(x) - onehot(t)) / N

One forward kernel and one backward pass instead of the dozen small ops the general ``cross_entropy``
composes (log-softmax, gather, masks, weights); the general form handles everything else.
"""
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
