"""Every differentiable tensor op: gradcheck and gradgradcheck in float64, and values and gradients equal to torch's."""
import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import check_against_torch, check_gradients, torch_or_skip

POSITIVE = "positive"  # marks inputs that must stay away from 0 (log, sqrt, division, pow)

# name: (tensorlite fn, torch fn, input shapes); the same lambda works for both libraries where the API matches.
OPS = {
    "add": (lambda a, b: a + b, None, [(3, 4), (3, 4)]),
    "add_broadcast": (lambda a, b: a + b, None, [(2, 3, 4), (3, 1)]),
    "add_scalar": (lambda a: 2.5 + a, None, [(3,)]),
    "sub_broadcast": (lambda a, b: a - b, None, [(4, 1), (1, 5)]),
    "rsub_scalar": (lambda a: 1 - a, None, [(3, 2)]),
    "mul_broadcast": (lambda a, b: a * b, None, [(2, 3), (3,)]),
    "div": (lambda a, b: a / b, None, [(3, 4), (3, 4, POSITIVE)]),
    "rdiv_scalar": (lambda a: 2 / a, None, [(5, POSITIVE)]),
    "pow_scalar": (lambda a: a**3, None, [(2, 3)]),
    "pow_fractional": (lambda a: a**0.5, None, [(4, POSITIVE)]),
    "pow_tensor": (lambda a, b: a**b, None, [(3, POSITIVE), (3,)]),
    "rpow": (lambda a: 2**a, None, [(3,)]),
    "neg": (lambda a: -a, None, [(3,)]),
    "exp": (lambda a: a.exp(), None, [(2, 3)]),
    "log": (lambda a: a.log(), None, [(2, 3, POSITIVE)]),
    "sqrt": (lambda a: a.sqrt(), None, [(4, POSITIVE)]),
    "abs": (lambda a: a.abs(), None, [(5,)]),
    "sin": (lambda a: a.sin(), None, [(5,)]),
    "cos": (lambda a: a.cos(), None, [(5,)]),
    "tanh": (lambda a: a.tanh(), None, [(2, 4)]),
    "sigmoid": (lambda a: a.sigmoid(), None, [(2, 4)]),
    "relu": (lambda a: a.relu(), None, [(3, 4)]),
    "softplus": (lambda a: _lib(a).nn.functional.softplus(a * 4, beta=0.5, threshold=3.0), None, [(3, 4)]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5), None, [(3, 4)]),
    "clamp_min": (lambda a: a.clamp(min=0.1), None, [(6,)]),
    "maximum": (lambda a, b: a.maximum(b), None, [(3, 4), (4,)]),
    "minimum": (lambda a, b: a.minimum(b), None, [(3, 4), (3, 4)]),
    "where": (lambda a, b: tl_or_torch_where(a, b), None, [(3, 4), (3, 4)]),
    "sum": (lambda a: a.sum(), None, [(3, 4)]),
    "sum_dim": (lambda a: a.sum(dim=1), None, [(2, 3, 4)]),
    "sum_dims_keepdim": (lambda a: a.sum(dim=(0, 2), keepdim=True), None, [(2, 3, 4)]),
    "mean": (lambda a: a.mean(), None, [(3, 4)]),
    "mean_dim": (lambda a: a.mean(dim=-1, keepdim=True), None, [(3, 4)]),
    "max_all": (lambda a: a.max(), None, [(3, 4)]),
    "max_dim": (lambda a: a.max(dim=1).values, lambda a: a.max(dim=1).values, [(3, 4)]),
    "min_dim_keepdim": (lambda a: a.min(dim=0, keepdim=True)[0], lambda a: a.min(dim=0, keepdim=True)[0], [(3, 4)]),
    "amax": (lambda a: a.amax(dim=(0, 1)), None, [(3, 4, 2)]),
    "var": (lambda a: a.var(), None, [(3, 4)]),
    "var_dim_biased": (lambda a: a.var(dim=1, unbiased=False), None, [(3, 4)]),
    "std_dim": (lambda a: a.std(dim=0, keepdim=True), None, [(5, 2)]),
    "softmax": (lambda a: a.softmax(dim=1), None, [(3, 5)]),
    "log_softmax": (lambda a: a.log_softmax(dim=-1), None, [(2, 3, 5)]),
    "matmul": (lambda a, b: a @ b, None, [(3, 4), (4, 5)]),
    "matmul_batched_broadcast": (lambda a, b: a @ b, None, [(2, 3, 4), (4, 2)]),
    "matmul_vector_matrix": (lambda a, b: a @ b, None, [(4,), (4, 3)]),
    "matmul_matrix_vector": (lambda a, b: a @ b, None, [(3, 4), (4,)]),
    "matmul_dot": (lambda a, b: a @ b, None, [(4,), (4,)]),
    "reshape": (lambda a: a.reshape(4, -1), None, [(2, 3, 2)]),
    "view_flatten": (lambda a: a.view(-1), None, [(2, 3)]),
    "flatten_from_1": (lambda a: a.flatten(1), None, [(2, 3, 4)]),
    "squeeze_unsqueeze": (lambda a: a.squeeze(1).unsqueeze(0), None, [(3, 1, 2)]),
    "permute": (lambda a: a.permute(2, 0, 1), None, [(2, 3, 4)]),
    "transpose": (lambda a: a.transpose(0, 2), None, [(2, 3, 4)]),
    "t": (lambda a: a.t(), None, [(2, 3)]),
    "T": (lambda a: a.T, None, [(2, 3)]),
    "expand": (lambda a: a.expand(2, 3, 4), None, [(3, 1)]),
    "repeat": (lambda a: a.repeat(2, 1, 3), None, [(2, 3)]),
    "index_int_slice": (lambda a: a[1, 1:3], None, [(3, 4)]),
    "index_negative_step": (lambda a: a[:, ::2], None, [(3, 4)]),
    "index_none_ellipsis": (lambda a: a[..., None, 0], None, [(2, 3, 4)]),
    "index_repeated_ints": (lambda a: a[[0, 2, 0]], None, [(3, 4)]),
    "index_mask": (lambda a: a[a > 0], None, [(3, 4)]),
    "index_pairs": (lambda a: a[[0, 1, 2], [3, 0, 3]], None, [(3, 4)]),
    "cat": (lambda a, b: _lib(a).cat([a, b], dim=1), None, [(2, 3), (2, 2)]),
    "stack": (lambda a, b: _lib(a).stack([a, b], dim=-1), None, [(2, 3), (2, 3)]),
    "split": (lambda a: a.split(2, dim=1)[1] * 2, None, [(2, 5)]),
    "to_float64": (lambda a: a.to(_lib(a).float64) * 2, None, [(3,)]),
    "clone": (lambda a: a.clone() * a, None, [(3,)]),
    "chain": (lambda a, b: ((a @ b).relu() * 2 - 1).exp().mean(), None, [(3, 4), (4, 2)]),
}


