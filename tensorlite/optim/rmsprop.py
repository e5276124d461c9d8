"""RMSprop: divide the gradient by a running root mean square of recent gradients."""
from ..tensor import zeros_like
from .optimizer import Optimizer, _check_non_negative


class RMSprop(Optimizer):
    r"""RMSprop (Hinton's lecture notes; the centered form of Graves, 2013), as ``torch.optim.RMSprop``.

    For a parameter θ with gradient g (γ = lr, α = alpha, ε = eps, λ = weight_decay, μ = momentum)::

        g ← -g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0
        v ← α v + (1 - α) g²                     square average, v = 0 before step 1
        ṽ ← v
        if centered:
            ḡ ← α ḡ + (1 - α) g                  gradient average, ḡ = 0 before step 1
            ṽ ← v - ḡ²                           an estimate of the gradient's variance
        if μ > 0:
            b ← μ b + g / (√ṽ + ε)               b = 0 before step 1
            θ ← θ - γ b
        else:
            θ ← θ - γ g / (√ṽ + ε)

    ε is added after the square root (TensorFlow adds it before). The state of a parameter is ``step``,
    ``square_avg`` (v) and, with momentum, ``momentum_buffer`` (b) and, when centered, ``grad_avg`` (ḡ).
    """

    def __init__(
        self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *, maximize=False
    ):
        _check_non_negative(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state.update(step=0, square_avg=zeros_like(param))
            if momentum > 0:
                state["momentum_buffer"] = zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = zeros_like(param)
        state["step"] += 1
        square_avg = state["square_avg"].mul_(alpha).add_(grad * grad, alpha=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.add_(grad - grad_avg, alpha=1 - alpha)
            average = (square_avg - grad_avg * grad_avg).sqrt()
        else:
            average = square_avg.sqrt()
        step = grad / average.add_(group["eps"])
        if momentum > 0:
            step = state["momentum_buffer"].mul_(momentum).add_(step)
        param.add_(step, alpha=-group["lr"])
