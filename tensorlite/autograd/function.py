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
"""
from .grad_mode import is_grad_enabled, no_grad

FREED_GRAPH_ERROR = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Context:
    """What ``forward`` leaves for ``backward``: saved tensors, ``needs_input_grad`` and any attributes.

    ``records_graph`` tells forward whether this call is recorded for backward at all (grad mode is on and some
    input requires grad), so that it can skip keeping what only backward would use.
    """

    def __init__(self, needs_input_grad, records_graph):
        self.needs_input_grad = needs_input_grad
        self.records_graph = records_graph
        self._saved = ()
        self._released = False

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        if self._released:
            raise RuntimeError(FREED_GRAPH_ERROR)
        return self._saved

    def release(self):
        """Free what forward saved, attributes included (after backward unless ``retain_graph=True``)."""
        self.__dict__ = {"needs_input_grad": self.needs_input_grad, "_saved": (), "_released": True}


class Node:
    """A recorded call: the Function, its context, and the forward's inputs (``None`` for non-tensors)."""

    def __init__(self, function, ctx, inputs, num_outputs):
        self.function = function
        self.ctx = ctx
        self.inputs = inputs
        self.num_outputs = num_outputs

    def name(self):
        return f"{self.function.__name__}Backward0"

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"


class Function:
    """Base class for differentiable ops: override ``forward(ctx, *args)`` and ``backward(ctx, *grads)``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement the backward function for custom autograd.Function.")

    @classmethod
    def apply(cls, *args, **kwargs):
        from ..tensor import Tensor

        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = Context(needs, records_graph=is_grad_enabled() and any(needs))
        with no_grad():
            outputs = cls.forward(ctx, *args, **kwargs)
        if ctx.records_graph:
            single = not isinstance(outputs, tuple)
            outs = (outputs,) if single else outputs
            node = Node(cls, ctx, tuple(a if isinstance(a, Tensor) else None for a in args), len(outs))
            for i, out in enumerate(outs):
                if isinstance(out, Tensor) and out.dtype.is_floating_point:
                    out.requires_grad = True
                    out.grad_fn = node
                    out._output_nr = i
        return outputs