def _lib(t):
    return tl if isinstance(t, tl.Tensor) else __import__("torch")


def tl_or_torch_where(a, b):
    return _lib(a).where(a > 0, a, b * 2)


def _arrays(shapes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for shape in shapes:
        positive = shape and shape[-1] == POSITIVE
        shape = shape[:-1] if positive else shape
        a = rng.standard_normal(shape).astype(dtype)
        arrays.append(np.abs(a) + 0.5 if positive else a)
    return arrays


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name):
    fn, _, shapes = OPS[name]
    check_gradients(fn, _arrays(shapes, np.float64))


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradgradcheck(name):
    """Second derivatives: the backward formulas themselves, run with create_graph, against finite differences."""
    fn, _, shapes = OPS[name]
    inputs = [tl.tensor(a, requires_grad=True) for a in _arrays(shapes, np.float64)]
    assert tl.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(OPS))
def test_matches_torch(name):
    fn, torch_fn, shapes = OPS[name]
    check_against_torch(fn, torch_fn or fn, _arrays(shapes, np.float32), rtol=1e-5, atol=1e-6)


def test_broadcast_gradient_is_summed_back_to_input_shape():
    a = tl.ones(2, 3, requires_grad=True)
    b = tl.ones(3, requires_grad=True)
    (a * b).sum().backward()
    assert b.grad.shape == (3,)
    np.testing.assert_array_equal(b.grad.numpy(), [2, 2, 2])


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x2\)"):
        tl.ones(3, 4) @ tl.ones(5, 2)


