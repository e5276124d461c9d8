"""Matrix multiplication with torch's rules for 1-D operands and broadcast batch dimensions."""
from .. import dtypes
from ..autograd.function import Op
from ..device import check_same_device
from ..tensor import Tensor
from .elementwise import broadcast_shapes
from .registry import register


class MatMul(Op):
    """C = A B for (..., n, k) @ (..., k, m); dA = dC B^T, dB = A^T dC (batch broadcasting summed by the engine)."""

    node_name = "MmBackward0"

    @staticmethod
    def forward(ctx, b, x, y):
        needs_x, needs_y = ctx.needs_input_grad
        ctx.save_for_backward(x if needs_y else None, y if needs_x else None)
        return b.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        grad_x = grad @ y.mT if ctx.needs_input_grad[0] else None
        grad_y = x.mT @ grad if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Addmm(Op):
    """out = bias + x W for x (n, k), W (k, m) and bias broadcast to (n, m): a linear layer in one node, as torch's
    addmm. d bias = d out (summed to bias's shape by the engine), d x = d out W^T, d W = x^T d out."""

    node_name = "AddmmBackward0"

    @staticmethod
    def forward(ctx, b, bias, x, w):
        _, needs_x, needs_w = ctx.needs_input_grad
        ctx.save_for_backward(x if needs_w else None, w if needs_x else None)
        return b.add(b.matmul(x, w), bias)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        needs_bias, needs_x, needs_w = ctx.needs_input_grad
        return grad if needs_bias else None, grad @ w.mT if needs_x else None, x.mT @ grad if needs_w else None


@register("matmul", operator="__matmul__", reflected=True)
def matmul(input, other):
    """``input @ other``. A 1-D ``a`` is a row vector and a 1-D ``b`` a column vector; the added dim is dropped after."""
    a, b = input, other
    check_operands(a, b)
    if a.dim() == 1 and b.dim() == 1:
        return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape(())
    if a.dim() == 1:
        return matmul(a.unsqueeze(0), b).squeeze(-2)
    if b.dim() == 1:
        return matmul(a, b.unsqueeze(-1)).squeeze(-1)
    check_inner_sizes(a, b)
    broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return MatMul.apply(a, b)


def check_operands(a, b):
    """What ``a @ b`` asks of its operands whatever their shapes: tensors, one device, one dtype (not bool), 1-D
    at least; torch's exception and message for each."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"matmul expected two tensors, got {type(a).__name__} and {type(b).__name__}")
    check_same_device(a, b)
    if dtypes.bool in (a.dtype, b.dtype) and (a.dtype is b.dtype or max(a.dim(), b.dim()) > 2):
        kernel = "bmm" if max(a.dim(), b.dim()) > 2 else {(1, 1): "dot", (2, 1): "addmv_impl_cpu"}.get(
            (a.dim(), b.dim()), "addmm_impl_cpu_")
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if a.dtype is not b.dtype:
        raise RuntimeError(_dtype_mismatch(a, b))
    if a.dim() == 0 or b.dim() == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {a.dim()}D and {b.dim()}D"
        )


def check_inner_sizes(a, b):
    """a's columns against b's rows, for operands of 2 dims or more."""
    if a.shape[-1] != b.shape[-2]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({'x'.join(map(str, a.shape))} and "
            f"{'x'.join(map(str, b.shape))})"
        )


def _dtype_mismatch(a, b):
    """torch's message for ``a @ b`` of two dtypes, which names the kernel its shapes take: dot (vector @ vector),
    addmv (matrix @ vector), bmm (anything @ a batch) or addmm (the rest)."""
    x, y = a.dtype, b.dtype
    if b.dim() == 1 and a.dim() == 1:
        return f"dot : expected both vectors to have same dtype, but found {x.legacy_name} and {y.legacy_name}"
    if b.dim() == 1 and a.dim() >= 2:
        return f"addmv input tensors must have the same dtype, but got {y.legacy_name}, {x.legacy_name}, and {y.legacy_name}"
    if b.dim() >= 3:
        return f"expected scalar type {x.legacy_name} but found {y.legacy_name}"
    return f"expected m1 and m2 to have the same dtype, but got: {x.c_name} != {y.c_name}"


@register("mm")
def mm(input, mat2):
    """``input @ mat2`` for two matrices only (torch's ``mm``: no 1-D operands, no batch dimensions)."""
    for name, x in (("self", input), ("mat2", mat2)):
        if isinstance(x, Tensor) and x.dim() != 2:
            raise RuntimeError(f"{name} must be a matrix")
    return matmul(input, mat2)
