"""``Function``: an op with a forward and a backward, recorded as a graph node when grad is enabled.

Subclass it as in PyTorch::

    class Square(tl.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    y = Square.apply(x)

tensorlite's own ops subclass ``Op`` instead: the same protocol, except that ``forward`` computes on the backend's
arrays. That is the one boundary between tensors and arrays: below it kernels on arrays, above it tensors and
the graph.

A recorded call is a ``Node``. Its ``edges`` point, one per forward argument, at the node that made that
argument (``(node, output_nr)``; an ``AccumulateGrad`` node for a leaf; ``None`` for non-tensors and tensors
that need no gradient). Nodes point only backwards, at their inputs' nodes: a graph never holds a cycle, so
reference counting alone frees it.

Watching: tools that observe a forward pass op by op (``tl.utils.profile`` times each op, ``tl.onnx.export``
translates each op) install an ``OpWatcher`` with ``watch_ops``; ``Function.apply`` then hands it every call.
Otherwise the cost is one check of a global per op. A function made of several ops that stands for one op of its
own (``F.linear``, batch norm in eval mode) is marked with ``@traced_as(name)``, so that a watcher can see it as
one call.
"""
import contextlib
import functools
import weakref

import numpy as np

from ..backends import backend_for
from .grad_mode import is_grad_enabled, swap_grad_enabled

FREED_GRAPH_ERROR = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


def _holds_data(value):
    """Whether a ctx attribute holds tensor data (freed after backward) rather than shapes, dims and flags."""
    if isinstance(value, (tuple, list)):
        return any(_holds_data(v) for v in value)
    return isinstance(value, dict) or (hasattr(value, "shape") and not isinstance(value, np.generic))


class SavedTensor:
    """A tensor kept for backward, with the version it had when saved (torch's ``SavedVariable``).

    A node's own output is kept as its storage only, not as the Tensor (which points at the node): that would
    be a reference cycle. Unpacking rebuilds it, attached to the node again when backward builds a graph.
    """

    def __init__(self, tensor, output_nr=None):
        self.output_nr = output_nr
        self.tensor = None if output_nr is not None else tensor
        self.bind(tensor)

    def bind(self, tensor):
        """Keep ``tensor``'s storage and version counter (an in-place op moves a saved output into its target)."""
        self.array, self.device, self.counter = tensor._array, tensor.device, tensor._version
        self.version = tensor._version.value

    def unpack(self, node):
        from ..tensor import Tensor

        if self.tensor is not None:
            self.tensor.grad_fn  # as torch's unpack: raises for a view made under no_grad whose base changed since
        if self.counter.value != self.version:
            raise RuntimeError(self._modified_message(node))
        if self.tensor is not None:
            return self.tensor
        out = Tensor(self.array, self.device, version=self.counter)
        if is_grad_enabled() and out.dtype.is_floating_point:  # create_graph: the output keeps its place in the graph
            out._set_grad_fn(node, self.output_nr)
        return out

    def _modified_message(self, node):
        from ..dtypes import from_numpy

        if self.tensor is None:
            made_by = f", which is output {self.output_nr} of {node.name().removesuffix('Backward0')}"
        elif self.tensor.grad_fn is not None:
            op = self.tensor.grad_fn.name().removesuffix("Backward0")
            made_by = f", which is output {self.tensor._output_nr} of {op}"
        else:
            made_by = ""
        described = f"tensorlite.{from_numpy(self.array.dtype).legacy_name}Tensor {list(self.array.shape)}"
        return (
            "one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{described}]{made_by}, is at version {self.counter.value}; expected version {self.version} "
            "instead. Hint: the tensor was changed in place after an op saved it for backward; compute the new "
            "value out of place (y = y + 1) or clone it before the change."
        )


