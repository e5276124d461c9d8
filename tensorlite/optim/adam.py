"""Adam and AdamW: one moment update, two ways of decaying the weights."""
from ..ops.elementwise import maximum
from ..tensor import zeros_like
from .optimizer import Optimizer, _check_non_negative


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``, with torch's update rule.

    For a parameter θ with gradient g at step t = 1, 2, ... (γ = lr, β1, β2 = betas, ε = eps,
    λ = weight_decay)::

        g ← -g                                   if maximize
        g ← g + λ θ                              if λ ≠ 0 (an L2 penalty; AdamW decays θ instead)
        m ← β1 m + (1 - β1) g                    first moment,  m = 0 before step 1
        v ← β2 v + (1 - β2) g²                   second moment, v = 0 before step 1
        v ← v_max ← max(v_max, v)                if amsgrad (the largest second moment so far)
        θ ← θ - γ / (1 - β1ᵗ) · m / (√v / √(1 - β2ᵗ) + ε)

    The factors 1 - βᵗ undo the bias of starting the averages at zero. The state of a parameter is
    ``step``, ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with amsgrad, ``max_exp_avg_sq`` (v_max).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *, maximize=False):
        _check_non_negative(lr=lr, eps=eps)
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _check_non_negative(weight_decay=weight_decay)
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def _update(self, param, grad, state, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if not state:
            state.update(step=0, exp_avg=zeros_like(param), exp_avg_sq=zeros_like(param))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = zeros_like(param)
        state["step"] += 1
        step = state["step"]
        state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * grad
        state["exp_avg_sq"] = second_moment = beta2 * state["exp_avg_sq"] + (1 - beta2) * grad * grad
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = second_moment = maximum(state["max_exp_avg_sq"], second_moment)
        step_size = lr / (1 - beta1**step)
        denominator = second_moment.sqrt() / (1 - beta2**step) ** 0.5 + eps
        param.sub_(step_size * state["exp_avg"] / denominator)


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``.

    The update is Adam's, except that the weights decay directly instead of through the gradient::

        θ ← θ (1 - γ λ)                          before the Adam step; g is left as it is

    so the decay is not rescaled by the adaptive denominator. The default ``weight_decay`` is 1e-2.
    """

    def __init__(
        self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)

    def _decay_weights(self, param, grad, group):
        """AdamW's decoupled decay: shrink θ by the factor 1 - γ λ; the gradient is returned unchanged."""
        if group["weight_decay"] != 0:
            param.mul_(1 - group["lr"] * group["weight_decay"])
        return grad
