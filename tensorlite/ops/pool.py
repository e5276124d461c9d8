"""2-D max and average pooling as differentiable ops, with torch's argument rules and output sizes.

Output size per axis: floor((n + 2p - d(k - 1) - 1) / s) + 1, or rounded up with ``ceil_mode`` as long
as the last window starts inside the input or its left padding. ``stride`` defaults to ``kernel_size``.
"""
import math

from ..autograd.function import Op
from ..backends.geometry import pair, pool_output_size
from ..tensor import arange, zeros
from .conv import check_input_dims
from .norm import check_floating
from .shape import stack


class MaxPool2d(Op):
    """out[n, c, h, w] = max over the window; the gradient flows to the (first) position of the maximum."""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, b, x, kernel_size, stride, padding, dilation, ceil_mode):
        out, indices = b.max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(indices)
        ctx.input_shape = x.shape
        return out, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        (indices,) = ctx.saved_tensors
        return MaxPool2dBackward.apply(grad, indices, ctx.input_shape), None, None, None, None, None


class MaxPool2dBackward(Op):
    """The gradient of max pooling, a scatter of grad_out to the winning positions (``indices``, flat per plane):

        grad_x[n, c].flat[indices[n, c, h, w]] += grad_out[n, c, h, w]

    Linear in grad_out; its own gradient gathers at the same positions: d/dgrad_out = ggx[n, c].flat[indices].
    """

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, b, grad, indices, input_shape):
        ctx.save_for_backward(indices)
        return b.max_pool2d_backward(grad, indices, input_shape)

    @staticmethod
    def backward(ctx, grad_grad_x):
        (indices,) = ctx.saved_tensors
        planes = indices.shape[0] * indices.shape[1]
        plane = arange(planes, device=indices.device).reshape(planes, 1)
        gathered = grad_grad_x.reshape(planes, -1)[plane, indices.reshape(planes, -1)]
        return gathered.reshape(indices.shape), None, None


class AvgPool2d(Op):
    """out[n, c, h, w] = sum over the window / divisor; each input gets grad / divisor from every window holding it."""

    node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, b, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        ctx.input_shape = x.shape
        return b.avg_pool2d_forward(x, *ctx.args)

    @staticmethod
    def backward(ctx, grad):
        return (AvgPool2dBackward.apply(grad, ctx.input_shape, *ctx.args),) + (None,) * 6


