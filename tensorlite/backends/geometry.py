"""Window arithmetic shared by the ops (to check arguments) and every backend (to size outputs)."""
import numbers


def pair(value, name="argument"):
    """An int or a 2-sequence as a tuple of two ints: 3 → (3, 3), (5, 3) → (5, 3). Anything else, a float
    included (it would be truncated without a word), raises torch's TypeError naming the argument."""
    if type(value) is int:  # the common cases first: an ABC isinstance costs microseconds, on every call
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        return value
    values = (value, value) if isinstance(value, numbers.Integral) else value
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"argument '{name}' must be tuple of ints, not {type(value).__name__}")
    for i, v in enumerate(values):
        if not (isinstance(v, numbers.Integral) or v is None):
            raise TypeError(
                f"argument '{name}' must be tuple of ints, but found element of type {type(v).__name__} at pos {i}"
            )
    values = tuple(v if v is None else int(v) for v in values)
    if len(values) == 1:
        return values * 2
    if len(values) != 2:
        raise ValueError(f"expected an int or a pair of ints, got {value!r}")
    return values


def conv_output_size(n, k, s, p, d):
    """Output length of a convolution along one axis: floor((n + 2p - d(k - 1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def pool_output_size(n, k, s, p, d, ceil_mode):
    """Output length of a pooling along one axis: conv_output_size, rounded up instead of down when
    ``ceil_mode``, but the last window must start inside the input or the left padding (PyTorch's rule)."""
    if not ceil_mode:
        return conv_output_size(n, k, s, p, d)
    out = (n + 2 * p - d * (k - 1) - 1 + s - 1) // s + 1
    return out - 1 if (out - 1) * s >= n + p else out


def pool_output_hw(input_shape, kernel_size, stride, padding, dilation, ceil_mode):
    """(Ho, Wo) of pooling an (N, C, H, W) input: pool_output_size along H and W, each argument a pair."""
    return tuple(pool_output_size(n, k, s, p, d, ceil_mode)
                 for n, k, s, p, d in zip(input_shape[2:], kernel_size, stride, padding, dilation))


def avg_pool_window(i, j, h, w, kh, kw, sh, sw, ph, pw, count_include_pad, divisor_override):
    """Window (i, j) of average pooling as (r_lo, r_hi, c_lo, c_hi, divisor): its rows and columns inside the
    input, and divisor_override if nonzero, else its size counting the zero padding (count_include_pad) or
    not; positions past the padding (added by ceil_mode) never count. Plain Python on scalars, so the CPU
    backend compiles it with ``numba.njit`` and the CUDA backend as a ``cuda.jit`` device function."""
    r_lo, c_lo = i * sh - ph, j * sw - pw
    r_hi, c_hi = min(r_lo + kh, h + ph), min(c_lo + kw, w + pw)
    padded_size = (r_hi - r_lo) * (c_hi - c_lo)
    r_lo, c_lo, r_hi, c_hi = max(r_lo, 0), max(c_lo, 0), min(r_hi, h), min(c_hi, w)
    if divisor_override:
        divisor = divisor_override
    elif count_include_pad:
        divisor = padded_size
    else:
        divisor = (r_hi - r_lo) * (c_hi - c_lo)
    return r_lo, r_hi, c_lo, c_hi, divisor
