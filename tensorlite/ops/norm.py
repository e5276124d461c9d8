"""Normalisation ops. One fused kernel normalises over every axis but axis 1; batch, layer, group and
instance norm are that kernel applied to a suitable view of the input, followed by the affine part.

    y = (x - mean) / sqrt(var + eps) * weight + bias      (var biased, over the normalised axes)
"""
import math

from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled, no_grad
from .kernel import Kernel


class BatchNorm(Op):
    """Training-mode batch norm over all axes but axis 1 of x (N, C, *): returns the output and, as torch's
    native_batch_norm, each channel's batch mean and invstd = 1 / sqrt(var + eps) (var biased).

    Backward, with x_hat = (x - mean) * invstd, g = grad_out * weight and means over each channel's elements:

        grad_x = invstd * (g - mean(g) - x_hat * mean(g * x_hat))
        grad_weight = sum(grad_out * x_hat)       grad_bias = sum(grad_out)

    one fused kernel call in a plain backward; with ``create_graph`` the same formulas as tensor ops, mean and
    invstd recomputed from x, so that they can be differentiated again in x, weight and grad_out.
    """

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, b, x, weight, bias, eps):
        out, mean, invstd = b.batch_norm_forward(x, weight, bias, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return out, mean, invstd

    @staticmethod
    def backward(ctx, grad, grad_mean=None, grad_invstd=None):
        x, weight, mean, invstd = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if is_grad_enabled():  # create_graph: the formulas above as tensor ops
            axes = (0,) + tuple(range(2, x.dim()))
            centered = x - x.mean(dim=axes, keepdim=True)
            invstd = ((centered * centered).mean(dim=axes, keepdim=True) + ctx.eps) ** -0.5
            x_hat = centered * invstd
            g = grad if weight is None else grad * _per_channel(weight, x.dim())
            grad_x = invstd * (g - g.mean(dim=axes, keepdim=True) - x_hat * (g * x_hat).mean(dim=axes, keepdim=True))
            grad_weight = (grad * x_hat).sum(dim=axes) if needs[1] else None
            grad_bias = grad.sum(dim=axes) if needs[2] else None
            return grad_x, grad_weight, grad_bias, None
        grad_x, grad_weight, grad_bias = Kernel.apply("batch_norm_backward", grad, x, weight, mean, invstd)
        return grad_x, grad_weight if needs[1] else None, grad_bias if needs[2] else None, None


def batch_norm_training(x, weight, bias, running_mean, running_var, momentum, eps):
    """Batch norm with the batch's statistics, updating the running ones (when given) in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance for running_var."""
    out, mean, invstd = BatchNorm.apply(x, weight, bias, eps)
    if running_mean is not None:
        count = x.numel() // x.shape[1]
        with no_grad():
            # in float64: a float32 invstd of 4e-20 (a variance of 5e38, still a float32) squares to a denormal
            batch_var = (1.0 / invstd.double() ** 2 - eps) * (count / max(count - 1, 1))
            running_mean.mul_(1 - momentum).add_(mean * momentum)
            running_var.mul_(1 - momentum).add_(batch_var * momentum)
    return out


def check_floating(kernel, x):
    """Refuse a non-floating ``x`` as torch's floating-point-only ``kernel`` does (normalising integers would give
    zeros, and an infinite running variance)."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{x.dtype.legacy_name}\'')


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _verify_batch_size(size):
    """A single value per channel has no variance to normalise by: torch refuses to train on it (size [N, C, *])."""
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel of ``input`` (N, C, *): with the batch's statistics when ``training`` (and update the
    running ones), else with ``running_mean`` / ``running_var``."""
    if training:
        _verify_batch_size(input.shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """batch_norm past the checks of torch's Python layer, which instance norm skips as torch's does."""
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.dim()}D input)")
    if input.numel() == 0:
        return _empty_batch_norm(input, weight, bias)
    for name, stats in (("running_mean", running_mean), ("running_var", running_var)):
        if stats is None and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {t.numel()}")
    check_floating("batch_norm", input)
    if training:
        return batch_norm_training(input, weight, bias, running_mean, running_var, momentum, eps)
    scale = (running_var + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * _per_channel(scale, input.dim()) + _per_channel(shift, input.dim())


def _empty_batch_norm(input, weight, bias):
    """torch's batch norm of an input without elements: no statistics, no running-statistics update, and a copy of
    the input times weight[0] plus bias[0] (an IndexError when they are empty too), so that gradients reach them."""
    out = input.clone()
    if weight is not None:
        out = out * weight[0]
    return out + bias[0] if bias is not None else out


def _normalise_rows(x, rows, eps):
    """View x as (1, rows, rest) and normalise each row with its own mean and variance (nothing to do when x
    is empty)."""
    if x.numel() == 0:
        return x.clone()
    return BatchNorm.apply(x.reshape(1, rows, -1), None, None, eps)[0].reshape(x.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dimensions, then y * weight + bias (shaped like them)."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
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
    out = _normalise_rows(input, math.prod(input.shape[:leading]), eps)
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, *) into ``num_groups`` groups; normalise each (sample, group), then per-channel affine."""
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
    out = _normalise_rows(input, n * num_groups, eps)
    return _affine(out, weight, bias)


def _verify_spatial_size(size):
    """A single value per plane has no variance to normalise by: torch refuses it (size [N, C, *])."""
    if math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size}")


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):
    """Normalise each (sample, channel) plane of (N, C, *) on its own, then per-channel affine: batch norm of the
    (1, N*C, *) view, with each per-channel argument repeated N times (torch's definition, its errors included).
    With ``use_input_stats``, running statistics, when given, become the average over the samples of the N copies
    that batch norm updated (NaN for an empty batch, as in torch)."""
    if use_input_stats:
        _verify_spatial_size(input.shape)
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    n, c = input.shape[:2]
    # batch norm updates the running copies in place: clone them, as repeat may return a read-only view
    running = [None if t is None else t.repeat(n).clone() for t in (running_mean, running_var)]
    weight, bias = (None if t is None else t.repeat(n) for t in (weight, bias))
    out = _batch_norm(input.reshape(1, n * c, *input.shape[2:]), *running, weight, bias, use_input_stats, momentum, eps)
    for stats, copies in zip((running_mean, running_var), running):
        if stats is not None and use_input_stats:
            stats.copy_(copies.reshape(n, c).mean(dim=0))
    return out.reshape(input.shape)


def _affine(x, weight, bias):
    if weight is not None:
        x = x * _per_channel(weight, x.dim())
    return x + _per_channel(bias, x.dim()) if bias is not None else x
