"""Neural-network kernels on the device: softmax/log-softmax, 2-D convolution, max/avg pooling, batch norm.
Shapes, formulas and return values are the CPU backend's (``backends/cpu``); each function's docstring gives its
launch layout. All are direct loops, one thread per output element, with no atomics except where several
outputs write one input (pooling backward).
"""
import math

import numpy as np
from numba import cuda

from . import elementwise as ew
from ._launch import at_least_1d, contiguous_strides, empty, flat, launch, offset
from .layout import full, zeros
from .reduction import sum as _sum
from ..geometry import avg_pool_window, conv_output_size, pair, pool_output_hw


# --------------------------------------------------------------------- softmax family
@cuda.jit
def _softmax_rows(out, x, kept_shape, kept_strides, length, stride, rows, log):
    r = cuda.grid(1)
    if r < rows:
        base = offset(r, kept_shape, kept_strides)
        m = x[base]
        for k in range(1, length):
            m = max(m, x[base + k * stride])
        total = 0.0
        for k in range(length):
            total += math.exp(x[base + k * stride] - m)
        for k in range(length):
            v = x[base + k * stride] - m
            out[base + k * stride] = v - math.log(total) if log else math.exp(v) / total


def _along(x, axis, log):
    axis %= max(x.ndim, 1)
    out = empty(x.shape, x.dtype)
    if x.size:
        strides = contiguous_strides(x.shape)
        kept = [d for d in range(x.ndim) if d != axis]
        kshape, kstrides = at_least_1d([x.shape[d] for d in kept], [strides[d] for d in kept])
        rows = x.size // x.shape[axis]
        launch(_softmax_rows, rows, flat(out), flat(x), kshape, kstrides, x.shape[axis], strides[axis], rows, log)
    return out


def log_softmax(x, axis):
    """log_softmax(x)_i = x_i - m - log(sum_j exp(x_j - m)), m = max_j x_j along ``axis``.
    Launch: one thread per row (every position of the other axes), 1-D grid; three passes over the row."""
    return _along(x, axis, True)


def softmax(x, axis):
    """softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m) along ``axis``; one thread per row, as log_softmax."""
    return _along(x, axis, False)


