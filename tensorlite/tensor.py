"""``Tensor``: an n-dimensional array on a device, with the bookkeeping autograd needs.

Read it top-down: the storage (``_array``, a NumPy array on the CPU) with its dtype, shape and ``device``; the
autograd state (``requires_grad``, ``grad``, ``grad_fn``, hooks, ``backward``); views and in-place writes (version
counters, ``_inplace``); conversions (``numpy``, ``item``, ``to``); the in-place methods; printing; then the
creation functions (``tensor``, ``zeros``, ``arange``, ...). The math, reduction and shape methods are not here:
each op registers its own beside its class in ``tensorlite/ops/`` (``x.exp()``, ``x + y``, ``x.sum()``, ``x[i]``).
The tensor never looks at its device: ``backend_for`` does, in one place.
"""
import math
import numbers
import operator
import weakref

import numpy as np

from . import dtypes
from .autograd import engine
from .autograd import function as _function
from .autograd.function import RemovableHandle
from .autograd.grad_mode import enable_grad, is_grad_enabled
from .backends import backend_for
from .device import CPU, as_device, check_same_device
from .device import device as Device


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``tensorlite.Size([2, 3])``."""

    def __repr__(self):
        return f"tensorlite.Size({list(self)})"

    def numel(self):
        return math.prod(self)


class VersionCounter:
    """How many times a storage was written in place; a tensor and its views share one."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Tensor:
    """An n-dimensional array with autograd. Make one with ``tl.tensor``, ``tl.zeros``, ``tl.randn``, ...

    ``Tensor(array, device)`` wraps a backend array (what ops do). Called as torch's legacy constructor, with nested
    lists of numbers, sizes or nothing, it makes a new tensor of the default dtype (``legacy_array``).

    Autograd state: ``grad_fn`` (the node that made this tensor, None for a leaf), ``_output_nr`` (which of that
    node's outputs it is), ``_version`` (bumped by every in-place write), and for a view ``_base`` (the tensor
    whose storage it shares) with ``_view`` (the ops that make it from ``_base``, replayed to rebuild its
    ``grad_fn`` after an in-place write through another view).
    """

    __array_priority__ = 1000  # numpy scalars defer to Tensor's reflected operators
    _grad_fn = None
    _output_nr = 0
    _requires_grad = False
    _retains_grad = False
    _hooks = None  # hooks on a leaf's gradient (a non-leaf keeps them on its grad_fn)
    _grad_accumulator = None  # weak reference to a leaf's AccumulateGrad node
    _base = None
    _view = None  # (parent view, Function, args): how _base becomes this tensor
    _view_version = 0  # the version at which grad_fn was last built from _base
    _view_kind = None  # "no_grad" or "multi_output": views torch forbids writing to in grad mode
    _copied_view = False  # a view whose backend copied instead of sharing storage (the GPU's layout ops)
    _changed_since_no_grad = False  # a view made under no_grad whose base was written since: grad_fn raises

    def __init__(self, array=None, device=CPU, requires_grad=False, version=None, *sizes):
        if type(array) in _LEGACY_ARGUMENTS:  # tl.Tensor([[1, 2]]), tl.Tensor(2, 3), tl.Tensor(): torch's legacy forms
            array = legacy_array(dtypes.get_default_dtype(), (array, device, requires_grad, version, *sizes))
            device, requires_grad, version = CPU, False, None
        self._array = np.asarray(array) if isinstance(array, np.generic) else array  # NumPy ops return scalars
        self.device = device
        self._grad = None
        self._version = VersionCounter() if version is None else version
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- properties
    @property
    def _backend(self):
        return backend_for(self.device)

    @property
    def dtype(self):
        return dtypes.from_numpy(self._array.dtype)

    @property
    def shape(self):
        return Size(self._array.shape)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[self._dim(dim)]

    def dim(self):
        return len(self._array.shape)

    ndim = property(dim)

    def numel(self):
        return math.prod(self._array.shape)

    def element_size(self):
        return self.dtype.itemsize

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def is_cuda(self):
        return self.device.is_cuda

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def _dim(self, dim):
        """Wrap a possibly negative ``dim`` into ``[0, ndim)``, with torch's error when out of range."""
        n = max(self.dim(), 1)
        if not -n <= dim < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
        return dim % n

    # ----------------------------------------------------------------- autograd
    @property
    def grad_fn(self):
        if self._base is not None:
            self._refresh_view()
            if self._changed_since_no_grad and self._base.requires_grad:
                raise RuntimeError(
                    "A view was created in no_grad mode and its base or another view of its base has been modified "
                    "inplace with grad mode enabled. Given that this use case is ambiguous and error-prone, it is "
                    "forbidden. You can clarify your code by moving both the view and the inplace either both inside "
                    "the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the "
                    "inplace to be tracked)."
                )
        return self._grad_fn

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        """``x.grad = g``: None, or a tensor of x's size and dtype, with torch's errors otherwise."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype.c_name}' to a tensor with grad_dtype "
                    f"'{self.dtype.legacy_name}'. The gradient must match the tensor's dtype."
                )
        self._grad = value

    @property
    def requires_grad(self):
        if self._base is not None:
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not self.dtype.is_floating_point:
            raise RuntimeError(f"only Tensors of floating point dtype can require gradients, got {self.dtype}")
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
                )
            return self
        self._requires_grad = bool(requires_grad)
        return self

    def _set_grad_fn(self, node, output_nr):
        """Make this tensor output ``output_nr`` of ``node`` (at creation, or after an in-place op)."""
        old = self._grad_fn
        self._grad_fn, self._output_nr, self._requires_grad = node, output_nr, True
        if self._retains_grad:
            if old is not None:
                old.retained.pop(self._output_nr, None)
            node.retained[output_nr] = weakref.ref(self)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is not None and not self._retains_grad:
            self._retains_grad = True
            self.grad_fn.retained[self._output_nr] = weakref.ref(self)
        return self

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` whenever a gradient for this tensor is computed; a returned tensor replaces the
        gradient. Returns a handle whose ``remove()`` takes the hook off."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn.register_hook(hook, self._output_nr)
        if self._hooks is None:
            self._hooks = {}
        return RemovableHandle(self._hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d self / d leaf for every leaf that requires grad and add it to the leaf's ``.grad``.

        ``gradient`` weights a non-scalar output; ``retain_graph`` keeps the saved tensors for another backward;
        ``create_graph`` records the backward pass so that the gradients can be differentiated again."""
        engine.backward([self], [gradient], retain_graph, create_graph, inputs)

    def detach(self):
        """The same storage (and version counter), cut from the graph."""
        return Tensor(self._array, self.device, version=self._version)

    def detach_(self):
        if self._base is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn, self._requires_grad = None, False
        return self

    @property
    def data(self):
        """The same storage as a tensor that does not require grad (in-place edits change this tensor)."""
        return Tensor(self._array, self.device)

    @data.setter
    def data(self, value):
        if value.shape != self.shape:
            raise RuntimeError(f"data set to a tensor of shape {list(value.shape)}, expected {list(self.shape)}")
        self._array = value._array
        self.device = value.device  # model.to('cuda') moves parameters in place through .data

    # ----------------------------------------------------------------- views and in-place writes
    def _become_view_of(self, source, function, args):
        """After ``function`` made this tensor from ``source``: it is a view of ``source``'s base. Where the backend
        copied instead of sharing storage, writes through the view are copied back into the base, and the view
        reads the base again after the base changed."""
        self._copied_view = not source._backend.shares_memory(self._array, source._array)
        self._base = source._base if source._base is not None else source
        self._view = (source._view, function, args)
        self._version = source._version
        self._view_version = self._version.value
        self._view_kind = source._view_kind or (None if is_grad_enabled() else "no_grad")
        self._requires_grad = source._requires_grad
        self._grad_fn = source._grad_fn if is_grad_enabled() else None  # until apply records; no_grad: untracked

    def _refresh_view(self):
        """A write through the base or another view changed the version: rebuild grad_fn from the base. A view made
        under no_grad stays out of the graph, and once its base has changed its grad_fn raises, as torch's."""
        if self._view_version == self._version.value:
            return
        self._view_version = self._version.value
        with enable_grad():
            rebuilt = replay_view(self._view, self._base)
        self._requires_grad = rebuilt._requires_grad
        if self._view_kind == "no_grad":
            self._changed_since_no_grad = True  # torch's message says "with grad mode enabled" either way
        else:
            self._grad_fn, self._output_nr = rebuilt._grad_fn, rebuilt._output_nr
        if self._copied_view:
            self._array = rebuilt._array

    def _current_array(self):
        """The storage, read again from the base first for a copied view whose base has changed."""
        if self._base is not None:
            self._refresh_view()
        return self._array

    def _write_back(self):
        """After a write into a copied view: put its values into the base, where a shared view would have them."""
        base, b = self._base, self._backend
        b.setitem(b.reshape(base._array, (-1,)), self._positions_in_base()._array, self._array)

    def _positions_in_base(self):
        """For a view: the flat index in its (row-major) base of each of its elements, an int64 tensor of its shape."""
        base = self._base
        return replay_view(self._view, arange(base.numel(), device=base.device).reshape(base.shape))

    def _alias(self):
        """This tensor's storage with its place in the graph and a version counter of its own: the value an
        in-place op reads."""
        alias = Tensor(self._array, self.device)
        alias._grad_fn, alias._output_nr, alias._requires_grad = self.grad_fn, self._output_nr, self.requires_grad
        if alias._grad_fn is None and alias._requires_grad:
            alias._grad_accumulator = self._grad_accumulator
        return alias

    def _check_inplace(self):
        """torch's rules for writing in place: no element reached twice (an expanded tensor), and, with grad mode
        on, none of the writes into tensors autograd tracks that torch refuses."""
        if self._backend.has_internal_overlap(self._array):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single memory "
                "location. Please clone() the tensor before performing the operation."
            )
        if not is_grad_enabled():
            return
        if self._base is None:
            if self._requires_grad and self._grad_fn is None:
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
            return
        base = self._base
        if not base.requires_grad:
            return
        if self._view_kind == "no_grad":
            raise RuntimeError(
                "A view was created in no_grad mode and is being modified inplace with grad mode enabled. Given "
                "that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by "
                "moving both the view and the inplace either both inside the no_grad block (if you don't want the "
                "inplace to be tracked) or both outside (if you want the inplace to be tracked)."
            )
        if self._view_kind == "multi_output":
            raise RuntimeError(
                f"Output {self._output_nr} of {self.grad_fn.name().removesuffix('Backward0')} is a view and is being "
                "modified inplace. This view is the output of a function that returns multiple views. Such "
                "functions do not allow the output views to be modified inplace. You should replace the inplace "
                "operation by an out-of-place one."
            )
        if base.grad_fn is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")

    def _inplace(self, compute, *others, write=None):
        """self <- compute(self, *others) in this tensor's storage, as torch's in-place ops.

        When autograd records it, ``compute`` runs on an alias of the old value and its result's node becomes this
        tensor's ``grad_fn`` (for a view, the base's graph gets a ``CopySlices`` node). Otherwise ``write`` (or
        ``compute``) writes straight into the storage. Either way the version counter goes up.
        """
        self._check_inplace()
        recorded = None
        records = self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
        if is_grad_enabled() and records and self.dtype.is_floating_point:  # an integer result has no gradient
            recorded = self._record_inplace(compute, others)
        elif write is not None:
            write()
        else:
            result = compute(self, *others)
            self._store(result)
            _function.watched_store(self, result)  # tl.onnx.export: this tensor now stands for the op's result
        self._version.value += 1
        if self._copied_view:
            self._write_back()
            self._view_version = self._version.value
        if recorded is not None:
            node, output_nr = recorded
            node.ctx._rebind_output(output_nr, self)  # a saved output of the op is this tensor now
        return self

    def _record_inplace(self, compute, others):
        """Run ``compute`` on the old value with autograd on, store the result, and rewire the graph: this tensor
        (or, for a view, its base) is now the result of the op's node. Returns (node, output_nr)."""
        old = self._alias()
        new = compute(old, *others)
        node = new.grad_fn
        if any(saved is not None and saved.tensor is old for saved in node.ctx._saved):
            old._array = old._backend.copy(old._array)  # backward reads the value before the write
        self._store(new)
        if self._base is None:
            self._set_grad_fn(node, new._output_nr)
        else:
            base = self._base
            written = ops.shape.CopySlices.apply(base._alias(), new, self._view)
            base._set_grad_fn(written.grad_fn, 0)
            self._view_version = -1  # grad_fn is rebuilt from the base on next use
        return node, new._output_nr

    def _store(self, value, broadcast=False):
        """Write ``value`` (a tensor or backend array of this shape, or a scalar) into this tensor's storage.
        A result must have this tensor's shape and a dtype of its kind or a lower one (it is cast); ``broadcast``
        lets ``copy_`` write anything that broadcasts to it, of any dtype."""
        if isinstance(value, np.generic):  # what a NumPy kernel returns for 0-d operands: a result like any other
            value = np.asarray(value)
        if isinstance(value, numbers.Number):
            value = dtypes.scalar_to(value, self.dtype)
        else:
            value = value._array if isinstance(value, Tensor) else value
            if not broadcast and tuple(value.shape) != tuple(self.shape):
                raise RuntimeError(
                    f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(value.shape)}"
                )
            if not broadcast:
                dtypes.check_castable(dtypes.from_numpy(value.dtype), self.dtype)
            value = self._backend.astype(value, self.dtype.numpy)
        self._backend.copy_into(self._array, value)

    # ----------------------------------------------------------------- conversion
    def numpy(self):
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._backend.to_numpy(self._current_array())

    def __array__(self, dtype=None, copy=None):
        array = self._backend.to_numpy(self._current_array())
        return array if dtype is None else array.astype(dtype)

    def item(self):
        if self.numel() != 1:
            raise RuntimeError(f"a Tensor with {self.numel()} elements cannot be converted to Scalar")
        return self._backend.to_numpy(self._current_array()).reshape(()).item()

    def tolist(self):
        return self._backend.to_numpy(self._current_array()).tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __len__(self):
        if self.dim() == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.dim() == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    __hash__ = object.__hash__

    def to(self, *args, dtype=None, device=None):
        """``t.to('cuda')``, ``t.to(tl.float64)``, ``t.to(other)``, ``t.to(device, dtype)``; differentiable."""
        device, dtype = parse_to_args(args, device, dtype)
        out = self
        if dtype is not None and dtypes.as_dtype(dtype) is not self.dtype:
            out = ops.shape.Cast.apply(out, dtypes.as_dtype(dtype))
        if device is not None and as_device(device) != self.device:
            out = ops.shape.ToDevice.apply(out, as_device(device))
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def type(self, dtype=None):
        """``x.type()`` names the tensor type ("tensorlite.FloatTensor"); ``x.type(tl.float64)``,
        ``x.type(tl.LongTensor)`` or ``x.type("torch.LongTensor")`` casts."""
        if dtype is None:
            return f"tensorlite.{self.dtype.legacy_name}Tensor"
        if isinstance(dtype, str):
            dtype = LEGACY_TYPES[dtype.rpartition(".")[2]]
        return self.to(dtype.dtype if isinstance(dtype, LegacyTensorType) else dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def byte(self):
        return self.to(dtypes.uint8)

    def clone(self):
        return ops.shape.Clone.apply(self)

    def is_contiguous(self):
        """Whether the elements lie in row-major order with no gaps, as torch's. A copied view (the GPU's) is
        judged where torch's view would lie: at consecutive positions of its base, as ``x[1]`` of a row-major
        ``x`` does and ``x.t()`` does not."""
        if not self._copied_view:
            return self._backend.is_contiguous(self._array)
        positions = self._positions_in_base().reshape(-1)
        return positions.numel() < 2 or bool((positions[1:] - positions[:-1] == 1).all())

    def contiguous(self):
        """This tensor when it is contiguous, else a contiguous copy of it (a new tensor, as in torch: writes into
        ``x.t().contiguous()`` leave ``x`` alone)."""
        return self if self.is_contiguous() else self.clone()

    # ----------------------------------------------------------------- in-place ops
    def _arithmetic_(self, kernel, other, alpha=1):
        """self <- self <op> alpha * other in place, ``kernel`` naming the backend function: a graph node when
        autograd records it, else the backend computes straight from the storage (optimiser steps, running
        statistics). ``alpha`` scales a float ``other`` of this tensor's dtype inside the op, as torch's
        ``add_(other, alpha=...)`` does (an optimiser's ``param.add_(grad, alpha=-lr)``); any other alpha * other
        is a product of its own first."""
        if isinstance(alpha, float) and not ops.elementwise.result_type(self, other).is_floating_point:
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
        if alpha != 1 and not (type(alpha) in (int, float) and isinstance(other, Tensor) and other.dtype is self.dtype
                               and self.dtype.is_floating_point):
            other, alpha = other * alpha, 1
        if kernel == "subtract":
            ops.elementwise.refuse_bool_subtraction(self, other)

        if isinstance(other, Tensor):
            ops.elementwise.broadcast_shapes(self.shape, other.shape)
        result = ops.elementwise.result_type(self, other)
        dtypes.check_castable(result, self.dtype)

        def write():  # the operand in the result's dtype, so that the backend computes in it
            if isinstance(other, Tensor):
                check_same_device(self, other)
                value = self._backend.astype(other._array, result.numpy)
                if alpha != 1:
                    value = self._backend.multiply(value, dtypes.scalar_to(alpha, result))
            else:
                value = dtypes.scalar_to(other, result)
            self._store(getattr(self._backend, kernel)(self._array, value))

        operator_ = _OPERATOR_OF_KERNEL[kernel]
        compute = operator_ if alpha == 1 else lambda this, that: operator_(this, that * alpha)
        return self._inplace(compute, other, write=write)

    def add_(self, other, alpha=1):
        return self._arithmetic_("add", other, alpha)

    def sub_(self, other, alpha=1):
        return self._arithmetic_("subtract", other, alpha)

    def mul_(self, other):
        return self._arithmetic_("multiply", other)

    def div_(self, other):
        return self._arithmetic_("true_divide", other)

    __iadd__, __isub__, __imul__, __itruediv__ = add_, sub_, mul_, div_

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor; differentiable in ``src``."""
        if isinstance(src, Tensor):
            src = src.to(device=self.device)
            shape = ops.elementwise.broadcast_shapes(self.shape, src.shape)
            if shape != self.shape:
                raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(shape)}")
        return self._inplace(ops.shape.Overwrite.apply, src, write=lambda: self._store(src, broadcast=True))

    def fill_(self, value):
        return self.copy_(value)

    def zero_(self):
        return self.copy_(0)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self.copy_(random.uniform(a, b, self.shape, generator, self.dtype, self.device))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self.copy_(random.normal(mean, std, self.shape, generator=generator, dtype=self.dtype, device=self.device))

    def __setitem__(self, index, value):
        """``X[:, 2:6] = 0`` or ``Y[i, j] = t``: an in-place write, differentiable in ``t`` and in what ``X`` held
        elsewhere (torch records ``CopySlices`` for a basic index, ``IndexPutBackward0`` for an advanced one)."""
        index = ops.shape.backend_index(index)
        split = ops.shape.split_selects(index)
        if split is not None:  # torch's order: the ints first, then the rest of the index into that view
            self[split[0]][split[1]] = value
            return
        if isinstance(value, Tensor):
            value = value.to(device=self.device)
            while value.dim() and value.shape[0] == 1:  # torch drops a value's leading unit dims
                value = value.squeeze(0)
        elif isinstance(value, numbers.Number):
            value = dtypes.scalar_to(value, self.dtype).item()

        def write():
            self._backend.setitem(self._array, index, value._array if isinstance(value, Tensor) else value)

        if ops.shape.is_basic_index(index):
            whole = ops.shape.selects_everything(index, self.shape)
            (self if whole else ops.shape.Index.apply(self, index)).copy_(value)  # a view's copy_: CopySlices
        else:
            if isinstance(value, Tensor):
                ops.shape.check_index_put(self, index, value)
            self._inplace(lambda x, v: ops.shape.IndexPut.apply(x, index, v), value, write=write)

    def __pos__(self):
        return self

    @property
    def T(self):
        """The dims in reverse order (for a matrix, its transpose)."""
        return self.permute(*reversed(range(self.dim())))

    @property
    def mT(self):
        """The last two dims swapped: a batch of matrices transposed."""
        return self.transpose(-2, -1)

    # The math, reduction and shape methods (``x.exp()``, ``x + y``, ``x.sum()``, ``x.reshape(...)``, ``x[i]``, ...)
    # are each registered beside their op in tensorlite/ops/ (see ops/registry.py).

    # ----------------------------------------------------------------- printing
    def __repr__(self):
        array = self._backend.to_numpy(self._current_array())
        prefix = "tensor("
        if array.dtype.kind == "f" and array.size and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            body = np.array2string(array, separator=", ", prefix=prefix, floatmode="unique")
        elif array.dtype.kind == "f":
            body = np.array2string(array, separator=", ", prefix=prefix, precision=4, floatmode="fixed")
        else:
            body = np.array2string(array, separator=", ", prefix=prefix)
        extras = []
        if self.device != CPU:
            extras.append(f"device='{self.device}'")
        if self.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool):
            extras.append(f"dtype={self.dtype}")
        if array.size == 0 and array.ndim != 1:
            extras.append(f"size={tuple(array.shape)}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return prefix + ", ".join([body] + extras) + ")"

    __str__ = __repr__

    def __format__(self, spec):  # f"{loss:.3f}" formats a 0-d tensor's value, as torch does
        return format(self.item(), spec) if self.dim() == 0 else object.__format__(self, spec)


_OPERATOR_OF_KERNEL = {
    "add": operator.add, "subtract": operator.sub, "multiply": operator.mul, "true_divide": operator.truediv,
}


def replay_view(view, base):
    """Apply the view ops recorded in ``view`` to ``base``: the same view, made from ``base``'s current graph."""
    if view is None:
        return base
    parent, function, args = view
    return function.apply(replay_view(parent, base), *args)


def parse_to_args(args, device=None, dtype=None):
    """The (device, dtype) that ``.to(*args, device=, dtype=)`` asks for; ``None`` where it asks nothing."""
    for arg in args:
        if isinstance(arg, Tensor):
            device, dtype = arg.device, arg.dtype
        elif isinstance(arg, dtypes.dtype):
            dtype = arg
        else:
            device = arg
    return device, dtype


_LEGACY_ARGUMENTS = frozenset({type(None), list, tuple, Size, int, float, bool, str})  # what no backend array is


def legacy_array(dtype, args, device=CPU):
    """The storage of torch's legacy constructors (``tl.Tensor``, ``tl.FloatTensor``, ...) called with ``args``:
    ``()`` is empty, ``(data,)`` a copy of nested lists or tuples of numbers in ``dtype``, ``(*sizes)`` or
    ``(size,)`` a tensor of that shape (uninitialised in torch, zeros here); on the CPU only, as in torch.
    ``Tensor`` passes its parameters' slots, where the later sizes and a ``device=`` arrive; their defaults
    (``None``, ``CPU``, ``False``) are not arguments."""
    args = [a for a in args if a is not None and a is not CPU and a is not False]
    if len(args) > 1 and isinstance(args[-1], (str, Device)):
        device = args.pop()
    if as_device(device) != CPU:
        raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {as_device(device).type} was passed")
    if len(args) == 1 and isinstance(args[0], (list, tuple)) and not isinstance(args[0], Size):
        return tensor(args[0], dtype=dtype)._array
    if len(args) == 1 and type(args[0]) is not int:
        if isinstance(args[0], str):
            raise TypeError(f"new(): invalid data type '{type(args[0]).__name__}'")
        if not isinstance(args[0], Size):
            raise TypeError(f"new(): data must be a sequence (got {type(args[0]).__name__})")
        args = list(args[0])
    for position, size in enumerate(args, 1):
        if type(size) is not int:
            if isinstance(size, (list, tuple)):
                got = ", ".join(type(a).__name__ for a in args)
                raise TypeError(f"new() received an invalid combination of arguments - got ({got})")
            raise TypeError(
                f"new(): argument 'size' failed to unpack the object at pos {position} with error \"type must be "
                f"tuple of ints,but got {type(size).__name__}\""
            )
    return empty(*args or [0], dtype=dtype)._array


class LegacyTensorType(type):
    """The type of ``tl.FloatTensor``, ``tl.LongTensor``, ...: torch's per-dtype tensor types. Calling one makes a
    ``Tensor`` of its dtype by the legacy forms (``legacy_array``); ``isinstance(x, tl.FloatTensor)`` holds for a
    float32 CPU tensor."""

    def __call__(cls, *args, device=CPU):
        return Tensor(legacy_array(cls.dtype, args, device))

    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device == CPU


LEGACY_TYPES = {
    f"{d.legacy_name}Tensor": LegacyTensorType(f"{d.legacy_name}Tensor", (), {"dtype": d})
    for d in (dtypes.float32, dtypes.float64, dtypes.int64, dtypes.int32, dtypes.uint8, dtypes.bool)
}
FloatTensor, DoubleTensor, LongTensor, IntTensor, ByteTensor, BoolTensor = LEGACY_TYPES.values()


# --------------------------------------------------------------------- creation
def _infer_dtype(array):
    """torch's inference from Python data: floats → the default float type, ints → int64, bools → bool."""
    kind = array.dtype.kind
    if kind == "f":
        return dtypes.get_default_dtype()
    if kind in "iu":
        return dtypes.int64
    if kind == "b":
        return dtypes.bool
    raise TypeError(f"can't convert data of numpy dtype {array.dtype} to a tensor")


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (nested lists, scalars, NumPy arrays or tensors)."""
    device = as_device(device)
    if isinstance(data, Tensor):
        array = data.detach().cpu().numpy()
    elif isinstance(data, (np.ndarray, np.generic)):  # a NumPy scalar keeps its dtype, as in torch
        array = data = np.asarray(data)
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in data):
            data = [x.item() if isinstance(x, Tensor) else x for x in data]
        array = np.asarray(data)
    if dtype is None:
        dtype = dtypes.as_dtype(array.dtype) if isinstance(data, (np.ndarray, Tensor)) else _infer_dtype(array)
    dtype = dtypes.as_dtype(dtype)
    if not isinstance(data, (np.ndarray, Tensor)):
        try:
            dtypes.check_fits(array, dtype)
        except RuntimeError:  # each Python number by its own type: -4 wraps into uint8, -4.0 does not
            for number in _numbers_in(data):
                dtypes.check_fits(np.asarray(number), dtype)
    out = Tensor(backend_for(device).asarray(np.array(array, dtype=dtype.numpy)), device)
    return out.requires_grad_(requires_grad) if requires_grad else out


def scalar_tensor(value, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding the number ``value`` (in the default float dtype unless ``dtype`` says otherwise)."""
    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    device = as_device(device)
    out = Tensor(backend_for(device).asarray(value, dtype.numpy), device)
    return out.requires_grad_(True) if requires_grad else out


def _numbers_in(data):
    """The numbers of nested lists and tuples, depth first."""
    if isinstance(data, (list, tuple)):
        for item in data:
            yield from _numbers_in(item)
    else:
        yield data


def from_numpy(array):
    """A CPU tensor sharing memory with the NumPy ``array``."""
    dtypes.as_dtype(array.dtype)
    return Tensor(array, CPU)


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, without copying when it already is one of that dtype and device."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if isinstance(data, np.ndarray) and dtype is None and as_device(device) == CPU:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def _size(size):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    return tuple(int(n) for n in size)


def shape_argument(name, sizes, size=None):
    """The shape a creation function ``name`` asks for: ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or
    ``f(size=(2, 3))``, with torch's errors for none, both, an int ``size=`` and a negative dimension."""
    if size is not None:
        if sizes:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"{name}(): argument 'size' must be tuple of ints, not {type(size).__name__}")
        sizes = (size,)
    elif not sizes:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    shape = _size(sizes)
    if any(n < 0 for n in shape):
        if name == "zeros":  # torch's zeros checks the sizes itself, in its own words
            raise RuntimeError("zeros: Dimension size must be non-negative.")
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    return shape