class Context:
    """What ``forward`` leaves for ``backward``: saved tensors, ``needs_input_grad`` and any attributes.

    ``records_graph`` tells forward whether this call is recorded for backward at all (grad mode is on and some
    input requires grad), so that it can skip keeping what only backward would use. After backward without
    ``retain_graph`` the saved tensors and every attribute that holds data are freed; reading one raises
    torch's "backward through the graph a second time" error.
    """

    def __init__(self, needs_input_grad, records_graph):
        self.needs_input_grad = needs_input_grad
        self.records_graph = records_graph
        self._to_save = ()
        self._saved = ()
        self._node = None
        self._released = False
        self._saved_any = False  # whether forward saved a tensor: once freed, reading them raises

    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def _pack(self, node, outputs):
        """Turn what forward saved into ``SavedTensor``s, once the outputs and the node are known."""
        self._node = weakref.ref(node)
        nr_of = {id(out): nr for nr, out in enumerate(outputs)}
        self._saved = tuple(None if t is None else SavedTensor(t, nr_of.get(id(t))) for t in self._to_save)
        self._to_save = ()

    def _rebind_output(self, output_nr, tensor):
        """An in-place op wrote output ``output_nr`` into ``tensor``: saved copies of it now follow ``tensor``."""
        for saved in self._saved:
            if saved is not None and saved.output_nr == output_nr:
                saved.bind(tensor)

    @property
    def saved_tensors(self):
        if self._released and self._saved_any:  # (as torch: a slot that was never filled unpacks to None again)
            raise RuntimeError(FREED_GRAPH_ERROR)
        if self._node is None:  # forward was not recorded: the tensors as given
            return self._to_save
        node = self._node()
        return tuple(None if s is None else s.unpack(node) for s in self._saved)

    def __getattr__(self, name):  # only called for attributes that are not there
        if self.__dict__.get("_released"):
            raise RuntimeError(FREED_GRAPH_ERROR)
        raise AttributeError(f"'Context' object has no attribute '{name}'")

    def release(self):
        """Free what forward saved: the saved tensors and every attribute holding data (shapes and flags stay)."""
        kept = ("_", "needs_input_grad", "records_graph")
        self.__dict__ = {k: v for k, v in self.__dict__.items() if k.startswith(kept) or not _holds_data(v)}
        self._saved_any = self._saved_any or any(s is not None for s in self._saved)
        self._saved, self._to_save, self._released = (None,) * len(self._saved), (), True


class Node:
    """A recorded call: the Function, its context, an edge per forward argument and the arguments' shapes."""

    def __init__(self, function, ctx, args, num_outputs):
        self.function = function
        self.ctx = ctx
        self.edges = tuple(gradient_edge(a) if needed else None for a, needed in zip(args, ctx.needs_input_grad))
        self.input_shapes = tuple(a._array.shape if isinstance(a, _Tensor) else None for a in args)
        self.num_outputs = num_outputs
        self.pre_hooks = {}  # output_nr -> hooks on the gradient of that output (Tensor.register_hook)
        self.retained = {}  # output_nr -> weak reference to the tensor whose .grad it fills (retain_grad)
        self._name = None

    def name(self):
        return self._name or getattr(self.function, "node_name", None) or f"{self.function.__name__}Backward0"

    @property
    def next_functions(self):
        """``((node, output_nr), ...)``: where each tensor argument's gradient goes, ``(None, 0)`` for none."""
        tensor_edges = (edge for edge, shape in zip(self.edges, self.input_shapes) if shape is not None)
        return tuple((None, 0) if edge is None else edge for edge in tensor_edges)

    def apply(self, grads):
        """The gradients of the forward's arguments, given those of its outputs."""
        grads = self.function.backward(self.ctx, *grads)
        return grads if isinstance(grads, tuple) else (grads,)

    def unpack_saved(self):
        """Unpack the saved tensors without computing: what torch does for a node none of whose inputs takes a
        gradient, so that its checks (a saved tensor changed in place, a graph already freed) still raise."""
        self.ctx.saved_tensors

    def release(self):
        self.ctx.release()

    def register_hook(self, fn, output_nr=0):
        hooks = self.pre_hooks.setdefault(output_nr, {})
        return RemovableHandle(hooks, fn)

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """The node at a leaf: adds the incoming gradient into ``variable.grad``."""

    num_outputs = 1
    edges = ()
    input_shapes = ()
    next_functions = ()
    retained = {}

    def __init__(self, variable):
        self.variable = variable

    @property
    def pre_hooks(self):
        return {0: self.variable._hooks} if self.variable._hooks else {}

    def name(self):
        return "AccumulateGrad"

    def apply(self, grads):
        (grad,) = grads
        leaf = self.variable
        if grad is None:
            return ()
        if leaf.grad is None:
            leaf.grad = grad if is_grad_enabled() else grad.detach().clone()
        elif is_grad_enabled():
            leaf.grad = leaf.grad + grad
        else:
            leaf.grad.add_(grad)
        return ()

    def release(self):
        pass

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"


