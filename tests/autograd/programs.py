"""Random whole programs that test tensorlite's autograd against torch's.

A program is a tuple of Python statements over ``lib``, which is ``torch`` or ``tensorlite``:

- 2-4 float64 leaves that require grad, of shapes (3,), (2, 3), (3, 1), (1, 3), (2, 3, 4);
- 2-20 ops, any earlier node reusable as an operand: unary ops and scalar arithmetic, binary ops with
  broadcasting, residual adds, reductions, views, reshape, expand, gathers by index tensors, cat/stack, clone,
  detach, constants and views taken under no_grad, in-place ops and setitem (on intermediates, through views, on
  leaves, on expanded tensors), and in-place updates of leaves under no_grad after ops may have saved them;
- an ending over 1-3 roots: backward on their weighted sum (once, or twice with or without retain_graph), or
  ``lib.autograd.grad`` with grad_outputs and allow_unused (optionally create_graph, then backward through
  the gradients).

The generator tracks every node's shape, so each op is valid; where torch raises anyway (a saved tensor
modified in place, an in-place op on a leaf, on a view of one or on an expanded tensor, a second backward
through a freed graph) tensorlite must raise at the same step. It keeps out of what torch leaves undefined:
writes into storage a reshape may or may not alias, advanced-index writes into expanded tensors, in-place
operands that share memory with the target, repeated indices in setitem, writes into a view made before its
base had a history. Where torch's gradients are wrong (two leaves handed one gradient array, then a second
backward that adds into it twice), gradients are not compared, and the long run counts those programs.

``run`` executes a program under one library and records every tensor it named, every leaf's ``.grad`` and
the step that raised, if any; ``compare`` runs torch and tensorlite and describes the first difference. The
statements are the program: the listing printed for a failure is exactly what ran. The long run:

    python -m tests.autograd.programs --count 50000 --seed 0
"""
import argparse
import functools
import itertools
import math
import random
import sys
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np
import torch
from hypothesis import strategies as st
from tqdm import tqdm

import tensorlite as tl

LEAF_SHAPES = [(3,), (2, 3), (3, 1), (1, 3), (2, 3, 4)]
BOUND = 20.0  # no value may grow past this magnitude, so that float64 gradients compare at rtol 1e-8
MAX_NUMEL = 48
MAX_DIMS = 4
RTOL, ATOL = 1e-8, 1e-10
CATEGORIES = ("value", "gradient", "raise-mismatch", "tensorlite-error")


# --------------------------------------------------------------------------------------------- programs
@dataclass(frozen=True)
class Program:
    """Python statements over ``lib``; ``leaves`` name the tensors whose ``.grad`` is compared."""

    steps: tuple
    leaves: tuple
    origin: str = "hand-written"

    def listing(self):
        """The program as a script: paste it after ``import tensorlite as lib`` (or ``import torch as lib``)."""
        lines = [f"{step}  # step {number}" for number, step in enumerate(self.steps)]
        return "\n".join([f"# program {self.origin}; lib is tensorlite or torch", *lines])


class Op(NamedTuple):
    """Code with ``{x}``/``{y}`` placeholders, and a bound on its result's magnitude given its operands'."""

    code: str
    bound: Callable


