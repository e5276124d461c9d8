"""``draw_graph(tensor, path, params=None)``: the autograd graph behind a tensor, as an SVG or a PNG picture.

What torchviz's ``make_dot`` shows, without the graphviz program. Every ``grad_fn`` node is a box labelled with
its name (``AddmmBackward0``, the name torch gives the same node) and the shape of the tensor it made; every
leaf that gets a gradient (its ``AccumulateGrad`` node) is a blue box labelled with its name from ``params``
(``conv1.weight (10, 1, 5, 5)``) or, unnamed, with its shape alone; the tensor drawn is in green. Arrows run
from inputs to the output, the way the forward pass went (backward walks them in reverse). A node used twice
by one consumer (``a * a``) gets one arrow.

The picture is drawn in three steps, the classic layered (Sugiyama) layout, kept short:

1. **Ranks.** A node's rank is its longest distance from the output, found in the order the engine would run
   the nodes (a node once all its consumers are ranked: dependency counting). The output sits at the bottom,
   each rank one row higher, so every arrow points down. An arrow that spans several rows passes through an
   invisible waypoint on each row in between, so that it can bend around the boxes there.
2. **Order.** Each row is sorted by the barycentre (the mean position) of its neighbours in the row before,
   sweeping down and then up a few times: a node moves towards what it is connected to, which removes most
   crossings.
3. **Positions.** Each box wants to sit at the mean x of its neighbours; the boxes of a row are packed left to
   right at least a gap apart and the row is shifted to stay centred on what its boxes want.

The SVG is written as text and needs nothing; a path ending in ``.png`` draws the same layout with matplotlib.
"""
from html import escape
from pathlib import Path

from ..autograd.function import AccumulateGrad

MATPLOTLIB_NEEDED = "draw_graph needs matplotlib to write a PNG: pip install tensorlite[viz] (an .svg needs nothing)"

TITLE_FONT, DETAIL_FONT = 12, 11  # pixels; the text is monospace, a character is about 0.6 font sizes wide
ROW_HEIGHT, GAP, PAD = 72, 24, 10  # centre to centre of two rows; between two boxes of a row; around a label
COLOURS = {"op": "#eeeeee", "leaf": "#cfe2f3", "output": "#c9e7b6"}  # torchviz: grey, light blue, light green


def draw_graph(tensor, path, params=None):
    """Draw the autograd graph behind ``tensor`` (or a list or tuple of tensors, several roots) to ``path``.

    ``params`` names the leaves: a dict ``name -> tensor`` such as ``dict(model.named_parameters())`` (or the
    ``named_parameters()`` iterator itself). A tensor with no graph (a leaf, or one computed under ``no_grad``)
    is drawn as a single box, as torchviz does. ``path`` ends in ``.svg`` or ``.png``; returns it as a ``Path``.
    """
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    from ..tensor import Tensor

    if not roots:
        raise ValueError("draw_graph needs at least one tensor, got an empty list")
    for t in roots:
        if not isinstance(t, Tensor):
            raise TypeError(f"draw_graph expects a tensor or a list/tuple of tensors, got {type(t).__name__}")
    path = Path(path)
    if path.suffix.lower() not in (".svg", ".png"):
        raise ValueError(f"draw_graph writes .svg or .png files, got {path.name!r}")
    labels, kinds, edges = collect(roots, params)
    boxes, curves = layout(labels, edges)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        write_png(labels, kinds, boxes, curves, path)
    else:
        path.write_text(svg(labels, kinds, boxes, curves), encoding="utf-8")
    return path


def shape_text(shape):
    """torchviz's way of writing a shape: ``(10, 1, 5, 5)``, ``(3)``, ``()``."""
    return "(" + ", ".join(str(n) for n in shape) + ")"


def collect(roots, params=None):
    """The graph as three lists: each node's label ``(title, detail)``, its kind (``"op"``, ``"leaf"`` or
    ``"output"``), and the arrows ``(input, consumer)`` as indices into the first two, each pair once.

    A node is a ``grad_fn`` node or a leaf tensor (standing for its ``AccumulateGrad``). A node does not know its
    output's shape, but each consumer kept the shapes of its arguments (``input_shapes``); a root's is its own.
    """
    names = {id(t): name for name, t in dict(params or {}).items()}
    nodes, index, shapes, edges = [], {}, {}, {}  # edges as dict keys: ordered and without repeats

    def add(obj, output_nr, shape):
        if id(obj) not in index:
            index[id(obj)] = len(nodes)
            nodes.append(obj)
        shapes.setdefault(index[id(obj)], {})[output_nr] = shape
        return index[id(obj)]

    roots = [add(t if t.grad_fn is None else t.grad_fn, t._output_nr, tuple(t.shape)) for t in roots]
    done = 0
    while done < len(nodes):  # breadth first: nodes are numbered in the order they are found
        node, consumer = nodes[done], done
        done += 1
        for edge, shape in zip(getattr(node, "edges", ()), getattr(node, "input_shapes", ())):
            if edge is not None:
                child, output_nr = edge
                child = child.variable if isinstance(child, AccumulateGrad) else child
                edges[add(child, output_nr, tuple(shape)), consumer] = None
    labels, kinds = [], []
    for i, obj in enumerate(nodes):
        detail = ", ".join(shape_text(shapes[i][nr]) for nr in sorted(shapes[i]))
        is_leaf = not hasattr(obj, "edges")  # a tensor, not a node
        labels.append((names.get(id(obj), "") if is_leaf else obj.name(), detail))
        kinds.append("output" if i in roots else "leaf" if is_leaf else "op")
    return labels, kinds, list(edges)


