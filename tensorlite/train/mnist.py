"""The MNIST lesson: train the classic small CNN with the classic recipe, through tensorlite's own DataLoader.

Network: conv(1→10, k5) → max-pool 2 → relu → conv(10→20, k5) → max-pool 2 → relu → linear(320→10).
Recipe: images normalised with mean 0.1307 / std 0.3081, batch 64, SGD lr 0.01 momentum 0.5, cross-entropy.
Every epoch: a progress bar with the running loss and images/s, the test accuracy, and a checkpoint
(``epoch_N.npz``: model, optimiser, shuffle-generator state, history) that ``resume`` continues from exactly.
A run that cannot start or cannot go on (a bad option or checkpoint, missing data, a diverging loss) raises
``TrainingError``, which ``tensorlite train`` prints as one line.
"""
import json
import math
import re
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from tqdm import tqdm

from .. import cuda, nn, optim
from ..autograd.grad_mode import no_grad
from ..data import DataLoader, Subset, transforms
from ..data.datasets import MNIST
from ..device import device
from ..nn import functional as F
from ..onnx import export as export_onnx
from ..ops.shape import stack
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


class TrainingError(Exception):
    """A run that cannot start or cannot go on, for a reason its message explains: an option out of range, a
    checkpoint that is missing or is not one of ``train``'s, data that cannot be had, an ``--out`` that cannot be
    written, a loss that diverged. ``tensorlite train`` prints the message and exits with status 1, without a
    traceback: the program is fine, the run needs something else from the person who started it. The messages
    name the command-line options, which are the fields of ``TrainConfig`` spelled ``--batch-size`` for
    ``batch_size``."""


@dataclass
class TrainConfig:
    """The settings of a run; each field is an option of ``tensorlite train mnist``."""

    epochs: int = 3  # train until this epoch (a resumed run starts after its checkpoint's epoch)
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.5
    device: str = "cpu"
    seed: int = 0  # seeds the initial weights and the shuffle order
    out: str = "runs/mnist"  # the checkpoints epoch_N.npz and the pictures
    root: str = None  # the data folder; None: $TENSORLITE_DATA or ~/.cache/tensorlite
    resume: str = None  # an epoch_N.npz checkpoint to continue from
    limit: int = None  # train on the first ``limit`` images only (quick demos)


# A resumed run takes the options left out from its checkpoint (see ``train``). Those in KEPT_ON_RESUME fix the order
# of the batches that it reproduces, so another value is refused; those in APPLIED_ON_RESUME, when given, replace the
# restored optimiser's.
KEPT_ON_RESUME = ("batch_size", "seed", "limit")
APPLIED_ON_RESUME = ("lr", "momentum")
CHECKPOINT_KEYS = ("model", "optimizer", "shuffle_state", "history", "epoch", "config")
CHECKPOINT_NAME = re.compile(r"epoch_(\d+)\.npz")


