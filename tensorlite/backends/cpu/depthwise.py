"""Depthwise convolution (groups = C_in, each input channel filtered on its own) as direct Numba loops.

With one input channel per group, im2col + GEMM degenerates into C_in products of a (m, kH*kW) matrix with a
(kH*kW, N*Ho*Wo) one, far too thin for BLAS; a direct loop over the window does the same arithmetic with no
column copy. Output channel o reads input channel c = o // m, where m = C_out / C_in is the depth multiplier.

    out[n, o, i, j]  = sum_{a, b} w[o, 0, a, b] * x[n, c, i*sh + a*dh - ph, j*sw + b*dw - pw]
    grad_x[n, c, .]  = sum over the m outputs o of c of grad_out[n, o, i, j] * w[o, 0, a, b], at the same places
    grad_w[o, 0, a, b] = sum_{n, i, j} grad_out[n, o, i, j] * x[n, c, i*sh + a*dh - ph, j*sw + b*dw - pw]

with the taps that fall in the padding left out. The first two are one loop read in opposite directions
(``depthwise_correlate``). Optimisations: the padding is never stored, each tap's loops
skip it by their bounds (a zero-padded copy of the input, and the cropping of the padded gradient, took as
long as the arithmetic on 8x64x56x56); the innermost loop runs along an output row (contiguous when the stride
is 1, so LLVM vectorises it) with the weight held in a register; every (image, channel) plane is independent,
so the planes are shared out over the cores with ``prange``, and grad_w, which sums over images, is split by
output channel instead, so no two threads write the same element; grad_w keeps one running sum per tap and
output column, so its inner loop is a plain vectorisable multiply-add rather than a serial reduction.

Numba's OpenMP threads busy-wait for a while after each ``prange`` loop, and so do OpenBLAS's after each
GEMM: on two cores, a depthwise convolution followed by a GEMM convolution (a MobileNet block) spent most
of its time with each pool spinning on the core the other needed (6.6 to 7.9 ms for a pair that takes 3.0
to 4.0 ms run apart). Numba's threads are therefore started with ``OMP_WAIT_POLICY=PASSIVE`` (sleep when
idle): 3.9 to 5.0 ms for the pair, and no change for a depthwise convolution alone. The variable is set only
while Numba loads its OpenMP library, unless the user set it; torch's own copy of the library keeps its
default.
"""
import os

import numba
import numpy as np
from numba import prange
from numba.np.ufunc import parallel

from .vectors import prefer_wide_vectors


def _start_threads_waiting_passively():
    """Start Numba's thread pool now, its OpenMP runtime reading OMP_WAIT_POLICY=PASSIVE. A wait policy the
    user chose is kept; a pool that already runs is left as it is."""
    chosen_by_user = "OMP_WAIT_POLICY" in os.environ
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        parallel._launch_threads()
    finally:
        if not chosen_by_user:
            del os.environ["OMP_WAIT_POLICY"]


_start_threads_waiting_passively()


@numba.njit
def _columns_inside(n_out, n_in, kernel, step, padding, dilation):
    """For each tap b, the outputs j, lo[b] <= j < hi[b], whose input column j*step + b*dilation - padding
    falls inside the n_in columns: the padding is skipped by loop bounds instead of being stored as zeros."""
    lo, hi = np.empty(kernel, np.int64), np.empty(kernel, np.int64)
    for b in range(kernel):
        offset = b * dilation - padding
        lo[b] = max(0, (step - 1 - offset) // step)  # ceil(-offset / step)
        hi[b] = max(lo[b], min(n_out, (n_in - 1 - offset) // step + 1))
    return lo, hi


@numba.njit(cache=True, parallel=True)
def depthwise_correlate(x, weight, out, stride, padding, dilation, adjoint):
    """The forward pass, or with adjoint=True the input gradient, between x (N, C_in, H, W) and out (N, C_out,
    Ho, Wo), over the taps inside the input:

        forward:  out[n, o, i, j] = sum_{a, b} w[o, 0, a, b] * x[n, c, i*sh + a*dh - ph, j*sw + b*dw - pw]
        adjoint:  x[n, c, i*sh + a*dh - ph, j*sw + b*dw - pw] += w[o, 0, a, b] * out[n, o, i, j]  (x = grad_x,
                  zeroed first; out = grad_out)

    for the m outputs o of channel c. The direction is chosen once per row, outside the inner loop.
    """
    n_img, c_out, ho, wo = out.shape
    (c_in, h, w), (kh, kw) = x.shape[1:], weight.shape[2:]
    m = c_out // c_in
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    j_lo, j_hi = _columns_inside(wo, w, kw, sw, pw, dw)
    for plane in prange(n_img * c_in):
        prefer_wide_vectors()
        n, c = plane // c_in, plane % c_in
        if adjoint:
            x[n, c] = 0
        for o in range(c * m, (c + 1) * m):
            for i in range(ho):
                if not adjoint:
                    for j in range(wo):
                        out[n, o, i, j] = 0
                for a in range(kh):
                    row = i * sh + a * dh - ph
                    if 0 <= row < h:
                        for b in range(kw):
                            tap, shift = weight[o, 0, a, b], b * dw - pw
                            if adjoint:
                                for j in range(j_lo[b], j_hi[b]):
                                    column = np.uintp(j * sw + shift)
                                    x[n, c, np.uintp(row), column] += tap * out[n, o, i, np.uintp(j)]
                            else:
                                for j in range(j_lo[b], j_hi[b]):
                                    column = np.uintp(j * sw + shift)
                                    out[n, o, i, np.uintp(j)] += tap * x[n, c, np.uintp(row), column]


@numba.njit(cache=True, parallel=True)
def depthwise_backward_weight(grad_out, x, grad_weight, stride, padding, dilation):
    n_img, c_out, ho, wo = grad_out.shape
    (h, w), (kh, kw), m = x.shape[2:], grad_weight.shape[2:], c_out // x.shape[1]
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    j_lo, j_hi = _columns_inside(wo, w, kw, sw, pw, dw)
    for o in prange(c_out):
        prefer_wide_vectors()
        c = o // m
        partial = np.zeros((kh, kw, wo), dtype=grad_weight.dtype)  # one running sum per tap and column
        for n in range(n_img):
            for i in range(ho):
                for a in range(kh):
                    row = i * sh + a * dh - ph
                    if 0 <= row < h:
                        for b in range(kw):
                            shift = b * dw - pw
                            for j in range(j_lo[b], j_hi[b]):
                                q, column = np.uintp(j), np.uintp(j * sw + shift)
                                partial[a, b, q] += grad_out[n, o, i, q] * x[n, c, np.uintp(row), column]
        for a in range(kh):
            for b in range(kw):
                grad_weight[o, 0, a, b] = partial[a, b].sum()
