"""Fast 2-D max and average pooling on the CPU: one Numba loop over the windows of each (H, W) plane.

Every image plane is pooled on its own, so the kernels see the input as (planes = N*C, H, W) and
clip each window to the input once, by loop bounds: padding never has to be materialised.
"""
import numba
import numpy as np
from numba import prange

from ..geometry import avg_pool_window, pair, pool_output_hw
from .vectors import prefer_wide_vectors


def _planes(x):
    """x (N, C, H, W) as a C-contiguous (N*C, H, W) array."""
    return np.ascontiguousarray(x).reshape(-1, *x.shape[2:])


@numba.njit(inline="always")
def _taps(o, k, s, p, d, n):
    """Window o's taps inside the input along one axis, lo, lo + d, ... < hi: the taps are o*s - p + d*t, t < k."""
    lo = o * s - p
    hi = min(lo + d * (k - 1) + 1, n)
    while lo < 0:
        lo += d
    return lo, hi


@numba.njit(cache=True)
def _max_pool(x, out, indices, kernel_size, stride, padding, dilation):
    """out[q, i, j] = max of x[q] over window (i, j)'s taps inside the input; indices = r * W + c of that maximum.

    x (planes, H, W) -> out, indices (planes, Ho, Wo), written in place. The first maximum wins; a NaN makes the
    output NaN with the last NaN's index (PyTorch's rules). Optimisations (together 5x on 2x2 windows):
    - the window is clipped to the input by its loop bounds, no -inf padded copy;
    - while loops, not range(lo, hi, step), whose trip count costs a division per window;
    - unsigned indices, so Numba drops its negative-index wrap-around test;
    - the NaN test is its own, almost never taken, branch: folded into the max test with `or`, it made that
      branch unpredictable and the kernel 2.5x slower.
    """
    prefer_wide_vectors()
    n_planes, h, w = x.shape
    ho, wo = out.shape[1:]
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel_size, stride, padding, dilation
    for q in range(n_planes):
        for i in range(ho):
            r_lo, r_hi = _taps(i, kh, sh, ph, dh, h)
            for j in range(wo):
                c_lo, c_hi = _taps(j, kw, sw, pw, dw, w)
                best, best_index, nan_index = -np.inf, r_lo * w + c_lo, -1
                r = r_lo
                while r < r_hi:
                    c = c_lo
                    while c < c_hi:
                        value = x[q, np.uintp(r), np.uintp(c)]
                        if value > best:
                            best, best_index = value, r * w + c
                        if value != value:
                            nan_index = r * w + c
                        c += dw
                    r += dh
                if nan_index >= 0:
                    best, best_index = np.nan, nan_index
                out[q, i, j] = best
                indices[q, i, j] = best_index


@numba.njit(cache=True)
def _max_pool_backward(grad_out, indices, grad_x):
    """grad_x[q, indices[q, k]] += grad_out[q, k], for (planes, Ho*Wo) grad_out/indices and (planes, H*W) grad_x.
    A window with no tap inside the input (only with dilation) has torch's index: past the plane when its rows all
    miss, and its gradient goes nowhere; when only its columns miss, a position in the plane, which gets the
    gradient in torch too.

    Optimisations: a single pass in memory order; no temporary index arrays (cf. np.add.at).
    """
    prefer_wide_vectors()
    plane = grad_x.shape[1]
    for q in range(grad_out.shape[0]):
        for k in range(grad_out.shape[1]):
            if np.uint64(indices[q, k]) < plane:
                grad_x[q, indices[q, k]] += grad_out[q, k]


