# %% [markdown]
"""Lesson 3: a convolutional layer learns its kernel from examples.

Lesson 2 wrote the edge detector [[1, -1]] by hand. Here a Conv2d(1, 1, kernel_size=(1, 2), bias=False) starts
from a random kernel and sees only the black-stripe image X and the edge map Y = corr2d(X, [[1, -1]]). Ten plain
gradient-descent steps on the sum of squared errors, w <- w - 0.03 * dL/dw, bring its weight back to about
[1, -1]: the layer has rediscovered the edge detector. Conv2d wants (batch, channels, height, width) tensors,
so X and Y get two leading dimensions of size 1.
"""

# %%
import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn

LEARNING_RATE = 3e-2


# %%
def main():
    tl.manual_seed(0)
    X = tl.ones(6, 8)
    X[:, 2:6] = 0
    true_kernel = tl.tensor([[1.0, -1.0]])
    Y = F.corr2d(X, true_kernel)
    X, Y = X.reshape(1, 1, 6, 8), Y.reshape(1, 1, 6, 7)

    conv2d = nn.Conv2d(1, 1, kernel_size=(1, 2), bias=False)
    print(f"random start: {conv2d.weight.data.reshape(1, 2)}")
    losses = []
    for epoch in range(1, 11):
        loss = ((conv2d(X) - Y) ** 2).sum()
        conv2d.zero_grad()
        loss.backward()
        conv2d.weight.data[:] -= LEARNING_RATE * conv2d.weight.grad
        losses.append(loss.item())
        if epoch % 2 == 0:
            print(f"epoch {epoch}, loss {loss.item():.3f}")

    learned = conv2d.weight.data.reshape(1, 2)
    error = (learned - true_kernel).abs().max().item()
    print(f"learned kernel: {learned}, largest error {error:.3f}")
    assert losses[-1] < losses[0] / 10, f"the loss should fall tenfold, went {losses[0]:.3f} -> {losses[-1]:.3f}"
    assert error < 0.1, f"the learned kernel should be within 0.1 of [1, -1], got {learned.tolist()}"


# %%
if __name__ == "__main__":
    main()
