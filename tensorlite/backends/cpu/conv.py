"""Fast 2-D convolution on the CPU: im2col / col2im loops in Numba, the arithmetic in BLAS GEMMs.

A convolution becomes one matrix product once every window of the (zero-padded) input is copied out as a
column, ``cols[(c, a, b), (n, i, j)] = x_pad[n, c, i*sh + a*dh, j*sw + b*dw]`` (im2col):

    out[o, (n, i, j)] = sum_k w[o, k] * cols[k, (n, i, j)]        k = (c, a, b),  one GEMM per group.

Keeping the batch inside the columns makes the whole batch one large GEMM (BLAS is fastest on big matrices)
for the price of transposing the output from (C_out, N, ...) to (N, C_out, ...). The backward pass is two
more GEMMs and col2im, the adjoint of im2col, which adds each column back onto the window it came from.
"""
import math

import numba
import numpy as np

from ..reference import conv_output_size


@numba.njit(cache=True)
def _im2col(x_pad, cols, stride, dilation):
    """cols[c, a, b, n, i, j] = x_pad[n, c, i*sh + a*dh, j*sw + b*dw].

    x_pad (N, C, Hp, Wp) -> cols (C, kH, kW, N, Ho, Wo), written in place.
    Optimisations: the input is padded beforehand, so the loops have no bounds tests; indices are cast to
    unsigned (they are never negative), which drops Numba's negative-index wrap-around and lets LLVM
    vectorise the contiguous inner loop; the writes run through cols in memory order.
    """
    n_ch, kh, kw, n_img, ho, wo = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    for c in range(n_ch):
        for a in range(kh):
            for b in range(kw):
                for n in range(n_img):
                    for i in range(ho):
                        for j in range(wo):
                            cols[c, a, b, n, i, j] = x_pad[n, c, np.uintp(i * sh + a * dh), np.uintp(j * sw + b * dw)]


@numba.njit(cache=True)
def _col2im(cols, x_pad, stride, dilation):
    """The adjoint of _im2col: x_pad[n, c, i*sh + a*dh, j*sw + b*dw] += cols[c, a, b, n, i, j].

    cols (C, kH, kW, N, Ho, Wo) -> x_pad (N, C, Hp, Wp), accumulated in place (start it at zero).
    Optimisations: as _im2col (padded target, unsigned indices, reads in memory order).
    """
    n_ch, kh, kw, n_img, ho, wo = cols.shape
    (sh, sw), (dh, dw) = stride, dilation
    for c in range(n_ch):
        for a in range(kh):
            for b in range(kw):
                for n in range(n_img):
                    for i in range(ho):
                        for j in range(wo):
                            x_pad[n, c, np.uintp(i * sh + a * dh), np.uintp(j * sw + b * dw)] += cols[c, a, b, n, i, j]


def _pair(values):
    """A 2-tuple of Python ints (so that Numba compiles one version for every caller)."""
    return int(values[0]), int(values[1])


def _pad(x, padding):
    """x zero-padded by (ph, pw) on both sides of H and W, C-contiguous (x itself when it already is, unpadded)."""
    (n, c, h, w), (ph, pw) = x.shape, padding
    if ph == pw == 0:
        return np.ascontiguousarray(x)
    x_pad = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=x.dtype)
    x_pad[:, :, ph:ph + h, pw:pw + w] = x
    return x_pad


CHUNK_BYTES = 4 << 20
KEEP_BYTES = 64 << 20
_kept = {}


