# %% [markdown]
"""Lesson 5: multiple input and output channels, and the 1x1 convolution.

An input with c_i channels needs a kernel with c_i channels: each input channel is cross-correlated with its
own kernel slice and the c_i results are summed into one output map. To get c_o output maps, stack c_o such
kernels into a weight of shape (c_o, c_i, kH, kW); here the three kernels are K, K + 1 and K + 2.
A 1x1 kernel looks at one pixel at a time, so it only mixes channels: on a (c_i, H, W) input it is the matrix
product of the (c_o, c_i) weight with the input flattened to (c_i, H * W), a fully connected layer per pixel.
"""

# %%
import tensorlite as tl
import tensorlite.nn.functional as F


# %%
def corr2d_multi_in(X, K):
    """Sum over input channels of each channel's 2-D cross-correlation with its kernel slice."""
    return sum(F.corr2d(x, k) for x, k in zip(X, K))


# %%
def main():
    X = tl.stack([tl.arange(0.0, 9.0).reshape(3, 3), tl.arange(1.0, 10.0).reshape(3, 3)])
    K = tl.tensor([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
    Y = corr2d_multi_in(X, K)
    print(f"two input channels, summed:\n{Y}")
    assert Y.tolist() == [[56.0, 72.0], [104.0, 120.0]]
    assert tl.equal(F.conv2d(X, K.unsqueeze(0))[0], Y), "conv2d with one output channel is the same sum"

    K3 = tl.stack([K, K + 1, K + 2])
    Y3 = F.conv2d(X, K3)
    print(f"\nthree stacked kernels, weight shape {tuple(K3.shape)}, give three output channels:\n{Y3}")
    assert K3.shape == (3, 2, 2, 2)
    assert Y3.tolist() == [
        [[56.0, 72.0], [104.0, 120.0]],
        [[76.0, 100.0], [148.0, 172.0]],
        [[96.0, 128.0], [192.0, 224.0]],
    ]

    tl.manual_seed(0)
    X, K = tl.randn(3, 3, 3), tl.randn(2, 3, 1, 1)
    by_conv = F.conv2d(X, K)
    by_matmul = (K.reshape(2, 3) @ X.reshape(3, 9)).reshape(2, 3, 3)
    difference = (by_conv - by_matmul).abs().max().item()
    print(f"\n1x1 convolution vs matmul on a random (3, 3, 3) input: largest difference {difference:.2g}")
    assert difference < 1e-6


# %%
if __name__ == "__main__":
    main()
