"""The autograd engine on whole programs: graph order, in-place ops and views, setitem, saved-tensor versions,
autograd.grad, create_graph, hooks, node names and freeing by reference counting.

Each program is written once as a function of the library module (``tl`` or ``torch``): with torch installed,
``same_as_torch`` runs it in both and compares every returned value and gradient.
"""
import gc
import weakref

import numpy as np
import pytest

import tensorlite as tl
from tensorlite import nn

from ..helpers import torch_or_skip


def same_as_torch(program):
    """Run ``program(lib)`` with tensorlite and with torch; compare what it returns (tensors, None or lists)."""
    torch = torch_or_skip()
    ours, theirs = program(tl), program(torch)
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    return ours


def leaf(lib, values):
    return lib.tensor(values, dtype=lib.float64, requires_grad=True)


# --------------------------------------------------------------------- graph order
def test_every_path_of_a_diamond_delivers_before_its_node_runs():
    x = tl.ones(3, requires_grad=True)
    a = x * 2
    b = a * 3
    (a + b).sum().backward()  # a's node must wait for b's gradient: 2 + 2*3
    assert x.grad.tolist() == [8.0, 8.0, 8.0]


def test_residual_blocks_match_torch():
    def program(lib):
        x = leaf(lib, [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
        w = leaf(lib, [[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]])
        h = x
        for _ in range(3):
            h = h + (h @ w @ w.t()).tanh()  # h + f(h): h used by the add and by f
        loss = (h * h).sum() + h.mean()
        loss.backward()
        return [loss, x.grad, w.grad]

    same_as_torch(program)


def test_several_roots_and_grad_outputs():
    def program(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        y = x * x
        z = y.exp().sum()
        gx, gy = lib.autograd.grad([y, z], [x, y], grad_outputs=[lib.ones(3, dtype=lib.float64), None])
        return [gx, gy]

    same_as_torch(program)


# --------------------------------------------------------------------- in-place ops
def test_in_place_ops_on_intermediates_are_recorded():
    def program(lib):
        x = leaf(lib, [1.0, -2.0, 3.0])
        y = x * 2
        y.add_(x)
        y.mul_(y.detach().clone())  # a detached alias would share y's version counter, and torch would raise
        y.clamp_(max=50)  # saves the value before the write, which the next write leaves alone
        z = y.exp_().sum()
        z.backward()
        return [z, x.grad]

    same_as_torch(program)
    x = tl.ones(3, requires_grad=True)
    y = x * 2
    y.add_(x)
    assert y.grad_fn.name() == "AddBackward0" and y._version.value == 1


def test_in_place_through_a_view_updates_the_base_graph():
    def program(lib):
        x = leaf(lib, [1.0, 2.0, 3.0, 4.0])
        y = x * 1
        view = y[1:3]
        view.mul_(x[:2])
        y.sum().backward()
        return [y, x.grad]

    ours = same_as_torch(program)
    x = tl.ones(4, requires_grad=True)
    y = x * 1
    y[1:3].mul_(3)
    assert y.grad_fn.name() == "CopySlices"
    assert ours[1].tolist() == [3.0, 4.0, 2.0, 1.0]


def test_relu_inplace_writes_into_its_input_as_torch():
    def program(lib):
        x = leaf(lib, [-1.0, 2.0, -3.0])
        h = x * 2
        out = lib.nn.ReLU(inplace=True)(h)
        z = out * 3 - x
        lib.nn.functional.leaky_relu(z, 0.1, inplace=True)
        (z * z).sum().backward()
        return [h, z, x.grad]

    same_as_torch(program)


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda x: x.add_(1), "a leaf Variable that requires grad is being used in an in-place operation."),
        (lambda x: x[1:].mul_(2), "a view of a leaf Variable that requires grad is being used in an in-place"),
        (lambda x: (x * 1).split(2)[0].mul_(2), "is the output of a function that returns multiple views"),
        (lambda x: (x * 1).unsqueeze(0).expand(2, 4).add_(1), "more than one element of the written-to tensor"),
    ],
)
def test_in_place_writes_torch_refuses(write, message):
    x = tl.ones(4, requires_grad=True)
    with pytest.raises(RuntimeError, match=message):
        write(x)


def test_an_expanded_tensor_takes_writes_that_reach_each_element_once():
    e = tl.ones(1, 3).expand(2, 3)
    e[0:1] = 5  # one row of the expanded tensor is the whole storage
    assert e.tolist() == [[5, 5, 5], [5, 5, 5]]
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        e[:, 0] = 1


def test_a_view_made_under_no_grad_cannot_be_written_with_grad_on():
    x = tl.ones(4, requires_grad=True)
    with tl.no_grad():
        view = x[0:2]
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and is being modified inplace"):
        view.mul_(2)


