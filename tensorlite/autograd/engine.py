"""The backward pass: run each recorded node once, after every consumer of its outputs has delivered its gradient.

A node's gradient is the sum of what every node that used its outputs sends back. Running the nodes in a
plain depth-first order can run a node before all of those sums are complete (``a = x*2; (a + a*3)``: the
``a*3`` path arrives after ``a``'s node already ran), so the engine first counts, for every node reachable
from the roots, how many edges point at it, and runs a node only when that count has dropped to zero:
PyTorch's dependency counting. Everything is iterative, so a 10,000-op chain needs no recursion.
"""
from .function import gradient_edge
from .grad_mode import set_grad_enabled


def sum_to_shape(grad, shape):
    """Undo broadcasting: sum ``grad`` over the axes that broadcasting added or stretched from size 1."""
    if grad.shape == shape:
        return grad
    lead = grad.dim() - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(dim=axes, keepdim=True)
    return grad.reshape(shape)


def _graph(roots):
    """Every node reachable from ``roots`` in post-order (each after all the nodes it points at), and each node's
    children: an iterative depth-first search."""
    order, children = [], {}
    for root in roots:
        if root in children:
            continue
        children[root] = [edge[0] for edge in root.edges if edge is not None]
        stack = [(root, iter(children[root]))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child not in children:
                    children[child] = [edge[0] for edge in child.edges if edge is not None]
                    stack.append((child, iter(children[child])))
                    break
            else:
                stack.pop()
                order.append(node)
    return order, children


def _needed_nodes(order, children, targets):
    """The nodes from which some target can be reached (all of them when ``targets`` is None)."""
    if targets is None:
        return children.keys()
    needed = set()
    for node in order:  # children come first, so each child is settled before its parents
        if node in targets or any(child in needed for child in children[node]):
            needed.add(node)
    return needed


def _run_pre_hooks(node, grads):
    """Tensor hooks may replace the gradient; ``retain_grad`` tensors then take a copy of it."""
    for nr, hooks in node.pre_hooks.items():
        for hook in list(hooks.values()):
            if grads[nr] is not None:
                replaced = hook(grads[nr])
                grads[nr] = grads[nr] if replaced is None else replaced
    for nr, ref in node.retained.items():
        tensor = ref()
        if tensor is not None and grads[nr] is not None:
            grad = grads[nr] if grads[nr].requires_grad else grads[nr].detach().clone()
            tensor.grad = grad if tensor.grad is None else tensor.grad + grad
    return grads


def execute(root_edges, root_grads, retain_graph, create_graph, capture=None):
    """Propagate ``root_grads`` (one per root edge) through the graph.

    Without ``capture`` every reachable leaf accumulates its gradient into ``.grad``. With ``capture`` (a list of
    edges), only the nodes leading to those edges run, nothing is accumulated, and the gradients arriving at
    each captured edge are returned in the same order (``None`` where none arrived).
    """
    targets = None if capture is None else {edge[0] for edge in capture if edge is not None}
    roots = list(dict.fromkeys(node for node, _ in root_edges))
    order, children = _graph(roots)
    needed = _needed_nodes(order, children, targets)
    dependencies = dict.fromkeys(needed, 0)
    for node in needed:
        for child in children[node]:
            if child in needed:
                dependencies[child] += 1
    buffers = {}
    for (node, nr), grad in zip(root_edges, root_grads):
        _add_to_buffer(buffers, node, nr, grad)
    captured = {}
    ready = [node for node in roots if node in needed and dependencies[node] == 0]
    with set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            grads = _run_pre_hooks(node, buffers.pop(node, None) or [None] * node.num_outputs)
            if targets is not None and node in targets:
                for nr, grad in enumerate(grads):
                    captured[node, nr] = grad
                if not any(child in needed for child in children[node]):
                    continue  # nothing below is asked for
            grads_in = ()
            if any(g is not None for g in grads):
                if _leads_on(node):
                    grads_in = node.apply(grads)
                else:
                    node.unpack_saved()
            for edge, grad, shape in zip(node.edges, grads_in + (None,) * len(node.edges), node.input_shapes):
                if edge is None or edge[0] not in needed:
                    continue
                child, nr = edge
                if grad is not None:
                    _add_to_buffer(buffers, child, nr, sum_to_shape(grad, shape))
                dependencies[child] -= 1
                if dependencies[child] == 0:
                    ready.append(child)
            if not retain_graph:
                node.release()
    return None if capture is None else [captured.get(edge) for edge in capture]


def _leads_on(node):
    """Whether running ``node`` gives a gradient anything takes: a leaf's accumulator, or an op with an edge (an op
    whose inputs are all out of the graph, views made under no_grad, computes nothing; torch still unpacks its saved
    tensors, and so do we)."""
    return not node.edges or any(edge is not None for edge in node.edges)


def _add_to_buffer(buffers, node, nr, grad):
    slots = buffers.setdefault(node, [None] * node.num_outputs)
    slots[nr] = grad if slots[nr] is None else slots[nr] + grad


def _make_grads(outputs, grad_outputs):
    """One gradient per output: ``ones`` for a scalar when none is given, else the given one, shape-checked."""
    from ..tensor import Tensor, ones_like, tensor

    grads = []
    for i, (out, grad) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad or gradient_edge(out) is None:  # a view made under no_grad: out of the graph
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        if grad is None:
            if out.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (got a tensor of shape "
                    f"{list(out.shape)}); pass gradient= with the same shape as the output"
                )
            grad = ones_like(out)
        elif not isinstance(grad, Tensor):
            grad = tensor(grad, dtype=out.dtype, device=out.device)
        if grad.shape != out.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {grad.shape} and output[{i}] has a shape of "
                f"{out.shape}."
            )
        grads.append(grad)
    return grads


def _as_list(tensors):
    from ..tensor import Tensor

    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Add d(sum of ``tensors``)/d leaf to every leaf's ``.grad`` (only to ``inputs``' when given)."""
    tensors = _as_list(tensors)
    grad_tensors = [None] * len(tensors) if grad_tensors is None else _as_list(grad_tensors)
    grads = _make_grads(tensors, grad_tensors)
    retain_graph = create_graph if retain_graph is None else retain_graph
    edges = [gradient_edge(t) for t in tensors]
    if inputs is None:
        execute(edges, grads, retain_graph, create_graph)
        return
    inputs = _as_list(inputs)
    for t, grad in zip(inputs, execute(edges, grads, retain_graph, create_graph, [gradient_edge(t) for t in inputs])):
        if grad is not None:
            grad = grad if create_graph else grad.detach().clone()
            t.grad = grad if t.grad is None else t.grad + grad


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """d(sum of ``outputs`` weighted by ``grad_outputs``) / d each of ``inputs``, returned as a tuple; ``.grad``
    is left alone. ``create_graph=True`` records the backward pass, so the result can be differentiated again."""
    from ..tensor import zeros_like

    outputs, inputs = _as_list(outputs), _as_list(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(grad_outputs)} for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (input {i}) does not require grad")
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    if materialize_grads and not allow_unused:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True")
    grads = _make_grads(outputs, grad_outputs)
    retain_graph = create_graph if retain_graph is None else retain_graph
    result = execute([gradient_edge(t) for t in outputs], grads, retain_graph, create_graph,
                     [gradient_edge(t) for t in inputs])
    for i, g in enumerate(result):
        if g is None and not allow_unused:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {i}) appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior."
            )
        if g is None and materialize_grads:
            result[i] = zeros_like(inputs[i])
    return tuple(result)
