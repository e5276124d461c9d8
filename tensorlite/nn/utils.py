"""Gradient clipping, as ``torch.nn.utils``: rescale or clamp the ``.grad`` of parameters in place, between
``loss.backward()`` and ``optimizer.step()``."""
import math

from ..autograd.grad_mode import no_grad
from ..ops.shape import stack
from ..tensor import Tensor, tensor


def _gradients(parameters):
    """The ``.grad`` of a tensor or of an iterable of tensors, those that have one."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def _norm(x, norm_type):
    """The ``norm_type``-norm of all of ``x``'s elements: max |x| for inf, (sum |x|^p)^(1/p) otherwise."""
    if norm_type == math.inf:
        return x.abs().max()
    if norm_type == 2.0:
        return (x * x).sum().sqrt()
    return (x.abs() ** norm_type).sum() ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients so that their total norm is at most ``max_norm``:

        total = ||(||g_1||, ..., ||g_k||)||      (the norm of all gradients' elements taken together)
        g_i <- g_i * min(1, max_norm / (total + 1e-6))

    Returns ``total`` (a 0-d tensor; 0 when no parameter has a gradient). A non-finite total raises with
    ``error_if_nonfinite``, else scales the gradients by it (to NaN), as torch does. ``foreach`` is accepted
    for torch's signature."""
    grads = _gradients(parameters)
    norm_type = float(norm_type)
    if not grads:
        return tensor(0.0)
    with no_grad():
        total = _norm(stack([_norm(g.detach(), norm_type) for g in grads]), norm_type)
        if error_if_nonfinite and not math.isfinite(total.item()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot "
                "be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
                "`error_if_nonfinite=False`"
            )
        scale = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for g in grads:
            g.mul_(scale.to(g.dtype))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    with no_grad():
        for g in _gradients(parameters):
            g.clamp_(-clip_value, clip_value)
