"""Normalisation layers: re-centre and re-scale activations, y = (x - mean) / sqrt(var + eps) * weight + bias.

They differ in which elements share a mean and a variance: BatchNorm, each channel over the batch;
InstanceNorm, each (sample, channel); GroupNorm, each (sample, group of channels); LayerNorm, each sample's
trailing ``normalized_shape`` elements.
"""
from .. import dtypes
from ..ops.arguments import (
    check_group_norm_module, check_instance_norm_channels, check_norm_input_dims, normalized_shape_tuple,
)
from ..tensor import ones, tensor, zeros
from . import functional as F
from .module import Module
from .parameter import Parameter


def _register_affine(module, shape, affine, bias, device, dtype):
    """Register ``module.weight`` (ones of ``shape``) and ``module.bias`` (zeros), each None where it is absent:
    no weight without ``affine``, no bias without ``affine`` and ``bias``."""
    module.register_parameter("weight", Parameter(ones(shape, device=device, dtype=dtype)) if affine else None)
    module.register_parameter("bias", Parameter(zeros(shape, device=device, dtype=dtype)) if affine and bias else None)


class _RunningStatsNorm(Module):
    """Per-channel affine parameters and running statistics, shared by batch and instance norm."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, device=None, dtype=None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _register_affine(self, num_features, affine, affine, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class _BatchNorm(_RunningStatsNorm):
    expected_dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        check_norm_input_dims(type(self).__name__, input, self.expected_dims)
        factor = self.momentum if self.momentum is not None else 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / self.num_batches_tracked.item()
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input, self.running_mean if track else None, self.running_var if track else None,
            self.weight, self.bias, use_batch_stats, factor, self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): each channel normalised with the batch's statistics in training and
    with the running ones in evaluation; running = (1 - momentum) running + momentum batch (unbiased variance)."""

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W): per channel, statistics over N, H and W (see BatchNorm1d)."""

    expected_dims = (4,)


class InstanceNorm2d(_RunningStatsNorm):
    """Normalise each (sample, channel) plane of (N, C, H, W) or (C, H, W) with its own statistics."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)

    def forward(self, input):
        check_norm_input_dims("InstanceNorm2d", input, (3, 4))
        check_instance_norm_channels(input, self.num_features, self.affine)
        x = input if input.dim() == 4 else input.unsqueeze(0)
        factor = self.momentum if self.momentum is not None else 0.0
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats, factor, self.eps
        )
        return out if input.dim() == 4 else out.squeeze(0)


class LayerNorm(Module):
    """Normalise the trailing ``normalized_shape`` elements of each sample; weight and bias have that shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = normalized_shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine, self.has_bias = eps, elementwise_affine, bias
        _register_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, bias={self.has_bias}"


class GroupNorm(Module):
    """Split C channels into ``num_groups`` groups and normalise each (sample, group); per-channel weight and bias."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        check_group_norm_module(num_groups, num_channels)
        self.num_groups, self.num_channels, self.eps, self.affine, self.has_bias = num_groups, num_channels, eps, affine, bias
        _register_affine(self, num_channels, affine, bias, device, dtype)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.has_bias}"
