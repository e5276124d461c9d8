"""Utilities: checkpoint serialization (``save``/``load``, npz without pickle), ``summary`` of a model and
``profile``, its time per layer, and ``draw_graph``, a picture of the autograd graph behind a tensor."""
from . import data  # noqa: F401  (torch.utils.data's path to tensorlite.data)
from .graph import draw_graph  # noqa: F401
from .profile import Profile, profile  # noqa: F401
from .serialization import load, save  # noqa: F401
from .summary import summary  # noqa: F401
