# %% [markdown]
"""Lesson 7: batch normalisation behaves differently in training and in evaluation.

In train mode, nn.BatchNorm2d(C) normalises each channel with the mean and the (biased) variance of that
channel over the whole batch, all images and all pixels: y = (x - mean) / sqrt(var + eps) * weight + bias,
with weight = 1 and bias = 0 at the start. So every channel comes out with mean 0 and variance 1, whatever
the batch. Each call also updates the running statistics, an exponential moving average with momentum 0.1:

    running_mean = 0.9 * running_mean + 0.1 * mean,    running_var = 0.9 * running_var + 0.1 * unbiased var.

In eval mode the layer normalises with those running statistics instead, so an image's output no longer
depends on which other images share its batch. They start at mean 0 and variance 1, so after one batch eval
mode barely normalises at all; after enough training batches it normalises as well as train mode does.
"""

# %%
import tensorlite as tl
from tensorlite import nn

CHANNEL_MEAN, CHANNEL_STD = 3.0, 2.0


# %%
def batch_of_images():
    """Four 3-channel 5x5 images whose pixels have mean 3 and standard deviation 2."""
    return tl.randn(4, 3, 5, 5) * CHANNEL_STD + CHANNEL_MEAN


# %%
def channel_stats(x):
    """Each channel's mean and biased variance over the batch and the pixels, as two (C,) tensors."""
    return x.mean(dim=(0, 2, 3)), x.var(dim=(0, 2, 3), unbiased=False)


# %%
def three_decimals(values):
    """A (C,) tensor as "[ 2.849,  3.071, ...]"; adding 0.0 turns a rounded -0.0 into 0.0."""
    return "[" + ", ".join(f"{round(v, 3) + 0.0:6.3f}" for v in values.tolist()) + "]"


# %%
def show(label, mean, var):
    print(f"{label:<38} mean {three_decimals(mean)}   variance {three_decimals(var)}")


# %%
def per_channel(v):
    """A (C,) vector shaped (1, C, 1, 1), to broadcast over (N, C, H, W)."""
    return v.reshape(1, -1, 1, 1)


# %%
def main():
    tl.manual_seed(0)
    bn = nn.BatchNorm2d(3)
    print(bn)
    x = batch_of_images()
    mean, var = channel_stats(x)
    show("a batch of 4 images with 3 channels:", mean, var)
    with tl.no_grad():
        y = bn(x)
    show("train mode output:", *channel_stats(y))
    assert tl.allclose(y, (x - per_channel(mean)) / (per_channel(var) + bn.eps).sqrt(), atol=1e-5)
    assert tl.allclose(channel_stats(y)[0], tl.zeros(3), atol=1e-5)

    show("running statistics after 1 batch:", bn.running_mean, bn.running_var)
    unbiased_var = x.var(dim=(0, 2, 3), unbiased=True)
    assert tl.allclose(bn.running_mean, 0.1 * mean) and tl.allclose(bn.running_var, 0.9 + 0.1 * unbiased_var)
    assert bn.num_batches_tracked.item() == 1

    bn.eval()
    with tl.no_grad():
        y = bn(x)
        first_image_alone = bn(x[:1])
    show("eval mode output, same batch:", *channel_stats(y))
    expected = (x - per_channel(bn.running_mean)) / (per_channel(bn.running_var) + bn.eps).sqrt()
    assert tl.allclose(y, expected, atol=1e-5)
    assert tl.allclose(first_image_alone, y[:1]), "in eval mode an image's output must not depend on its batch"
    print("eval mode: the first image alone gets the same output as inside its batch")

    bn.train()
    with tl.no_grad():
        for _ in range(100):
            bn(batch_of_images())
    bn.eval()
    with tl.no_grad():
        y = bn(batch_of_images())
    show(f"running statistics after {bn.num_batches_tracked.item()} batches:", bn.running_mean, bn.running_var)
    show("eval mode output, a new batch:", *channel_stats(y))
    assert tl.allclose(bn.running_mean, tl.full((3,), CHANNEL_MEAN), atol=0.3)
    assert tl.allclose(bn.running_var, tl.full((3,), CHANNEL_STD**2), rtol=0.25)
    assert tl.allclose(channel_stats(y)[0], tl.zeros(3), atol=0.3)
    assert tl.allclose(channel_stats(y)[1], tl.ones(3), atol=0.3)


# %%
if __name__ == "__main__":
    main()