def option(field):
    """The command-line spelling of a ``TrainConfig`` field: ``batch_size`` → ``--batch-size``."""
    return "--" + field.replace("_", "-")


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
    images/s as it goes. A loss that is not finite (nan or inf: the weights diverged) raises ``TrainingError``."""
    running, seen, start = 0.0, 0, time.perf_counter()
    losses = []
    with tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=True) as bar:
        for step, (images, labels) in enumerate(bar, 1):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images.to(device)), labels.to(device))
            loss.backward()
            optimizer.step()
            value = loss.item()
            if not math.isfinite(value):
                raise TrainingError(
                    f"loss became {value} at epoch {epoch}, step {step} (lr {optimizer.param_groups[0]['lr']:g}): "
                    "training stopped; try a smaller --lr"
                )
            losses.append(value)
            running = 0.98 * running + 0.02 * value if step > 1 else value
            seen += labels.shape[0]
            if step % 20 == 0:
                bar.set_postfix(loss=f"{running:.4f}", img_per_s=f"{seen / (time.perf_counter() - start):,.0f}")
    return losses, seen / (time.perf_counter() - start)


def train(config, explicit=None):
    """Train ``MNISTNet`` per ``config``; returns a ``TrainResult``: the model, the history (per-epoch accuracy, seconds,
    images/s, and every step's loss), the wall time, the test set and the config the run used.

    With ``config.resume`` the run continues the checkpoint's. ``explicit`` names the fields of ``config`` that were
    chosen (the options given on the command line); the others are taken from the checkpoint: epochs, batch size,
    seed, limit, lr and momentum from its config, ``out`` is the checkpoint's folder. A chosen lr or momentum replaces
    the restored optimiser's; a chosen batch size, seed or limit must equal the checkpoint's. ``explicit=None`` counts
    every field as chosen. Checkpoints of an earlier run in ``out`` that this run does not continue are removed.

    Anything that keeps the run from starting or going on raises ``TrainingError``; no checkpoint is written for an
    epoch whose loss diverged.
    """
    check_options(config)
    checkpoint = None
    if config.resume:
        checkpoint = read_checkpoint(config.resume, config.device)
        config = resumed_config(config, checkpoint, explicit)
    out = writable_folder(config.out)
    manual_seed(config.seed)
    train_set, test_set = datasets_of(config)
    shuffle = Generator().manual_seed(config.seed)
    train_loader = DataLoader(train_set, batch_size=config.batch_size, shuffle=True, generator=shuffle)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = MNISTNet().to(config.device)
    initial_conv1 = model.conv1.weight.detach().cpu().numpy().copy()  # the seed's start, for the kernels picture
    optimizer = optim.SGD(model.parameters(), lr=config.lr, momentum=config.momentum)
    history = {"epoch": [], "test_accuracy": [], "seconds": [], "images_per_second": [], "step_loss": []}
    done = 0
    if checkpoint is not None:
        history = restore(checkpoint, config, model, optimizer, shuffle)
        done = checkpoint["epoch"]
    remove_stale_checkpoints(out, config, done)
    print(f"training {type(model).__name__} on {len(train_set):,} images, testing on {len(test_set):,}, device {config.device}")
    wall_start = time.perf_counter()
    for epoch in range(done + 1, config.epochs + 1):
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
    return TrainResult(model, history, time.perf_counter() - wall_start, test_set, config, initial_conv1)


def check_options(config):
    """Refuse counts below 1, a negative or non-finite lr or momentum, and a device this machine does not have."""
    for field in ("epochs", "batch_size", "limit"):
        value = getattr(config, field)
        if value is not None and value < 1:
            raise TrainingError(f"{option(field)} must be at least 1, got {value}")
    for field in ("lr", "momentum"):
        value = getattr(config, field)
        if not (math.isfinite(value) and value >= 0):
            raise TrainingError(f"{option(field)} must be a finite number, 0 or more, got {value}")
    try:
        where = device(config.device)
    except RuntimeError as err:
        raise TrainingError(f"--device {config.device}: {err}") from err
    if where.type == "cuda" and not cuda.is_available():
        raise TrainingError(f"--device {config.device}: CUDA is not usable here: {cuda.why_unavailable()}; "
                            "or train with --device cpu")
    if where.type == "cuda" and (where.index or 0) >= cuda.device_count():
        raise TrainingError(f"--device {config.device}: this machine has {cuda.device_count()} CUDA device(s)")


def read_checkpoint(path, map_location):
    """The dict that ``train`` saved in ``path``, its tensors on ``map_location``."""
    try:
        checkpoint = load(path, map_location=map_location)
    except FileNotFoundError as err:
        raise TrainingError(f"--resume {path}: no such file") from err
    except OSError as err:
        raise TrainingError(f"--resume {path}: cannot read it ({err.strerror})") from err
    except RuntimeError as err:  # tl.load's "'path' is not a tensorlite checkpoint: <why>"
        raise TrainingError(f"--resume: {err}") from err
    missing = [key for key in CHECKPOINT_KEYS if not isinstance(checkpoint, dict) or key not in checkpoint]
    if missing:
        raise TrainingError(
            f"--resume {path} is not a checkpoint of tensorlite train: it lacks {', '.join(missing)} "
            "(a training checkpoint is an epoch_N.npz that a run wrote to its --out folder)"
        )
    return checkpoint


def resumed_config(config, checkpoint, explicit):
    """``config`` completed from the checkpoint it resumes (see ``train``), after checking there is an epoch left."""
    saved, done, name = checkpoint["config"], checkpoint["epoch"], Path(config.resume).name
    chosen = set(TrainConfig.__dataclass_fields__ if explicit is None else explicit)
    taken = {field: saved[field] for field in ("epochs", *KEPT_ON_RESUME, *APPLIED_ON_RESUME) if field not in chosen}
    if "out" not in chosen:
        taken["out"] = str(Path(config.resume).parent)
    config = replace(config, **taken)
    for field in KEPT_ON_RESUME:
        if getattr(config, field) != saved[field]:
            raise TrainingError(
                f"{name} was trained with {_shown(field, saved[field])}, not {_shown(field, getattr(config, field))}: "
                "a resumed run keeps its checkpoint's batch size, seed and limit, which fix the order of the batches "
                f"it continues; leave {option(field)} out, or start a fresh run without --resume"
            )
    if done >= config.epochs:
        finished = f"epoch {done} of {config.epochs}" if done == config.epochs else f"epoch {done}, past --epochs {config.epochs}"
        raise TrainingError(
            f"{name} already finished {finished}: nothing left to train; "
            f"pass --epochs N with N > {done} to train on"
        )
    return config


def _shown(field, value):
    """``--batch-size 64``, or ``no --limit`` for an option left out."""
    return f"no {option(field)}" if value is None else f"{option(field)} {value}"


def restore(checkpoint, config, model, optimizer, shuffle):
    """Load the checkpoint's model, optimiser and shuffle state; put ``config``'s lr and momentum into the optimiser,
    saying which differ from the checkpoint's. Returns the checkpoint's history."""
    try:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        shuffle.set_state(json.loads(checkpoint["shuffle_state"]))
    except (RuntimeError, ValueError, KeyError, TypeError) as err:
        raise TrainingError(f"--resume {config.resume} does not fit {type(model).__name__}: {err}") from err
    print(f"resumed from {config.resume} after epoch {checkpoint['epoch']}")
    for field in APPLIED_ON_RESUME:
        saved = checkpoint["optimizer"]["param_groups"][0][field]
        for group in optimizer.param_groups:
            group[field] = getattr(config, field)
        if getattr(config, field) != saved:
            print(f"resumed with {field} {getattr(config, field):g} (checkpoint: {saved:g})")
    return checkpoint["history"]


def writable_folder(path):
    """``path`` as a folder that exists and takes new files."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise TrainingError(f"--out {out} is a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=out).close()
    except OSError as err:
        raise TrainingError(f"--out {out} cannot be written to ({err.strerror})") from err
    return out


