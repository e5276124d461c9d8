"""Reference kernels: slow, obviously-correct NumPy versions of the neural-network kernels (convolution,
pooling, batch norm, softmax, log_softmax, relu's backward, sigmoid).

They are the test oracle for the fast backends, the code the tutorial quotes and, under
``TENSORLITE_KERNELS=reference``, the CPU's kernels (see ``cpu_reference``), so each one is a direct
transcription of its formula: a loop over output positions, one window of the input at a time. They share
no code with the kernels they check: NumPy is their only import, and they count their output positions
themselves.
Arrays are NumPy in, NumPy out; shapes follow PyTorch: images are (N, C, H, W), conv weights
(C_out, C_in / groups, kH, kW). ``stride``, ``padding``, ``dilation`` and ``kernel_size`` are 2-tuples of ints.
The kernels trust their arguments; checking them (and naming the layer in the error) is the ops' job.
"""
import numpy as np


def corr2d(X, K):
    """The lesson's 2-D cross-correlation: Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b].

    X (h_x, w_x), K (h, w) -> Y (h_x - h + 1, w_x - w + 1); no padding, stride 1.
    """
    h, w = K.shape
    Y = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1), dtype=np.result_type(X, K))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


# --------------------------------------------------------------------------------------------- output sizes

def _window_starts(n, k, s, p, d, ceil_mode=False):
    """Where the windows along one axis start in the input padded by p on both sides: at 0, s, 2s, ... as long as
    the window, d(k - 1) + 1 positions wide, ends inside the padded input. With ceil_mode one more window may
    run past the end, if the one before it stopped short and it starts inside the input or its left padding
    (PyTorch's rule). Their number is the output size: floor((n + 2p - d(k - 1) - 1) / s) + 1 without ceil_mode."""
    width, padded = d * (k - 1) + 1, n + 2 * p
    if ceil_mode:
        return range(0, min(padded - width + s, n + p), s)
    return range(0, padded - width + 1, s)


def _output_hw(input_hw, kernel_size, stride, padding, dilation, ceil_mode=False):
    """(Ho, Wo): how many windows fit along H and along W."""
    return tuple(len(_window_starts(*axis, ceil_mode))
                 for axis in zip(input_hw, kernel_size, stride, padding, dilation))


# ---------------------------------------------------------------------------------------------- convolution

def _window(i, j, kernel_size, stride, dilation):
    """Index of output (i, j)'s window in the padded input: rows i*sh + dh*a for a < kH, columns likewise."""
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    return (..., slice(i * sh, i * sh + dh * (kh - 1) + 1, dh), slice(j * sw, j * sw + dw * (kw - 1) + 1, dw))


