"""The reference kernels reproduce the numbers of the convolution and pooling lessons (DESIGN.md)."""
import numpy as np
import pytest

from tensorlite.backends import reference as ref

NO_PAIR, ONE_PAIR = (0, 0), (1, 1)

LESSON_4X4 = np.array([[1, 2, 1, 0], [2, 0, 1, 3], [0, 5, 4, 2], [4, 1, 2, 5]], dtype=np.float64)
LESSON_5X5 = np.array([3, 4, 6, 5, 7, 2, 4, 6, 8, 2, 1, 6, 7, 8, 4, 9, 7, 4, 6, 2, 3, 7, 5, 4, 1],
                      dtype=np.float64).reshape(5, 5)


def conv(x, k, stride=ONE_PAIR, padding=NO_PAIR):
    """Single-image, single-channel conv2d_forward on 2-D arrays (the lessons' F.conv2d calls)."""
    return ref.conv2d_forward(x[None, None], k[None, None], None, stride, padding, ONE_PAIR, 1)[0, 0]


def max_pool(x, k, stride=None, padding=NO_PAIR, ceil_mode=False):
    stride = stride or k
    return ref.max_pool2d_forward(x[None, None], k, stride, padding, ONE_PAIR, ceil_mode)[0][0, 0]


def test_corr2d():
    X = np.arange(9.0).reshape(3, 3)
    K = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_array_equal(ref.corr2d(X, K), [[19, 25], [37, 43]])


def test_edge_detection():
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    K = np.array([[1.0, -1.0]])
    Y = ref.corr2d(X, K)
    expected = np.zeros((6, 7))
    expected[:, 1], expected[:, 5] = 1, -1
    np.testing.assert_array_equal(Y, expected)
    np.testing.assert_array_equal(ref.corr2d(X.T, K), np.zeros((8, 5)))
    np.testing.assert_array_equal(ref.corr2d(X.T, K.T), expected.T)


def test_conv2d_lesson_numbers():
    K = np.array([[0, 1, 0], [2, 1, 1], [1, 0, 1]], dtype=np.float64)
    np.testing.assert_array_equal(conv(LESSON_4X4, K), [[11, 12], [15, 23]])
    nine = np.arange(1.0, 10.0).reshape(3, 3)
    np.testing.assert_array_equal(conv(LESSON_5X5, nine, padding=(1, 1)),
                                  [[91, 168, 224, 215, 127], [114, 211, 295, 262, 149], [192, 259, 282, 214, 122],
                                   [194, 251, 253, 169, 86], [96, 112, 110, 68, 31]])
    np.testing.assert_array_equal(conv(LESSON_5X5, nine, stride=(2, 2)), [[211, 262], [251, 169]])


def test_corr2d_equals_conv2d():
    rng = np.random.default_rng(0)
    X, K = rng.standard_normal((6, 7)), rng.standard_normal((2, 3))
    np.testing.assert_allclose(ref.corr2d(X, K), conv(X, K), rtol=1e-12)


def test_multi_input_channels():
    X = np.stack([np.arange(9.0), np.arange(1.0, 10.0)]).reshape(1, 2, 3, 3)
    K = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]], dtype=np.float64)
    out = ref.conv2d_forward(X, K[None], None, ONE_PAIR, NO_PAIR, ONE_PAIR, 1)
    np.testing.assert_array_equal(out[0, 0], [[56, 72], [104, 120]])
    stacked = ref.conv2d_forward(X, np.stack([K, K + 1, K + 2]), None, ONE_PAIR, NO_PAIR, ONE_PAIR, 1)
    assert stacked.shape == (1, 3, 2, 2)
    for o in range(3):
        single = ref.conv2d_forward(X, (K + o)[None], None, ONE_PAIR, NO_PAIR, ONE_PAIR, 1)
        np.testing.assert_array_equal(stacked[:, o:o + 1], single)


def test_1x1_convolution_is_a_matmul():
    rng = np.random.default_rng(1)
    X, K = rng.standard_normal((1, 3, 3, 3)), rng.standard_normal((2, 3, 1, 1))
    out = ref.conv2d_forward(X, K, None, ONE_PAIR, NO_PAIR, ONE_PAIR, 1)
    expected = (K.reshape(2, 3) @ X.reshape(3, 9)).reshape(1, 2, 3, 3)
    assert np.abs(out - expected).max() < 1e-6