def box_size(label):
    title, detail = label
    width = max(len(title) * TITLE_FONT, len(detail) * DETAIL_FONT) * 0.6 + 2 * PAD
    return width, (40 if title else 24)


def layout(labels, edges, sweeps=8):
    """Where each box goes, ``[(x, y, width, height)]`` (its centre and size), and each arrow,
    ``[(input, consumer, [(x, y), ...])]`` through its waypoints; in pixels, the origin at the top left."""
    n = len(labels)
    consumers, inputs = [[] for _ in range(n)], [[] for _ in range(n)]
    for i, j in edges:
        consumers[i].append(j)
        inputs[j].append(i)
    rank, waiting = [0] * n, [len(c) for c in consumers]
    ready = [v for v in range(n) if not waiting[v]]
    while ready:  # a node is ranked once all its consumers are: its rank is its longest distance from a root
        j = ready.pop()
        for i in inputs[j]:
            rank[i] = max(rank[i], rank[j] + 1)
            waiting[i] -= 1
            if not waiting[i]:
                ready.append(i)
    width = [box_size(label)[0] for label in labels]
    chains = []  # per arrow: the input, one waypoint per row it crosses, the consumer
    for i, j in edges:
        chain = [i]
        for r in range(rank[i] - 1, rank[j], -1):
            rank.append(r)
            width.append(0.0)
            chain.append(len(rank) - 1)
        chains.append(chain + [j])
    up, down = [[] for _ in rank], [[] for _ in rank]  # neighbours in the row above and in the row below
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            down[a].append(b)
            up[b].append(a)
    rows = [[v for v in range(len(rank)) if rank[v] == r] for r in range(max(rank) + 1)][::-1]  # top row first
    for sweep in range(sweeps):  # 2. order each row by the barycentre of its neighbours in the row before
        downwards = sweep % 2 == 0
        for r in range(1, len(rows)) if downwards else range(len(rows) - 2, -1, -1):
            before = {v: k for k, v in enumerate(rows[r - 1 if downwards else r + 1])}
            key = {}
            for k, v in enumerate(rows[r]):
                near = [before[u] for u in (up[v] if downwards else down[v])]
                key[v] = sum(near) / len(near) if near else k
            rows[r].sort(key=key.get)
    x = [0.0] * len(rank)
    for row in rows:  # 3. positions: start packed, then pull each box towards its neighbours
        pack(row, x, width, [0.0] * len(row))
    for _ in range(sweeps):
        for row in rows:
            wanted = [sum(x[u] for u in up[v] + down[v]) / len(up[v] + down[v]) if up[v] + down[v] else x[v]
                      for v in row]
            pack(row, x, width, wanted)
    left = min(x[v] - width[v] / 2 for v in range(len(rank))) - GAP
    y = {r: ROW_HEIGHT * (k + 0.5) for k, r in enumerate(sorted(set(rank), reverse=True))}
    boxes = [(x[v] - left, y[rank[v]], width[v], box_size(labels[v])[1]) for v in range(n)]
    curves = [(chain[0], chain[-1], [(x[v] - left, y[rank[v]]) for v in chain]) for chain in chains]
    for v in range(n):  # the arrows leaving a box, and those arriving, side by side in the order they go
        spread([c for c in curves if c[0] == v], 0, 1, boxes[v][2])
        spread([c for c in curves if c[1] == v], -1, -2, boxes[v][2])
    return boxes, curves


def spread(curves, end, towards, box_width):
    """Move the ``end`` points of ``curves`` (all at one box) apart, sorted by where each curve heads next."""
    step = min(12.0, box_width / (len(curves) + 1))
    for k, (_, _, points) in enumerate(sorted(curves, key=lambda c: c[2][towards][0])):
        points[end] = (points[end][0] + (k - (len(curves) - 1) / 2) * step, points[end][1])


