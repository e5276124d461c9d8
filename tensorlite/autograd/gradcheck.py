"""Check autograd against finite differences: J_num[i, j] = (f(x + eps e_j)_i - f(x - eps e_j)_i) / (2 eps)."""
import warnings

import numpy as np

from .engine import grad


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when the analytical and numerical Jacobians differ."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _numerical_jacobian(fn, inputs, k, output_index, eps):
    """Column j is the central difference of the output's flattened values w.r.t. element j of input k."""
    from ..tensor import tensor

    x = inputs[k]
    base = x.detach().cpu().numpy().astype(np.float64)
    columns = []
    for j in range(base.size):
        values = []
        for step in (eps, -eps):
            moved = base.copy()
            moved.reshape(-1)[j] += step
            args = list(inputs)
            args[k] = tensor(moved, dtype=x.dtype, device=x.device, requires_grad=x.requires_grad)
            values.append(_as_tuple(fn(*args))[output_index].detach().cpu().numpy().astype(np.float64).ravel())
        columns.append((values[0] - values[1]) / (2 * eps))
    return np.stack(columns, axis=1)


def _analytical_jacobian(output, x):
    """Row i is d output_i / d x, from one backward pass with a one-hot gradient."""
    from ..tensor import zeros_like

    rows = []
    for i in range(output.numel()):
        one_hot = zeros_like(output)
        one_hot.reshape(-1)[i] = 1
        x.grad = None
        output.backward(one_hot, retain_graph=True)
        grad = x.grad if x.grad is not None else zeros_like(x)
        rows.append(grad.detach().cpu().numpy().astype(np.float64).ravel())
    return np.stack(rows) if rows else np.zeros((0, x.numel()))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when every input's analytical Jacobian matches finite differences within ``atol + rtol * |J_num|``."""
    from ..tensor import Tensor

    inputs = _as_tuple(inputs) if not isinstance(inputs, list) else tuple(inputs)
    checked = [k for k, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    for k in checked:
        if inputs[k].dtype.name != "float64":
            warnings.warn(f"Input #{k} requires gradient and is not a double precision floating point.")
    outputs = _as_tuple(fn(*inputs))
    saved = {k: inputs[k].grad for k in checked}
    try:
        for o, output in enumerate(outputs):
            if not isinstance(output, Tensor) or not output.requires_grad:
                continue
            for k in checked:
                analytical = _analytical_jacobian(output, inputs[k])
                numerical = _numerical_jacobian(fn, inputs, k, o, eps)
                if not np.allclose(analytical, numerical, atol=atol, rtol=rtol):
                    if not raise_exception:
                        return False
                    worst = np.unravel_index(np.argmax(np.abs(analytical - numerical)), analytical.shape)
                    raise GradcheckError(
                        f"Jacobian mismatch for output {o} with respect to input {k}: at (output element, input "
                        f"element) {tuple(int(i) for i in worst)} numerical {numerical[worst]:.6g} vs analytical "
                        f"{analytical[worst]:.6g}\nnumerical:{numerical}\nanalytical:{analytical}"
                    )
    finally:
        for k in checked:
            inputs[k].grad = saved[k]
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """``gradcheck`` of the first derivative: the gradients of ``fn``'s outputs (weighted by ``grad_outputs``,
    random when not given) with respect to the inputs, computed with ``create_graph=True``, are checked against
    finite differences in both the inputs and ``grad_outputs``."""
    from ..random import randn
    from ..tensor import Tensor, zeros_like

    inputs = _as_tuple(inputs) if not isinstance(inputs, list) else tuple(inputs)
    outputs = [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o.requires_grad]
    if grad_outputs is None:
        grad_outputs = tuple(
            randn(o.shape, dtype=o.dtype, device=o.device, requires_grad=True) for o in outputs
        )
    grad_outputs = _as_tuple(grad_outputs) if not isinstance(grad_outputs, list) else tuple(grad_outputs)
    count = len(inputs)

    def first_derivative(*args):
        xs, weights = args[:count], args[count:]
        outs = [o for o in _as_tuple(fn(*xs)) if isinstance(o, Tensor) and o.requires_grad]
        wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
        grads = grad(outs, wrt, list(weights), create_graph=True, allow_unused=True)
        return tuple(zeros_like(x) if g is None else g for g, x in zip(grads, wrt))

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
