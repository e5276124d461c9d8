"""Fast 2-D convolution on the CPU: im2col / col2im loops in Numba, the arithmetic in BLAS GEMMs.

A convolution becomes a matrix product once every window of the (zero-padded) input is copied out as a
column, ``cols[(c, a, b), (n, i, j)] = x_pad[n, c, i*sh + a*dh, j*sw + b*dw]`` (im2col):

    out[o, (n, i, j)] = sum_k w[o, k] * cols[k, (n, i, j)]        k = (c, a, b),  one GEMM per group.

Keeping several images inside the columns gives BLAS one large product instead of many small ones, for the
price of transposing the result from (C_out, n, ...) to (n, C_out, ...). The batch goes through in chunks
of about ``scratch.CHUNK_BYTES`` of columns, so that the columns are still in cache when the GEMM reads them, and the
chunk-sized temporaries live on scratch buffers kept between calls. The backward pass is two more GEMMs and
col2im, the adjoint of im2col, which adds each column back onto the window it came from.

Two kinds of convolution take direct Numba loops instead (GEMMs that thin waste their time): small stride-1
windows, a network's first layers (``direct``), and depthwise convolutions (``depthwise``); and 3x3 stride-1
convolutions with enough channels take Winograd's F(2x2, 3x3), 2.25x fewer multiply-adds (``winograd``).
``conv2d_route`` decides.
"""
import math

import numba
import numpy as np

from ..geometry import conv_output_size, pair
from .depthwise import depthwise_backward_weight, depthwise_correlate
from .direct import direct_backward, direct_forward
from .winograd import winograd_backward, winograd_forward
from .scratch import batch_chunks, keep, scratch
from .vectors import prefer_wide_vectors


@numba.njit(cache=True)
def _im2col(x_pad, cols, stride, dilation, adjoint):
    """im2col, or with adjoint=True its adjoint col2im, between x_pad (N, C, Hp, Wp) and cols (C, kH, kW, N, Ho, Wo):

        im2col:  cols[c, a, b, n, i, j] = x_pad[n, c, i*sh + a*dh, j*sw + b*dw]
        col2im:  x_pad[n, c, i*sh + a*dh, j*sw + b*dw] += cols[c, a, b, n, i, j]    (x_pad accumulates)

    Optimisations: the loops take one (channel, image) plane at a time, so that plane (a few KB) stays in
    L1 while its kH*kW runs of columns are written or read (2x faster on the MNIST shapes than walking cols
    in memory order). The input is padded beforehand, so the loops have no bounds tests; indices are cast to
    unsigned (they are never negative), which drops Numba's negative-index wrap-around and lets LLVM
    vectorise the inner loop (3x faster); the direction is chosen once per row, outside the inner loop.
    The loops are serial: the GEMMs around them run on OpenBLAS's threads, which spin on the second core
    after each product, and a ``prange`` version made im2col + GEMM 4 to 14x slower (2 to 3x slower still in
    ``tensorlite bench`` with Numba's threads waiting passively, see ``depthwise``).
    """
    prefer_wide_vectors()
    n_ch, kh, kw, n_img, ho, wo = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    for plane in range(n_ch * n_img):
        c, n = plane // n_img, plane % n_img
        for a in range(kh):
            for b in range(kw):
                for i in range(ho):
                    row = np.uintp(i * sh + a * dh)
                    if adjoint:
                        for j in range(wo):
                            x_pad[n, c, row, np.uintp(j * sw + b * dw)] += cols[c, a, b, n, i, j]
                    else:
                        for j in range(wo):
                            cols[c, a, b, n, i, j] = x_pad[n, c, row, np.uintp(j * sw + b * dw)]


def _pad(x, padding):
    """x zero-padded by (ph, pw) on both sides of H and W, C-contiguous (x itself when it already is, unpadded)."""
    (n, c, h, w), (ph, pw) = x.shape, padding
    if ph == pw == 0:
        return np.ascontiguousarray(x)
    x_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    x_pad[:, :, ph:ph + h, pw:pw + w] = x
    return x_pad


