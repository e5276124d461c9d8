"""``tensorlite train`` on the command line: its help, the mistakes it refuses in one line, resuming with changed
options, the checkpoints an earlier run left in --out, and a run whose loss diverges. Every run trains on the tiny
MNIST-like data set of ``conftest.tiny_mnist`` (96 training images, 3 steps of 32 an epoch)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import tensorlite as tl
from tensorlite.cli import build_parser, main
from tensorlite.train import MNISTNet, TrainConfig, TrainingError, mnist, train

REPO = Path(__file__).resolve().parents[2]


def run_train(capsys, *options):
    """``tensorlite train mnist OPTIONS``: returns (exit status, stdout, stderr)."""
    try:
        main(["train", "mnist", *map(str, options)])
        status = 0
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    if isinstance(status, str):  # sys.exit(message) prints the message to stderr and exits with status 1
        status, err = 1, err + status + "\n"
    return status, out, err


@pytest.fixture
def tiny(tiny_mnist, monkeypatch):
    """The options every run below shares: the tiny data set, batches of 32, and an --out folder of its own. The
    runs draw no pictures (tests/train/test_pictures.py tests those): drawing them took most of each run's time."""
    for picture in ("save_training_curves", "save_first_layer_kernels", "save_feature_maps"):
        monkeypatch.setattr(mnist, picture, lambda *args, **kwargs: None)
    return tiny_mnist, ["--root", tiny_mnist / "data", "--batch-size", 32, "--out", tiny_mnist / "run"]


def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out == f"tensorlite {tl.__version__}\n" == "tensorlite 0.1.0\n"


def test_train_help_gives_every_option_a_meaning_and_a_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name, default in [("epochs", 3), ("batch-size", 64), ("lr", 0.01), ("momentum", 0.5), ("device", "cpu"),
                          ("seed", 0), ("out", "runs/mnist"), ("root", "$TENSORLITE_DATA"), ("resume", "none"),
                          ("limit", "all 60,000"), ("onnx", "off")]:
        assert f"--{name}" in text and f"(default: {default}" in text, name
    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    options = [action for action in train_parser._actions if action.option_strings and action.dest != "help"]
    assert len(options) == 11 and all("(default: " in action.help for action in options)
    assert all(action.default is None for action in options)  # so that train knows which options were given


@pytest.mark.parametrize("option, message", [
    ("--epochs", "--epochs must be at least 1, got 0"),
    ("--limit", "--limit must be at least 1, got 0"),
    ("--batch-size", "--batch-size must be at least 1, got 0"),
])
def test_counts_below_one_are_refused_before_anything_is_written(tiny_mnist, capsys, option, message):
    out = tiny_mnist / "run"
    status, stdout, stderr = run_train(capsys, "--root", tiny_mnist / "data", "--out", out, option, 0)
    assert status == 1 and stderr == f"tensorlite train: {message}\n" and stdout == ""
    assert not out.exists()


@pytest.mark.parametrize("value", ["-0.1", "nan", "inf"])
def test_a_negative_or_non_finite_lr_is_refused(tiny_mnist, capsys, value):
    status, _, stderr = run_train(capsys, "--root", tiny_mnist / "data", "--lr", value)
    assert status == 1 and stderr == f"tensorlite train: --lr must be a finite number, 0 or more, got {float(value)}\n"