class RemovableHandle:
    """Returned by ``register_hook``; ``handle.remove()`` takes the hook off again."""

    _next_id = 0

    def __init__(self, hooks, fn):
        RemovableHandle._next_id += 1
        self.hooks, self.id = hooks, RemovableHandle._next_id
        hooks[self.id] = fn

    def remove(self):
        self.hooks.pop(self.id, None)


_Tensor = None  # tensorlite.Tensor, set by tensor.py once it is defined (tensor.py imports this module)


def gradient_edge(tensor):
    """Where a gradient for ``tensor`` goes: its ``grad_fn`` output, or its leaf's ``AccumulateGrad``; None for a
    view of a tensor that requires grad made under no_grad, which is out of the graph (torch's ``(None, 0)``)."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn, tensor._output_nr
    if tensor._view_kind == "no_grad" and tensor._base.requires_grad:
        return None
    accumulator = tensor._grad_accumulator() if tensor._grad_accumulator is not None else None
    if accumulator is None:
        accumulator = AccumulateGrad(tensor)
        tensor._grad_accumulator = weakref.ref(accumulator)
    return accumulator, 0


def named(tensor, name):
    """Give the node that made ``tensor`` torch's name for the op it computes (for ops composed of several
    nodes, such as ``mean`` = sum / n, the last node stands for the whole op)."""
    if tensor.grad_fn is not None:
        tensor.grad_fn._name = name
    return tensor


class OpWatcher:
    """Sees every op call while installed with ``watch_ops``: the one seam for tools that watch a forward pass op
    by op. Override what you need; by default each call just runs."""

    def op(self, cls, args, kwargs):
        """``cls.apply(*args, **kwargs)`` was called: run it with ``cls._apply(args, kwargs)`` and return that."""
        return cls._apply(args, kwargs)

    def composite(self, name, fn, args, kwargs):
        """A function marked ``@traced_as(name)`` was called; by default its ops are watched one by one."""
        return fn(*args, **kwargs)

    def store(self, target, value):
        """An in-place op without a recorded graph wrote ``value`` into ``target``'s storage."""


_op_watcher = None  # the OpWatcher that watch_ops installed, or None


@contextlib.contextmanager
def watch_ops(watcher):
    """While the block runs, every op call goes to ``watcher`` (an ``OpWatcher``). It sees every thread's ops; one
    watcher at a time."""
    global _op_watcher
    if _op_watcher is not None:
        raise RuntimeError("watch_ops: ops are already being watched (a profile or an export is running)")
    _op_watcher = watcher
    try:
        yield
    finally:
        _op_watcher = None


def traced_as(name):
    """Mark a function composed of several ops as one op ``name``: a watcher receives a call of it as
    ``composite(name, fn, args, kwargs)`` (``tl.onnx.export`` translates it into one ONNX operator)."""

    def mark(fn):
        @functools.wraps(fn)
        def traced(*args, **kwargs):
            if _op_watcher is None:
                return fn(*args, **kwargs)
            return _op_watcher.composite(name, fn, args, kwargs)

        return traced

    return mark


