"""``DataLoader``: iterate over a dataset in batches, optionally shuffled, as ``torch.utils.data.DataLoader``.

Each epoch the loader orders the sample indices (``0 .. N-1``, or a random permutation drawn from
``generator``), cuts that order into slices of ``batch_size`` and turns each slice into a batch. With
the default collation, datasets that hold whole arrays (``TensorDataset``, ``MNIST``, their ``Subset``s)
make each batch by indexing their arrays once (``get_batch``), so there is no per-sample Python loop
and loading costs about what slicing pre-loaded arrays costs.
"""
import numpy as np

from ..random import randperm
from .collate import default_collate, default_convert
from .dataset import collate_samples, fetch_batch


class DataLoader:
    """Batches of ``dataset``, ``batch_size`` samples each (the last one may be smaller unless ``drop_last``).

    Args:
        dataset: a map-style dataset (``__len__`` and ``__getitem__``).
        batch_size: samples per batch; ``None`` yields the samples one by one, unbatched.
        shuffle: a new random order every epoch, drawn from ``generator`` (default: the global generator,
            so ``tl.manual_seed`` makes it reproducible).
        collate_fn: list of samples → batch (default ``default_collate``; ``default_convert`` per sample
            when ``batch_size=None``).
        drop_last: skip the last batch when it is smaller than ``batch_size``.
        generator: a ``tl.Generator`` for the shuffle.
        num_workers, pin_memory: accepted so that PyTorch code runs unchanged; batches are always made in
            the calling process (vectorised, so worker processes would not speed them up).
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, *, collate_fn=None, drop_last=False, generator=None,
                 num_workers=0, pin_memory=False):
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        positive_int = isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size > 0
        if batch_size is not None and not positive_int:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.collate_fn = collate_fn or (default_collate if batch_size is not None else default_convert)
        self.drop_last = drop_last
        self.generator = generator
        self.num_workers = num_workers
        self.pin_memory = pin_memory

    def __len__(self):
        """Batches per epoch: ``N // batch_size`` with ``drop_last``, else ``ceil(N / batch_size)``."""
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        order = self._sample_order()
        if self.batch_size is None:
            for index in order.tolist():
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self._batch_indices(order):
            if self.collate_fn is default_collate:
                yield fetch_batch(self.dataset, indices)
            else:
                yield collate_samples(self.dataset, indices, self.collate_fn)

    def _sample_order(self):
        """This epoch's order of the sample indices: a 1-D int64 array holding each of 0 .. N-1 once."""
        n = len(self.dataset)
        return randperm(n, generator=self.generator).numpy() if self.shuffle else np.arange(n, dtype=np.int64)

    def _batch_indices(self, order):
        """``order`` cut into consecutive slices of ``batch_size`` (the last one shorter, or dropped)."""
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start : start + self.batch_size]