def _conv_setup(x, weight, stride, padding, dilation, groups):
    """The padded input as (N, G, C_in/G, Hp, Wp), the weight as (G, C_out/G, C_in/G, kH, kW), the output size."""
    n, c_in, h, w = x.shape
    c_out, c_group, kh, kw = weight.shape
    ph, pw = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    xg = x_padded.reshape(n, groups, c_group, h + 2 * ph, w + 2 * pw)
    wg = weight.reshape(groups, c_out // groups, c_group, kh, kw)
    return xg, wg, _output_hw((h, w), (kh, kw), stride, padding, dilation)


def conv2d_forward(x, weight, bias, stride, padding, dilation, groups, workspace=None):
    """2-D cross-correlation, as torch.nn.functional.conv2d:

        out[n, o, i, j] = bias[o] + sum_{c, a, b} w[o, c, a, b] * x_pad[n, g*C_in/G + c, i*sh + a*dh, j*sw + b*dw]

    with g = o // (C_out/G) the group of output channel o and x_pad the input zero-padded by (ph, pw).
    x (N, C_in, H, W), weight (C_out, C_in/G, kH, kW), bias (C_out,) or None -> out (N, C_out, Ho, Wo).
    """
    xg, wg, (ho, wo) = _conv_setup(x, weight, stride, padding, dilation, groups)
    out = np.empty(xg.shape[:2] + wg.shape[1:2] + (ho, wo), dtype=x.dtype)
    for i in range(ho):
        for j in range(wo):
            window = xg[_window(i, j, weight.shape[2:], stride, dilation)]
            out[..., i, j] = np.einsum("ngchw,gochw->ngo", window, wg)
    out = out.reshape(x.shape[0], weight.shape[0], ho, wo)
    return out if bias is None else out + bias.reshape(-1, 1, 1).astype(x.dtype)


def conv2d_backward(grad_out, x, weight, stride, padding, dilation, groups, input_grad=True, workspace=None):
    """Gradients of conv2d_forward: each output (i, j) sends grad_out[..., i, j] back to its window,

        grad_x_pad[n, window(i, j)] += sum_o grad_out[n, o, i, j] * w[o]
        grad_w[o] += sum_n grad_out[n, o, i, j] * x_pad[n, window(i, j)]
        grad_bias[o] = sum_{n, i, j} grad_out[n, o, i, j]

    and grad_x is grad_x_pad without its padding. Returns (grad_x, grad_weight, grad_bias) shaped like x, weight, bias;
    grad_x is None when ``input_grad`` is False.
    """
    xg, wg, (ho, wo) = _conv_setup(x, weight, stride, padding, dilation, groups)
    gg = grad_out.reshape(xg.shape[:2] + wg.shape[1:2] + (ho, wo))
    grad_xg, grad_wg = np.zeros_like(xg), np.zeros_like(wg)
    for i in range(ho):
        for j in range(wo):
            window = _window(i, j, weight.shape[2:], stride, dilation)
            grad_xg[window] += np.einsum("ngo,gochw->ngchw", gg[..., i, j], wg)
            grad_wg += np.einsum("ngo,ngchw->gochw", gg[..., i, j], xg[window])
    (ph, pw), (h, w) = padding, x.shape[2:]
    grad_x = grad_xg.reshape(x.shape[:2] + grad_xg.shape[3:])[:, :, ph:ph + h, pw:pw + w]
    return grad_x if input_grad else None, grad_wg.reshape(weight.shape), grad_out.sum(axis=(0, 2, 3))


# -------------------------------------------------------------------------------------------------- pooling

def _taps(o, k, s, p, d=1):
    """Input indices that window o covers along one axis: o*s - p + d*t for t = 0 .. k-1 (some may be padding)."""
    return o * s - p + d * np.arange(k)


def _within(taps, lo, hi):
    """The taps in [lo, hi)."""
    return taps[(taps >= lo) & (taps < hi)]


def max_pool2d_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Max pooling, as torch.nn.functional.max_pool2d(..., return_indices=True):

        out[n, c, i, j] = max over the input positions (r, q) of window (i, j) of x[n, c, r, q]
        indices[n, c, i, j] = r * W + q of the first maximum, or of the last NaN if there is one (as torch)

    Window (i, j) covers rows i*sh - ph + dh*a (a < kH) and columns likewise; the padding is -inf, so only
    positions inside the input can win. With dilation a window may miss the input altogether: its output is
    then -inf and its index torch's, r0 * W + q0 with r0, q0 its first row and column taps at or past 0.
    x (N, C, H, W) -> out (N, C, Ho, Wo) in x's dtype, indices (N, C, Ho, Wo) int64.
    """
    n, c, h, w = x.shape
    ho, wo = _output_hw(x.shape[2:], kernel_size, stride, padding, dilation, ceil_mode)
    out = np.empty((n, c, ho, wo), dtype=x.dtype)
    indices = np.empty((n, c, ho, wo), dtype=np.int64)
    planes = x.reshape(n, c, h * w)
    for i in range(ho):
        row_taps = _taps(i, kernel_size[0], stride[0], padding[0], dilation[0])
        rows = _within(row_taps, 0, h)
        for j in range(wo):
            col_taps = _taps(j, kernel_size[1], stride[1], padding[1], dilation[1])
            cols = _within(col_taps, 0, w)
            if rows.size == 0 or cols.size == 0:
                out[:, :, i, j] = -np.inf
                indices[:, :, i, j] = row_taps[row_taps >= 0][0] * w + col_taps[col_taps >= 0][0]
                continue
            flat = (rows[:, None] * w + cols).ravel()
            window = planes[:, :, flat]
            is_nan = np.isnan(window)
            last_nan = flat.size - 1 - is_nan[..., ::-1].argmax(axis=2)
            best = np.where(is_nan.any(axis=2), last_nan, window.argmax(axis=2))
            indices[:, :, i, j] = flat[best]
            out[:, :, i, j] = np.take_along_axis(window, best[..., None], axis=2)[..., 0]
    return out, indices


def max_pool2d_backward(grad_out, indices, input_shape, kernel_size, stride, padding, dilation):
    """Gradient of max pooling: each output's gradient goes to the input position that won,

        grad_x[n, c].flat[indices[n, c, i, j]] += grad_out[n, c, i, j]      (overlapping windows add up).

    An index past the plane (a window whose rows all miss the input) sends its gradient nowhere. The forward's
    geometry (kernel_size, stride, padding, dilation) is not needed here, the indices say it all; fast backends
    use it to pick their loops.
    """
    n, c, h, w = input_shape
    grad_x = np.zeros((n * c, h * w), dtype=grad_out.dtype)
    index = indices.reshape(n * c, indices.shape[2] * indices.shape[3])
    plane = np.broadcast_to(np.arange(n * c)[:, None], index.shape)
    inside = (index >= 0) & (index < h * w)
    np.add.at(grad_x, (plane[inside], index[inside]), grad_out.reshape(index.shape)[inside])
    return grad_x.reshape(input_shape)


def _avg_windows(input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Yield (i, j, rows, cols, divisor) for each window of average pooling: the input rows and columns it
    covers, and what its sum is divided by: divisor_override if given, else the window's size counting the
    zero padding (count_include_pad) or not, never counting the positions past the padding that ceil_mode adds."""
    h, w = input_shape[2:]
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    ho, wo = _output_hw(input_shape[2:], kernel_size, stride, padding, (1, 1), ceil_mode)
    for i in range(ho):
        row_taps = _taps(i, kh, sh, ph)
        for j in range(wo):
            col_taps = _taps(j, kw, sw, pw)
            rows, cols = _within(row_taps, 0, h), _within(col_taps, 0, w)
            if divisor_override:
                divisor = divisor_override
            elif count_include_pad:
                divisor = _within(row_taps, -ph, h + ph).size * _within(col_taps, -pw, w + pw).size
            else:
                divisor = rows.size * cols.size
            yield i, j, rows, cols, divisor


def avg_pool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """Average pooling, as torch.nn.functional.avg_pool2d:

        out[n, c, i, j] = (sum of x[n, c] over window (i, j)) / divisor(i, j)

    window (i, j) covers rows i*sh - ph + a (a < kH) and columns likewise, the padding being zeros;
    the divisor rules are in _avg_windows. x (N, C, H, W) -> out (N, C, Ho, Wo).
    """
    windows = _avg_windows(x.shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ho, wo = _output_hw(x.shape[2:], kernel_size, stride, padding, (1, 1), ceil_mode)
    out = np.empty(x.shape[:2] + (ho, wo), dtype=x.dtype)
    for i, j, rows, cols, divisor in windows:
        out[:, :, i, j] = x[:, :, rows[:, None], cols].sum(axis=(2, 3)) / divisor
    return out


def avg_pool2d_backward(grad_out, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad,
                        divisor_override):
    """Gradient of average pooling: grad_x[n, c, r, q] += grad_out[n, c, i, j] / divisor(i, j) for every
    window (i, j) that covers input position (r, q)."""
    windows = _avg_windows(input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    grad_x = np.zeros(input_shape, dtype=grad_out.dtype)
    for i, j, rows, cols, divisor in windows:
        grad_x[:, :, rows[:, None], cols] += grad_out[:, :, i, j, None, None] / divisor
    return grad_x


# ---------------------------------------------------------------------------------------------- batch norm

def _per_channel(v, ndim):
    """A (C,) vector shaped (1, C, 1, ...) to broadcast against an (N, C, *) array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _normalise(x, weight, bias, mean, invstd):
    """(x - mean) * invstd * weight + bias, per channel (weight 1, bias 0 when None), in x's dtype."""
    out = (x - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
    if weight is not None:
        out = out * _per_channel(weight, x.ndim)
    if bias is not None:
        out = out + _per_channel(bias, x.ndim)
    return out.astype(x.dtype)


def batch_norm_forward(x, weight, bias, eps):
    """Batch normalisation with the batch's statistics (training mode), per channel c = axis 1:

        mean_c = mean of x[:, c],  var_c = mean of (x[:, c] - mean_c)^2 (biased),  invstd_c = 1 / sqrt(var_c + eps)
        out[:, c] = (x[:, c] - mean_c) * invstd_c * weight_c + bias_c       (weight 1, bias 0 when None)

    x (N, C) or (N, C, *) -> (out like x, mean (C,), invstd (C,)), in x's dtype. The arithmetic is float64 (torch's
    CPU kernels sum float32 in double too): a float32 square overflows from 1.9e19 on.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=axes)
    invstd = 1.0 / np.sqrt(x64.var(axis=axes) + eps)
    return _normalise(x, weight, bias, mean, invstd), mean.astype(x.dtype), invstd.astype(x.dtype)


def batch_norm_backward(grad_out, x, weight, mean, invstd):
    """Gradients of batch_norm_forward (training mode). With x_hat = (x - mean) * invstd, g = grad_out and
    sums over the M = x.size / C elements of each channel:

        grad_bias_c = sum g      grad_weight_c = sum g * x_hat
        grad_x = weight_c * invstd_c * (g - grad_bias_c / M - x_hat * grad_weight_c / M)

    Returns (grad_x like x, grad_weight (C,), grad_bias (C,)) in x's dtype, computed in float64; weight None
    counts as ones.
    """
    axes = (0,) + tuple(range(2, x.ndim))
    m = x.size // x.shape[1]
    dtype = x.dtype
    grad_out, x = grad_out.astype(np.float64), x.astype(np.float64)
    x_hat = (x - _per_channel(mean, x.ndim)) * _per_channel(invstd, x.ndim)
    grad_bias = grad_out.sum(axis=axes)
    grad_weight = (grad_out * x_hat).sum(axis=axes)
    scale = invstd if weight is None else weight * invstd
    grad_x = _per_channel(scale, x.ndim) * (grad_out - _per_channel(grad_bias / m, x.ndim)
                                             - x_hat * _per_channel(grad_weight / m, x.ndim))
    return grad_x.astype(dtype), grad_weight.astype(dtype), grad_bias.astype(dtype)


# --------------------------------------------------------------------------------------------- activations

def softmax(x, axis):
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``axis``, each exp taken of x_i - max_j x_j: the same
    quotient, and no exp can overflow."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis):
    """log_softmax(x)_i = x_i - log(sum_j exp(x_j)) along ``axis``, computed as (x_i - m) - log(sum_j exp(x_j - m))
    with m = max_j x_j: the same value, and no exp can overflow."""
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def relu_backward(grad, out):
    """The gradient of out = relu(x): grad where out > 0, else 0. Written with out <= 0 picking the zeros, so that
    an out of NaN passes its gradient on, as torch's threshold_backward does."""
    return np.where(out <= 0, np.zeros((), grad.dtype), grad)


def sigmoid(x):
    """sigmoid(x) = 1 / (1 + exp(-x)), written as exp(x) / (1 + exp(x)) where x < 0 (the same value), so that
    no exp overflows: both are e / (1 + e) or 1 / (1 + e) with e = exp(-|x|) <= 1."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))
