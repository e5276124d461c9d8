"""``Dropout`` and ``Dropout2d``: randomly zero activations (or whole channels) while training, a regulariser
against co-adaptation."""
from . import functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        F._check_dropout_probability(p)
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability ``p`` and scale the others by 1 / (1 - p);
    in evaluation (``model.eval()``), the identity. Any shape."""

    def forward(self, input):
        return F.dropout(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """In training, zero whole channels of (N, C, H, W) or (C, H, W) with probability ``p`` and scale the others
    by 1 / (1 - p); in evaluation, the identity."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)
