"""torch APIs that tutorials use and tensorlite spells the same way: ``size=`` on creation functions, the legacy
``Tensor(...)``/``FloatTensor(...)`` constructors, NumPy's ``axis=``/``keepdims=``, dtype-mismatch errors of
matmul and linear, ``backends.cudnn``/``backends.mps``, ``accelerator`` and ``cuda.manual_seed``.

Each case runs on tensorlite against the expected outcome, and on torch too when it is installed: the same shape,
dtype and values, or the same exception type (and message where ``exact``)."""
import zlib

import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip


def outcome(call, lib):
    """What ``call(lib)`` gives: (shape, dtype name, values) of a tensor, the value itself, or the exception."""
    try:
        out = call(lib)
    except Exception as error:  # noqa: BLE001 - the exception is the outcome compared
        return error
    if isinstance(out, lib.Tensor):
        return tuple(out.shape), str(out.dtype).split(".")[-1], np.asarray(out.detach().numpy())
    return out


def check(call, expected, exact=True, values=False):
    """``call(tl)`` gives ``expected`` ((shape, dtype) for a tensor, else an exception type or a value), and, with
    torch installed, what ``call(torch)`` gives; ``exact`` compares exception messages too, ``values`` a tensor's
    elements (not for random or uninitialised ones)."""
    ours = outcome(call, tl)
    if isinstance(expected, type) and issubclass(expected, Exception):
        assert isinstance(ours, expected), ours
    elif isinstance(ours, tuple):
        assert ours[:2] == expected
    else:
        assert ours == expected
    try:
        import torch
    except ImportError:
        return
    theirs = outcome(call, torch)
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), (ours, theirs)
        if exact:
            assert str(ours) == str(theirs)
    elif isinstance(theirs, tuple):
        assert ours[:2] == theirs[:2]
        if values:
            np.testing.assert_array_equal(ours[2], theirs[2])
    else:
        assert ours == theirs


# --------------------------------------------------------------------------------------------- size=
@pytest.mark.parametrize("name", ["zeros", "ones", "rand", "randn", "empty"])
@pytest.mark.parametrize("call, expected, exact", [
    (lambda f, lib: f(size=(1, 1, 8, 8)), ((1, 1, 8, 8), "float32"), True),
    (lambda f, lib: f(size=[2]), ((2,), "float32"), True),
    (lambda f, lib: f(size=()), ((), "float32"), True),
    (lambda f, lib: f(size=lib.Size([2, 3]), dtype=lib.float64), ((2, 3), "float64"), True),
    (lambda f, lib: f((2, 3)), ((2, 3), "float32"), True),
    (lambda f, lib: f(2, 3), ((2, 3), "float32"), True),
    (lambda f, lib: f(size=3), TypeError, True),
    (lambda f, lib: f(2, -1), RuntimeError, True),
    (lambda f, lib: f(2, size=(2,)), TypeError, False),  # rand and randn word it as an overload mismatch
    (lambda f, lib: f(), TypeError, False),
])
def test_creation_size_keyword(name, call, expected, exact):
    check(lambda lib: call(getattr(lib, name), lib), expected, exact)


@pytest.mark.parametrize("call, expected, exact", [
    (lambda lib: lib.full(size=(2, 3), fill_value=7), ((2, 3), "int64"), True),
    (lambda lib: lib.full(fill_value=1.5, size=[2]), ((2,), "float32"), True),
    (lambda lib: lib.full(size=2, fill_value=1), TypeError, True),
    (lambda lib: lib.randint(0, 10, size=(3,)), ((3,), "int64"), True),
    (lambda lib: lib.randint(10, size=(3,)), ((3,), "int64"), True),
    (lambda lib: lib.randint(low=0, high=5, size=(2, 2)), ((2, 2), "int64"), True),
    (lambda lib: lib.randint(high=5, size=(2,)), ((2,), "int64"), True),
    (lambda lib: lib.randint(5, (2,)), ((2,), "int64"), True),
    (lambda lib: lib.randint(3, 10, (2,), dtype=lib.float32), ((2,), "float32"), True),
    (lambda lib: lib.randint(5, size=3), TypeError, True),
    (lambda lib: lib.randint(0, 5), TypeError, False),
])
def test_full_and_randint_size(call, expected, exact):
    check(call, expected, exact, values="full" in call.__code__.co_names)


