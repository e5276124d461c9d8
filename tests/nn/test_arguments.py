"""ops/arguments.py: a layer and its functional form refuse the same bad input with the same exception and message
(they share one check), and a constructor refuses what torch's constructor refuses."""
import pytest

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn


def _raised(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


# name: (the layer's call, the functional call, the exception type both raise)
SAME_INPUT = {
    "conv2d channel mismatch": (
        lambda: nn.Conv2d(2, 4, 3)(tl.ones(1, 3, 5, 5)),
        lambda: F.conv2d(tl.ones(1, 3, 5, 5), tl.ones(4, 2, 3, 3), tl.zeros(4)),
        RuntimeError,
    ),
    "conv2d negative padding": (
        lambda: nn.Conv2d(1, 1, 3, padding=-1)(tl.ones(1, 1, 4, 4)),
        lambda: F.conv2d(tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3), padding=-1),
        RuntimeError,
    ),
    "conv2d 5-d input": (
        lambda: nn.Conv2d(1, 1, 3)(tl.ones(1, 1, 1, 4, 4)),
        lambda: F.conv2d(tl.ones(1, 1, 1, 4, 4), tl.ones(1, 1, 3, 3)),
        RuntimeError,
    ),
    "max_pool2d padding over half the kernel": (
        lambda: nn.MaxPool2d(3, padding=2)(tl.ones(1, 1, 6, 6)),
        lambda: F.max_pool2d(tl.ones(1, 1, 6, 6), 3, padding=2),
        RuntimeError,
    ),
    "max_pool2d output too small": (
        lambda: nn.MaxPool2d(5)(tl.ones(1, 2, 4, 4)),
        lambda: F.max_pool2d(tl.ones(1, 2, 4, 4), 5),
        RuntimeError,
    ),
    "avg_pool2d padding over half the kernel": (
        lambda: nn.AvgPool2d(2, padding=2)(tl.ones(1, 1, 6, 6)),
        lambda: F.avg_pool2d(tl.ones(1, 1, 6, 6), 2, padding=2),
        RuntimeError,
    ),
    "avg_pool2d zero divisor": (
        lambda: nn.AvgPool2d(2, divisor_override=0)(tl.ones(1, 1, 4, 4)),
        lambda: F.avg_pool2d(tl.ones(1, 1, 4, 4), 2, divisor_override=0),
        RuntimeError,
    ),
    "adaptive_avg_pool2d negative size": (
        lambda: nn.AdaptiveAvgPool2d((2, -1))(tl.ones(1, 1, 4, 4)),
        lambda: F.adaptive_avg_pool2d(tl.ones(1, 1, 4, 4), (2, -1)),
        RuntimeError,
    ),
    "batch_norm one value per channel": (
        lambda: nn.BatchNorm1d(3)(tl.ones(1, 3)),
        lambda: F.batch_norm(tl.ones(1, 3), tl.zeros(3), tl.ones(3), training=True),
        ValueError,
    ),
    "batch_norm integer input": (
        lambda: nn.BatchNorm2d(2)(tl.ones(2, 2, 2, 2, dtype=tl.int64)),
        lambda: F.batch_norm(tl.ones(2, 2, 2, 2, dtype=tl.int64), tl.zeros(2), tl.ones(2), training=True),
        NotImplementedError,
    ),
    "instance_norm one value per plane": (
        lambda: nn.InstanceNorm2d(2)(tl.ones(1, 2, 1, 1)),
        lambda: F.instance_norm(tl.ones(1, 2, 1, 1)),
        ValueError,
    ),
    "layer_norm input of another shape": (
        lambda: nn.LayerNorm(3)(tl.ones(2, 4)),
        lambda: F.layer_norm(tl.ones(2, 4), (3,), tl.ones(3), tl.zeros(3)),
        RuntimeError,
    ),
    "group_norm channels not divisible": (
        lambda: nn.GroupNorm(2, 4)(tl.ones(2, 3, 2)),
        lambda: F.group_norm(tl.ones(2, 3, 2), 2, tl.ones(4), tl.zeros(4)),
        RuntimeError,
    ),
}


@pytest.mark.parametrize("name", SAME_INPUT)
def test_layer_and_functional_refuse_alike(name):
    layer_call, functional_call, error = SAME_INPUT[name]
    raised = _raised(layer_call)
    assert raised[0] is error
    assert raised == _raised(functional_call)


@pytest.mark.parametrize("make, error, message", [
    (lambda: nn.Conv2d(3, 4, 3, groups=0), ValueError, "groups must be a positive integer"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, "in_channels must be divisible by groups"),
    (lambda: nn.Conv2d(1, 1, 3, padding="full"), ValueError,
     "Invalid padding string 'full', should be one of {'valid', 'same'}"),
    (lambda: nn.Conv2d(1, 1, 3, stride=2, padding="same"), ValueError,
     "padding='same' is not supported for strided convolutions"),
    (lambda: nn.GroupNorm(2, 3), ValueError, "num_channels must be divisible by num_groups"),
])
def test_constructor_refuses(make, error, message):
    assert _raised(make) == (error, message)


def test_string_padding_refused_by_the_op_as_torch_does():
    """torch's F.conv2d raises RuntimeError with its own message where the layer's constructor raises ValueError."""
    assert _raised(lambda: F.conv2d(tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3), padding="full")) == (
        RuntimeError, "Invalid padding string: 'full'"
    )
    assert _raised(lambda: F.conv2d(tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3), stride=2, padding="same")) == (
        RuntimeError, "padding='same' is not supported for strided convolutions"
    )
