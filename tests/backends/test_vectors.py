"""The CPU kernels ask LLVM for 512-bit vectors function by function (``backends/cpu/vectors.py``): the mark
lands on the function that calls ``prefer_wide_vectors`` (a ``prange`` body included) and on no other, and
every disk-cached kernel of the CPU backend carries it where its loops are."""
import ast
import inspect
import textwrap

import llvmlite.binding as llvm
import numba
import numpy as np
import pytest
from numba import prange
from numba.core import config

from tensorlite.backends.cpu import activation, conv, depthwise, direct, norm, pool, winograd
from tensorlite.backends.cpu.vectors import prefer_wide_vectors

pytestmark = pytest.mark.fast_kernels

MARK = '"prefer-vector-width"="512"'
KERNEL_MODULES = (activation, conv, depthwise, direct, norm, pool, winograd)
HAS_512_BIT_REGISTERS = not config.CPU_NAME and "+avx512f" in llvm.get_host_cpu_features().flatten()


def scaled_sum(x, out):
    for i in range(x.shape[0]):
        out[i] = 3 * x[i]


def marked_scaled_sum(x, out):
    prefer_wide_vectors()
    for i in range(x.shape[0]):
        out[i] = 3 * x[i]


def marked_rows(x, out):
    for r in prange(x.shape[0]):
        prefer_wide_vectors()
        for i in range(x.shape[1]):
            out[r, i] = 3 * x[r, i]


def compiled(function, x, **options):
    kernel = numba.njit(**options)(function)
    out = np.empty_like(x)
    kernel(x, out)
    np.testing.assert_array_equal(out, 3 * x)
    return "".join(kernel.inspect_llvm().values()), "".join(kernel.inspect_asm().values())


def test_the_mark_lands_on_the_calling_function_only():
    x = np.arange(100, dtype=np.float32)
    plain_ir, _ = compiled(scaled_sum, x)
    marked_ir, marked_asm = compiled(marked_scaled_sum, x)
    assert MARK not in plain_ir
    assert MARK in marked_ir
    if HAS_512_BIT_REGISTERS:
        assert "zmm" in marked_asm


@pytest.mark.skipif(not HAS_512_BIT_REGISTERS, reason="the processor (or NUMBA_CPU_NAME) has no 512-bit registers")
def test_a_parallel_loop_body_is_marked():
    """The loop body is inlined into Numba's gufunc wrapper after it is vectorised, so its mark is not in the
    final IR; its 512-bit instructions are."""
    x = np.arange(400, dtype=np.float32).reshape(4, 100)
    _, asm = compiled(marked_rows, x, parallel=True)
    assert "zmm" in asm


def cached_kernels():
    for module in KERNEL_MODULES:
        for name, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher) and value._cache.__class__.__name__ != "NullCache":
                yield pytest.param(value.py_func, id=f"{module.__name__.rsplit('.', 1)[1]}.{name}")


def calls_the_mark(statements):
    return any(isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and getattr(s.value.func, "id", "") ==
               "prefer_wide_vectors" for s in statements)


@pytest.mark.parametrize("kernel", list(cached_kernels()))
def test_every_cached_kernel_asks_for_wide_vectors(kernel):
    """In the function body, or in the body of each prange loop (compiled as a function of its own)."""
    function = ast.parse(textwrap.dedent(inspect.getsource(kernel))).body[0]
    prange_loops = [node for node in ast.walk(function) if isinstance(node, ast.For)
                    and isinstance(node.iter, ast.Call) and getattr(node.iter.func, "id", "") == "prange"]
    bodies = [loop.body for loop in prange_loops] or [function.body]
    assert all(calls_the_mark(body) for body in bodies)
