"""The table of benchmark cases: the CNN layers people train with tensorlite, at the shapes they train them at.

A case is one op at one input shape, written once against the torch-style functional API, so the very same
call runs on ``tensorlite.nn.functional`` and on ``torch.nn.functional``. Each case says whether its input
requires grad in a real network: the image fed to the first layer does not, a hidden activation does. The
harness applies that flag to both libraries alike, so neither is timed computing a gradient nobody needs.

FLOP counting (a multiply and an add count as two operations, as in every GEMM benchmark):

    conv2d forward     F = 2 * N * C_out * H_out * W_out * (C_in / groups) * kH * kW
    conv2d backward    F for grad_weight (grad_out @ columns^T), plus F for grad_input (weight^T @ grad_out)
                       when the input requires grad; so forward+backward counts 2F without, 3F with input grad.
                       The bias (N * C_out * H_out * W_out adds each way) and col2im's adds are not counted.
    max_pool2d,        a handful of operations per element moved: their time is bound by memory, not arithmetic,
    batch_norm         so they get no FLOP count (``None``) and no GFLOP/s figure.
"""
from dataclasses import dataclass

from ..backends.geometry import conv_output_size


@dataclass(frozen=True)
class TensorSpec:
    """A tensor an op needs besides its input: its shape, whether it is a trained parameter, its initial value.

    ``fill`` None means standard-normal random values; a number means a tensor full of that number.
    """

    shape: tuple
    requires_grad: bool = True
    fill: float | None = None


@dataclass(frozen=True)
class Conv2dCase:
    """``F.conv2d(x, weight, bias, stride, padding, groups=groups)`` on x (N, C_in, H, W), a square kernel."""

    name: str
    input_shape: tuple
    out_channels: int
    kernel_size: int
    stride: int = 1
    padding: int = 0
    groups: int = 1
    input_grad: bool = True
    op = "conv2d"

    def tensors(self):
        c_in = self.input_shape[1]
        k = self.kernel_size
        weight = TensorSpec((self.out_channels, c_in // self.groups, k, k))
        return {"weight": weight, "bias": TensorSpec((self.out_channels,))}

    def __call__(self, F, x, weight, bias):
        return F.conv2d(x, weight, bias, stride=self.stride, padding=self.padding, groups=self.groups)

    def output_hw(self):
        """(H_out, W_out), each floor((n + 2p - (k - 1) - 1) / s) + 1."""
        return tuple(conv_output_size(n, self.kernel_size, self.stride, self.padding, 1) for n in self.input_shape[2:])

    def forward_flops(self):
        """F = 2 * N * C_out * H_out * W_out * (C_in / groups) * kH * kW."""
        n, c_in = self.input_shape[:2]
        h_out, w_out = self.output_hw()
        return 2 * n * self.out_channels * h_out * w_out * (c_in // self.groups) * self.kernel_size**2

    def forward_backward_flops(self):
        """Forward F, then F for grad_weight and, if the input requires grad, F for grad_input."""
        return self.forward_flops() * (3 if self.input_grad else 2)

    def describe(self):
        """'N x C_in x H x W -> C_out kK', then the stride, padding and groups where they differ from the defaults."""
        n, c_in, h, w = self.input_shape
        options = (("s", self.stride, 1), ("p", self.padding, 0), ("g", self.groups, 1))
        extras = "".join(f" {label}{value}" for label, value, default in options if value != default)
        return f"{n}x{c_in}x{h}x{w} -> {self.out_channels} k{self.kernel_size}{extras}"


class MemoryBound:
    """Pooling and normalisation: a few operations per element moved, so no FLOP count and no GFLOP/s."""

    def forward_flops(self):
        """None: not counted."""
        return None

    def forward_backward_flops(self):
        """None: not counted."""
        return None


@dataclass(frozen=True)
class MaxPool2dCase(MemoryBound):
    """``F.max_pool2d(x, kernel_size)`` on x (N, C, H, W); the stride defaults to the kernel size."""

    name: str
    input_shape: tuple
    kernel_size: int
    input_grad: bool = True
    op = "max_pool2d"

    def tensors(self):
        return {}

    def __call__(self, F, x):
        return F.max_pool2d(x, self.kernel_size)

    def describe(self):
        n, c, h, w = self.input_shape
        return f"{n}x{c}x{h}x{w} k{self.kernel_size}"


@dataclass(frozen=True)
class BatchNorm2dCase(MemoryBound):
    """``F.batch_norm(x, running_mean, running_var, weight, bias, training=True)``: BatchNorm2d in train mode,
    normalising each channel of x (N, C, H, W) with its batch statistics and updating the running ones."""

    name: str
    input_shape: tuple
    input_grad: bool = True
    op = "batch_norm"

    def tensors(self):
        c = self.input_shape[1]
        return {
            "running_mean": TensorSpec((c,), requires_grad=False, fill=0.0),
            "running_var": TensorSpec((c,), requires_grad=False, fill=1.0),
            "weight": TensorSpec((c,)),
            "bias": TensorSpec((c,)),
        }

    def __call__(self, F, x, running_mean, running_var, weight, bias):
        return F.batch_norm(x, running_mean, running_var, weight, bias, training=True)

    def describe(self):
        n, c, h, w = self.input_shape
        return f"{n}x{c}x{h}x{w}"


CASES = (
    # The MNIST lesson's network at batch 64: conv(1->10, k5) -> max_pool 2 -> relu -> conv(10->20, k5) -> max_pool 2.
    Conv2dCase("mnist-conv1", (64, 1, 28, 28), 10, 5, input_grad=False),
    MaxPool2dCase("mnist-pool1", (64, 10, 24, 24), 2),
    Conv2dCase("mnist-conv2", (64, 10, 12, 12), 20, 5),
    MaxPool2dCase("mnist-pool2", (64, 20, 8, 8), 2),
    # The 3x3 convolutions of a ResNet's stages (channels double as the map halves), batch 8.
    Conv2dCase("conv3x3-64ch-56", (8, 64, 56, 56), 64, 3, padding=1),
    Conv2dCase("conv3x3-128ch-28", (8, 128, 28, 28), 128, 3, padding=1),
    Conv2dCase("conv3x3-256ch-14", (8, 256, 14, 14), 256, 3, padding=1),
    # A bottleneck's 1x1 expansion, a downsampling stride-2 conv, and MobileNet's depthwise conv.
    Conv2dCase("conv1x1-64to256-56", (8, 64, 56, 56), 256, 1),
    Conv2dCase("conv3x3-s2-64to128-56", (8, 64, 56, 56), 128, 3, stride=2, padding=1),
    Conv2dCase("depthwise3x3-64ch-56", (8, 64, 56, 56), 64, 3, padding=1, groups=64),
    BatchNorm2dCase("batchnorm-64ch-56", (8, 64, 56, 56)),
)


def select_cases(patterns, cases=CASES):
    """The cases whose name contains any of ``patterns`` (all of them when ``patterns`` is empty), in table order."""
    return [case for case in cases if not patterns or any(p in case.name for p in patterns)]
