"""The MNIST run's pictures: training curves, the first-layer kernels before and after training, and one digit's
feature maps before and after each ReLU.

Colours follow one rule throughout: a quantity that can be negative (a weight, a convolution's output) is drawn
with a diverging map, blue below zero, white at zero, red above, on a scale symmetric about zero and shared by
every panel that shows the same quantity, with a colour bar. So white always means zero and equal colours
always mean equal values.
"""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..nn import functional as F
from ..utils.viz import ColourScale, ImageRows, as_array, new_figure, save_figure, save_image_sections, symmetric_limit

DIVERGING = "RdBu_r"
SMOOTHING_STEPS = 50  # the loss curve's bold line: the mean of about this many steps around each step
LESSON_TARGET = 98.0  # per cent of the test set


def centred_mean(values, window):
    """The mean of the ``window`` values centred on each value (fewer at the two ends, where the window is cut
    short). Centred, it follows the curve without the lag of a running average of the past."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return values
    window = max(1, window)
    before, after = (window - 1) // 2, window // 2
    total = np.concatenate([[0.0], np.cumsum(values)])
    index = np.arange(len(values))
    low, high = np.maximum(index - before, 0), np.minimum(index + after + 1, len(values))
    return (total[high] - total[low]) / (high - low)


def save_training_curves(history, path):
    """Left: the loss of every step (faint) and its mean over about 50 neighbouring steps (bold) against epochs,
    on a linear axis.
    Right: the test accuracy after each epoch, on an axis that ends at 100 %.

    ``history`` holds ``step_loss`` (every step's loss, epochs one after the other), ``epoch`` and
    ``test_accuracy`` (a fraction, one per epoch). Any of them may be empty: the panel then says so."""
    fig = new_figure(figsize=(11, 3.8))
    if fig is None:
        return
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    loss_ax, accuracy_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.8, 1]})
    losses = np.asarray(history.get("step_loss", []), dtype=np.float64)
    epochs = list(history.get("epoch", []))
    accuracies = [100 * a for a in history.get("test_accuracy", [])]

    if len(losses) == 0:
        loss_ax.text(0.5, 0.5, "no training step recorded", transform=loss_ax.transAxes, ha="center", va="center")
        loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", xticks=[], yticks=[])
    else:
        if epochs:  # every epoch has the same number of steps: place each step at its fraction of an epoch
            steps_per_epoch = len(losses) / len(epochs)
            x = epochs[0] - 1 + np.arange(1, len(losses) + 1) / steps_per_epoch
            loss_ax.set_xlabel(f"epoch ({steps_per_epoch:,.0f} step{'s' if steps_per_epoch != 1 else ''} each)")
            loss_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            for boundary in range(epochs[0], epochs[-1]):
                loss_ax.axvline(boundary, color="0.5", linestyle=":", linewidth=1)
            loss_ax.set_xlim(epochs[0] - 1, epochs[-1])
        else:
            x = np.arange(1, len(losses) + 1)
            loss_ax.set_xlabel("step")
        marker = "o" if len(losses) < 3 else None  # one or two points are invisible as a line
        loss_ax.plot(x, losses, color="0.6", linewidth=0.5, alpha=0.6, marker=marker, label="loss of each step (one batch)")
        window = min(SMOOTHING_STEPS, len(losses))
        loss_ax.plot(x, centred_mean(losses, window), color="C0", linewidth=2, marker=marker,
                     label=f"mean of the {window} steps around each step")
        loss_ax.set_ylim(0, 1.05 * losses.max() if losses.max() > 0 else 1)
        loss_ax.set_ylabel("cross-entropy loss")
        loss_ax.legend(loc="upper right", fontsize=9)
    loss_ax.set_title("training loss")

    if accuracies:
        accuracy_ax.plot(epochs, accuracies, "o-", color="C1")
        for epoch, accuracy in zip(epochs, accuracies):
            accuracy_ax.annotate(f"{accuracy:.2f} %", (epoch, accuracy), textcoords="offset points", xytext=(7, -3),
                                 ha="left", va="top", fontsize=9)
        margin = max(0.5, 0.15 * (max(accuracies) - min(accuracies)), 0.15 * (100 - max(accuracies)))
        low = max(0.0, min(accuracies) - margin)
        accuracy_ax.set_ylim(low, 100)
        if low < LESSON_TARGET:
            accuracy_ax.axhline(LESSON_TARGET, color="0.5", linestyle="--", linewidth=1)
            accuracy_ax.annotate(f"the lesson's target, {LESSON_TARGET:.0f} %", (0, LESSON_TARGET),
                                 xycoords=("axes fraction", "data"), xytext=(4, 3), textcoords="offset points",
                                 fontsize=8, color="0.4")
        accuracy_ax.set_xticks(epochs)
        accuracy_ax.set_xlim(epochs[0] - 0.5, epochs[-1] + 0.5)
    else:
        accuracy_ax.text(0.5, 0.5, "no epoch finished", transform=accuracy_ax.transAxes, ha="center", va="center")
        accuracy_ax.set(ylim=(0, 100), xticks=[])
    low, high = accuracy_ax.get_ylim()
    accuracy_ax.yaxis.set_major_formatter(PercentFormatter(xmax=100, decimals=0 if high - low > 5 else 1))
    accuracy_ax.set(xlabel="epoch", ylabel="test accuracy", title="test accuracy after each epoch")
    fig.tight_layout()
    save_figure(fig, path, "training curves")


def kernel_correlation(initial, learned):
    """Pearson's correlation between two sets of weights, all their values taken together: 1 when training only
    scaled them (or shifted them all by one constant), near 0 when nothing of the initial pattern is left.
    Undefined, and NaN, when either set is one constant value throughout."""
    a, b = as_array(initial).ravel(), as_array(learned).ravel()
    a, b = a - a.mean(), b - b.mean()
    norms = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / norms) if norms > 0 else float("nan")


def save_first_layer_kernels(model, path, initial=None):
    """The 5x5 kernels of conv1 on one diverging colour scale, symmetric about zero, with its colour bar.

    ``initial``: conv1's weight before training (a tensor or array of the same shape, ``(10, 1, 5, 5)``), or None.
    When given, the picture has three rows: the initial kernels and the learned ones on the same scale, so that
    a colour means the same weight in both, then their difference, learned minus initial, on a scale of its own.
    Returns the correlation between the initial and the learned weights (None without ``initial``)."""
    learned = as_array(model.conv1.weight)
    if learned.shape[1] != 1:
        raise ValueError(f"save_first_layer_kernels: expected conv1 to take one input channel, got {learned.shape[1]}")
    if initial is None:
        scale = ColourScale(DIVERGING, *_symmetric(learned), label="weight")
        rows = [ImageRows("conv1's kernels after training (white: 0)", list(learned[:, 0]), _numbers(learned))]
        save_image_sections([(scale, rows)], path, columns=len(learned), what="first-layer kernels")
        return None
    initial = as_array(initial)
    if initial.shape != learned.shape:
        raise ValueError(f"save_first_layer_kernels: initial weights of shape {initial.shape} do not match "
                         f"conv1.weight's {learned.shape}")
    change = learned - initial
    correlation = kernel_correlation(initial, learned)
    relative = np.linalg.norm(change) / np.linalg.norm(initial)
    each = [f"r = {kernel_correlation(a, b):.2f}" for a, b in zip(initial, learned)]
    weights = ColourScale(DIVERGING, *_symmetric(initial, learned), label="weight")
    changes = ColourScale(DIVERGING, *_symmetric(change), label="change")
    groups = [
        (weights, [ImageRows("before training: the random initial kernels", list(initial[:, 0]), _numbers(learned)),
                   ImageRows("after training: the learned kernels, on the same colour scale", list(learned[:, 0]))]),
        (changes, [ImageRows("what training changed: learned minus initial, on a colour scale of its own "
                             "(r: each learned kernel's correlation with its initial one)", list(change[:, 0]), each)]),
    ]
    title = (f"conv1's 5x5 kernels. Learned against initial weights: correlation {correlation:.2f}, "
             f"change {relative:.0%} of the initial weights' norm")
    save_image_sections(groups, path, columns=len(learned), what="first-layer kernels", title=title)
    return correlation


def save_feature_maps(model, image, path):
    """One test digit and what each convolution makes of it, before and after its max-pool and ReLU.

    Rows: the input (28x28); conv1's 10 outputs (24x24) as the convolution leaves them, then after
    ``relu(max_pool2d(., 2))`` (12x12), which is what conv2 sees; conv2's 20 outputs (8x8), then after the same
    pool and ReLU (4x4), which is what the linear layer sees. All the maps of one layer share one colour scale,
    symmetric about zero: the ReLU turns every blue (negative) value white (zero)."""
    outputs = {}
    hooks = [
        layer.register_forward_hook(lambda module, inputs, output, name=name: outputs.__setitem__(name, output))
        for name, layer in (("conv1", model.conv1), ("conv2", model.conv2))
    ]
    with no_grad():
        model(image.unsqueeze(0))
        # MNISTNet.forward applies these same two steps to each convolution's output
        after = {name: F.relu(F.max_pool2d(output, 2)) for name, output in outputs.items()}
    for hook in hooks:
        hook.remove()
    groups = [(ColourScale("gray", label="input"),
               [ImageRows(f"the input digit ({image.shape[-2]}x{image.shape[-1]}, normalised)", [image[0]])])]
    for name in ("conv1", "conv2"):
        before, pooled = as_array(outputs[name][0]), as_array(after[name][0])
        size, small = "x".join(map(str, before.shape[1:])), "x".join(map(str, pooled.shape[1:]))
        scale = ColourScale(DIVERGING, *_symmetric(before), label=f"{name} output")
        groups.append((scale, [
            ImageRows(f"{name}'s {len(before)} maps ({size}), before pooling and ReLU", list(before), _numbers(before)),
            ImageRows(f"the same maps after max-pool 2, then ReLU ({small}): negatives become 0",
                      list(pooled), _numbers(pooled)),
        ]))
    save_image_sections(groups, path, columns=10, what="feature maps",
                        title="one test digit through the network; one colour scale per layer (white: 0)")


def _symmetric(*weights):
    """(-limit, +limit) around zero, covering every value of ``weights``."""
    limit = symmetric_limit(weights)
    return -limit, limit


def _numbers(images):
    return [str(i) for i in range(len(images))]
