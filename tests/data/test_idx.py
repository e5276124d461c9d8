"""The IDX reader: raw and gzip files, every element type, and a clear error for each kind of bad file."""
import gzip

import numpy as np
import pytest

from tensorlite.data.idx import IMAGES_MAGIC, LABELS_MAGIC, IDXError, read_idx
from tests.data.synthetic import idx_bytes, write_idx


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_round_trip(tmp_path, compress, dtype):
    array = (np.arange(2 * 3 * 4) - 5).reshape(2, 3, 4).astype(dtype)
    path = write_idx(tmp_path / ("x.gz" if compress else "x"), array, compress)
    out = read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative and out.flags.writeable
    np.testing.assert_array_equal(out, array)


def test_images_and_labels_magic(tmp_path):
    images = write_idx(tmp_path / "images", np.zeros((5, 28, 28), np.uint8))
    labels = write_idx(tmp_path / "labels", np.arange(5, dtype=np.uint8))
    assert read_idx(images, IMAGES_MAGIC).shape == (5, 28, 28)
    assert read_idx(labels, LABELS_MAGIC).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(IDXError, match=r"labels: magic number is 0x00000801, expected 0x00000803 \(uint8, 3 dimensions\)"):
        read_idx(labels, IMAGES_MAGIC)


@pytest.mark.parametrize("head", [b"\x01\x00\x08\x01", b"\x00\x00\x07\x01", b"PK\x03\x04"])
def test_not_an_idx_magic_number(tmp_path, head):
    path = tmp_path / "bad"
    path.write_bytes(head + b"\x00\x00\x00\x02ab")
    with pytest.raises(IDXError, match="bad: magic number 0x[0-9a-f]{8} is not an IDX one"):
        read_idx(path)


def test_truncated_data(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.zeros((3, 4, 4), np.uint8))[:-5])
    with pytest.raises(IDXError, match=r"train-images-idx3-ubyte: truncated: the header says 3 x 4 x 4 uint8 elements, 64 bytes in all, but the file has 59 bytes"):
        read_idx(path, IMAGES_MAGIC)


def test_truncated_header_and_tiny_file(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(np.zeros((3, 4, 4), np.uint8))[:9])
    with pytest.raises(IDXError, match="truncated header: 3 dimensions need 16 header bytes, the file has 9"):
        read_idx(path)
    path.write_bytes(b"\x00\x00")
    with pytest.raises(IDXError, match="2 bytes is too short"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)) + b"\x00")
    with pytest.raises(IDXError, match="trailing bytes after the data"):
        read_idx(path)


def test_truncated_and_corrupt_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((50, 8), np.uint8)))[:-12])
    with pytest.raises(IDXError, match="x.gz: not a complete gzip file"):
        read_idx(path)
    path.write_bytes(b"not gzip at all")
    with pytest.raises(IDXError, match="x.gz: not a complete gzip file"):
        read_idx(path)
