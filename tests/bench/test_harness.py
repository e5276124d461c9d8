"""The harness through its Python API, on tiny synthetic cases: timing in turns, devices, reports."""
import json
import math

import numpy as np
import pytest

from tensorlite.bench import BatchNorm2dCase, Conv2dCase, MaxPool2dCase, Report, format_table, run, to_json, write_chart
from tensorlite.bench.harness import Measurement
from tensorlite.bench.machine import describe_machine
from tensorlite.bench.report import aligned, three_significant
from tensorlite.bench.timing import RUNS_PER_TURN, fastest_in_turns
from tensorlite.bench.workload import Workload
from tests.helpers import torch_or_skip

TINY_CASES = [
    Conv2dCase("tiny-conv", (2, 3, 6, 6), 4, 3, padding=1, input_grad=False),
    MaxPool2dCase("tiny-pool", (2, 3, 6, 6), 2),
    BatchNorm2dCase("tiny-bn", (2, 3, 6, 6)),
]


@pytest.fixture(scope="module")
def report():
    return run(TINY_CASES, devices=["cpu", "cuda"], repeat=1, gemm_size=32, progress=False)


def test_fastest_in_turns_interleaves_and_keeps_the_minimum():
    order = []
    durations = {"a": iter([3.0, 1.0, 2.0, 7.0]), "b": iter([5.0, 6.0, 4.0, 8.0])}

    def fake_clock(fn):
        fn()
        return next(durations[order[-1]])

    calls = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    best = fastest_in_turns(calls, repeat=2, clock=fake_clock, runs_per_turn=2)
    assert order == ["a", "a", "b", "b"] * 2
    assert best == {"a": 1.0, "b": 4.0}


def test_unavailable_device_is_reported_and_the_rest_still_runs(report, capsys):
    assert [m.device for m in report.measurements] == ["cpu"] * len(TINY_CASES)
    assert "cuda" in report.skipped_devices
    run(TINY_CASES[:1], devices=["cuda"], repeat=1, gemm_size=32, progress=False)
    assert "cuda: not benchmarked" in capsys.readouterr().out


def test_json_has_every_figure(report):
    data = json.loads(json.dumps(to_json(report)))
    assert {"machine", "gemm_ceiling", "repeat", "skipped_devices", "results"} <= data.keys()
    assert {"cpu", "logical_cpus", "numpy", "numba", "numba_threads", "date"} <= data["machine"].keys()
    assert data["gemm_ceiling"]["numpy_gflops"] > 0
    conv = data["results"][0]
    assert conv["case"] == "tiny-conv" and conv["input_grad"] is False
    assert conv["forward_backward_flops"] == 2 * conv["forward_flops"]
    timings = conv["tensorlite"]
    assert timings["forward_ms"] > 0 and timings["forward_backward_ms"] > 0
    assert math.isclose(timings["forward_gflops"], conv["forward_flops"] / timings["forward_ms"] / 1e6)
    assert data["results"][1]["tensorlite"]["forward_gflops"] is None  # pooling: no FLOP count


def test_table_names_every_case(report):
    text = format_table(report)
    assert "GEMM ceiling" in text
    for case in TINY_CASES:
        assert case.name in text


def test_table_names_the_instruction_sets_forced_by_the_environment(report, monkeypatch):
    """NUMBA_CPU_NAME, OPENBLAS_CORETYPE, ATEN_CPU_CAPABILITY and ONEDNN_MAX_CPU_ISA pick each library's kernels,
    so a table measured under them says so on its machine line."""
    forced = {"NUMBA_CPU_NAME": "haswell", "OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2",
              "ONEDNN_MAX_CPU_ISA": "AVX2"}
    for name, value in forced.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(report.machine, "isa_overrides", describe_machine()["isa_overrides"])
    machine = format_table(report).splitlines()[0]
    assert ("kernels forced by NUMBA_CPU_NAME=haswell (tensorlite's Numba kernels), OPENBLAS_CORETYPE=Haswell "
            "(numpy's BLAS), ATEN_CPU_CAPABILITY=avx2 (torch's ATen kernels), ONEDNN_MAX_CPU_ISA=AVX2 (torch's "
            "oneDNN kernels)") in machine
    monkeypatch.setitem(report.machine, "isa_overrides", {})
    assert "forced" not in format_table(report)


def test_chart_is_a_png(report, tmp_path):
    pytest.importorskip("matplotlib")
    write_chart(report, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_both_libraries_get_the_same_inputs_and_grad_flags():
    torch = torch_or_skip()
    import tensorlite as tl

    for case in TINY_CASES:
        ours, theirs = Workload(tl, case, "cpu"), Workload(torch, case, "cpu")
        np.testing.assert_allclose(ours.forward().detach().numpy(), theirs.forward().detach().numpy(), atol=1e-5)
        assert [t.requires_grad for t in ours.leaves] == [t.requires_grad for t in theirs.leaves]
        assert ours.input.requires_grad == theirs.input.requires_grad == case.input_grad


def test_three_significant_digits_without_exponent():
    assert [three_significant(v) for v in (0.05123, 1.234, 12.34, 123.4, 1234.5, None)] == [
        "0.0512", "1.23", "12.3", "123", "1234", "-"
    ]


def test_aligned_table_lines_up_columns_and_fits_group_names():
    columns = [("", "case", lambda r: r[0]), ("", "shape", lambda r: r[1]), ("", "grad", lambda r: r[2]),
               ("a long group name", "ms", lambda r: r[3])]
    lines = aligned(columns, [("x", "1x1", "no", "1.5"), ("longer", "2x2", "yes", "10.25")])
    assert lines[0].rstrip().endswith("a long group name")
    assert len({len(line) for line in lines[1:]}) == 1  # headings, rule and rows all end at the same column
    assert lines[3].endswith("  1.5") and lines[4].startswith("longer")


def fake_report(with_torch):
    """A report of one measured case, as ``run`` makes it with and without torch installed."""
    machine = {**describe_machine(), "torch": "2.5.1" if with_torch else None, "torch_threads": 2 if with_torch else None}
    gemm = {"size": 32, "numpy_gflops": 50.0, **({"torch_gflops": 60.0} if with_torch else {})}
    seconds = {"tensorlite": {"forward": 2e-3, "forward_backward": 6e-3}}
    if with_torch:
        seconds["torch"] = {"forward": 1e-3, "forward_backward": 4e-3}
    return Report(machine, gemm, repeat=2, measurements=[Measurement("cpu", TINY_CASES[0], seconds)])


def test_table_without_torch_has_no_torch_columns_or_ratio_legend():
    text = format_table(fake_report(with_torch=False))
    assert "torch not installed" in text
    assert "tl/torch" not in text and "alternating" not in text and "per library" not in text
    header = text.splitlines()[text.splitlines().index("device: cpu") + 1]
    assert header.split() == ["tensorlite"]  # the one group over the numbers
    assert f"times: fastest of {2 * RUNS_PER_TURN} runs, in 2 turns of {RUNS_PER_TURN} runs; ms per call" in text
    assert "f+b: forward+backward." in text


def test_table_with_torch_has_its_columns_and_the_ratio():
    text = format_table(fake_report(with_torch=True))
    assert "tl/torch: tensorlite's time over torch's" in text and "the libraries alternating" in text
    [row] = [line for line in text.splitlines() if line.startswith("tiny-conv")]
    assert row.split()[-2:] == ["2.00", "1.50"]  # fwd 2 ms / 1 ms, f+b 6 ms / 4 ms