@pytest.mark.parametrize("call, expected", [
    (lambda lib: lib.rand_like(lib.ones(2, 3)), ((2, 3), "float32")),
    (lambda lib: lib.randn_like(lib.ones(2, dtype=lib.float64)), ((2,), "float64")),
    (lambda lib: lib.randn_like(lib.ones(2), dtype=lib.float64), ((2,), "float64")),
    (lambda lib: lib.randint_like(lib.ones(4), 5), ((4,), "float32")),
    (lambda lib: lib.randint_like(lib.ones(4, dtype=lib.int64), 2, 5), ((4,), "int64")),
])
def test_random_like(call, expected):
    check(call, expected)


def test_randint_draws_within_bounds():
    values = tl.randint(3, 6, size=(1000,)).numpy()
    assert values.min() == 3 and values.max() == 5


# --------------------------------------------------------------------------------------------- legacy constructors
@pytest.mark.parametrize("call, expected, exact, values", [
    (lambda lib: lib.Tensor([[1, 2], [3, 4]]), ((2, 2), "float32"), True, True),
    (lambda lib: lib.Tensor([True, False]), ((2,), "float32"), True, True),
    (lambda lib: lib.Tensor((2, 3)), ((2,), "float32"), True, True),
    (lambda lib: lib.Tensor([]), ((0,), "float32"), True, True),
    (lambda lib: lib.Tensor(), ((0,), "float32"), True, True),
    (lambda lib: lib.Tensor(0), ((0,), "float32"), True, True),
    (lambda lib: lib.Tensor(2, 3), ((2, 3), "float32"), True, False),
    (lambda lib: lib.Tensor(2, 3, 4, 5, 6), ((2, 3, 4, 5, 6), "float32"), True, False),
    (lambda lib: lib.Tensor(lib.Size([2, 3])), ((2, 3), "float32"), True, False),
    (lambda lib: lib.Tensor([1, 2], device="cpu"), ((2,), "float32"), True, True),
    (lambda lib: lib.Tensor(2.5), TypeError, True, True),
    (lambda lib: lib.Tensor(True), TypeError, True, True),
    (lambda lib: lib.Tensor("ab"), TypeError, True, True),
    (lambda lib: lib.Tensor(2, 3.0), TypeError, True, True),
    (lambda lib: lib.Tensor([1, 2], [3]), TypeError, False, True),
    (lambda lib: lib.Tensor(-1), RuntimeError, True, True),
    (lambda lib: lib.Tensor(2, -1), RuntimeError, True, True),
    (lambda lib: lib.Tensor([1], device="cuda"), RuntimeError, True, True),
    (lambda lib: lib.Tensor([[1, 2], [3]]), ValueError, False, True),
    (lambda lib: lib.FloatTensor([1, 2]), ((2,), "float32"), True, True),
    (lambda lib: lib.FloatTensor(), ((0,), "float32"), True, True),
    (lambda lib: lib.DoubleTensor([1]), ((1,), "float64"), True, True),
    (lambda lib: lib.LongTensor([1.7, 2]), ((2,), "int64"), True, True),
    (lambda lib: lib.LongTensor(2, 3), ((2, 3), "int64"), True, False),
    (lambda lib: lib.IntTensor([1]), ((1,), "int32"), True, True),
    (lambda lib: lib.ByteTensor([1, 2]), ((2,), "uint8"), True, True),
    (lambda lib: lib.BoolTensor([1, 0]), ((2,), "bool"), True, True),
    (lambda lib: lib.FloatTensor([1], device="cpu"), ((1,), "float32"), True, True),
])
def test_legacy_constructors(call, expected, exact, values):  # torch leaves Tensor(*sizes) uninitialised
    check(call, expected, exact, values)


