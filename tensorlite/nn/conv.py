"""``Conv2d``: a learnable bank of 2-D filters slid over the input (cross-correlation, as in torch)."""
from ..ops.arguments import conv_module_arguments
from ..tensor import empty
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class Conv2d(Module):
    """Input (N, C_in, H, W) or (C_in, H, W) → output (N, C_out, H_out, W_out), with
    H_out = floor((H + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1 (likewise W_out).

    weight (C_out, C_in / groups, kH, kW) and bias (C_out,) start as U(-k, k), k = 1 / sqrt(C_in / groups * kH * kW)
    (torch's init: kaiming_uniform_ with a = sqrt(5)). ``padding`` is an int, a pair, 'valid' or 'same';
    ``groups`` = C_in gives a depthwise convolution.
    """

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
        padding_mode="zeros", device=None, dtype=None,
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.dilation = conv_module_arguments(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, padding_mode
        )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.groups, self.padding_mode = groups, padding_mode
        self.weight = Parameter(empty((out_channels, in_channels // groups, *self.kernel_size), device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
