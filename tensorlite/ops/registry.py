"""One registration per op: from it come the Tensor method, the ``tl.<name>`` function and, where torch has
them, the operator, the in-place method and the ``nn.functional`` form.

    @register("exp", inplace=True)
    def exp(input):
        return Exp.apply(floating(input))

gives ``x.exp()``, ``tl.exp(x)`` and ``x.exp_()``. The function takes the tensor first, so the same function is
the method (``self`` is ``input``). ``operator="__mul__"`` adds ``x * y`` and, with ``reflected``, ``2 * x``.
"""
import functools

from ..tensor import Tensor

FUNCTIONS = {}  # name -> function: the ``tl.<name>`` namespace (tensorlite/functions.py)
FUNCTIONAL = {}  # name -> function: ``tl.nn.functional.<name>``


def register(name, *, method=True, function=True, functional=False, inplace=False, operator=None, reflected=False):
    """Publish ``fn`` under ``name``: as ``Tensor.<name>`` (``method``), ``tl.<name>`` (``function``),
    ``F.<name>`` (``functional``), ``Tensor.<name>_`` (``inplace``) and ``Tensor.<operator>``, with its
    ``__r...__`` form when ``reflected`` (``2 - x`` calls ``fn(2, x)``)."""

    def publish(fn):
        if method:
            setattr(Tensor, name, fn)
        if function:
            FUNCTIONS[name] = fn
        if functional:
            FUNCTIONAL[name] = fn
        if inplace:
            setattr(Tensor, f"{name}_", _in_place(fn, name))
        if operator:
            setattr(Tensor, operator, fn)
        if reflected:
            setattr(Tensor, operator.replace("__", "__r", 1), _reflected(fn, operator))
        return fn

    return publish


def _in_place(fn, name):
    """``x.<name>_(*args)``: ``x`` <- ``fn(x, *args)`` in x's storage (Tensor._inplace does the autograd part)."""

    def method(self, *args, **kwargs):
        return self._inplace(functools.partial(fn, **kwargs) if kwargs else fn, *args)

    method.__name__ = f"{name}_"
    method.__doc__ = f"In-place ``{name}``: writes the result into this tensor and returns it."
    return method


def _reflected(fn, operator):
    def method(self, other):
        return fn(other, self)

    method.__name__ = operator.replace("__", "__r", 1)
    return method