@pytest.mark.parametrize("view", ["mT", "row", "reshape"])
@pytest.mark.parametrize("base_is_leaf", [True, False])
def test_a_view_made_under_no_grad_is_out_of_the_graph(view, base_is_leaf):
    """torch: grad_fn None, requires_grad kept, and a backward through it reaches neither the base's graph nor the
    view's .grad. (tensorlite once kept the base's grad_fn on such a view: a transposed view then sent its
    gradient, untransposed, into the base's graph.)"""
    make = {"mT": lambda t: t.mT, "row": lambda t: t[1], "reshape": lambda t: t.reshape(2, 3)}[view]

    def program(lib):
        w = leaf(lib, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
        base = w if base_is_leaf else w * 3
        with lib.no_grad():
            v = make(base)
        assert v.grad_fn is None and v.requires_grad and v.is_leaf
        scale = lib.arange(v.numel(), dtype=lib.float64).reshape(v.shape)
        (v * scale).sum().backward()
        return [w.grad, v.grad]

    assert same_as_torch(program) == [None, None]


@pytest.mark.parametrize("write_under_no_grad", [True, False])
def test_a_no_grad_view_of_a_changed_base_raises_torchs_error(write_under_no_grad):
    w = tl.ones(3, 2, requires_grad=True)
    base = w * 3
    with tl.no_grad():
        view = base.mT
    if write_under_no_grad:
        with tl.no_grad():
            base.mul_(2)
    else:
        base.mul_(2)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base or another view of its "
                       "base has been modified inplace"):
        (view * 2).sum()


def test_an_op_on_a_no_grad_view_saves_nothing_for_it_so_a_second_backward_runs():
    """torch saves a tensor only for an input that takes a gradient: ``v * w`` with v a no_grad view saved nothing,
    and a second backward without retain_graph runs. (tensorlite saved w and raised "backward a second time".)"""

    def program(lib):
        x = leaf(lib, [[1.0], [2.0], [3.0]])
        with lib.no_grad():
            v = x.mT
        loss = (v * lib.tensor([[0.5, 1.0, 2.0]], dtype=lib.float64)).sum()
        loss.backward()
        loss.backward()
        return [x.grad, v.grad]

    assert same_as_torch(program) == [None, None]


@pytest.mark.parametrize("lib_name", ["tensorlite", "torch"])
def test_a_node_taking_no_gradient_still_checks_its_saved_no_grad_view(lib_name):
    """``v.pow(3)`` of a no_grad view computes no gradient, but torch unpacks what it saved at backward, and the
    view's base changed since: torch's no_grad-view error, at backward."""
    lib = tl if lib_name == "tensorlite" else torch_or_skip()
    x = leaf(lib, [1.0, 2.0])
    with lib.no_grad():
        v = x[0:2]
    cube = v.pow(3)
    with lib.no_grad():
        x.mul_(0.5)
    with pytest.raises(RuntimeError, match="A view was created in no_grad mode and its base"):
        cube.sum().backward()


@pytest.mark.parametrize("lib_name", ["tensorlite", "torch"])
def test_a_reshape_to_the_same_shape_is_a_new_view(lib_name):
    """torch's ``x.reshape(x.shape)`` is a new view with its own node, not ``x``: of a no_grad view it is in the
    graph (autograd.grad gives None), where ``x`` itself would be refused as a root."""
    lib = tl if lib_name == "tensorlite" else torch_or_skip()
    x = leaf(lib, [1.0, 2.0])
    same = x.reshape(2)
    assert same is not x and same.grad_fn.name() == "ViewBackward0"
    with lib.no_grad():
        v = x[0:2]
    (g,) = lib.autograd.grad([v.reshape(-1)], [x], grad_outputs=[lib.ones(2, dtype=lib.float64)], allow_unused=True)
    assert g is None


def test_leaf_changed_after_it_was_saved_raises_torchs_error():
    w = tl.ones(3, requires_grad=True)
    y = (w * w).sum()
    with tl.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match=r"one of the variables needed for gradient computation has been modified by "
                       r"an inplace operation: \[tensorlite.FloatTensor \[3\]\], is at version 1; expected version 0"):
        y.backward()


def test_saved_output_changed_in_place_raises_naming_the_op():
    x = tl.ones(3, requires_grad=True)
    y = x.sigmoid()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="which is output 0 of Sigmoid, is at version 1; expected version 0"):
        y.sum().backward()


def test_in_place_changes_that_nothing_saved_are_fine():
    def program(lib):
        x = leaf(lib, [0.5, 1.5])
        y = x * 2
        z = y.sigmoid()  # saves its output, not y
        y.mul_(2)
        (z.sum() + y.sum()).backward()
        return [x.grad]

    same_as_torch(program)


