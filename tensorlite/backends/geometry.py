"""Window arithmetic shared by the ops (to check arguments) and every backend (to size outputs)."""


def pair(value):
    """An int or a 2-sequence as a tuple of two ints: 3 → (3, 3), (5, 3) → (5, 3)."""
    if isinstance(value, int):
        return (value, value)
    values = tuple(int(v) for v in value)
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