def test_broadcast_failure_names_sizes_and_dimension():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"):
        tl.ones(2, 3) + tl.ones(2, 4)


def test_reshape_to_wrong_size():
    with pytest.raises(RuntimeError, match=r"shape '\[4, 4\]' is invalid for input of size 6"):
        tl.ones(2, 3).reshape(4, 4)


def test_dimension_out_of_range():
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        tl.ones(2, 3).sum(dim=2)


def test_cat_size_mismatch():
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4"):
        tl.cat([tl.ones(2, 3), tl.ones(2, 4)])


def test_expand_to_incompatible_size():
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(4\) must match the existing size \(3\)"):
        tl.ones(3, 1).expand(4, 2)


# --------------------------------------------------------------------- semantics that must be torch's
SEMANTICS = {
    "and_ints": lambda lib: lib.tensor([6, 3]) & lib.tensor([3, 5]),
    "or_ints": lambda lib: lib.tensor([6, 3]) | lib.tensor([3, 5]),
    "xor_ints": lambda lib: lib.tensor([6, 3]) ^ lib.tensor([3, 5]),
    "invert_ints": lambda lib: ~lib.tensor([6, -3]),
    "and_bools": lambda lib: lib.tensor([True, False]) & lib.tensor([True, True]),
    "invert_bools": lambda lib: ~lib.tensor([True, False]),
    "and_scalar": lambda lib: lib.tensor([1, 2]) & 3,
    "rand_scalar": lambda lib: 3 & lib.tensor([1, 2]),
    "sigmoid_of_ints": lambda lib: lib.tensor([1, 2]).sigmoid(),
    "exp_of_bools": lambda lib: lib.tensor([True, False]).exp(),
    "sqrt_of_uint8": lambda lib: lib.tensor([1, 4], dtype=lib.uint8).sqrt(),
    "log_tanh_sin_cos_of_ints": lambda lib: lib.tensor([1, 2]).log() + lib.tensor([1]).tanh() + lib.tensor([2]).sin(),
    "sum_over_no_dims": lambda lib: lib.arange(6.0).reshape(2, 3).sum(dim=()),
    "mean_over_no_dims": lambda lib: lib.arange(6.0).reshape(2, 3).mean(dim=()),
    "amax_over_no_dims": lambda lib: lib.arange(6.0).reshape(2, 3).amax(dim=()),
    "float32_with_0d_float64": lambda lib: lib.ones(2) + lib.tensor(1.5, dtype=lib.float64),
    "int64_with_0d_float64": lambda lib: lib.tensor([1, 2]) + lib.tensor(1.5, dtype=lib.float64),
    "int32_with_0d_int64": lambda lib: lib.tensor([1, 2], dtype=lib.int32) * lib.tensor(5),
    "bool_with_0d_int64": lambda lib: lib.tensor([True, False]) + lib.tensor(5),
    "masked_fill_int_with_float": lambda lib: lib.tensor([1, 2]).masked_fill(lib.tensor([True, False]), 1.5),
    "std_of_float32_near_1e20": lambda lib: lib.tensor([1e20, 3e20, -2e20]).std(),
    "biased_std_along_a_dim": lambda lib: lib.tensor([[1e20, 3e20], [-2e20, 1.0]]).std(dim=0, unbiased=False),
    "sign_of_nan_is_zero": lambda lib: lib.tensor([float("nan"), -2.0, 0.0, 3.0]).sign(),
    "integer_power_with_negative_exponents": lambda lib: lib.tensor([0, 1, -1, 2, -2]) ** lib.tensor([-3, -3, -3, -1, 2]),
    "all_of_uint8_is_uint8": lambda lib: lib.tensor([[1, 0], [2, 3]], dtype=lib.uint8).all(dim=1),
    "all_over_no_dims_tests_each_element": lambda lib: lib.tensor([[1, 0]]).bool().all(dim=()),
    "int_clamped_to_a_float_is_float": lambda lib: lib.tensor([1, 5]).clamp(max=2.5),
    "alpha_keeps_the_dtype": lambda lib: lib.tensor([True, False]).add(lib.tensor([True, False]), alpha=2),
    "empty_chunks_as_asked": lambda lib: lib.stack(lib.zeros(0, 2).chunk(3)),
    "unflatten_infers_within_its_dim": lambda lib: lib.zeros(2, 0).unflatten(1, (-1, 1)),
    "cat_skips_1d_empty_tensors": lambda lib: lib.cat([lib.zeros(0), lib.ones(2, 3)], dim=1),
    "negative_int_wraps_into_uint8": lambda lib: lib.zeros(2, dtype=lib.uint8).fill_(-1),
    "sum_of_0d_tensor_with_empty_dims": lambda lib: lib.tensor(3.0).sum(dim=()),
    "infinity_is_close_only_to_itself": lambda lib: lib.isclose(
        lib.tensor([1.0, float("inf")]), lib.tensor([-float("inf"), float("inf")])
    ),
    "uint8_over_a_negative_int_divides_in_float": lambda lib: lib.tensor([7], dtype=lib.uint8) / lib.tensor(-3),
    "ints_select_before_tensor_indices": lambda lib: lib.arange(24.0).reshape(2, 3, 4)[0, :, [1, 2]],
    "ints_select_before_tensor_indices_in_setitem": lambda lib: _set_after_select(lib),
}


