"""tl.save / tl.load: exact round trips through an .npz archive without pickle, atomic writes, clear errors."""
import io
import json
import os

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.utils import serialization
from tests.helpers import torch_or_skip

ARRAYS = {
    "float32": np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32),
    "float64": np.array([[np.pi, -0.0], [1e-300, np.inf]]),
    "int64": np.array([-(2**62), 0, 7, 2**62], dtype=np.int64),
    "bool": np.array([[True, False, True]]),
    "int32_scalar": np.array(-5, dtype=np.int32),
    "uint8_image": np.arange(24, dtype=np.uint8).reshape(2, 3, 4),
    "float32_empty": np.zeros((0, 3), dtype=np.float32),
}


def round_trip(obj, path, **load_options):
    tl.save(obj, path)
    return tl.load(path, **load_options)


@pytest.mark.parametrize("name", ARRAYS)
def test_tensors_come_back_bit_for_bit_with_their_dtype_and_shape(name, tmp_path):
    original = tl.tensor(ARRAYS[name])
    loaded = round_trip(original, tmp_path / "t.npz")
    assert loaded.dtype is original.dtype and loaded.shape == original.shape and loaded.device == tl.device("cpu")
    np.testing.assert_array_equal(loaded.numpy(), ARRAYS[name])
    assert loaded.numpy().tobytes() == ARRAYS[name].tobytes()  # -0.0 stays -0.0


def test_nested_structures_keep_their_types_and_keys(tmp_path):
    weight = tl.randn(2, 3)
    checkpoint = {
        "epoch": 7,
        "loss": 0.125,
        "best": float("inf"),
        "name": "lenet ✓",
        "flags": [True, False, None],
        "betas": (0.9, 0.999),
        "state": {0: {"step": 3, "exp_avg": weight}, 1: {}},
        (2, "pair"): "tuple key",
        "nested": [[tl.tensor(1), (tl.tensor([True]),)], {"empty": []}],
    }
    loaded = round_trip(checkpoint, tmp_path / "checkpoint.npz")
    assert list(loaded) == list(checkpoint)
    assert loaded["epoch"] == 7 and type(loaded["epoch"]) is int
    assert loaded["loss"] == 0.125 and loaded["best"] == float("inf") and loaded["name"] == "lenet ✓"
    assert loaded["flags"] == [True, False, None] and type(loaded["flags"]) is list
    assert loaded["betas"] == (0.9, 0.999) and type(loaded["betas"]) is tuple
    assert loaded["state"][0]["step"] == 3 and loaded["state"][1] == {}
    assert loaded[(2, "pair")] == "tuple key"
    np.testing.assert_array_equal(loaded["state"][0]["exp_avg"].numpy(), weight.numpy())
    assert loaded["nested"][0][0].item() == 1 and loaded["nested"][0][1][0].dtype is tl.bool
    assert loaded["nested"][1] == {"empty": []}


def test_requires_grad_is_kept_and_a_tensor_saved_twice_is_stored_once(tmp_path):
    shared = tl.ones(4, requires_grad=True)
    loaded = round_trip({"a": shared, "b": [shared], "c": tl.zeros(2)}, tmp_path / "shared.npz")
    assert loaded["a"] is loaded["b"][0] and loaded["a"].requires_grad and not loaded["c"].requires_grad
    with np.load(tmp_path / "shared.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["__tensorlite__", "tensor_0", "tensor_1"]


def test_the_archive_is_plain_npz_with_a_json_structure(tmp_path):
    tl.save({"w": tl.zeros(2, 2), "epoch": 1}, tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz", allow_pickle=False) as archive:
        document = json.loads(archive["__tensorlite__"].item())
        assert archive["tensor_0"].dtype == np.float32 and not any(archive[m].dtype.hasobject for m in archive.files)
    assert document["format"] == "tensorlite" and document["version"] == 1
    assert document["object"] == {
        "type": "dict",
        "items": [["w", {"type": "tensor", "member": "tensor_0", "requires_grad": False}], ["epoch", 1]],
    }


def test_paths_may_be_strings_or_path_objects_and_files_may_be_file_objects(tmp_path):
    tensor = tl.arange(5)
    tl.save(tensor, str(tmp_path / "as_string.npz"))
    assert tl.load(str(tmp_path / "as_string.npz")).tolist() == [0, 1, 2, 3, 4]
    buffer = io.BytesIO()
    tl.save({"t": tensor}, buffer)
    buffer.seek(0)
    assert tl.load(buffer)["t"].tolist() == [0, 1, 2, 3, 4]


def test_the_path_is_used_as_given(tmp_path):
    tl.save(1, tmp_path / "model.pt")
    assert os.listdir(tmp_path) == ["model.pt"]


def test_map_location_puts_the_tensors_on_that_device(tmp_path):
    tl.save({"w": tl.ones(3)}, tmp_path / "w.npz")
    assert tl.load(tmp_path / "w.npz", map_location="cpu")["w"].device == tl.device("cpu")
    if not tl.cuda.is_available():
        pytest.skip("no CUDA device")
    loaded = tl.load(tmp_path / "w.npz", map_location="cuda")["w"]
    assert loaded.device.type == "cuda" and loaded.cpu().tolist() == [1.0, 1.0, 1.0]


def test_an_optimizer_state_dict_round_trips_with_integer_keys(tmp_path):
    param = tl.ones(3, requires_grad=True)
    optimizer = tl.optim.Adam([param], lr=0.1, betas=(0.8, 0.9))
    param.grad = tl.tensor([1.0, -1.0, 0.5])
    optimizer.step()
    loaded = round_trip(optimizer.state_dict(), tmp_path / "adam.npz")
    assert list(loaded["state"]) == [0] and loaded["state"][0]["step"] == 1
    assert loaded["param_groups"] == optimizer.state_dict()["param_groups"]
    np.testing.assert_array_equal(loaded["state"][0]["exp_avg_sq"].numpy(), optimizer.state[param]["exp_avg_sq"].numpy())


# --------------------------------------------------------------------- files that are not checkpoints
def good_checkpoint(path):
    tl.save({"w": tl.randn(20, 20), "epoch": 3}, path)
    return path.read_bytes()


@pytest.mark.parametrize("keep", [0.5, 0.99, 20])
def test_a_truncated_file_raises_naming_the_file(keep, tmp_path):
    path = tmp_path / "truncated.npz"
    data = good_checkpoint(path)
    path.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(RuntimeError, match=r"truncated\.npz' is not a tensorlite checkpoint: .*truncated or corrupt"):
        tl.load(path)


def test_a_corrupted_member_raises(tmp_path):
    path = tmp_path / "corrupt.npz"
    data = bytearray(good_checkpoint(path))
    data[len(data) // 2] ^= 0xFF  # inside the weight's bytes: the zip CRC check fails
    path.write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match="is not a tensorlite checkpoint: .*corrupt"):
        tl.load(path)


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "the file is empty"), (b"hello, world", "not an .npz archive"), (b"\x80\x04\x95pickle", "not an .npz archive")],
)
def test_a_file_that_is_not_an_archive_raises(content, reason, tmp_path):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    with pytest.raises(RuntimeError, match=f"foreign.bin' is not a tensorlite checkpoint: {reason}"):
        tl.load(path)


