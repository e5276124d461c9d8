"""``tensorlite bench --recipe mnist``'s side-by-side table, on made-up histories (the runs themselves take minutes),
and where the two runs leave what they write."""
import json
from pathlib import Path

import tensorlite as tl
from tensorlite.bench import training
from tensorlite.bench.training import format_comparison


def test_comparison_has_a_row_per_epoch_with_the_time_ratio_and_the_memory():
    result = {
        "epochs": 2,
        "tensorlite": {"test_accuracy": [0.9, 0.95], "seconds": [10.0, 8.0], "peak_rss_mb": 291.4},
        "torch": {"test_accuracy": [0.91, 0.96], "seconds": [5.0, 10.0], "peak_rss_mb": 1206.0},
    }
    header, first, second, memory = format_comparison(result).splitlines()
    assert header.split("  ") == ["epoch", "tensorlite acc", "tensorlite s", "torch acc", "torch s", "tl/torch s"]
    assert first.split() == ["1", "90.00%", "10.0", "91.00%", "5.0", "2.00"]
    assert second.split() == ["2", "95.00%", "8.0", "96.00%", "10.0", "0.80"]
    assert memory == "peak resident memory: tensorlite 291 MB, torch 1,206 MB"


def test_recipe_keeps_its_outputs_in_a_real_folder(tmp_path, monkeypatch, capsys):
    """The tensorlite child prints where its checkpoints and pictures are; those paths must outlive the run."""
    commands = []

    def fake_run(command, env=None):  # what the two children would write, without minutes of training
        commands.append(command)
        if command[1:3] == ["-m", "tensorlite"]:
            out = Path(command[command.index("--out") + 1])
            out.mkdir(parents=True)
            tl.save({"history": {"test_accuracy": [0.97], "seconds": [9.0]}}, out / "epoch_1.npz")
        else:
            Path(command[-1]).write_text(json.dumps({"test_accuracy": [0.96], "seconds": [6.0]}))
        return 100.0

    monkeypatch.setattr(training, "run_measured", fake_run)
    result = training.compare_mnist(epochs=1, out=tmp_path / "recipe")
    tl_command, torch_command = commands
    assert tl_command[tl_command.index("--out") + 1] == str(tmp_path / "recipe" / "tensorlite")
    assert torch_command[-1] == str(tmp_path / "recipe" / "torch.json")
    assert (tmp_path / "recipe" / "tensorlite" / "epoch_1.npz").exists() and (tmp_path / "recipe" / "torch.json").exists()
    assert result["out"] == str(tmp_path / "recipe")
    assert result["tensorlite"]["test_accuracy"] == [0.97] and result["torch"]["seconds"] == [6.0]
    assert f"checkpoints and pictures in {tmp_path / 'recipe' / 'tensorlite'}/" in capsys.readouterr().out