def _chunks(n_img, image_bytes):
    """Slices of the batch whose im2col columns take about CHUNK_BYTES: enough work for a fast GEMM, small
    enough to stay in the cache between im2col and the GEMM."""
    step = max(1, CHUNK_BYTES // image_bytes)
    return [slice(start, min(start + step, n_img)) for start in range(0, n_img, step)]


def _scratch(name, shape, dtype):
    """An uninitialised array for a big temporary, on a buffer kept from the last call: allocating megabytes
    afresh costs page faults, which doubled the time of the small MNIST convolutions. A buffer is taken out of
    _kept while in use (see _keep), so two threads never share one."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buffer = _kept.pop(name, None)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = np.empty(nbytes, dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)


def _keep(name, array):
    """Keep the buffer under a _scratch array for the next call (unless it is over KEEP_BYTES)."""
    if array.base.nbytes <= KEEP_BYTES:
        _kept[name] = array.base


def _columns(x_pad, kernel_hw, out_hw, stride, dilation):
    """im2col of the padded images x_pad: (C_in, kH, kW, N, Ho, Wo), on the "columns" scratch buffer."""
    n, c = x_pad.shape[:2]
    cols = _scratch("columns", (c, *kernel_hw, n, *out_hw), x_pad.dtype)
    _im2col(x_pad, cols, stride, dilation)
    return cols


def _geometry(x, weight, stride, padding, dilation):
    """The integer pairs, the output size (Ho, Wo) and the batch chunks of a convolution."""
    stride, padding, dilation = _pair(stride), _pair(padding), _pair(dilation)
    (kh, kw), c_in = weight.shape[2:], x.shape[1]
    ho, wo = (conv_output_size(*args) for args in zip(x.shape[2:], (kh, kw), stride, padding, dilation))
    chunks = _chunks(x.shape[0], c_in * kh * kw * ho * wo * x.itemsize)
    return stride, padding, dilation, (ho, wo), chunks


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups):
    """2-D cross-correlation, as torch.nn.functional.conv2d:

        out[n, o, i, j] = bias[o] + sum_{c, a, b} w[o, c, a, b] * x_pad[n, g*C_in/G + c, i*sh + a*dh, j*sw + b*dw]

    with g = o // (C_out/G) and x_pad the input zero-padded by (ph, pw); Ho = floor((H + 2ph - dh(kH-1) - 1)/sh) + 1.
    x (N, C_in, H, W), weight (C_out, C_in/G, kH, kW), bias (C_out,) or None -> out (N, C_out, Ho, Wo), x's dtype.
    Optimisations: im2col in Numba, then per group one GEMM per chunk of the batch,
    w (C_out/G, K) @ cols (K, n*Ho*Wo) with K = C_in/G*kH*kW, in numpy's multithreaded BLAS; chunks of
    about CHUNK_BYTES of columns stay in cache, on buffers kept between calls; the bias is added by the pass
    that transposes each chunk's result from (C_out, n, Ho*Wo) to (n, C_out, Ho*Wo).
    """
    weight = weight.astype(x.dtype, copy=False)
    stride, padding, dilation, out_hw, chunks = _geometry(x, weight, stride, padding, dilation)
    n, c_out = x.shape[0], weight.shape[0]
    w = weight.reshape(groups, c_out // groups, -1)
    bias = np.zeros((c_out, 1), x.dtype) if bias is None else bias.reshape(-1, 1)
    x_pad = _pad(x, padding)
    out = np.empty((n, c_out, out_hw[0] * out_hw[1]), dtype=x.dtype)
    for chunk in chunks:
        cols = _columns(x_pad[chunk], weight.shape[2:], out_hw, stride, dilation)
        cols = cols.reshape(groups, w.shape[2], -1)
        out_t = np.matmul(w, cols, out=_scratch("product", w.shape[:2] + cols.shape[2:], x.dtype))
        np.add(out_t.reshape(c_out, -1, out.shape[2]).transpose(1, 0, 2), bias, out=out[chunk], casting="unsafe")
        _keep("columns", cols)
        _keep("product", out_t)
    return out.reshape(n, c_out, *out_hw)


def conv2d_backward(grad_out, x, weight, stride, padding, dilation, groups):
    """Gradients of conv2d_forward, per group, over the im2col columns (K = C_in/G*kH*kW, P = N*Ho*Wo):

        grad_w (C_out/G, K) = grad_out (C_out/G, P) @ cols.T (P, K)
        grad_cols (K, P)    = w.T (K, C_out/G) @ grad_out (C_out/G, P),    grad_x = col2im(grad_cols) without padding
        grad_bias[o]        = sum_{n, i, j} grad_out[n, o, i, j]

    grad_out (N, C_out, Ho, Wo) -> (grad_x, grad_weight, grad_bias) shaped like x, weight and (C_out,), x's dtype.
    Optimisations: im2col/col2im in Numba, the two products as GEMMs in BLAS over chunks of the batch
    (as in conv2d_forward), grad_w accumulated over the chunks.
    """
    weight = weight.astype(x.dtype, copy=False)
    stride, padding, dilation, out_hw, chunks = _geometry(x, weight, stride, padding, dilation)
    (h, w), (ph, pw), c_out = x.shape[2:], padding, weight.shape[0]
    w_t = weight.reshape(groups, c_out // groups, -1).transpose(0, 2, 1)
    x_pad = _pad(x, padding)
    grad_x_pad = np.zeros(x_pad.shape, dtype=x.dtype)
    grad_weight = np.zeros((groups, c_out // groups, w_t.shape[1]), dtype=x.dtype)
    for chunk in chunks:
        cols = _columns(x_pad[chunk], weight.shape[2:], out_hw, stride, dilation)
        grad_t = _scratch("product", (c_out,) + grad_out[chunk].shape[:1] + out_hw, x.dtype)
        np.copyto(grad_t, grad_out[chunk].transpose(1, 0, 2, 3))
        grad_t = grad_t.reshape(groups, c_out // groups, -1)
        grad_weight += np.matmul(grad_t, cols.reshape(groups, w_t.shape[1], -1).transpose(0, 2, 1))
        grad_cols = np.matmul(w_t, grad_t, out=_scratch("grad_columns", w_t.shape[:2] + grad_t.shape[2:], x.dtype))
        _col2im(grad_cols.reshape(cols.shape), grad_x_pad[chunk], stride, dilation)
        _keep("columns", cols)
        _keep("product", grad_t)
        _keep("grad_columns", grad_cols)
    grad_x = grad_x_pad[:, :, ph:ph + h, pw:pw + w]
    grad_bias = grad_out.sum(axis=(0, 2, 3), dtype=x.dtype)
    return np.ascontiguousarray(grad_x), grad_weight.reshape(weight.shape), grad_bias
