"""The MNIST run's pictures: each is a PNG of a sensible size, for a full history, a one-epoch one and an empty one;
the kernel picture puts the initial kernels beside the learned ones; without matplotlib nothing breaks."""
import struct
import sys

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.train import MNISTNet
from tensorlite.train import pictures

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    """(width, height) in pixels, read from the PNG's header chunk."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def three_epochs():
    rng = np.random.default_rng(0)
    steps = np.arange(300)
    return {
        "epoch": [1, 2, 3],
        "test_accuracy": [0.9685, 0.9762, 0.9825],
        "step_loss": list(2.3 * np.exp(-steps / 40) + 0.05 + 0.05 * rng.random(300)),
    }


@pytest.fixture
def model():
    tl.manual_seed(0)
    return MNISTNet()


@pytest.mark.parametrize("history", [
    three_epochs(),
    {"epoch": [1], "test_accuracy": [0.95], "step_loss": [2.3, 1.9, 1.4]},
    {"epoch": [1], "test_accuracy": [0.95], "step_loss": [2.3]},
    {"epoch": [], "test_accuracy": [], "step_loss": []},
    {},
], ids=["three epochs", "one epoch", "one step", "empty lists", "empty dict"])
def test_training_curves_are_written_for_any_length_of_history(history, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    pictures.save_training_curves(history, tmp_path / "curves.png")
    width, height = png_size(tmp_path / "curves.png")
    assert 800 < width < 1400 and 250 < height < 500
    assert f"training curves written to {tmp_path / 'curves.png'}" in capsys.readouterr().out


def test_centred_mean_averages_the_window_around_each_value_and_cuts_it_at_the_ends():
    np.testing.assert_allclose(pictures.centred_mean([1, 2, 3, 4, 5], 3), [1.5, 2, 3, 4, 4.5])
    np.testing.assert_allclose(pictures.centred_mean([1, 2, 3, 4, 5], 4), [2, 2.5, 3.5, 4, 4.5])
    np.testing.assert_allclose(pictures.centred_mean([1, 3], 50), [2, 2])
    np.testing.assert_allclose(pictures.centred_mean([7.0], 1), [7.0])
    assert len(pictures.centred_mean([], 50)) == 0


def test_kernel_picture_without_initial_weights_has_the_learned_row_only(model, tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(pictures, "save_image_sections", lambda groups, path, **options: drawn.update(groups=groups))
    assert pictures.save_first_layer_kernels(model, tmp_path / "kernels.png") is None
    [(scale, [learned])] = drawn["groups"]
    assert len(learned.images) == 10 and scale.vmin == -scale.vmax  # one scale, symmetric about zero
    np.testing.assert_array_equal(learned.images[3], model.conv1.weight.detach().numpy()[3, 0])


def test_kernel_picture_shows_initial_learned_and_their_difference(model, tmp_path, monkeypatch):
    initial = model.conv1.weight.detach().numpy().copy()
    with tl.no_grad():
        model.conv1.weight.add_(0.05 * tl.randn(10, 1, 5, 5))
    learned = model.conv1.weight.detach().numpy()
    drawn = {}
    monkeypatch.setattr(pictures, "save_image_sections", lambda groups, path, **options: drawn.update(groups=groups))
    correlation = pictures.save_first_layer_kernels(model, tmp_path / "kernels.png", initial=initial)
    (weights, [before, after]), (changes, [difference]) = drawn["groups"]
    np.testing.assert_array_equal(before.images[7], initial[7, 0])
    np.testing.assert_array_equal(after.images[7], learned[7, 0])
    np.testing.assert_allclose(difference.images[7], learned[7, 0] - initial[7, 0])
    assert weights.vmax == -weights.vmin == pytest.approx(max(np.abs(initial).max(), np.abs(learned).max()))
    assert changes.vmax == -changes.vmin == pytest.approx(np.abs(learned - initial).max())
    assert correlation == pytest.approx(np.corrcoef(initial.ravel(), learned.ravel())[0, 1])


def test_kernel_picture_with_initial_weights_is_three_rows_tall(model, tmp_path):
    pytest.importorskip("matplotlib")
    initial = model.conv1.weight.detach().clone()
    assert pictures.save_first_layer_kernels(model, tmp_path / "alone.png") is None
    assert pictures.save_first_layer_kernels(model, tmp_path / "beside.png", initial=initial) == pytest.approx(1.0)
    alone, beside = png_size(tmp_path / "alone.png"), png_size(tmp_path / "beside.png")
    assert 700 < alone[0] < 1400 and 100 < alone[1] < 300
    assert beside[1] > 2.5 * alone[1]


def test_kernel_picture_refuses_initial_weights_of_another_shape(model, tmp_path):
    with pytest.raises(ValueError, match=r"initial weights of shape \(10, 1, 3, 3\)"):
        pictures.save_first_layer_kernels(model, tmp_path / "kernels.png", initial=np.zeros((10, 1, 3, 3)))


def test_feature_maps_show_each_layer_before_and_after_pooling_and_relu(model, tmp_path, monkeypatch):
    image = tl.randn(1, 28, 28)
    drawn = {}
    monkeypatch.setattr(pictures, "save_image_sections", lambda groups, path, **options: drawn.update(groups=groups))
    pictures.save_feature_maps(model, image, tmp_path / "maps.png")
    (_, [digit]), (conv1_scale, [conv1, conv1_after]), (conv2_scale, [conv2, conv2_after]) = drawn["groups"]
    assert digit.images[0].shape == (28, 28)
    assert [len(conv1.images), conv1.images[0].shape, conv1_after.images[0].shape] == [10, (24, 24), (12, 12)]
    assert [len(conv2.images), conv2.images[0].shape, conv2_after.images[0].shape] == [20, (8, 8), (4, 4)]
    assert "before pooling and ReLU" in conv1.heading and "ReLU" in conv1_after.heading
    assert min(map(np.min, conv2_after.images)) >= 0  # after the ReLU
    for scale, maps in ((conv1_scale, conv1.images), (conv2_scale, conv2.images)):
        assert scale.vmax == -scale.vmin == pytest.approx(max(np.abs(m).max() for m in maps))


def test_feature_maps_are_written(model, tmp_path):
    pytest.importorskip("matplotlib")
    pictures.save_feature_maps(model, tl.randn(1, 28, 28), tmp_path / "maps.png")
    width, height = png_size(tmp_path / "maps.png")
    assert 900 < width < 1500 and 800 < height < 1400


def test_without_matplotlib_the_pictures_are_skipped_with_a_note(model, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    pictures.save_training_curves(three_epochs(), tmp_path / "curves.png")
    initial = model.conv1.weight.detach().clone()
    assert pictures.save_first_layer_kernels(model, tmp_path / "kernels.png", initial=initial) == pytest.approx(1.0)
    pictures.save_feature_maps(model, tl.randn(1, 28, 28), tmp_path / "maps.png")
    assert list(tmp_path.iterdir()) == []
    assert capsys.readouterr().out.count("matplotlib is not installed") == 3
