"""``profile(model, input)``: where a training step's time goes, layer by layer, and how fast each layer computes.

For every leaf layer (Conv2d, Linear, MaxPool2d, BatchNorm2d, ReLU, ...) the table gives the forward and the
backward milliseconds, the kernel route taken, the FLOPs, GFLOP/s and the share of the machine's GEMM ceiling.

How it is measured, at the level of ops, since an op is what runs a kernel:

- forward: ``autograd.function.watch_ops`` hands every op call (``Function.apply``) to the profiler, which
  times it with ``time.perf_counter`` and charges it to the leaf module whose forward is running (tracked by
  forward pre- and post-hooks). Ops that a ``forward`` calls outside any leaf module, such as MNISTNet's
  ``F.max_pool2d`` and ``F.relu``, are not hidden in an "other" bucket: each call gets its own row, named
  ``(functional)`` with the op's class as its type, in the order the forward ran them. The loss gets a row too.
- backward: every op records a graph node, and the engine calls ``node.apply(grads)`` once per node. The
  profiler shadows ``apply`` on each node it saw made (and on the parameters' ``AccumulateGrad`` nodes) with a
  timed call, and charges the time to the row whose op made the node.

The rows therefore add up to the time spent inside ops; the table's last line also gives the wall-clock time of
the whole forward and of the whole ``backward()``, whose difference from the rows is Python between ops (argument
checks, the layers' own code) and the engine's bookkeeping. Each figure is the fastest of ``repeat`` steps after
one untimed warm-up step (Numba compiles, buffers are allocated): other processes can only add time.

FLOPs follow ``tensorlite/bench/cases.py``: a convolution's forward is F = 2 * N * C_out * H_out * W_out *
(C_in / groups) * kH * kW, a matmul's 2 * (rows * inner * columns); backward costs F for the weight gradient
plus F for the input gradient when the input requires grad (so 2F, or F for a first layer fed with data). Bias
adds, pooling, normalisation and elementwise ops move memory rather than compute and get no FLOP count.
The ceiling is ``bench.machine.gemm_ceiling``: the GFLOP/s of one large float32 matmul on this machine,
measured once per call, since an im2col convolution cannot beat the GEMM it calls.

Timings are of the CPU: ``profile`` refuses a model on another device (a GPU kernel returns before it ends).
"""
import time
from dataclasses import dataclass

from ..autograd.function import AccumulateGrad, OpWatcher, gradient_edge, watch_ops
from ..backends import kernels
from ..backends.geometry import pair
from ..tensor import Tensor

CEILING_SIZE = 512  # the GEMM whose GFLOP/s is the ceiling: 0.27 GFLOP, tens of milliseconds on a laptop
FUNCTIONAL = "(functional)"


@dataclass
class ProfileRow:
    """One leaf module (summed over its calls), one functional op call, or the loss."""

    name: str  # "conv1", "(functional)" or "(loss)"
    kind: str  # the module's class (Conv2d), or the op's (MaxPool2d) for functional rows and the loss
    input_shape: tuple
    route: str  # the kernel that ran: 'direct', 'winograd', 'im2col + GEMM', 'depthwise', 'GEMM (BLAS)', ...
    forward_ms: float = 0.0
    backward_ms: float = 0.0
    forward_flops: int = None  # None: memory-bound ops, not counted
    backward_flops: int = None

    @property
    def total_ms(self):
        return self.forward_ms + self.backward_ms

    @property
    def flops(self):
        """Forward plus backward FLOPs, or None when the row's ops are not counted."""
        if self.forward_flops is None:
            return None
        return self.forward_flops + (self.backward_flops or 0)

    @property
    def gflops(self):
        """Forward+backward GFLOP/s, or None."""
        return None if self.flops is None or self.total_ms == 0 else self.flops / self.total_ms / 1e6


