"""tl.save / tl.load: exact round trips through an .npz archive without pickle, atomic writes, clear errors."""
import io
import json
import os
import re
import sys
import zipfile

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
    for map_location in ("cuda", {"cpu": "cuda:0"}, lambda storage, loc: storage.cuda(0)):
        loaded = tl.load(tmp_path / "w.npz", map_location=map_location)["w"]
        assert loaded.device.type == "cuda" and loaded.cpu().tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("weights_only", [None, True, False])
def test_weights_only_is_accepted_and_loads_the_same_data(weights_only, tmp_path):
    tl.save({"w": tl.ones(2), "epoch": 3}, tmp_path / "w.npz")
    loaded = tl.load(tmp_path / "w.npz", weights_only=weights_only)
    assert loaded["epoch"] == 3 and loaded["w"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "map_location",
    [
        None,
        "cpu",
        tl.device("cpu"),
        {"cuda:0": "cpu"},
        {"cpu": "cpu", "cuda:1": "cuda:0"},
        {"cpu": tl.device("cpu")},
        lambda storage, loc: storage,
        lambda storage, loc: None,
        lambda storage, loc: storage.cpu(),
    ],
    ids=["none", "string", "device", "dict_other", "dict_cpu", "dict_device", "identity", "returns_none", "cpu"],
)
def test_every_torch_form_of_map_location_loads_onto_the_cpu(map_location, tmp_path):
    shared = tl.ones(3, requires_grad=True)
    tl.save({"a": shared, "b": shared, "n": tl.arange(2)}, tmp_path / "w.npz")
    loaded = tl.load(tmp_path / "w.npz", map_location=map_location)
    assert loaded["a"] is loaded["b"] and loaded["a"].requires_grad and loaded["a"].device == tl.device("cpu")
    assert loaded["a"].tolist() == [1.0, 1.0, 1.0] and loaded["n"].tolist() == [0, 1]


def test_a_map_location_function_sees_each_tensor_once_with_location_cpu(tmp_path):
    shared = tl.zeros(2)
    tl.save([shared, shared, tl.ones(1, dtype=tl.int64)], tmp_path / "w.npz")
    calls = []

    def record(storage, location):
        calls.append((storage.tolist(), location))
        return storage

    tl.load(tmp_path / "w.npz", map_location=record)
    assert calls == [([0.0, 0.0], "cpu"), ([1], "cpu")]


def test_torch_reads_the_map_locations_the_same_way(tmp_path):
    """torch places a CPU-saved tensor by the same rules: a dict's 'cpu' entry, a function's returned storage."""
    torch = torch_or_skip()
    torch.save({"w": torch.ones(2)}, tmp_path / "w.pt")
    calls = []
    torch.load(tmp_path / "w.pt", map_location=lambda storage, loc: calls.append(loc) or storage)
    assert calls == ["cpu"]
    assert torch.load(tmp_path / "w.pt", map_location={"cuda:0": "cpu"})["w"].device.type == "cpu"


@pytest.mark.parametrize(
    "map_location, error, message",
    [
        (3, TypeError, "map_location should be None, a device, a device string, .*got an object of type int"),
        ("tpu", RuntimeError, "Expected one of cpu, cuda device type at start of device string: tpu"),
        ({"cpu": "gpu:0"}, RuntimeError, "Expected one of cpu, cuda device type"),
        (lambda storage, loc: 1.5, RuntimeError, "map_location returned an object of type float for a tensor of"),
        (
            lambda storage, loc: storage.double(),
            RuntimeError,
            r"returned a tensor of shape \[2\] and dtype float64 for a tensor of shape \[2\] and dtype float32",
        ),
    ],
)
def test_a_map_location_tensorlite_cannot_follow_raises(map_location, error, message, tmp_path):
    tl.save({"w": tl.ones(2)}, tmp_path / "w.npz")
    with pytest.raises(error, match=message):
        tl.load(tmp_path / "w.npz", map_location=map_location)