def test_detach_shares_the_version_counter():
    x = tl.ones(3, requires_grad=True)
    y = x * 2
    z = y * y
    y.detach().add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# --------------------------------------------------------------------- setitem
def test_setitem_of_a_tensor_that_requires_grad_is_recorded():
    def program(lib):
        w = leaf(lib, [1.0, 2.0])
        big = lib.zeros(3, 4, dtype=lib.float64)
        big[0, 1:3] = w * 3  # basic index: CopySlices
        big[[1, 2], [0, 3]] = w.exp()  # advanced index: IndexPut
        big[big > 5] = w.sum()  # mask
        (big * big).sum().backward()
        return [big, w.grad]

    same_as_torch(program)
    big = tl.zeros(3)
    big[0:2] = tl.ones(2, requires_grad=True) * 3
    assert big.grad_fn.name() == "CopySlices"


def corr2d(lib, X, K):
    """d2l's from-scratch cross-correlation: one element at a time, written with Y[i, j] = ..."""
    h, w = K.shape
    Y = lib.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


def test_d2l_from_scratch_conv2d_learns_through_setitem():
    X = tl.ones((6, 8))
    X[:, 2:6] = 0
    K = tl.tensor([[1.0, -1.0]])
    Y = corr2d(tl, X, K)
    weight = nn.Parameter(tl.tensor([[0.3, 0.6]]))
    for _ in range(30):
        loss = ((corr2d(tl, X, weight) - Y) ** 2).sum()
        weight.grad = None
        loss.backward()
        with tl.no_grad():
            weight -= 3e-2 * weight.grad
    assert np.abs(weight.detach().numpy() - [[1.0, -1.0]]).max() < 0.1


# --------------------------------------------------------------------- backward twice
def test_second_backward_raises_only_where_saved_tensors_were_freed():
    x = tl.ones(3, requires_grad=True)
    y = (x + 1).reshape(3, 1).sum()  # nothing saved
    y.backward()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        z.backward()


# --------------------------------------------------------------------- autograd.grad
def test_grad_leaves_dot_grad_alone_and_checks_its_inputs():
    x = tl.ones(2, requires_grad=True)
    unused = tl.ones(2, requires_grad=True)
    y = (x * 3).sum()
    (g,) = tl.autograd.grad(y, x, retain_graph=True)
    assert g.tolist() == [3.0, 3.0] and x.grad is None
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        tl.autograd.grad(y, [x, unused], retain_graph=True)
    assert tl.autograd.grad(y, [x, unused], allow_unused=True, retain_graph=True)[1] is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        tl.autograd.grad(y, tl.ones(2))


