"""``tl.onnx.export``: write a model as an ONNX file, to run it with onnxruntime or any other ONNX runtime.

ONNX describes a network as a graph of standard operators (``Conv``, ``Relu``, ``Gemm``, ...) whose weights travel
inside the file. Export learns the graph by watching one forward pass: with the model in eval mode and autograd
off, ``Op.apply`` reports every op call to a tracer (tensorlite/autograd/function.py), which translates it at once
into ONNX nodes. Each op kind has one small translation function in ``TRANSLATIONS``; an op without one stops the
export with ``NotImplementedError`` naming it. Parameters and buffers become the graph's initializers under their
``state_dict`` names (``conv1.weight``), any other tensor the forward pass uses (a constant it creates) an
initializer named ``constant_N``.

Tracing records what happened for this one input: a Python ``if`` on the data is frozen into the branch taken, and
shapes the pass read become constants, except the batch dimension when ``dynamic_batch`` is on.

The ``onnx`` package is imported only when ``export`` runs, so ``import tensorlite`` neither needs nor loads it
(``pip install tensorlite[onnx]`` brings it and onnxruntime).
"""
import inspect
from pathlib import Path

import numpy as np

from .autograd import function as _function
from .autograd.grad_mode import no_grad
from .tensor import Tensor

MIN_OPSET = 13  # the translations use the operator versions of opset 13 and later (ReduceSum's axes as an input)


def export(model, example_input, path, input_names=None, output_names=None, opset_version=17, dynamic_batch=True):
    """Trace ``model`` on ``example_input`` and write it to ``path`` as an ONNX model; returns the ``ModelProto``.

    ``example_input`` is a tensor or a tuple of tensors, the model's positional arguments. The model runs once in
    eval mode (dropout off, batch norm on its running statistics) under ``no_grad``; its training mode is restored
    afterwards. ``input_names`` and ``output_names`` name the graph's inputs and outputs (default ``input`` and
    ``output``, numbered when there are several). With ``dynamic_batch`` the first dimension of every input, and of
    every output that has the batch size there, is the symbolic ``batch``: the file runs on any batch size. Trace
    with a batch of at least 2 whose size appears in no other dimension, so that the batch dimension can be told
    apart. The graph is checked with ``onnx.checker.check_model`` before it is written.
    """
    try:
        import onnx
    except ImportError as err:
        raise ImportError("tl.onnx.export needs the onnx package: pip install onnx (or tensorlite[onnx])") from err
    if not MIN_OPSET <= opset_version <= onnx.defs.onnx_opset_version():
        raise ValueError(
            f"tl.onnx.export: opset_version must be between {MIN_OPSET} and {onnx.defs.onnx_opset_version()} "
            f"(this onnx package's newest), got {opset_version}"
        )
    inputs = tuple(example_input) if isinstance(example_input, (tuple, list)) else (example_input,)
    if not inputs or not all(isinstance(x, Tensor) for x in inputs):
        raise TypeError("tl.onnx.export: example_input must be a Tensor or a tuple of Tensors")
    input_names = _names(input_names, "input", len(inputs))
    tracer = Tracer(model, batch=inputs[0].shape[0] if dynamic_batch and inputs[0].dim() else None)
    for tensor, name in zip(inputs, input_names):
        tracer.add_input(tensor, name)

    was_training = model.training
    model.eval()
    try:
        with no_grad(), _function.watch_ops(tracer):
            result = model(*inputs)
    finally:
        model.train(was_training)

    outputs = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if not all(isinstance(y, Tensor) for y in outputs):
        raise TypeError("tl.onnx.export: the model must return a Tensor or a tuple of Tensors")
    for tensor, name in zip(outputs, _names(output_names, "output", len(outputs))):
        tracer.add_output(tensor, name)
    proto = tracer.model(opset_version)
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, str(path) if isinstance(path, Path) else path)
    return proto


def _names(names, stem, count):
    if names is None:
        return [stem] if count == 1 else [f"{stem}_{i}" for i in range(count)]
    names = list(names)
    if len(names) != count:
        raise ValueError(f"tl.onnx.export: {len(names)} {stem} names given for {count} {stem}s")
    return names


