"""The training tests' data: a tiny MNIST-like data set on disk, so that no test needs the real MNIST."""
import pytest

from tensorlite.data import datasets
from tests.data.synthetic import mnist_like_files, resources_of


@pytest.fixture
def tiny_mnist(monkeypatch, tmp_path):
    """A 28x28 MNIST-like dataset of random digits in tmp_path / "data" (96 training images, 32 test images), with
    MNIST pointed at it and offline. Returns tmp_path."""
    files = mnist_like_files(n_train=96, n_test=32, size=28)
    monkeypatch.setattr(datasets.MNIST, "resources", resources_of(files))
    monkeypatch.setattr(datasets.MNIST, "mirrors", [])
    monkeypatch.setattr(datasets.MNIST, "npm_package", None)
    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name, (content, _) in files.items():
        (raw / name).write_bytes(content)
    return tmp_path
