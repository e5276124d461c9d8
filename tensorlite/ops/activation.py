"""Activations with a closed-form backward: softmax and log-softmax along a dimension (each one fused kernel),
and softplus."""
from .. import dtypes
from ..autograd.function import Op
from .arguments import check_floating
from .elementwise import where
from .reduction import numpy_aliases
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


@register("softmax")  # tl.softmax and x.softmax take axis= as torch's do; F.softmax does not
@numpy_aliases
def softmax(input, dim):
    return Softmax.apply(input, input._dim(dim))


@register("log_softmax")  # tl.log_softmax and x.log_softmax take axis= as torch's do; F.log_softmax does not
@numpy_aliases
def log_softmax(input, dim):
    return LogSoftmax.apply(input, input._dim(dim))


class Softplus(Op):
    """softplus(x) = log(1 + exp(beta x)) / beta, a smooth relu; x itself where beta x > threshold, as torch (the
    two agree there to float precision, and exp would overflow further on):

        d softplus / dx = sigmoid(beta x)        (1 past the threshold)
    """

    node_name = "SoftplusBackward0"

    @staticmethod
    def forward(ctx, b, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        scaled, threshold = b.multiply(x, b.asarray(beta, x.dtype)), b.asarray(threshold, x.dtype)
        below = b.minimum(scaled, threshold)  # exp of what is kept only: no overflow (nor its warning) past it
        smooth = b.true_divide(b.log1p(b.exp(below)), b.asarray(beta, x.dtype))
        return b.where(b.greater(scaled, threshold), x, smooth)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        scaled = x * ctx.beta
        return where(scaled > ctx.threshold, grad, grad * scaled.sigmoid()), None, None


@register("softplus", method=False, function=False, functional=True)
def softplus(input, beta=1.0, threshold=20.0):
    check_floating("softplus_cpu", input)
    return Softplus.apply(input, beta, threshold)