class Tracer(_function.OpWatcher):
    """Receives the op calls of one forward pass and builds the ONNX graph from them.

    Every tensor that the graph computes is known by its ``id`` together with its version counter, so that a
    tensor written in place afterwards is not mistaken for its old value. The tracer keeps each such tensor alive
    until the export ends, so that no ``id`` is reused by a different tensor.
    """

    def __init__(self, model, batch):
        self.batch = batch
        self.parameters = {}  # id -> (state_dict name, tensor) for the model's parameters and buffers
        for name, tensor in list(model.named_parameters()) + list(model.named_buffers()):
            self.parameters.setdefault(id(tensor), (name, tensor))
        self.values = {}  # id(tensor) -> (ONNX value name, version when named, tensor)
        self.refused = {}  # id(tensor) -> why the graph cannot use this tensor
        self.nodes, self.initializers, self.graph_inputs, self.graph_outputs = [], {}, [], []
        self.counts = {}
        self.inside_composite = False  # inside a traced_as function: its own ops are not recorded

    # -------------------------------------------------------------- what the forward pass reports
    def op(self, cls, args, kwargs):
        outputs = cls._apply(args, kwargs)
        if not self.inside_composite:
            self.record(cls, (args, kwargs), outputs)
        return outputs

    def composite(self, name, fn, args, kwargs):
        """A ``traced_as(name)`` function: one ONNX operator, its arguments by parameter name; the ops inside it
        are not recorded."""
        if self.inside_composite:
            return fn(*args, **kwargs)
        self.inside_composite = True
        try:
            outputs = fn(*args, **kwargs)
        finally:
            self.inside_composite = False
        bound = inspect.signature(fn).bind(*args, **kwargs)
        bound.apply_defaults()
        self.record(name, dict(bound.arguments), outputs)
        return outputs

    def store(self, target, value):
        self.alias(target, value)

    def record(self, op, arguments, outputs):
        """One op call: ``op`` is an ``Op`` class, or a name given with ``traced_as``; translate it at once."""
        name = op if isinstance(op, str) else op.__name__
        if name == "Kernel":  # Kernel.apply(kernel_name, *args): a backend kernel called as an op, named by it
            name = arguments[0][0]
        translate = TRANSLATIONS.get(name)
        if translate is None:
            raise NotImplementedError(f"tl.onnx.export does not support {name} yet")
        if not isinstance(op, str):  # Op.apply's (args, kwargs), by the names of forward's parameters
            args, kwargs = arguments
            parameters = list(inspect.signature(op.forward).parameters)[2:]  # after (ctx, b)
            arguments = dict(zip(parameters, args), **kwargs)
        results = outputs if isinstance(outputs, tuple) else (outputs,)
        names = translate(self, results, **arguments)
        for tensor, value in zip(results, names):
            if isinstance(value, str):
                self._name(tensor, value)
            elif tensor is not None:
                self.refused[id(tensor)] = value[0]

    def alias(self, target, value):
        """An in-place op stored ``value`` into ``target``: ``target`` now stands for ``value``'s ONNX value."""
        if isinstance(value, Tensor) and id(value) in self.values:
            self._name(target, self.values[id(value)][0], version=target._version.value + 1)

    # -------------------------------------------------------------- building the graph
    def add_input(self, tensor, name):
        self.graph_inputs.append(self._value_info(name, tensor))
        self._name(tensor, name)

    def add_output(self, tensor, name):
        value = self.name(tensor)
        if value in self.initializers or any(value == i.name for i in self.graph_inputs) or value in (
            o.name for o in self.graph_outputs
        ):
            self.nodes.append(self._make_node("Identity", [value], [name], {}))
        else:  # give the value the output's name where it is made and used
            for node in self.nodes:
                node.input[:] = [name if v == value else v for v in node.input]
                node.output[:] = [name if v == value else v for v in node.output]
        self.graph_outputs.append(self._value_info(name, tensor))

    def model(self, opset_version):
        import onnx
        from onnx import helper

        from . import __version__

        graph = helper.make_graph(
            self.nodes, "tensorlite", self.graph_inputs, self.graph_outputs, list(self.initializers.values())
        )
        opset = helper.make_opsetid("", opset_version)
        proto = helper.make_model(
            graph, opset_imports=[opset], producer_name="tensorlite", producer_version=__version__,
            ir_version=helper.find_min_ir_version_for([opset]),
        )
        return onnx.shape_inference.infer_shapes(proto, check_type=True, strict_mode=True)

    def name(self, tensor):
        """The ONNX value that ``tensor`` is: a computed value, a graph input, or an initializer made for it."""
        known = self.values.get(id(tensor))
        if known is not None:
            value, version, _ = known
            if tensor._version.value != version:
                raise NotImplementedError(
                    f"tl.onnx.export does not support writing into {value} in place ({list(tensor.shape)}) yet: "
                    "compute the new value out of place"
                )
            return value
        if id(tensor) in self.refused:
            raise NotImplementedError(f"tl.onnx.export cannot use a tensor of shape {list(tensor.shape)}: "
                                      f"{self.refused[id(tensor)]}")
        if id(tensor) in self.parameters:
            name, tensor = self.parameters[id(tensor)]
        else:
            name = self._fresh("constant")
        self.constant(np.asarray(tensor), name)
        self._name(tensor, name)
        return name

    def constant(self, array, name=None, stem="constant"):
        """An initializer holding ``array``; returns its name: ``name``, or ``<stem>_N``."""
        from onnx import numpy_helper

        name = name or self._fresh(stem)
        self.initializers[name] = numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def node(self, op_type, inputs, outputs=1, **attributes):
        """Append an ``op_type`` node; ``inputs`` are tensors, value names or None (an omitted optional input).
        Returns the names of its ``outputs`` new values."""
        names = [v if isinstance(v, str) else "" if v is None else self.name(v) for v in inputs]
        while names and names[-1] == "":
            names.pop()
        node_name = self._fresh(op_type)
        results = [node_name if outputs == 1 else f"{node_name}.{i}" for i in range(outputs)]
        self.nodes.append(self._make_node(op_type, names, results, attributes, node_name))
        return results

    def _make_node(self, op_type, inputs, outputs, attributes, name=None):
        from onnx import helper

        return helper.make_node(op_type, inputs, outputs, name=name or self._fresh(op_type), **attributes)

    def _name(self, tensor, value, version=None):
        self.values[id(tensor)] = (value, tensor._version.value if version is None else version, tensor)

    def _fresh(self, stem):
        self.counts[stem] = self.counts.get(stem, -1) + 1
        return f"{stem}_{self.counts[stem]}"

    def _value_info(self, name, tensor):
        from onnx import helper

        shape = list(tensor.shape)
        if self.batch is not None and shape and shape[0] == self.batch:
            shape[0] = "batch"
        element_type = helper.np_dtype_to_tensor_dtype(np.dtype(tensor.dtype.numpy))
        return helper.make_tensor_value_info(name, element_type, shape)

    def shape(self, target, source):
        """An int64 constant for ONNX ``Reshape`` from ``source`` to the shape ``target``. Tracing fixes every size,
        so with a dynamic batch the first entry is 0 ("as the input's") when the batch dimension stays first, or -1
        ("whatever the remaining sizes leave") when the new first dimension contains it."""
        target = list(target)
        if self.batch is not None and target and source.dim() and source.shape[0] == self.batch:
            target[0] = 0 if target[0] == self.batch else -1
        return self.constant(np.array(target, dtype=np.int64), stem="shape")


