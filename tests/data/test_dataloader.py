"""DataLoader, datasets and collation: every sample once per epoch, seeds, partial batches, torch's rules."""
import collections

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def numbered(n):
    """A TensorDataset whose sample i is (float row [i, i], label i)."""
    x = tl.arange(n, dtype=tl.float32).reshape(n, 1).repeat(1, 2)
    return TensorDataset(x, tl.arange(n))


class ListDataset(Dataset):
    """A plain dataset: no get_batch, so the loader collates sample by sample."""

    def __init__(self, samples):
        self.samples = samples

    def __getitem__(self, index):
        return self.samples[index]

    def __len__(self):
        return len(self.samples)


def epoch_labels(loader):
    return np.concatenate([y.numpy() for _, y in loader])


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("dataset", [numbered(10), ListDataset([(tl.tensor([float(i)] * 2), i) for i in range(10)])])
def test_every_sample_once_per_epoch_with_a_last_partial_batch(shuffle, dataset):
    loader = DataLoader(dataset, batch_size=4, shuffle=shuffle)
    batches = list(loader)
    assert len(loader) == 3 and [len(y) for _, y in batches] == [4, 4, 2]
    labels = epoch_labels(batches)
    assert sorted(labels.tolist()) == list(range(10))
    assert (labels.tolist() == list(range(10))) != shuffle
    for x, y in batches:
        assert x.shape == (len(y), 2) and x.dtype == tl.float32 and y.dtype == tl.int64
        np.testing.assert_array_equal(x.numpy()[:, 0], y.numpy())


def test_drop_last():
    loader = DataLoader(numbered(10), batch_size=4, shuffle=True, drop_last=True)
    assert len(loader) == 2
    labels = epoch_labels(loader)
    assert len(labels) == 8 and len(set(labels.tolist())) == 8
    assert len(DataLoader(numbered(8), batch_size=4, drop_last=True)) == 2


def test_shuffle_is_reproducible_with_a_generator_and_with_manual_seed():
    def two_epochs(loader):
        return [epoch_labels(loader).tolist() for _ in range(2)]

    first = two_epochs(DataLoader(numbered(20), batch_size=3, shuffle=True, generator=tl.Generator().manual_seed(0)))
    again = two_epochs(DataLoader(numbered(20), batch_size=3, shuffle=True, generator=tl.Generator().manual_seed(0)))
    other = two_epochs(DataLoader(numbered(20), batch_size=3, shuffle=True, generator=tl.Generator().manual_seed(1)))
    assert first == again and first != other and first[0] != first[1]
    tl.manual_seed(5)
    a = two_epochs(DataLoader(numbered(20), batch_size=3, shuffle=True))
    tl.manual_seed(5)
    assert two_epochs(DataLoader(numbered(20), batch_size=3, shuffle=True)) == a


def test_batch_size_one_and_none():
    dataset = numbered(3)
    x, y = next(iter(DataLoader(dataset)))
    assert x.shape == (1, 2) and y.tolist() == [0]
    samples = list(DataLoader(dataset, batch_size=None))
    assert len(DataLoader(dataset, batch_size=None)) == 3
    assert [tuple(x.shape) for x, _ in samples] == [(2,)] * 3 and [y.item() for _, y in samples] == [0, 1, 2]
    arrays = list(DataLoader(ListDataset([(np.ones(2, np.float32), 1)]), batch_size=None))
    assert isinstance(arrays[0][0], tl.Tensor) and arrays[0][1] == 1


def test_custom_collate_fn_receives_the_list_of_samples():
    seen = []
    loader = DataLoader(numbered(5), batch_size=2, collate_fn=lambda samples: seen.append(samples) or len(samples))
    assert list(loader) == [2, 2, 1]
    assert isinstance(seen[0], list) and len(seen[0][0]) == 2 and seen[0][1][1].item() == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="mutually exclusive with drop_last"):
        DataLoader(numbered(3), batch_size=None, drop_last=True)
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match=f"positive integer value, but got batch_size={bad}"):
            DataLoader(numbered(3), batch_size=bad)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(numbered(3), num_workers=-1)
    assert len(list(DataLoader(numbered(3), num_workers=2, pin_memory=True))) == 3


def test_tensor_dataset():
    x, y = tl.randn(5, 3), tl.arange(5)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 5
    xi, yi = dataset[2]
    np.testing.assert_array_equal(xi.numpy(), x.numpy()[2])
    assert yi.item() == 2
    with pytest.raises(ValueError, match=r"Size mismatch between tensors: their first dimensions are \[5, 4\]"):
        TensorDataset(x, tl.arange(4))


def test_subset_and_random_split():
    dataset = numbered(10)
    subset = Subset(dataset, [7, 3, 5])
    assert len(subset) == 3 and subset[1][1].item() == 3
    assert [s[1].item() for s in subset[[0, 2]]] == [7, 5]
    assert next(iter(DataLoader(subset, batch_size=3)))[1].tolist() == [7, 3, 5]
    parts = random_split(dataset, [6, 4], generator=tl.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [6, 4]
    assert sorted(np.concatenate([p.indices for p in parts]).tolist()) == list(range(10))
    again = random_split(dataset, [6, 4], generator=tl.Generator().manual_seed(0))
    assert [p.indices.tolist() for p in parts] == [p.indices.tolist() for p in again]
    assert [len(p) for p in random_split(dataset, [0.5, 0.3, 0.2])] == [5, 3, 2]
    assert [len(p) for p in random_split(numbered(11), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        random_split(dataset, [5, 4])


def test_default_collate_follows_torch_rules():
    Point = collections.namedtuple("Point", "x y")
    batch = default_collate([
        {"image": np.zeros((2, 2), np.uint8), "label": 1, "weight": 0.5, "name": "a", "point": Point(1, 2.0)},
        {"image": np.ones((2, 2), np.uint8), "label": 2, "weight": 1.5, "name": "b", "point": Point(3, 4.0)},
    ])
    assert batch["image"].shape == (2, 2, 2) and batch["image"].dtype == tl.uint8
    assert batch["label"].dtype == tl.int64 and batch["label"].tolist() == [1, 2]
    assert batch["weight"].dtype == tl.float64 and batch["name"] == ["a", "b"]
    assert isinstance(batch["point"], Point) and batch["point"].y.tolist() == [2.0, 4.0]
    pairs = default_collate([(tl.ones(3), True), (tl.zeros(3), False)])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 3) and pairs[1].dtype == tl.bool
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object()])


def test_default_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    samples = [(np.full((2, 3), i, np.float32), i, float(i)) for i in range(4)]
    ours, theirs = default_collate(samples), torch_collate(samples)
    assert type(ours) is type(theirs) and len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape) and a.dtype.name == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_tl_utils_data_is_torch_utils_data_path():
    from tensorlite.utils.data import DataLoader as Loader

    assert Loader is DataLoader and tl.utils.data.TensorDataset is TensorDataset
