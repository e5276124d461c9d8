"""Argument checks of the convolution, pooling and normalisation ops and layers, one section per family.

The functional ops (ops/conv.py, ops/pool.py, ops/norm.py) and the layers (nn/conv.py, nn/normalization.py) both
call these, so each check is written once. Exception types and messages are torch's, raised in torch's order; a
function named ``*_arguments`` also returns its arguments normalised (pairs, a batched input).
"""
import math
import warnings

from ..backends.geometry import pair, pool_output_size
from ..device import check_same_device
from .shape import pad


# --------------------------------------------------------------------- shared
def check_input_dims(name, x, spatial=2):
    """Accept (C, H, W) unbatched or (N, C, H, W) batched input, as torch does; return it batched."""
    if x.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(
            f"Expected {spatial + 1}D (unbatched) or {spatial + 2}D (batched) input to {name}, but got input of size: "
            f"{list(x.shape)}"
        )
    return x if x.dim() == spatial + 2 else x.unsqueeze(0)


def check_floating(kernel, x):
    """Refuse a non-floating ``x`` as torch's floating-point-only ``kernel`` does (normalising integers would give
    zeros, and an infinite running variance)."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{x.dtype.legacy_name}\'')


# --------------------------------------------------------------------- convolution
def conv_module_arguments(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, padding_mode):
    """The checks of torch's Conv2d constructor; returns (kernel_size, stride, padding, dilation), each a pair
    except a string ``padding``."""
    if groups <= 0:
        raise ValueError("groups must be a positive integer")
    if in_channels % groups:
        raise ValueError("in_channels must be divisible by groups")
    if out_channels % groups:
        raise ValueError("out_channels must be divisible by groups")
    if padding_mode != "zeros":
        raise NotImplementedError(f"padding_mode '{padding_mode}' is not supported; tensorlite pads with zeros")
    if isinstance(padding, str):
        if padding not in ("same", "valid"):
            raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
        if padding == "same" and pair(stride) != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions")
    return pair(kernel_size), pair(stride), padding if isinstance(padding, str) else pair(padding), pair(dilation)


def conv2d_arguments(input, weight, bias, stride, padding, dilation, groups):
    """torch's checks of conv2d, in its order; returns (x, stride, padding, dilation): x batched, and padded on
    the after side where 'same' needs one more there, the rest as int pairs. What torch's kernels check
    (kernel size, dilation, dtypes) is checked only for a non-empty batch, as they run only then."""
    if not isinstance(padding, str):  # torch checks the bias first, except with a string padding
        _check_conv_bias_dtype(input, bias)
    x = check_input_dims("conv2d", input)
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    if weight.dim() != 4:
        raise RuntimeError(f"conv2d: expected weight to be 4-dimensional, but got weight of size {list(weight.shape)}")
    if isinstance(padding, str):
        x, padding = _string_padding(x, padding, tuple(weight.shape[2:]), stride, dilation)
    padding = pair(padding, "padding")
    _check_conv_shapes(x, weight, bias, stride, padding, dilation, groups)
    check_same_device(x, weight, bias)
    if x.shape[0]:
        _check_conv_kernel_arguments(x, weight, dilation)
        _check_conv_bias_dtype(x, bias)
    return x, stride, padding, dilation


def same_padding(kernel_size, dilation):
    """Per-axis (before, after) padding that keeps the size at stride 1: d(k-1) split, the extra on the after side,
    halved towards zero as torch does (a kernel without taps, k = 0, thus gets the negative padding torch refuses)."""
    total = [d * (k - 1) for k, d in zip(kernel_size, dilation)]
    return [(int(t / 2), t - int(t / 2)) for t in total]


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


def _check_conv_shapes(x, weight, bias, stride, padding, dilation, groups):
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


def _check_conv_kernel_arguments(x, weight, dilation):
    """What torch's kernels check, beyond _check_conv_shapes."""
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


def _check_conv_bias_dtype(x, bias):
    if bias is not None and bias.dtype is not x.dtype:
        raise RuntimeError(f"Input type ({x.dtype.c_name}) and bias type ({bias.dtype.c_name}) should be the same")


# --------------------------------------------------------------------- pooling
def max_pool2d_arguments(input, kernel_size, stride, padding, dilation, ceil_mode):
    """torch's checks of max_pool2d; returns (x batched, kernel_size, stride, padding, dilation) as pairs."""
    x = check_input_dims("max_pool2d", input)
    return (x,) + _pool_arguments("max_pool2d", x, kernel_size, stride, padding, dilation, ceil_mode)


