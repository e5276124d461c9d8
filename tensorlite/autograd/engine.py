"""The backward pass: walk the recorded graph once, in reverse topological order, without recursion."""
from .function import FREED_GRAPH_ERROR
from .grad_mode import no_grad


def topological_order(root):
    """Nodes reachable from ``root``, each after every node that consumes its outputs (iterative DFS)."""
    order, visited, stack = [], {root}, [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for inp in node.inputs:
            parent = inp.grad_fn if inp is not None else None
            if parent is not None and parent not in visited:
                visited.add(parent)
                stack.append((parent, False))
    return order[::-1]


def sum_to_shape(grad, shape):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched from size 1."""
    if grad.shape == shape:
        return grad
    lead = grad.dim() - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(dim=axes, keepdim=True)
    return grad.reshape(shape)


def _accumulate(tensor, grad):
    if tensor.grad is None:
        tensor.grad = grad.detach().clone()
    else:
        tensor.grad = tensor.grad + grad


def backward(root, gradient, retain_graph=False):
    """Propagate ``gradient`` (d out / d root) to every leaf that requires grad; accumulate in ``.grad``."""
    if root.grad_fn is None:
        _accumulate(root, gradient)
        return
    pending = {root.grad_fn: [None] * root.grad_fn.num_outputs}
    pending[root.grad_fn][root._output_nr] = gradient
    with no_grad():
        for node in topological_order(root.grad_fn):
            grads_out = pending.pop(node, None)
            if grads_out is None:
                continue
            if node.ctx._released:
                raise RuntimeError(FREED_GRAPH_ERROR)
            grads_in = node.function.backward(node.ctx, *grads_out)
            if not isinstance(grads_in, tuple):
                grads_in = (grads_in,)
            for inp, grad in zip(node.inputs, grads_in):  # missing trailing gradients count as None
                if inp is None or grad is None or not inp.requires_grad:
                    continue
                grad = sum_to_shape(grad, inp.shape)
                if inp.grad_fn is None or inp._retains_grad:
                    _accumulate(inp, grad)
                if inp.grad_fn is not None:
                    slots = pending.setdefault(inp.grad_fn, [None] * inp.grad_fn.num_outputs)
                    prev = slots[inp._output_nr]
                    slots[inp._output_nr] = grad if prev is None else prev + grad
            if not retain_graph:
                node.ctx.release()
