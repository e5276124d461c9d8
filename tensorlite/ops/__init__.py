"""Differentiable ops: one ``Op`` per op, its forward array math through the backend of the inputs' device, its
backward tensor ops; each op module registers the Tensor methods and ``tl.`` functions it provides."""
from . import activation, elementwise, linalg, loss, reduction, shape  # noqa: F401
