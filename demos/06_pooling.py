# %% [markdown]
"""Lesson 6: pooling summarises each window of a feature map by its maximum or its mean.

A pooling layer slides a window over its input like a convolution, but it has no weights: max pooling keeps the
strongest response in each window, average pooling the mean. It pools every channel on its own, so as many
channels come out as go in. nn.MaxPool2d's stride defaults to its kernel size, so the windows do not overlap and
a 2x2 pool halves the height and the width. Padding and stride follow the convolution's size rule;
ceil_mode=True rounds the output size up instead of down, which keeps a last, partial window at the edge
(provided it starts inside the input). Writes the first example and its two pools to runs/demos/pooling.png.
"""

# %%
from pathlib import Path

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn
from tensorlite.utils.viz import save_image_row

OUT = Path("runs/demos")


# %%
def main():
    X = tl.tensor([[3.0, 4, 6, 5], [2, 4, 6, 8], [1, 6, 7, 8], [9, 7, 4, 6]]).reshape(1, 1, 4, 4)
    max_pooled, avg_pooled = nn.MaxPool2d(2)(X), nn.AvgPool2d(2)(X)
    print(f"X =\n{X[0, 0]}\nMaxPool2d(2)(X) =\n{max_pooled[0, 0]}\nAvgPool2d(2)(X) =\n{avg_pooled[0, 0]}")
    assert max_pooled.reshape(2, 2).tolist() == [[4.0, 8.0], [9.0, 8.0]]
    assert avg_pooled.reshape(2, 2).tolist() == [[3.25, 6.25], [5.75, 6.25]]
    save_image_row(
        [X[0, 0], max_pooled[0, 0], avg_pooled[0, 0]], ["X", "MaxPool2d(2)(X)", "AvgPool2d(2)(X)"],
        OUT / "pooling.png", what="pooling picture", vmin=0, vmax=9, show_values=True, panel_inches=2.5,
    )

    X = tl.arange(16.0).reshape(1, 1, 4, 4)
    print(f"\npadding and stride on X =\n{X[0, 0]}")
    for pool, expected in [
        (nn.MaxPool2d(3), [[10.0]]),
        (nn.MaxPool2d(3, padding=1, stride=2), [[5.0, 7.0], [13.0, 15.0]]),
        (nn.MaxPool2d((2, 3), stride=(2, 3), padding=(0, 1)), [[5.0, 7.0], [13.0, 15.0]]),
    ]:
        pooled = pool(X)[0, 0]
        print(f"{pool}:\n{pooled}")
        assert pooled.tolist() == expected
    two_channels = tl.cat([X, X + 1], dim=1)
    pooled = nn.MaxPool2d(3, padding=1, stride=2)(two_channels)
    print(f"the same pool on two channels, X and X + 1, gives two channels:\n{pooled[0]}")
    assert pooled[0].tolist() == [[[5.0, 7.0], [13.0, 15.0]], [[6.0, 8.0], [14.0, 16.0]]]

    X = tl.tensor([[1.0, 2, 1, 0], [2, 0, 1, 3], [0, 5, 4, 2], [4, 1, 2, 5]]).reshape(1, 1, 4, 4)
    floor_pooled, ceil_pooled = F.max_pool2d(X, 3, ceil_mode=False), F.max_pool2d(X, 3, ceil_mode=True)
    print(f"\n3x3 max pool (stride 3) of\n{X[0, 0]}\nceil_mode=False, one whole window: {floor_pooled[0, 0]}")
    print(f"ceil_mode=True adds the partial windows over the last row and column:\n{ceil_pooled[0, 0]}")
    assert floor_pooled.reshape(1, 1).tolist() == [[5.0]]
    assert ceil_pooled.reshape(2, 2).tolist() == [[5.0, 3.0], [4.0, 5.0]]

    tl.manual_seed(0)
    x = tl.rand(1, 1, 28, 28)
    resized = {
        "MaxPool2d(2, stride=2)(x)": nn.MaxPool2d(2, stride=2)(x),
        "F.avg_pool2d(x, 2)": F.avg_pool2d(x, 2),
        "F.interpolate(x, scale_factor=2, mode='nearest')": F.interpolate(x, scale_factor=2, mode="nearest"),
    }
    print("\npooling halves a 28x28 image, nearest-neighbour interpolation doubles it:")
    for name, result in resized.items():
        print(f"  {name:<48} -> {tuple(result.shape)}")
    assert [r.shape for r in resized.values()] == [(1, 1, 14, 14), (1, 1, 14, 14), (1, 1, 56, 56)]


# %%
if __name__ == "__main__":
    main()
