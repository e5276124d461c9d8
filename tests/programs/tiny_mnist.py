"""``python -m tests.programs.tiny_mnist SCRIPT.py [ARGS...]``: ``tensorlite run`` with MNIST replaced by a tiny
synthetic dataset of the same format (28 x 28 images), so a program's ``datasets.MNIST(..., download=True)`` reads
the files ``write_files`` put in its data folder, and nothing is downloaded."""
import sys

from tensorlite.cli import main
from tensorlite.data import datasets
from tests.data.synthetic import mnist_like_files, resources_of

TRAIN_IMAGES, TEST_IMAGES = 200, 100


def tiny_files():
    return mnist_like_files(n_train=TRAIN_IMAGES, n_test=TEST_IMAGES, size=28)


def write_files(root):
    """Put the tiny dataset's four (uncompressed) files in ``root/MNIST/raw``."""
    folder = root / "MNIST" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (raw, _) in tiny_files().items():
        (folder / name).write_bytes(raw)


if __name__ == "__main__":
    datasets.MNIST.resources = resources_of(tiny_files())
    datasets.MNIST.mirrors, datasets.MNIST.npm_package = [], None
    main(["run", *sys.argv[1:]])