UNARY = (
    Op("{x}.tanh()", lambda x: 1.0),
    Op("{x}.sigmoid()", lambda x: 1.0),
    Op("{x}.relu()", lambda x: x),
    Op("{x}.sin()", lambda x: 1.0),
    Op("{x}.abs()", lambda x: x),
    Op("-{x}", lambda x: x),
    Op("{x}.tanh().exp()", lambda x: math.e),
    Op("{x} ** 2", lambda x: x**2),
    Op("{x}.pow(3)", lambda x: x**3),
    Op("{x}.clamp(-1.0, 0.5)", lambda x: min(x, 1.0)),
    Op("{x} * 2", lambda x: 2 * x),
    Op("2 - {x}", lambda x: 2 + x),
    Op("{x} / 3", lambda x: x / 3),
)
BINARY = (
    Op("{x} + {y}", lambda x, y: x + y),
    Op("{x} - {y}", lambda x, y: x + y),
    Op("{x} * {y}", lambda x, y: x * y),
    Op("{x} / ({y} * {y} + 1)", lambda x, y: x),
)
IN_PLACE = (  # {x} is the tensor written to, {y} the operand
    Op("{x}.add_({y})", lambda x, y: x + y),
    Op("{x}.sub_({y})", lambda x, y: x + y),
    Op("{x}.mul_({y})", lambda x, y: x * y),
    Op("{x}.div_({y} * {y} + 1)", lambda x, y: x),
    Op("{x}.copy_({y})", lambda x, y: y),
    Op("{x}.clamp_(-0.5, 1.0)", lambda x, y: 1.0),
    Op("{x}.relu_()", lambda x, y: x),
    Op("{x}.sigmoid_()", lambda x, y: 1.0),
    Op("{x}.tanh_()", lambda x, y: 1.0),
    Op("{x}.exp_()", lambda x, y: math.exp(x)),
    Op("{x}.neg_()", lambda x, y: x),
    Op("{x}.abs_()", lambda x, y: x),
    Op("{x}.pow_(2)", lambda x, y: x**2),
)
ZERO_IN_PLACE = Op("{x}.zero_()", lambda x, y: 0.0)  # torch lets it write an expanded tensor: not on those
LEAF_UPDATES = (  # under no_grad, like an optimiser step
    Op("{x}.mul_(0.5)", lambda x, y: x / 2),
    Op("{x}.add_(0.25)", lambda x, y: x + 0.25),
    Op("{x}.sub_(0.1 * {y})", lambda x, y: x + y / 10),
)
REDUCTIONS = ("sum", "mean", "amax", "max")
SCALARS = (3, 0.5, -1.5)
STEP_WEIGHTS = {  # how often each kind of step is tried; a kind that does not fit the nodes so far is redrawn
    "unary": 4, "binary": 4, "residual": 2, "reduce": 2, "view": 3, "reshape": 1, "expand": 1, "cat": 1,
    "stack": 1, "clone": 1, "detach": 1, "no_grad_constant": 1, "no_grad_view": 1, "in_place": 3, "setitem": 2,
    "leaf_update": 1, "gather": 1,
}


@dataclass
class Node:
    """What the generator knows about a named tensor."""

    name: str
    shape: tuple
    bound: float  # no element's magnitude exceeds this
    requires_grad: bool  # as far as the generator can tell: steers the choice of roots and marks plain views
    storage: int  # views and detach() share their input's storage
    family: int  # views share their input's autograd history; detach() starts one of its own on the same storage
    of_leaf: bool = False  # a leaf that requires grad, or a view of one: torch refuses in-place writes
    overlapping: bool = False  # expanded: elements share memory, so torch refuses most in-place writes
    plain_view: bool = False  # a view made while its storage needed no grad (see ``write_target``)


def broadcast_shape(a, b):
    """The shape of ``a op b`` for tensors of shapes ``a`` and ``b``, or None if they do not broadcast."""
    out = []
    for m, n in itertools.zip_longest(reversed(a), reversed(b), fillvalue=1):
        if m != n and 1 not in (m, n):
            return None
        out.append(n if m == 1 else m)
    return tuple(reversed(out))


def fits_into(shape, region):
    """True when a value of ``shape`` broadcasts to exactly ``region`` (in-place ops and setitem)."""
    return broadcast_shape(region, shape) == tuple(region)


def reduced_shape(shape, dims, keepdim):
    """The shape of a reduction over ``dims`` (None: all; an int; a tuple)."""
    if dims is None:
        dims = tuple(range(len(shape)))
    axes = {d % len(shape) for d in (dims if isinstance(dims, tuple) else (dims,))}
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def same_shape_but(a, b, dim):
    """True when shapes ``a`` and ``b`` differ at most at ``dim`` (what cat needs)."""
    return len(a) == len(b) and all(m == n for d, (m, n) in enumerate(zip(a, b)) if d != dim)


def under_no_grad(statement):
    return f"with lib.no_grad(): {statement}"


def arguments(values):
    return ", ".join(map(str, values))