def test_legacy_constructor_values_and_type():
    x = tl.Tensor([[1, 2], [3, 4]])
    assert type(x) is tl.Tensor and not x.requires_grad and x.device == tl.device("cpu")
    np.testing.assert_array_equal(x.numpy(), np.array([[1, 2], [3, 4]], np.float32))
    np.testing.assert_array_equal(tl.Tensor(2, 3).numpy(), np.zeros((2, 3), np.float32))  # torch's are garbage
    np.testing.assert_array_equal(tl.LongTensor([1.7, 2]).numpy(), [1, 2])
    assert type(tl.FloatTensor([1])) is tl.Tensor


def test_legacy_constructor_follows_default_dtype():
    tl.set_default_dtype(tl.float64)
    try:
        assert tl.Tensor([1]).dtype is tl.float64 and tl.FloatTensor([1]).dtype is tl.float32
    finally:
        tl.set_default_dtype(tl.float32)


def test_internal_constructor_wraps_arrays_unchanged():
    array = np.arange(3, dtype=np.int32)
    assert tl.Tensor(array)._array is array
    assert tl.Tensor(np.float64(2.0)).shape == ()
    parameter = tl.nn.Parameter(tl.Tensor(3, 4))
    assert parameter.shape == (3, 4) and parameter.requires_grad


@pytest.mark.parametrize("call, expected", [
    (lambda lib: isinstance(lib.ones(2), lib.FloatTensor), True),
    (lambda lib: isinstance(lib.ones(2), lib.DoubleTensor), False),
    (lambda lib: isinstance(lib.ones(2).long(), lib.LongTensor), True),
    (lambda lib: isinstance(lib.ones(2).bool(), lib.BoolTensor), True),
    (lambda lib: isinstance(lib.ones(2), lib.Tensor), True),
    (lambda lib: lib.FloatTensor.dtype == lib.float32, True),
    (lambda lib: lib.ones(2).type().split(".")[-1], "FloatTensor"),
    (lambda lib: lib.ones(2).byte().type().split(".")[-1], "ByteTensor"),
    (lambda lib: lib.ones(2).int().type().split(".")[-1], "IntTensor"),
])
def test_tensor_types(call, expected):
    check(call, expected)


@pytest.mark.parametrize("call, expected", [
    (lambda lib: lib.ones(2).type(lib.LongTensor), ((2,), "int64")),
    (lambda lib: lib.ones(2).type("torch.LongTensor"), ((2,), "int64")),
    (lambda lib: lib.ones(2).type(lib.float64), ((2,), "float64")),
    (lambda lib: lib.ones(2).long().type(lib.float), ((2,), "float32")),
    (lambda lib: lib.ones(2).byte(), ((2,), "uint8")),
])
def test_type_casts(call, expected):
    check(call, expected, values=True)


def test_type_accepts_tensorlite_names():
    assert tl.ones(2).type("tensorlite.DoubleTensor").dtype is tl.float64


# --------------------------------------------------------------------------------------------- axis= / keepdims=
REDUCTIONS = ["sum", "mean", "amax", "amin", "argmax", "argmin", "all", "any", "var", "std"]
X = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 1.5, -2.5, 4.0], [1.0, 1.0, 0.25, -0.5]], np.float32)


@pytest.mark.parametrize("name", REDUCTIONS + ["max", "min"])
def test_numpy_names_equal_torch_names(name):
    x = tl.tensor(X)
    plain = getattr(x, name)(dim=1, keepdim=True)
    for out in (getattr(x, name)(axis=1, keepdims=True), getattr(tl, name)(x, 1, keepdims=True),
                getattr(tl, name)(x, axis=1, keepdim=True)):
        for ours, expected in zip(out if name in ("max", "min") else [out], plain if name in ("max", "min") else [plain]):
            assert ours.shape == (3, 1) and ours.dtype is expected.dtype
            np.testing.assert_array_equal(ours.numpy(), expected.numpy())


