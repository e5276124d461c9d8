"""3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3): 16 multiplies per 2x2 outputs, not 36.

One output tile of 2x2 values reads a 4x4 tile d of the padded input (tiles start every 2 rows and columns,
so neighbours overlap by 2). With the constant matrices

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

the 3x3 correlation of the tile with a kernel g is exactly  Y = A^T [(G g G^T) * (B^T d B)] A  (elementwise *,
Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Summed over input channels c,
each of the 16 positions e = (e1, e2) of the transformed tile is one matrix product over all tiles p:

    U[e, k, c] = (G g[k, c] G^T)[e]           the kernels, transformed once per call
    V[e, c, p] = (B^T d[c, p] B)[e]            the input tiles
    M[e]       = U[e] @ V[e]                    16 GEMMs (C_out x C_in) @ (C_in x tiles)
    out tile p = A^T M[:, k, p] A + bias[k]

so the GEMMs do 16/36 of im2col's multiply-adds (2.25x fewer), and V holds 4x the input where im2col's
columns hold 9x. The transforms are adds and subtracts, in Numba loops that also serve as their own adjoints.

The backward pass is the adjoint of each step, in reverse (no other formula is needed: the adjoint of an exact
algorithm is the exact gradient):

    dM[e]        = (A dY A^T)[e]     of each 2x2 tile of grad_out
    grad U[e]    = dM[e] @ V[e]^T    grad_w = G^T (grad U) G          16 GEMMs (C_out x tiles) @ (tiles x C_in)
    dV[e]        = U[e]^T @ dM[e]    grad_x_pad += B dV B^T per tile  16 GEMMs (C_in x C_out) @ (C_out x tiles)

A NaN or inf anywhere in a tile spreads to all four outputs of the tile (inf - inf inside B^T d B), where a
plain convolution keeps it to the windows that read it. A non-finite value never comes out finite, so the
transform loops report whether they wrote one, and a result that is not all finite is computed again by
im2col + GEMM, which gives torch's values (``conv``'s dispatcher does that).
"""
import numba
import numpy as np

from .scratch import batch_chunks, keep, scratch
from .vectors import prefer_wide_vectors

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
G_KRON_G = np.kron(G, G)  # (16, 9): G g G^T of a 3x3 kernel g, flattened, is G_KRON_G @ g.ravel()


@numba.njit(inline="always")
def _not_finite(value):
    """Whether value is NaN or infinite: value - value is 0 for every finite value and NaN otherwise."""
    return not value - value == 0


@numba.njit(inline="always")
def _bt(d0, d1, d2, d3):
    """B^T applied to a 4-vector."""
    return d0 - d2, d1 + d2, d2 - d1, d1 - d3


@numba.njit(inline="always")
def _b(v0, v1, v2, v3):
    """B applied to a 4-vector (the adjoint of _bt)."""
    return v0, v1 - v2 + v3, v1 + v2 - v0, -v3


