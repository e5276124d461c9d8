"""Compile every kernel of the CUDA backend to PTX for the real target (not the simulator), with the argument
types the backend launches them with. Needs NVIDIA's NVVM, libdevice and NVRTC, which the ``cuda`` extra installs
(``pip install -e ".[cuda]"``), but no GPU: the simulator runs kernels as Python and so never type-checks them for the
device; this does. Run: ``NUMBA_ENABLE_CUDASIM=0 python -m tests.cuda.ptx_check``.
"""
import sys

from numba import cuda, types

cuda.is_available = lambda: True  # import the backend without a GPU: nothing here launches a kernel


class _Device:  # device functions ask the current device for its compute capability; there is none here
    compute_capability = (8, 0)


_dispatcher = __import__("numba.cuda.dispatcher", fromlist=["get_current_device"])
_dispatcher.get_current_device = lambda: _Device()

from tensorlite.backends.cuda import elementwise, layout, linalg, nn, reduction, rng  # noqa: E402

f32, f64, i64, b1 = types.float32, types.float64, types.int64, types.boolean


def vec(t):
    return types.Array(t, 1, "C")


def arr(t, ndim):
    return types.Array(t, ndim, "C")


def tup(n):
    return types.UniTuple(i64, n)


def signatures():
    """(name, python function, argument types) for every kernel and the dtypes the tests launch it with."""
    out = []
    binary_types = {"equal": b1, "not_equal": b1, "less": b1, "less_equal": b1, "greater": b1, "greater_equal": b1}
    for name in ["add", "subtract", "multiply", "true_divide", "power", "maximum", "minimum", *binary_types]:
        op = getattr(elementwise, name)
        for t in (f32, f64, i64):
            out.append((f"{name}[{t}]", op.kernel, (vec(binary_types.get(name, t)), vec(t), vec(t), tup(2), tup(2), tup(2))))
    for name in ["logical_and", "logical_or"]:
        out.append((name, getattr(elementwise, name).kernel, (vec(b1), vec(b1), vec(b1), tup(1), tup(1), tup(1))))
    for name in ["negative", "abs", "sign", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid"]:
        for t in (f32, f64):
            out.append((f"{name}[{t}]", getattr(elementwise, name).kernel, (vec(t), vec(t))))
    out.append(("logical_not", elementwise.logical_not.kernel, (vec(b1), vec(b1))))
    out.append(("sign[int64]", elementwise.sign.kernel, (vec(i64), vec(i64))))
    for src, dst in ((f32, f64), (f64, f32), (i64, f32), (b1, f32), (f32, i64), (b1, i64)):
        out.append((f"cast {src}->{dst}", elementwise._cast_kernel, (vec(dst), vec(src))))
    out.append(("to_bool", elementwise._to_bool_kernel, (vec(b1), vec(f32))))
    out.append(("where", elementwise._where_kernel, (vec(f32), vec(b1), vec(f32), vec(f32), tup(3), tup(3), tup(3), tup(3))))
    for name, kernel in reduction._KERNELS.items():
        t = b1 if name in ("all", "any") else f32
        out.append((f"reduce {name}", kernel, (vec(t), vec(t), tup(2), tup(2), tup(1), tup(1), i64, t)))
    out.append(("reduce sum[int64]", reduction._KERNELS["sum"], (vec(i64), vec(i64), tup(1), tup(1), tup(2), tup(2), i64, i64)))
    for name, kernel in reduction._ARG_KERNELS.items():
        out.append((name, kernel, (vec(i64), vec(f32), tup(1), tup(1), tup(1), tup(1), i64)))
    for t in (f32, i64, b1):
        out.append((f"strided_copy[{t}]", layout._strided_copy, (vec(t), i64, tup(3), vec(t), i64, tup(3), tup(3), i64)))
        out.append((f"fill[{t}]", layout._fill, (vec(t), t)))
        out.append((f"gather[{t}]", layout._gather, (vec(t), vec(t), vec(i64))))
        out.append((f"scatter[{t}]", layout._scatter, (vec(t), vec(i64), vec(t))))
    out.append(("arange[int64]", layout._arange, (vec(i64), i64, i64)))
    out.append(("arange[float32]", layout._arange, (vec(f32), f64, f64)))
    out.append(("eye", layout._eye, (vec(f32), i64)))
    for t in (f32, f64, i64):
        out.append((f"scatter_add[{t}]", layout._scatter_add, (vec(t), vec(i64), vec(t))))
    for t in (f32, f64):
        out.append((f"matmul[{t}]", linalg._kernel(t.name).py_func if hasattr(linalg._kernel(t.name), "py_func") else None,
                    (vec(t), vec(t), vec(t), i64, i64, i64, tup(1), tup(1), tup(1))))
        a4 = arr(t, 4)
        geometry = (i64,) * 7
        out.append((f"conv_forward[{t}]", nn._conv_forward, (a4, a4, a4, vec(t), b1) + geometry))
        out.append((f"conv_backward_input[{t}]", nn._conv_backward_input, (a4, a4, a4) + geometry))
        out.append((f"conv_backward_weight[{t}]", nn._conv_backward_weight, (a4, a4, a4) + geometry))
        out.append((f"softmax_rows[{t}]", nn._softmax_rows, (vec(t), vec(t), tup(1), tup(1), i64, i64, i64, b1)))
        a3 = arr(t, 3)
        out.append((f"max_pool[{t}]", nn._max_pool, (a3, arr(i64, 3), a3) + (i64,) * 8))
        out.append((f"max_pool_backward[{t}]", nn._max_pool_backward, (vec(t), vec(t), vec(i64), i64, i64)))
        out.append((f"avg_pool[{t}]", nn._avg_pool, (a3, a3) + (i64,) * 6 + (b1, i64)))
        out.append((f"avg_pool_backward[{t}]", nn._avg_pool_backward, (vec(t), i64, i64, a3) + (i64,) * 6 + (b1, i64)))
        out.append((f"moments[{t}]", nn._moments, (a3, vec(t), vec(t), f64)))
        out.append((f"normalise[{t}]", nn._normalise, (a3, a3, vec(t), vec(t), vec(t), vec(t))))
        out.append((f"bn_sums[{t}]", nn._bn_sums, (a3, a3, vec(t), vec(t), vec(t), vec(t))))
        out.append((f"bn_grad_x[{t}]", nn._bn_grad_x, (a3, a3, a3, vec(t), vec(t), vec(t), vec(t), vec(t))))
        out.append((f"bernoulli[{t}]", rng._bernoulli, (vec(t), i64, f64)))
    return out


def main():
    failures = 0
    for name, kernel, argtypes in signatures():
        fn = getattr(kernel, "py_func", kernel)
        try:
            cuda.compile_ptx(fn, argtypes, cc=(8, 0))
        except Exception as err:  # report them all, then fail
            failures += 1
            print(f"FAIL {name}: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}")
            print("\n".join(str(err).splitlines()[:12]))
    print(f"{len(signatures()) - failures} kernels compiled to PTX, {failures} failed")
    return failures


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
