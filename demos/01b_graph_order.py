# %% [markdown]
"""Lesson 1b: the order in which backward runs the graph.

A tensor used twice gets its gradient from two places, and the node that made it may run only once both have
arrived. In the diamond a = x * 2, b = a * 3, loss = (a + b).sum(), a feeds the add and b's multiplication, so
d loss / da = 1 + 3 and d loss / dx = 2 * 4 = 8. The residual block h + relu(h @ w) is the same shape: h feeds
the add and the matmul. The engine (tensorlite/autograd/engine.py) counts, for every node, how many edges
point at it and runs a node only when all of them have delivered: PyTorch's dependency counting.

A depth-first order that marks a node as seen when it is pushed (tensorlite's first engine did)
reaches a's node first through the short path from the add and can run it before b's node has sent its
share: x.grad comes out as 2 instead of 8. This demo prints the order the engine runs the nodes in (a hook on
each tensor fires just before the node that made it runs), the order the naive search gives and what running
in that order would compute, checks the engine's gradients against the hand-derived ones, and draws both
graphs to runs/demos/graph_order.png.
"""

# %%
from pathlib import Path

import numpy as np

import tensorlite as tl
from tensorlite.autograd.engine import sum_to_shape
from tensorlite.utils.viz import new_figure, save_figure

OUT = Path("runs/demos")


# %%
def diamond():
    x = tl.ones(3, requires_grad=True)
    a = x * 2
    b = a * 3
    s = a + b
    loss = s.sum()
    tensors = {"x": x, "a = x * 2": a, "b = a * 3": b, "a + b": s, "loss": loss}
    return loss, tensors


# %%
def residual_block():
    x = tl.tensor([[1.0, 2.0]], requires_grad=True)
    w1 = tl.tensor([[1.0, 0.5], [0.0, 1.0]], requires_grad=True)
    w = tl.tensor([[1.0, -2.0], [0.5, 0.5]], requires_grad=True)
    h = x @ w1  # the layer before the block
    z = h @ w
    r = z.relu()
    out = h + r  # h + f(h): h feeds the add and the matmul
    loss = out.sum()
    tensors = {"x": x, "w1": w1, "w": w, "h = x @ w1": h, "z = h @ w": z, "relu(z)": r, "h + relu(z)": out,
               "loss": loss}
    return loss, tensors


# %%
def walk(root):
    """Every node reachable from ``root`` through ``next_functions`` and every edge (consumer, input's node)."""
    nodes, edges, stack = [root], [], [root]
    while stack:
        node = stack.pop()
        for child, _ in node.next_functions:
            if child is None:
                continue
            edges.append((node, child))
            if child not in nodes:
                nodes.append(child)
                stack.append(child)
    return nodes, edges


# %%
def node_labels(nodes, tensors):
    """Each node, labelled with the tensor it made: a result's ``grad_fn``, or the ``AccumulateGrad`` node whose
    ``variable`` is the leaf."""
    label = {}
    for name, t in tensors.items():
        label[t.grad_fn or next(n for n in nodes if getattr(n, "variable", None) is t)] = name
    return label


# %%
def engine_order(loss, tensors):
    """Run backward with a hook on every tensor; a hook fires just before the node that made its tensor runs."""
    order = []
    for label, t in tensors.items():
        t.register_hook(lambda grad, label=label: order.append(label))
    loss.backward(retain_graph=True)  # keep the saved tensors for naive_backward
    return order