@numba.njit(cache=True)
def _input_tiles(x_pad, tiles, adjoint):
    """The input transform between x_pad (N, C, 2*Th + 2, 2*Tw + 2) and tiles (4, 4, C, N, Th, Tw), or with
    adjoint=True its adjoint, which adds each transformed tile back onto the window it came from:

        transform:  tiles[:, :, c, n, i, j]  = B^T x_pad[n, c, 2i:2i+4, 2j:2j+4] B
        adjoint:    x_pad[n, c, 2i:2i+4, 2j:2j+4] += B tiles[:, :, c, n, i, j] B^T    (x_pad accumulates)

    Returns True when a value written or added was NaN or infinite. One tile row at a time: B^T (or B)
    along the columns of its four input rows, the whole row width at once (a contiguous, vectorised loop),
    and along the rows of each tile, through a small buffer of four rows.
    """
    prefer_wide_vectors()
    n_img, n_ch, _, width = x_pad.shape
    th, tw = tiles.shape[4:]
    rows = np.empty((4, width), dtype=x_pad.dtype)
    spoiled = False
    for plane in range(n_ch * n_img):
        c, n = plane // n_img, plane % n_img
        for i in range(th):
            top = 2 * i
            if adjoint:
                rows[:] = 0
                for e1 in range(4):
                    for j in range(tw):
                        s = np.uintp(2 * j)
                        v0, v1, v2, v3 = _b(tiles[e1, 0, c, n, i, j], tiles[e1, 1, c, n, i, j],
                                            tiles[e1, 2, c, n, i, j], tiles[e1, 3, c, n, i, j])
                        rows[e1, s] += v0
                        rows[e1, s + 1] += v1
                        rows[e1, s + 2] += v2
                        rows[e1, s + 3] += v3
                for s in range(width):
                    d0, d1, d2, d3 = _b(rows[0, s], rows[1, s], rows[2, s], rows[3, s])
                    x_pad[n, c, top, s] += d0
                    x_pad[n, c, top + 1, s] += d1
                    x_pad[n, c, top + 2, s] += d2
                    x_pad[n, c, top + 3, s] += d3
                    spoiled |= _not_finite(d0 + d1 + d2 + d3)
            else:
                for s in range(width):
                    rows[0, s], rows[1, s], rows[2, s], rows[3, s] = _bt(
                        x_pad[n, c, top, s], x_pad[n, c, top + 1, s], x_pad[n, c, top + 2, s], x_pad[n, c, top + 3, s])
                for e1 in range(4):
                    for j in range(tw):
                        s = np.uintp(2 * j)
                        v0, v1, v2, v3 = _bt(rows[e1, s], rows[e1, s + 1], rows[e1, s + 2], rows[e1, s + 3])
                        tiles[e1, 0, c, n, i, j] = v0
                        tiles[e1, 1, c, n, i, j] = v1
                        tiles[e1, 2, c, n, i, j] = v2
                        tiles[e1, 3, c, n, i, j] = v3
                        spoiled |= _not_finite(v0 + v1 + v2 + v3)
    return spoiled


@numba.njit(inline="always")
def _at(m0, m1, m2, m3):
    """A^T applied to a 4-vector: two values."""
    return m0 + m1 + m2, m1 - m2 - m3


@numba.njit(inline="always")
def _a(y0, y1):
    """A applied to a 2-vector (the adjoint of _at): four values."""
    return y0, y0 + y1, y0 - y1, -y1


@numba.njit(cache=True)
def _output_tiles(products, out, bias, adjoint):
    """The output transform between products (4, 4, C_out, N, Th, Tw) and out (N, C_out, 2*Th, 2*Tw), or with
    adjoint=True its adjoint, from a gradient in ``out`` to ``products``:

        transform:  out[n, k, 2i:2i+2, 2j:2j+2] = A^T products[:, :, k, n, i, j] A + bias[k]
        adjoint:    products[:, :, k, n, i, j]  = A out[n, k, 2i:2i+2, 2j:2j+2] A^T      (bias unused)

    Returns True when a value written was NaN or infinite. One tile row at a time, through a buffer of four
    rows as in _input_tiles: the products are read (or written) four streams at a time, which runs 3x
    faster than all 16 of a tile at once.
    """
    prefer_wide_vectors()
    n_img, n_out, _, width = out.shape
    th, tw = products.shape[4:]
    p = products
    rows = np.empty((4, width), dtype=out.dtype)
    spoiled = False
    for plane in range(n_out * n_img):
        k, n = plane // n_img, plane % n_img
        for i in range(th):
            top = 2 * i
            if adjoint:
                for s in range(width):
                    rows[0, s], rows[1, s], rows[2, s], rows[3, s] = _a(out[n, k, top, s], out[n, k, top + 1, s])
                for e1 in range(4):
                    for j in range(tw):
                        s = np.uintp(2 * j)
                        m0, m1, m2, m3 = _a(rows[e1, s], rows[e1, s + 1])
                        p[e1, 0, k, n, i, j] = m0
                        p[e1, 1, k, n, i, j] = m1
                        p[e1, 2, k, n, i, j] = m2
                        p[e1, 3, k, n, i, j] = m3
                        spoiled |= _not_finite(m0 + m1 + m2 + m3)
            else:
                for e1 in range(4):
                    for j in range(tw):
                        s = np.uintp(2 * j)
                        rows[e1, s], rows[e1, s + 1] = _at(p[e1, 0, k, n, i, j], p[e1, 1, k, n, i, j],
                                                           p[e1, 2, k, n, i, j], p[e1, 3, k, n, i, j])
                for s in range(width):
                    y0, y1 = _at(rows[0, s], rows[1, s], rows[2, s], rows[3, s])
                    out[n, k, top, s] = y0 + bias[k]
                    out[n, k, top + 1, s] = y1 + bias[k]
                    spoiled |= _not_finite(y0 + y1 + bias[k])
    return spoiled


