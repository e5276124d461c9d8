"""Small synthetic IDX files for the data tests: written here, independently of the reader under test."""
import gzip
import hashlib

import numpy as np

from tensorlite.data.download import Resource

TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
              np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array):
    """The IDX encoding of ``array``: magic (0, 0, type, ndim), big-endian sizes, big-endian data."""
    array = np.asarray(array)
    header = bytes([0, 0, TYPE_CODES[array.dtype], array.ndim])
    sizes = np.array(array.shape, dtype=">u4").tobytes()
    return header + sizes + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path, array, compress=False):
    content = idx_bytes(array)
    path.write_bytes(gzip.compress(content) if compress else content)
    return path


def md5(content):
    return hashlib.md5(content).hexdigest()


def mnist_like_split(n, seed, size=6):
    """``n`` random uint8 images (size x size) and labels 0..9."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def mnist_like_files(n_train=10, n_test=4, size=6):
    """``{name: (uncompressed bytes, gz bytes)}`` for the four files of a tiny MNIST-like dataset."""
    (train_x, train_y), (test_x, test_y) = mnist_like_split(n_train, 0, size), mnist_like_split(n_test, 1, size)
    arrays = {
        "train-images-idx3-ubyte": train_x, "train-labels-idx1-ubyte": train_y,
        "t10k-images-idx3-ubyte": test_x, "t10k-labels-idx1-ubyte": test_y,
    }
    files = {}
    for name, array in arrays.items():
        raw = idx_bytes(array)
        files[name] = (raw, gzip.compress(raw, mtime=0))
    return files


def resources_of(files):
    """The ``Resource`` list (name, gz MD5, uncompressed MD5) describing ``files``."""
    return [Resource(name, md5(gz), md5(raw)) for name, (raw, gz) in files.items()]
