"""2-D convolution (cross-correlation, as in every deep-learning framework) as a differentiable op.

``conv2d`` checks its arguments the way torch does, names what it expected and what it got, and then
calls the backend's ``conv2d_forward`` / ``conv2d_backward`` kernels on raw arrays.

The convolution y = conv(x, w) and its two gradients form a closed set of bilinear ops, each one's backward
made of the three of them, so derivatives of any order go through (``create_graph=True``):

    conv(x, w)                  -> y     d/dx: conv_input_grad(gy, w)    d/dw: conv_weight_grad(x, gy)
    conv_input_grad(gy, w)      -> gx    d/dgy: conv(ggx, w)             d/dw: conv_weight_grad(ggx, gy)
    conv_weight_grad(x, gy)     -> gw    d/dgy: conv(x, ggw)             d/dx: conv_input_grad(gy, ggw)

A plain backward (grad mode off) skips them for the one fused ``conv2d_backward`` kernel call.
"""
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled
from ..backends.geometry import conv_output_size, pair
from ..device import check_same_device
from .kernel import Kernel
from .shape import pad


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


def same_padding(kernel_size, dilation):
    """Per-axis (before, after) padding that keeps the size at stride 1: d(k-1) split, the extra on the after side,
    halved towards zero as torch does (a kernel without taps, k = 0, thus gets the negative padding torch refuses)."""
    total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return [(int(t / 2), t - int(t / 2)) for t in total]


def check_input_dims(name, x, spatial=2):
    """Accept (C, H, W) unbatched or (N, C, H, W) batched input, as torch does; return it batched."""
    if x.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {name}, but got input of size: "
            f"{list(x.shape)}"
        )
    return x if x.dim() == spatial + 2 else x.unsqueeze(0)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """Convolve ``input`` (N, C_in, H, W) or (C_in, H, W) with ``weight`` (C_out, C_in/groups, kH, kW).

    Output (N, C_out, H_out, W_out) with H_out = floor((H + 2p - d(kH - 1) - 1) / s) + 1 (likewise W).
    ``padding`` is an int, a pair, 'valid' (0) or 'same' (output size = input size; stride must be 1).
    Argument checks follow torch's, in its order; an empty batch skips the kernel (see _empty_batch_conv2d).
    """
    if not isinstance(padding, str):  # torch checks the bias first, except with a string padding
        _check_bias_dtype(input, bias)
    x = check_input_dims("conv2d", input)
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    if weight.dim() != 4:
        raise RuntimeError(f"conv2d: expected weight to be 4-dimensional, but got weight of size {list(weight.shape)}")
    kernel_size = tuple(weight.shape[2:])
    if isinstance(padding, str):
        x, padding = _string_padding(x, padding, kernel_size, stride, dilation)
    padding = pair(padding, "padding")
    _check_shapes(x, weight, bias, stride, padding, dilation, groups)
    check_same_device(x, weight, bias)
    if x.shape[0] == 0:
        out = _empty_batch_conv2d(x, weight, bias, stride, padding, dilation)
    else:
        _check_kernel_arguments(x, weight, dilation)
        _check_bias_dtype(x, bias)
        out = Conv2d.apply(x, weight, bias, stride, padding, dilation, groups)
    return out if input.dim() == 4 else out.squeeze(0)


def _string_padding(x, padding, kernel_size, stride, dilation):
    """``padding`` 'valid' or 'same' as (x, an int pair): 'same' pads an odd total d(k - 1) by one more after
    than before, added to x here so that the kernels see a symmetric padding."""
    if padding not in ("same", "valid"):
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if padding == "same" and stride != (1, 1):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    if padding == "valid":
        return x, (0, 0)
    (top, bottom), (left, right) = same_padding(kernel_size, dilation)
    if bottom > top or right > left:  # (one less after, from k = 0, would be cropped; the kernel is refused anyway)
        x = pad(x, (0, max(right - left, 0), 0, max(bottom - top, 0)))
    return x, (top, left)


def _check_shapes(x, weight, bias, stride, padding, dilation, groups):
    """torch's checks of the convolution's arguments against each other (its check_shape_forward)."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if min(padding) < 0:
        raise RuntimeError(f"negative padding is not supported, got padding={list(padding)}")
    if min(stride) <= 0:
        raise RuntimeError(f"non-positive stride is not supported, got stride={list(stride)}")
    if min(dilation) < 0:
        raise RuntimeError(f"dilation should be greater than zero, got dilation={list(dilation)}")
    if weight.shape[0] < groups or weight.shape[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be at least {groups} and divisible by {groups} at dimension 0, "
            f"but got weight of size {list(weight.shape)} instead"
        )
    if x.shape[1] != weight.shape[1] * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{list(x.shape)} to have "
            f"{weight.shape[1] * groups} channels, but got {x.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise RuntimeError(
            f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with {weight.shape[0]} "
            f"elements, but got bias of size {list(bias.shape)} instead"
        )
    padded = tuple(n + 2 * p for n, p in zip(x.shape[2:], padding))
    effective = tuple(d * (k - 1) + 1 for k, d in zip(weight.shape[2:], dilation))
    if any(e > n for e, n in zip(effective, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({padded[0]} x {padded[1]}). Kernel size: "
            f"({effective[0]} x {effective[1]}). Kernel size can't be greater than actual input size"
        )


def _check_kernel_arguments(x, weight, dilation):
    """What torch's kernels check, beyond _check_shapes: they run only on a non-empty batch."""
    kh, kw = weight.shape[2:]
    if min(kh, kw) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    if weight.dtype is not x.dtype:
        raise RuntimeError(
            f"expected scalar type {x.dtype.legacy_name} but found {weight.dtype.legacy_name} "
            "(conv2d's input and weight must have the same dtype)"
        )


def _check_bias_dtype(x, bias):
    if bias is not None and bias.dtype is not x.dtype:
        raise RuntimeError(f"Input type ({x.dtype.c_name}) and bias type ({bias.dtype.c_name}) should be the same")


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