def test_grad_of_an_intermediate_runs_only_what_it_needs():
    x = tl.ones(2, requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    (gy,) = tl.autograd.grad(z, y)
    assert gy.tolist() == [4.0, 4.0] and x.grad is None


# --------------------------------------------------------------------- higher order
def test_create_graph_gives_second_derivatives():
    def program(lib):
        x = leaf(lib, [0.5, -1.0, 2.0])
        y = (x.sin() * x.exp() + x ** 3).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (g * g).sum().backward()
        return [g, x.grad]

    same_as_torch(program)


@pytest.mark.filterwarnings(r"ignore:Using backward\(\) with create_graph=True")
def test_backward_with_create_graph_leaves_a_grad_that_can_be_differentiated():
    def program(lib):
        x = leaf(lib, [0.5, -1.0, 2.0])
        (x**3).sum().backward(create_graph=True)
        first = x.grad
        x.grad = None
        (first * first).sum().backward()  # d/dx sum((3 x^2)^2) = 36 x^3
        return [first, x.grad]

    ours = same_as_torch(program)
    assert ours[0].grad_fn is not None


def test_gradient_penalty_through_a_small_mlp():
    def program(lib):
        x = leaf(lib, [[0.5, -1.0], [2.0, 0.25]])
        w1 = leaf(lib, [[0.3, -0.2], [0.1, 0.4], [-0.5, 0.6]])
        w2 = leaf(lib, [[0.7, -0.1, 0.2]])
        out = (x @ w1.t()).tanh().relu() @ w2.t()
        (g,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        penalty = ((g.pow(2).sum(dim=1).sqrt() - 1) ** 2).mean()
        penalty.backward()
        return [penalty, w1.grad, w2.grad, x.grad]

    same_as_torch(program)


@pytest.mark.parametrize(
    "fn, shapes",
    [
        (lambda a, b: a * b + a / (b * b + 1), [(3,), (3,)]),
        (lambda a: (a.exp() - a.tanh()).sigmoid(), [(2, 2)]),
        (lambda a: a.softmax(dim=1), [(2, 3)]),
        (lambda a, b: (a @ b).sqrt(), [(2, 3), (3, 2)]),
        (lambda a: a[1:, ::2].sum(dim=0) ** 3, [(3, 4)]),
        (lambda a: tl.cat([a, a.t()], dim=0).abs().mean(), [(2, 2)]),
    ],
)
def test_gradgradcheck(fn, shapes):
    rng = np.random.default_rng(0)
    inputs = [tl.tensor(rng.uniform(0.5, 1.5, s), dtype=tl.float64, requires_grad=True) for s in shapes]
    assert tl.autograd.gradgradcheck(fn, inputs)


# --------------------------------------------------------------------- hooks, names, next_functions
def test_hooks_see_and_replace_gradients():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.retain_grad()
    y.sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [30.0, 30.0] and y.grad.tolist() == [10.0, 10.0]
    handle.remove()
    (x * 1).sum().backward()
    assert len(seen) == 1


def test_grad_fn_names_and_next_functions_follow_torch():
    x = tl.ones(2, 3, requires_grad=True)
    y = x * 2
    assert y.grad_fn.name() == "MulBackward0"
    (accumulate, _), (nothing, _) = y.grad_fn.next_functions
    assert accumulate.name() == "AccumulateGrad" and accumulate.variable is x and nothing is None


NAMED_OPS = {
    "mul": lambda lib, x: x * 2, "view": lambda lib, x: x.reshape(6), "mean": lambda lib, x: x.mean(),
    "mean_dim": lambda lib, x: x.mean(dim=0), "relu": lambda lib, x: x.relu(), "mm": lambda lib, x: x @ lib.ones(3, 2),
    "double": lambda lib, x: x.double(), "clone": lambda lib, x: x.clone(), "exp": lambda lib, x: x.exp(),
    "pow": lambda lib, x: x**2, "clamp": lambda lib, x: x.clamp(0, 1), "max_dim": lambda lib, x: x.max(dim=1)[0],
    "amax": lambda lib, x: x.amax(0), "var": lambda lib, x: x.var(), "std": lambda lib, x: x.std(),
    "cat": lambda lib, x: lib.cat([x, x]), "stack": lambda lib, x: lib.stack([x, x]), "sigmoid": lambda lib, x: x.sigmoid(),
    "softmax": lambda lib, x: x.softmax(dim=1), "log_softmax": lambda lib, x: x.log_softmax(dim=1),
    "linear": lambda lib, x: lib.nn.functional.linear(x, lib.ones(4, 3), lib.ones(4)),
    "mse": lambda lib, x: lib.nn.functional.mse_loss(x, lib.zeros(2, 3)),
    "cross_entropy": lambda lib, x: lib.nn.functional.cross_entropy(x, lib.tensor([0, 2])),
    "nll": lambda lib, x: lib.nn.functional.nll_loss(x, lib.tensor([0, 2])),
    "bce": lambda lib, x: lib.nn.functional.binary_cross_entropy(x.sigmoid(), lib.ones(2, 3)),
    "conv2d": lambda lib, x: lib.nn.functional.conv2d(x.reshape(1, 1, 2, 3), lib.ones(1, 1, 2, 2)),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x.reshape(1, 1, 2, 3), 2),
    "avg_pool2d": lambda lib, x: lib.nn.functional.avg_pool2d(x.reshape(1, 1, 2, 3), 2),
    "batch_norm": lambda lib, x: lib.nn.functional.batch_norm(x.reshape(2, 3, 1), None, None, training=True),
    "pad": lambda lib, x: lib.nn.functional.pad(x, (1, 1)),
}


@pytest.mark.parametrize("op", NAMED_OPS)
def test_grad_fn_name_is_torchs(op):
    torch = torch_or_skip()
    ours = NAMED_OPS[op](tl, tl.ones(2, 3, requires_grad=True))
    theirs = NAMED_OPS[op](torch, torch.ones(2, 3, requires_grad=True))
    assert ours.grad_fn.name() == theirs.grad_fn.name()


# --------------------------------------------------------------------- memory
def test_a_training_step_is_freed_by_reference_counting_alone():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 10))
    optimizer = tl.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    images, labels = tl.randn(8, 1, 8, 8), tl.randint(0, 10, (8,))
    nn.functional.cross_entropy(model(images), labels).backward()  # compile first: Numba's compiler leaves cycles
    gc.collect()  # (a caught exception keeps the frames it passed through, and their locals, until collected)
    gc.disable()
    try:
        nodes = []
        for step in range(3):
            out = model(images)
            loss = nn.functional.cross_entropy(out, labels)
            nodes.append(weakref.ref(out.grad_fn))
            if step < 2:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            del out, loss  # the last step has no backward: its graph must go all the same
        assert all(ref() is None for ref in nodes)
    finally:
        gc.enable()