class ProgramBuilder:
    """Grows a program step by step, keeping every node's shape, bound and storage so each op is valid.

    ``rng`` is a ``random.Random`` or anything with its ``choice``, ``randint``, ``uniform``, ``random`` and
    ``sample`` methods (``DrawnChoices`` answers them from hypothesis).
    """

    def __init__(self, rng):
        self.rng = rng
        self.steps = []
        self.nodes = []
        self.leaves = []
        self.tainted = set()  # storages a reshape may or may not alias: never written to afterwards
        self.storages = itertools.count()
        self.families = itertools.count()
        self.kinds = [getattr(self, kind) for kind, weight in STEP_WEIGHTS.items() for _ in range(weight)]

    # ------------------------------------------------------------------ bookkeeping
    def derive(self, code, shape, bound, requires_grad, shares=None, of_leaf=False, overlapping=False,
               plain_view=False, detached=False):
        """Add ``n<i> = code`` if its result stays small; ``shares`` is the node whose storage it shares, as a view
        of it, or ``detached`` from its history."""
        if bound > BOUND or math.prod(shape) > MAX_NUMEL or len(shape) > MAX_DIMS:
            return False
        storage = shares.storage if shares is not None else next(self.storages)
        family = shares.family if shares is not None and not detached else next(self.families)
        node = Node(f"n{len(self.nodes)}", tuple(shape), bound, requires_grad, storage, family, of_leaf, overlapping,
                    plain_view)
        self.nodes.append(node)
        self.steps.append(f"{node.name} = {code}")
        return True

    def derive_without_grad(self, code, shape, bound):
        """Add ``with lib.no_grad(): n<i> = code``: a constant, whatever its inputs."""
        if not self.derive(code, shape, bound, False):
            return False
        self.steps[-1] = under_no_grad(self.steps[-1])
        return True

    def view_of(self, x, code, shape, overlapping=False):
        """A view of ``x``: same storage, and refused in-place writes wherever ``x``'s are."""
        return self.derive(code, shape, x.bound, x.requires_grad, x, x.of_leaf, x.overlapping or overlapping,
                           x.plain_view or not x.requires_grad)

    def write(self, statement, target, bound, requires_grad):
        """Add an in-place statement on ``target``; every node sharing its storage may change with it, and those
        sharing its history (its base and views, not tensors detached from them) require grad if the value does."""
        if bound > BOUND:
            return False
        for node in self.nodes:
            if node.storage == target.storage:
                node.bound = max(node.bound, bound)
            if node.family == target.family:
                node.requires_grad |= requires_grad
        self.steps.append(statement)
        return True

    def operand(self):
        """Any earlier node, the most recent ones more often."""
        return self.rng.choice(self.nodes[-3:] if self.rng.random() < 0.5 else self.nodes)

    def partner(self, accepts):
        """A node for which ``accepts(node)`` holds, or None."""
        candidates = [node for node in self.nodes if accepts(node)]
        return self.rng.choice(candidates) if candidates else None

    def values(self, shape):
        """Random values in [-2, 2] with two decimals, as the nested list ``lib.tensor`` takes for ``shape``."""
        flat = [round(self.rng.uniform(-2, 2), 2) for _ in range(math.prod(shape))]
        return np.array(flat, dtype=np.float64).reshape(shape).tolist()

    # ------------------------------------------------------------------ leaves and constants
    def leaf(self):
        shape = self.rng.choice(LEAF_SHAPES)
        literal = f"lib.tensor({self.values(shape)}, dtype=lib.float64, requires_grad=True)"
        self.derive(literal, shape, 2.0, True, of_leaf=True)
        self.leaves.append(self.nodes[-1].name)

    def literal(self, name, shape):
        """``name = lib.tensor(...)``: a constant of ``shape`` with random values."""
        self.steps.append(f"{name} = lib.tensor({self.values(shape)}, dtype=lib.float64)")

    def no_grad_constant(self):
        """A unary op computed under no_grad: a constant the rest of the program may use."""
        x, op = self.operand(), self.rng.choice(UNARY)
        return self.derive_without_grad(op.code.format(x=x.name), x.shape, op.bound(x.bound))

    # ------------------------------------------------------------------ out-of-place ops
    def step(self):
        """Add one op, drawn by ``STEP_WEIGHTS`` among the kinds that fit the nodes so far."""
        while not self.rng.choice(self.kinds)():
            pass

    def unary(self):
        x, op = self.operand(), self.rng.choice(UNARY)
        return self.derive(op.code.format(x=x.name), x.shape, op.bound(x.bound), x.requires_grad)

    def binary(self):
        """An arithmetic op with any node whose shape broadcasts with ``x``'s (``x`` itself included)."""
        x, op = self.operand(), self.rng.choice(BINARY)
        y = self.partner(lambda node: broadcast_shape(x.shape, node.shape) is not None)
        code = op.code.format(x=x.name, y=y.name)
        bound = op.bound(x.bound, y.bound)
        return self.derive(code, broadcast_shape(x.shape, y.shape), bound, x.requires_grad or y.requires_grad)

    def residual(self):
        """h + f(h)."""
        x, op = self.operand(), self.rng.choice(UNARY)
        code = f"{x.name} + ({op.code.format(x=x.name)})"
        return self.derive(code, x.shape, x.bound + op.bound(x.bound), x.requires_grad)

    def reduce(self):
        """sum, mean, amax or max over everything, one dim or two dims, with or without keepdim."""
        x, kind = self.operand(), self.rng.choice(REDUCTIONS)
        dims = self.reduction_dims(x.shape, allow_tuple=kind != "max")
        if dims is None:
            code, shape = f"{x.name}.{kind}()", ()
        else:
            keepdim = self.rng.choice([False, True])
            code = f"{x.name}.{kind}(dim={dims}, keepdim={keepdim})" + (".values" if kind == "max" else "")
            shape = reduced_shape(x.shape, dims, keepdim)
        summed = math.prod(x.shape) // math.prod(shape) if kind == "sum" else 1
        return self.derive(code, shape, x.bound * summed, x.requires_grad)

    def reduction_dims(self, shape, allow_tuple):
        """None (all dims), one dim, or two dims; negative dims as often as positive ones."""
        ndim = len(shape)
        if ndim == 0 or self.rng.random() < 0.25:
            return None
        if allow_tuple and ndim >= 2 and self.rng.random() < 0.3:
            first, second = self.rng.sample(range(ndim), 2)
            return (first, second - ndim)
        return self.rng.randint(-ndim, ndim - 1)

    def cat(self):
        """cat along an existing dim with 1-2 partners of matching shape (``x`` itself allowed)."""
        x = self.operand()
        if not x.shape:
            return False
        dim = self.rng.randint(0, len(x.shape) - 1)
        count = self.rng.randint(1, 2)
        parts = [x] + [self.partner(lambda n: same_shape_but(n.shape, x.shape, dim)) for _ in range(count)]
        shape = x.shape[:dim] + (sum(p.shape[dim] for p in parts),) + x.shape[dim + 1 :]
        return self.joined("cat", parts, dim, shape)

    def stack(self):
        """stack along a new dim with 1-2 partners of the same shape (``x`` itself allowed)."""
        x = self.operand()
        dim = self.rng.randint(0, len(x.shape))
        count = self.rng.randint(1, 2)
        parts = [x] + [self.partner(lambda n: n.shape == x.shape) for _ in range(count)]
        return self.joined("stack", parts, dim, x.shape[:dim] + (len(parts),) + x.shape[dim:])

    def joined(self, function, parts, dim, shape):
        code = f"lib.{function}([{arguments(p.name for p in parts)}], dim={dim})"
        return self.derive(code, shape, max(p.bound for p in parts), any(p.requires_grad for p in parts))

    def clone(self):
        x = self.operand()
        return self.derive(f"{x.name}.clone()", x.shape, x.bound, x.requires_grad)

    def detach(self):
        """The same storage out of the graph: writes through it are allowed, and bump the version torch checks."""
        x = self.operand()
        return self.derive(f"{x.name}.detach()", x.shape, x.bound, False, x, overlapping=x.overlapping, detached=True)

    def gather(self):
        """``x[lib.tensor([...])]`` along a random dim, indices repeated or not: a new tensor, never a view, so
        writes into it must leave ``x`` alone."""
        x = self.operand()
        if not x.shape:
            return False
        dim = self.rng.randint(0, len(x.shape) - 1)
        rows = [self.rng.randint(0, x.shape[dim] - 1) for _ in range(self.rng.randint(1, 3))]
        code = f"{x.name}[{':, ' * dim}lib.tensor({rows})]"
        return self.derive(code, x.shape[:dim] + (len(rows),) + x.shape[dim + 1 :], x.bound, x.requires_grad)

    # ------------------------------------------------------------------ views
    def view(self):
        """transpose, permute, a slice, an int index, unsqueeze or squeeze: always views in torch."""
        x = self.operand()
        made = self.rng.choice([self.transposed, self.permuted, self.indexed, self.unsqueezed, self.squeezed])(x.shape)
        if made is None:
            return False
        suffix, shape = made
        return self.view_of(x, x.name + suffix, shape)

    def no_grad_view(self):
        """One of those views taken under no_grad: it keeps requires_grad, but no gradient flows through it, and
        once its base is written to, using it raises."""
        if not self.view():
            return False
        self.steps[-1] = under_no_grad(self.steps[-1])
        return True

    def transposed(self, shape):
        if len(shape) < 2:
            return None
        d0, d1 = self.rng.sample(range(len(shape)), 2)
        out = list(shape)
        out[d0], out[d1] = shape[d1], shape[d0]
        return f".transpose({d0}, {d1})", tuple(out)

    def permuted(self, shape):
        if len(shape) < 2:
            return None
        dims = self.rng.sample(range(len(shape)), len(shape))
        return f".permute({arguments(dims)})", tuple(shape[d] for d in dims)

    def indexed(self, shape):
        return self.basic_index(shape) if shape else None

    def unsqueezed(self, shape):
        dim = self.rng.randint(-len(shape) - 1, len(shape))
        out = list(shape)
        out.insert(dim % (len(shape) + 1), 1)
        return f".unsqueeze({dim})", tuple(out)

    def squeezed(self, shape):
        ones = [d for d, n in enumerate(shape) if n == 1]
        if not ones:
            return None
        if self.rng.random() < 0.3:
            return ".squeeze()", tuple(n for n in shape if n != 1)
        dim = self.rng.choice(ones)
        return f".squeeze({dim})", shape[:dim] + shape[dim + 1 :]

    def basic_index(self, shape):
        """``[:, a:b]``, ``[:, a:b:2]`` or ``[:, i]`` on a random dim: a view, and its shape."""
        dim = self.rng.randint(0, len(shape) - 1)
        size = shape[dim]
        if self.rng.random() < 0.25:
            i = self.rng.randint(0, size - 1)
            return f"[{':, ' * dim}{i}]", shape[:dim] + shape[dim + 1 :]
        start = self.rng.randint(0, size - 1)
        stop = self.rng.randint(start + 1, size)
        stride = self.rng.choice([1, 1, 2])
        part = f"{start}:{stop}" + (f":{stride}" if stride > 1 else "")
        return f"[{':, ' * dim}{part}]", shape[:dim] + (len(range(start, stop, stride)),) + shape[dim + 1 :]

    def reshape(self):
        """torch's reshape may view or copy, so the input's storage is never written to afterwards."""
        x = self.operand()
        numel = math.prod(x.shape)
        shape = self.rng.choice([(numel,), (-1,), (1, numel)] + [(numel // k, k) for k in (2, 3, 4) if numel % k == 0])
        self.tainted.add(x.storage)
        return self.view_of(x, f"{x.name}.reshape({arguments(shape)})", (numel,) if shape == (-1,) else shape)

    def expand(self):
        """Size-1 dims stretched to 2 or 3, or a new leading dim: elements then share memory."""
        x = self.operand()
        if 1 in x.shape:
            shape = tuple(self.rng.randint(2, 3) if n == 1 else n for n in x.shape)
        else:
            shape = (2,) + x.shape
        return self.view_of(x, f"{x.name}.expand({arguments(shape)})", shape, overlapping=True)

    # ------------------------------------------------------------------ writes
    def write_target(self):
        """A node to write into: mostly an intermediate, sometimes a leaf, a view of one or an expanded tensor.

        Not a view made while its storage needed no grad: once the base is written with a value that requires
        grad, torch checks a write into such a view against a grad_fn it has not rebuilt yet, and raises "a
        leaf Variable that requires grad ..." or not depending on whether ``.grad_fn`` was read in between."""
        writable = [node for node in self.nodes if node.storage not in self.tainted and not node.plain_view]
        if self.rng.random() >= 0.1:
            writable = [node for node in writable if not node.of_leaf]
        return self.rng.choice(writable) if writable else None

    def value_for(self, target, region):
        """Code for a value that broadcasts to ``region`` and shares no memory with ``target``: a node, the mean
        of a node, or a Python scalar; with its bound and whether it requires grad."""
        node = self.partner(lambda n: n.storage != target.storage and fits_into(n.shape, region))
        if node is not None and self.rng.random() < 0.7:
            return node.name, node.bound, node.requires_grad
        if self.rng.random() < 0.7:
            node = self.operand()
            return f"{node.name}.mean()", node.bound, node.requires_grad
        scalar = self.rng.choice(SCALARS)
        return str(scalar), abs(scalar), False

    def in_place(self):
        """``t.op_(v)``, or through a view, ``t[0:2].op_(v)``."""
        target = self.write_target()
        if target is None:
            return False
        index, region = "", target.shape
        if target.shape and self.rng.random() < 0.4:
            index, region = self.basic_index(target.shape)
        op = self.rng.choice(IN_PLACE if target.overlapping else IN_PLACE + (ZERO_IN_PLACE,))
        value, bound, requires_grad = self.value_for(target, region) if "{y}" in op.code else ("", 0.0, False)
        statement = op.code.format(x=target.name + index, y=value)
        return self.write(statement, target, op.bound(target.bound, bound), requires_grad)

    def setitem(self):
        """``t[index] = v`` with a slice, an int, a list of distinct ints or a bool mask. torch checks basic
        indexing into an expanded tensor (it raises where the indexed part reaches an element twice) but only
        warns for advanced indexing, so that is left out."""
        target = self.write_target()
        if target is None or not target.shape:
            return False
        indexings = [self.basic_index] + ([] if target.overlapping else [self.int_list_index, self.mask_index])
        index, region = self.rng.choice(indexings)(target.shape)
        value, bound, requires_grad = self.value_for(target, region)
        return self.write(f"{target.name}{index} = {value}", target, max(target.bound, bound), requires_grad)

    def int_list_index(self, shape):
        count = self.rng.randint(1, shape[0])
        rows = sorted(self.rng.sample(range(shape[0]), count))
        return f"[{rows}]", (count,) + shape[1:]

    def mask_index(self, shape):
        """A bool mask over the whole tensor (selecting a 1-d run of elements) or over its first dim."""
        mask_shape = shape if self.rng.random() < 0.5 else shape[:1]
        bits = [self.rng.random() < 0.5 for _ in range(math.prod(mask_shape))]
        mask = np.array(bits).reshape(mask_shape)
        return f"[lib.tensor({mask.tolist()})]", (int(mask.sum()),) + shape[len(mask_shape) :]

    def leaf_update(self):
        """An in-place update of a leaf under no_grad, like an optimiser step, after ops may have saved it."""
        leaf = self.rng.choice([node for node in self.nodes if node.name in self.leaves])
        if leaf.storage in self.tainted:
            return False
        op = self.rng.choice(LEAF_UPDATES)
        value, bound, _ = self.value_for(leaf, leaf.shape)
        statement = under_no_grad(op.code.format(x=leaf.name, y=value))
        return self.write(statement, leaf, op.bound(leaf.bound, bound), False)

    # ------------------------------------------------------------------ endings
    def finish(self):
        """End with backward on a weighted sum of 1-3 roots (once, or twice with or without retain_graph),
        or with ``lib.autograd.grad`` over them (optionally create_graph, then backward through the grads)."""
        roots = self.roots()
        weights = [f"w{i}" for i in range(len(roots))]
        for weight, root in zip(weights, roots):
            self.literal(weight, root.shape)
        ending = self.rng.choice([self.backward_once, self.backward_twice, self.grad])
        ending([root.name for root in roots], weights)

    def roots(self):
        """The latest node that requires grad and up to two earlier ones (any nodes if none requires grad)."""
        candidates = [node for node in self.nodes if node.requires_grad] or self.nodes
        others = self.rng.sample(candidates[:-1], min(len(candidates) - 1, self.rng.randint(0, 2)))
        return [candidates[-1]] + others

    def weighted_loss(self, roots, weights):
        terms = " + ".join(f"({root} * {weight}).sum()" for root, weight in zip(roots, weights))
        self.steps.append(f"loss = {terms}")

    def backward_once(self, roots, weights):
        self.weighted_loss(roots, weights)
        self.steps.append("loss.backward()")

    def backward_twice(self, roots, weights):
        """Gradients accumulate when the first pass retains the graph; otherwise the second pass raises."""
        self.weighted_loss(roots, weights)
        self.steps.append(f"loss.backward(retain_graph={self.rng.choice([True, False])})")
        self.steps.append("loss.backward()")

    def grad(self, roots, weights):
        create_graph = self.rng.choice([False, True])
        grads = ", ".join(f"g{i}" for i in range(len(self.leaves)))
        self.steps.append(
            f"{grads} = lib.autograd.grad([{arguments(roots)}], [{arguments(self.leaves)}], "
            f"grad_outputs=[{arguments(weights)}], allow_unused=True{', create_graph=True' * create_graph})"
        )
        if create_graph:
            self.steps.append(f"grad_loss = lib.stack([(g * g).sum() for g in ({grads}) if g is not None]).sum()")
            self.steps.append("grad_loss.backward()")


def random_program(rng, origin="drawn at random"):
    """A program drawn from ``rng`` (a ``random.Random``, or ``DrawnChoices``); ``origin`` labels it."""
    builder = ProgramBuilder(rng)
    for _ in range(rng.randint(2, 4)):
        builder.leaf()
    for _ in range(rng.randint(2, 20)):
        builder.step()
    builder.finish()
    return Program(tuple(builder.steps), tuple(builder.leaves), origin)


def seeded_program(seed):
    """The program of ``seed``: what the CLI and the seeded tests run, and what a failure report names."""
    return random_program(random.Random(seed), f"of seed {seed}")


class DrawnChoices:
    """The part of ``random.Random`` the generator uses, answered by hypothesis's ``draw`` (so it shrinks)."""

    def __init__(self, draw):
        self.draw = draw

    def choice(self, options):
        return self.draw(st.sampled_from(options))

    def randint(self, low, high):
        return self.draw(st.integers(low, high))

    def uniform(self, low, high):
        return self.draw(st.floats(low, high))

    def random(self):
        return self.draw(st.floats(0, 1, exclude_max=True))

    def sample(self, options, count):
        options = list(options)
        picks = st.lists(st.integers(0, len(options) - 1), min_size=count, max_size=count, unique=True)
        return [options[i] for i in self.draw(picks)]


@st.composite
def programs(draw):
    """Hypothesis strategy over the same step choices as ``random_program``."""
    return random_program(DrawnChoices(draw), "drawn by hypothesis")


# --------------------------------------------------------------------------------------------- running
@dataclass
class Outcome:
    """What a program did under one library: every named tensor (value, requires_grad) or None, every
    leaf's ``.grad``, and the step that raised (then ``grads`` is empty: a failed pass may have left some)."""

    values: dict
    grads: dict
    failed_step: int | None = None
    error: Exception | None = None
    grads_share_memory: bool = False  # two leaves' .grad on one storage (see ``torch_grads_share_memory``)


@functools.lru_cache(maxsize=8192)
def compiled(statement):
    return compile(statement, "<program step>", "exec")


def snapshot(value):
    """A tensor as (array, requires_grad); None stays None; anything else by its type name."""
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        if value._is_zerotensor():  # torch may hand back a lazy ZeroTensor as a gradient; numpy() of one crashes
            return np.zeros(tuple(value.shape)), value.requires_grad
        return np.array(value.detach().numpy(force=True)), value.requires_grad
    if isinstance(value, tl.Tensor):
        return np.array(value.detach().numpy()), value.requires_grad
    return type(value).__name__


def named_tensors(namespace):
    return {name: snapshot(value) for name, value in namespace.items() if name != "lib" and not name.startswith("__")}


def run(program, lib):
    """Execute ``program`` with ``lib`` (``torch`` or ``tensorlite``), stopping at the first step that raises."""
    namespace = {"lib": lib}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for number, statement in enumerate(program.steps):
            code = compiled(statement)  # outside the try: a statement that does not compile is the harness's bug
            try:
                exec(code, namespace)
            except Exception as error:  # noqa: BLE001 - which step raises, and what, is the result
                return Outcome(named_tensors(namespace), {}, number, error)
    grads = {leaf: snapshot(namespace[leaf].grad) for leaf in program.leaves}
    shared = lib is torch and torch_grads_share_memory([namespace[leaf].grad for leaf in program.leaves])
    return Outcome(named_tensors(namespace), grads, grads_share_memory=shared)


def torch_grads_share_memory(grads):
    """Whether two of torch's leaf gradients are views of one storage. torch's AccumulateGrad keeps the incoming
    gradient itself as ``.grad`` when no other tensor object holds it, and a gradient that reaches two leaves
    through views (``a.squeeze(0) + b.reshape(-1)``) reaches them as two views of one array; a second backward
    then adds each leaf's share in place into both (torch gives 3x the gradient of one pass, not 2x)."""
    storages = [grad.untyped_storage().data_ptr() for grad in grads
                if grad is not None and grad.numel() and not grad._is_zerotensor()]
    return len(storages) != len(set(storages))


# --------------------------------------------------------------------------------------------- comparing
@dataclass(frozen=True)
class Mismatch:
    """How tensorlite differed from torch: ``category`` is one of ``CATEGORIES``."""

    category: str
    detail: str

    def __str__(self):
        return f"{self.category}: {self.detail}"


def difference(expected, actual):
    """Why ``actual`` is not ``expected`` (snapshots), or None when they agree."""
    if not (isinstance(expected, tuple) and isinstance(actual, tuple)):
        return None if expected == actual else f"torch gives {expected!r}, tensorlite {actual!r}"
    (want, want_grad), (got, got_grad) = expected, actual
    if want.shape != got.shape or want.dtype != got.dtype:
        return f"torch gives {want.dtype} {list(want.shape)}, tensorlite {got.dtype} {list(got.shape)}"
    if not np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True):
        error = np.max(np.abs(got - want))
        return f"max |difference| {error:.3g}\n  torch:      {want.tolist()}\n  tensorlite: {got.tolist()}"
    if want_grad != got_grad:
        return f"requires_grad: torch {want_grad}, tensorlite {got_grad}"
    return None


def first_difference(expected, actual, what):
    for name, want in expected.items():
        problem = difference(want, actual.get(name, "missing"))
        if problem:
            return f"{what} {name}: {problem}"
    return None


def describe_error(outcome, program):
    if outcome.error is None:
        return "ran to the end"
    statement = program.steps[outcome.failed_step]
    message = str(outcome.error).splitlines()[0][:200] if str(outcome.error) else ""
    return f"raised {type(outcome.error).__name__} at step {outcome.failed_step} ({statement}): {message}"


def same_kind(expected, actual):
    """tensorlite's exception is torch's type, or both are RuntimeErrors (torch raises its own subclasses)."""
    both_runtime_errors = isinstance(expected, RuntimeError) and isinstance(actual, RuntimeError)
    return isinstance(actual, type(expected)) or both_runtime_errors


def raise_mismatch(program, expected, actual):
    """tensorlite must raise exactly where torch raises, an exception of the same kind."""
    if expected.failed_step == actual.failed_step and (
        expected.error is None or same_kind(expected.error, actual.error)
    ):
        return None
    torch_raised_first = actual.failed_step is None or (
        expected.failed_step is not None and expected.failed_step <= actual.failed_step
    )
    category = "raise-mismatch" if torch_raised_first else "tensorlite-error"
    detail = f"torch {describe_error(expected, program)}; tensorlite {describe_error(actual, program)}"
    return Mismatch(category, detail)


def grads_comparable(program, expected):
    """False where torch's leaf gradients are wrong: shared between leaves, then accumulated by a second backward
    (``torch_grads_share_memory``)."""
    return not (expected.grads_share_memory and sum(step.startswith("loss.backward") for step in program.steps) > 1)


def mismatch_between(program, expected, actual):
    """The first way ``actual`` (tensorlite) differs from ``expected`` (torch), or None."""
    raised = raise_mismatch(program, expected, actual)
    if raised:
        return raised
    values = first_difference(expected.values, actual.values, "tensor")
    if values:
        return Mismatch("value", values)
    if not grads_comparable(program, expected):
        return None
    grads = first_difference(expected.grads, actual.grads, "leaf .grad of")
    return Mismatch("gradient", grads) if grads else None


def compare(program, subject=tl):
    """Run ``program`` under torch and under ``subject`` (tensorlite; torch itself to check the harness):
    the first mismatch, or None."""
    return mismatch_between(program, run(program, torch), run(program, subject))


def report(program, mismatch):
    """A failure as people read it: what differed, then the program."""
    return f"{mismatch}\n{program.listing()}"


# --------------------------------------------------------------------------------------------- command line
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="number of programs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first program; the rest follow on")
    parser.add_argument("--show", type=int, default=3, help="failing programs to print")
    parser.add_argument("--self-check", action="store_true", help="run torch against torch (must find nothing)")
    args = parser.parse_args(argv)
    subject = torch if args.self_check else tl
    torch_raised, both_raised, not_compared, mismatches, failures = 0, 0, 0, Counter(), []
    for seed in tqdm(range(args.seed, args.seed + args.count), desc="programs", unit="program"):
        program = seeded_program(seed)
        expected, actual = run(program, torch), run(program, subject)
        torch_raised += expected.error is not None
        both_raised += expected.error is not None and actual.failed_step == expected.failed_step
        not_compared += not grads_comparable(program, expected)
        mismatch = mismatch_between(program, expected, actual)
        if mismatch:
            mismatches[mismatch.category] += 1
            if len(failures) < args.show:
                failures.append(report(program, mismatch))
    print(f"programs run: {args.count}")
    print(f"torch raised: {torch_raised} (tensorlite raised at the same step: {both_raised})")
    print(f"gradients not compared, torch's being wrong (two leaves' .grad on one storage, then a second backward): "
          f"{not_compared}")
    for category in CATEGORIES:
        print(f"{category} mismatches: {mismatches[category]}")
    for failure in failures:
        print("\n" + failure)
    if failures:
        print("\nrerun one program with: python -m tests.autograd.programs --seed SEED --count 1")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
