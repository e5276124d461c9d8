"""profile(model, input): one row per leaf layer and per functional op call, in forward order, with the kernel route
the layer took, exact FLOP counts, totals that are the sums of the rows, a chart, and ``tensorlite profile``.
No test asserts a time: the machines that run them are shared."""
import pytest

import tensorlite as tl
from tensorlite import cli, nn
from tensorlite.nn import functional as F
from tensorlite.train.mnist import MNISTNet
from tensorlite.utils import Profile, profile

CEILING = 10.0  # GFLOP/s: a fixed ceiling, so that no test spends time measuring one


@pytest.fixture(autouse=True)
def same_kernel_set():
    """Each test leaves the kernel set as it found it."""
    before = tl.backends.kernels()
    yield
    tl.use_kernels(before)


def mnist_profile(batch=4):
    tl.manual_seed(0)
    return profile(MNISTNet(), tl.randn(batch, 1, 28, 28), repeat=1, ceiling_gflops=CEILING)


def conv_route(conv, shape):
    result = profile(nn.Sequential(conv), tl.randn(*shape, requires_grad=True), repeat=1, ceiling_gflops=CEILING)
    return result.rows[0].route


def test_rows_follow_mnistnet_forward_with_functional_ops_and_the_loss():
    result = mnist_profile()
    assert isinstance(result, Profile)
    assert [(row.name, row.kind) for row in result.rows] == [
        ("conv1", "Conv2d"), ("(functional)", "MaxPool2d"), ("(functional)", "ReLU"),
        ("conv2", "Conv2d"), ("(functional)", "MaxPool2d"), ("(functional)", "ReLU"), ("(functional)", "Reshape"),
        ("fc", "Linear"), ("(loss)", "Sum"),
    ]
    assert [row.input_shape for row in result.rows[:4]] == [(4, 1, 28, 28), (4, 10, 24, 24), (4, 10, 12, 12),
                                                           (4, 10, 12, 12)]
    assert result.rows[7].input_shape == (4, 320)
    assert all(row.forward_ms > 0 for row in result.rows)
    assert all(row.backward_ms > 0 for row in result.rows if row.kind in ("Conv2d", "Linear", "MaxPool2d"))


def test_flop_counts_are_exact_for_the_mnist_shapes():
    result = mnist_profile(batch=4)
    conv1, conv2, fc = (next(row for row in result.rows if row.name == name) for name in ("conv1", "conv2", "fc"))
    # conv1: 2 * N * C_out * 24 * 24 * C_in * 5 * 5; its input is data, so backward is the weight gradient only
    assert conv1.forward_flops == 2 * 4 * 10 * 24 * 24 * 1 * 25 and conv1.backward_flops == conv1.forward_flops
    # conv2: 2 * N * 20 * 8 * 8 * 10 * 25; backward adds the weight and the input gradient
    assert conv2.forward_flops == 2 * 4 * 20 * 8 * 8 * 10 * 25 and conv2.backward_flops == 2 * conv2.forward_flops
    assert fc.forward_flops == 2 * 4 * 10 * 320 and fc.backward_flops == 2 * fc.forward_flops
    pools = [row for row in result.rows if row.kind in ("MaxPool2d", "ReLU")]
    assert all(row.flops is None and row.gflops is None for row in pools)  # memory-bound: not counted


def test_totals_are_the_sums_of_the_rows_and_the_table_shows_them():
    result = mnist_profile()
    total = result.total
    assert total.forward_ms == pytest.approx(sum(row.forward_ms for row in result.rows))
    assert total.backward_ms == pytest.approx(sum(row.backward_ms for row in result.rows))
    assert total.flops == sum(row.flops for row in result.rows if row.flops is not None)
    assert total.gflops == pytest.approx(total.flops / total.total_ms / 1e6)
    conv2 = result.rows[3]
    assert result.percent_of_ceiling(conv2) == pytest.approx(100 * conv2.gflops / CEILING)
    lines = str(result).splitlines()
    header = next(line for line in lines if line.startswith("Name"))
    total_line = next(line for line in lines if line.startswith("Total"))
    assert len(total_line) == len(header)  # aligned columns
    assert f"{total.total_ms:.3f}" in total_line and f"{total.flops / 1e6:.1f}" in total_line
    assert sum(1 for line in lines if line.startswith(("conv", "fc", "(functional)", "(loss)"))) == len(result.rows)


