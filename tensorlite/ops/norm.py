"""Normalisation ops. One fused kernel normalises over every axis but axis 1; batch, layer, group and
instance norm are that kernel applied to a suitable view of the input, followed by the affine part.

    y = (x - mean) / sqrt(var + eps) * weight + bias      (var biased, over the normalised axes)
"""
import math

from ..autograd.function import Op, traced_as
from ..autograd.grad_mode import is_grad_enabled, no_grad
from .arguments import (
    batch_norm_arguments, batch_norm_python_arguments, group_norm_arguments, instance_norm_arguments,
    layer_norm_arguments,
)
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


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalise each channel of ``input`` (N, C, *): with the batch's statistics when ``training`` (and update the
    running ones), else with ``running_mean`` / ``running_var``."""
    batch_norm_python_arguments(input, training, eps)
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps):
    """batch_norm past the checks of torch's Python layer, which instance norm skips as torch's does."""
    batch_norm_arguments(input, running_mean, running_var, weight, bias, training)
    if input.numel() == 0:
        return _empty_batch_norm(input, weight, bias)
    if training:
        return batch_norm_training(input, weight, bias, running_mean, running_var, momentum, eps)
    return _batch_norm_eval(input, running_mean, running_var, weight, bias, eps)


@traced_as("batch_norm")
def _batch_norm_eval(input, running_mean, running_var, weight, bias, eps):
    """Batch norm with the running statistics: one per-channel scale and shift, x * scale + shift."""
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
    normalized_shape = layer_norm_arguments(input, normalized_shape, weight, bias)
    leading = input.dim() - len(normalized_shape)
    out = _normalise_rows(input, math.prod(input.shape[:leading]), eps)
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the C channels of (N, C, *) into ``num_groups`` groups; normalise each (sample, group), then per-channel affine."""
    group_norm_arguments(input, num_groups, weight, bias)
    out = _normalise_rows(input, input.shape[0] * num_groups, eps)
    return _affine(out, weight, bias)


def instance_norm(
    input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-5
):
    """Normalise each (sample, channel) plane of (N, C, *) on its own, then per-channel affine: batch norm of the
    (1, N*C, *) view, with each per-channel argument repeated N times (torch's definition, its errors included).
    With ``use_input_stats``, running statistics, when given, become the average over the samples of the N copies
    that batch norm updated (NaN for an empty batch, as in torch)."""
    instance_norm_arguments(input, running_mean, running_var, use_input_stats)
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
