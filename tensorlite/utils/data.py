"""``tensorlite.utils.data``: the path PyTorch code imports from (``from torch.utils.data import DataLoader``);
everything lives in ``tensorlite.data``."""
from ..data import DataLoader, Dataset, Subset, TensorDataset, default_collate, default_convert, random_split  # noqa: F401
