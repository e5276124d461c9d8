"""Softmax and log-softmax along a dimension, each one fused kernel with a closed-form backward."""
from ..autograd.function import Function
from ..tensor import Tensor


class Softmax(Function):
    """s = softmax(x); dx = s * (dy - sum(dy * s))."""

    @staticmethod
    def forward(ctx, x, dim):
        out = Tensor(x._backend.softmax(x._array, dim), x.device)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """y = log_softmax(x); dx = dy - exp(y) * sum(dy)."""

    @staticmethod
    def forward(ctx, x, dim):
        out = Tensor(x._backend.log_softmax(x._array, dim), x.device)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(dim=ctx.dim, keepdim=True), None