def test_an_optimizer_state_dict_round_trips_with_integer_keys(tmp_path):
    param = tl.ones(3, requires_grad=True)
    optimizer = tl.optim.Adam([param], lr=0.1, betas=(0.8, 0.9))
    param.grad = tl.tensor([1.0, -1.0, 0.5])
    optimizer.step()
    loaded = round_trip(optimizer.state_dict(), tmp_path / "adam.npz")
    assert list(loaded["state"]) == [0] and loaded["state"][0]["step"] == 1
    assert loaded["param_groups"] == optimizer.state_dict()["param_groups"]
    expected = optimizer.state[param]["exp_avg_sq"].numpy()
    np.testing.assert_array_equal(loaded["state"][0]["exp_avg_sq"].numpy(), expected)


# --------------------------------------------------------------------- files that are not checkpoints
def document(node, **fields):
    return {"format": "tensorlite", "version": 1, "object": node, **fields}


def tensor_node(member="tensor_0", requires_grad=False):
    return {"type": "tensor", "member": member, "requires_grad": requires_grad}


def craft(path, structure, **arrays):
    """Write an .npz archive whose structure member holds ``structure``, a JSON text or an object to dump."""
    text = structure if isinstance(structure, str) else json.dumps(structure)
    np.savez(path, __tensorlite__=np.array(text), **arrays)
    return path


def nested_lists(depth):
    """A JSON node of ``depth`` lists, each inside the one before."""
    node = {"type": "list", "items": []}
    for _ in range(depth - 1):
        node = {"type": "list", "items": [node]}
    return node


MEMBER = "its '__tensorlite__' member"


def not_a_checkpoint(reason):
    """The pattern of the error for the file ``bad.npz``: the file's name, then ``reason``."""
    return r"bad\.npz' is not a tensorlite checkpoint: " + reason


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
    [
        (b"", "the file is empty"),
        (b"hello, world", "not an .npz archive"),
        (b"\x80\x04\x95pickle", "not an .npz archive"),
    ],
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


def test_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        tl.load(tmp_path / "nowhere.npz")


def test_a_directory_raises_is_a_directory_like_torch(tmp_path):
    with pytest.raises(IsADirectoryError):
        tl.load(tmp_path)


def test_a_member_with_a_corrupt_npy_header_raises(tmp_path):
    structure = io.BytesIO()
    np.save(structure, np.array(json.dumps(document(tensor_node()))))
    with zipfile.ZipFile(tmp_path / "bad.npz", "w") as archive:
        archive.writestr("__tensorlite__.npy", structure.getvalue())
        archive.writestr("tensor_0.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': oops}")
    with pytest.raises(RuntimeError, match=not_a_checkpoint("reading the archive failed, .*truncated or corrupt")):
        tl.load(tmp_path / "bad.npz")


# --------------------------------------------------------------------- crafted, malformed checkpoints
@pytest.mark.parametrize(
    "structure, reason",
    [
        ("{not json", rf"{MEMBER} can't be parsed as JSON \(JSONDecodeError: Expecting property name"),
        pytest.param(
            "1" * 5000,
            rf"{MEMBER} can't be parsed as JSON \(ValueError: Exceeds the limit \(4300 digits\)",
            marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.11 limits int digits"),
        ),
        ("[1, 2]", f"{MEMBER} holds a JSON array; expected an object"),
        ('"tensorlite"', f"{MEMBER} holds \"tensorlite\"; expected an object"),
        ({"version": 1, "object": 1}, rf"{MEMBER} lacks \['format'\]; its keys: \['version', 'object'\]"),
        ({"format": "tensorlite", "object": 1}, rf"{MEMBER} lacks \['version'\]"),
        ({"format": "tensorlite", "version": 1}, rf"{MEMBER} lacks \['object'\]"),
        (document(1, format="torch"), "its format is \"torch\"; expected 'tensorlite'"),
        (document(1, version=2), "it has format version 2; this tensorlite reads version 1"),
        (document(1, version="1"), "it has format version \"1\"; this tensorlite reads version 1"),
        (document(1, version=True), "it has format version true; this tensorlite reads version 1"),
    ],
)
def test_a_structure_member_that_is_not_a_tensorlite_document_raises(structure, reason, tmp_path):
    with pytest.raises(RuntimeError, match=not_a_checkpoint(reason)):
        tl.load(craft(tmp_path / "bad.npz", structure))


