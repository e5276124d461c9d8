"""Normalisation ops. One fused kernel normalises over every axis but axis 1; batch, layer, group and
instance norm are that kernel applied to a suitable view of the input, followed by the affine part.

    y = (x - mean) / sqrt(var + eps) * weight + bias      (var biased, over the normalised axes)
"""
import math

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..tensor import Tensor


class BatchNorm(Function):
    """Training-mode batch norm over all axes but axis 1 of x (N, C, *), updating running statistics in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance for running_var.

    Backward, with x_hat = (x - mean) * invstd, g = grad_out * weight and means over each channel's elements:

        grad_x = invstd * (g - mean(g) - x_hat * mean(g * x_hat))
        grad_weight = sum(grad_out * x_hat)       grad_bias = sum(grad_out)

    one fused kernel call in a plain backward; with ``create_graph`` the same formulas as tensor ops, mean and
    invstd recomputed from x, so that they can be differentiated again in x, weight and grad_out.
    """

    node_name = "NativeBatchNormBackward0"

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps):
        b = x._backend
        out, mean, invstd = b.batch_norm_forward(
            x._array, None if weight is None else weight._array, None if bias is None else bias._array, eps
        )
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.eps = mean, invstd, eps
        if running_mean is not None:
            count = x.numel() // x.shape[1]
            batch_var = (1.0 / (Tensor(invstd, x.device) ** 2) - eps) * (count / max(count - 1, 1))
            running_mean.mul_(1 - momentum).add_(Tensor(mean, x.device) * momentum)
            running_var.mul_(1 - momentum).add_(batch_var * momentum)
        return Tensor(out, x.device)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
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
            return grad_x, grad_weight, grad_bias, None, None, None, None
        grad_x, grad_weight, grad_bias = grad._backend.batch_norm_backward(
            grad._array, x._array, None if weight is None else weight._array, ctx.mean, ctx.invstd
        )
        grad_weight = Tensor(grad_weight, grad.device) if needs[1] else None
        grad_bias = Tensor(grad_bias, grad.device) if needs[2] else None
        return Tensor(grad_x, grad.device), grad_weight, grad_bias, None, None, None, None


def _check_floating(kernel, x):
    """Normalising integers would give zeros (and an infinite running variance): torch refuses, and so do we."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{x.dtype.legacy_name}\'')


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel of ``input`` (N, C, *): with the batch's statistics when ``training`` (and update the
    running ones), else with ``running_mean`` / ``running_var``."""
    _check_floating("batch_norm", input)
    if input.dim() < 2:
        raise ValueError(f"batch_norm: expected at least 2D input (got {input.dim()}D input)")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != channels:
            raise RuntimeError(f"batch_norm: {name} should contain {channels} elements not {t.numel()}")
    if training:
        if input.numel() // channels <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        return BatchNorm.apply(input, weight, bias, running_mean, running_var, momentum, eps)
    if running_mean is None or running_var is None:
        raise RuntimeError("batch_norm: running_mean and running_var must be given when training=False")
    scale = (running_var + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * _per_channel(scale, input.dim()) + _per_channel(shift, input.dim())


def _normalise_rows(x, rows, eps):
    """View x as (1, rows, rest) and normalise each row with its own mean and variance."""
    return BatchNorm.apply(x.reshape(1, rows, -1), None, None, None, None, 0.0, eps).reshape(x.shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the last ``len(normalized_shape)`` dimensions, then y * weight + bias (shaped like them)."""
    _check_floating("LayerNormKernelImpl", input)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if tuple(input.shape[input.dim() - len(normalized_shape):]) != normalized_shape:
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*, "
            f"{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}"
        )
    rows = input.numel() // math.prod(normalized_shape)
    out = _normalise_rows(input, rows, eps)
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, *) into ``num_groups`` groups; normalise each (sample, group), then per-channel affine."""
    _check_floating("GroupNormKernelImpl", input)
    n, c = input.shape[:2]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input of shape "
            f"{list(input.shape)} and num_groups={num_groups}"
        )
    out = _normalise_rows(input, n * num_groups, eps)
    return _affine(out, weight, bias)


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):
    """Normalise each (sample, channel) plane of (N, C, *) on its own, then per-channel affine. Running statistics,
    when given, move towards the batch average of the per-plane means and unbiased variances."""
    _check_floating("batch_norm", input)
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    n, c = input.shape[:2]
    if running_mean is not None:
        planes = input.detach().reshape(n, c, -1)
        running_mean.mul_(1 - momentum).add_(planes.mean(dim=2).mean(dim=0) * momentum)
        running_var.mul_(1 - momentum).add_(planes.var(dim=2).mean(dim=0) * momentum)
    return _affine(_normalise_rows(input, n * c, eps), weight, bias)


def _affine(x, weight, bias):
    if weight is not None:
        x = x * _per_channel(weight, x.dim())
    return x + _per_channel(bias, x.dim()) if bias is not None else x
