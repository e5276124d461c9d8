"""Collation: a list of samples → one batch, with torch's ``default_collate`` rules.

A sample is a tensor, a NumPy array, a number, a string, or a tuple, list or dict of those. The batch has
the sample's structure with every leaf stacked along a new first dimension::

    [(x0, 3), (x1, 7)]  →  [stack([x0, x1]), tensor([3, 7])]       x_i of shape S → batch of shape (2, *S)

Tuples become lists (as in torch), dicts stay dicts, namedtuples stay namedtuples, strings stay a list.
"""
import collections.abc
import numbers

import numpy as np

from .. import dtypes
from ..ops.shape import stack
from ..tensor import Tensor, as_tensor, tensor


def default_collate(batch):
    """Stack a list of samples into a batch (see the module docstring for the rules)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch)
    if isinstance(elem, (np.ndarray, np.generic)):
        return as_tensor(np.stack(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=dtypes.float64)
    if isinstance(elem, numbers.Number):
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in elem}
    if isinstance(elem, collections.abc.Sequence):
        if any(len(sample) != len(elem) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(field)) for field in zip(*batch)]
        return type(elem)(*fields) if _is_namedtuple(elem) else fields
    raise TypeError(
        f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {type(elem)}"
    )


def default_convert(data):
    """One sample with its NumPy arrays and scalars turned into tensors (the loader's ``batch_size=None`` mode)."""
    if isinstance(data, (np.ndarray, np.generic)):
        return as_tensor(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if _is_namedtuple(data):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data


def _is_namedtuple(obj):
    return isinstance(obj, tuple) and hasattr(obj, "_fields")