def _set_after_select(lib):
    """x[0, :, [1, 2]] is (3, 2) in torch (the int selects first), (2, 3) by NumPy's rule."""
    x = lib.zeros(2, 3, 4)
    x[0, :, [1, 2]] = lib.arange(6.0).reshape(3, 2)
    return x


@pytest.mark.parametrize("name", sorted(SEMANTICS))
def test_value_and_dtype_are_torchs(name):
    torch = pytest.importorskip("torch")
    ours, theirs = SEMANTICS[name](tl), SEMANTICS[name](torch)
    assert ours.dtype.name == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda: tl.tensor([1.0]) & tl.tensor([1.0]), "\"bitwise_and_cpu\" not implemented for 'Float'"),
        (lambda: ~tl.tensor([1.0]), r"~ \(operator.invert\) is only implemented on integer and Boolean-type tensors"),
        (lambda: tl.ones(2, 3).sum(dim=(0, 0)), "dim 0 appears multiple times in the list of dims"),
        (lambda: tl.ones(2, 3, dtype=tl.float64) @ tl.ones(3, 2), "expected m1 and m2 to have the same dtype"),
        (lambda: tl.nn.functional.linear(tl.ones(2, 3, dtype=tl.float64), tl.ones(4, 3)), "double != float"),
        (lambda: tl.ones(4).chunk(0), "chunk expects `chunks` to be greater than 0, got: 0"),
        (lambda: tl.tensor(1.0).chunk(2), "chunk expects at least a 1-dimensional tensor"),
        (lambda: tl.ones(4).split(0), "split_size can only be 0 if dimension size is 0"),
        (lambda: tl.cat([tl.tensor(1.0), tl.tensor(2.0)]), r"zero-dimensional tensor \(at position 0\) cannot be"),
        (lambda: tl.nn.Linear(-1, 3), r"Trying to create tensor with negative dimension -1: \[3, -1\]"),
        (lambda: tl.ones(0).argmax(), r"argmax\(\): Expected reduction dim to be specified"),
        (lambda: tl.tensor([True]).abs(), "\"abs_cpu\" not implemented for 'Bool'"),
        (lambda: -tl.tensor([True]), "Negation, the `-` operator, on a bool tensor is not supported"),
        (lambda: tl.tensor([1.0]) - True, "Subtraction, the `-` operator, with a bool tensor is not supported"),
        (lambda: tl.tensor([1]) ** -1, "Integers to negative integer powers are not allowed."),
        (lambda: tl.zeros(2, dtype=tl.int32).add_(tl.tensor(1.5)), "result type Float can't be cast to the desired"),
        (lambda: tl.zeros(2, dtype=tl.uint8).fill_(-1.5), "value cannot be converted to type uint8_t without overflow"),
        (lambda: tl.ones(2, 3).t().view(6), "view size is not compatible with input tensor's size and stride"),
        (lambda: tl.zeros(0, 3).amax(dim=0), r"amax\(\): Expected reduction dim 0 to have non-zero size."),
        (lambda: tl.tensor([1, 2]).softmax(0), "\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"),
        (lambda: tl.arange(0, 3, -1), "upper bound and lower bound inconsistent with step sign"),
        (lambda: tl.zeros(), r'zeros\(\) missing 1 required positional arguments: "size"'),
        (lambda: tl.tensor([1.0]).maximum(2), r"maximum\(\): argument 'other' \(position 2\) must be Tensor, not int"),
        (lambda: tl.ones(3).mm(tl.ones(3, 1)), "self must be a matrix"),
        (lambda: tl.isclose(tl.ones(1), tl.ones(1, dtype=tl.float64)), "Float did not match Double"),
        (lambda: tl.ones(2).masked_fill(tl.tensor([1, 0]), 0), "only supports boolean masks, but got mask with dtype long"),
        (lambda: tl.zeros(2, dtype=tl.uint8).masked_fill_(tl.tensor([False, False]), tl.tensor(-2.5, dtype=tl.float64)),
         "value cannot be converted to type uint8_t without overflow"),  # a value tensor is checked as a number is
        (lambda: tl.zeros(2).split([3, -1]), "split_with_sizes expects split_sizes have only non-negative entries"),
    ],
)
def test_refused_as_torch_refuses(fn, message):
    with pytest.raises((RuntimeError, IndexError, TypeError), match=message):
        fn()


