"""tl.save / tl.load of ``.safetensors`` files: exact round trips, and checkpoints that move to and from torch."""
import io

import numpy as np
import pytest
import safetensors.numpy

import tensorlite as tl
from tests.helpers import torch_or_skip

ARRAYS = {
    "float32": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
    "float64": np.array([[np.pi, -0.0], [1e-300, np.inf]]),
    "int64": np.array([-(2**62), 0, 7, 2**62], dtype=np.int64),
    "int32": np.array(-5, dtype=np.int32),
    "bool": np.array([[True, False, True]]),
    "uint8": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    "empty": np.zeros((0, 3), dtype=np.float32),
}


def test_a_state_dict_round_trips_bit_for_bit_with_every_dtype(tmp_path):
    state = {name: tl.tensor(array) for name, array in ARRAYS.items()}
    tl.save(state, tmp_path / "model.safetensors")
    loaded = tl.load(tmp_path / "model.safetensors")
    assert list(loaded) == sorted(ARRAYS)
    for name, array in ARRAYS.items():
        tensor = loaded[name]
        assert tensor.dtype is state[name].dtype and tensor.shape == array.shape and not tensor.requires_grad
        assert tensor.numpy().dtype.isnative and tensor.numpy().tobytes() == array.tobytes()


def test_the_file_is_plain_safetensors_that_the_package_reads(tmp_path):
    tl.save({"w": tl.tensor(ARRAYS["float32"]), "n": tl.tensor(ARRAYS["int64"])}, str(tmp_path / "w.safetensors"))
    read = safetensors.numpy.load_file(tmp_path / "w.safetensors")
    np.testing.assert_array_equal(read["w"], ARRAYS["float32"])
    assert read["n"].dtype == np.int64 and read["n"].tolist() == ARRAYS["int64"].tolist()


def test_non_contiguous_tensors_are_stored_as_their_values(tmp_path):
    base = tl.arange(24, dtype=tl.float32).reshape(4, 6)
    views = {"transposed": base.T, "sliced": base[1:, ::2], "column": base[:, 3]}
    tl.save(views, tmp_path / "views.safetensors")
    loaded = tl.load(tmp_path / "views.safetensors")
    for name, view in views.items():
        assert loaded[name].shape == view.shape and loaded[name].tolist() == view.tolist()


def test_loaded_tensors_own_writable_memory(tmp_path):
    tl.save({"w": tl.zeros(3)}, tmp_path / "w.safetensors")
    loaded = tl.load(tmp_path / "w.safetensors")["w"]
    loaded.add_(1.0)
    assert loaded.tolist() == [1.0, 1.0, 1.0]


def test_file_objects_are_read_by_their_name_and_map_location_applies(tmp_path):
    path = tmp_path / "w.safetensors"
    with open(path, "wb") as stream:
        tl.save({"w": tl.ones(2, requires_grad=True)}, stream)
    with open(path, "rb") as stream:
        loaded = tl.load(stream, map_location=lambda storage, loc: storage, weights_only=True)
    assert loaded["w"].tolist() == [1.0, 1.0] and loaded["w"].device == tl.device("cpu")
    buffer = io.BytesIO()
    tl.save({"w": tl.ones(2)}, buffer)
    assert buffer.getvalue()[:2] == b"PK"  # a file object without a name gets the .npz format


