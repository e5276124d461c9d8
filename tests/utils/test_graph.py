"""draw_graph: the autograd graph behind a tensor as SVG (parsed back here) or PNG."""
import sys
import xml.etree.ElementTree as ET

import pytest

import tensorlite as tl
from tensorlite import nn
from tensorlite.utils.graph import MATPLOTLIB_NEEDED, collect, layout

SVG = "{http://www.w3.org/2000/svg}"


def read_svg(path):
    """The picture's boxes as ``[(kind, [text lines])]`` and its number of arrows."""
    root = ET.parse(path).getroot()
    boxes = [(g.get("class").split()[1], [t.text for t in g.iter(f"{SVG}text")])
             for g in root.iter(f"{SVG}g") if g.get("class", "").startswith("node")]
    arrows = [p for p in root.iter(f"{SVG}path") if p.get("class") == "edge"]
    return boxes, len(arrows)


def test_a_linear_layer_is_drawn_with_torch_names_shapes_and_parameter_names(tmp_path):
    layer = nn.Linear(3, 2)
    x = tl.randn(4, 3)
    loss = layer(x).relu().sum()
    path = tl.utils.draw_graph(loss, tmp_path / "linear.svg", params=dict(layer.named_parameters()))
    boxes, arrows = read_svg(path)
    assert sorted(boxes) == sorted([
        ("output", ["SumBackward0", "()"]),
        ("op", ["ReluBackward0", "(4, 2)"]),
        ("op", ["AddmmBackward0", "(4, 2)"]),
        ("op", ["TBackward0", "(3, 2)"]),
        ("leaf", ["weight", "(2, 3)"]),
        ("leaf", ["bias", "(2)"]),
    ])
    assert arrows == 5  # a tree of 6 boxes, torch's graph; x needs no gradient and has no box


def breadth_first_names(grad_fn):
    """The nodes' names (tensorlite's or torch's), found breadth first through ``next_functions`` (the order ``collect`` numbers nodes)."""
    names, queue, seen = [], [grad_fn], set()
    while queue:
        node = queue.pop(0)
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name().split("::")[-1])  # torch calls a leaf's node torch::autograd::AccumulateGrad
        queue += [child for child, _ in node.next_functions]
    return names


def test_the_nodes_carry_the_names_torch_gives_them():
    torch = pytest.importorskip("torch")
    names, outputs = {}, {}
    for lib in (tl, torch):
        conv = lib.nn.Conv2d(1, 2, 3)
        outputs[lib] = (lib.nn.functional.relu(conv(lib.ones(1, 1, 5, 5))) * 2).sum()
        names[lib.__name__] = breadth_first_names(outputs[lib].grad_fn)
    labels, kinds, _ = collect([outputs[tl]])
    assert names["torch"] == ["SumBackward0", "MulBackward0", "ReluBackward0", "ConvolutionBackward0",
                              "AccumulateGrad", "AccumulateGrad"]
    assert names["tensorlite"] == names["torch"]
    assert [title for title, _ in labels] == names["torch"][:4] + ["", ""]  # the leaves, unnamed, by shape
    assert kinds == ["output", "op", "op", "op", "leaf", "leaf"]


def test_unnamed_leaves_show_their_shape_alone(tmp_path):
    w = tl.randn(2, 3, requires_grad=True)
    boxes, arrows = read_svg(tl.utils.draw_graph((w * 2).sum(), tmp_path / "g.svg"))
    assert ("leaf", ["(2, 3)"]) in boxes and len(boxes) == 3 and arrows == 2


def test_a_diamond_has_each_node_once_and_one_arrow_per_pair():
    x = tl.ones(3, requires_grad=True)
    a = x.exp()
    loss = (a + a.sin() + a * a).sum()  # a feeds the first add, the sin and the mul (as both its arguments)
    labels, kinds, edges = collect([loss], {"x": x})
    titles = [title for title, _ in labels]
    assert sorted(titles) == sorted(["SumBackward0", "AddBackward0", "AddBackward0", "ExpBackward0", "SinBackward0",
                                     "MulBackward0", "x"])
    exp = titles.index("ExpBackward0")
    assert sorted(titles[j] for i, j in edges if i == exp) == ["AddBackward0", "MulBackward0", "SinBackward0"]
    assert len(edges) == len(set(edges)) == 8
    assert kinds.count("output") == 1 and kinds[titles.index("x")] == "leaf"


