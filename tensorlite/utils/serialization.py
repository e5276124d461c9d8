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
comes back as one tensor.
"""
import contextlib
import json
import os
import secrets
from collections.abc import Mapping

import numpy as np

from ..device import as_device
from ..tensor import Tensor, from_numpy

FORMAT = "tensorlite"
VERSION = 1
STRUCTURE_MEMBER = "__tensorlite__"
ZIP_MAGIC = b"PK\x03\x04"


# --------------------------------------------------------------------- save
def save(obj, f):
    """Save ``obj`` to ``f``: a path (``str`` or ``os.PathLike``) or a binary file object open for writing.

    A path is written atomically: the archive goes to a temporary file in the same directory, which
    then replaces ``f``, so a failed save leaves neither a partial file nor a damaged old checkpoint.
    """
    arrays = {}
    document = {"format": FORMAT, "version": VERSION, "object": _encode(obj, arrays, {}, "obj")}
    members = {STRUCTURE_MEMBER: np.array(json.dumps(document)), **arrays}
    if hasattr(f, "write"):
        np.savez(f, **members)
    else:
        _write_atomically(os.fsdecode(os.fspath(f)), lambda stream: np.savez(stream, **members))


def _encode(obj, arrays, member_of, where):
    """The JSON node for ``obj``; each new tensor's array is added to ``arrays``. ``member_of`` maps the ids of
    tensors already stored to their member names; ``where`` spells the position of ``obj`` for errors."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (np.number, np.bool_)):
        return obj.item()
    if isinstance(obj, Tensor):
        if id(obj) not in member_of:
            member_of[id(obj)] = f"tensor_{len(arrays)}"
            arrays[member_of[id(obj)]] = obj.detach().cpu().numpy()
        return {"type": "tensor", "member": member_of[id(obj)], "requires_grad": obj.requires_grad}
    if isinstance(obj, Mapping):
        items = [
            [
                _encode(key, arrays, member_of, f"{where} key {key!r}"),
                _encode(value, arrays, member_of, f"{where}[{key!r}]"),
            ]
            for key, value in obj.items()
        ]
        return {"type": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        items = [_encode(item, arrays, member_of, f"{where}[{i}]") for i, item in enumerate(obj)]
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
def load(f, map_location=None):
    """Load an object saved with ``tl.save`` from ``f``: a path or a binary file object open for reading.

    Tensors come back with their dtype and ``requires_grad``, on the CPU, or on ``map_location``
    (a device or a device string such as ``'cuda'``) when it is given. A file that is not a tensorlite
    checkpoint (not an ``.npz`` archive, truncated, or without tensorlite's structure member) raises a
    ``RuntimeError`` naming the file and what is wrong with it.
    """
    device = as_device(map_location)
    if hasattr(f, "read"):
        return _read_checkpoint(f, getattr(f, "name", repr(f)), device)
    with open(f, "rb") as stream:
        return _read_checkpoint(stream, os.fsdecode(os.fspath(f)), device)


def _not_a_checkpoint(name, reason):
    return RuntimeError(f"'{name}' is not a tensorlite checkpoint: {reason}")


def _read_checkpoint(stream, name, device):
    document, arrays = _read_archive(stream, name)
    if not isinstance(document, dict) or document.get("format") != FORMAT or "object" not in document:
        raise _not_a_checkpoint(name, f"its '{STRUCTURE_MEMBER}' member does not describe a tensorlite object")
    if document.get("version") != VERSION:
        raise _not_a_checkpoint(
            name, f"it has format version {document.get('version')!r}; this tensorlite reads version {VERSION}"
        )
    return _decode(document["object"], arrays, {}, device, name)


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
        raise _not_a_checkpoint(name, f"its '{STRUCTURE_MEMBER}' member is not a JSON text")
    try:
        return json.loads(array.item())
    except json.JSONDecodeError as err:
        raise _not_a_checkpoint(name, f"its '{STRUCTURE_MEMBER}' member is not valid JSON ({err})") from err


def _decode(node, arrays, tensor_of, device, name):
    """The object a JSON ``node`` describes; ``tensor_of`` maps member names to the tensors already rebuilt."""
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if kind == "tensor":
        member = node.get("member")
        if member not in tensor_of:
            if member not in arrays:
                raise _not_a_checkpoint(name, f"its structure refers to a missing array member {member!r}")
            tensor = from_numpy(arrays[member]).to(device)
            tensor_of[member] = tensor.requires_grad_(True) if node.get("requires_grad") else tensor
        return tensor_of[member]
    if kind in ("list", "tuple"):
        items = [_decode(item, arrays, tensor_of, device, name) for item in node["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "dict":
        return {
            _decode(key, arrays, tensor_of, device, name): _decode(value, arrays, tensor_of, device, name)
            for key, value in node["items"]
        }
    raise _not_a_checkpoint(name, f"its structure holds a node of unknown type {kind!r}")
