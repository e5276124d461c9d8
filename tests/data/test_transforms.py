"""Transforms: torchvision's conversions and formulas, batched forms equal to per-sample ones, seeded randomness."""
import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import transforms as T


def test_to_tensor_grey_image():
    image = np.array([[0, 255], [51, 102]], dtype=np.uint8)
    out = T.ToTensor()(image)
    assert out.shape == (1, 2, 2) and out.dtype == tl.float32
    np.testing.assert_allclose(out.numpy()[0], [[0, 1], [0.2, 0.4]], rtol=1e-7)


def test_to_tensor_colour_image_moves_channels_first():
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)  # H=2, W=3, C=3
    out = T.ToTensor()(image).numpy()
    assert out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out * 255, image.transpose(2, 0, 1).astype(np.float32))


def test_to_tensor_keeps_other_dtypes_and_rejects_bad_input():
    out = T.ToTensor()(np.full((2, 2), 7.0))
    assert out.dtype == tl.float64 and out.shape == (1, 2, 2) and out.numpy().max() == 7.0
    with pytest.raises(TypeError, match="pic should be a NumPy array or a PIL image"):
        T.ToTensor()(tl.zeros(2, 2))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 1 dimensions."):
        T.ToTensor()(np.zeros(4, np.uint8))


@pytest.mark.parametrize("shape", [(5, 4, 3), (5, 4, 3, 2)])
def test_to_tensor_batch_equals_per_image(shape):
    images = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    batch = T.ToTensor().apply_batch(images).numpy()
    np.testing.assert_array_equal(batch, np.stack([T.ToTensor()(image).numpy() for image in images]))


def test_normalize_per_channel():
    image = tl.tensor(np.arange(2 * 2 * 2, dtype=np.float32).reshape(2, 2, 2))
    out = T.Normalize((1.0, 2.0), (2.0, 4.0))(image).numpy()
    np.testing.assert_allclose(out[0], (np.array([[0, 1], [2, 3]]) - 1) / 2)
    np.testing.assert_allclose(out[1], (np.array([[4, 5], [6, 7]]) - 2) / 4)
    batch = tl.stack([image, image * 2])
    np.testing.assert_array_equal(T.Normalize((1.0, 2.0), (2.0, 4.0)).apply_batch(batch).numpy()[0], out)


def test_normalize_inplace_and_errors():
    image = tl.zeros(1, 2, 2)
    assert T.Normalize((0.5,), (0.5,), inplace=True)(image) is image and image.numpy().max() == -1.0
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match="need 1 or 3 values for an image of 3 channels, got 2 and 2"):
        T.Normalize((0.5, 0.5), (1.0, 1.0))(tl.ones(3, 2, 2))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        T.Normalize((0.5,), (1.0,))(tl.ones(2, 2))
    with pytest.raises(TypeError, match="Normalize expects a float tensor"):
        T.Normalize((0.5,), (1.0,))(tl.ones(1, 2, 2, dtype=tl.uint8))


def test_compose_applies_in_order_and_prints_like_torchvision():
    pipeline = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    np.testing.assert_allclose(pipeline(np.array([[0, 255]], np.uint8)).numpy(), [[[-1, 1]]])
    assert repr(pipeline) == "Compose(\n    ToTensor()\n    Normalize(mean=(0.5,), std=(0.5,))\n)"
    assert T.supports_batch(pipeline)
    assert not T.supports_batch(T.Compose([T.ToTensor(), T.RandomHorizontalFlip()]))


def test_random_horizontal_flip():
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(image), image[:, ::-1])
    assert T.RandomHorizontalFlip(p=0.0)(image) is image
    tensor = tl.tensor(image[None].astype(np.float32))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(tensor).numpy(), tensor.numpy()[..., ::-1])
    flip = T.RandomHorizontalFlip()
    tl.manual_seed(0)
    first = [bool((flip(image) != image).any()) for _ in range(20)]
    tl.manual_seed(0)
    assert [bool((flip(image) != image).any()) for _ in range(20)] == first and 0 < sum(first) < 20


def test_random_crop_with_padding_is_a_window_of_the_padded_image():
    image = np.arange(1, 17, dtype=np.uint8).reshape(4, 4)
    padded = np.pad(image, 2)
    crop = T.RandomCrop(4, padding=2)
    tl.manual_seed(0)
    crops = [crop(image) for _ in range(30)]
    windows = {(i, j): padded[i : i + 4, j : j + 4] for i in range(5) for j in range(5)}
    positions = {next(k for k, w in windows.items() if np.array_equal(w, c)) for c in crops}
    assert len(positions) > 5
    tl.manual_seed(0)
    np.testing.assert_array_equal(np.stack([crop(image) for _ in range(30)]), np.stack(crops))


def test_random_crop_on_tensors_and_colour_images():
    tensor = tl.arange(2 * 5 * 6, dtype=tl.float32).reshape(2, 5, 6)  # C, H, W
    assert T.RandomCrop((3, 4))(tensor).shape == (2, 3, 4)
    colour = np.zeros((5, 6, 3), np.uint8)  # H, W, C
    assert T.RandomCrop((3, 4), padding=(1, 2), padding_mode="reflect")(colour).shape == (3, 4, 3)
    full = T.RandomCrop((5, 6))(tensor)
    np.testing.assert_array_equal(full.numpy(), tensor.numpy())


def test_random_crop_padding_forms_and_errors():
    image = np.ones((2, 3), np.uint8)
    assert T.RandomCrop((4, 5), pad_if_needed=True, fill=9)(image).shape == (4, 5)
    out = T.RandomCrop((2 + 2 + 4, 3 + 1 + 3), padding=(1, 2, 3, 4), fill=9)(image)
    assert out.shape == (8, 7) and out[2:4, 1:4].min() == 1 and out[0].max() == 9
    with pytest.raises(ValueError, match=r"Required crop size \(3, 3\) is larger than input image size \(2, 3\)"):
        T.RandomCrop(3)(image)
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.RandomCrop(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element tuple"):
        T.RandomCrop(2, padding=(1, 2, 3))(image)