def test_softmax_of_an_empty_tensor_is_empty():
    assert tl.ones(0, 3).softmax(dim=0).shape == (0, 3) and tl.ones(0, 3).log_softmax(dim=1).shape == (0, 3)


def test_gradient_of_x_to_the_zero_at_zero_and_of_relu_at_nan_are_torchs():
    x = tl.tensor([0.0, 2.0], requires_grad=True)
    (x**0).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    y = tl.tensor([float("nan"), 1.0, -1.0], requires_grad=True)
    y.relu().sum().backward()
    assert y.grad.tolist() == [1.0, 1.0, 0.0]


def test_binary_cross_entropy_at_certain_predictions_has_torchs_loss_and_gradients():
    """At p = 0 and 1 the logs are clamped at -100, but the gradient is (p - y) / max(p (1 - p), 1e-12)."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (tl, torch):
        p = lib.tensor([0.0, 1.0, 0.3], requires_grad=True)
        y = lib.tensor([0.5, 0.5, 1.0], requires_grad=True)
        loss = lib.nn.functional.binary_cross_entropy(p, y)
        loss.backward()
        results.append([loss.detach().numpy(), p.grad.numpy(), y.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_loss_with_every_target_ignored_is_nan_with_a_zero_gradient(loss):
    x = tl.tensor([[1.0, 2.0], [0.5, 0.1]], requires_grad=True)
    out = getattr(tl.nn.functional, loss)(x, tl.tensor([-100, -100]))
    out.backward()
    assert np.isnan(out.item()) and x.grad.tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_max_of_a_tensor_with_nans_sends_its_gradient_to_the_nans_as_torch():
    x = tl.tensor([1.0, float("nan"), float("nan")], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]


@pytest.mark.parametrize(
    "fn, kernel",
    [
        (lambda x: tl.nn.BatchNorm2d(2)(x.reshape(2, 2, 1, 1)), "batch_norm"),
        (lambda x: tl.nn.functional.layer_norm(x, (2,)), "LayerNormKernelImpl"),
        (lambda x: tl.nn.functional.group_norm(x.reshape(1, 2, 2), 1), "GroupNormKernelImpl"),
    ],
)
def test_normalising_integers_is_refused_as_in_torch(fn, kernel):
    with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'Long'"):
        fn(tl.ones(2, 2, dtype=tl.int64))


@pytest.mark.parametrize(
    "fn, error, message",
    [
        (lambda: tl.nn.functional.conv2d(tl.ones(1, 2, 4, 4), tl.ones(2, 2, 3, 3), groups=0), RuntimeError,
         "non-positive groups is not supported"),
        (lambda: tl.nn.functional.conv2d(tl.ones(1, 1, 4, 4), tl.ones(1, 1, 3, 3), stride=1.5), TypeError,
         "argument 'stride' must be tuple of ints, not float"),
        (lambda: tl.nn.functional.max_pool2d(tl.ones(1, 1, 4, 4), 2, stride=(1.5, 1)), TypeError,
         "but found element of type float at pos 0"),
        (lambda: tl.nn.Linear(3, 2)(np.ones((1, 3), dtype=np.float32)), TypeError,
         "linear\\(\\): argument 'input' \\(position 1\\) must be Tensor, not ndarray"),
    ],
)
def test_bad_layer_arguments_raise_torchs_error(fn, error, message):
    with pytest.raises(error, match=message):
        fn()


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.std(dim=(), unbiased=False),  # std 0: gradient 0, not 0/0
        lambda lib, x: x.var(dim=-1),  # with an infinity: torch's closed form, not inf - inf
        lambda lib, x: x ** (x * 0),  # 0 ** 0 with a tensor exponent: gradient 0
        lambda lib, x: (x * float("nan")).abs() + x.abs(),  # |NaN| passes a zero gradient, as sign(NaN) = 0
    ],
)
def test_gradients_at_the_edges_are_torchs(fn):
    torch = pytest.importorskip("torch")
    values = np.array([[0.0, -np.inf, 0.0], [0.0, 2.0, 3.0]])
    ours, theirs = tl.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    fn(tl, ours).sum().backward()
    fn(torch, theirs).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_repeat_returns_a_copy():
    """x.repeat() may merge an expanded view of x; writing into the result must not reach x (nor raise)."""
    x = tl.ones(1)
    y = x.repeat(2)
    y[0] = 5.0
    assert x.tolist() == [1.0] and y.tolist() == [5.0, 1.0]


@pytest.mark.parametrize(
    "values, kwargs",
    [([float("nan")], {}), ([2.0], {}), ([1.0, 3.0], {"correction": 2}), ([1.0, 3.0], {"dim": 0, "correction": 3})],
    ids=["nan-no-dof", "one-value", "zero-dof", "negative-dof-along-dim"],
)
def test_var_gradient_without_degrees_of_freedom_is_torchs(values, kwargs):
    """n <= correction: torch's var_backward gives inf * grad (NaN where x equals the mean) when reducing everything,
    and 2 / (n - correction) * grad * (x - mean), signed, along a dim."""
    torch = torch_or_skip()
    grads = []
    for lib in (tl, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        (x.reshape(()) if len(values) == 1 else x).var(**kwargs).backward(lib.tensor(-1.5, dtype=lib.float64))
        grads.append(np.asarray(x.grad.detach().numpy()))
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.parametrize("exponent", [0.5, -0.5, 2, 3, -1, -2, 1.5])
def test_scalar_powers_keep_torchs_signs_at_zero_and_infinity(exponent):
    """torch computes x ** 0.5 as sqrt, x ** -0.5 as 1/sqrt, and small integer powers as products: at -0.0 and
    +-inf the signs follow (d/dx x ** 0.5 at -0.0 is -inf), whatever NumPy's SIMD power gives on the processor."""
    values = [-0.0, 0.0, 0.35, -1.0, float("inf"), float("-inf"), float("nan"), -1e-20]
    x = tl.tensor(values, dtype=tl.float32, requires_grad=True)
    out = x ** exponent
    out.sum().backward()
    if exponent == 0.5:
        assert np.signbit(out.detach().numpy()[0]) and x.grad.numpy()[0] == -np.inf
    torch = pytest.importorskip("torch")
    t = torch.tensor(values, dtype=torch.float32, requires_grad=True)
    expected = t ** exponent
    expected.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    numbers = ~np.isnan(expected.detach().numpy())  # a NaN's sign bit means nothing
    np.testing.assert_array_equal(np.signbit(out.detach().numpy())[numbers], np.signbit(expected.detach().numpy())[numbers])
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
