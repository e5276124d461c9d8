"""Utilities: checkpoint serialization (``save``/``load``, npz without pickle) and ``summary`` of a model."""
from . import data  # noqa: F401  (torch.utils.data's path to tensorlite.data)
from .serialization import load, save  # noqa: F401
from .summary import summary  # noqa: F401