@pytest.mark.parametrize(
    "obj, message",
    [
        ({"w": tl.ones(1), "epoch": 3}, r"can't store obj\['epoch'\], an object of type int, in safetensors"),
        ({"state": {0: {"step": 1}}}, r"can't store obj\['state'\], an object of type dict, in safetensors"),
        ({0: tl.ones(1)}, "can't store obj key 0, of type int, in safetensors"),
        ([tl.ones(1)], "can't store obj, an object of type list, in safetensors"),
        (tl.ones(1), "can't store obj, an object of type Tensor, in safetensors"),
    ],
)
def test_anything_but_a_flat_dict_of_tensors_is_refused_before_writing(obj, message, tmp_path):
    advice = ": a .safetensors file holds a flat dict of tensors keyed by str"
    with pytest.raises(TypeError, match=message + advice):
        tl.save(obj, tmp_path / "bad.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_an_optimizer_state_dict_is_refused_with_advice(tmp_path):
    state = tl.optim.Adagrad([tl.ones(2, requires_grad=True)]).state_dict()
    with pytest.raises(TypeError, match=r"obj\['state'\].*save other checkpoints to an .npz file"):
        tl.save(state, tmp_path / "optimizer.safetensors")


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "header too small"),
        (b"\x08" + b"\x00" * 7 + b"not json", "invalid JSON in header"),
        (b"PK\x03\x04", "header"),
    ],
)
def test_a_file_that_is_not_safetensors_raises_naming_it(content, reason, tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match=rf"bad\.safetensors' is not a safetensors file: .*{reason}"):
        tl.load(path)


def test_a_truncated_file_raises(tmp_path):
    path = tmp_path / "cut.safetensors"
    tl.save({"w": tl.randn(10, 10)}, path)
    path.write_bytes(path.read_bytes()[:-8])
    with pytest.raises(RuntimeError, match=r"cut\.safetensors' is not a safetensors file"):
        tl.load(path)


def test_a_dtype_tensorlite_lacks_raises_naming_the_tensor(tmp_path):
    safetensors.numpy.save_file({"half": np.zeros(2, dtype=np.float16)}, tmp_path / "half.safetensors")
    message = "holds the tensor 'half' of safetensors dtype F16, which tensorlite lacks; expected one of F32, F64"
    with pytest.raises(RuntimeError, match=message):
        tl.load(tmp_path / "half.safetensors")


# --------------------------------------------------------------------- to and from torch
def lenet_pair(torch):
    """The same small CNN in tensorlite and in torch (conv, batch norm, pooling, linear): identical state_dict keys."""
    nn = pytest.importorskip("tensorlite.nn")

    def build(layers):
        return layers.Sequential(
            layers.Conv2d(1, 4, 3), layers.BatchNorm2d(4), layers.ReLU(), layers.MaxPool2d(2),
            layers.Flatten(), layers.Linear(4 * 3 * 3, 5),
        )

    return build(nn), build(torch.nn)


INPUT = np.random.default_rng(5).standard_normal((2, 1, 8, 8)).astype(np.float32)


def test_a_tensorlite_state_dict_loads_into_torch_through_safetensors(tmp_path):
    torch = torch_or_skip()
    import safetensors.torch

    model, twin = lenet_pair(torch)
    model.train()
    model(tl.tensor(INPUT))  # one training pass: the batch-norm running statistics move away from their start
    model.eval()
    tl.save(model.state_dict(), tmp_path / "model.safetensors")
    twin.load_state_dict(safetensors.torch.load_file(tmp_path / "model.safetensors"))
    twin.eval()
    with tl.no_grad():
        expected = model(tl.tensor(INPUT)).numpy()
    with torch.no_grad():
        np.testing.assert_allclose(twin(torch.tensor(INPUT)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert twin.state_dict()["1.num_batches_tracked"].item() == 1


def test_a_torch_state_dict_saved_with_safetensors_loads_into_tensorlite(tmp_path):
    torch = torch_or_skip()
    import safetensors.torch

    model, twin = lenet_pair(torch)
    torch.manual_seed(0)
    twin.train()
    twin(torch.tensor(INPUT))
    twin.eval()
    safetensors.torch.save_file(twin.state_dict(), tmp_path / "model.safetensors")
    loaded = tl.load(tmp_path / "model.safetensors")
    assert loaded["1.num_batches_tracked"].dtype is tl.int64
    model.load_state_dict(loaded)
    model.eval()
    with torch.no_grad():
        expected = twin(torch.tensor(INPUT)).numpy()
    with tl.no_grad():
        np.testing.assert_allclose(model(tl.tensor(INPUT)).numpy(), expected, rtol=1e-5, atol=1e-6)