@pytest.mark.parametrize("name", REDUCTIONS + ["max", "min"])
@pytest.mark.parametrize("kwargs", [dict(axis=1), dict(axis=0, keepdims=True), dict(axis=(0, 1))])
def test_numpy_names_against_torch(name, kwargs):
    if name in ("max", "min", "argmax", "argmin") and isinstance(kwargs["axis"], tuple):
        kwargs = dict(axis=-1)
    torch = torch_or_skip()
    ours, theirs = getattr(tl.tensor(X), name)(**kwargs), getattr(torch.tensor(X), name)(**kwargs)
    for a, b in zip(ours if name in ("max", "min") else [ours], theirs if name in ("max", "min") else [theirs]):
        assert tuple(a.shape) == tuple(b.shape) and a.dtype.name == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", REDUCTIONS + ["max", "min"])
@pytest.mark.parametrize("kwargs", [dict(dim=1, axis=1), dict(dim=1, keepdim=True, keepdims=True)])
def test_both_spellings_raise(name, kwargs):
    check(lambda lib: getattr(lib, name)(lib.ones(2, 3), **kwargs), TypeError, exact=False)


def test_both_spellings_message():
    with pytest.raises(TypeError, match=r"^sum\(\) got an unexpected keyword argument 'axis'$"):
        tl.ones(2).sum(dim=0, axis=0)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("call, expected", [
    (lambda lib, name: getattr(lib, name)(lib.tensor(X), axis=1), ((3, 4), "float32")),
    (lambda lib, name: getattr(lib.tensor(X), name)(axis=0), ((3, 4), "float32")),
    (lambda lib, name: getattr(lib.nn.functional, name)(lib.tensor(X), axis=1), TypeError),
    (lambda lib, name: getattr(lib, name)(lib.tensor(X), 1, keepdims=True), TypeError),
    (lambda lib, name: getattr(lib, name)(lib.tensor(X), dim=1, axis=1), TypeError),
])
def test_softmax_axis(name, call, expected):
    check(lambda lib: call(lib, name), expected, exact=False)


def test_softmax_axis_equals_dim():
    x = tl.tensor(X)
    np.testing.assert_array_equal(tl.softmax(x, axis=1).numpy(), x.softmax(1).numpy())