def test_a_structure_member_that_is_not_a_string_raises(tmp_path):
    np.savez(tmp_path / "bad.npz", __tensorlite__=np.zeros(3))
    reason = rf"{MEMBER} is an array of dtype float64 and shape \(3,\); expected a 0-d unicode string"
    with pytest.raises(RuntimeError, match=not_a_checkpoint(reason)):
        tl.load(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    "node, reason",
    [
        ([1, 2], r"obj is a JSON array; expected null, true, false, a number, a string or an object"),
        ({"items": []}, r"obj has no 'type'; expected a string \(its keys: \['items'\]\)"),
        ({"type": 3}, "obj has 'type': 3; expected a string"),
        ({"type": "set", "items": []}, "obj has type \"set\"; expected 'tensor', 'list', 'tuple' or 'dict'"),
        ({"type": "list", "items": {"a": 1}}, "obj has 'items': a JSON object; expected an array"),
        ({"type": "tuple"}, r"obj has no 'items'; expected an array \(its keys: \['type'\]\)"),
        ({"type": "dict", "items": {"a": 1}}, "obj has 'items': a JSON object; expected an array"),
        ({"type": "dict", "items": [["a"]]}, r"obj item 0 is a JSON array; expected a \[key, value\] array"),
        ({"type": "dict", "items": [["a", 1], "b"]}, r"obj item 1 is \"b\"; expected a \[key, value\] array"),
        ({"type": "dict", "items": [[[1], 2]]}, "obj key 0 is a JSON array; expected null, true"),
        ({"type": "dict", "items": [[nested_lists(1), 2]]}, "obj key 0 is a list; expected a hashable key"),
        (
            {"type": "dict", "items": [[{"type": "tuple", "items": [{"type": "dict", "items": []}]}, 2]]},
            "obj key 0 is a tuple; expected a hashable key",
        ),
        ({"type": "tensor", "requires_grad": False}, r"obj has no 'member'; expected the name of an array member"),
        (tensor_node(member=0), "obj has 'member': 0; expected the name of an array member"),
        (tensor_node(requires_grad="yes"), "obj has 'requires_grad': \"yes\"; expected true or false"),
        (tensor_node(requires_grad=1), "obj has 'requires_grad': 1; expected true or false"),
        ({"type": "tensor", "member": "tensor_0"}, r"obj has no 'requires_grad'; expected true or false"),
        (
            {"type": "list", "items": [1, {"type": "list", "items": [tensor_node("tensor_9")]}]},
            r"obj\[1\]\[0\] refers to 'tensor_9', which names no tensor array in the archive",
        ),
        (tensor_node("__tensorlite__"), "obj refers to '__tensorlite__', which names no tensor array in the archive"),
        (tensor_node("tensor_1", True), "obj requires grad for dtype int64; expected a floating-point dtype"),
    ],
)
def test_a_malformed_node_raises_naming_its_position(node, reason, tmp_path):
    arrays = {"tensor_0": np.zeros(2, dtype=np.float32), "tensor_1": np.zeros(2, dtype=np.int64)}
    with pytest.raises(RuntimeError, match=not_a_checkpoint(f"in its structure, {reason}")):
        tl.load(craft(tmp_path / "bad.npz", document(node), **arrays))


def test_positions_in_messages_spell_keys_like_save_does(tmp_path):
    node = {"type": "dict", "items": [["state", {"type": "dict", "items": [[0, {"type": "set"}]]}]]}
    with pytest.raises(RuntimeError, match=not_a_checkpoint(r"in its structure, obj\['state'\]\[0\] has type")):
        tl.load(craft(tmp_path / "bad.npz", document(node)))