def pack(row, x, width, wanted):
    """Put the boxes of ``row`` at the x they want, left to right, at least ``GAP`` apart, the row then shifted
    so that on average the boxes sit where they want."""
    placed = []
    for k, v in enumerate(row):
        low = placed[-1] + (width[row[k - 1]] + width[v]) / 2 + GAP if placed else wanted[k]
        placed.append(max(wanted[k], low))
    shift = sum(p - w for p, w in zip(placed, wanted)) / len(row)
    for v, p in zip(row, placed):
        x[v] = p - shift


def arrow_path(start, end, points, boxes):
    """The arrow's points: from the bottom of the input's box to the top of the consumer's box, through the
    waypoints; between two points a cubic Bézier curve that leaves and arrives vertically."""
    (x0, y0), (x1, y1) = points[0], points[-1]
    points = [(x0, y0 + boxes[start][3] / 2)] + points[1:-1] + [(x1, y1 - boxes[end][3] / 2 - 1)]
    segments = []
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        middle = (ya + yb) / 2
        segments.append(((xa, middle), (xb, middle), (xb, yb)))
    return points[0], segments


def canvas(boxes):
    """The picture's width and height: the boxes and a margin as wide as the one above the top row."""
    return (max(x + w / 2 for x, _, w, _ in boxes) + GAP,
            max(y + h / 2 for _, y, _, h in boxes) + ROW_HEIGHT / 2 - 20)


def svg(labels, kinds, boxes, curves):
    """The picture as SVG text: an arrow per ``<path class="edge">``, a box per ``<g class="node">``."""
    width, height = canvas(boxes)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="monospace">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
           'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>']
    for curve in curves:
        (sx, sy), segments = arrow_path(*curve, boxes)
        d = f"M{sx:.1f},{sy:.1f} " + " ".join("C" + " ".join(f"{px:.1f},{py:.1f}" for px, py in s) for s in segments)
        out.append(f'<path class="edge" d="{d}" fill="none" stroke="#555555" stroke-width="1.3" '
                   'marker-end="url(#arrow)"/>')
    for (title, detail), kind, (x, y, w, h) in zip(labels, kinds, boxes):
        out.append(f'<g class="node {kind}"><title>{escape(" ".join(filter(None, (title, detail))))}</title>')
        out.append(f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
                   f'fill="{COLOURS[kind]}" stroke="#333333" stroke-width="{2.2 if kind == "output" else 1}"/>')
        lines = [(title, TITLE_FONT, "bold")] if title else []
        for k, (text, size, weight) in enumerate(lines + [(detail, DETAIL_FONT, "normal")]):
            ty = y + (k - (len(lines) + 1) / 2 + 0.5) * 16 + size * 0.35
            out.append(f'<text x="{x:.1f}" y="{ty:.1f}" font-size="{size}" font-weight="{weight}" '
                       f'text-anchor="middle">{escape(text)}</text>')
        out.append("</g>")
    return "\n".join(out + ["</svg>", ""])


def write_png(labels, kinds, boxes, curves, path):
    """The same picture drawn with matplotlib, one layout pixel to a hundredth of an inch, saved at 150 dpi."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
        from matplotlib.path import Path as Curve
    except ImportError as error:
        raise ImportError(MATPLOTLIB_NEEDED) from error
    width, height = canvas(boxes)
    fig = Figure(figsize=(width / 100, height / 100))
    ax = fig.add_axes((0, 0, 1, 1), xlim=(0, width), ylim=(height, 0))
    ax.set_axis_off()
    for curve in curves:
        start, segments = arrow_path(*curve, boxes)
        vertices = [start] + [point for segment in segments for point in segment]
        codes = [Curve.MOVETO] + [Curve.CURVE4] * (3 * len(segments))
        ax.add_patch(FancyArrowPatch(path=Curve(vertices, codes), arrowstyle="-|>", mutation_scale=12,
                                     color="#555555", lw=1.3))
    points = 0.72  # a layout pixel is 1/100 inch, a point 1/72 inch
    for (title, detail), kind, (x, y, w, h) in zip(labels, kinds, boxes):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=6",
                                    fc=COLOURS[kind], ec="#333333", lw=(2.2 if kind == "output" else 1) * points))
        lines = [(title, TITLE_FONT, "bold")] if title else []
        for k, (text, size, weight) in enumerate(lines + [(detail, DETAIL_FONT, "normal")]):
            ty = y + (k - (len(lines) + 1) / 2 + 0.5) * 16
            ax.text(x, ty, text, ha="center", va="center", fontsize=size * points, weight=weight, family="monospace")
    fig.savefig(path, dpi=150)
