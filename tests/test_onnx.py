"""tl.onnx.export: the written file passes the ONNX checker, and onnxruntime computes tensorlite's outputs from it."""
import subprocess
import sys

import numpy as np
import pytest

import tensorlite as tl
from tensorlite import nn
from tensorlite.nn import functional as F
from tensorlite.train.mnist import MNISTNet

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RTOL, ATOL = 1e-4, 1e-5


def export_and_run(model, example, run_input, path, **options):
    """Export ``model`` traced on ``example``, check the file, run it on ``run_input`` with onnxruntime and compare
    with tensorlite's eval-mode outputs. Returns the loaded ModelProto and the largest absolute difference."""
    tl.onnx.export(model, example, path, **options)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = run_input if isinstance(run_input, tuple) else (run_input,)
    feeds = {arg.name: x.numpy() for arg, x in zip(session.get_inputs(), inputs)}
    got = session.run(None, feeds)
    model.eval()
    with tl.no_grad():
        want = model(*inputs)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    worst = 0.0
    for g, w in zip(got, want):
        w = w.numpy()
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
        worst = max(worst, float(np.abs(g - w).max()))
    return proto, worst


def node_types(proto):
    return [node.op_type for node in proto.graph.node]


def test_mnist_net_runs_in_onnxruntime(tmp_path):
    tl.manual_seed(0)
    model = MNISTNet()
    proto, _ = export_and_run(model, tl.randn(2, 1, 28, 28), tl.randn(7, 1, 28, 28), tmp_path / "mnist.onnx")
    assert node_types(proto) == ["Conv", "MaxPool", "Relu", "Conv", "MaxPool", "Relu", "Reshape", "Gemm"]
    initializers = {init.name for init in proto.graph.initializer}
    assert {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"} <= initializers
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["output"]


class BNPoolNet(nn.Module):
    """Conv-BN-ReLU-MaxPool-Dropout-AvgPool-Flatten-Linear, with padded and ceil-mode pooling."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)
        self.drop = nn.Dropout(0.5)
        self.avg = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        x = self.drop(self.pool(F.relu(self.bn(self.conv(x)))))  # (N, 8, 7, 7)
        return self.fc(self.flatten(self.avg(x)))  # avg: (N, 8, 4, 4)


def with_running_stats(model, shape, steps=3):
    """Give every batch norm of ``model`` running statistics far from 0 and 1 (a few training-mode passes, then
    values set outright) and affine parameters away from 1 and 0, so that exporting the wrong ones would show."""
    model.train()
    with tl.no_grad():
        for _ in range(steps):
            model(tl.randn(*shape) * 3 + 2)
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.copy_(tl.randn(module.num_features) * 2)
                module.running_var.copy_(tl.rand(module.num_features) * 4 + 0.25)
                if module.affine:
                    module.weight.copy_(tl.rand(module.num_features) + 0.5)
                    module.bias.copy_(tl.randn(module.num_features))
    return model


def test_batch_norm_pool_dropout_net(tmp_path):
    tl.manual_seed(1)
    model = with_running_stats(BNPoolNet(), (4, 3, 14, 14))
    proto, _ = export_and_run(model, tl.randn(2, 3, 14, 14), tl.randn(3, 3, 14, 14), tmp_path / "bn.onnx")
    assert node_types(proto) == ["Conv", "BatchNormalization", "Relu", "MaxPool", "AveragePool", "Reshape", "Gemm"]
    assert {"bn.running_mean", "bn.running_var", "bn.weight", "bn.bias"} <= {i.name for i in proto.graph.initializer}


class AdaptiveNet(nn.Module):
    """Batch norm without affine parameters, then adaptive average pooling to 2x2 and to 1x1."""

    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(4, affine=False)
        self.to2 = nn.AdaptiveAvgPool2d((2, 2))
        self.to1 = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.bn(x)
        return self.to2(x), self.to1(x).flatten(1)


def test_adaptive_average_pooling(tmp_path):
    tl.manual_seed(2)
    model = with_running_stats(AdaptiveNet(), (3, 4, 6, 8))
    proto, _ = export_and_run(model, tl.randn(2, 4, 6, 8), tl.randn(4, 4, 6, 8), tmp_path / "adaptive.onnx")
    assert node_types(proto).count("GlobalAveragePool") == 1 and node_types(proto).count("AveragePool") == 1


def test_adaptive_pool_to_a_size_that_does_not_divide_is_refused(tmp_path):
    model = nn.AdaptiveAvgPool2d(3)
    with pytest.raises(NotImplementedError, match="adaptive_avg_pool2d from 7x7 to 3x3"):
        tl.onnx.export(model, tl.randn(2, 1, 7, 7), tmp_path / "a.onnx")


class ConvZoo(nn.Module):
    """Every argument of Conv2d: 'same' with an even kernel height (one more row of padding after than before, an
    ONNX Pad), stride, dilation, groups, no
    bias, 'valid'; with LeakyReLU, Sigmoid and Tanh between."""

    def __init__(self):
        super().__init__()
        self.same = nn.Conv2d(4, 8, (4, 3), padding="same", dilation=(1, 2), groups=2)
        self.strided = nn.Conv2d(8, 8, 3, stride=2, padding=(1, 2), bias=False)
        self.valid = nn.Conv2d(8, 4, (3, 2), stride=(2, 1), padding="valid", dilation=(1, 2), groups=4)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x):
        x = self.act(self.same(x))
        x = self.strided(x).sigmoid()
        return tl.tanh(self.valid(x))


def test_conv_arguments(tmp_path):
    tl.manual_seed(3)
    model = ConvZoo()
    proto, _ = export_and_run(model, tl.randn(2, 4, 13, 11), tl.randn(3, 4, 13, 11), tmp_path / "conv.onnx")
    assert node_types(proto) == ["Pad", "Conv", "LeakyRelu", "Conv", "Sigmoid", "Conv", "Tanh"]
    conv = [node for node in proto.graph.node if node.op_type == "Conv"]
    attributes = {a.name: onnx.helper.get_attribute_value(a) for a in conv[2].attribute}
    assert attributes["strides"] == [2, 1] and attributes["dilations"] == [1, 2] and attributes["group"] == 4


class ResidualBlock(nn.Module):
    """relu(x + bn(conv(relu(bn(conv(x)))))) with an in-place ReLU, then a sigmoid gate: x * sigmoid(x)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = F.relu(x + self.bn2(self.conv2(y)))
        return y * y.sigmoid()


def test_residual_block_with_add(tmp_path):
    tl.manual_seed(4)
    model = with_running_stats(ResidualBlock(6), (4, 6, 8, 8))
    proto, _ = export_and_run(model, tl.randn(2, 6, 8, 8), tl.randn(3, 6, 8, 8), tmp_path / "residual.onnx")
    types = node_types(proto)
    assert types.count("Add") == 1 and types.count("Mul") == 1 and types.count("BatchNormalization") == 2
    add = next(node for node in proto.graph.node if node.op_type == "Add")
    assert "input" in add.input  # the skip connection reads the block's input itself


class Heads(nn.Module):
    """A linear layer with three heads: probabilities, log-probabilities along the last axis, and a softmax over
    the batch axis from x.view(x.size(0), -1)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(12, 6)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        scores = self.fc(x.view(x.size(0), -1))
        return self.softmax(scores), F.log_softmax(scores, dim=-1), scores.softmax(0)


def test_softmax_and_log_softmax_heads(tmp_path):
    tl.manual_seed(5)
    proto, _ = export_and_run(
        Heads(), tl.randn(2, 3, 4), tl.randn(2, 3, 4), tmp_path / "heads.onnx", output_names=["p", "logp", "q"]
    )
    assert [o.name for o in proto.graph.output] == ["p", "logp", "q"]
    axes = [onnx.helper.get_attribute_value(n.attribute[0]) for n in proto.graph.node if "Softmax" in n.op_type]
    assert axes == [1, 1, 0]


def test_dynamic_batch(tmp_path):
    tl.manual_seed(6)
    model = MNISTNet()
    proto, _ = export_and_run(model, tl.randn(2, 1, 28, 28), tl.randn(5, 1, 28, 28), tmp_path / "dynamic.onnx")
    for value in list(proto.graph.input) + list(proto.graph.output):
        assert value.type.tensor_type.shape.dim[0].dim_param == "batch"


def test_fixed_batch(tmp_path):
    tl.manual_seed(6)
    path = tmp_path / "fixed.onnx"
    model = MNISTNet()
    proto = tl.onnx.export(model, tl.randn(2, 1, 28, 28), path, dynamic_batch=False)
    assert model.training  # export put the model in eval mode for the trace only
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert session.run(None, {"input": np.zeros((2, 1, 28, 28), np.float32)})[0].shape == (2, 10)
    with pytest.raises(Exception, match="dimension"):
        session.run(None, {"input": np.zeros((5, 1, 28, 28), np.float32)})


class Exponential(nn.Module):
    def forward(self, x):
        return x.exp()


def test_unsupported_op_is_named(tmp_path):
    with pytest.raises(NotImplementedError, match="tl.onnx.export does not support Exp yet"):
        tl.onnx.export(Exponential(), tl.randn(2, 3), tmp_path / "exp.onnx")
    assert not (tmp_path / "exp.onnx").exists()
    tl.randn(2, 3).exp()  # a failed export leaves no tracer behind


def test_pool_indices_are_refused(tmp_path):
    class Unpooling(nn.Module):
        def forward(self, x):
            out, indices = F.max_pool2d(x, 2, return_indices=True)
            return out + indices.float()

    with pytest.raises(NotImplementedError, match="indices"):
        tl.onnx.export(Unpooling(), tl.randn(2, 1, 4, 4), tmp_path / "indices.onnx")


def test_checker_accepts_the_file_and_import_does_not_load_onnx(tmp_path):
    path = tmp_path / "checked.onnx"
    tl.onnx.export(MNISTNet(), tl.randn(2, 1, 28, 28), path, input_names=["images"], output_names=["scores"])
    onnx.checker.check_model(str(path), full_check=True)
    model = onnx.load(str(path))
    assert model.producer_name == "tensorlite" and model.opset_import[0].version == 17
    assert [i.name for i in model.graph.input] == ["images"]
    code = "import sys, tensorlite; assert 'onnx' not in sys.modules and callable(tensorlite.onnx.export)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_opset_below_13_is_refused(tmp_path):
    with pytest.raises(ValueError, match="opset_version"):
        tl.onnx.export(MNISTNet(), tl.randn(2, 1, 28, 28), tmp_path / "old.onnx", opset_version=11)