class AvgPool2dBackward(Op):
    """The gradient of average pooling, for an input of ``input_shape``:

        grad_x[n, c, r, q] = sum over the windows (h, w) holding (r, q) of grad_out[n, c, h, w] / divisor(h, w)

    Linear in grad_out, the adjoint of avg_pool2d; its own gradient is avg_pool2d with the same arguments.
    """

    node_name = "AvgPool2DBackwardBackward0"

    @staticmethod
    def forward(ctx, b, grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
        ctx.args = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
        return b.avg_pool2d_backward(grad, input_shape, *ctx.args)

    @staticmethod
    def backward(ctx, grad_grad_x):
        return (AvgPool2d.apply(grad_grad_x, *ctx.args), None) + (None,) * 6


class EmptyAdaptiveAvgPool2d(Op):
    """adaptive_avg_pool2d with no element to output (an empty batch, or a zero output size): an empty
    (N, C, H_out, W_out) of x's dtype, whatever it is, since no kernel runs. Its gradient is empty too, but, as
    torch's, the backward refuses an output of zero height or width."""

    node_name = "AdaptiveAvgPool2DBackward0"

    @staticmethod
    def forward(ctx, b, x, out_hw):
        ctx.input_shape = x.shape
        return b.zeros(x.shape[:2] + tuple(out_hw), x.dtype)

    @staticmethod
    def backward(ctx, grad):
        if 0 in grad.shape[2:]:
            raise RuntimeError(
                "adaptive_avg_pool2d_backward(): Expected grad_output to have non-zero size for non-batch dimensions, "
                f"but grad_output has sizes {list(grad.shape)} with dimension {grad.shape.index(0, 2)} being empty"
            )
        return zeros(ctx.input_shape, dtype=grad.dtype, device=grad.device), None


def pool_arguments(name, x, kernel_size, stride, padding, dilation, ceil_mode):
    """Check pooling arguments as torch does and return them as pairs: (kernel_size, stride, padding, dilation)."""
    kernel_size = pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None or stride == () or stride == [] else pair(stride, "stride")
    padding, dilation = pair(padding, "padding"), pair(dilation, "dilation")
    if min(kernel_size) <= 0:
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {list(kernel_size)}")
    if min(stride) <= 0:
        raise RuntimeError(f"{name}: stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"{name}: dilation should be greater than zero, but got {list(dilation)}")
    if min(padding) < 0:
        raise RuntimeError(f"{name}: negative padding is not supported, got padding={list(padding)}")
    for p, k in zip(padding, kernel_size):  # a larger pad would let a window lie wholly in the padding
        if p > k // 2 and name == "avg_pool2d":
            raise RuntimeError(
                f"{name}: pad should be at most half of effective kernel size, but got pad={p}, kernel_size={k} and "
                "dilation=1"
            )
        if p > k // 2:
            (ph, pw), (kh, kw) = padding, kernel_size
            raise RuntimeError(
                f"{name}: pad should be smaller than or equal to half of kernel size, but got padW = {pw}, "
                f"padH = {ph}, kW = {kw}, kH = {kh}"
            )
    sizes = zip(x.shape[2:], kernel_size, stride, padding, dilation)
    out = [pool_output_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in sizes]
    if min(out) < 1:
        c, h, w = x.shape[1:]
        raise RuntimeError(
            f"{name}: Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{out[0]}x{out[1]}). "
            "Output size is too small"
        )
    return kernel_size, stride, padding, dilation


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each kH x kW window of ``input`` (N, C, H, W) or (C, H, W); padding counts as -inf."""
    x = check_input_dims("max_pool2d", input)
    args = pool_arguments("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = MaxPool2d.apply(x, *args, ceil_mode)
    if input.dim() == 3:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over each kH x kW window; with ``count_include_pad`` padded zeros count in the divisor."""
    x = check_input_dims("avg_pool2d", input)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    kernel_size, stride, padding, _ = pool_arguments(
        "avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode
    )
    out = AvgPool2d.apply(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    return out if input.dim() == 4 else out.squeeze(0)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out): cell (i, j) averages rows floor(i H / H_out) .. ceil((i+1) H / H_out)
    and the same for columns. Divisible sizes use one avg_pool2d; others average each cell's window. As in torch, an
    output of 1 x 1 is the mean over H and W (for any input of at least 2 dims)."""
    out_hw = _adaptive_output_size(output_size, input.shape)
    if out_hw == (1, 1):
        return input.mean(dim=(-1, -2), keepdim=True)
    x = check_input_dims("adaptive_avg_pool2d", input)
    if 0 in x.shape[2:]:
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has "
            f"sizes {list(input.shape)} with dimension {input.dim() - 2 + x.shape[2:].index(0)} being empty"
        )
    if x.numel() * math.prod(out_hw) == 0:
        out = EmptyAdaptiveAvgPool2d.apply(x, out_hw)
    else:
        out = _adaptive_avg_pool2d(x, out_hw)
    return out if input.dim() == 4 else out.squeeze(0)


def _adaptive_output_size(output_size, input_shape):
    """``output_size`` as (H_out, W_out): an int for both, or a pair in which None keeps the input's size."""
    out_hw = pair(output_size, "output_size")
    if isinstance(output_size, (tuple, list)):
        if len(input_shape) <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        out_hw = tuple(n if o is None else o for n, o in zip(input_shape[-2:], out_hw))
    if min(out_hw) < 0:
        raise RuntimeError(
            "adaptive_avg_pool2d: elements of output_size must be greater than or equal to 0 but received "
            f"{{{out_hw[0]}, {out_hw[1]}}}"
        )
    return out_hw


def _adaptive_avg_pool2d(x, out_hw):
    """adaptive_avg_pool2d of a non-empty (N, C, H, W) x to a non-empty out_hw."""
    check_floating("adaptive_avg_pool2d", x)
    h, w = x.shape[2:]
    if h % out_hw[0] == 0 and w % out_hw[1] == 0:
        kernel = (h // out_hw[0], w // out_hw[1])
        return AvgPool2d.apply(x, kernel, kernel, (0, 0), False, True, None)
    rows = [(i * h // out_hw[0], math.ceil((i + 1) * h / out_hw[0])) for i in range(out_hw[0])]
    cols = [(j * w // out_hw[1], math.ceil((j + 1) * w / out_hw[1])) for j in range(out_hw[1])]
    cells = [x[:, :, r0:r1, c0:c1].mean(dim=(2, 3)) for r0, r1 in rows for c0, c1 in cols]
    return stack(cells, dim=-1).reshape(x.shape[0], x.shape[1], *out_hw)
