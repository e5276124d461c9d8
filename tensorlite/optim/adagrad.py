"""Adagrad: each coordinate's step shrinks with the sum of its squared gradients."""
from ..tensor import full_like
from .optimizer import Optimizer, _check_non_negative


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan & Singer, 2011), as ``torch.optim.Adagrad``, with torch's update rule.

    For a parameter θ with gradient g at step t = 1, 2, ... (γ = lr, η = lr_decay, λ = weight_decay,
    ε = eps, s₀ = initial_accumulator_value)::

        g ← -g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        γ̃ ← γ / (1 + (t - 1) η)                  the decayed learning rate
        s ← s + g²                               s = s₀ before step 1
        θ ← θ - γ̃ g / (√s + ε)

    The state of a parameter is ``step`` and ``sum`` (s). As in torch it exists from construction on (``step`` 0,
    ``sum`` filled with s₀), so ``state_dict()`` lists every parameter before the first step. A group added
    later with ``add_param_group`` gets its state too, from its own ``initial_accumulator_value``.
    """

    def __init__(
        self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *, maximize=False
    ):
        _check_non_negative(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, maximize=maximize,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        """Add a group (see ``Optimizer.add_param_group``) and start its parameters' state: step 0, sum s₀."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for param in group["params"]:
            self.state[param] = {"step": 0, "sum": full_like(param, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        state["step"] += 1
        decayed_lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        squares = state["sum"].add_(grad * grad)
        param.add_(grad / squares.sqrt().add_(group["eps"]), alpha=-decayed_lr)