def datasets_of(config):
    """``mnist_datasets`` for ``config``, with a missing or unobtainable data set said in a ``TrainingError``."""
    try:
        return mnist_datasets(config.root, config.limit)
    except RuntimeError as err:  # the data set's own message: what was tried, and how to place the files by hand
        raise TrainingError(str(err)) from err
    except OSError as err:
        raise TrainingError(f"--root {config.root}: {err}") from err


def remove_stale_checkpoints(out, config, done):
    """Delete the ``epoch_N.npz`` in ``out`` that this run does not continue: all of them for a fresh run; for a
    resumed one, those past its checkpoint's epoch ``done`` in the checkpoint's own folder, all of them elsewhere.
    Left in place, an earlier run's checkpoints would look like this run's."""
    continued = config.resume is not None and out.resolve() == Path(config.resume).resolve().parent
    stale = sorted(
        (int(match[1]), path)
        for path in out.iterdir()
        if (match := CHECKPOINT_NAME.fullmatch(path.name)) and not (continued and int(match[1]) <= done)
    )
    for _, path in stale:
        path.unlink()
    if stale:
        print(f"removed an earlier run's {', '.join(path.name for _, path in stale)} from {out}")


@dataclass
class TrainResult:
    model: MNISTNet
    history: dict
    wall_seconds: float
    test_set: object
    config: TrainConfig
    initial_conv1: object = None  # conv1's weights at initialisation (NumPy), drawn beside the learned ones


def train_and_report(config, explicit=None, onnx=False):
    """``train``, then the pictures (curves, kernels, feature maps of the first test digit), with ``onnx`` the
    trained model as ``model.onnx`` (``tl.onnx.export``), and a final line."""
    result = train(config, explicit)
    config, out = result.config, Path(result.config.out)
    save_training_curves(result.history, out / "curves.png")
    save_first_layer_kernels(result.model, out / "kernels.png", initial=result.initial_conv1)
    save_feature_maps(result.model, result.test_set[0][0].to(config.device), out / "feature_maps.png")
    if onnx:
        example = stack([result.test_set[i][0] for i in range(2)]).to(config.device)
        export_onnx(result.model, example, out / "model.onnx", input_names=["images"], output_names=["scores"])
        print(f"onnx: {out / 'model.onnx'}")
    history, epochs = result.history, result.history["epoch"][-1]
    images = sum(s * r for s, r in zip(history["seconds"], history["images_per_second"]))
    print(
        f"final: test accuracy {history['test_accuracy'][-1]:.2%} after {epochs} epoch{'s' if epochs > 1 else ''}, "
        f"wall time {result.wall_seconds:.1f} s, {images / sum(history['seconds']):,.0f} training images/s"
    )
    return result