def test_mistakes_exit_with_one_line_and_no_traceback(tmp_path):
    """The real command, in a process of its own: what a user sees is the message, not the program's insides."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for options, message in [
        (["--epochs", "0"], "tensorlite train: --epochs must be at least 1, got 0\n"),
        (["--resume", "no/such/epoch_2.npz"], "tensorlite train: --resume no/such/epoch_2.npz: no such file\n"),
    ]:
        result = subprocess.run([sys.executable, "-m", "tensorlite", "train", "mnist", *options], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stdout, result.stderr) == (1, "", message)


def test_cuda_without_a_gpu_says_why(tiny_mnist, capsys, monkeypatch):
    monkeypatch.setattr(tl.cuda, "is_available", lambda: False)
    monkeypatch.setattr(tl.cuda, "why_unavailable", lambda: "the NVIDIA driver library libcuda.so was not found")
    status, _, stderr = run_train(capsys, "--root", tiny_mnist / "data", "--device", "cuda")
    assert status == 1 and stderr == (
        "tensorlite train: --device cuda: CUDA is not usable here: the NVIDIA driver library libcuda.so was not "
        "found; or train with --device cpu\n"
    )


def test_an_unknown_device_is_refused(tiny_mnist, capsys):
    status, _, stderr = run_train(capsys, "--root", tiny_mnist / "data", "--device", "gpu")
    assert status == 1 and stderr.startswith("tensorlite train: --device gpu: Expected one of cpu, cuda device type")


def test_an_out_that_cannot_be_written_is_refused(tiny_mnist, capsys):
    taken = tiny_mnist / "taken"
    taken.write_text("a file, not a folder")
    status, _, stderr = run_train(capsys, "--root", tiny_mnist / "data", "--out", taken)
    assert status == 1 and stderr == f"tensorlite train: --out {taken} is a file, not a folder\n"
    status, _, stderr = run_train(capsys, "--root", tiny_mnist / "data", "--out", taken / "run")
    assert status == 1 and stderr == f"tensorlite train: --out {taken / 'run'} cannot be written to (Not a directory)\n"


def test_data_that_cannot_be_had_prints_the_data_sets_message(tiny_mnist, capsys):
    empty = tiny_mnist / "empty"
    status, _, stderr = run_train(capsys, "--root", empty, "--out", tiny_mnist / "run")
    assert status == 1 and stderr.startswith(f"tensorlite train: Dataset not found in {empty / 'MNIST' / 'raw'}.")
    assert "To place the files by hand" in stderr


def test_a_data_folder_that_cannot_be_written_is_named(tiny_mnist, capsys, monkeypatch):
    def unwritable(root, limit):
        raise PermissionError(13, "Permission denied", f"{root}/MNIST")

    monkeypatch.setattr(mnist, "mnist_datasets", unwritable)
    status, _, stderr = run_train(capsys, "--root", "/data", "--out", tiny_mnist / "run")
    assert status == 1 and stderr == "tensorlite train: --root /data: [Errno 13] Permission denied: '/data/MNIST'\n"


def test_resume_from_a_missing_or_foreign_file_is_refused(tiny_mnist, capsys):
    data = ["--root", tiny_mnist / "data"]
    missing = tiny_mnist / "epoch_9.npz"
    assert run_train(capsys, *data, "--resume", missing)[::2] == (
        1, f"tensorlite train: --resume {missing}: no such file\n")
    text = tiny_mnist / "notes.npz"
    text.write_text("not a checkpoint")
    status, _, stderr = run_train(capsys, *data, "--resume", text)
    assert status == 1 and stderr.startswith(f"tensorlite train: --resume: '{text}' is not a tensorlite checkpoint: ")
    weights = tiny_mnist / "weights.npz"
    tl.save(MNISTNet().state_dict(), weights)  # a tensorlite file, but only a model's weights
    status, _, stderr = run_train(capsys, *data, "--resume", weights)
    assert status == 1 and stderr.startswith(
        f"tensorlite train: --resume {weights} is not a checkpoint of tensorlite train: it lacks model, optimizer, ")


def test_resume_from_a_finished_run_says_there_is_nothing_left(tiny, capsys):
    tmp, shared = tiny
    assert run_train(capsys, *shared, "--epochs", 2)[0] == 0
    checkpoint = tmp / "run" / "epoch_2.npz"
    status, stdout, stderr = run_train(capsys, "--root", tmp / "data", "--resume", checkpoint)
    assert status == 1 and stdout == "" and stderr == (
        "tensorlite train: epoch_2.npz already finished epoch 2 of 2: nothing left to train; "
        "pass --epochs N with N > 2 to train on\n"
    )
    status, _, stderr = run_train(capsys, "--root", tmp / "data", "--resume", checkpoint, "--epochs", 1)
    assert status == 1 and "already finished epoch 2, past --epochs 1: nothing left to train" in stderr


def test_resume_takes_the_left_out_options_from_the_checkpoint(tiny, capsys):
    """Batch size, seed and --out come from the checkpoint, so the resumed run ends as an uninterrupted one."""
    tmp, shared = tiny
    straight = train(TrainConfig(epochs=2, batch_size=32, seed=3, root=str(tmp / "data"), out=str(tmp / "straight")))
    assert run_train(capsys, *shared, "--seed", 3, "--epochs", 1)[0] == 0
    status, stdout, _ = run_train(capsys, "--root", tmp / "data", "--resume", tmp / "run" / "epoch_1.npz", "--epochs", 2)
    assert status == 0 and "resumed with" not in stdout
    resumed = tl.load(tmp / "run" / "epoch_2.npz")  # written next to the checkpoint it resumed
    assert resumed["config"]["batch_size"] == 32 and resumed["config"]["seed"] == 3
    for key, value in straight.model.state_dict().items():
        assert (resumed["model"][key].numpy() == value.numpy()).all(), key


def test_lr_and_momentum_given_on_resume_replace_the_checkpoints(tiny, capsys):
    tmp, shared = tiny
    assert run_train(capsys, *shared, "--epochs", 1)[0] == 0
    status, stdout, _ = run_train(capsys, "--root", tmp / "data", "--resume", tmp / "run" / "epoch_1.npz",
                                  "--epochs", 2, "--lr", 0.5, "--momentum", 0.9)
    assert status == 0
    assert "resumed with lr 0.5 (checkpoint: 0.01)\nresumed with momentum 0.9 (checkpoint: 0.5)\n" in stdout
    checkpoint = tl.load(tmp / "run" / "epoch_2.npz")
    [group] = checkpoint["optimizer"]["param_groups"]
    assert (group["lr"], group["momentum"]) == (0.5, 0.9)
    assert (checkpoint["config"]["lr"], checkpoint["config"]["momentum"]) == (0.5, 0.9)


def test_the_lr_given_on_resume_is_the_one_that_trains(tiny, capsys):
    """Epoch 2 resumed with --lr 0.5 ends with the weights of a run whose optimiser had lr 0.5 in epoch 2."""
    tmp, shared = tiny
    assert run_train(capsys, *shared, "--epochs", 1)[0] == 0
    assert run_train(capsys, "--root", tmp / "data", "--resume", tmp / "run" / "epoch_1.npz", "--epochs", 2,
                     "--lr", 0.5)[0] == 0
    resumed = tl.load(tmp / "run" / "epoch_2.npz")["model"]
    kept = train(TrainConfig(epochs=2, batch_size=32, root=str(tmp / "data"), resume=str(tmp / "run" / "epoch_1.npz"),
                             out=str(tmp / "kept")))
    assert any((resumed[key].numpy() != value.numpy()).any() for key, value in kept.model.state_dict().items())
    assert tl.load(tmp / "kept" / "epoch_2.npz")["optimizer"]["param_groups"][0]["lr"] == 0.01


@pytest.mark.parametrize("option, value, was", [("--batch-size", 16, "--batch-size 32"), ("--seed", 7, "--seed 0"),
                                               ("--limit", 64, "no --limit")])
def test_resume_refuses_options_that_change_the_order_of_the_batches(tiny, capsys, option, value, was):
    tmp, shared = tiny
    assert run_train(capsys, *shared, "--epochs", 1)[0] == 0
    status, _, stderr = run_train(capsys, "--root", tmp / "data", "--resume", tmp / "run" / "epoch_1.npz",
                                  "--epochs", 2, option, value)
    assert status == 1 and stderr == (
        f"tensorlite train: epoch_1.npz was trained with {was}, not {option} {value}: a resumed run keeps its "
        "checkpoint's batch size, seed and limit, which fix the order of the batches it continues; "
        f"leave {option} out, or start a fresh run without --resume\n"
    )
    assert not (tmp / "run" / "epoch_2.npz").exists()


def test_a_fresh_run_removes_the_checkpoints_an_earlier_run_left(tiny, capsys):
    tmp, shared = tiny
    out = tmp / "run"
    out.mkdir()
    for name in ("epoch_2.npz", "epoch_10.npz", "notes.txt", "epoch_2.npz.bak"):
        (out / name).write_text("from an earlier run")
    status, stdout, _ = run_train(capsys, *shared, "--epochs", 1)
    assert status == 0 and f"removed an earlier run's epoch_2.npz, epoch_10.npz from {out}\n" in stdout
    assert sorted(p.name for p in out.glob("epoch_*")) == ["epoch_1.npz", "epoch_2.npz.bak"]
    assert tl.load(out / "epoch_1.npz")["epoch"] == 1 and (out / "notes.txt").exists()


def test_a_resumed_run_removes_only_the_checkpoints_past_its_own(tiny, capsys):
    tmp, shared = tiny
    out = tmp / "run"
    assert run_train(capsys, *shared, "--epochs", 1)[0] == 0
    (out / "epoch_3.npz").write_text("from a run that went further")
    status, stdout, _ = run_train(capsys, "--root", tmp / "data", "--resume", out / "epoch_1.npz", "--epochs", 2)
    assert status == 0 and f"removed an earlier run's epoch_3.npz from {out}\n" in stdout
    assert sorted(p.name for p in out.glob("epoch_*.npz")) == ["epoch_1.npz", "epoch_2.npz"]


# NumPy's warnings on the way to a nan loss: expected where a test makes the weights explode.
exploding_weights = pytest.mark.filterwarnings("ignore:(overflow|invalid value) encountered:RuntimeWarning")


@exploding_weights
def test_a_diverging_loss_stops_the_run_without_a_checkpoint(tiny, capsys):
    tmp, shared = tiny
    status, stdout, stderr = run_train(capsys, *shared, "--lr", 1e20)
    assert status == 1 and stderr.endswith(
        "tensorlite train: loss became nan at epoch 1, step 2 (lr 1e+20): training stopped; try a smaller --lr\n")
    assert "Traceback" not in stderr and "final:" not in stdout
    assert list((tmp / "run").glob("epoch_*.npz")) == []


@exploding_weights
def test_train_raises_training_error_for_python_callers(tiny_mnist):
    with pytest.raises(TrainingError, match="--epochs must be at least 1, got 0"):
        train(TrainConfig(epochs=0, root=str(tiny_mnist / "data"), out=str(tiny_mnist / "run")))
    with pytest.raises(TrainingError, match="loss became nan at epoch 1, step 2"):
        train(TrainConfig(lr=1e20, batch_size=32, root=str(tiny_mnist / "data"), out=str(tiny_mnist / "run")))


def test_onnx_writes_the_trained_model_next_to_the_checkpoints(tiny, capsys):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    root, options = tiny
    status, out, _ = run_train(capsys, *options, "--epochs", 1, "--onnx")
    path = root / "run" / "model.onnx"
    assert status == 0 and f"onnx: {path}" in out and (root / "run" / "epoch_1.npz").exists()
    onnx.checker.check_model(str(path), full_check=True)
    model = MNISTNet()
    model.load_state_dict(tl.load(root / "run" / "epoch_1.npz")["model"])
    model.eval()
    images = tl.randn(3, 1, 28, 28)
    with tl.no_grad():
        want = model(images).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = session.run(["scores"], {"images": images.numpy()})
    assert abs(got - want).max() < 1e-4
