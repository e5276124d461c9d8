"""``tensorlite bench`` on the command line: its options parse, and a quick run of one small case goes end to end."""
import json

import pytest

from tensorlite.cli import build_parser, main


def test_bench_options_parse():
    args = build_parser().parse_args(
        ["bench", "--cases", "mnist,depthwise", "--device", "cpu,cuda", "--repeat", "3", "--json", "out.json"]
    )
    assert args.cases == ["mnist", "depthwise"] and args.device == ["cpu", "cuda"]
    assert args.repeat == 3 and args.json == "out.json" and not args.quick
    defaults = build_parser().parse_args(["bench"])
    assert defaults.cases == [] and defaults.device == ["cpu"] and defaults.repeat is None
    assert defaults.png == "runs/bench/bench.png" and defaults.json is None


def test_quick_run_writes_table_and_json(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(["bench", "--quick", "--cases", "mnist-pool2", "--device", "cpu,cuda", "--json", "out.json", "--png", ""])
    out = capsys.readouterr().out
    assert "cuda: not benchmarked" in out and "mnist-pool2" in out
    data = json.loads((tmp_path / "out.json").read_text())
    assert {"machine", "gemm_ceiling", "repeat", "skipped_devices", "results"} <= data.keys()
    assert data["repeat"] == 2
    [row] = data["results"]
    assert row["case"] == "mnist-pool2" and row["device"] == "cpu" and row["input_shape"] == [64, 20, 8, 8]
    figures = {"forward_ms", "forward_backward_ms", "forward_gflops", "forward_backward_gflops"}
    assert figures <= row["tensorlite"].keys()
    assert (row["torch"] is None) == (data["machine"]["torch"] is None)
    assert not (tmp_path / "runs").exists()  # --png '' draws no chart


def test_unknown_case_exits_with_the_available_names():
    with pytest.raises(SystemExit, match="mnist-conv1"):
        main(["bench", "--cases", "no-such-case"])


def test_repeat_must_be_positive():
    with pytest.raises(SystemExit, match="at least 1"):
        main(["bench", "--repeat", "0", "--cases", "mnist-pool2"])