def _chunks(x, kernel_hw, out_hw):
    """Slices of the batch x whose im2col columns take about CHUNK_BYTES (see ``scratch.batch_chunks``)."""
    return batch_chunks(x.shape[0], x.shape[1] * math.prod(kernel_hw) * math.prod(out_hw) * x.itemsize)


def _columns(x_pad, kernel_hw, out_hw, stride, dilation):
    """im2col of the padded images x_pad: (C_in, kH, kW, N, Ho, Wo), on the "columns" scratch buffer."""
    n, c = x_pad.shape[:2]
    cols = scratch("columns", (c, *kernel_hw, n, *out_hw), x_pad.dtype)
    _im2col(x_pad, cols, stride, dilation, False)
    return cols


def _conv_plan(x, weight, stride, padding, dilation):
    """The integer pairs and the output size (Ho, Wo) of a convolution."""
    stride, padding, dilation = pair(stride), pair(padding), pair(dilation)  # Python ints: one Numba signature
    out_hw = tuple(conv_output_size(*args) for args in zip(x.shape[2:], weight.shape[2:], stride, padding, dilation))
    return stride, padding, dilation, out_hw


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups, workspace=None):
    """2-D cross-correlation, as torch.nn.functional.conv2d:

        out[n, o, i, j] = bias[o] + sum_{c, a, b} w[o, c, a, b] * x_pad[n, g*C_in/G + c, i*sh + a*dh, j*sw + b*dw]

    with g = o // (C_out/G) and x_pad the input zero-padded by (ph, pw); Ho = floor((H + 2ph - dh(kH-1) - 1)/sh) + 1.
    x (N, C_in, H, W), weight (C_out, C_in/G, kH, kW), bias (C_out,) or None -> out (N, C_out, Ho, Wo), x's dtype.
    Optimisations: im2col in Numba, then per group one GEMM per chunk of the batch,
    w (C_out/G, K) @ cols (K, n*Ho*Wo) with K = C_in/G*kH*kW, in numpy's multithreaded BLAS; chunks of
    about scratch.CHUNK_BYTES of columns stay in cache, on buffers kept between calls; the bias is added by the pass
    that transposes each chunk's result from (C_out, n, Ho*Wo) to (n, C_out, Ho*Wo). When the whole batch is
    one chunk and a ``workspace`` dict is given (backward will follow), the columns are left in it for
    conv2d_backward, which then needs no second im2col.
    """
    weight = weight.astype(x.dtype, copy=False)
    stride, padding, dilation, out_hw = _conv_plan(x, weight, stride, padding, dilation)
    n, c_out = x.shape[0], weight.shape[0]
    route = conv2d_route(x.shape, weight.shape, stride, dilation, groups)
    if route == "depthwise":
        out = np.empty((n, c_out, *out_hw), dtype=x.dtype)
        x, weight = np.ascontiguousarray(x), np.ascontiguousarray(weight)
        depthwise_correlate(x, weight, out, stride, padding, dilation, False)
        return out if bias is None else np.add(out, bias.reshape(1, -1, 1, 1), out=out, casting="unsafe")
    if route == "direct":
        return direct_forward(_pad(x, padding), weight, bias, out_hw, dilation)
    if route == "winograd":
        with np.errstate(invalid="ignore", over="ignore"):  # a NaN or inf spread over tiles is thrown away below
            out, finite = winograd_forward(x, weight, bias, padding, out_hw, workspace)
        if finite:
            return out
        if workspace:
            workspace.pop("tiles", None)
        # A NaN or inf spreads over whole Winograd tiles; the GEMMs below give each output its own window's sum.
    w = weight.reshape(groups, c_out // groups, -1)
    bias = np.zeros((c_out, 1), x.dtype) if bias is None else bias.reshape(-1, 1)
    x_pad = _pad(x, padding)
    out = np.empty((n, c_out, out_hw[0] * out_hw[1]), dtype=x.dtype)
    chunks = _chunks(x, weight.shape[2:], out_hw)
    for chunk in chunks:
        cols = _columns(x_pad[chunk], weight.shape[2:], out_hw, stride, dilation)
        cols_by_group = cols.reshape(groups, w.shape[2], -1)
        out_t = scratch("product", w.shape[:2] + cols_by_group.shape[2:], x.dtype)
        np.matmul(w, cols_by_group, out=out_t)
        np.add(out_t.reshape(c_out, -1, out.shape[2]).transpose(1, 0, 2), bias, out=out[chunk], casting="unsafe")
        if workspace is not None and len(chunks) == 1:
            workspace["columns"] = cols
        else:
            keep("columns", cols)
        keep("product", out_t)
    return out.reshape(n, c_out, *out_hw)


def conv2d_backward(grad_out, x, weight, stride, padding, dilation, groups, input_grad=True, workspace=None):
    """Gradients of conv2d_forward, per group, over the im2col columns (K = C_in/G*kH*kW, P = N*Ho*Wo):

        grad_w.T (K, C_out/G) = cols (K, P) @ grad_out.T (P, C_out/G)
        grad_cols (K, P)      = w.T (K, C_out/G) @ grad_out (C_out/G, P),    grad_x = col2im(grad_cols) without padding
        grad_bias[o]          = sum_{n, i, j} grad_out[n, o, i, j]

    grad_out (N, C_out, Ho, Wo) -> (grad_x, grad_weight, grad_bias) shaped like x, weight and (C_out,), x's dtype;
    grad_x is None when ``input_grad`` is False (a network's first layer: its input is data).
    Optimisations: im2col/col2im in Numba, the two products as GEMMs in BLAS over chunks of the batch
    (as in conv2d_forward), grad_w accumulated over the chunks; the forward's columns when it left them in
    ``workspace``; no grad_x work when it is not needed. grad_w is computed transposed, cols @ grad_out.T:
    OpenBLAS ran that product 1.2x faster than grad_out @ cols.T on the second MNIST convolution (0.35 against
    0.43 ms), and no slower beyond the noise on the other shapes of the benchmark.
    """
    weight = weight.astype(x.dtype, copy=False)
    stride, padding, dilation, out_hw = _conv_plan(x, weight, stride, padding, dilation)
    route = conv2d_route(x.shape, weight.shape, stride, dilation, groups)
    if route == "depthwise":
        return _depthwise_backward(grad_out, x, weight, stride, padding, dilation, input_grad)
    if route == "direct":
        grads = direct_backward(grad_out, _pad(x, padding), weight, padding, dilation, input_grad)
        if np.isfinite(grads[1]).all():
            return grads
        # A NaN or inf in x also meets the zeros of the wide rows' thrown-away columns (0 * inf = NaN) and can
        # spoil weight gradients it does not touch; the GEMMs below read x only inside the windows.
    if route == "winograd":
        with np.errstate(invalid="ignore", over="ignore"):
            *grads, finite = winograd_backward(grad_out, x, weight, padding, input_grad, workspace)
        if finite:
            return tuple(grads)
        # as in forward: a NaN or inf spread over whole tiles, or a non-finite weight (U^T dM), see winograd.py
    (h, w), (ph, pw), c_out = x.shape[2:], padding, weight.shape[0]
    w_t = weight.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)
    x_pad = _pad(x, padding)
    grad_x_pad = np.zeros(x_pad.shape, dtype=x.dtype) if input_grad else None
    grad_weight_t = np.zeros(w_t.shape, dtype=x.dtype)
    grad_bias = np.zeros(c_out, dtype=x.dtype)
    for chunk in _chunks(x, weight.shape[2:], out_hw):
        cols = workspace.pop("columns", None) if workspace else None  # left by forward when it was one chunk
        if cols is None:
            cols = _columns(x_pad[chunk], weight.shape[2:], out_hw, stride, dilation)
        grad_t = scratch("product", (c_out,) + grad_out[chunk].shape[:1] + out_hw, x.dtype)
        np.copyto(grad_t, grad_out[chunk].transpose(1, 0, 2, 3))
        grad_bias += grad_t.reshape(c_out, -1).sum(axis=1)
        grad_t = grad_t.reshape(groups, c_out // groups, -1)
        cols_by_group = cols.reshape(groups, w_t.shape[1], -1)
        grad_weight_t += np.matmul(cols_by_group, grad_t.transpose(0, 2, 1))
        if input_grad:  # the columns are spent: their buffer takes grad_cols, half the memory in use
            grad_cols = np.matmul(w_t, grad_t, out=cols_by_group)
            _im2col(grad_x_pad[chunk], grad_cols.reshape(cols.shape), stride, dilation, True)
        keep("columns", cols)
        keep("product", grad_t)
    grad_x = np.ascontiguousarray(grad_x_pad[:, :, ph:ph + h, pw:pw + w]) if input_grad else None
    return grad_x, grad_weight_t.transpose(0, 2, 1).reshape(weight.shape), grad_bias


DIRECT_MAX_WINDOW = 144  # C_in * kH * kW up to which a stride-1 convolution runs direct (16 channels 3x3); see kernels.md
WINOGRAD_MIN_CHANNELS = 32  # C_in from which a 3x3 stride-1 convolution runs by Winograd (see kernels.md)


def conv2d_route(x_shape, weight_shape, stride, dilation, groups):
    """Which loops compute a convolution of an input of ``x_shape`` (N, C_in, H, W) with a weight of
    ``weight_shape`` (C_out, C_in/groups, kH, kW): the one test conv2d_forward and conv2d_backward branch on.

    - "depthwise": one input channel per group (groups == C_in > 1); the direct loops of ``depthwise`` beat
      GEMMs that thin.
    - "direct": stride 1, one group, more than one tap and a window C_in*kH*kW of at most DIRECT_MAX_WINDOW
      values: a network's first layers, whose im2col columns are kH*kW times their input and whose GEMMs are
      too thin for BLAS. A 1x1 kernel's columns are its input, and its GEMMs are as wide as its channels
      (8x64x56x56 -> 256: 60-111 ms forward+backward on GEMMs, 300 ms direct), so it never runs direct.
    - "winograd": 3x3 convolutions with stride 1, dilation 1, one group and at least WINOGRAD_MIN_CHANNELS
      input channels, the bulk of a ResNet or VGG: F(2x2, 3x3) does 2.25x fewer multiply-adds than im2col's
      GEMMs (``winograd``); with fewer channels its GEMMs are too thin to gain from it.
    - "im2col + GEMM": everything else.

    (One exception: conv2d_backward on the direct route redoes the weight gradient on GEMMs when it comes out
    non-finite, and the Winograd route redoes a result with a NaN or inf on GEMMs, see there.)
    """
    c_in_per_group, kh, kw = weight_shape[1:]
    if groups > 1 and groups == x_shape[1] and c_in_per_group == 1:
        return "depthwise"
    if pair(stride) != (1, 1) or groups != 1:
        return "im2col + GEMM"
    if kh * kw > 1 and c_in_per_group * kh * kw <= DIRECT_MAX_WINDOW:
        return "direct"
    if (kh, kw) == (3, 3) and pair(dilation) == (1, 1) and c_in_per_group >= WINOGRAD_MIN_CHANNELS:
        return "winograd"
    return "im2col + GEMM"


def _depthwise_backward(grad_out, x, weight, stride, padding, dilation, input_grad):
    grad_out, x = np.ascontiguousarray(grad_out, dtype=x.dtype), np.ascontiguousarray(x)
    weight = np.ascontiguousarray(weight)
    grad_weight = np.empty_like(weight)
    depthwise_backward_weight(grad_out, x, grad_weight, stride, padding, dilation)
    grad_x = None
    if input_grad:
        grad_x = np.empty_like(x)
        depthwise_correlate(grad_x, weight, grad_out, stride, padding, dilation, True)
    return grad_x, grad_weight, grad_out.sum(axis=(0, 2, 3), dtype=x.dtype)
