"""The autograd engine: graph walk, accumulation, freeing, grad modes, custom Functions, gradcheck."""
import numpy as np
import pytest

import tensorlite as tl


def test_long_chain_does_not_hit_the_recursion_limit():
    x = tl.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 1.0001**10_000, rtol=1e-3)


def test_shared_subexpression_gets_both_paths():
    x = tl.tensor(3.0, requires_grad=True)
    y = x * x  # x used twice by one node
    z = y + y  # y used twice by another
    z.backward()
    assert x.grad.item() == 12.0


def test_gradients_accumulate_across_backward_calls():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [6.0, 6.0]
    x.grad.zero_()
    assert x.grad.tolist() == [0.0, 0.0]


def test_second_backward_needs_retain_graph():
    x = tl.tensor(2.0, requires_grad=True)
    y = x.exp() * x
    y.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()

    z = x.exp() * x
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.item(), 3 * (np.exp(2.0) * 3), rtol=1e-6)


def test_backward_on_non_scalar_needs_gradient():
    x = tl.ones(3, requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    y.backward(tl.tensor([1.0, 0.0, 2.0]))
    assert x.grad.tolist() == [2.0, 0.0, 4.0]


def test_backward_gradient_shape_must_match():
    y = tl.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(tl.ones(4))


def test_backward_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        tl.ones(2).sum().backward()


def test_no_grad_enable_grad_and_set_grad_enabled():
    x = tl.ones(2, requires_grad=True)
    with tl.no_grad():
        assert not (x * 2).requires_grad
        with tl.enable_grad():
            assert (x * 2).requires_grad
    assert (x * 2).requires_grad

    @tl.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    assert tl.is_grad_enabled()
    with tl.set_grad_enabled(False):
        assert not tl.is_grad_enabled()
    assert tl.is_grad_enabled()


def test_detach_cuts_the_graph():
    x = tl.ones(2, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.grad_fn is None


def test_only_leaves_keep_grad_unless_retained():
    x = tl.ones(2, requires_grad=True)
    hidden = x * 2
    kept = (x * 3).retain_grad()
    (hidden * kept).sum().backward()
    assert hidden.grad is None
    assert kept.grad.tolist() == [2.0, 2.0]
    assert x.grad.tolist() == [12.0, 12.0]


class Cube(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x * x * x * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert ctx.needs_input_grad == (True, False)
        return grad * 3 * x * x * ctx.scale, None


def test_custom_function_as_in_pytorch():
    x = tl.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x, 2.0)
    assert y.grad_fn.name() == "CubeBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [6.0, 24.0]
    assert tl.autograd.gradcheck(lambda t: Cube.apply(t, 2.0), [tl.tensor([0.5, -1.5], dtype=tl.float64, requires_grad=True)])


class Recorder(tl.autograd.Function):
    seen = []

    @staticmethod
    def forward(ctx, x):
        Recorder.seen.append((ctx.needs_input_grad, ctx.records_graph))
        return x * 1

    @staticmethod
    def backward(ctx, grad):
        return grad


def test_forward_knows_whether_its_call_is_recorded():
    """needs_input_grad follows requires_grad, as in torch; records_graph is False under no_grad or without any
    input that requires grad, where nothing needs keeping for backward."""
    Recorder.seen.clear()
    x = tl.ones(2, requires_grad=True)
    Recorder.apply(x)
    with tl.no_grad():
        Recorder.apply(x)
    Recorder.apply(tl.ones(2))
    assert Recorder.seen == [((True,), True), ((True,), False), ((False,), False)]


class WrongSquare(tl.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # missing the factor 2


def test_gradcheck_catches_a_wrong_backward():
    x = tl.tensor([1.0, 2.0], dtype=tl.float64, requires_grad=True)
    with pytest.raises(tl.autograd.GradcheckError, match="Jacobian mismatch for output 0 with respect to input 0"):
        tl.autograd.gradcheck(WrongSquare.apply, [x])
    assert not tl.autograd.gradcheck(WrongSquare.apply, [x], raise_exception=False)


def test_int_outputs_do_not_require_grad():
    x = tl.randn(3, 4, requires_grad=True)
    assert not x.argmax(dim=1).requires_grad
    assert not (x > 0).requires_grad
