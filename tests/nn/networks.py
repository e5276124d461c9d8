"""Random small CNNs trained a few steps in tensorlite and in torch from the same weights: the whole-program check of
the CNN layers, as ``tests/autograd/programs.py`` is for autograd.

A network is a list of layers written as torch-style constructor calls, drawn so that every shape is valid:
convolutions (any stride, padding, 'same', dilation, groups, depthwise, with or without bias; 32-channel 3x3 ones
that take the Winograd route), max and average pooling (padding, ceil_mode, count_include_pad), BatchNorm2d,
GroupNorm, InstanceNorm2d, LayerNorm, nearest Upsample, activations (ReLU in place or not, LeakyReLU, Tanh,
Sigmoid, Softplus), residual blocks x + conv(x), adaptive average pooling, then Flatten and Linear to 3 classes.
Both libraries build it with the same weights and train it three steps on one batch: one of six losses, gradients
clipped by norm or by value or not, then SGD (momentum, weight decay, Nesterov), Adadelta, Adam, AdamW, RMSprop or
Adagrad, over all parameters or in two groups (the biases and norm weights with their own learning rate and no
weight decay), stepped by a learning-rate schedule or not, and resumed after the first step or not (a new
optimiser and schedule loading the old ones' state_dicts, as a checkpoint does); then evaluate it in eval mode.
Every loss, every parameter and buffer after training, and the eval output must agree, in float64 tightly and in
float32 within the fast kernels' rounding (see ``random_network`` for what is left out and why). Where torch
raises (an in-place ReLU over an output that Tanh or Sigmoid saved for backward) tensorlite must raise at the same
step, an exception of the same type.
The long run:

    python -m tests.nn.networks --count 2000 --seed 0
"""
import argparse
import random
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

import tensorlite as tl
from tensorlite.backends.geometry import conv_output_size

STEPS, CLASSES = 3, 3
LOSSES = (  # written over the network's output, the class targets y and the float targets t (both libraries' F)
    "F.cross_entropy(out, y)",
    "F.cross_entropy(out, y, label_smoothing=0.1)",
    "F.nll_loss(F.log_softmax(out, dim=1), y)",
    "F.mse_loss(out, t)",
    "F.l1_loss(out, t)",
    "F.smooth_l1_loss(out, t)",
)
TOLERANCES = {"float64": dict(rtol=1e-7, atol=1e-9), "float32": dict(rtol=2e-3, atol=2e-4)}


@dataclass(frozen=True)
class Network:
    """What ``build`` makes and ``train`` runs: the input's shape; the layers, optimiser, loss and clipping as code."""

    input_shape: tuple
    layers: tuple
    optimizer: str
    loss: str
    clip: str  # between backward and step: a clip_grad_*_ call, or "" for none
    dtype: str
    seed: int
    schedule: str = ""  # an lr_scheduler over ``optimizer``, stepped after each step, or "" for none
    resume: bool = False  # after the first step, a new optimizer and schedule load the old ones' state_dicts

    def listing(self):
        layers = "\n".join(f"    {layer}," for layer in self.layers)
        return (f"# network of seed {self.seed}, {self.dtype}, input {self.input_shape}\n"
                f"model = nn.Sequential(\n{layers}\n)\noptimizer = {self.optimizer}\nloss = {self.loss}\n"
                f"clip: {self.clip or 'none'}\nschedule: {self.schedule or 'none'}\n"
                f"resumed after step 0: {self.resume}")


def pool_output_size(n, kernel, stride, padding, ceil_mode):
    """torch's pooling output size: ceil mode keeps a last window that starts inside the input or its left padding."""
    span = n + 2 * padding - kernel
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    return out - 1 if ceil_mode and (out - 1) * stride >= n + padding else out


