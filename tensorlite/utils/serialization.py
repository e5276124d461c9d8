"""``tl.save`` / ``tl.load``: checkpoints as ``.npz`` archives, never pickle.

A checkpoint is a tensor, or nested dicts, lists and tuples of tensors, ``int``, ``float``, ``str``,
``bool`` and ``None``: a model's ``state_dict()``, an optimiser's, or a dict holding both and the epoch.
The archive (a zip file NumPy reads with ``np.load``) holds one ``.npy`` member per tensor, named
``tensor_0``, ``tensor_1``, ..., and a member ``__tensorlite__``: a JSON text that describes the object::

    {"format": "tensorlite", "version": 1, "object": NODE}

    NODE:  null | true | false | 3 | 0.5 | "text"                        None, bool, int, float, str
           {"type": "tensor", "member": "tensor_0", "requires_grad": false}
           {"type": "list", "items": [NODE, ...]}      (likewise "tuple")
           {"type": "dict", "items": [[KEY NODE, VALUE NODE], ...]}       keys of any of these types

Loading reads the arrays with ``allow_pickle=False`` and rebuilds the object from the JSON, so a
checkpoint can hold data but never code. A tensor saved twice (the same object) is stored once and
comes back as one tensor. Arrays of another byte order (``>f4``) load in the native one; containers nest at
most ``MAX_DEPTH`` deep. Every node is checked: a malformed file raises the ``RuntimeError`` of ``load``.

A path ending in ``.safetensors`` (or a file object whose ``name`` does) is written and read in the
safetensors format instead, through the ``safetensors`` package: the format of the Hugging Face hub, which
``safetensors.torch.load_file`` reads and ``safetensors.torch.save_file`` writes. It holds a flat dict of
tensors keyed by ``str`` (a model's ``state_dict()``) and nothing else: no ``requires_grad``, no nesting, no
numbers or strings beside the tensors.
"""
import contextlib
import json
import os
import secrets
from collections.abc import Mapping

import numpy as np
import safetensors
import safetensors.numpy

from ..device import as_device, device
from ..dtypes import ALL as DTYPES
from ..tensor import Tensor, from_numpy

FORMAT = "tensorlite"
VERSION = 1
STRUCTURE_MEMBER = "__tensorlite__"
ZIP_MAGIC = b"PK\x03\x04"
MAX_DEPTH = 100  # containers inside containers; a state_dict needs a few
SAFETENSORS_SUFFIX = ".safetensors"
SAVED_LOCATION = "cpu"  # where map_location sees every tensor come from: the formats keep values in host memory


# --------------------------------------------------------------------- save
def save(obj, f):
    """Save ``obj`` to ``f``: a path (``str`` or ``os.PathLike``) or a binary file object open for writing.

    A name ending in ``.safetensors`` selects the safetensors format, for a flat dict of tensors keyed by
    ``str``; anything else is written as a tensorlite ``.npz`` archive. A path is written atomically: the
    file goes to a temporary file in the same directory, which then replaces ``f``, so a failed save leaves
    neither a partial file nor a damaged old checkpoint.
    """
    if _is_safetensors(f):
        data = safetensors.numpy.save(_flat_arrays(obj))
        write = lambda stream: stream.write(data)  # noqa: E731
    else:
        arrays = {}
        document = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays, {}, "obj")}
        members = {STRUCTURE_MEMBER: np.array(json.dumps(document)), **arrays}
        write = lambda stream: np.savez(stream, **members)  # noqa: E731
    if hasattr(f, "write"):
        write(f)
    else:
        _write_atomically(os.fsdecode(os.fspath(f)), write)


def _is_safetensors(f):
    """Whether ``f``, a path or a file object (by its ``name``, when it has one), names a ``.safetensors`` file."""
    name = getattr(f, "name", None) if hasattr(f, "read") or hasattr(f, "write") else f
    return isinstance(name, (str, bytes, os.PathLike)) and os.fsdecode(os.fspath(name)).endswith(SAFETENSORS_SUFFIX)


def _flat_arrays(obj):
    """The C-contiguous arrays of ``obj``, a dict of tensors keyed by ``str``, as the safetensors format holds."""
    advice = "a .safetensors file holds a flat dict of tensors keyed by str; save other checkpoints to an .npz file"
    if not isinstance(obj, Mapping):
        raise TypeError(f"tl.save can't store obj, an object of type {type(obj).__name__}, in safetensors: {advice}")
    arrays = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(
                f"tl.save can't store obj key {key!r}, of type {type(key).__name__}, in safetensors: {advice}"
            )
        if not isinstance(value, Tensor):
            raise TypeError(
                f"tl.save can't store obj[{key!r}], an object of type {type(value).__name__}, in safetensors: {advice}"
            )
        arrays[key] = np.asarray(value.detach().cpu().numpy(), order="C")  # the package writes raw memory
    return arrays


