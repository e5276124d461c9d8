"""Direct stride-1 convolution: the window's taps unrolled, the running sum in a register, no im2col columns.

With stride 1, output (i, j) reads x_pad[i + a*dh, j + b*dw]. Flatten each padded plane (Hp, Wp) into one
row and give the output the input's row width Wp ("wide" rows: the last Wp - Wo columns of each output row
are computed and thrown away). Output position p = i*Wp + j then reads x_flat[p + a*dh*Wp + b*dw], at an
offset that is the same for every p, so one (image, output channel) plane is

    out_wide[p] = sum_c sum_{a,b} w[o, c, a, b] * x_flat[c, p + a*dh*Wp + b*dw],      p < (Ho - 1)*Wp + Wo:

per input channel, one long loop over p with the kH*kW taps inside it. The kernels are compiled once per
kernel size (kH, kW and dw are literal-typed arguments: each value is a specialisation, cached on disk under
a signature of its own), so LLVM unrolls
the taps, keeps the weights and the running sum in vector registers and vectorises along p: per tap and 16
outputs, one load and one fused multiply-add on AVX-512 (AVX2's 16 registers cannot hold 25 weights, so
there each tap also reloads its weight), and no columns written to memory and read back.

The backward pass reuses the wide rows. grad_out is widened to rows of Wp with zeros in the thrown-away
columns and (kH-1)*dh*Wp + (kW-1)*dw zeros before and after each plane (the "margin", room for the taps of
the input gradient; a network's first layer, whose input gradient is not wanted, widens each plane as the
weight gradient reads it instead, and stores none). Then

    grad_x_pad[n, c, q] = the same correlation of the widened grad_out, with the kernel flipped and C_in,
                          C_out swapped: a "full" correlation, every padded input position q < Hp*Wp valid
    grad_w[o, c, a, b]  = sum_n sum_p grad_wide[n, o, p] * x_flat[n, c, p + a*dh*Wp + b*dw]   (dot products)

The zero columns make both exact: a window that wraps from one row into the next only meets zeros.
"""
import functools

import numba
import numpy as np
from numba import prange

from .scratch import keep, scratch
from .vectors import prefer_wide_vectors


@functools.cache
def _correlate_planes_of_size(kh, kw, dw):
    """``_correlate_planes`` for one kernel size, as a function of the other arguments. Calling the literal-typed
    kernel from Python would look its specialisation up anew on every call (milliseconds); this small
    dispatcher, compiled once per process and not cached (a cached closure's symbols collide with another
    size's when both are loaded), makes the lookup once."""

    @numba.njit
    def planes(x, w, bias, out, row_width, row_step, top, left):
        _correlate_planes(x, w, bias, out, row_width, row_step, top, left, kh, kw, dw)

    return planes


@numba.njit(inline="always")
def _add_to_one_of_four(sums, tap, value):
    """``sums`` with ``value`` added to its entry tap % 4. Taps summed into four running sums, not one, are four
    chains of dependent multiply-adds instead of one 25-long chain whose latency bounds the loop: 20 to 40 %
    faster on MNIST's 5x5 layers. With kH and kW literals the tap loop is unrolled, so the choice is made at
    compile time."""
    s0, s1, s2, s3 = sums
    slot = tap % 4
    if slot == 0:
        return s0 + value, s1, s2, s3
    if slot == 1:
        return s0, s1 + value, s2, s3
    if slot == 2:
        return s0, s1, s2 + value, s3
    return s0, s1, s2, s3 + value


@numba.njit(cache=True, parallel=True, fastmath={"contract", "reassoc"})
def _correlate_planes(x, w, bias, out, row_width, row_step, top, left, kh, kw, dw):
    """The wide-row correlation, compiled once per kernel size and column dilation:

        wide[p]       = sum_{c, a, b} w[o, c, a, b] * x[n, c, p + a*row_step + b*dw]
        out[n, o, i, j] = bias[o] + wide[(top + i)*row_width + left + j]

    x (N, C, L), w (O, C, kh, kw), bias (O,), out (N, O, H, W): the window of the wide rows that is kept
    (all of the output for forward, the unpadded input for the input gradient). kh, kw and dw are typed as
    literals, so each size is a specialisation of its own (and an entry of its own in Numba's cache, keyed by
    the signature) in which they are constants. The (image, output channel) planes are shared out over the
    cores; one plane's input (a few KB per channel) and its wide row stay in L1 while the taps read them, and
    the kept window is copied out with the bias added.
    """
    numba.literally(kh)
    numba.literally(kw)
    numba.literally(dw)
    c_out, height, width = out.shape[1:]
    for i in prange(x.shape[0] * c_out):
        prefer_wide_vectors()
        n, o = i // c_out, i % c_out
        wide = np.zeros((top + height - 1) * row_width + left + width, dtype=out.dtype)
        zero = wide.dtype.type(0)
        for c in range(x.shape[1]):
            for p in range(wide.shape[0]):
                sums = (zero, zero, zero, zero)
                for a in range(kh):
                    for b in range(kw):
                        value = w[o, c, a, b] * x[n, c, np.uintp(p + a * row_step + b * dw)]
                        sums = _add_to_one_of_four(sums, a * kw + b, value)
                wide[p] += (sums[0] + sums[1]) + (sums[2] + sums[3])
        for r in range(height):
            start = (top + r) * row_width + left
            for j in range(width):
                out[n, o, r, j] = wide[np.uintp(start + j)] + bias[o]


