"""The exact numbers of the CNN lessons (DESIGN.md, "The lessons it must reproduce")."""
import numpy as np
import pytest

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn


def edge_image():
    X = tl.ones(6, 8)
    X[:, 2:6] = 0
    return X


def test_corr2d():
    X = tl.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = tl.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert F.corr2d(X, K).tolist() == [[19.0, 25.0], [37.0, 43.0]]


def test_edge_detection():
    X, K = edge_image(), tl.tensor([[1.0, -1.0]])
    Y = F.corr2d(X, K)
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1
    np.testing.assert_array_equal(Y.numpy(), expected)
    assert (F.corr2d(X.T, K) == 0).all()
    np.testing.assert_array_equal(F.corr2d(X.T, K.T).numpy(), expected.T)


@pytest.mark.parametrize("seed", range(30))
def test_learning_the_edge_kernel_back(seed):
    tl.manual_seed(seed)
    X = edge_image().reshape(1, 1, 6, 8)
    Y = F.corr2d(edge_image(), tl.tensor([[1.0, -1.0]])).reshape(1, 1, 6, 7)
    conv = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    for _ in range(10):
        loss = ((conv(X) - Y) ** 2).sum()
        conv.zero_grad()
        loss.backward()
        conv.weight.data[:] -= 3e-2 * conv.weight.grad
    np.testing.assert_allclose(conv.weight.data.reshape(1, 2).numpy(), [[1.0, -1.0]], atol=0.1)


def test_conv2d_three_by_three():
    x = tl.tensor([[1.0, 2, 1, 0], [2, 0, 1, 3], [0, 5, 4, 2], [4, 1, 2, 5]]).reshape(1, 1, 4, 4)
    k = tl.tensor([[0.0, 1, 0], [2, 1, 1], [1, 0, 1]]).reshape(1, 1, 3, 3)
    assert F.conv2d(x, k).reshape(2, 2).tolist() == [[11.0, 12.0], [15.0, 23.0]]


FIVE = tl.tensor([3.0, 4, 6, 5, 7, 2, 4, 6, 8, 2, 1, 6, 7, 8, 4, 9, 7, 4, 6, 2, 3, 7, 5, 4, 1]).reshape(1, 1, 5, 5)
ONE_TO_NINE = tl.arange(1.0, 10.0).reshape(1, 1, 3, 3)


def test_padding_one_keeps_five_by_five():
    expected = [
        [91, 168, 224, 215, 127],
        [114, 211, 295, 262, 149],
        [192, 259, 282, 214, 122],
        [194, 251, 253, 169, 86],
        [96, 112, 110, 68, 31],
    ]
    assert F.conv2d(FIVE, ONE_TO_NINE, padding=1).reshape(5, 5).tolist() == expected


def test_stride_two_without_padding():
    assert F.conv2d(FIVE, ONE_TO_NINE, stride=2).reshape(2, 2).tolist() == [[211.0, 262.0], [251.0, 169.0]]


def test_max_pooling():
    x = tl.tensor([[3.0, 4, 6, 5], [2, 4, 6, 8], [1, 6, 7, 8], [9, 7, 4, 6]]).reshape(1, 1, 4, 4)
    assert nn.MaxPool2d(2)(x).reshape(2, 2).tolist() == [[4.0, 8.0], [9.0, 8.0]]


def test_max_pooling_ceil_mode():
    x = tl.tensor([[1.0, 2, 1, 0], [2, 0, 1, 3], [0, 5, 4, 2], [4, 1, 2, 5]]).reshape(1, 1, 4, 4)
    assert F.max_pool2d(x, 3, ceil_mode=True).reshape(2, 2).tolist() == [[5.0, 3.0], [4.0, 5.0]]
    assert F.max_pool2d(x, 3, ceil_mode=False).reshape(1, 1).tolist() == [[5.0]]


def multi_in_channels():
    X = tl.stack([tl.arange(0.0, 9.0).reshape(3, 3), tl.arange(1.0, 10.0).reshape(3, 3)])
    K = tl.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    return X, K


def test_multiple_input_channels():
    X, K = multi_in_channels()
    assert F.conv2d(X, K.unsqueeze(0)).reshape(2, 2).tolist() == [[56.0, 72.0], [104.0, 120.0]]