def test_the_layout_keeps_boxes_apart_and_arrows_pointing_down():
    x = tl.randn(1, 2, 6, 6)
    conv1, conv2 = nn.Conv2d(2, 3, 3, padding=1), nn.Conv2d(3, 3, 3, padding=1)
    h = conv1(x)
    y = conv2(h).relu() + h  # h feeds the add and conv2: a diamond with a long skip arrow
    labels, _, edges = collect([y])
    boxes, curves = layout(labels, edges)
    for i, (x0, y0, w0, h0) in enumerate(boxes):
        for x1, y1, w1, h1 in boxes[i + 1:]:
            assert abs(x0 - x1) >= (w0 + w1) / 2 or abs(y0 - y1) >= (h0 + h1) / 2
    for start, end, points in curves:
        assert [p[1] for p in points] == sorted(p[1] for p in points)  # from the input down to its consumer
        assert boxes[start][1] < boxes[end][1]
    assert max(len(points) for _, _, points in curves) == 4  # the skip arrow passes two waypoints


def test_several_roots_are_drawn_together_each_highlighted(tmp_path):
    x = tl.randn(3, requires_grad=True)
    h = x.exp()
    first, second = h.sum(), (h * h).mean()
    boxes, arrows = read_svg(tl.utils.draw_graph([first, second], tmp_path / "two.svg", params={"x": x}))
    assert sorted(lines for kind, lines in boxes if kind == "output") == [["MeanBackward0", "()"],
                                                                         ["SumBackward0", "()"]]
    assert len(boxes) == 6 and arrows == 5  # x, exp, sum, mul, mean and the output; x -> exp -> sum, mul -> mean


def test_a_tensor_without_a_graph_is_a_single_box_as_in_torchviz(tmp_path):
    boxes, arrows = read_svg(tl.utils.draw_graph(tl.zeros(2, 5), tmp_path / "alone.svg"))
    assert boxes == [("output", ["(2, 5)"])] and arrows == 0
    w = tl.zeros(4, requires_grad=True)
    boxes, _ = read_svg(tl.utils.draw_graph(w, tmp_path / "leaf.svg", params={"w": w}))
    assert boxes == [("output", ["w", "(4)"])]


def test_bad_input_is_refused_clearly(tmp_path):
    with pytest.raises(TypeError, match="expects a tensor or a list/tuple of tensors, got int"):
        tl.utils.draw_graph(3, tmp_path / "g.svg")
    with pytest.raises(TypeError, match="got ndarray"):
        tl.utils.draw_graph([tl.ones(1), tl.ones(1).numpy()], tmp_path / "g.svg")
    with pytest.raises(ValueError, match="at least one tensor"):
        tl.utils.draw_graph([], tmp_path / "g.svg")
    with pytest.raises(ValueError, match=r"\.svg or \.png.*'g\.pdf'"):
        tl.utils.draw_graph(tl.ones(1), tmp_path / "g.pdf")


def test_labels_are_escaped_in_the_svg(tmp_path):
    w = tl.ones(2, requires_grad=True)
    path = tl.utils.draw_graph(w * 2, tmp_path / "g.svg", params={"<w & v>": w})
    assert ("leaf", ["<w & v>", "(2)"]) in read_svg(path)[0]


def test_png_is_written_when_asked(tmp_path):
    pytest.importorskip("matplotlib")
    layer = nn.Linear(2, 2)
    path = tl.utils.draw_graph(layer(tl.ones(1, 2)).sum(), tmp_path / "sub" / "g.png", layer.named_parameters())
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert 150 < width < height < 1500  # a tall, narrow chain at 150 dpi


def test_png_without_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install tensorlite\[viz\]") as raised:
        tl.utils.draw_graph((tl.ones(2, requires_grad=True) * 2).sum(), tmp_path / "g.png")
    assert str(raised.value) == MATPLOTLIB_NEEDED
    assert not (tmp_path / "g.png").exists()