# --------------------------------------------------------------------------------------------- dtype mismatches
@pytest.mark.parametrize("shapes, message", [
    (((3,), (3,)), "dot : expected both vectors to have same dtype, but found Float and Double"),
    (((2, 3), (3,)), "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    (((2, 2, 3), (3,)), "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    (((3,), (3, 2)), "expected m1 and m2 to have the same dtype, but got: float != double"),
    (((2, 3), (3, 2)), "expected m1 and m2 to have the same dtype, but got: float != double"),
    (((2, 2, 3), (3, 2)), "expected m1 and m2 to have the same dtype, but got: float != double"),
    (((3,), (2, 3, 2)), "expected scalar type Float but found Double"),
    (((2, 2, 3), (2, 3, 2)), "expected scalar type Float but found Double"),
])
def test_matmul_float32_float64(shapes, message):
    a, b = shapes
    call = lambda lib: lib.randn(*a) @ lib.randn(*b, dtype=lib.float64)  # noqa: E731
    check(call, RuntimeError)
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        call(tl)


@pytest.mark.parametrize("shape", [(4, 3), (3,), (5, 4, 3)])
@pytest.mark.parametrize("bias, message", [
    (True, "mat1 and mat2 must have the same dtype, but got Double and Float"),
    (False, "expected m1 and m2 to have the same dtype, but got: double != float"),
])
def test_linear_float64_input_float32_layer(shape, bias, message):
    def call(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(3, 2, bias=bias)(lib.randn(*shape, dtype=lib.float64))

    check(call, RuntimeError)
    with pytest.raises(RuntimeError, match=f"^{message}$"):
        call(tl)


def test_linear_bias_dtype_checked_first():
    call = lambda lib: lib.nn.functional.linear(  # noqa: E731
        lib.ones(4, 3), lib.ones(2, 3, dtype=lib.float64), lib.ones(2))
    check(call, RuntimeError)
    with pytest.raises(RuntimeError, match="^self and mat2 must have the same dtype, but got Float and Double$"):
        call(tl)


# --------------------------------------------------------------------------------------------- backends, accelerator
def test_backend_flags():
    import tensorlite.backends.cudnn as cudnn

    assert (cudnn.enabled, cudnn.benchmark, cudnn.deterministic) == (True, False, False)
    assert not tl.backends.cudnn.is_available() and tl.backends.cudnn.version() is None
    assert not tl.backends.mps.is_available() and not tl.backends.mps.is_built()
    tl.backends.cudnn.benchmark = True
    try:
        assert cudnn.benchmark and tl.backends.kernels() in ("fast", "reference")
        assert tl.backends.backend_for(tl.device("cpu")).__name__.startswith("tensorlite.backends.cpu")
    finally:
        tl.backends.cudnn.benchmark = False


def test_backend_flag_defaults_are_torch_defaults():
    torch = torch_or_skip()
    for flag in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(tl.backends.cudnn, flag) == getattr(torch.backends.cudnn, flag)


def test_accelerator():
    if tl.cuda.is_available():
        assert tl.accelerator.is_available() and tl.accelerator.current_accelerator() == tl.device("cuda")
        assert tl.accelerator.device_count() == tl.cuda.device_count() >= 1
    else:
        assert not tl.accelerator.is_available() and tl.accelerator.current_accelerator() is None
        assert tl.accelerator.device_count() == tl.cuda.device_count() == 0
    device = tl.accelerator.current_accelerator() or tl.device("cpu")
    assert tl.ones(2, device=device).device.type == device.type


def test_cuda_manual_seed_leaves_the_host_stream_alone():
    tl.manual_seed(3)
    first = tl.rand(4)
    tl.manual_seed(3)
    tl.cuda.manual_seed(7)
    tl.cuda.manual_seed_all(7)
    np.testing.assert_array_equal(tl.rand(4).numpy(), first.numpy())


# --------------------------------------------------------------------------------------------- smooth L1
@pytest.mark.parametrize("beta, loss, grad", [
    (1.0, [0.0, 0.125, 0.5, 1.5, 2.5, float("inf")], [0.0, 0.5, 1.0, 1.0, -1.0, 1.0]),
    (2.0, [0.0, 0.0625, 0.25, 1.0, 2.0, float("inf")], [0.0, 0.25, 0.5, 1.0, -1.0, 1.0]),
    (0.0, [0.0, 0.5, 1.0, 2.0, 3.0, float("inf")], [0.0, 1.0, 1.0, 1.0, -1.0, 1.0]),
])
def test_smooth_l1_loss_and_gradient(beta, loss, grad):
    def losses(lib):
        x = lib.tensor([0.0, 0.5, 1.0, 2.0, -3.0, float("inf")], requires_grad=True)
        out = lib.nn.functional.smooth_l1_loss(x, lib.zeros(6), reduction="none", beta=beta)
        out.sum().backward()
        return out.detach(), x.grad

    check(lambda lib: losses(lib)[0], ((6,), "float32"), values=True)
    check(lambda lib: losses(lib)[1], ((6,), "float32"), values=True)
    out, x_grad = losses(tl)
    np.testing.assert_array_equal(out.numpy(), loss)
    np.testing.assert_array_equal(x_grad.numpy(), grad)


@pytest.mark.parametrize("call, expected", [
    (lambda lib: lib.nn.SmoothL1Loss()(lib.ones(2, 3), lib.zeros(2, 3, dtype=lib.float64)), ((), "float64")),
    (lambda lib: lib.nn.SmoothL1Loss(reduction="sum", beta=0.5)(lib.ones(2, 3), lib.zeros(2, 3)), ((), "float32")),
    (lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.zeros(2), beta=-1.0), RuntimeError),
    (lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.zeros(2), reduction="all"), ValueError),
    (lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.zeros(2)).grad_fn is None, True),
    (lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(2, requires_grad=True), lib.zeros(2)).grad_fn.name(),
     "SmoothL1LossBackward0"),
])
def test_smooth_l1_loss_layer_and_errors(call, expected):
    check(call, expected, values=True)