def _kernel_tiles(weight):
    """U (16, C_out, C_in): U[e, k, c] = (G weight[k, c] G^T)[e] for a weight (C_out, C_in, 3, 3), one GEMM."""
    c_out, c_in = weight.shape[:2]
    return (G_KRON_G.astype(weight.dtype) @ weight.reshape(c_out * c_in, 9).T).reshape(16, c_out, c_in)


def _tile_grid(out_hw):
    """(Th, Tw): the 2x2 output tiles that cover an output of (Ho, Wo), the last row or column of tiles
    half outside it when Ho or Wo is odd."""
    return (out_hw[0] + 1) // 2, (out_hw[1] + 1) // 2


def _pad_to_tiles(x, padding, grid):
    """x zero-padded by (ph, pw) at the top and left, and at the bottom and right out to the 2*T + 2 rows and
    columns that the tiles read (the input's own padding, and one more row or column for an odd output)."""
    (n, c, h, w), (ph, pw), (th, tw) = x.shape, padding, grid
    x_pad = np.zeros((n, c, 2 * th + 2, 2 * tw + 2), dtype=x.dtype)
    x_pad[:, :, ph:ph + h, pw:pw + w] = x
    return x_pad


def _on_tiles(grad_out, grid, dtype):
    """grad_out (N, C_out, Ho, Wo) as the (N, C_out, 2*Th, 2*Tw) that the tiles cover, C-contiguous in dtype: itself
    when Ho and Wo are even, else with a zero last row or column."""
    n, c_out, ho, wo = grad_out.shape
    if (ho, wo) == (2 * grid[0], 2 * grid[1]):
        return np.ascontiguousarray(grad_out, dtype=dtype)
    padded = np.zeros((n, c_out, 2 * grid[0], 2 * grid[1]), dtype=dtype)
    padded[:, :, :ho, :wo] = grad_out
    return padded


def _chunks(x, grid):
    """Slices of the batch x whose transformed tiles, 16 * C_in * Th * Tw values per image, take about
    scratch.CHUNK_BYTES."""
    return batch_chunks(x.shape[0], 16 * x.shape[1] * grid[0] * grid[1] * x.itemsize)


def winograd_forward(x, weight, bias, padding, out_hw, workspace=None):
    """conv2d with a 3x3 kernel, stride 1 and dilation 1, by F(2x2, 3x3): x (N, C_in, H, W), weight
    (C_out, C_in, 3, 3) of x's dtype, bias (C_out,) or None -> (out (N, C_out, Ho, Wo), finite).

    ``finite`` is False when a value of out came out NaN or infinite: out is then not the convolution's (see
    the module's docstring) and the caller computes it another way. The batch goes through in chunks (as
    in im2col + GEMM): input transform, 16 GEMMs and output transform per chunk, on scratch buffers; when
    the batch is one chunk and a ``workspace`` dict is given, the transformed input is left in it for
    winograd_backward.
    """
    (n, c_in), c_out, grid = x.shape[:2], weight.shape[0], _tile_grid(out_hw)
    x_pad, kernel_tiles = _pad_to_tiles(x, padding, grid), _kernel_tiles(weight)
    bias = np.zeros(c_out, x.dtype) if bias is None else bias.astype(x.dtype, copy=False)
    out = np.empty((n, c_out, 2 * grid[0], 2 * grid[1]), dtype=x.dtype)
    chunks, finite = _chunks(x, grid), True
    for chunk in chunks:
        tiles = scratch("tiles", (4, 4, c_in, len(range(n)[chunk]), *grid), x.dtype)
        finite &= not _input_tiles(x_pad[chunk], tiles, False)
        products = scratch("products", (4, 4, c_out) + tiles.shape[3:], x.dtype)
        np.matmul(kernel_tiles, tiles.reshape(16, c_in, -1), out=products.reshape(16, c_out, -1))
        finite &= not _output_tiles(products, out[chunk], bias, False)
        if workspace is not None and len(chunks) == 1:
            workspace["tiles"] = tiles
        else:
            keep("tiles", tiles)
        keep("products", products)
    return _crop(out, out_hw), finite


