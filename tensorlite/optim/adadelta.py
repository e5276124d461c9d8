"""Adadelta: a step size from the ratio of two running averages, of squared steps and of squared gradients."""
from ..tensor import zeros_like
from .optimizer import Optimizer, _check_non_negative


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``, with torch's update rule.

    For a parameter θ with gradient g (γ = lr, ρ = rho, ε = eps, λ = weight_decay)::

        g ← -g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        v ← ρ v + (1 - ρ) g²                     square average of the gradients, v = 0 before step 1
        Δ ← √(u + ε) / √(v + ε) · g              the step, in units of θ
        u ← ρ u + (1 - ρ) Δ²                     square average of the steps, u = 0 before step 1
        θ ← θ - γ Δ

    The state of a parameter is ``step``, ``square_avg`` (v) and ``acc_delta`` (u).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        _check_non_negative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_non_negative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state.update(step=0, square_avg=zeros_like(param), acc_delta=zeros_like(param))
        state["step"] += 1
        square_avg = state["square_avg"].mul_(rho).add_(grad * grad, alpha=1 - rho)
        delta = (state["acc_delta"] + eps).sqrt() / (square_avg + eps).sqrt() * grad
        state["acc_delta"].mul_(rho).add_(delta * delta, alpha=1 - rho)
        param.add_(delta, alpha=-group["lr"])