def test_multiple_output_channels():
    X, K = multi_in_channels()
    K3 = tl.stack([K, K + 1, K + 2])
    assert K3.shape == (3, 2, 2, 2)
    Y = F.conv2d(X, K3)
    assert Y.tolist() == [[[56.0, 72.0], [104.0, 120.0]], [[76.0, 100.0], [148.0, 172.0]], [[96.0, 128.0], [192.0, 224.0]]]


def test_one_by_one_convolution_is_a_matmul():
    tl.manual_seed(0)
    X, K = tl.randn(3, 3, 3), tl.randn(2, 3, 1, 1)
    by_conv = F.conv2d(X, K)
    by_matmul = (K.reshape(2, 3) @ X.reshape(3, 9)).reshape(2, 3, 3)
    assert float((by_conv - by_matmul).abs().max()) < 1e-6


@pytest.mark.parametrize(
    "layer, input_shape, output_shape",
    [
        (lambda: nn.Conv2d(5, 10, 3), (1, 5, 100, 100), (1, 10, 98, 98)),
        (lambda: nn.Conv2d(1, 3, 3), (1, 1, 28, 28), (1, 3, 26, 26)),
        (lambda: nn.Conv2d(1, 1, kernel_size=3, padding=1), (1, 1, 8, 8), (1, 1, 8, 8)),
        (lambda: nn.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1)), (1, 1, 8, 8), (1, 1, 8, 8)),
        (lambda: nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2), (1, 1, 8, 8), (1, 1, 4, 4)),
        (lambda: nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)), (1, 1, 8, 8), (1, 1, 2, 2)),
        (lambda: nn.MaxPool2d(2, stride=2), (1, 1, 28, 28), (1, 1, 14, 14)),
        (lambda: lambda x: F.avg_pool2d(x, 2), (1, 1, 28, 28), (1, 1, 14, 14)),
        (lambda: lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), (1, 1, 28, 28), (1, 1, 56, 56)),
        (lambda: nn.Linear(10, 5), None, (3, 5)),
    ],
)
def test_output_shapes(layer, input_shape, output_shape):
    x = tl.ones(3, 10) if input_shape is None else tl.randn(*input_shape)
    assert layer()(x).shape == output_shape


def test_conv2d_weight_shape():
    assert nn.Conv2d(5, 10, 3).weight.shape == (10, 5, 3, 3)


def test_batch_norm_uses_batch_statistics_in_train_and_running_ones_in_eval():
    tl.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    x = tl.randn(4, 3, 5, 5) * 2 + 3
    out = bn(x)
    per_channel = out.detach().permute(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(per_channel.mean(dim=1).numpy(), 0, atol=1e-5)
    np.testing.assert_allclose(per_channel.var(dim=1, unbiased=False).numpy(), 1, atol=1e-3)
    batch = x.permute(1, 0, 2, 3).reshape(3, -1)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * batch.mean(dim=1).numpy(), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * batch.var(dim=1).numpy(), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    expected = (x - bn.running_mean.reshape(1, 3, 1, 1)) / (bn.running_var.reshape(1, 3, 1, 1) + bn.eps).sqrt()
    np.testing.assert_allclose(bn(x).detach().numpy(), expected.numpy(), rtol=1e-5, atol=1e-5)
    assert bn.num_batches_tracked.item() == 1


def test_image_filters_sharpen_and_blur():
    image = tl.zeros(1, 1, 5, 5)
    image[0, 0, 2, 2] = 1.0
    sharpen = tl.tensor([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]).reshape(1, 1, 3, 3)
    blur = tl.ones(1, 1, 3, 3) / 9
    sharpened = F.conv2d(image, sharpen, padding=1)[0, 0]
    assert sharpened[2, 2].item() == 5.0 and sharpened[1, 2].item() == -1.0 and sharpened.sum().item() == 1.0
    blurred = F.conv2d(image, blur, padding=1)[0, 0]
    np.testing.assert_allclose(blurred[1:4, 1:4].numpy(), np.full((3, 3), 1 / 9), rtol=1e-6)
    assert blurred[0].abs().sum().item() == 0.0
