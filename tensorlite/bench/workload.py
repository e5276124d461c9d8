"""One case made runnable in one library: its tensors, and the two calls the harness times.

tensorlite and torch share the torch API, so a workload is built from the library module alone: ``library.tensor``
creates the tensors, ``library.nn.functional`` holds the op. Both libraries get the same numbers (one seeded
generator per workload), the same ``requires_grad`` flags and the same upstream gradient.
"""
import numpy as np


def _initial_values(spec, rng):
    """The array a TensorSpec starts from: standard-normal values, or all ``spec.fill``."""
    if spec.fill is None:
        return rng.standard_normal(spec.shape, dtype=np.float32)
    return np.full(spec.shape, spec.fill, dtype=np.float32)


class Workload:
    """``case`` on ``device`` in ``library`` (the ``tensorlite`` or the ``torch`` module), float32 throughout."""

    def __init__(self, library, case, device, seed=0):
        rng = np.random.default_rng(seed)
        self.case = case
        self.functional = library.nn.functional
        self.input = library.tensor(
            rng.standard_normal(case.input_shape, dtype=np.float32), device=device, requires_grad=case.input_grad
        )
        self.tensors = {
            name: library.tensor(_initial_values(spec, rng), device=device, requires_grad=spec.requires_grad)
            for name, spec in case.tensors().items()
        }
        self.leaves = [t for t in (self.input, *self.tensors.values()) if t.requires_grad]
        out_shape = tuple(self.forward().shape)
        self.upstream = library.tensor(rng.standard_normal(out_shape, dtype=np.float32), device=device)

    def forward(self):
        """The forward pass as in training: grad mode is on, so the graph for backward is recorded."""
        return self.case(self.functional, self.input, **self.tensors)

    def forward_backward(self):
        """Forward, then backward from a fixed upstream gradient, as if a loss sat above this layer.

        The leaves' gradients are cleared first, so each run writes them afresh instead of adding to them.
        """
        for leaf in self.leaves:
            leaf.grad = None
        self.forward().backward(self.upstream)
