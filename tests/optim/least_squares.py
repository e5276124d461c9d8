"""A small least-squares problem, built the same way in tensorlite and in torch, to compare optimisers.

    loss(W, b) = mean((x Wᵀ + b - y)²),   x (16, 4), y (16, 3), W (3, 4), b (3,)

The data and the starting parameters are fixed, so two runs with the same optimiser settings must end
at the same parameters whichever library ran them.
"""
import numpy as np

_rng = np.random.default_rng(0)
START = {"weight": _rng.standard_normal((3, 4)), "bias": _rng.standard_normal(3)}
X, Y = _rng.standard_normal((16, 4)), _rng.standard_normal((16, 3))


class LeastSquares:
    """The problem in ``lib`` (``tensorlite`` or ``torch``); ``params`` is ``[W, b]``, leaves that require grad."""

    def __init__(self, lib, dtype="float64", start=None):
        start = START if start is None else start
        self.x, self.y = lib.tensor(X.astype(dtype)), lib.tensor(Y.astype(dtype))
        self.params = [lib.tensor(start[name].astype(dtype), requires_grad=True) for name in ("weight", "bias")]

    def loss(self):
        weight, bias = self.params
        return ((self.x @ weight.T + bias - self.y) ** 2).mean()

    def train(self, optimizer, steps):
        """``steps`` rounds of zero_grad, backward, step."""
        for _ in range(steps):
            optimizer.zero_grad()
            self.loss().backward()
            optimizer.step()
        return self

    def arrays(self):
        """The parameters as NumPy arrays, by name (also a valid ``start`` for a new problem)."""
        return {name: p.detach().numpy().copy() for name, p in zip(("weight", "bias"), self.params)}


def max_abs_difference(a, b):
    """The largest |a - b| over the parameters of two problems."""
    arrays_a, arrays_b = a.arrays(), b.arrays()
    return max(float(np.abs(arrays_a[name] - arrays_b[name]).max()) for name in arrays_a)