@dataclass
class Profile:
    """What ``profile`` measured: ``rows`` in the order the forward ran them, the wall-clock times of the whole
    forward and backward, and the GEMM ceiling. ``print(profile)`` is the table; ``save_chart(path)`` the chart."""

    rows: list
    forward_wall_ms: float
    backward_wall_ms: float
    ceiling_gflops: float
    repeat: int
    kernels: str
    input_shape: tuple = ()
    model: str = ""

    @property
    def total(self):
        """The sum of the rows, as a row named "Total"."""
        flops = [row.flops for row in self.rows if row.flops is not None]
        total = ProfileRow("Total", "", (), "", sum(r.forward_ms for r in self.rows),
                           sum(r.backward_ms for r in self.rows))
        if flops:
            total.forward_flops = sum(r.forward_flops for r in self.rows if r.forward_flops is not None)
            total.backward_flops = sum(r.backward_flops or 0 for r in self.rows if r.forward_flops is not None)
        return total

    def percent_of_ceiling(self, row):
        """The row's GFLOP/s as a percentage of the GEMM ceiling, or None."""
        return None if row.gflops is None else 100 * row.gflops / self.ceiling_gflops

    def __str__(self):
        header = ("Name", "Type", "Input", "Route", "Fwd ms", "Bwd ms", "Total ms", "% time", "MFLOP", "GFLOP/s",
                  "% GEMM")
        total = self.total

        def cells(row):
            share = 100 * row.total_ms / total.total_ms if total.total_ms else 0.0
            ceiling = self.percent_of_ceiling(row)
            return (row.name, row.kind, "x".join(map(str, row.input_shape)), row.route, f"{row.forward_ms:.3f}",
                    f"{row.backward_ms:.3f}", f"{row.total_ms:.3f}", f"{share:.1f}",
                    "-" if row.flops is None else f"{row.flops / 1e6:.1f}",
                    "-" if row.gflops is None else f"{row.gflops:.2f}",
                    "-" if ceiling is None else f"{ceiling:.1f}")

        table = [header] + [cells(row) for row in self.rows] + [cells(total)]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        left = 4  # the first four columns are text, the others numbers

        def line(values):
            return "  ".join(v.ljust(w) if i < left else v.rjust(w) for i, (v, w) in enumerate(zip(values, widths)))

        rule = "-" * len(line(header))
        body = [line(values) for values in table[1:-1]]
        return "\n".join([
            rule, line(header), rule, *body, rule, line(table[-1]), rule,
            f"{self.model} on {'x'.join(map(str, self.input_shape))}, {self.kernels} kernels, fastest of "
            f"{self.repeat} steps per row; GEMM ceiling {self.ceiling_gflops:.1f} GFLOP/s",
            f"wall clock: forward {self.forward_wall_ms:.3f} ms, backward {self.backward_wall_ms:.3f} ms; the rows "
            "time the ops only (the rest is Python between ops and the autograd engine)",
        ])

    __repr__ = __str__

    def save_chart(self, path):
        """A horizontal bar chart, one bar per row from the top in forward order: forward ms and backward ms
        stacked, each bar annotated with its route and GFLOP/s. Needs matplotlib (the ``viz`` extra); without
        it, prints why and writes nothing."""
        from .viz import new_figure, save_figure

        figure = new_figure(figsize=(8, 1.4 + 0.34 * len(self.rows)), layout="constrained")
        if figure is None:
            return
        axes = figure.add_subplot()
        labels = [f"{row.kind} {row.name}" if row.name.startswith("(") else f"{row.name} ({row.kind})"
                  for row in self.rows]
        positions = range(len(self.rows))
        forward = [row.forward_ms for row in self.rows]
        backward = [row.backward_ms for row in self.rows]
        axes.barh(positions, forward, label="forward", color="tab:blue")
        axes.barh(positions, backward, left=forward, label="backward", color="tab:orange")
        longest = max(row.total_ms for row in self.rows)
        for i, row in enumerate(self.rows):
            note = row.route if row.gflops is None else f"{row.route}, {row.gflops:.1f} GFLOP/s"
            axes.text(row.total_ms + 0.01 * longest, i, note, va="center", fontsize=7)
        axes.set_xlim(0, longest * 1.6)
        axes.set_yticks(list(positions), labels, fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel(f"ms per step (fastest of {self.repeat}); GEMM ceiling {self.ceiling_gflops:.0f} GFLOP/s",
                        fontsize=8)
        axes.set_title(f"{self.model} on {'x'.join(map(str, self.input_shape))}, {self.kernels} kernels: "
                       "time per layer", fontsize=9)
        axes.legend(fontsize=8, loc="lower right")
        save_figure(figure, path, "chart")


# ------------------------------------------------------------------------------------------- what each op costs
def _route(op, args):
    """The kernel an op call runs on the CPU, from its class and arguments."""
    name = op.__name__
    if name == "Conv2d":
        if kernels() == "reference":
            return "reference"
        from ..backends.cpu.conv import conv2d_route

        x, weight, stride, dilation, groups = args[0], args[1], args[3], args[5], args[6]
        return conv2d_route(x.shape, weight.shape, pair(stride), pair(dilation), groups)
    if name in ("MatMul", "Addmm"):
        return "GEMM (BLAS)"
    if name in ("MaxPool2d", "AvgPool2d", "BatchNorm"):
        return "reference" if kernels() == "reference" else "Numba loop"
    return "NumPy"


def _flops(op, args, output):
    """(forward, backward) FLOPs of one op call, or (None, None) for ops that are not counted."""
    name = op.__name__
    if name == "Conv2d":
        x, weight, groups = args[0], args[1], args[6]
        forward = 2 * output.numel() * (x.shape[1] // groups) * weight.shape[2] * weight.shape[3]
    elif name in ("MatMul", "Addmm"):
        args = args[1:] if name == "Addmm" else args  # Addmm's are (bias, x, W): the product's as MatMul's
        forward = 2 * output.numel() * args[0].shape[-1]
    else:
        return None, None
    grads = sum(isinstance(a, Tensor) and a.requires_grad for a in args[:2])  # weight grad, input grad
    return forward, forward * grads


class _Recorder(OpWatcher):
    """One step's op calls: the rows they belong to, their forward seconds, and the nodes they made."""

    def __init__(self, leaves):
        self.leaves = leaves  # leaf module -> its name
        self.stack = []  # (leaf module, its input's shape) for each leaf whose forward is running
        self.rows = {}  # key -> ProfileRow; key: a module's name, or ("op", call number)
        self.forward = {}  # key -> seconds
        self.backward = {}
        self.calls = 0
        self.inside = False  # an op's own forward calling ops (a custom Function): timed as part of the outer one
        self.owner = None  # ("(loss)", the model output's shape) once the model's forward has returned

    def op(self, op, args, kwargs):
        if self.inside:
            return op._apply(args, kwargs)
        self.inside = True
        start = time.perf_counter()
        try:
            output = op._apply(args, kwargs)
        finally:
            seconds = time.perf_counter() - start
            self.inside = False
        self.calls += 1
        first = output[0] if isinstance(output, tuple) else output
        shape = next((tuple(a.shape) for a in args if isinstance(a, Tensor)), ())
        if self.stack:
            module, shape = self.stack[-1]
            key, name, kind = self.leaves[module], self.leaves[module], type(module).__name__
        elif self.owner:  # every op of the loss in one row, named after the last (the loss itself)
            (key, shape), name, kind = self.owner, self.owner[0], op.__name__
        else:
            key, name, kind = ("op", self.calls), FUNCTIONAL, op.__name__
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = ProfileRow(name, kind, shape, _route(op, args))
        elif name == "(loss)":
            row.kind = kind
        elif _route(op, args) != "NumPy" and row.route == "NumPy":
            row.route = _route(op, args)  # its first op with a kernel of its own (Linear: the matmul)
        forward, backward = _flops(op, args, first)
        if forward is not None:
            row.forward_flops = (row.forward_flops or 0) + forward
            row.backward_flops = (row.backward_flops or 0) + backward
        self.forward[key] = self.forward.get(key, 0.0) + seconds
        if isinstance(first, Tensor) and first.grad_fn is not None:
            self._time_backward(first.grad_fn, key)
        return output

    def _time_backward(self, node, key):
        """Shadow ``node.apply`` with a timed call whose seconds go to row ``key``."""
        if "apply" in vars(node):
            return  # made by an earlier op (an in-place op can hand its node on)
        untimed = node.apply

        def timed(grads):
            start = time.perf_counter()
            try:
                return untimed(grads)
            finally:
                self.backward[key] = self.backward.get(key, 0.0) + time.perf_counter() - start

        node.apply = timed

    def enter(self, module, inputs):
        self.stack.append((module, next((tuple(t.shape) for t in inputs if isinstance(t, Tensor)), ())))

    def leave(self, module, inputs, output):
        self.stack.pop()
        for parameter in module.parameters(recurse=False):  # the adds into .grad belong to the layer too
            if parameter.requires_grad:
                node = gradient_edge(parameter)[0]
                if isinstance(node, AccumulateGrad):
                    self._time_backward(node, self.leaves[module])


def _step(model, inputs, loss_fn, leaves, parameters):
    """One forward and backward, every op timed: (recorder, forward seconds, backward seconds)."""
    for parameter in parameters:
        parameter.grad = None
    recorder = _Recorder(leaves)
    handles = [m.register_forward_pre_hook(recorder.enter) for m in leaves]
    handles += [m.register_forward_hook(recorder.leave) for m in leaves]
    try:
        with watch_ops(recorder):
            start = time.perf_counter()
            output = model(*inputs)
            forward = time.perf_counter() - start
            recorder.owner = ("(loss)", tuple(output.shape))
            loss = output.sum() if loss_fn is None else loss_fn(output)
    finally:
        for handle in handles:
            handle.remove()
    start = time.perf_counter()
    loss.backward()
    return recorder, forward, time.perf_counter() - start


def profile(model, input, repeat=5, loss_fn=None, ceiling_gflops=None):
    """Time ``model`` layer by layer over ``repeat`` steps of forward and backward, and return a ``Profile``.

    ``input`` is a tensor (or a tuple of the model's arguments); the step's loss is ``loss_fn(output)``, by
    default ``output.sum()``. Parameters' ``.grad`` is reset before each step, as ``zero_grad`` would.
    ``ceiling_gflops`` replaces the measured GEMM ceiling (to compare runs against one figure). See the module
    docstring for what is timed and how functional ops are counted.
    """
    if repeat < 1:
        raise ValueError(f"profile(): repeat must be at least 1, got {repeat}")
    inputs = input if isinstance(input, tuple) else (input,)
    tensors = [t for t in inputs if isinstance(t, Tensor)] + list(model.parameters())
    devices = {t.device.type for t in tensors}
    if devices - {"cpu"}:
        raise ValueError(f"profile(): times CPU kernels only, but the model or input is on {sorted(devices)}")
    leaves = {m: name or type(m).__name__ for name, m in model.named_modules() if not list(m.children())}
    parameters = list(model.parameters())
    _step(model, inputs, loss_fn, leaves, parameters)  # warm-up: compiled kernels, scratch buffers
    first, fastest, forward_wall, backward_wall = None, {}, float("inf"), float("inf")
    for _ in range(repeat):
        recorder, forward, backward = _step(model, inputs, loss_fn, leaves, parameters)
        forward_wall, backward_wall = min(forward_wall, forward), min(backward_wall, backward)
        first = first or recorder
        for key in recorder.rows:  # a forward that branches on data may not run every row each step
            times = [recorder.forward.get(key, 0.0), recorder.backward.get(key, 0.0)]
            fastest[key] = times if key not in fastest else [min(a, b) for a, b in zip(fastest[key], times)]
    rows = []
    for key, row in first.rows.items():
        row.forward_ms, row.backward_ms = (1000 * seconds for seconds in fastest[key])
        rows.append(row)
    if ceiling_gflops is None:
        from ..bench.machine import gemm_ceiling

        ceiling_gflops = gemm_ceiling(CEILING_SIZE, repeat=3)["numpy_gflops"]
    shape = next((tuple(t.shape) for t in inputs if isinstance(t, Tensor)), ())
    return Profile(rows, 1000 * forward_wall, 1000 * backward_wall, ceiling_gflops, repeat, kernels(), shape,
                   type(model).__name__)
