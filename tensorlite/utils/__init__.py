"""Utilities: checkpoint serialization (``save``/``load``, npz without pickle)."""
from .serialization import load, save  # noqa: F401
