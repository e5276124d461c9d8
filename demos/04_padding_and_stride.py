# %% [markdown]
"""Lesson 4: padding and stride decide the output size of a convolution.

Along each axis, an input of length n, a kernel of length k, padding p (zeros added on both sides) and
stride s (how far the kernel jumps) give

    n_out = floor((n + 2p - k) / s) + 1.

Without padding every 3x3 layer trims a one-pixel border (4x4 -> 2x2); padding 1 keeps the size (5x5 -> 5x5);
stride 2 roughly halves it. The same rule, applied axis by axis, gives every shape in the table at the end,
where kernels, paddings and strides may differ between height and width. Channels do not enter the rule:
Conv2d(5, 10, 3) turns 5 channels into 10 with a (10, 5, 3, 3) weight and 100x100 into 98x98, as any 3x3 does.
"""

# %%
import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn


# %%
def main():
    x = tl.tensor([[1.0, 2, 1, 0], [2, 0, 1, 3], [0, 5, 4, 2], [4, 1, 2, 5]]).reshape(1, 1, 4, 4)
    k = tl.tensor([[0.0, 1, 0], [2, 1, 1], [1, 0, 1]]).reshape(1, 1, 3, 3)
    no_padding = F.conv2d(x, k)
    print(f"4x4 input, 3x3 kernel, no padding -> 2x2:\n{no_padding[0, 0]}")
    assert no_padding.reshape(2, 2).tolist() == [[11.0, 12.0], [15.0, 23.0]]

    x = tl.tensor([3.0, 4, 6, 5, 7, 2, 4, 6, 8, 2, 1, 6, 7, 8, 4, 9, 7, 4, 6, 2, 3, 7, 5, 4, 1]).reshape(1, 1, 5, 5)
    k = tl.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    padded = F.conv2d(x, k, padding=1)
    print(f"\n5x5 input, kernel 1..9, padding=1 -> 5x5:\n{padded[0, 0]}")
    assert padded.reshape(5, 5).tolist() == [
        [91, 168, 224, 215, 127],
        [114, 211, 295, 262, 149],
        [192, 259, 282, 214, 122],
        [194, 251, 253, 169, 86],
        [96, 112, 110, 68, 31],
    ]
    strided = F.conv2d(x, k, stride=2)
    print(f"\nthe same kernel with stride=2 and no padding -> 2x2, every other entry of the above:\n{strided[0, 0]}")
    assert strided.reshape(2, 2).tolist() == [[211.0, 262.0], [251.0, 169.0]]
    assert strided[0, 0].tolist() == padded[0, 0, 1::2, 1::2].tolist()

    tl.manual_seed(0)
    print("\noutput shapes:")
    for layer, input_shape, expected in [
        (nn.Conv2d(5, 10, 3), (1, 5, 100, 100), (1, 10, 98, 98)),
        (nn.Conv2d(1, 3, 3), (1, 1, 28, 28), (1, 3, 26, 26)),
        (nn.Conv2d(1, 1, kernel_size=3, padding=1), (1, 1, 8, 8), (1, 1, 8, 8)),
        (nn.Conv2d(1, 1, kernel_size=(5, 3), padding=(2, 1)), (1, 1, 8, 8), (1, 1, 8, 8)),
        (nn.Conv2d(1, 1, kernel_size=3, padding=1, stride=2), (1, 1, 8, 8), (1, 1, 4, 4)),
        (nn.Conv2d(1, 1, kernel_size=(3, 5), padding=(0, 1), stride=(3, 4)), (1, 1, 8, 8), (1, 1, 2, 2)),
    ]:
        output_shape = tuple(layer(tl.rand(*input_shape)).shape)
        print(f"  {str(input_shape):>17} -> {str(output_shape):<17} {layer}")
        assert output_shape == expected, f"{layer} on {input_shape}: expected {expected}, got {output_shape}"
    weight_shape = tuple(nn.Conv2d(5, 10, 3).weight.shape)
    print(f"Conv2d(5, 10, 3).weight has shape {weight_shape}: (out_channels, in_channels, kH, kW)")
    assert weight_shape == (10, 5, 3, 3)


# %%
if __name__ == "__main__":
    main()
