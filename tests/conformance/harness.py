"""Run one sample under torch and under tensorlite, and list every way the two results differ.

``compare(op, sample)`` builds the sample's tensors in both libraries (the same values, dtypes and layouts;
floating ones may require grad), calls the op, and checks, against torch:

- raise exactly when torch raises, with a compatible exception type, raised by tensorlite itself (an error
  leaking from NumPy or Python, such as a ZeroDivisionError three calls deep, is a mismatch even where torch
  raises too);
- each output's type, shape, dtype, ``requires_grad`` and values (NaN where torch has NaN, exact for
  integers and bools, ``op.rtol``/``op.atol`` for floats);
- for a layer, its parameters and buffers after the call (running statistics);
- the gradient of every leaf, through ``autograd.grad`` with the same random upstream gradient.

Each difference is a ``Mismatch`` in one of ``CATEGORIES``.
"""
import dataclasses
import math
import os
import traceback
import warnings
from typing import NamedTuple

import numpy as np
import torch

import tensorlite as tl

from .samples import DType, TensorArg

CATEGORIES = ("value", "dtype", "shape", "gradient", "requires_grad", "accepts", "rejects", "exception", "leaked")
PACKAGE_DIR = os.path.dirname(tl.__file__)
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}


class Mismatch(NamedTuple):
    category: str
    detail: str

    def __str__(self):
        return f"{self.category}: {self.detail}"


class Outcome(NamedTuple):
    """What a call under one library gave: its outputs, its leaves, the layer's state, or the exception."""

    outputs: object = None
    leaves: tuple = ()
    initial_state: dict = None
    state: dict = None
    error: BaseException = None


# --------------------------------------------------------------------------------------------- running
def materialize(value, lib, leaves):
    """``value`` with every ``TensorArg`` and ``DType`` made in ``lib``; tensors that require grad are
    appended to ``leaves`` (the contiguous base, for a non-contiguous view)."""
    if isinstance(value, TensorArg):
        base_array = value.array
        if value.layout == "transposed":
            base_array = np.ascontiguousarray(base_array.swapaxes(-1, -2))
        elif value.layout == "strided":
            base_array = np.repeat(base_array, 2, axis=-1)
        base = lib.tensor(base_array.copy(), requires_grad=value.requires_grad)
        if value.requires_grad:
            leaves.append(base)
        if value.layout == "transposed":
            return base.transpose(-1, -2)
        if value.layout == "strided":
            return base[..., ::2]
        return base
    if isinstance(value, DType):
        return getattr(lib, value.name)
    if isinstance(value, (list, tuple)):
        return type(value)(materialize(item, lib, leaves) for item in value)
    if isinstance(value, dict):
        return {key: materialize(item, lib, leaves) for key, item in value.items()}
    return value


def run(op, sample, lib, layer_state=None):
    """Call ``op`` on ``sample`` under ``lib``. A layer is built from the sample's constructor arguments and,
    when ``layer_state`` is given (the tensorlite layer's parameters and buffers), loaded with it (in float64
    if the state is)."""
    leaves = []
    try:
        args = materialize(sample.args, lib, leaves)
        kwargs = materialize(sample.kwargs, lib, leaves)
        if op.layer is None:
            return Outcome(op.fn(lib, *args, **kwargs), tuple(leaves))
        layer = _build_layer(op, sample, lib, layer_state)
        initial_state = _state_of(layer)
        outputs = layer(*args, **kwargs)
        return Outcome(outputs, tuple(leaves) + tuple(layer.parameters()), initial_state, _state_of(layer))
    except Exception as error:  # noqa: BLE001 - any exception is a result to compare with torch's
        return Outcome(error=error)


def _build_layer(op, sample, lib, state):
    layer = op.layer(lib)(*materialize(sample.init, lib, []), **materialize(sample.init_kwargs, lib, []))
    if state is not None and any(value.dtype == np.float64 for value in state.values()):
        layer = layer.double()
    if state is not None:
        with torch.no_grad():
            for name, value in layer.state_dict().items():
                value.copy_(torch.from_numpy(state[name].copy()))
    return layer.train(sample.training)


def _state_of(layer):
    return {name: _numpy(value).copy() for name, value in layer.state_dict().items()}  # buffers change in place


def _numpy(tensor):
    return tensor.detach().cpu().numpy()