def watched_store(target, value):
    """Tell the watcher, if any, that an in-place op wrote ``value`` into ``target``'s storage."""
    if _op_watcher is not None:
        _op_watcher.store(target, value)


class Function:
    """Base class for differentiable ops, torch's protocol: override ``forward(ctx, *args)`` and
    ``backward(ctx, *grads)``; ``forward`` receives the tensors themselves.

    ``backward`` returns one gradient per forward argument (``None`` for arguments that need none). A Function
    whose output shares storage with its first argument sets ``is_view = True``: in-place writes through the
    output then update the argument's graph, as in torch.
    """

    is_view = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        if _op_watcher is not None:  # a profile or an export is watching (watch_ops)
            return _op_watcher.op(cls, args, kwargs)
        return cls._apply(args, kwargs)

    @classmethod
    def _apply(cls, args, kwargs):
        needs = tuple(isinstance(a, _Tensor) and a.requires_grad for a in args)
        records_graph = any(needs) and is_grad_enabled()
        if records_graph:  # torch's should_compute_output: an input out of the graph (a view made under no_grad)
            # takes no gradient, so forward saves nothing for it, though the output still requires grad
            needs = tuple(n and (a._view_kind != "no_grad" or gradient_edge(a) is not None) for n, a in zip(needs, args))
        ctx = Context(needs, records_graph)
        grad_was_enabled = swap_grad_enabled(False)  # as ``with no_grad()``, for less than half the cost per op
        try:
            outputs = cls._run_forward(ctx, args, kwargs)
        finally:
            swap_grad_enabled(grad_was_enabled)
        outs = outputs if isinstance(outputs, tuple) else (outputs,)
        if cls.is_view:
            outs[0]._become_view_of(args[0], cls, args[1:])
        if ctx.records_graph:
            node = Node(cls, ctx, args, len(outs))
            ctx._pack(node, outs)
            for i, out in enumerate(outs):
                if isinstance(out, _Tensor) and out.dtype.is_floating_point:
                    out._set_grad_fn(node, i)
        return outputs

    @classmethod
    def _run_forward(cls, ctx, args, kwargs):
        return cls.forward(ctx, *args, **kwargs)


class Op(Function):
    """A built-in op: ``forward(ctx, b, *args)`` computes on arrays, ``backward(ctx, *grads)`` on tensors.

    ``apply`` hands ``forward`` the backend module ``b`` of the inputs' device and every tensor argument as its
    storage array (other arguments as they are); ``forward`` returns an array or a tuple of arrays, which ``apply``
    wraps as tensors on that device. What ``forward`` saves with ``ctx.save_for_backward`` (arrays) reaches
    ``backward`` as tensors: an input's array as that input, an output's as that output, any other array as a
    constant. ``backward`` composes tensor ops, so that with ``create_graph`` it is recorded in turn.
    """

    @classmethod
    def _run_forward(cls, ctx, args, kwargs):
        device = None
        arrays, owner = [], {}  # owner: id(array) -> the input tensor it is the storage of
        for a in args:
            if isinstance(a, _Tensor):
                device = device or a.device
                array = a._array
                if owner.setdefault(id(array), a) is not a:  # x and x.detach(): one array, two saved meanings
                    array = array.reshape(array.shape)  # a new array object on the same storage, on every backend
                    owner[id(array)] = a
                arrays.append(array)
            else:
                arrays.append(a)
        results = cls.forward(ctx, backend_for(device), *arrays, **kwargs)
        many = isinstance(results, tuple)
        results = results if many else (results,)
        outputs = tuple(None if r is None else _Tensor(r, device) for r in results)
        if ctx.records_graph and ctx._to_save:  # (``arrays`` and ``results`` keep every id below alive)
            owner.update((id(r), out) for r, out in zip(results, outputs))
            ctx._to_save = tuple(
                None if x is None else owner[id(x)] if id(x) in owner else _Tensor(x, device) for x in ctx._to_save
            )
        return outputs if many else outputs[0]