def avg_pool2d_arguments(input, kernel_size, stride, padding, ceil_mode, divisor_override):
    """torch's checks of avg_pool2d; returns (x batched, kernel_size, stride, padding) as pairs."""
    x = check_input_dims("avg_pool2d", input)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("avg_pool2d: divisor must be not zero")
    return (x,) + _pool_arguments("avg_pool2d", x, kernel_size, stride, padding, 1, ceil_mode)[:3]


def _pool_arguments(name, x, kernel_size, stride, padding, dilation, ceil_mode):
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


def adaptive_output_size(output_size, input_shape):
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


def adaptive_avg_pool2d_input(input):
    """The input of adaptive_avg_pool2d (to an output other than 1 x 1), batched: no empty height or width."""
    x = check_input_dims("adaptive_avg_pool2d", input)
    if 0 in x.shape[2:]:
        raise RuntimeError(
            f"adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has "
            f"sizes {list(input.shape)} with dimension {input.dim() - 2 + x.shape[2:].index(0)} being empty"
        )
    return x


# --------------------------------------------------------------------- normalisation
def check_norm_input_dims(layer, input, expected_dims):
    """A normalisation layer's check of its input's number of dimensions (one of ``expected_dims``)."""
    if input.dim() not in expected_dims:
        expected = " or ".join(f"{d}D" for d in expected_dims)
        raise ValueError(f"{layer}: expected {expected} input (got {input.dim()}D input)")


def check_instance_norm_channels(input, num_features, affine):
    """InstanceNorm's channel count (dim -3) against ``num_features``: an error with affine parameters of that
    size, else a warning (the count is unused)."""
    channels = input.shape[-3]
    if channels == num_features:
        return
    if affine:
        raise ValueError(
            f"expected input's size at dim={input.dim() - 3} to match num_features ({num_features}), "
            f"but got: {channels}."
        )
    warnings.warn(
        f"input's size at dim={input.dim() - 3} does not match num_features. You can silence this warning "
        "by not passing in num_features, which is not used because affine=False",
        stacklevel=3,  # the caller of the layer's forward
    )


def check_group_norm_module(num_groups, num_channels):
    """The check of torch's GroupNorm constructor."""
    if num_channels % num_groups:
        raise ValueError("num_channels must be divisible by num_groups")


def normalized_shape_tuple(normalized_shape):
    """LayerNorm's ``normalized_shape`` as a tuple: an int n means (n,)."""
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def batch_norm_python_arguments(input, training, eps):
    """The checks of torch's Python batch_norm (which instance norm skips): batch size and eps."""
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")


def batch_norm_arguments(input, running_mean, running_var, weight, bias, training):
    """The checks of torch's native batch norm; only the number of dimensions for an input without elements."""
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.dim()}D input)")
    if input.numel() == 0:
        return
    for name, stats in (("running_mean", running_mean), ("running_var", running_var)):
        if stats is None and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    check_floating("batch_norm", input)


def instance_norm_arguments(input, running_mean, running_var, use_input_stats):
    """The checks of torch's Python instance_norm."""
    if use_input_stats:
        _verify_spatial_size(input.shape)
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")


def layer_norm_arguments(input, normalized_shape, weight, bias):
    """torch's checks of layer_norm; returns ``normalized_shape`` as a tuple."""
    normalized_shape = normalized_shape_tuple(normalized_shape)
    if not normalized_shape:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got "
            "normalized_shape = []"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape {list(t.shape)} "
                f"and normalized_shape = {list(normalized_shape)}"
            )
    leading = input.dim() - len(normalized_shape)
    if leading < 0 or tuple(input.shape[leading:]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*, "
            f"{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}"
        )
    check_floating("LayerNormKernelImpl", input)
    return normalized_shape


def group_norm_arguments(input, num_groups, weight, bias):
    """torch's checks of group_norm (Python layer, then native)."""
    if input.dim() < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.dim()}")
    n, c = input.shape[:2]
    _verify_batch_size([n * c // num_groups, num_groups] + list(input.shape[2:]))
    if num_groups <= 0:
        raise RuntimeError(f"Expected num groups to be greater than 0, got {num_groups}")
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != c):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in input, but got {name} of "
                f"shape {list(t.shape)} and input of shape {list(input.shape)}"
            )
    check_floating("GroupNormKernelImpl", input)


def _verify_batch_size(size):
    """A single value per channel has no variance to normalise by: torch refuses to train on it (size [N, C, *])."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def _verify_spatial_size(size):
    """A single value per plane has no variance to normalise by: torch refuses it (size [N, C, *])."""
    if math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")