# %%
def naive_order(root):
    """The old engine's order: depth-first, a node marked seen when pushed, the finishing order reversed."""
    order, seen, stack = [], {root}, [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append((child, False))
    return order[::-1]


# %%
def naive_backward(loss):
    """Run each node once, in naive_order; a gradient that reaches a node after it ran is lost."""
    pending, leaf_grads = {loss.grad_fn: [tl.ones_like(loss)]}, {}
    with tl.no_grad():
        for node in naive_order(loss.grad_fn):
            grads = pending.pop(node, None)
            if node.name() == "AccumulateGrad":
                leaf_grads[id(node.variable)] = grads[0]
                continue
            for edge, grad, shape in zip(node.edges, node.apply(grads), node.input_shapes):
                if edge is not None and grad is not None:
                    child, nr = edge
                    slots = pending.setdefault(child, [None] * child.num_outputs)
                    grad = sum_to_shape(grad, shape)
                    slots[nr] = grad if slots[nr] is None else slots[nr] + grad
    return leaf_grads


# %%
def too_early(order, edges):
    """{node: the consumers that run after it}, for every node that runs before all its gradients arrived."""
    position = {node: i for i, node in enumerate(order)}
    early = {}
    for parent, child in edges:
        if position[parent] > position[child]:
            early.setdefault(child, []).append(parent)
    return early


# %%
def study(title, build, check, columns):
    """Run backward on the graph ``build`` makes, print both orders, ``check`` the gradients; return what the
    picture needs."""
    loss, tensors = build()
    nodes, edges = walk(loss.grad_fn)
    label = node_labels(nodes, tensors)
    node_of = {lab: node for node, lab in label.items()}
    ran = [node_of[lab] for lab in engine_order(loss, tensors)]
    naive = naive_order(loss.grad_fn)
    early = too_early(naive, edges)
    assert not too_early(ran, edges) and set(ran) == set(nodes) and early
    print(f"\n{title}\n run  naive  node            makes")
    for i, node in enumerate(ran, 1):
        late = " and ".join(label[consumer] for consumer in early.get(node, ()))
        note = f"   <- too early in the naive order: before {late}" if late else ""
        print(f"{i:4d}  {naive.index(node) + 1:5d}  {node.name():<15} {label[node]}{note}")
    result = check(tensors, naive_backward(loss))
    return dict(nodes=nodes, edges=edges, label=label, ran=ran, naive=naive, early=early, columns=columns,
                title=title, result=result)


# %%
def check_diamond(tensors, naive_grads):
    x = tensors["x"]
    # by hand: d loss/da = 1 (the add) + 3 (through b), d a/dx = 2
    print(f"x.grad = {x.grad.tolist()}   by hand: 2 * (1 + 3) = 8")
    print(f"the naive order gives x.grad = {naive_grads[id(x)].tolist()}: b's gradient reaches a's node after it ran")
    assert x.grad.tolist() == [8.0, 8.0, 8.0]
    assert naive_grads[id(x)].tolist() == [2.0, 2.0, 2.0]
    return "x.grad = 8 per element, as by hand; in the naive order 2"


# %%
def check_residual(tensors, naive_grads):
    x, w1, w = (tensors[k].detach().numpy() for k in ("x", "w1", "w"))
    h = x @ w1
    active = (h @ w > 0).astype(np.float32)  # where relu passes the gradient
    grad_h = 1 + active @ w.T  # the skip path plus the path through relu(h @ w)
    by_hand = {"x": grad_h @ w1.T, "w1": x.T @ grad_h, "w": h.T @ active}
    for name, expected in by_hand.items():
        np.testing.assert_allclose(tensors[name].grad.numpy(), expected, rtol=1e-6)
    print(f"x.grad = {tensors['x'].grad.tolist()}   by hand: (1 + (h @ w > 0) @ w.T) @ w1.T = {by_hand['x'].tolist()}")
    naive_x = naive_grads[id(tensors["x"])]
    print(f"the naive order gives x.grad = {naive_x.tolist()}: only the skip path reached h's node in time")
    np.testing.assert_allclose(naive_x.numpy(), np.ones_like(grad_h) @ w1.T)
    return f"x.grad = {tensors['x'].grad.tolist()[0]}, as by hand; in the naive order {naive_x.tolist()[0]}"


# %%
# --------------------------------------------------------------------- the picture
BLUE, GREY, RED = "#1f5fa8", "#7a7a7a", "#c62828"
DIAMOND_COLUMNS = {"b = a * 3": 1}  # where a node sits across (0 by default): b's node beside the chain
RESIDUAL_COLUMNS = {"relu(z)": 1, "z = h @ w": 1, "w": 2, "x": -0.7, "w1": 0.7}  # the skip edge goes straight down


# %%
def draw(ax, graph):
    """Nodes top (the loss) to bottom (the leaves), one row per longest distance from the loss."""
    ran, naive, early, label = graph["ran"], graph["naive"], graph["early"], graph["label"]
    row = {ran[0]: 0}
    for node in ran:  # consumers run first, so each node's row is settled before its inputs are placed
        for parent, child in graph["edges"]:
            if parent is node:
                row[child] = max(row.get(child, 0), row[node] + 1)
    at = {node: (graph["columns"].get(label[node], 0) * 3.1, -row[node] * 1.2) for node in graph["nodes"]}
    width, height = 2.5, 0.72
    for parent, child in dict.fromkeys(graph["edges"]):  # a node used twice by one consumer: one arrow
        (x0, y0), (x1, y1) = at[parent], at[child]
        ax.annotate("", xy=(x1, y1 + height / 2), xytext=(x0, y0 - height / 2),
                    arrowprops=dict(arrowstyle="-|>", color="#555555", lw=1.3, shrinkA=2, shrinkB=2, mutation_scale=14))
    for node, (x, y) in at.items():
        bad = node in early
        ax.add_patch(_box(x - width / 2, y - height / 2, width, height, RED if bad else "#333333", bad))
        ax.text(x, y + 0.12, node.name(), ha="center", va="center", fontsize=10, weight="bold", family="monospace")
        ax.text(x, y - 0.16, label[node], ha="center", va="center", fontsize=9, color="#444444", family="monospace")
        ax.text(x - width / 2 - 0.12, y, str(ran.index(node) + 1), ha="right", va="center", fontsize=13,
                weight="bold", color="white", bbox=dict(boxstyle="circle,pad=0.25", fc=BLUE, ec="none"))
        ax.text(x + width / 2 + 0.12, y, f"naive {naive.index(node) + 1}", ha="left", va="center", fontsize=9.5,
                color=RED if bad else GREY, weight="bold" if bad else "normal")
    xs, ys = zip(*at.values())
    ax.set_xlim(min(xs) - 2.0, max(xs) + 2.5)
    ax.set_ylim(min(ys) - 0.6, 0.6)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(graph["title"] + "\n" + graph["result"], fontsize=10.5, family="monospace")


# %%
def _box(x, y, width, height, edge, bad):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02,rounding_size=0.12", lw=2.2 if bad else 1.2,
                          ec=edge, fc="#fdecea" if bad else "#f4f7fb", zorder=2)


# %%
def save_picture(graphs, path):
    fig = new_figure(figsize=(14, 5.9))
    if fig is None:
        return
    for ax, graph in zip(fig.subplots(1, len(graphs), gridspec_kw=dict(width_ratios=[1, 1.5])), graphs):
        draw(ax, graph)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.1, wspace=0.05)
    fig.text(0.5, 0.02, "arrows: where each node sends gradients (grad_fn.next_functions)    "
             "blue: the order the engine runs the nodes in    grey: a naive depth-first order\n"
             "red: a node the naive order runs before one of its consumers has sent its gradient, which is then lost",
             ha="center", va="center", fontsize=10, color="#333333")
    save_figure(fig, path, "graph order picture")


# %%
def main():
    graphs = [
        study("diamond: a = x * 2; b = a * 3; loss = (a + b).sum()", diamond, check_diamond, DIAMOND_COLUMNS),
        study("residual block: h = x @ w1; loss = (h + relu(h @ w)).sum()", residual_block, check_residual,
              RESIDUAL_COLUMNS),
    ]
    save_picture(graphs, OUT / "graph_order.png")


# %%
if __name__ == "__main__":
    main()
