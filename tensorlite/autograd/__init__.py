"""Reverse-mode automatic differentiation: ``Function`` records ops, ``backward`` replays them in reverse."""
from .function import Function  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import GradcheckError, gradcheck  # noqa: F401
