"""Map-style datasets: ``len(dataset)`` samples, ``dataset[i]`` the i-th, as in ``torch.utils.data``.

A dataset that holds its samples as whole arrays can also make a batch in one step: its
``get_batch(indices)`` returns what ``default_collate([dataset[i] for i in indices])`` would, computed by
indexing the arrays once. ``fetch_batch`` uses it when it is there and falls back to the per-sample
loop otherwise, so every dataset works and array-backed ones are fast.
"""
import itertools
import math
import warnings

import numpy as np

from ..random import randperm
from .collate import default_collate


class Dataset:
    """The base of map-style datasets: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} should implement __getitem__")


class TensorDataset(Dataset):
    """Samples are the rows of tensors sharing their first dimension: ``dataset[i] = (t[i] for t in tensors)``.

    ``TensorDataset(X, y)`` with ``X`` of shape (N, ...) and ``y`` of shape (N,) gives N samples ``(X[i], y[i])``.
    """

    def __init__(self, *tensors):
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            raise ValueError(f"Size mismatch between tensors: their first dimensions are {sizes}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def get_batch(self, indices):
        """``[t[indices] for t in tensors]``: each tensor's rows at ``indices`` (a 1-D int64 array), stacked."""
        return [t[indices] for t in self.tensors]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i] = dataset[indices[i]]``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index):
        if isinstance(index, list):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def get_batch(self, indices):
        return fetch_batch(self.dataset, self.indices[indices])


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given lengths.

    ``lengths`` are sample counts summing to ``len(dataset)``, or fractions summing to 1: then each subset
    gets ``floor(fraction * len(dataset))`` samples and the remainder goes one by one to the first subsets.
    """
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        for i, fraction in enumerate(lengths):
            if not 0 <= fraction <= 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
        counts = [math.floor(n * fraction) for fraction in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.")
        lengths = counts
    if sum(lengths) != n:
        raise ValueError(
            f"Sum of input lengths does not equal the length of the input dataset! (lengths sum to {sum(lengths)}, "
            f"the dataset has {n} samples)"
        )
    order = randperm(n, generator=generator).numpy()
    ends = itertools.accumulate(lengths)
    return [Subset(dataset, order[end - length : end]) for end, length in zip(ends, lengths)]


def collate_samples(dataset, indices, collate_fn=default_collate):
    """``collate_fn([dataset[i] for i in indices])``: the general, one-sample-at-a-time way to make a batch."""
    return collate_fn([dataset[i] for i in indices.tolist()])


def fetch_batch(dataset, indices):
    """The batch ``default_collate`` makes of the samples at ``indices`` (a 1-D int64 array), in one step
    when the dataset offers ``get_batch``."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    return collate_samples(dataset, indices)