# --------------------------------------------------------------------------------------------- comparing
def compare(op, sample):
    """Every ``Mismatch`` between tensorlite's and torch's results for ``op`` on ``sample``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _compare(op, sample)


def _compare(op, sample):
    ours = run(op, sample, tl)
    theirs = run(op, sample, torch, layer_state=ours.initial_state)
    if theirs.error is not None or ours.error is not None:
        return _compare_errors(ours.error, theirs.error)
    mismatches = _compare_results(op, ours, theirs, floor=_has_float32(sample))
    if mismatches and all(m.category in ("value", "gradient") for m in mismatches) and _has_float32(sample):
        exact = run(op, _in_float64(sample), torch, layer_state=_in_float64(ours.initial_state))
        if exact.error is None and not _compare_results(op, ours, exact, cast=True):
            return []
    return mismatches


def _compare_results(op, ours, theirs, cast=False, floor=False):
    """Outputs, layer state and gradients. ``cast``: ``theirs`` was computed in float64 from float32 inputs;
    compare values only, at the float32 tolerance. ``floor``: the sample mixes in float32, so a float64 gradient
    may have been summed in float32 (torch sums a 0-d float64 operand's gradient in the float32 result's dtype)."""
    mismatches = _compare_outputs(ours.outputs, theirs.outputs, op, "output", cast)
    if ours.state is not None:
        for name, value in theirs.state.items():
            mismatches += _compare_arrays(ours.state[name], value, op, f"layer.{name}", cast=cast)
    if not mismatches:
        mismatches += _compare_gradients(op, ours, theirs, cast or floor)
    return mismatches


def _has_float32(value):
    if isinstance(value, TensorArg):
        return value.array.dtype == np.float32
    if isinstance(value, (list, tuple)):
        return any(map(_has_float32, value))
    if isinstance(value, dict):
        return any(map(_has_float32, value.values()))
    return getattr(value, "args", None) is not None and _has_float32((value.args, value.kwargs, value.init))


def _in_float64(value):
    """``value`` (a sample, or a layer's state) with every float32 array in float64: the exact answer a
    float32 result may be held to when torch's own float32 rounding differs from tensorlite's."""
    if isinstance(value, TensorArg):
        return TensorArg(_in_float64(value.array), value.layout, value.requires_grad)
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype == np.float32 else value
    if isinstance(value, (list, tuple)):
        return type(value)(map(_in_float64, value))
    if isinstance(value, dict):
        return {key: _in_float64(item) for key, item in value.items()}
    if isinstance(value, DType) and value.name == "float32":
        return DType("float64")
    if hasattr(value, "init_kwargs"):
        return dataclasses.replace(value, args=_in_float64(value.args), kwargs=_in_float64(value.kwargs),
                                   init=_in_float64(value.init), init_kwargs=_in_float64(value.init_kwargs))
    return value


def _compare_errors(ours, theirs):
    if theirs is None:
        return [Mismatch("rejects", f"torch accepts; tensorlite raised {_describe(ours)}")]
    if ours is None:
        return [Mismatch("accepts", f"torch raised {_describe(theirs)}; tensorlite accepts")]
    if not _raised_by_tensorlite(ours):
        return [Mismatch("leaked", f"{_describe(ours)} raised at {_origin(ours)}; torch raised {_describe(theirs)}")]
    if not isinstance(ours, _builtin_type(theirs)):
        return [Mismatch("exception", f"tensorlite raised {_describe(ours)}; torch raised {_describe(theirs)}")]
    return []


def _builtin_type(error):
    """The most derived built-in exception class of ``error`` (torch's own classes derive from them)."""
    return next(cls for cls in type(error).__mro__ if cls.__module__ == "builtins")


def _raised_by_tensorlite(error):
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and frames[-1].filename.startswith(PACKAGE_DIR)


def _origin(error):
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{os.path.basename(frame.filename)}:{frame.lineno} ({frame.name})"


def _describe(error):
    message = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}({message[:160]!r})"


def _compare_outputs(ours, theirs, op, where, cast=False):
    if isinstance(theirs, torch.Tensor):
        if not isinstance(ours, tl.Tensor):
            return [Mismatch("value", f"{where}: torch returned a tensor, tensorlite {type(ours).__name__}")]
        if cast:
            return _compare_arrays(_numpy(ours), _numpy(theirs), op, where, cast=True)
        return _compare_tensors(ours, theirs, op, where)
    if isinstance(theirs, (tuple, list)) and not isinstance(theirs, torch.Size):
        if not isinstance(ours, (tuple, list)) or len(ours) != len(theirs):
            return [Mismatch("shape", f"{where}: torch returned {len(theirs)} outputs, tensorlite {ours!r:.80}")]
        return [m for i, (a, b) in enumerate(zip(ours, theirs))
                for m in _compare_outputs(a, b, op, f"{where}[{i}]", cast)]
    if isinstance(theirs, torch.dtype):
        ours_name, theirs_name = getattr(ours, "name", repr(ours)), str(theirs).replace("torch.", "")
        return [] if ours_name == theirs_name else [Mismatch("dtype", f"{where}: {ours_name} != {theirs_name}")]
    return _compare_python_values(ours, theirs, where)


def _compare_python_values(ours, theirs, where):
    if isinstance(theirs, torch.Size):
        theirs = tuple(theirs)
    if isinstance(theirs, (bool, int, float)) and type(ours) is not type(theirs):
        return [Mismatch("dtype", f"{where}: torch returned {type(theirs).__name__}, tensorlite {type(ours).__name__}")]
    same = theirs == ours or (isinstance(theirs, float) and math.isnan(theirs) and math.isnan(ours))
    return [] if same else [Mismatch("value", f"{where}: tensorlite {ours!r:.80}, torch {theirs!r:.80}")]


def _compare_tensors(ours, theirs, op, where):
    mismatches = []
    if tuple(ours.shape) != tuple(theirs.shape):
        return [Mismatch("shape", f"{where}: shape {tuple(ours.shape)} != torch's {tuple(theirs.shape)}")]
    if str(ours._array.dtype) != str(theirs.dtype).replace("torch.", ""):
        return [Mismatch("dtype", f"{where}: dtype {ours._array.dtype} != torch's {theirs.dtype}")]
    if ours.requires_grad != theirs.requires_grad:
        mismatches.append(Mismatch("requires_grad", f"{where}: requires_grad {ours.requires_grad} != torch's"))
    return mismatches + _compare_arrays(_numpy(ours), _numpy(theirs), op, where)


def _compare_arrays(ours, theirs, op, where, category="value", cast=False):
    if ours.shape != theirs.shape:
        return [Mismatch("shape", f"{where}: shape {ours.shape} != torch's {theirs.shape}")]
    if theirs.dtype.kind != "f" or ours.dtype.kind != "f":
        equal = np.array_equal(ours.astype(theirs.dtype), theirs)
        return [] if equal else [Mismatch(category, f"{where}: {_first_difference(ours, theirs)}")]
    dtype = "float32" if cast else str(theirs.dtype)
    rtol, atol = op.tolerances.get(dtype, TOLERANCES[dtype])
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(ours.astype(theirs.dtype), theirs, rtol=rtol, atol=atol, equal_nan=True)
    return [] if close.all() else [Mismatch(category, f"{where}: {_first_difference(ours, theirs, close)}")]


def _first_difference(ours, theirs, close=None):
    if close is None:
        close = ours.astype(theirs.dtype) == theirs
    index = tuple(int(i) for i in np.argwhere(~close)[0]) if close.ndim else ()
    count = int((~close).sum())
    return f"{count} of {close.size} elements differ; at {index}: tensorlite {ours[index]!r}, torch {theirs[index]!r}"


# --------------------------------------------------------------------------------------------- gradients
def _differentiable_outputs(outputs):
    if isinstance(outputs, (tuple, list)) and not isinstance(outputs, torch.Size):
        return [item for output in outputs for item in _differentiable_outputs(output)]
    return [outputs] if isinstance(outputs, (torch.Tensor, tl.Tensor)) and outputs.requires_grad else []


def _compare_gradients(op, ours, theirs, cast=False):
    """Compare d(sum of upstream * outputs)/d(leaf) for every leaf, with one random upstream per output."""
    their_outputs = _differentiable_outputs(theirs.outputs)
    if not their_outputs or not theirs.leaves:
        return []
    our_outputs = _differentiable_outputs(ours.outputs)
    rng = np.random.default_rng(0)
    upstream = [rng.standard_normal(tuple(out.shape)).astype(_numpy(out).dtype) for out in our_outputs]
    their_upstream = [torch.from_numpy(u).to(out.dtype) for u, out in zip(upstream, their_outputs)]
    try:
        their_grads = torch.autograd.grad(their_outputs, theirs.leaves, their_upstream, allow_unused=True)
    except RuntimeError as error:
        their_grads = error
    try:
        our_grads = tl.autograd.grad(  # retained: the float64 comparison may ask again
            our_outputs, ours.leaves, [tl.tensor(u) for u in upstream], retain_graph=True, allow_unused=True
        )
    except Exception as error:  # noqa: BLE001
        our_grads = error
    if isinstance(their_grads, Exception) or isinstance(our_grads, Exception):
        if isinstance(their_grads, Exception) and isinstance(our_grads, Exception):
            return []
        return [Mismatch("gradient", f"backward: tensorlite {_result(our_grads)}, torch {_result(their_grads)}")]
    mismatches = []
    for number, (mine, expected, leaf) in enumerate(zip(our_grads, their_grads, theirs.leaves)):
        expected = np.zeros(tuple(leaf.shape), _numpy(leaf).dtype) if expected is None else _numpy(expected)
        mine = np.zeros_like(expected) if mine is None else _numpy(mine)
        mismatches += _compare_arrays(mine, expected, op, f"grad of leaf {number}", "gradient", cast)
    return mismatches


def _result(value):
    return f"raised {_describe(value)}" if isinstance(value, Exception) else "computed gradients"