def _crop(out, out_hw):
    """The first (Ho, Wo) rows and columns of out, C-contiguous (out itself when that is all of it)."""
    return out if out.shape[2:] == out_hw else np.ascontiguousarray(out[:, :, :out_hw[0], :out_hw[1]])


def winograd_backward(grad_out, x, weight, padding, input_grad, workspace=None):
    """Gradients of winograd_forward: (grad_x or None when not ``input_grad``, grad_weight, grad_bias, finite),
    shaped like x, weight and (C_out,), x's dtype.

    ``finite`` is False when a gradient came out NaN or infinite, or the weight holds such a value (the
    gradients are then not the convolution's, and the caller computes them another way). Per chunk of the
    batch: the input transform (or the forward's, from ``workspace``), the adjoint output transform of
    grad_out, grad U += dM @ V^T, and for grad_x, dV = U^T @ dM on the buffer of the spent tiles and the
    adjoint input transform.
    """
    (n, c_in, h, w), c_out, grid, (ph, pw) = x.shape, weight.shape[0], _tile_grid(grad_out.shape[2:]), padding
    kernel_tiles, grad_tiles = _kernel_tiles(weight), _on_tiles(grad_out, grid, x.dtype)
    x_pad = None  # padded only if forward left no tiles
    grad_x_pad = np.zeros((n, c_in, 2 * grid[0] + 2, 2 * grid[1] + 2), dtype=x.dtype) if input_grad else None
    grad_kernel_tiles = np.zeros((16, c_out, c_in), dtype=x.dtype)
    finite, no_bias = bool(np.isfinite(weight).all()), np.zeros(c_out, x.dtype)
    for chunk in _chunks(x, grid):
        tiles = workspace.pop("tiles", None) if workspace else None  # left by forward when it was one chunk
        if tiles is None:
            x_pad = _pad_to_tiles(x, padding, grid) if x_pad is None else x_pad
            tiles = scratch("tiles", (4, 4, c_in, len(range(n)[chunk]), *grid), x.dtype)
            _input_tiles(x_pad[chunk], tiles, False)
        products = scratch("products", (4, 4, c_out) + tiles.shape[3:], x.dtype)
        finite &= not _output_tiles(products, grad_tiles[chunk], no_bias, True)
        grad_products, tiles_flat = products.reshape(16, c_out, -1), tiles.reshape(16, c_in, -1)
        grad_kernel_tiles += np.matmul(grad_products, tiles_flat.transpose(0, 2, 1))
        if input_grad:  # the tiles are spent: their buffer takes dV
            np.matmul(kernel_tiles.transpose(0, 2, 1), grad_products, out=tiles_flat)
            finite &= not _input_tiles(grad_x_pad[chunk], tiles, True)
        keep("tiles", tiles)
        keep("products", products)
    grad_weight = (grad_kernel_tiles.reshape(16, -1).T @ G_KRON_G.astype(x.dtype)).reshape(weight.shape)
    finite &= bool(np.isfinite(grad_weight).all())
    grad_x = np.ascontiguousarray(grad_x_pad[:, :, ph:ph + h, pw:pw + w]) if input_grad else None
    return grad_x, grad_weight, grad_out.sum(axis=(0, 2, 3), dtype=x.dtype), finite