# --------------------------------------------------------------------- convolution
@cuda.jit
def _conv_forward(out, x, w, bias, has_bias, sh, sw, ph, pw, dh, dw, groups):
    n_img, c_out, ho, wo = out.shape
    h, wd = x.shape[2], x.shape[3]
    cg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    t = cuda.grid(1)
    if t < out.size:
        j = t % wo
        i = (t // wo) % ho
        o = (t // (wo * ho)) % c_out
        n = t // (wo * ho * c_out)
        g = o // (c_out // groups)
        acc = bias[o] if has_bias else 0.0
        for c in range(cg):
            for a in range(kh):
                r = i * sh - ph + a * dh
                if 0 <= r < h:
                    for b in range(kw):
                        q = j * sw - pw + b * dw
                        if 0 <= q < wd:
                            acc += x[n, g * cg + c, r, q] * w[o, c, a, b]
        out[n, o, i, j] = acc


@cuda.jit
def _conv_backward_input(grad_x, grad_out, w, sh, sw, ph, pw, dh, dw, groups):
    n_img, c_in, h, wd = grad_x.shape
    c_out, ho, wo = grad_out.shape[1], grad_out.shape[2], grad_out.shape[3]
    cg, kh, kw = w.shape[1], w.shape[2], w.shape[3]
    t = cuda.grid(1)
    if t < grad_x.size:
        q = t % wd
        r = (t // wd) % h
        ci = (t // (wd * h)) % c_in
        n = t // (wd * h * c_in)
        g, c = ci // cg, ci % cg
        og = c_out // groups
        acc = 0.0
        for o in range(g * og, (g + 1) * og):
            for a in range(kh):
                u = r + ph - a * dh
                if u >= 0 and u % sh == 0 and u // sh < ho:
                    for b in range(kw):
                        v = q + pw - b * dw
                        if v >= 0 and v % sw == 0 and v // sw < wo:
                            acc += grad_out[n, o, u // sh, v // sw] * w[o, c, a, b]
        grad_x[n, ci, r, q] = acc


@cuda.jit
def _conv_backward_weight(grad_w, grad_out, x, sh, sw, ph, pw, dh, dw, groups):
    c_out, cg, kh, kw = grad_w.shape
    n_img, h, wd = x.shape[0], x.shape[2], x.shape[3]
    ho, wo = grad_out.shape[2], grad_out.shape[3]
    t = cuda.grid(1)
    if t < grad_w.size:
        b = t % kw
        a = (t // kw) % kh
        c = (t // (kw * kh)) % cg
        o = t // (kw * kh * cg)
        ci = (o // (c_out // groups)) * cg + c
        acc = 0.0
        for n in range(n_img):
            for i in range(ho):
                r = i * sh - ph + a * dh
                if 0 <= r < h:
                    for j in range(wo):
                        q = j * sw - pw + b * dw
                        if 0 <= q < wd:
                            acc += grad_out[n, o, i, j] * x[n, ci, r, q]
        grad_w[o, c, a, b] = acc


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups, workspace=None):
    """out[n, o, i, j] = bias[o] + sum_{c, a, b} weight[o, c, a, b] * x[n, g(o) C_in/G + c, i s - p + a d, j s - p + b d]
    (taps outside the input count as 0). x (N, C_in, H, W), weight (C_out, C_in/G, kH, kW) -> (N, C_out, Ho, Wo).
    Launch: one thread per output element, 1-D grid over N*C_out*Ho*Wo; each thread loops over C_in/G * kH * kW."""
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    weight = ew.astype(weight, x.dtype)
    out = empty((x.shape[0], weight.shape[0]) + tuple(map(conv_output_size, x.shape[2:], weight.shape[2:], stride, padding, dilation)), x.dtype)
    has_bias = bias is not None
    bias = ew.astype(bias, x.dtype) if has_bias else zeros((1,), x.dtype)
    launch(_conv_forward, out.size, out, x, weight, bias, has_bias, *stride, *padding, *dilation, groups)
    return out


def conv2d_backward(grad_out, x, weight, stride, padding, dilation, groups, input_grad=True, workspace=None):
    """Gradients of conv2d_forward, each a gather with no atomics (grad_x is None unless ``input_grad``):

        grad_x[n, c, r, q]    = sum over (o in c's group, a, b) with r + p - a d = i s, q + p - b d = j s of grad_out[n, o, i, j] w[o, c', a, b]
        grad_w[o, c, a, b]    = sum_{n, i, j} grad_out[n, o, i, j] x[n, g(o) C_in/G + c, i s - p + a d, j s - p + b d]
        grad_bias[o]          = sum_{n, i, j} grad_out[n, o, i, j]

    Launch: one thread per element of grad_x (1-D grid over N*C_in*H*W), one per element of grad_w; grad_bias is
    the reduction kernel over axes (0, 2, 3). Returns (grad_x, grad_weight, grad_bias) in x's dtype."""
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)
    weight = ew.astype(weight, x.dtype)
    grad_out = ew.astype(grad_out, x.dtype)
    grad_x = empty(x.shape, x.dtype) if input_grad else None
    grad_w = empty(weight.shape, x.dtype)
    geometry = (*stride, *padding, *dilation, groups)
    if input_grad:
        launch(_conv_backward_input, grad_x.size, grad_x, grad_out, weight, *geometry)
    launch(_conv_backward_weight, grad_w.size, grad_w, grad_out, x, *geometry)
    return grad_x, grad_w, _sum(grad_out, axis=(0, 2, 3))


# --------------------------------------------------------------------- pooling
@cuda.jit
def _max_pool(out, indices, x, kh, kw, sh, sw, ph, pw, dh, dw):
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    t = cuda.grid(1)
    if t < out.size:
        j = t % wo
        i = (t // wo) % ho
        p = t // (wo * ho)
        best = -math.inf
        best_index = -1
        nan_index = -1
        for a in range(kh):
            r = i * sh - ph + a * dh
            if 0 <= r < h:
                for b in range(kw):
                    c = j * sw - pw + b * dw
                    if 0 <= c < w:
                        v = x[p, r, c]
                        if best_index < 0:
                            best_index = r * w + c
                        if v > best:
                            best = v
                            best_index = r * w + c
                        if v != v:
                            nan_index = r * w + c
        if nan_index >= 0:
            best = math.nan
            best_index = nan_index
        out[p, i, j] = best
        indices[p, i, j] = best_index


@cuda.jit
def _max_pool_backward(grad_x, grad_out, indices, plane_out, plane_in):
    t = cuda.grid(1)
    if t < grad_out.size and indices[t] < plane_in:  # an empty window (all taps in the padding) sends nothing
        cuda.atomic.add(grad_x, (t // plane_out) * plane_in + indices[t], grad_out[t])


def _planes(x):
    return x.reshape((x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """out[n, c, i, j] = max of x[n, c] over window (i, j); indices = r * W + q of its first maximum (NaN wins).
    x (N, C, H, W) -> (out (N, C, Ho, Wo), indices int64). Launch: one thread per output element, 1-D grid."""
    kernel_size, stride, padding, dilation = map(pair, (kernel_size, stride, padding, dilation))
    out_hw = pool_output_hw(x.shape, kernel_size, stride, padding, dilation, ceil_mode)
    out = empty(tuple(x.shape[:2]) + out_hw, x.dtype)
    indices = empty(out.shape, np.int64)
    launch(_max_pool, out.size, _planes(out), _planes(indices), _planes(x), *kernel_size, *stride, *padding, *dilation)
    return out, indices


def max_pool2d_backward(grad_out, indices, input_shape, kernel_size, stride, padding, dilation):
    """grad_x[n, c].flat[indices[n, c, i, j]] += grad_out[n, c, i, j] (the geometry is not needed: the indices say
    where each gradient goes). Launch: one thread per grad_out element,
    1-D grid; overlapping windows can pick one input twice, so the adds are atomic."""
    grad_x = zeros(tuple(input_shape), grad_out.dtype)
    plane_out, plane_in = grad_out.shape[2] * grad_out.shape[3], input_shape[2] * input_shape[3]
    launch(_max_pool_backward, grad_out.size, flat(grad_x), flat(grad_out), flat(indices), plane_out, plane_in)
    return grad_x.reshape(tuple(input_shape))


_avg_window = cuda.jit(device=True)(avg_pool_window)  # the same window rule as the CPU backend


@cuda.jit
def _avg_pool(out, x, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    planes, h, w = x.shape
    ho, wo = out.shape[1], out.shape[2]
    t = cuda.grid(1)
    if t < out.size:
        j = t % wo
        i = (t // wo) % ho
        p = t // (wo * ho)
        r_lo, r_hi, c_lo, c_hi, divisor = _avg_window(i, j, h, w, kh, kw, sh, sw, ph, pw, count_include_pad,
                                                      divisor_override)
        total = 0.0
        for r in range(r_lo, r_hi):
            for c in range(c_lo, c_hi):
                total += x[p, r, c]
        out[p, i, j] = total / divisor


@cuda.jit
def _avg_pool_backward(grad_x, h, w, grad_out, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    ho, wo = grad_out.shape[1], grad_out.shape[2]
    t = cuda.grid(1)
    if t < grad_out.size:
        j = t % wo
        i = (t // wo) % ho
        p = t // (wo * ho)
        r_lo, r_hi, c_lo, c_hi, divisor = _avg_window(i, j, h, w, kh, kw, sh, sw, ph, pw, count_include_pad,
                                                      divisor_override)
        g = grad_out[p, i, j] / divisor
        for r in range(r_lo, r_hi):
            for c in range(c_lo, c_hi):
                cuda.atomic.add(grad_x, (p * h + r) * w + c, g)


def _avg_args(kernel_size, stride, padding, divisor_override):
    (kh, kw), (sh, sw), (ph, pw) = map(pair, (kernel_size, stride, padding))
    return kh, kw, sh, sw, ph, pw, int(divisor_override or 0)


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """out[n, c, i, j] = sum of x[n, c] over window (i, j) / divisor (window size with or without padding, or
    divisor_override). Launch: one thread per output element, 1-D grid."""
    kh, kw, sh, sw, ph, pw, div = _avg_args(kernel_size, stride, padding, divisor_override)
    out_hw = pool_output_hw(x.shape, (kh, kw), (sh, sw), (ph, pw), (1, 1), ceil_mode)
    out = empty(tuple(x.shape[:2]) + out_hw, x.dtype)
    launch(_avg_pool, out.size, _planes(out), _planes(x), kh, kw, sh, sw, ph, pw, bool(count_include_pad), div)
    return out


def avg_pool2d_backward(grad_out, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override):
    """grad_x[n, c, r, q] = sum over windows holding (r, q) of grad_out / divisor. Launch: one thread per grad_out
    element, 1-D grid, adding atomically into its window (windows overlap when stride < kernel)."""
    kh, kw, sh, sw, ph, pw, div = _avg_args(kernel_size, stride, padding, divisor_override)
    grad_x = zeros(tuple(input_shape), grad_out.dtype)
    launch(_avg_pool_backward, grad_out.size, flat(grad_x), input_shape[2], input_shape[3], _planes(grad_out), kh, kw, sh, sw, ph, pw,
            bool(count_include_pad), div)
    return grad_x


# --------------------------------------------------------------------- batch norm
@cuda.jit
def _moments(x, mean, invstd, eps):
    n_img, channels, length = x.shape
    c = cuda.grid(1)
    if c < channels:
        total = 0.0
        for n in range(n_img):
            for k in range(length):
                total += x[n, c, k]
        m = total / (n_img * length)
        sq = 0.0
        for n in range(n_img):
            for k in range(length):
                d = x[n, c, k] - m
                sq += d * d
        mean[c] = m
        invstd[c] = 1.0 / math.sqrt(sq / (n_img * length) + eps)


@cuda.jit
def _normalise(out, x, mean, invstd, weight, bias):
    n_img, channels, length = x.shape
    t = cuda.grid(1)
    if t < x.size:
        k = t % length
        c = (t // length) % channels
        n = t // (length * channels)
        out[n, c, k] = (x[n, c, k] - mean[c]) * invstd[c] * weight[c] + bias[c]


@cuda.jit
def _bn_sums(grad_out, x, mean, invstd, grad_weight, grad_bias):
    n_img, channels, length = x.shape
    c = cuda.grid(1)
    if c < channels:
        gb = 0.0
        gw = 0.0
        for n in range(n_img):
            for k in range(length):
                g = grad_out[n, c, k]
                gb += g
                gw += g * (x[n, c, k] - mean[c]) * invstd[c]
        grad_weight[c] = gw
        grad_bias[c] = gb


@cuda.jit
def _bn_grad_x(grad_x, grad_out, x, mean, invstd, weight, grad_weight, grad_bias):
    n_img, channels, length = x.shape
    t = cuda.grid(1)
    if t < x.size:
        k = t % length
        c = (t // length) % channels
        n = t // (length * channels)
        m = n_img * length
        x_hat = (x[n, c, k] - mean[c]) * invstd[c]
        grad_x[n, c, k] = weight[c] * invstd[c] * (grad_out[n, c, k] - grad_bias[c] / m - x_hat * grad_weight[c] / m)


def _ncl(x):
    return x.reshape((x.shape[0], x.shape[1], x.size // max(x.shape[0] * x.shape[1], 1)))


def batch_norm_forward(x, weight, bias, eps):
    """Training-mode batch norm per channel c = axis 1: mean_c, biased var_c over the other axes,
    invstd_c = 1 / sqrt(var_c + eps), out = (x - mean_c) invstd_c weight_c + bias_c (weight 1, bias 0 when None).
    Returns (out like x, mean (C,), invstd (C,)). Launch: one thread per channel for the two-pass moments
    (float64 sums), then one thread per element for the scale and shift."""
    channels = x.shape[1]
    mean, invstd = empty((channels,), x.dtype), empty((channels,), x.dtype)
    launch(_moments, channels, _ncl(x), mean, invstd, float(eps))
    weight = full((channels,), 1, x.dtype) if weight is None else ew.astype(weight, x.dtype)
    bias = full((channels,), 0, x.dtype) if bias is None else ew.astype(bias, x.dtype)
    out = empty(x.shape, x.dtype)
    launch(_normalise, x.size, _ncl(out), _ncl(x), mean, invstd, weight, bias)
    return out, mean, invstd


def batch_norm_backward(grad_out, x, weight, mean, invstd):
    """Gradients of batch_norm_forward, per channel over its M elements, x_hat = (x - mean) invstd:
    grad_bias = sum g, grad_weight = sum g x_hat, grad_x = weight invstd (g - grad_bias / M - x_hat grad_weight / M).
    Launch: one thread per channel for the two sums, then one thread per element for grad_x."""
    channels = x.shape[1]
    grad_out = ew.astype(grad_out, x.dtype)
    weight = full((channels,), 1, x.dtype) if weight is None else ew.astype(weight, x.dtype)
    grad_weight, grad_bias = empty((channels,), x.dtype), empty((channels,), x.dtype)
    launch(_bn_sums, channels, _ncl(grad_out), _ncl(x), mean, invstd, grad_weight, grad_bias)
    grad_x = empty(x.shape, x.dtype)
    launch(_bn_grad_x, x.size, _ncl(grad_x), _ncl(grad_out), _ncl(x), mean, invstd, weight, grad_weight, grad_bias)
    return grad_x, grad_weight, grad_bias