@numba.njit(inline="always")
def _widen_plane(plane, row, start, row_width):
    """row[start + i*row_width + j] = plane[i, j], the rest of row left as it is; returns the sum of plane."""
    total = row.dtype.type(0)
    for i in range(plane.shape[0]):
        at = np.uintp(start + i * row_width)
        for j in range(plane.shape[1]):
            row[at + np.uintp(j)] = plane[i, j]
            total += plane[i, j]
    return total


@numba.njit(cache=True, parallel=True, fastmath={"reassoc"})
def _widen(grad_out, grad_ext, plane_sums, row_width, margin):
    """grad_ext[n, o] = margin zeros, the rows of grad_out[n, o] each padded with zeros to row_width, and
    margin zeros again: the gradient in the wide-row layout, with room for the taps of a full correlation.
    plane_sums[n, o] = sum_{i, j} grad_out[n, o, i, j], summed over n for the bias gradient."""
    c_out, ho, wo = grad_out.shape[1:]
    for i in prange(grad_out.shape[0] * c_out):
        prefer_wide_vectors()
        n, o = i // c_out, i % c_out
        ext = grad_ext[n, o]
        ext[:margin] = 0
        for r in range(ho):
            ext[margin + r * row_width + wo:margin + (r + 1) * row_width] = 0
        ext[margin + ho * row_width:] = 0
        plane_sums[n, o] = _widen_plane(grad_out[n, o], ext, margin, row_width)


