"""Softmax and log-softmax along a dimension, each one fused kernel with a closed-form backward."""
from .. import dtypes
from ..autograd.function import Op
from .registry import register


class _AlongDim(Op):
    """Runs the backend kernel named ``kernel`` along ``dim`` and saves the output for backward."""

    kernel = None

    @classmethod
    def forward(cls, ctx, b, x, dim):
        if x.dtype.kind != "f" and x.size:
            kernel = f"{cls.kernel}_lastdim" if dim == max(x.ndim - 1, 0) else cls.kernel
            legacy_name = dtypes.from_numpy(x.dtype).legacy_name
            raise NotImplementedError(f'"{kernel}_kernel_impl" not implemented for \'{legacy_name}\'')
        out = getattr(b, cls.kernel)(x, dim) if x.size else b.copy(x)  # empty stays empty
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


@register("softmax")
def softmax(input, dim):
    return Softmax.apply(input, input._dim(dim))


@register("log_softmax")
def log_softmax(input, dim):
    return LogSoftmax.apply(input, input._dim(dim))
