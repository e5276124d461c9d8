"""``Parameter``: a tensor that a ``Module`` registers as one of its learnable weights."""
from ..tensor import Tensor, empty


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and shares storage with ``data``.

    Assigning one to a module attribute (``self.weight = Parameter(...)``) registers it, so that
    ``module.parameters()`` yields it to an optimiser and ``state_dict()`` saves it.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            data = empty(0)
        super().__init__(data._array, data.device, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__