def test_a_plain_npy_or_npz_file_raises(tmp_path):
    np.save(tmp_path / "array.npy", np.zeros(3))
    with pytest.raises(RuntimeError, match="array.npy' is not a tensorlite checkpoint: not an .npz archive"):
        tl.load(tmp_path / "array.npy")
    np.savez(tmp_path / "arrays.npz", weight=np.zeros(3))
    with pytest.raises(RuntimeError, match=r"has no '__tensorlite__' member \(its members: \['weight'\]\)"):
        tl.load(tmp_path / "arrays.npz")


def test_a_torch_checkpoint_raises(tmp_path):
    torch = torch_or_skip()
    torch.save({"w": torch.zeros(2)}, tmp_path / "model.pt")
    with pytest.raises(RuntimeError, match="model.pt' is not a tensorlite checkpoint: .*no '__tensorlite__' member"):
        tl.load(tmp_path / "model.pt")


def test_a_structure_member_that_is_not_tensorlite_json_raises(tmp_path):
    np.savez(tmp_path / "a.npz", __tensorlite__=np.array("{not json"))
    with pytest.raises(RuntimeError, match="member is not valid JSON"):
        tl.load(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", __tensorlite__=np.array('{"format": "tensorlite", "version": 99, "object": 1}'))
    with pytest.raises(RuntimeError, match="format version 99"):
        tl.load(tmp_path / "b.npz")
    structure = '{"format": "tensorlite", "version": 1, "object": {"type": "tensor", "member": "tensor_0"}}'
    np.savez(tmp_path / "c.npz", __tensorlite__=np.array(structure))
    with pytest.raises(RuntimeError, match="missing array member 'tensor_0'"):
        tl.load(tmp_path / "c.npz")


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tl.load(tmp_path / "nowhere.npz")


# --------------------------------------------------------------------- failed saves
def test_an_unsupported_object_raises_before_any_file_is_written(tmp_path):
    with pytest.raises(TypeError, match=r"can't store obj\['optimizer'\]\['fn'\], an object of type function"):
        tl.save({"optimizer": {"fn": lambda: 0}}, tmp_path / "bad.npz")
    with pytest.raises(TypeError, match="an object of type ndarray"):
        tl.save([np.zeros(2)], tmp_path / "bad.npz")
    assert os.listdir(tmp_path) == []


def test_a_save_that_fails_midway_leaves_no_file_and_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.npz"
    tl.save({"epoch": 1}, path)

    def write_half_then_fail(stream, **members):
        stream.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(serialization.np, "savez", write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        tl.save({"epoch": 2}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["checkpoint.npz"]
    assert tl.load(path) == {"epoch": 1}


# --------------------------------------------------------------------- models
def test_a_plain_dict_model_state_dict_loads_into_the_torch_module_by_key(tmp_path):
    """A state dict built by hand, keyed as torch's ``Sequential(Linear(4, 3), ReLU(), Linear(3, 2))`` keys it."""
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    shapes = {"0.weight": (3, 4), "0.bias": (3,), "2.weight": (2, 3), "2.bias": (2,)}
    state = {key: tl.tensor(rng.standard_normal(shape).astype(np.float32)) for key, shape in shapes.items()}
    loaded = round_trip(state, tmp_path / "mlp.npz")
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    module.load_state_dict({key: torch.tensor(value.numpy()) for key, value in loaded.items()})
    for key, value in module.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), state[key].numpy())


def test_an_nn_module_state_dict_loads_into_the_equivalent_torch_module(tmp_path):
    torch = torch_or_skip()
    nn = pytest.importorskip("tensorlite.nn")
    tl.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loaded = round_trip(model.state_dict(), tmp_path / "mlp.npz")
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    twin = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    twin.load_state_dict({key: torch.tensor(value.numpy()) for key, value in loaded.items()})
    x = np.random.default_rng(2).standard_normal((5, 4)).astype(np.float32)
    with tl.no_grad():
        expected = model(tl.tensor(x)).numpy()
    np.testing.assert_allclose(twin(torch.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    fresh = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    fresh.load_state_dict(loaded)
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), loaded[key].numpy())
