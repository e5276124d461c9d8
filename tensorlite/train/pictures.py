"""The MNIST run's pictures: training curves, the learned first-layer kernels, and one digit's feature maps."""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..utils.viz import new_figure, save_figure, save_image_grid


def save_training_curves(history, path):
    """Left: the loss of every step and its moving average. Right: the test accuracy after each epoch."""
    fig = new_figure(figsize=(10, 3.6))
    if fig is None:
        return
    loss_ax, accuracy_ax = fig.subplots(1, 2)
    losses = np.asarray(history["step_loss"])
    window = max(1, min(50, len(losses) // 10))
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    loss_ax.plot(losses, color="0.75", linewidth=0.6, label="step")
    loss_ax.plot(np.arange(window - 1, len(losses)), smooth, color="C0", label=f"mean of {window}")
    loss_ax.set(xlabel="step", ylabel="cross-entropy", title="training loss", yscale="log")
    loss_ax.legend()
    accuracy_ax.plot(history["epoch"], [100 * a for a in history["test_accuracy"]], "o-", color="C1")
    accuracy_ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="test accuracy", xticks=history["epoch"])
    for epoch, accuracy in zip(history["epoch"], history["test_accuracy"]):
        accuracy_ax.annotate(f"{100 * accuracy:.2f}", (epoch, 100 * accuracy), textcoords="offset points", xytext=(0, 6), ha="center")
    save_figure(fig, path, "training curves")


def save_first_layer_kernels(model, path):
    """The 5x5 kernels of conv1, one panel each: the edge and stroke detectors the network learned."""
    kernels = model.conv1.weight.detach().cpu().numpy()[:, 0]
    save_image_grid(kernels, [f"kernel {i}" for i in range(len(kernels))], path, columns=5, what="first-layer kernels")


def save_feature_maps(model, image, path):
    """One test digit and what conv1 (10 maps, 24x24) and conv2 (20 maps, 8x8) make of it."""
    maps = {}
    hooks = [
        layer.register_forward_hook(lambda module, inputs, output, name=name: maps.__setitem__(name, output))
        for name, layer in (("conv1", model.conv1), ("conv2", model.conv2))
    ]
    with no_grad():
        model(image.unsqueeze(0))
    for hook in hooks:
        hook.remove()
    blanks = [None] * 9  # the input digit gets a row of its own
    panels = [image[0].cpu()] + blanks + [m for name in ("conv1", "conv2") for m in maps[name][0].cpu()]
    titles = ["input"] + blanks + [f"{name}[{i}]" for name in ("conv1", "conv2") for i in range(maps[name].shape[1])]
    save_image_grid(panels, titles, path, columns=10, what="feature maps")
