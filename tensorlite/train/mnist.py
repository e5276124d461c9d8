"""The MNIST lesson: train the classic small CNN with the classic recipe, through tensorlite's own DataLoader.

Network: conv(1→10, k5) → max-pool 2 → relu → conv(10→20, k5) → max-pool 2 → relu → linear(320→10).
Recipe: images normalised with mean 0.1307 / std 0.3081, batch 64, SGD lr 0.01 momentum 0.5, cross-entropy.
Every epoch: a progress bar with the running loss and images/s, the test accuracy, and a checkpoint
(``epoch_N.npz``: model, optimiser, shuffle-generator state, history) that ``resume`` continues from exactly.
"""
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from .. import nn, optim
from ..autograd.grad_mode import no_grad
from ..data import DataLoader, Subset, transforms
from ..data.datasets import MNIST
from ..nn import functional as F
from ..random import Generator, manual_seed
from ..utils.serialization import load, save
from .pictures import save_feature_maps, save_first_layer_kernels, save_training_curves

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class MNISTNet(nn.Module):
    """The lesson's CNN: (N, 1, 28, 28) images → (N, 10) class scores; 8,490 parameters."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))  # (N, 10, 12, 12)
        x = F.relu(F.max_pool2d(self.conv2(x), 2))  # (N, 20, 4, 4)
        return self.fc(x.flatten(1))


@dataclass
class TrainConfig:
    epochs: int = 3
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.5
    device: str = "cpu"
    seed: int = 0
    out: str = "runs/mnist"
    root: str = None
    resume: str = None
    limit: int = None  # train on the first ``limit`` images only (quick demos)


def mnist_datasets(root, limit=None):
    """Train and test sets with the lesson's transform: ToTensor, then Normalize(0.1307, 0.3081)."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    train_set = MNIST(root, train=True, download=True, transform=transform)
    test_set = MNIST(root, train=False, download=True, transform=transform)
    if limit is not None:
        train_set = Subset(train_set, range(min(limit, len(train_set))))
    return train_set, test_set


def evaluate(model, loader, device):
    """Fraction of ``loader``'s samples whose highest-scoring class is the label."""
    model.eval()
    correct = total = 0
    with no_grad():
        for images, labels in loader:
            predicted = model(images.to(device)).argmax(dim=1).cpu()
            correct += int((predicted == labels).sum())
            total += labels.shape[0]
    model.train()
    return correct / total


def train_one_epoch(model, loader, optimizer, device, epoch, epochs):
    """One pass over ``loader``; returns (every step's loss, images per second). The bar shows the running loss and
    images/s as it goes."""
    bar = tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=True)
    running, seen, start = 0.0, 0, time.perf_counter()
    losses = []
    for step, (images, labels) in enumerate(bar, 1):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images.to(device)), labels.to(device))
        loss.backward()
        optimizer.step()
        value = loss.item()
        losses.append(value)
        running = 0.98 * running + 0.02 * value if step > 1 else value
        seen += labels.shape[0]
        if step % 20 == 0:
            bar.set_postfix(loss=f"{running:.4f}", img_per_s=f"{seen / (time.perf_counter() - start):,.0f}")
    return losses, seen / (time.perf_counter() - start)


def train(config):
    """Train ``MNISTNet`` per ``config``; returns a ``TrainResult``: the model, the history (per-epoch accuracy, seconds,
    images/s, and every step's loss), the wall time and the test set."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    manual_seed(config.seed)
    train_set, test_set = mnist_datasets(config.root, config.limit)
    shuffle = Generator().manual_seed(config.seed)
    train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, generator=shuffle)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = MNISTNet().to(config.device)
    optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    history = {"epoch": [], "test_accuracy": [], "seconds": [], "images_per_second": [], "step_loss": []}
    first_epoch = 1
    if config.resume:
        checkpoint = load(config.resume, map_location=config.device)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        shuffle.set_state(json.loads(checkpoint["shuffle_state"]))
        history = checkpoint["history"]
        first_epoch = checkpoint["epoch"] + 1
        print(f"resumed from {config.resume} after epoch {checkpoint['epoch']}")
    print(f"training {type(model).__name__} on {len(train_set):,} images, testing on {len(test_set):,}, device {config.device}")
    wall_start = time.perf_counter()
    for epoch in range(first_epoch, config.epochs + 1):
        start = time.perf_counter()
        losses, images_per_second = train_one_epoch(model, train_loader, optimizer, config.device, epoch, config.epochs)
        seconds = time.perf_counter() - start
        accuracy = evaluate(model, test_loader, config.device)
        history["epoch"].append(epoch)
        history["test_accuracy"].append(accuracy)
        history["seconds"].append(seconds)
        history["images_per_second"].append(images_per_second)
        history["step_loss"].extend(losses)
        print(f"epoch {epoch}: test accuracy {accuracy:.2%}, {seconds:.1f} s, {images_per_second:,.0f} images/s")
        save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "shuffle_state": json.dumps(shuffle.get_state()),
                "history": history,
                "epoch": epoch,
                "config": asdict(config),
            },
            out / f"epoch_{epoch}.npz",
        )
    return TrainResult(model, history, time.perf_counter() - wall_start, test_set)


@dataclass
class TrainResult:
    model: MNISTNet
    history: dict
    wall_seconds: float
    test_set: object


def train_and_report(config):
    """``train``, then the pictures (curves, kernels, feature maps of the first test digit) and a final line."""
    result = train(config)
    out = Path(config.out)
    save_training_curves(result.history, out / "curves.png")
    save_first_layer_kernels(result.model, out / "kernels.png")
    save_feature_maps(result.model, result.test_set[0][0].to(config.device), out / "feature_maps.png")
    history = result.history
    images = sum(s * r for s, r in zip(history["seconds"], history["images_per_second"]))
    print(
        f"final: test accuracy {history['test_accuracy'][-1]:.2%} after {history['epoch'][-1]} epochs, "
        f"wall time {result.wall_seconds:.1f} s, {images / sum(history['seconds']):,.0f} training images/s"
    )
    return result