@numba.njit(cache=True, parallel=True, fastmath={"contract", "reassoc"})
def _weight_grad(x, grad_out, grad_ext, plane_sums, grad_w, margin, row_width, row_step, col_step):
    """grad_w[o, c, a, b] = sum_n sum_{p < length} grad_ext[n, o, margin + p] * x[n, c, p + a*row_step + b*col_step],
    length = (Ho - 1)*row_width + Wo, over the gradient widened by _widen; or, when grad_ext is empty (no input
    gradient wanted, so no margins and no _widen), over grad_out (N, C_out, Ho, Wo) widened here, each plane as
    it is used, into a wide row of the item's own that stays in L1, with plane_sums as _widen's: a network's
    first layer then never stores its widened gradient (MNIST's backward: 0.43 against 0.63 ms, 10th percentile).

    Dot products, blocked in registers: one pass along p sums five taps (a, b), taken in row-major order, for
    two output channels at once, so the two gradient values and five input values loaded per position serve
    ten multiply-adds (a dot product alone loads two values per multiply-add). The last pass of a plane fills
    its five slots by repeating the last tap, and with an odd C_out the last channel is paired with itself;
    the repeats are summed and dropped. The items (half of the batch, channel pair, input channel) are
    shared out over the cores, so that even MNIST's first layer (5 pairs, 1 input channel) divides evenly;
    one image's planes stay in L1 across the passes.
    """
    c_out, c_in, kh, kw = grad_w.shape
    ho, wo = grad_out.shape[2:]
    length, widen_here = (ho - 1) * row_width + wo, grad_ext.shape[0] == 0
    taps, start = kh * kw, np.uintp(0 if widen_here else margin)
    offsets = np.empty(taps, dtype=np.uintp)
    for t in range(taps):
        offsets[t] = (t // kw) * row_step + (t % kw) * col_step
    pairs = (c_out + 1) // 2
    sums = np.zeros((2, c_out, c_in, taps), dtype=grad_w.dtype)  # one partial sum per half of the batch
    for item in prange(2 * pairs * c_in):
        prefer_wide_vectors()
        half, pair, c = item // (pairs * c_in), item // c_in % pairs, item % c_in
        first, second = 2 * pair, min(2 * pair + 1, c_out - 1)
        own_rows = np.zeros((2, length if widen_here else 0), dtype=grad_w.dtype)  # zeros between the rows
        for n in range(half, x.shape[0], 2):
            if widen_here:
                sum_first = _widen_plane(grad_out[n, first], own_rows[0], 0, row_width)
                sum_second = _widen_plane(grad_out[n, second], own_rows[1], 0, row_width)
                if c == 0:
                    plane_sums[n, first], plane_sums[n, second] = sum_first, sum_second
                grad_first, grad_second = own_rows[0], own_rows[1]
            else:
                grad_first, grad_second = grad_ext[n, first], grad_ext[n, second]
            image = x[n, c]
            for t in range(0, taps, 5):
                off0, off1, off2 = offsets[t], offsets[min(t + 1, taps - 1)], offsets[min(t + 2, taps - 1)]
                off3, off4 = offsets[min(t + 3, taps - 1)], offsets[min(t + 4, taps - 1)]
                f0 = f1 = f2 = f3 = f4 = s0 = s1 = s2 = s3 = s4 = grad_w.dtype.type(0)
                for p in range(length):
                    q = np.uintp(p)
                    u, v = grad_first[start + q], grad_second[start + q]
                    x0, x1, x2 = image[off0 + q], image[off1 + q], image[off2 + q]
                    x3, x4 = image[off3 + q], image[off4 + q]
                    f0 += u * x0
                    f1 += u * x1
                    f2 += u * x2
                    f3 += u * x3
                    f4 += u * x4
                    s0 += v * x0
                    s1 += v * x1
                    s2 += v * x2
                    s3 += v * x3
                    s4 += v * x4
                firsts, seconds = (f0, f1, f2, f3, f4), (s0, s1, s2, s3, s4)
                for k in range(min(5, taps - t)):
                    sums[half, first, c, t + k] += firsts[k]
                    if second != first:
                        sums[half, second, c, t + k] += seconds[k]
    grad_flat, halves = grad_w.reshape(-1), sums.reshape(2, -1)  # an array expression here took 6 s to compile
    for i in range(grad_flat.shape[0]):
        grad_flat[i] = halves[0, i] + halves[1, i]


def direct_forward(x_pad, weight, bias, out_hw, dilation):
    """conv2d with stride 1 of the padded input x_pad (N, C_in, Hp, Wp), C-contiguous, by weight
    (C_out, C_in, kH, kW) with bias (C_out,) or None: out (N, C_out, Ho, Wo)."""
    (n, c_in, hp, wp), (c_out, _, kh, kw), (dh, dw) = x_pad.shape, weight.shape, dilation
    bias = np.zeros(c_out, x_pad.dtype) if bias is None else bias.astype(x_pad.dtype, copy=False)
    out = np.empty((n, c_out, *out_hw), dtype=x_pad.dtype)
    _correlate_planes_of_size(kh, kw, dw)(x_pad.reshape(n, c_in, hp * wp), np.ascontiguousarray(weight), bias, out,
                                          wp, dh * wp, 0, 0)
    return out


def direct_backward(grad_out, x_pad, weight, padding, dilation, input_grad):
    """Gradients of direct_forward: (grad_x or None when not ``input_grad``, grad_weight, grad_bias), grad_x
    without the padding (ph, pw)."""
    (n, c_in, hp, wp), (c_out, _, kh, kw), ho = x_pad.shape, weight.shape, grad_out.shape[2]
    (ph, pw), (dh, dw) = padding, dilation
    grad_out = np.ascontiguousarray(grad_out, dtype=x_pad.dtype)
    plane_sums = np.empty((n, c_out), dtype=x_pad.dtype)
    if input_grad:
        margin = (kh - 1) * dh * wp + (kw - 1) * dw  # room for the full correlation's taps
        grad_ext = scratch("wide", (n, c_out, margin + ho * wp + margin), x_pad.dtype)
        _widen(grad_out, grad_ext, plane_sums, wp, margin)
    else:
        margin, grad_ext = 0, np.empty((0, 0, 0), dtype=x_pad.dtype)  # _weight_grad widens each plane itself
    grad_weight = np.empty(weight.shape, dtype=x_pad.dtype)
    x_flat = x_pad.reshape(n, c_in, hp * wp)
    _weight_grad(x_flat, grad_out, grad_ext, plane_sums, grad_weight, margin, wp, dh * wp, dw)
    grad_x = None
    if input_grad:
        flipped = np.ascontiguousarray(weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        grad_x = np.empty((n, c_in, hp - 2 * ph, wp - 2 * pw), dtype=x_pad.dtype)
        correlate = _correlate_planes_of_size(kh, kw, dw)
        correlate(grad_ext, flipped, np.zeros(c_in, x_pad.dtype), grad_x, wp, dh * wp, ph, pw)
        keep("wide", grad_ext)
    return grad_x, grad_weight, plane_sums.sum(axis=0)