@numba.njit(cache=True, parallel=True)
def _max_pool_2x2(x, out, indices):
    """_max_pool for the commonest pooling, 2x2 windows with stride 2 that all lie inside the input (no padding,
    no ceil-mode overhang): out[q, i, j] = max of x[q, 2i:2i+2, 2j:2j+2], with _max_pool's index, tie and NaN rules.

    Optimisations (7x faster than _max_pool on MNIST's first pooling): the four taps unrolled and the maximum
    kept by selects, not branches, so that LLVM vectorises along j; the planes shared out over the cores.
    """
    w = x.shape[2]
    ho, wo = out.shape[1:]
    for q in prange(x.shape[0]):
        prefer_wide_vectors()
        for i in range(ho):
            top, bottom = np.uintp(2 * i), np.uintp(2 * i + 1)
            for j in range(wo):
                left, right = np.uintp(2 * j), np.uintp(2 * j + 1)
                first = np.int64(top * w + left)  # the flat index of the window's top-left tap
                v0, v1, v2, v3 = x[q, top, left], x[q, top, right], x[q, bottom, left], x[q, bottom, right]
                best, at = v0, first
                at = first + 1 if v1 > best else at
                best = v1 if v1 > best else best
                at = first + w if v2 > best else at
                best = v2 if v2 > best else best
                at = first + w + 1 if v3 > best else at
                best = v3 if v3 > best else best
                nan_at = -1  # the last NaN in row-major order wins
                nan_at = first if v0 != v0 else nan_at
                nan_at = first + 1 if v1 != v1 else nan_at
                nan_at = first + w if v2 != v2 else nan_at
                nan_at = first + w + 1 if v3 != v3 else nan_at
                out[q, np.uintp(i), np.uintp(j)] = best if nan_at < 0 else np.nan
                indices[q, np.uintp(i), np.uintp(j)] = at if nan_at < 0 else nan_at


@numba.njit(cache=True, parallel=True)
def _max_pool_2x2_backward(grad_out, indices, grad_x):
    """_max_pool_backward for _max_pool_2x2's windows, over flat (planes, Ho*Wo) grad_out/indices and (planes,
    H*W) grad_x: grad_x[q] = 0, then grad_x[q, indices[q, k]] = grad_out[q, k]. These windows tile the input
    without overlap, so no position gets two gradients and a store replaces the add. Each plane is zeroed and
    scattered into while it is in L1: twice as fast as writing every window's four positions by selects (the
    gradient at the index, 0 elsewhere), MNIST's first pooling 0.13 against 0.26 ms (10th percentile)."""
    for q in prange(grad_x.shape[0]):
        prefer_wide_vectors()
        plane = grad_x[q]
        plane[:] = 0
        for k in range(grad_out.shape[1]):
            plane[np.uintp(indices[q, k])] = grad_out[q, k]


