"""Cross-entropy of class scores against class indices as one fused op (the common case of every classifier).

    loss = -(1/N) sum_n log_softmax(x)_n[t_n]           ('mean'; 'sum' drops the 1/N)
    d loss / d x = (softmax(x) - onehot(t)) / N

One forward kernel and one backward pass instead of the dozen small ops the general ``cross_entropy``
composes (log-softmax, gather, masks, weights); the general form handles everything else.
"""
from .. import dtypes
from ..autograd.function import Function
from ..tensor import Tensor


class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, logits, target, reduction):
        b = logits._backend
        n = logits.shape[0]
        rows = b.arange(0, n, 1, dtype=dtypes.int64.numpy)
        log_probs = b.log_softmax(logits._array, 1)
        picked = b.getitem(log_probs, (rows, target._array))
        scale = 1.0 / n if reduction == "mean" else 1.0
        ctx.save_for_backward(Tensor(log_probs, logits.device), target)
        ctx.rows, ctx.scale = rows, scale
        return Tensor(b.multiply(b.sum(picked), b.asarray(-scale, logits.dtype.numpy)), logits.device)

    @staticmethod
    def backward(ctx, grad):
        log_probs, target = ctx.saved_tensors
        b, dtype = grad._backend, log_probs.dtype.numpy
        ones = b.ones((log_probs.shape[0],), dtype=dtype)
        onehot = b.index_add(log_probs.shape, (ctx.rows, target._array), ones, dtype)
        step = b.multiply(grad._array, b.asarray(ctx.scale, dtype))
        return Tensor(b.multiply(b.subtract(b.exp(log_probs._array), onehot), step), grad.device), None, None
