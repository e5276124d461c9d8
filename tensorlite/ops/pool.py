"""2-D max and average pooling as differentiable ops, with torch's argument rules and output sizes.

Output size per axis: floor((n + 2p - d(k - 1) - 1) / s) + 1, or rounded up with ``ceil_mode`` as long
as the last window starts inside the input or its left padding. ``stride`` defaults to ``kernel_size``.
"""
import math

from ..autograd.function import Op, traced_as
from ..tensor import arange, zeros
from .arguments import (
    adaptive_avg_pool2d_input, adaptive_output_size, avg_pool2d_arguments, check_floating, max_pool2d_arguments,
)
from .shape import stack


class MaxPool2d(Op):
    """out[n, c, h, w] = max over the window; the gradient flows to the (first) position of the maximum."""

    node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, b, x, kernel_size, stride, padding, dilation, ceil_mode):
        out, indices = b.max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode)
        ctx.save_for_backward(indices)
        ctx.input_shape = x.shape
        ctx.geometry = (kernel_size, stride, padding, dilation)
        return out, indices

    @staticmethod
    def backward(ctx, grad, grad_indices=None):
        (indices,) = ctx.saved_tensors
        return MaxPool2dBackward.apply(grad, indices, ctx.input_shape, *ctx.geometry), None, None, None, None, None


class MaxPool2dBackward(Op):
    """The gradient of max pooling, a scatter of grad_out to the winning positions (``indices``, flat per plane):

        grad_x[n, c].flat[indices[n, c, h, w]] += grad_out[n, c, h, w]

    Linear in grad_out; its own gradient gathers at the same positions: d/dgrad_out = ggx[n, c].flat[indices].
    """

    node_name = "MaxPool2DWithIndicesBackwardBackward0"

    @staticmethod
    def forward(ctx, b, grad, indices, input_shape, kernel_size, stride, padding, dilation):
        ctx.save_for_backward(indices)
        return b.max_pool2d_backward(grad, indices, input_shape, kernel_size, stride, padding, dilation)

    @staticmethod
    def backward(ctx, grad_grad_x):
        (indices,) = ctx.saved_tensors
        planes = indices.shape[0] * indices.shape[1]
        plane = arange(planes, device=indices.device).reshape(planes, 1)
        gathered = grad_grad_x.reshape(planes, -1)[plane, indices.reshape(planes, -1)]
        return (gathered.reshape(indices.shape),) + (None,) * 6


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


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over each kH x kW window of ``input`` (N, C, H, W) or (C, H, W); padding counts as -inf."""
    x, *args = max_pool2d_arguments(input, kernel_size, stride, padding, dilation, ceil_mode)
    out, indices = MaxPool2d.apply(x, *args, ceil_mode)
    if input.dim() == 3:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    """Mean over each kH x kW window; with ``count_include_pad`` padded zeros count in the divisor."""
    x, *args = avg_pool2d_arguments(input, kernel_size, stride, padding, ceil_mode, divisor_override)
    out = AvgPool2d.apply(x, *args, ceil_mode, count_include_pad, divisor_override)
    return out if input.dim() == 4 else out.squeeze(0)


@traced_as("adaptive_avg_pool2d")
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H_out, W_out): cell (i, j) averages rows floor(i H / H_out) .. ceil((i+1) H / H_out)
    and the same for columns. Divisible sizes use one avg_pool2d; others average each cell's window. As in torch, an
    output of 1 x 1 is the mean over H and W (for any input of at least 2 dims)."""
    out_hw = adaptive_output_size(output_size, input.shape)
    if out_hw == (1, 1):
        return input.mean(dim=(-1, -2), keepdim=True)
    x = adaptive_avg_pool2d_input(input)
    if x.numel() * math.prod(out_hw) == 0:
        out = EmptyAdaptiveAvgPool2d.apply(x, out_hw)
    else:
        out = _adaptive_avg_pool2d(x, out_hw)
    return out if input.dim() == 4 else out.squeeze(0)


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
