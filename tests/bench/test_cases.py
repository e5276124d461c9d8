"""The case table: the FLOP count on cases small enough to count by hand, and the shapes the issue asks for."""
import pytest

from tensorlite.bench import CASES, BatchNorm2dCase, Conv2dCase, MaxPool2dCase, select_cases


def test_conv_flops_counted_by_hand():
    # 1 image, 2 -> 3 channels, 4x4 input, k3, no padding: 2x2 outputs, each 2*3*3 multiply-adds per channel.
    case = Conv2dCase("hand", (1, 2, 4, 4), 3, 3)
    assert case.output_hw() == (2, 2)
    assert case.forward_flops() == 2 * 1 * 3 * 2 * 2 * 2 * 3 * 3 == 432
    assert case.forward_backward_flops() == 3 * 432  # grad_weight and grad_input GEMMs


def test_conv_flops_follow_groups_stride_and_input_grad():
    depthwise = Conv2dCase("dw", (2, 4, 6, 6), 4, 3, padding=1, groups=4)  # C_in / groups = 1
    assert depthwise.forward_flops() == 2 * 2 * 4 * 6 * 6 * 1 * 9
    strided = Conv2dCase("s2", (1, 1, 6, 6), 1, 3, stride=2, padding=1)  # 3x3 outputs
    assert strided.forward_flops() == 2 * 9 * 9
    image_input = Conv2dCase("first", (1, 1, 6, 6), 1, 3, input_grad=False)  # no grad_input GEMM
    assert image_input.forward_backward_flops() == 2 * image_input.forward_flops()


def test_memory_bound_ops_have_no_flop_count():
    for case in (MaxPool2dCase("pool", (1, 1, 4, 4), 2), BatchNorm2dCase("bn", (2, 3, 4, 4))):
        assert case.forward_flops() is None and case.forward_backward_flops() is None


def _signature(case):
    """What a case computes, without its name."""
    fields = dict(vars(case))
    del fields["name"]
    return type(case).__name__, fields


@pytest.mark.parametrize(
    "required",
    [
        # the MNIST lesson's network at batch 64; its first conv sees the image, which needs no gradient
        Conv2dCase("", (64, 1, 28, 28), 10, 5, input_grad=False),
        Conv2dCase("", (64, 10, 12, 12), 20, 5),
        MaxPool2dCase("", (64, 10, 24, 24), 2),
        MaxPool2dCase("", (64, 20, 8, 8), 2),
        # 3x3 convolutions with padding 1 and as many output as input channels, batch 8
        Conv2dCase("", (8, 64, 56, 56), 64, 3, padding=1),
        Conv2dCase("", (8, 128, 28, 28), 128, 3, padding=1),
        Conv2dCase("", (8, 256, 14, 14), 256, 3, padding=1),
        BatchNorm2dCase("", (8, 64, 56, 56)),
    ],
    ids=lambda case: case.describe(),
)
def test_table_holds_the_required_shapes(required):
    assert _signature(required) in [_signature(case) for case in CASES]


def test_table_holds_a_1x1_a_strided_and_a_depthwise_conv():
    convs = [case for case in CASES if case.op == "conv2d"]
    assert any(case.kernel_size == 1 for case in convs)
    assert any(case.stride == 2 for case in convs)
    assert any(case.groups == case.input_shape[1] == case.out_channels > 1 for case in convs)


def test_case_names_are_unique_and_select_by_substring():
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names)
    mnist = select_cases(["mnist"])
    assert [case.name for case in mnist] == [name for name in names if "mnist" in name] and len(mnist) == 4
    assert select_cases([]) == list(CASES)
    assert select_cases(["no-such-case"]) == []