# ------------------------------------------------------------------ translations, one per op kind
# Each takes the tracer, the op's output tensors and its arguments by parameter name, appends nodes, and returns
# one ONNX value name per output (or, for an output the graph leaves out, why: a string that is not used as a name
# must be told apart, so it is given as a one-element tuple).


def _pads(padding):
    """ONNX ``pads`` from (top, left) symmetric padding: [top, left, bottom, right]."""
    return list(padding) * 2


def _conv2d(g, out, x, weight, bias, stride, padding, dilation, groups):
    return g.node("Conv", [x, weight, bias], kernel_shape=list(weight.shape[2:]), strides=list(stride),
                  pads=_pads(padding), dilations=list(dilation), group=groups)


def _max_pool2d(g, out, x, kernel_size, stride, padding, dilation, ceil_mode):
    (value,) = g.node("MaxPool", [x], kernel_shape=list(kernel_size), strides=list(stride), pads=_pads(padding),
                      dilations=list(dilation), ceil_mode=int(ceil_mode))
    return [value, ("the indices of max_pool2d(return_indices=True) are not exported",)]


def _avg_pool2d(g, out, x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    if divisor_override is not None:
        raise NotImplementedError("tl.onnx.export does not support avg_pool2d with divisor_override yet")
    return g.node("AveragePool", [x], kernel_shape=list(kernel_size), strides=list(stride), pads=_pads(padding),
                  ceil_mode=int(ceil_mode), count_include_pad=int(count_include_pad))


def _adaptive_avg_pool2d(g, out, input, output_size):
    if input.dim() != 4:
        raise NotImplementedError("tl.onnx.export does not support adaptive_avg_pool2d of an unbatched input yet")
    (h, w), (out_h, out_w) = input.shape[2:], out[0].shape[2:]
    if (out_h, out_w) == (1, 1):
        return g.node("GlobalAveragePool", [input])
    if out_h == 0 or out_w == 0 or h % out_h or w % out_w:
        raise NotImplementedError(
            f"tl.onnx.export does not support adaptive_avg_pool2d from {h}x{w} to {out_h}x{out_w} yet (only to 1x1 "
            "and to sizes that divide the input's)"
        )
    kernel = [h // out_h, w // out_w]
    return g.node("AveragePool", [input], kernel_shape=kernel, strides=kernel)


def _batch_norm(g, out, input, running_mean, running_var, weight, bias, eps):
    channels = input.shape[1]
    dtype = np.dtype(input.dtype.numpy)
    scale = weight if weight is not None else g.constant(np.ones(channels, dtype), stem="ones")
    shift = bias if bias is not None else g.constant(np.zeros(channels, dtype), stem="zeros")
    return g.node("BatchNormalization", [input, scale, shift, running_mean, running_var], epsilon=float(eps))


def _linear(g, out, input, weight, bias):
    if input.dim() == 2:  # y = x W^T + b: one Gemm with the weight as stored
        return g.node("Gemm", [input, weight, bias], transB=1)
    (transposed,) = g.node("Transpose", [weight], perm=[1, 0])
    (product,) = g.node("MatMul", [input, transposed])
    return [product] if bias is None else g.node("Add", [product, bias])


def _unary(op_type):
    return lambda g, out, x: g.node(op_type, [x])


def _binary(op_type):
    return lambda g, out, x, y: g.node(op_type, [x, y])


def _leaky_relu(g, out, x, slope):
    return g.node("LeakyRelu", [x], alpha=float(slope))


def _along_dim(op_type):
    return lambda g, out, x, dim: g.node(op_type, [x], axis=dim)


def _reshape(g, out, x, shape, view=False):
    return g.node("Reshape", [x, g.shape(shape, x)])


def _sum(g, out, x, axes, keepdim):
    axes = g.constant(np.array(axes, dtype=np.int64), stem="axes")
    return g.node("ReduceSum", [x, axes], keepdims=int(keepdim))


def _pad(g, out, x, widths, value):
    pads = np.array([before for before, _ in widths] + [after for _, after in widths], dtype=np.int64)
    fill = g.constant(np.array(value, dtype=np.dtype(x.dtype.numpy)), stem="pad_value")
    return g.node("Pad", [x, g.constant(pads, stem="pads"), fill], mode="constant")


def _cast(g, out, x, dtype):
    from onnx import helper

    return g.node("Cast", [x], to=helper.np_dtype_to_tensor_dtype(np.dtype(dtype.numpy)))


def _clone(g, out, x):
    return g.node("Identity", [x])


TRANSLATIONS = {
    # Op classes (tensorlite/ops), by class name
    "Conv2d": _conv2d,
    "MaxPool2d": _max_pool2d,
    "AvgPool2d": _avg_pool2d,
    "ReLU": _unary("Relu"),
    "LeakyReLU": _leaky_relu,
    "Sigmoid": _unary("Sigmoid"),
    "Tanh": _unary("Tanh"),
    "Softmax": _along_dim("Softmax"),
    "LogSoftmax": _along_dim("LogSoftmax"),
    "Add": _binary("Add"),
    "Sub": _binary("Sub"),
    "Mul": _binary("Mul"),
    "Div": _binary("Div"),
    "MatMul": _binary("MatMul"),
    "Reshape": _reshape,
    "Sum": _sum,
    "Pad": _pad,
    "Cast": _cast,
    "Clone": _clone,
    # functions marked @traced_as(name), which stand for one ONNX operator each
    "linear": _linear,
    "batch_norm": _batch_norm,
    "adaptive_avg_pool2d": _adaptive_avg_pool2d,
}


def supported():
    """The op names that ``export`` translates (Op class names and ``traced_as`` names)."""
    return sorted(TRANSLATIONS)

