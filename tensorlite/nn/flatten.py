"""Reshaping layers: ``Flatten`` merges dimensions, ``Unflatten`` splits one."""
import math

from .module import Module


class Flatten(Module):
    """Merge dims ``start_dim .. end_dim``: ``(N, C, H, W)`` → ``(N, C*H*W)`` with the defaults (batch kept)."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``Unflatten(1, (C, H, W))`` turns ``(N, C*H*W)`` into ``(N, C, H, W)``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        size = input.shape[input._dim(self.dim)]
        if -1 not in self.unflattened_size and math.prod(self.unflattened_size) != size:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(self.unflattened_size)} don't multiply up to the size of dim "
                f"{self.dim} ({size}) in the input tensor"
            )
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