def _new(make, shape, dtype, device, requires_grad):
    device = as_device(device)
    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    out = Tensor(make(backend_for(device), shape, dtype.numpy), device)
    return out.requires_grad_(True) if requires_grad else out


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    shape = shape_argument("zeros", sizes, size)
    return _new(lambda b, s, d: b.zeros(s, dtype=d), shape, dtype, device, requires_grad)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    shape = shape_argument("ones", sizes, size)
    return _new(lambda b, s, d: b.ones(s, dtype=d), shape, dtype, device, requires_grad)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False):
    """Uninitialised in torch; zeros here."""
    shape = shape_argument("empty", sizes, size)
    return _new(lambda b, s, d: b.zeros(s, dtype=d), shape, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    shape = shape_argument("full", (), size)
    if dtype is None:
        dtype = _infer_dtype(np.asarray(fill_value))
    fill_value = dtypes.scalar_to(fill_value, dtypes.as_dtype(dtype))
    return _new(lambda b, s, d: b.full(s, fill_value, dtype=d), shape, dtype, device, requires_grad)


def _like(make, x, dtype, device, requires_grad):
    return make(x.shape, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    return _like(zeros, x, dtype, device, requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    return _like(ones, x, dtype, device, requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad=False):
    return _like(zeros, x, dtype, device, requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device or x.device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` (default 0) up to but excluding ``end``, ``step`` apart."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        dtype = _infer_dtype(np.asarray([start, end, step]))
    dtype = dtypes.as_dtype(dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    out = Tensor(backend_for(as_device(device)).arange(start, end, step, dtype=dtype.numpy), as_device(device))
    return out.requires_grad_(True) if requires_grad else out


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    return tensor(np.linspace(start, end, steps), dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    shape = shape_argument("eye", ((n, n if m is None else m),))
    return _new(lambda b, s, d: b.eye(s[0], s[1], dtype=d), shape, dtype, device, requires_grad)


_function._Tensor = Tensor  # what Function.apply wraps arrays in (function.py cannot import this module)
from . import ops, random  # noqa: E402  (ops and random build on Tensor)
