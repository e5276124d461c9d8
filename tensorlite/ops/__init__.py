"""Differentiable ops: one ``Function`` per op, device-agnostic, computing through ``backend_for(device)``."""
from . import activation, elementwise, linalg, reduction, shape  # noqa: F401