@pytest.mark.parametrize("size, kernel, padding, stride, out_size", [
    ((100, 100), (3, 3), (0, 0), (1, 1), (98, 98)),
    ((28, 28), (3, 3), (0, 0), (1, 1), (26, 26)),
    ((8, 8), (3, 3), (1, 1), (1, 1), (8, 8)),
    ((8, 8), (5, 3), (2, 1), (1, 1), (8, 8)),
    ((8, 8), (3, 3), (1, 1), (2, 2), (4, 4)),
    ((8, 8), (3, 5), (0, 1), (3, 4), (2, 2)),
])
def test_conv_output_shapes(size, kernel, padding, stride, out_size):
    x, w = np.zeros((1, 5) + size), np.zeros((10, 5) + kernel)
    assert ref.conv2d_forward(x, w, None, stride, padding, ONE_PAIR, 1).shape == (1, 10) + out_size


def test_pool_output_shapes():
    x = np.zeros((1, 1, 28, 28))
    assert ref.max_pool2d_forward(x, (2, 2), (2, 2), NO_PAIR, ONE_PAIR, False)[0].shape == (1, 1, 14, 14)
    assert ref.avg_pool2d_forward(x, (2, 2), (2, 2), NO_PAIR, False, True, None).shape == (1, 1, 14, 14)


def test_max_pool_lessons():
    X = np.array([[3, 4, 6, 5], [2, 4, 6, 8], [1, 6, 7, 8], [9, 7, 4, 6]], dtype=np.float64)
    np.testing.assert_array_equal(max_pool(X, (2, 2)), [[4, 8], [9, 8]])
    np.testing.assert_array_equal(max_pool(LESSON_4X4, (3, 3), ceil_mode=True), [[5, 3], [4, 5]])
    np.testing.assert_array_equal(max_pool(LESSON_4X4, (3, 3), ceil_mode=False), [[5]])


def test_pool2d_lesson():
    X = np.arange(9.0).reshape(1, 1, 3, 3)
    out, indices = ref.max_pool2d_forward(X, (2, 2), ONE_PAIR, NO_PAIR, ONE_PAIR, False)
    np.testing.assert_array_equal(out[0, 0], [[4, 5], [7, 8]])
    np.testing.assert_array_equal(indices[0, 0], [[4, 5], [7, 8]])
    avg = ref.avg_pool2d_forward(X, (2, 2), ONE_PAIR, NO_PAIR, False, True, None)
    np.testing.assert_array_equal(avg[0, 0], [[2, 3], [5, 6]])


def test_avg_pool_divisors():
    """A 3x3 window with padding 1 over ones: corners see 4 inputs, edges 6, the centre 9."""
    ones = np.ones((1, 1, 3, 3))
    counted = ref.avg_pool2d_forward(ones, (3, 3), ONE_PAIR, ONE_PAIR, False, True, None)[0, 0]
    np.testing.assert_allclose(counted, [[4 / 9, 6 / 9, 4 / 9], [6 / 9, 1, 6 / 9], [4 / 9, 6 / 9, 4 / 9]])
    not_counted = ref.avg_pool2d_forward(ones, (3, 3), ONE_PAIR, ONE_PAIR, False, False, None)[0, 0]
    np.testing.assert_allclose(not_counted, np.ones((3, 3)))
    overridden = ref.avg_pool2d_forward(ones, (3, 3), ONE_PAIR, ONE_PAIR, False, True, 2)[0, 0]
    np.testing.assert_allclose(overridden, [[2, 3, 2], [3, 4.5, 3], [2, 3, 2]])


def test_batch_norm_statistics():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 3, 4, 4)) * np.array([1.0, 5.0, 0.1]).reshape(1, 3, 1, 1) + 7
    out, mean, invstd = ref.batch_norm_forward(x, None, None, 1e-5)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(mean, x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(invstd, 1 / np.sqrt(var + 1e-5))
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), var / (var + 1e-5))