def test_nan_and_infinity_in_the_json_load_as_floats(tmp_path):
    node = '{"type": "list", "items": [NaN, Infinity, -Infinity]}'
    structure = '{"format": "tensorlite", "version": 1, "object": ' + node + "}"
    nan, inf, minus_inf = tl.load(craft(tmp_path / "floats.npz", structure))
    assert np.isnan(nan) and inf == float("inf") and minus_inf == float("-inf")


@pytest.mark.parametrize(
    "array",
    [
        np.zeros(2, dtype=np.complex64),
        np.zeros(2, dtype=">c16"),
        np.zeros(2, dtype=np.float16),
        np.array(["ab", "c"]),
        np.array([b"ab"]),
        np.zeros(2, dtype=[("x", "<i4"), ("y", "<f4")]),
        np.zeros(2, dtype="datetime64[s]"),
        np.zeros(2, dtype=np.int16),
        np.zeros(2, dtype=np.uint32),
    ],
    ids=lambda array: str(array.dtype),
)
def test_an_array_of_a_dtype_tensors_lack_raises_naming_the_dtype(array, tmp_path):
    reason = f"in its structure, obj refers to 'tensor_0', an array of dtype {re.escape(str(array.dtype))}; "
    with pytest.raises(RuntimeError, match=not_a_checkpoint(reason + "expected one of float32, float64, int64, int32")):
        tl.load(craft(tmp_path / "bad.npz", document(tensor_node()), tensor_0=array))


def test_an_object_array_is_refused_without_unpickling(tmp_path):
    path = craft(tmp_path / "bad.npz", document(tensor_node()), tensor_0=np.array([1, "a"], dtype=object))
    reason = "reading the archive failed, .*Object arrays cannot be loaded when allow_pickle=False"
    with pytest.raises(RuntimeError, match=not_a_checkpoint(reason)):
        tl.load(path)


def test_nesting_up_to_max_depth_round_trips_and_deeper_is_refused_on_save(tmp_path):
    nested = []
    for _ in range(serialization.MAX_DEPTH - 1):
        nested = [nested]
    assert round_trip(nested, tmp_path / "deep.npz") == nested
    with pytest.raises(ValueError, match=r"can't store obj(\[0\]){100}, a container inside 100 others"):
        tl.save([nested], tmp_path / "deeper.npz")


def test_a_structure_nested_deeper_than_max_depth_raises(tmp_path):
    structure = document(nested_lists(serialization.MAX_DEPTH + 1))
    reason = r"in its structure, obj(\[0\]){100} is a container inside 100 others; expected at most 100 levels"
    with pytest.raises(RuntimeError, match=not_a_checkpoint(reason)):
        tl.load(craft(tmp_path / "bad.npz", structure))


def test_a_structure_nested_100000_deep_raises_instead_of_recursing(tmp_path):
    depth = 100_000
    node = '{"type": "list", "items": [' * depth + "]}" * depth
    structure = '{"format": "tensorlite", "version": 1, "object": ' + node + "}"
    with pytest.raises(RuntimeError, match=not_a_checkpoint(f"{MEMBER} can't be parsed as JSON .*recursion")):
        tl.load(craft(tmp_path / "bad.npz", structure))


# --------------------------------------------------------------------- byte order
@pytest.mark.parametrize(
    "big_endian, native", [(">f4", tl.float32), (">f8", tl.float64), (">i4", tl.int32), (">i8", tl.int64)]
)
def test_big_endian_arrays_load_in_native_byte_order_and_shared_once(big_endian, native, tmp_path):
    values = np.array([[-1.5, 0.0], [2.0, 3e5]]).astype(big_endian)
    node = {"type": "list", "items": [tensor_node(), tensor_node(requires_grad=native.is_floating_point)]}
    first, second = tl.load(craft(tmp_path / "big.npz", document(node), tensor_0=values))
    assert first is second and first.dtype is native and first.numpy().dtype.isnative
    np.testing.assert_array_equal(first.numpy(), values)
    again = round_trip({"t": first}, tmp_path / "again.npz")["t"]
    assert again.dtype is native and again.numpy().tobytes() == values.astype(native.numpy).tobytes()


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
