"""Softmax and log-softmax along a dimension, each one fused kernel with a closed-form backward."""
from ..autograd.function import Function
from ..tensor import Tensor


class _AlongDim(Function):
    """Runs the backend kernel named ``kernel`` along ``dim`` and saves the output for backward."""

    kernel = None

    @classmethod
    def forward(cls, ctx, x, dim):
        if not x.dtype.is_floating_point and x.numel():
            kernel = f"{cls.kernel}_lastdim" if dim == max(x.dim() - 1, 0) else cls.kernel
            raise NotImplementedError(f'"{kernel}_kernel_impl" not implemented for \'{x.dtype.legacy_name}\'')
        b = x._backend
        array = getattr(b, cls.kernel)(x._array, dim) if x.numel() else b.copy(x._array)  # empty stays empty
        out = Tensor(array, x.device)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out


class Softmax(_AlongDim):
    """s = softmax(x); dx = s * (dy - sum(dy * s))."""

    kernel = "softmax"

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(_AlongDim):
    """y = log_softmax(x); dx = dy - exp(y) * sum(dy)."""

    kernel = "log_softmax"

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - out.exp() * grad.sum(dim=ctx.dim, keepdim=True), None