@pytest.mark.fast_kernels
def test_routes_are_the_ones_the_fast_kernels_take():
    result = mnist_profile()
    routes = {row.name: row.route for row in result.rows}
    assert routes["conv1"] == "direct" and routes["conv2"] == "im2col + GEMM" and routes["fc"] == "GEMM (BLAS)"
    assert result.rows[1].route == "Numba loop"  # max_pool2d
    assert conv_route(nn.Conv2d(20, 8, 3, padding=1), (2, 20, 6, 6)) == "im2col + GEMM"  # 180-value window
    assert conv_route(nn.Conv2d(32, 8, 3, padding=1), (2, 32, 6, 6)) == "winograd"
    assert conv_route(nn.Conv2d(32, 8, 3, padding=2, dilation=2), (2, 32, 6, 6)) == "im2col + GEMM"
    assert conv_route(nn.Conv2d(3, 8, 3, stride=2), (2, 3, 9, 9)) == "im2col + GEMM"  # stride 2
    assert conv_route(nn.Conv2d(3, 8, 3), (2, 3, 9, 9)) == "direct"
    assert conv_route(nn.Conv2d(8, 8, 3, groups=8), (2, 8, 9, 9)) == "depthwise"
    assert conv_route(nn.BatchNorm2d(4), (2, 4, 5, 5)) == "Numba loop"


def test_the_reference_kernel_set_is_named_as_the_route():
    tl.use_kernels("reference")
    result = mnist_profile()
    assert result.kernels == "reference"
    assert [row.route for row in result.rows if row.kind in ("Conv2d", "MaxPool2d")] == ["reference"] * 4
    assert result.rows[7].route == "GEMM (BLAS)"  # matmul is NumPy's in both sets
    assert "reference kernels" in str(result)


def test_a_given_loss_gets_one_row_and_the_grads_are_those_of_a_plain_step():
    tl.manual_seed(0)
    model, x, target = nn.Sequential(nn.Linear(6, 3)), tl.randn(5, 6), tl.tensor([0, 1, 2, 0, 1])
    result = profile(model, x, repeat=2, loss_fn=lambda out: F.cross_entropy(out, target), ceiling_gflops=CEILING)
    assert [(row.name, row.kind) for row in result.rows] == [("0", "Linear"), ("(loss)", "CrossEntropy")]
    profiled = model[0].weight.grad.clone()
    model[0].weight.grad = None
    F.cross_entropy(model(x), target).backward()
    assert tl.allclose(profiled, model[0].weight.grad)
    # the watcher and the hooks are gone once profile returns
    assert tl.autograd.function._op_watcher is None and not model[0]._forward_hooks and not model[0]._forward_pre_hooks


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="repeat must be at least 1"):
        profile(nn.Linear(2, 2), tl.randn(1, 2), repeat=0)


def test_chart_is_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "profile" / "mnist.png"
    mnist_profile().save_chart(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_prints_the_table_and_writes_the_chart(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "mnist.png"
    cli.main(["profile", "mnist", "--batch-size", "4", "--repeat", "1", "--png", str(path)])
    out = capsys.readouterr().out
    assert "conv1" in out and "(loss)" in out and "CrossEntropy" in out and "Total" in out
    assert f"chart written to {path}" in out and path.read_bytes()[:4] == b"\x89PNG"


def test_cli_refuses_a_zero_repeat():
    with pytest.raises(SystemExit, match="--repeat must be at least 1"):
        cli.main(["profile", "mnist", "--repeat", "0"])