# --------------------------------------------------------------------------------------------- torchvision.utils
def read_png(content):
    """The pixels ``(H, W, C)`` of an 8-bit, unfiltered RGB or RGBA PNG, read with zlib alone."""
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(content):
        size = int.from_bytes(content[at:at + 4], "big")
        kind, data = content[at + 4:at + 8], content[at + 8:at + 8 + size]
        assert int.from_bytes(content[at + 8 + size:at + 12 + size], "big") == zlib.crc32(kind + data)
        chunks[kind] = chunks.get(kind, b"") + data
        at += 12 + size
    width, height = int.from_bytes(chunks[b"IHDR"][:4], "big"), int.from_bytes(chunks[b"IHDR"][4:8], "big")
    channels = {2: 3, 6: 4}[chunks[b"IHDR"][9]]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * channels)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels)


def test_make_grid_layout():
    from tensorlite.utils.image import make_grid

    images = tl.arange(1, 6, dtype=tl.float32).view(5, 1, 1, 1).expand(5, 1, 2, 3)
    grid = make_grid(images, nrow=2, padding=1, pad_value=-1.0)
    assert tuple(grid.shape) == (3, 3 * 3 + 1, 2 * 4 + 1)
    np.testing.assert_array_equal(grid[0, 1:3, 1:4].numpy(), np.full((2, 3), 1.0))
    np.testing.assert_array_equal(grid[2, 4:6, 5:8].numpy(), np.full((2, 3), 4.0))
    np.testing.assert_array_equal(grid[1, 7:9, 1:4].numpy(), np.full((2, 3), 5.0))
    np.testing.assert_array_equal(grid[:, 7:9, 5:8].numpy(), np.full((3, 2, 3), -1.0))  # no sixth image
    assert (grid[:, 0].numpy() == -1).all() and (grid[:, :, 4].numpy() == -1).all()
    assert tuple(make_grid(tl.rand(64, 1, 28, 28)).shape) == (3, 242, 242)
    assert tuple(make_grid(tl.rand(1, 3, 5, 4)).shape) == (3, 5, 4)  # one image: no padding
    assert tuple(make_grid([tl.rand(3, 5, 4)] * 3, nrow=3, padding=0).shape) == (3, 5, 12)


def test_make_grid_normalize():
    from tensorlite.utils.image import make_grid

    images = tl.tensor([[[[-2.0, 0.0]]], [[[2.0, 6.0]]]])
    whole = make_grid(images, padding=0, normalize=True)
    np.testing.assert_allclose(whole[0].numpy(), [[0.0, 0.25, 0.5, 1.0]])
    each = make_grid(images, padding=0, normalize=True, scale_each=True)
    np.testing.assert_allclose(each[0].numpy(), [[0.0, 1.0, 0.0, 1.0]])
    clamped = make_grid(images, padding=0, normalize=True, value_range=(0.0, 2.0))
    np.testing.assert_allclose(clamped[0].numpy(), [[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(images, normalize=True, value_range=[0.0, 2.0])


def test_save_image_writes_the_grid_as_png(tmp_path):
    from tensorlite.utils.image import save_image

    images = tl.tensor([0.0, 0.5, 1.0, 2.0]).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    save_image(images, tmp_path / "grid.png", nrow=4, padding=1)
    pixels = read_png((tmp_path / "grid.png").read_bytes())
    assert pixels.shape == (4, 13, 3)
    assert [pixels[1, 1 + 3 * k, 0] for k in range(4)] == [0, 128, 255, 255]  # round(255 v), clamped
    assert pixels[0].max() == 0 and (pixels[:, :, 0] == pixels[:, :, 2]).all()
    with pytest.raises(ValueError, match="PNG files only, got format 'jpg'"):
        save_image(images, tmp_path / "grid.jpg")

