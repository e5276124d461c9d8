# %% [markdown]
"""Lesson 1: autograd at work. A two-layer MLP learns to separate two interleaved spirals.

Every step builds a fresh graph (Linear → ReLU → Linear → ReLU → Linear → cross-entropy), ``loss.backward()``
walks it in reverse, and the optimiser moves each weight against its gradient. Prints the loss under a
progress bar, then the test accuracy, which must exceed 95 %; writes the decision regions as a PNG and the
graph of the last step's loss (the one ``loss.backward()`` walked) as an SVG.
"""

# %%
import math
from pathlib import Path

import numpy as np
from tqdm import tqdm

import tensorlite as tl
from tensorlite import nn
from tensorlite.utils.viz import new_figure, save_figure

OUT = Path("runs/demos")


# %%
def make_spiral(n_per_class, noise=0.15, seed=0):
    """Two spirals: class c has points r * (cos(r + c*pi), sin(r + c*pi)) for radii r in [0, 3*pi], plus noise."""
    rng = np.random.default_rng(seed)
    radius = np.sqrt(rng.random(2 * n_per_class)) * 3 * math.pi
    label = np.repeat([0, 1], n_per_class)
    angle = radius + label * math.pi
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1) / (3 * math.pi)
    points += rng.normal(scale=noise / (3 * math.pi) * 3, size=points.shape)
    return tl.tensor(points, dtype=tl.float32), tl.tensor(label)


# %%
def accuracy(model, x, y):
    with tl.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


# %%
CLASS_COLOURS = ("#053061", "#67001f")  # the dark ends of RdBu_r: blue for class 0, red for class 1


# %%
def save_decision_regions(model, x, y, path):
    """The plane coloured by the model's probability of class 1 (blue 0, white 0.5, red 1), the decision boundary
    where that probability is one half, and the points ``x`` in their true class's colour."""
    fig = new_figure(figsize=(6.2, 5))
    if fig is None:
        return
    from matplotlib.lines import Line2D

    grid = np.linspace(-1.3, 1.3, 200, dtype=np.float32)
    gx, gy = np.meshgrid(grid, grid)
    with tl.no_grad():
        logits = model(tl.tensor(np.stack([gx.ravel(), gy.ravel()], axis=1)))
    region = logits.softmax(dim=1)[:, 1].numpy().reshape(gx.shape)
    ax = fig.subplots()
    filled = ax.contourf(gx, gy, region, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.45)
    ax.contour(gx, gy, region, levels=[0.5], colors="k", linewidths=1.2)
    points, labels = x.numpy(), y.numpy()
    handles = []
    for label, (colour, marker) in enumerate(zip(CLASS_COLOURS, ("o", "^"))):
        handles.append(ax.scatter(*points[labels == label].T, color=colour, marker=marker, s=18, edgecolors="white",
                                  linewidths=0.5, label=f"class {label}: spiral {'AB'[label]} ({(labels == label).sum()} test points)"))
    handles.append(Line2D([], [], color="k", linewidth=1.2, label="decision boundary, P(class 1) = 0.5"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    fig.colorbar(filled, ax=ax, shrink=0.8, label="model's probability of class 1")
    ax.set(xlabel="$x_1$ (first input)", ylabel="$x_2$ (second input)", aspect="equal",
           title="Decision regions of the spiral MLP, with the test points")
    save_figure(fig, path, "decision regions")


# %%
def main(steps=400):
    tl.manual_seed(0)
    x_train, y_train = make_spiral(300, seed=0)
    x_test, y_test = make_spiral(300, seed=1)
    model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
    optimizer = tl.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    bar = tqdm(range(steps), desc="spiral MLP", unit="step")
    for step in bar:
        optimizer.zero_grad()
        loss = loss_fn(model(x_train), y_train)
        loss.backward()
        optimizer.step()
        if step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}")
    train_acc, test_acc = accuracy(model, x_train, y_train), accuracy(model, x_test, y_test)
    print(f"final loss {loss.item():.4f}, train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}")
    assert test_acc > 0.95, f"the spiral MLP should exceed 95 % test accuracy, got {test_acc:.1%}"
    save_decision_regions(model, x_test, y_test, OUT / "spiral_decision_regions.png")
    # backward freed the saved tensors, but the nodes and their edges are still there to be drawn
    graph = tl.utils.draw_graph(loss, OUT / "spiral_graph.svg", params=dict(model.named_parameters()))
    print(f"graph of the loss written to {graph}")


# %%
if __name__ == "__main__":
    main()