class NetworkBuilder:
    """Draws layers from ``rng``, keeping the (channels, height, width) they leave; normalisation layers only if
    ``normalise``."""

    def __init__(self, rng, normalise):
        self.rng = rng
        self.normalise = normalise
        self.layers = []

    def draw(self, input_shape):
        self.batch, self.shape = input_shape[0], input_shape[1:]
        for _ in range(self.rng.randint(1, 5)):
            kind = self.rng.choice([self.conv, self.conv, self.wide_conv, self.max_pool, self.avg_pool,
                                    self.batch_norm, self.other_norm, self.upsample, self.activation,
                                    self.activation, self.residual])
            kind()
        if self.rng.random() < 0.3 and min(self.shape[1:]) >= 2:
            size = self.rng.choice([1, 2])
            self.layers.append(f"nn.AdaptiveAvgPool2d({size})")
            self.shape = (self.shape[0], size, size)
        c, h, w = self.shape
        self.layers += ["nn.Flatten()", f"nn.Linear({c * h * w}, {CLASSES})"]
        return tuple(self.layers)

    def conv(self, c_out=None, kernel=None, stride=None, dilation=None, groups=None):
        c_in, h, w = self.shape
        rng = self.rng
        if groups is None:
            if rng.random() < 0.2:  # depthwise, with a depth multiplier
                groups, c_out = c_in, c_in * rng.choice([1, 2])
            else:
                c_out = c_out or rng.randint(1, 6)
                groups = rng.choice([g for g in (1, 2, 3) if c_in % g == 0 and c_out % g == 0])
        kernel = kernel or (rng.choice([1, 2, 3, 5]), rng.choice([1, 2, 3]))
        stride = stride or rng.choice([1, 1, 2, (2, 1)])
        dilation = dilation or rng.choice([1, 1, 2])
        strides = (stride, stride) if isinstance(stride, int) else stride
        if strides == (1, 1) and rng.random() < 0.3:
            padding, out_hw = "'same'", (h, w)
        else:
            padding = rng.randint(0, kernel[0] // 2 + 1)
            out_hw = tuple(conv_output_size(n, k, s, padding, dilation) for n, k, s in zip((h, w), kernel, strides))
            if min(out_hw) < 1:
                return
        bias = rng.random() < 0.7
        self.layers.append(f"nn.Conv2d({c_in}, {c_out}, kernel_size={kernel}, stride={stride}, padding={padding}, "
                           f"dilation={dilation}, groups={groups}, bias={bias})")
        self.shape = (c_out, *out_hw)

    def wide_conv(self):
        """A 1x1 convolution to 32 channels, then a 3x3 one from them: the Winograd route."""
        if max(self.shape[1:]) > 8:
            return
        self.conv(c_out=32, kernel=(1, 1), stride=1, dilation=1, groups=1)
        self.conv(c_out=self.rng.randint(1, 4), kernel=(3, 3), stride=1, dilation=1, groups=1)

    def pool(self, kind, extra):
        c, h, w = self.shape
        kernel = self.rng.choice([2, 2, 3])
        stride = self.rng.choice([None, 1, 2])
        padding = self.rng.randint(0, kernel // 2)
        ceil_mode = self.rng.random() < 0.3
        out_hw = tuple(pool_output_size(n, kernel, stride or kernel, padding, ceil_mode) for n in (h, w))
        if min(out_hw) < 1 or kernel > min(h, w) + 2 * padding:
            return
        self.layers.append(f"nn.{kind}({kernel}, stride={stride}, padding={padding}, ceil_mode={ceil_mode}{extra})")
        self.shape = (c, *out_hw)

    def max_pool(self):
        self.pool("MaxPool2d", "")

    def avg_pool(self):
        self.pool("AvgPool2d", f", count_include_pad={self.rng.random() < 0.5}")

    def batch_norm(self):
        """Only over 8 values per channel or more: over fewer, pooling can make a channel constant, which torch
        normalises to +-2e-14 rather than 0, and an activation's kink there (LeakyReLU's slope at 0) then flips."""
        if self.batch * self.shape[1] * self.shape[2] < 8 or not self.normalise:
            return
        self.layers.append(f"nn.BatchNorm2d({self.shape[0]}, affine={self.rng.random() < 0.7})")

    def other_norm(self):
        """GroupNorm, InstanceNorm2d or LayerNorm over (C, H, W), each over 8 values or more (see batch_norm)."""
        c, h, w = self.shape
        if not self.normalise:
            return
        kind = self.rng.choice(["group", "instance", "layer"])
        affine = self.rng.random() < 0.7
        if kind == "group" and c * h * w >= 8:
            groups = self.rng.choice([g for g in (1, 2, 3, c) if c % g == 0])
            self.layers.append(f"nn.GroupNorm({groups}, {c}, affine={affine})")
        elif kind == "instance" and h * w >= 8:
            self.layers.append(f"nn.InstanceNorm2d({c}, affine={affine})")
        elif kind == "layer" and c * h * w >= 8:
            self.layers.append(f"nn.LayerNorm([{c}, {h}, {w}], elementwise_affine={affine})")

    def upsample(self):
        c, h, w = self.shape
        if max(h, w) <= 6:
            self.layers.append("nn.Upsample(scale_factor=2, mode='nearest')")
            self.shape = (c, 2 * h, 2 * w)

    def activation(self):
        self.layers.append(self.rng.choice(["nn.ReLU()", "nn.ReLU(inplace=True)", "nn.LeakyReLU(0.1)", "nn.Tanh()",
                                            "nn.Sigmoid()", "nn.Softplus()"]))

    def residual(self):
        c = self.shape[0]
        self.layers.append(f"Residual(nn.Conv2d({c}, {c}, kernel_size=3, padding=1, bias=True))")


# the two parameter groups of a common recipe: no weight decay, and here another learning rate, for biases and norms
GROUPS = ("[{'params': [p for p in model.parameters() if p.dim() > 1]}, "
          "{'params': [p for p in model.parameters() if p.dim() <= 1], 'lr': 0.02, 'weight_decay': 0.0}]")
SCHEDULES = (
    "optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)",
    "optim.lr_scheduler.MultiStepLR(optimizer, milestones=[1, 2], gamma=0.3)",
    "optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)",
    "optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=2)",
)


def random_network(seed, dtype):
    rng = random.Random(seed)
    input_shape = (rng.randint(1, 3), rng.randint(1, 4), rng.randint(4, 10), rng.randint(4, 10))
    decay = rng.choice([0.0, 1e-3])
    momentum = rng.choice([0.0, 0.9])
    params = rng.choice(["model.parameters()", "model.parameters()", GROUPS])
    plain = [
        f"optim.SGD({params}, lr=0.05, momentum={momentum}, weight_decay={decay}, "
        f"nesterov={momentum > 0 and rng.random() < 0.3})",
        f"optim.Adadelta({params})",
    ]
    # Adam, Adagrad and RMSprop scale each gradient by its own size, so a gradient that is 0 plus rounding steps by
    # about lr, in whichever direction each library's rounding left it. Normalisation layers make such gradients
    # (the bias or scale of a layer that the next normalisation takes out again), and float32's rounding leaves
    # them wherever a weight's gradient nearly cancels: these optimisers train float64 networks without
    # normalisation layers, with Adagrad's eps raised from 1e-10 (which lets even a float64 1e-16 through as 1e-7).
    adaptive = [
        f"optim.Adam({params}, lr=0.01, weight_decay={decay}, amsgrad={rng.random() < 0.3})",
        f"optim.AdamW({params}, lr=0.01, weight_decay={rng.choice([0.0, 0.01])})",
        f"optim.RMSprop({params}, lr=0.01, momentum={momentum}, centered={rng.random() < 0.5})",
        f"optim.Adagrad({params}, lr=0.1, weight_decay={decay}, eps=1e-6)",
    ]
    optimizer = rng.choice(plain + adaptive if dtype == "float64" else plain)
    layers = NetworkBuilder(rng, normalise=optimizer in plain).draw(input_shape)
    loss = rng.choice(LOSSES)
    clip = rng.choice(["", "", "nn.utils.clip_grad_norm_(model.parameters(), 0.5)",
                       "nn.utils.clip_grad_norm_(model.parameters(), 1.0, norm_type='inf')",
                       "nn.utils.clip_grad_value_(model.parameters(), 0.1)"])
    schedule = rng.choice(("", "") + SCHEDULES)
    return Network(input_shape, layers, optimizer, loss, clip, dtype, seed, schedule, rng.random() < 0.3)


def build(lib, network):
    """The network's model and optimiser in ``lib`` (torch or tensorlite), and ``make_optimizer(model)``, which
    makes the optimiser and its schedule (or None)."""
    nn = lib.nn

    class Residual(nn.Module):
        def __init__(self, conv):
            super().__init__()
            self.conv = conv

        def forward(self, x):
            return x + self.conv(x)

    namespace = {"nn": nn, "optim": lib.optim, "Residual": Residual}
    model = nn.Sequential(*(eval(layer, namespace) for layer in network.layers))
    model = model.to(getattr(lib, network.dtype))

    def make_optimizer(model):
        optimizer = eval(network.optimizer, {**namespace, "model": model})
        if not network.schedule:
            return optimizer, None
        return optimizer, eval(network.schedule, {"optim": lib.optim, "optimizer": optimizer})

    return model, make_optimizer


def train(lib, network, weights, images, targets, float_targets):
    """Train ``STEPS`` steps, then evaluate: {"loss 0": ..., "eval output": ..., parameter and buffer names: ...}
    as NumPy arrays, or the step that raised and the exception."""
    model, make_optimizer = build(lib, network)
    optimizer, schedule = make_optimizer(model)
    model.load_state_dict({name: lib.tensor(value) for name, value in weights.items()})
    x, y, t = lib.tensor(images), lib.tensor(targets), lib.tensor(float_targets)
    results = {}
    step = "build"
    warnings.filterwarnings("ignore", "Using padding='same' with even kernel lengths")
    try:
        for i in range(STEPS):
            step = f"step {i}"
            optimizer.zero_grad()
            loss = eval(network.loss, {"F": lib.nn.functional, "out": model(x), "y": y, "t": t})
            loss.backward()
            if network.clip:
                eval(network.clip, {"nn": lib.nn, "model": model})
            optimizer.step()
            if schedule is not None:
                schedule.step()
            if network.resume and i == 0:
                step = "resume"
                states = optimizer.state_dict(), schedule and schedule.state_dict()
                optimizer, schedule = make_optimizer(model)
                optimizer.load_state_dict(states[0])
                if schedule is not None:
                    schedule.load_state_dict(states[1])
            results[f"loss {i}"] = loss.detach().numpy()
        step = "eval"
        model.eval()
        with lib.no_grad():
            results["eval output"] = model(x).numpy()
    except Exception as error:  # noqa: BLE001 - where it raises, and what, is the result
        return step, error
    results.update({name: value.detach().numpy() for name, value in model.state_dict().items()})
    return results


def compare(network):
    """The first difference between tensorlite and torch on ``network``, or None."""
    torch.manual_seed(network.seed)
    reference_model, _ = build(torch, network)
    weights = {name: value.numpy().copy() for name, value in reference_model.state_dict().items()}
    rng = np.random.default_rng(network.seed)
    images = rng.standard_normal(network.input_shape).astype(network.dtype)
    targets = rng.integers(0, CLASSES, network.input_shape[0])
    float_targets = rng.standard_normal((network.input_shape[0], CLASSES)).astype(network.dtype)
    expected = train(torch, network, weights, images, targets, float_targets)
    actual = train(tl, network, weights, images, targets, float_targets)
    if isinstance(expected, tuple) or isinstance(actual, tuple):
        (where, want), (got_where, got) = (result if isinstance(result, tuple) else (None, None)
                                           for result in (expected, actual))
        same_kind = type(want) is type(got) or isinstance(want, RuntimeError) and isinstance(got, RuntimeError)
        if where == got_where and same_kind:
            return None
        return f"torch raised at {where} {want!r}; tensorlite at {got_where} {got!r}"
    for name, want in expected.items():
        got = actual.get(name)
        if got is None or got.shape != want.shape:
            return f"{name}: torch {want.shape}, tensorlite {None if got is None else got.shape}"
        if not np.allclose(got, want, equal_nan=True, **TOLERANCES[network.dtype]):
            return f"{name}: max |difference| {np.max(np.abs(got - want)):.3g}\n  torch: {want}\n  tensorlite: {got}"
    return None


def report(network, mismatch):
    return f"{mismatch}\n{network.listing()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=500, help="networks per dtype")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first network; the rest follow on")
    parser.add_argument("--show", type=int, default=3, help="failing networks to print")
    args = parser.parse_args(argv)
    failures = []
    seeds = range(args.seed, args.seed + args.count)
    for seed, dtype in tqdm([(s, d) for s in seeds for d in TOLERANCES], desc="networks", unit="network"):
        network = random_network(seed, dtype)
        mismatch = compare(network)
        if mismatch:
            failures.append(report(network, mismatch))
    print(f"networks trained: {len(seeds) * len(TOLERANCES)}; mismatches: {len(failures)}")
    for failure in failures[:args.show]:
        print("\n" + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
