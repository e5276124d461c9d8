"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""
from .optimizer import Optimizer


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``, with torch's update rule.

    For a parameter θ with gradient g (γ = lr, μ = momentum, τ = dampening, λ = weight_decay)::

        g ← -g                           if maximize
        g ← g + λ θ                      if λ ≠ 0
        if μ ≠ 0:
            b ← g                        at the first step (the buffer starts at the gradient)
            b ← μ b + (1 - τ) g          at later steps
            g ← g + μ b                  if nesterov, else g ← b
        θ ← θ - γ g

    The buffer b is ``state[param]['momentum_buffer']``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        momentum = group["momentum"]
        if momentum != 0:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = state["momentum_buffer"] = grad.detach().clone()
            else:
                buffer.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            grad = grad.add(buffer, alpha=momentum) if group["nesterov"] else buffer
        param.add_(grad, alpha=-group["lr"])