def _tiles_by_2x2(input_hw, out_hw, kernel_size, stride, padding, dilation):
    """Whether a max pooling takes _max_pool_2x2: 2x2 windows, stride 2, all of them inside the input."""
    return (kernel_size == stride == (2, 2) and padding == (0, 0) and dilation == (1, 1)
            and all(2 * o <= n for o, n in zip(out_hw, input_hw)))


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Max pooling, as torch.nn.functional.max_pool2d(..., return_indices=True):

        out[n, c, i, j] = max over the input positions (r, q) of window (i, j) of x[n, c, r, q]
        indices[n, c, i, j] = r * W + q of the first maximum          (window rows i*sh - ph + dh*a, a < kH)

    A NaN in a window makes its output NaN, with the index of the window's last NaN (as torch).
    x (N, C, H, W) -> (out (N, C, Ho, Wo) in x's dtype, indices int64), Ho from pool_output_size.
    Optimisations: see _max_pool, and _max_pool_2x2 for the commonest windows.
    """
    kernel_size, stride, padding, dilation = map(pair, (kernel_size, stride, padding, dilation))
    out_hw = pool_output_hw(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = np.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    indices = np.empty(out.shape, dtype=np.int64)
    planes, out_planes, index_planes = _planes(x), out.reshape(-1, *out_hw), indices.reshape(-1, *out_hw)
    if _tiles_by_2x2(x.shape[2:], out_hw, kernel_size, stride, padding, dilation):
        _max_pool_2x2(planes, out_planes, index_planes)
    else:
        _max_pool(planes, out_planes, index_planes, kernel_size, stride, padding, dilation)
    return out, indices


def max_pool2d_backward(grad_out, indices, input_shape, kernel_size, stride, padding, dilation):
    """Gradient of max pooling: grad_x[n, c].flat[indices[n, c, i, j]] += grad_out[n, c, i, j].

    grad_out, indices (N, C, Ho, Wo) -> grad_x (N, C, H, W) = input_shape, grad_out's dtype. The forward's geometry
    (kernel_size, stride, padding, dilation) picks the loop: 2x2 windows of stride 2 take _max_pool_2x2_backward.
    """
    kernel_size, stride, padding, dilation = map(pair, (kernel_size, stride, padding, dilation))
    n_planes, plane_out = input_shape[0] * input_shape[1], grad_out.shape[2] * grad_out.shape[3]
    grad_flat = np.ascontiguousarray(grad_out).reshape(n_planes, plane_out)
    index_flat = np.ascontiguousarray(indices).reshape(n_planes, plane_out)
    grad_x_shape = (n_planes, input_shape[2] * input_shape[3])
    if _tiles_by_2x2(input_shape[2:], grad_out.shape[2:], kernel_size, stride, padding, dilation):
        grad_x = np.empty(grad_x_shape, dtype=grad_out.dtype)
        _max_pool_2x2_backward(grad_flat, index_flat, grad_x)
    else:
        grad_x = np.zeros(grad_x_shape, dtype=grad_out.dtype)
        _max_pool_backward(grad_flat, index_flat, grad_x)
    return grad_x.reshape(input_shape)


_avg_window = numba.njit(inline="always")(avg_pool_window)


@numba.njit(cache=True)
def _avg_pool(x, out, kernel_size, stride, padding, count_include_pad, divisor_override, adjoint):
    """Average pooling of x (planes, H, W) into out (planes, Ho, Wo), or with adjoint=True its adjoint:

        pooling:  out[q, i, j] = (sum of x[q] over window (i, j)) / divisor(i, j)
        adjoint:  x[q, r, c] += out[q, i, j] / divisor(i, j) for each window (i, j) covering (r, c)   (x accumulates)

    with the windows and divisors of _avg_window. Optimisations: windows clipped by loop bounds (no padded
    copy), unsigned indices (no wrap-around tests), sums accumulated in float64.
    """
    prefer_wide_vectors()
    n_planes, h, w = x.shape
    ho, wo = out.shape[1:]
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    for q in range(n_planes):
        for i in range(ho):
            for j in range(wo):
                r_lo, r_hi, c_lo, c_hi, divisor = _avg_window(i, j, h, w, kh, kw, sh, sw, ph, pw,
                                                              count_include_pad, divisor_override)
                if adjoint:
                    share = out[q, i, j] / divisor
                    for r in range(r_lo, r_hi):
                        for c in range(c_lo, c_hi):
                            x[q, np.uintp(r), np.uintp(c)] += share
                else:
                    total = 0.0
                    for r in range(r_lo, r_hi):
                        for c in range(c_lo, c_hi):
                            total += x[q, np.uintp(r), np.uintp(c)]
                    out[q, i, j] = total / divisor


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Average pooling, as torch.nn.functional.avg_pool2d:

        out[n, c, i, j] = (sum of x[n, c] over window (i, j)) / divisor(i, j)

    window (i, j) covers rows i*sh - ph + a (a < kH) and columns likewise, the padding being zeros; the divisor is
    divisor_override if given, else the window's size with the zero padding (count_include_pad) or without it.
    x (N, C, H, W) -> out (N, C, Ho, Wo), x's dtype. Optimisations: see _avg_pool.
    """
    kernel_size, stride, padding = map(pair, (kernel_size, stride, padding))
    out_hw = pool_output_hw(x.shape, kernel_size, stride, padding, (1, 1), ceil_mode)
    out = np.empty(x.shape[:2] + out_hw, dtype=x.dtype)
    _avg_pool(_planes(x), out.reshape(-1, *out_hw), kernel_size, stride, padding, bool(count_include_pad),
              int(divisor_override or 0), False)
    return out


def avg_pool2d_backward(grad_out, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override):
    """Gradient of average pooling: grad_x[n, c, r, q] += grad_out[n, c, i, j] / divisor(i, j) for every window
    (i, j) covering input position (r, q). grad_out (N, C, Ho, Wo) -> grad_x (N, C, H, W) = input_shape;
    ceil_mode is implied by grad_out's shape."""
    kernel_size, stride, padding = map(pair, (kernel_size, stride, padding))
    grad_x = np.zeros(input_shape, dtype=grad_out.dtype)
    _avg_pool(grad_x.reshape(-1, *input_shape[2:]), _planes(grad_out), kernel_size, stride, padding,
              bool(count_include_pad), int(divisor_override or 0), True)
    return grad_x
