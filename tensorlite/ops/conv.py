"""2-D convolution (cross-correlation, as in every deep-learning framework) as a differentiable op.

``conv2d`` checks its arguments the way torch does (arguments.py), names what it expected and what it got,
and then calls the backend's ``conv2d_forward`` / ``conv2d_backward`` kernels on raw arrays.

The convolution y = conv(x, w) and its two gradients form a closed set of bilinear ops, each one's backward
made of the three of them, so derivatives of any order go through (``create_graph=True``):

    conv(x, w)                  -> y     d/dx: conv_input_grad(gy, w)    d/dw: conv_weight_grad(x, gy)
    conv_input_grad(gy, w)      -> gx    d/dgy: conv(ggx, w)             d/dw: conv_weight_grad(ggx, gy)
    conv_weight_grad(x, gy)     -> gw    d/dgy: conv(x, ggw)             d/dx: conv_input_grad(gy, ggw)

A plain backward (grad mode off) skips them for the one fused ``conv2d_backward`` kernel call.
"""
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from ..backends.geometry import conv_output_size
from .arguments import conv2d_arguments
from .kernel import Kernel


class Conv2d(Op):
    """out[n, o] = bias[o] + sum_{c, i, j} weight[o, c, i, j] * x_pad[n, g(o) * C_in/groups + c, s*h + d*i, s*w + d*j]."""

    node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, b, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.geometry = (stride, padding, dilation, groups)
        ctx.has_bias = bias is not None
        ctx.workspace = {} if ctx.records_graph else None  # where the backend may keep data for backward
        return b.conv2d_forward(x, weight, bias, stride, padding, dilation, groups, workspace=ctx.workspace)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if is_grad_enabled():  # create_graph: the gradients as differentiable ops
            grad_x = ConvInputGrad.apply(grad, weight, x.shape, *ctx.geometry) if needs[0] else None
            grad_weight = ConvWeightGrad.apply(x, grad, weight.shape, *ctx.geometry) if needs[1] else None
            grad_bias = grad.sum(dim=(0, 2, 3)) if ctx.has_bias and needs[2] else None
            return grad_x, grad_weight, grad_bias, None, None, None, None
        grad_x, grad_weight, grad_bias = Kernel.apply(
            "conv2d_backward", grad, x, weight, *ctx.geometry, input_grad=needs[0], workspace=ctx.workspace
        )
        return grad_x, grad_weight, grad_bias if ctx.has_bias else None, None, None, None, None


class ConvInputGrad(Op):
    """The gradient of conv2d with respect to its input (a transposed convolution), for an input of ``input_shape``:

        gx_pad[n, g(o) * C_in/groups + c, s*h + d*i, s*w + d*j] += sum_o gy[n, o, h, w] * weight[o, c, i, j]

    Bilinear in (gy, weight): with incoming ggx, d/dgy = conv(ggx, weight), d/dweight = conv_weight_grad(ggx, gy).
    """

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, b, grad, weight, input_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(grad, weight)
        ctx.geometry = (stride, padding, dilation, groups)
        unused_input = b.zeros(input_shape, dtype=grad.dtype)  # grad_x needs only x's shape (grad_w is dropped)
        grad_x, _, _ = b.conv2d_backward(grad, unused_input, weight, *ctx.geometry, input_grad=True)
        return grad_x

    @staticmethod
    def backward(ctx, grad_grad_x):
        grad, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        d_grad = Conv2d.apply(grad_grad_x, weight, None, *ctx.geometry) if needs[0] else None
        d_weight = ConvWeightGrad.apply(grad_grad_x, grad, weight.shape, *ctx.geometry) if needs[1] else None
        return d_grad, d_weight, None, None, None, None, None


class ConvWeightGrad(Op):
    """The gradient of conv2d with respect to its weight, for a weight of ``weight_shape``:

        gw[o, c, i, j] = sum_{n, h, w} gy[n, o, h, w] * x_pad[n, g(o) * C_in/groups + c, s*h + d*i, s*w + d*j]

    Bilinear in (x, gy): with incoming ggw, d/dx = conv_input_grad(gy, ggw), d/dgy = conv(x, ggw).
    """

    node_name = "ConvolutionBackwardBackward0"

    @staticmethod
    def forward(ctx, b, x, grad, weight_shape, stride, padding, dilation, groups):
        ctx.save_for_backward(x, grad)
        ctx.geometry = (stride, padding, dilation, groups)
        unused_weight = b.zeros(weight_shape, dtype=x.dtype)  # grad_w needs only w's shape (no grad_x asked)
        _, grad_weight, _ = b.conv2d_backward(grad, x, unused_weight, *ctx.geometry, input_grad=False)
        return grad_weight

    @staticmethod
    def backward(ctx, grad_grad_weight):
        x, grad = ctx.saved_tensors
        needs = ctx.needs_input_grad
        d_x = ConvInputGrad.apply(grad, grad_grad_weight, x.shape, *ctx.geometry) if needs[0] else None
        d_grad = Conv2d.apply(x, grad_grad_weight, None, *ctx.geometry) if needs[1] else None
        return d_x, d_grad, None, None, None, None, None


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolve ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight`` (C_out, C_in/groups, kH, kW).

    Output (N, C_out, H_out, W_out) with H_out = floor((H + 2p - d(kH - 1) - 1) / s) + 1 (likewise W).
    ``padding`` is an int, a pair, 'valid' (0) or 'same' (output size = input size; stride must be 1).
    Arguments are checked as torch does (see arguments.py); an empty batch skips the kernel (see _empty_batch_conv2d).
    """
    x, stride, padding, dilation = conv2d_arguments(input, weight, bias, stride, padding, dilation, groups)
    if x.shape[0] == 0:
        out = _empty_batch_conv2d(x, weight, bias, stride, padding, dilation)
    else:
        out = Conv2d.apply(x, weight, bias, stride, padding, dilation, groups)
    return out if input.dim() == 4 else out.squeeze(0)


def _empty_batch_conv2d(x, weight, bias, stride, padding, dilation):
    """torch's convolution of an empty batch runs no kernel: its output, (0, C_out, H_out, W_out), is the (empty)
    input times weight[0, 0, 0, 0] plus bias[0], so that it still depends on them (and an empty weight raises
    IndexError). A zero dilation or a weight of another dtype, refused by the kernels, passes."""
    out = x * weight.reshape(-1)[0]
    if bias is not None:
        out = out + bias[0]
    out_hw = [conv_output_size(n, k, s, p, d) for n, k, s, p, d in zip(x.shape[2:], weight.shape[2:], stride, padding,
                                                                        dilation)]
    return out.reshape(0, weight.shape[0], *out_hw)


def corr2d(X, K):
    """The lesson's 2-D cross-correlation of a matrix X (H, W) with a kernel K (h, w): Y (H - h + 1, W - w + 1).

    Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b]; differentiable in both X and K.
    """
    if X.dim() != 2 or K.dim() != 2:
        raise RuntimeError(f"corr2d expects 2-D X and K, but got X of size {list(X.shape)} and K of size {list(K.shape)}")
    return conv2d(X.reshape(1, 1, *X.shape), K.reshape(1, 1, *K.shape)).reshape(
        X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1
    )
