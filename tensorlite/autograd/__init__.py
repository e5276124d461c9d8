"""Reverse-mode automatic differentiation: ``Function`` records ops, ``backward`` and ``grad`` replay them in reverse."""
from .engine import backward, grad  # noqa: F401
from .function import Function  # noqa: F401
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import GradcheckError, gradcheck, gradgradcheck  # noqa: F401
