# %% [markdown]
"""Lesson 2: cross-correlation, the operation inside every convolutional layer, and edge detection with it.

A kernel K of shape (h, w) slides over an input X of shape (H, W). At each position the window of X under
the kernel is multiplied by K elementwise and summed:

    Y[i, j] = sum_{a, b} X[i + a, j + b] * K[a, b],        Y has shape (H - h + 1, W - w + 1).

With K = [[1, -1]] each output is a pixel minus its right-hand neighbour: 0 where the image is flat, +1 where
it steps from white (1) down to black (0), -1 where it steps back up. So this kernel finds vertical edges; on
the transposed image it finds nothing, and its transpose [[1], [-1]] finds the horizontal edges instead.
Writes the images and their edge maps to runs/demos/edges.png.
"""

# %%
from pathlib import Path

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite.utils.viz import save_image_row

OUT = Path("runs/demos")


# %%
def corr2d_by_loops(X, K):
    """The definition as two loops over the output; F.corr2d computes the same with a compiled kernel."""
    h, w = K.shape
    Y = tl.zeros(X.shape[0] - h + 1, X.shape[1] - w + 1)
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


# %%
def main():
    X = tl.tensor([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]])
    K = tl.tensor([[0.0, 1.0], [2.0, 3.0]])
    Y = F.corr2d(X, K)
    print(f"corr2d(X, K) =\n{Y}")
    assert Y.tolist() == corr2d_by_loops(X, K).tolist() == [[19.0, 25.0], [37.0, 43.0]]

    X = tl.ones(6, 8)
    X[:, 2:6] = 0  # a black stripe in the middle of a white image
    K = tl.tensor([[1.0, -1.0]])
    Y = F.corr2d(X, K)
    print(f"\nX =\n{X}\nY = corr2d(X, K) with K = [[1, -1]]:\n{Y}")
    assert (Y[:, 1] == 1).all() and (Y[:, 5] == -1).all() and Y.abs().sum().item() == 12

    Y_transposed = F.corr2d(X.T, K)
    print(f"\ncorr2d(X.T, K): the stripe is now horizontal and K sees no left-right change\n{Y_transposed}")
    assert (Y_transposed == 0).all()

    Y_horizontal = F.corr2d(X.T, K.T)
    print(f"\ncorr2d(X.T, K.T): the transposed kernel finds the horizontal edges\n{Y_horizontal}")
    assert tl.equal(Y_horizontal, Y.T)

    save_image_row(
        [X, Y, X.T, Y_horizontal],
        ["X", "corr2d(X, [[1, -1]])", "X.T", "corr2d(X.T, [[1], [-1]])"],
        OUT / "edges.png", what="edge maps", vmin=-1, vmax=1, show_values=True, panel_inches=2.5,
    )


# %%
if __name__ == "__main__":
    main()
