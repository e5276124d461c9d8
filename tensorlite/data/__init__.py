"""Data loading with ``torch.utils.data``'s names: datasets, batching, transforms, MNIST.

``Dataset`` / ``TensorDataset`` / ``Subset`` / ``random_split`` describe samples; ``DataLoader`` batches
and shuffles them (``default_collate`` stacks a list of samples); ``transforms`` prepares images;
``datasets`` holds MNIST and FashionMNIST, read from IDX files (``idx``) fetched and verified by ``download``.
"""
from . import datasets, transforms  # noqa: F401
from .collate import default_collate, default_convert  # noqa: F401
from .dataloader import DataLoader  # noqa: F401
from .dataset import Dataset, Subset, TensorDataset, random_split  # noqa: F401
