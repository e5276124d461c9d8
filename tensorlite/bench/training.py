"""The MNIST recipe end to end, tensorlite against torch, back to back, each in its own process.

tensorlite runs ``tensorlite train mnist`` as a user would: through its own ``DataLoader`` and transforms.
torch runs its fastest simple loop: the whole normalised training set pre-loaded as one tensor, a random
permutation per epoch, batches cut by index slicing, no DataLoader. Same network, same recipe (batch 64,
SGD lr 0.01 momentum 0.5, cross-entropy), same test set. Each process's peak resident memory comes from
the operating system (``wait4``), so neither run's memory is counted in the other's.

Both runs keep what they write in a real folder, ``runs/bench/recipe/`` by default: the tensorlite run's checkpoints
and pictures in ``tensorlite/`` (the paths it prints are there to open afterwards), torch's accuracies and seconds
in ``torch.json``.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ..train.mnist import MNIST_MEAN, MNIST_STD, TrainConfig
from .loops import fresh_process_environment, lesson_network
from .machine import describe_machine


def torch_mnist(epochs, seed, root, report_path):
    """The recipe in torch with pre-loaded tensors; writes {'test_accuracy': [...], 'seconds': [...]} as JSON."""
    import torch

    from ..data.datasets import MNIST

    torch.manual_seed(seed)
    recipe = TrainConfig()  # the lesson's batch size, learning rate and momentum

    def normalised(split):
        images = torch.from_numpy(split.data.numpy()).float().div_(255).sub_(MNIST_MEAN).div_(MNIST_STD)
        return images.unsqueeze(1), torch.from_numpy(split.targets.numpy())

    train_x, train_y = normalised(MNIST(root, train=True, download=True))
    test_x, test_y = normalised(MNIST(root, train=False, download=True))

    model = lesson_network(torch)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    history = {"test_accuracy": [], "seconds": []}
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(train_x))
        for i in range(0, len(order), recipe.batch_size):
            batch = order[i : i + recipe.batch_size]
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(train_x[batch]), train_y[batch]).backward()
            optimizer.step()
        history["seconds"].append(time.perf_counter() - start)
        with torch.no_grad():
            history["test_accuracy"].append((model(test_x).argmax(1) == test_y).float().mean().item())
        epoch = len(history["seconds"])
        print(f"torch epoch {epoch}: test accuracy {history['test_accuracy'][-1]:.2%}, {history['seconds'][-1]:.1f} s")
    Path(report_path).write_text(json.dumps(history))


def run_measured(command, env=None):
    """Run ``command``, streaming its output; return its peak resident memory in MB (Linux ``wait4``)."""
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit status {os.waitstatus_to_exitcode(status)}")
    return usage.ru_maxrss / 1024


RECIPE_OUT = "runs/bench/recipe"


def compare_mnist(epochs=3, seed=0, root=None, out=RECIPE_OUT):
    """Train the recipe in tensorlite, then in torch; return both histories with each process's peak memory.
    The tensorlite run writes its checkpoints and pictures to ``out/tensorlite/``, torch its accuracies and seconds
    to ``out/torch.json``; the folder stays, so every path the runs print can be opened afterwards."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"the tensorlite run keeps its checkpoints and pictures in {out / 'tensorlite'}/, "
          f"the torch run its accuracies and seconds in {out / 'torch.json'}")
    root_args = ["--root", root] if root else []
    tl_memory = run_measured(
        [sys.executable, "-m", "tensorlite", "train", "mnist", "--epochs", str(epochs), "--seed", str(seed),
         "--out", str(out / "tensorlite"), *root_args]
    )
    from ..utils.serialization import load

    tl_history = load(out / "tensorlite" / f"epoch_{epochs}.npz")["history"]
    torch_memory = run_measured(
        [sys.executable, "-m", "tensorlite.bench.training", str(epochs), str(seed), root or "", str(out / "torch.json")],
        env=fresh_process_environment("torch"),
    )
    torch_history = json.loads((out / "torch.json").read_text())
    return {
        "machine": describe_machine(),
        "epochs": epochs,
        "out": str(out),
        "tensorlite": {**{k: tl_history[k] for k in ("test_accuracy", "seconds")}, "peak_rss_mb": tl_memory},
        "torch": {**torch_history, "peak_rss_mb": torch_memory},
    }


def format_comparison(result):
    """The two runs side by side, one row per epoch, then peak memory."""
    header = ("epoch", "tensorlite acc", "tensorlite s", "torch acc", "torch s", "tl/torch s")
    lines = ["  ".join(f"{h:>{len(h)}}" for h in header)]
    tl, torch = result["tensorlite"], result["torch"]
    for epoch in range(result["epochs"]):
        lines.append(
            f"{epoch + 1:>5}  {tl['test_accuracy'][epoch]:>14.2%}  {tl['seconds'][epoch]:>12.1f}  "
            f"{torch['test_accuracy'][epoch]:>9.2%}  {torch['seconds'][epoch]:>7.1f}  "
            f"{tl['seconds'][epoch] / torch['seconds'][epoch]:>10.2f}"
        )
    lines.append(f"peak resident memory: tensorlite {tl['peak_rss_mb']:,.0f} MB, torch {torch['peak_rss_mb']:,.0f} MB")
    return "\n".join(lines)


if __name__ == "__main__":
    epochs, seed, root, report_path = sys.argv[1:]
    torch_mnist(int(epochs), int(seed), root or None, report_path)
