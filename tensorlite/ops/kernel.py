"""``Kernel``: one backend kernel called as an op that records no gradient."""
from ..autograd.function import Op


class Kernel(Op):
    """``Kernel.apply("name", *args, **kwargs)`` is the backend's ``name(*args, **kwargs)`` on the tensors' arrays,
    its results returned as tensors. For results that have no gradient (comparisons, logic, indices) and for the
    fused kernels of a plain backward, which runs with grad mode off, so that nothing is recorded."""

    @staticmethod
    def forward(ctx, b, kernel, *args, **kwargs):
        return getattr(b, kernel)(*args, **kwargs)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("a backend kernel called without a gradient was differentiated")