def _encode(obj, arrays, member_of, where, depth=0):
    """The JSON node for ``obj``; each new tensor's array is added to ``arrays``. ``member_of`` maps the ids of
    tensors already stored to their member names; ``where`` spells the position of ``obj`` for errors and
    ``depth`` counts the containers around it."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.number, np.bool_)):
        return obj.item()
    if isinstance(obj, Tensor):
        if id(obj) not in member_of:
            member_of[id(obj)] = f"tensor_{len(arrays)}"
            arrays[member_of[id(obj)]] = obj.detach().cpu().numpy()
        return {"type": "tensor", "member": member_of[id(obj)], "requires_grad": obj.requires_grad}
    if isinstance(obj, (Mapping, list, tuple)) and depth == MAX_DEPTH:
        raise ValueError(
            f"tl.save can't store {where}, a container inside {MAX_DEPTH} others: checkpoints nest at most {MAX_DEPTH}"
        )
    if isinstance(obj, Mapping):
        items = [
            [
                _encode(key, arrays, member_of, f"{where} key {key!r}", depth + 1),
                _encode(value, arrays, member_of, f"{where}[{key!r}]", depth + 1),
            ]
            for key, value in obj.items()
        ]
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        items = [_encode(item, arrays, member_of, f"{where}[{i}]", depth + 1) for i, item in enumerate(obj)]
        return {"type": "tuple" if isinstance(obj, tuple) else "list", "items": items}
    raise TypeError(
        f"tl.save can't store {where}, an object of type {type(obj).__name__}: a checkpoint holds tensors, dicts, "
        "lists, tuples, int, float, str, bool and None (no pickle)"
    )


def _write_atomically(path, write):
    """Call ``write(stream)`` on a new temporary file next to ``path``, then move it onto ``path``."""
    directory, name = os.path.split(os.path.abspath(path))
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
        raise


# --------------------------------------------------------------------- load
def load(f, map_location=None, *, weights_only=None):
    """Load an object saved with ``tl.save`` from ``f``: a path or a binary file object open for reading.

    A name ending in ``.safetensors`` is read as a safetensors file (from tensorlite, ``safetensors.torch`` or
    the Hugging Face hub), which gives a dict of tensors; anything else must be a tensorlite ``.npz``
    checkpoint. Tensors come back with their dtype and (from ``.npz``) ``requires_grad``.

    ``map_location`` places them, with the forms of ``torch.load``. Both formats keep every tensor's values in
    host memory and record no device, so each tensor's saved location is ``'cpu'``:

    - ``None``: on the CPU;
    - a device or a device string (``'cuda'``, ``tl.device('cuda:0')``): on that device;
    - a dict mapping saved locations to devices (``{'cuda:0': 'cpu'}``): the device its ``'cpu'`` entry names,
      or the CPU without one;
    - a function ``(storage, location)``: called with each tensor (on the CPU, standing for torch's storage)
      and ``'cpu'``; it returns the tensor placed where it should be (``lambda storage, loc: storage`` keeps it
      on the CPU, ``lambda storage, loc: storage.cuda()`` moves it), or ``None`` for the CPU.

    ``weights_only`` is accepted for ``torch.load``'s signature and changes nothing: tensorlite never unpickles,
    so a file can hold data but never code whichever value is given.

    A file that is not a checkpoint of its format (not an ``.npz`` archive, truncated, without tensorlite's
    structure member, with a structure or an array that the format does not allow, or a damaged safetensors
    file) raises a ``RuntimeError`` naming the file and what is wrong with it.
    """
    place = _placement(map_location)
    read = _read_safetensors if _is_safetensors(f) else _read_checkpoint
    if hasattr(f, "read"):
        return read(f, getattr(f, "name", repr(f)), place)
    with open(f, "rb") as stream:
        return read(stream, os.fsdecode(os.fspath(f)), place)


def _placement(map_location):
    """The function that moves a loaded CPU tensor where ``map_location`` (any form ``load`` takes) says."""
    if map_location is None:
        return lambda tensor: tensor
    if isinstance(map_location, Mapping):
        map_location = map_location.get(SAVED_LOCATION, SAVED_LOCATION)
    if isinstance(map_location, (str, device)):
        target = as_device(map_location)
        return lambda tensor: tensor.to(target)
    if callable(map_location):
        return lambda tensor: _placed_by(map_location, tensor)
    raise TypeError(
        "map_location should be None, a device, a device string, a dict mapping saved locations to devices or "
        f"a function (storage, location) returning a storage; got an object of type {type(map_location).__name__}"
    )


def _placed_by(function, tensor):
    """``function(tensor, 'cpu')``, checked to be ``tensor`` moved (same shape and dtype), or ``tensor`` for None."""
    result = function(tensor, SAVED_LOCATION)
    if result is None:
        return tensor
    if not isinstance(result, Tensor) or result.shape != tensor.shape or result.dtype is not tensor.dtype:
        got = (
            f"a tensor of shape {list(result.shape)} and dtype {result.dtype.name}"
            if isinstance(result, Tensor)
            else f"an object of type {type(result).__name__}"
        )
        raise RuntimeError(
            f"map_location returned {got} for a tensor of shape {list(tensor.shape)} and dtype {tensor.dtype.name}; "
            "expected that tensor on any device (tensorlite's storage), or None"
        )
    return result


def _not_a_checkpoint(name, reason):
    return RuntimeError(f"'{name}' is not a tensorlite checkpoint: {reason}")


def _read_checkpoint(stream, name, place):
    document, arrays = _read_archive(stream, name)
    _check_document(document, name)
    return _Decoder(arrays, place, name).decode(document["object"], "obj", 0)


# safetensors' dtype names of the tensorlite dtypes; the values are stored little-endian.
SAFETENSORS_DTYPES = {"F32": "<f4", "F64": "<f8", "I64": "<i8", "I32": "<i4", "U8": "|u1", "BOOL": "|b1"}


def _read_safetensors(stream, name, place):
    """The dict of tensors in the safetensors file in ``stream``, by key in sorted order (as
    ``safetensors.torch.load_file`` gives them)."""
    try:
        entries = safetensors.deserialize(stream.read())
    except safetensors.SafetensorError as err:
        raise RuntimeError(f"'{name}' is not a safetensors file: {err}") from err
    tensors = {}
    for key, entry in sorted(entries, key=lambda item: item[0]):
        if entry["dtype"] not in SAFETENSORS_DTYPES:
            raise RuntimeError(
                f"'{name}' holds the tensor {key!r} of safetensors dtype {entry['dtype']}, which tensorlite lacks; "
                f"expected one of {', '.join(SAFETENSORS_DTYPES)}"
            )
        stored = np.dtype(SAFETENSORS_DTYPES[entry["dtype"]])
        array = np.frombuffer(entry["data"], dtype=stored).reshape(entry["shape"])
        tensors[key] = place(from_numpy(array.astype(stored.newbyteorder("="))))  # a writable native copy
    return tensors


def _read_archive(stream, name):
    """The JSON document and the arrays (by member name) of the ``.npz`` archive in ``stream``."""
    magic = stream.read(len(ZIP_MAGIC))
    stream.seek(-len(magic), os.SEEK_CUR)
    if magic != ZIP_MAGIC:
        reason = f"not an .npz archive (it starts with {magic!r})" if magic else "the file is empty"
        raise _not_a_checkpoint(name, reason)
    try:
        with np.load(stream, allow_pickle=False) as archive:
            members = archive.files
            arrays = {member: archive[member] for member in members} if STRUCTURE_MEMBER in members else None
    except Exception as err:  # damaged bytes fail in the zip reader or the .npy header parser, in many ways
        raise _not_a_checkpoint(
            name, f"reading the archive failed, the file may be truncated or corrupt ({type(err).__name__}: {err})"
        ) from err
    if arrays is None:
        raise _not_a_checkpoint(name, f"the .npz archive has no '{STRUCTURE_MEMBER}' member (its members: {members})")
    return _parse_structure(arrays.pop(STRUCTURE_MEMBER), name), arrays


def _parse_structure(array, name):
    """The JSON document stored in the structure member, a 0-d string array."""
    if array.dtype.kind != "U" or array.shape != ():
        raise _not_a_checkpoint(
            name, f"its '{STRUCTURE_MEMBER}' member is an array of dtype {array.dtype} and shape {array.shape}; "
            "expected a 0-d unicode string"
        )
    try:
        return json.loads(array.item())
    except (ValueError, RecursionError) as err:  # bad syntax, an int of too many digits, too deep nesting
        raise _not_a_checkpoint(
            name, f"its '{STRUCTURE_MEMBER}' member can't be parsed as JSON ({type(err).__name__}: {err})"
        ) from err


def _check_document(document, name):
    """Raise unless the JSON ``document`` has this version's ``format``, ``version`` and ``object``."""
    if not isinstance(document, dict):
        raise _not_a_checkpoint(name, f"its '{STRUCTURE_MEMBER}' member holds {_shown(document)}; expected an object")
    missing = [key for key in ("format", "version", "object") if key not in document]
    if missing:
        raise _not_a_checkpoint(name, f"its '{STRUCTURE_MEMBER}' member lacks {missing}; its keys: {list(document)}")
    if document["format"] != FORMAT:
        raise _not_a_checkpoint(name, f"its format is {_shown(document['format'])}; expected {FORMAT!r}")
    version = document["version"]
    if type(version) is not int or version != VERSION:  # true == 1 in Python: refuse it by type
        raise _not_a_checkpoint(
            name, f"it has format version {_shown(version)}; this tensorlite reads version {VERSION}"
        )


def _shown(value):
    """A value read from JSON as messages show it: a scalar as JSON spells it, a container by its kind."""
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    return json.dumps(value)


class _Decoder:
    """Rebuilds the object that a checkpoint's JSON nodes describe, checking each node on the way."""

    def __init__(self, arrays, place, name):
        self.arrays, self.place, self.name = arrays, place, name
        self.tensor_of = {}  # member name -> the tensor already rebuilt from it

    def error(self, where, problem):
        return _not_a_checkpoint(self.name, f"in its structure, {where} {problem}")

    def decode(self, node, where, depth):
        """The object ``node`` describes; ``where`` spells its position, ``depth`` counts the containers around it."""
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise self.error(where, f"is {_shown(node)}; expected null, true, false, a number, a string or an object")
        kind = self.field(node, "type", str, "a string", where)
        if kind == "tensor":
            return self.tensor(node, where)
        if kind not in ("list", "tuple", "dict"):
            raise self.error(where, f"has type {_shown(kind)}; expected 'tensor', 'list', 'tuple' or 'dict'")
        if depth == MAX_DEPTH:
            raise self.error(where, f"is a container inside {MAX_DEPTH} others; expected at most {MAX_DEPTH} levels")
        items = self.field(node, "items", list, "an array", where)
        if kind == "dict":
            return self.mapping(items, where, depth + 1)
        items = [self.decode(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(items)]
        return tuple(items) if kind == "tuple" else items

    def field(self, node, key, types, expected, where):
        """``node[key]``, checked to be an instance of ``types`` (``expected`` says which in words)."""
        if key not in node:
            raise self.error(where, f"has no {key!r}; expected {expected} (its keys: {list(node)})")
        if not isinstance(node[key], types):
            raise self.error(where, f"has {key!r}: {_shown(node[key])}; expected {expected}")
        return node[key]

    def mapping(self, items, where, depth):
        """The dict of the ``[key, value]`` pairs ``items``."""
        result = {}
        for i, item in enumerate(items):
            if not isinstance(item, list) or len(item) != 2:
                raise self.error(f"{where} item {i}", f"is {_shown(item)}; expected a [key, value] array")
            key = self.decode(item[0], f"{where} key {i}", depth)
            try:
                hash(key)
            except TypeError:
                raise self.error(f"{where} key {i}", f"is a {type(key).__name__}; expected a hashable key") from None
            result[key] = self.decode(item[1], f"{where}[{key!r}]", depth)
        return result

    def tensor(self, node, where):
        """The tensor of a tensor node: one per member, however many nodes refer to it."""
        member = self.field(node, "member", str, "the name of an array member", where)
        requires_grad = self.field(node, "requires_grad", bool, "true or false", where)
        if member not in self.tensor_of:
            tensor = self.place(from_numpy(self.array(member, where)))
            if requires_grad and not tensor.dtype.is_floating_point:
                raise self.error(where, f"requires grad for dtype {tensor.dtype.name}; expected a floating-point dtype")
            self.tensor_of[member] = tensor.requires_grad_(True) if requires_grad else tensor
        return self.tensor_of[member]

    def array(self, member, where):
        """The array of ``member`` in the native byte order, checked to have a tensor dtype."""
        if member not in self.arrays:
            raise self.error(where, f"refers to {member!r}, which names no tensor array in the archive")
        array = self.arrays[member]
        native = array.dtype.newbyteorder("=")
        if native not in [dtype.numpy for dtype in DTYPES]:
            names = ", ".join(dtype.name for dtype in DTYPES)
            raise self.error(where, f"refers to {member!r}, an array of dtype {array.dtype}; expected one of {names}")
        return array.astype(native, copy=False)
