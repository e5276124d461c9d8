"""Reading a Report: the derived figures, as a plain-text table, as JSON and as a PNG bar chart.

    ms       = fastest seconds * 1000
    GFLOP/s  = FLOPs of the pass (counted in ``cases``) / fastest seconds / 1e9      (convolutions only)
    ratio    = tensorlite's fastest seconds / torch's fastest seconds               (above 1: tensorlite slower)
"""
import json
import math
from pathlib import Path

from ..utils.viz import new_figure, save_figure
from .machine import machine_line
from .timing import RUNS_PER_TURN

LEGEND = "f+b: forward+backward. GFLOP/s: convolutions only, FLOPs counted as in tensorlite/bench/cases.py."
RATIO_LEGEND = "tl/torch: tensorlite's time over torch's (above 1: tensorlite is slower)."


def result_row(measurement):
    """One measurement as a JSON-ready dict: the case, its FLOPs, each library's ms and GFLOP/s, and the ratio."""
    case, seconds = measurement.case, measurement.seconds
    flops = {"forward": case.forward_flops(), "forward_backward": case.forward_backward_flops()}
    row = {
        "device": measurement.device,
        "case": case.name,
        "op": case.op,
        "shape": case.describe(),
        "input_shape": list(case.input_shape),
        "input_grad": case.input_grad,
        "forward_flops": flops["forward"],
        "forward_backward_flops": flops["forward_backward"],
        "tensorlite": None,
        "torch": None,
        "tensorlite_over_torch": None,
    }
    for library, times in seconds.items():
        row[library] = {}
        for mode, s in times.items():
            row[library][f"{mode}_ms"] = s * 1e3
            row[library][f"{mode}_gflops"] = flops[mode] / s / 1e9 if flops[mode] else None
    if "torch" in seconds:
        row["tensorlite_over_torch"] = {mode: s / seconds["torch"][mode] for mode, s in seconds["tensorlite"].items()}
    return row


def to_json(report):
    """The whole report as a JSON-ready dict: machine, GEMM ceiling, settings and one row per measurement."""
    return {
        "machine": report.machine,
        "gemm_ceiling": report.gemm,
        "repeat": report.repeat,
        "runs_per_turn": RUNS_PER_TURN,
        "statistic": "fastest of repeat * runs_per_turn runs; tensorlite and torch take turns of runs_per_turn runs",
        "skipped_devices": report.skipped_devices,
        "results": [result_row(m) for m in report.measurements],
    }


def write_json(report, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(report), indent=2) + "\n")


# --------------------------------------------------------------------- the table
def three_significant(value):
    """``value`` with three significant digits and no exponent (0.0512, 1.23, 12.3, 123, 1234); None is '-'."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.{max(0, 2 - math.floor(math.log10(abs(value))))}f}"


def _columns(with_torch):
    """(group, heading, cell) for each column; ``cell`` maps a result row to its text."""
    def number(library, key):
        return lambda row: three_significant(row[library][key])

    columns = [
        ("", "case", lambda row: row["case"]),
        ("", "shape", lambda row: row["shape"]),
        ("", "input grad", lambda row: "yes" if row["input_grad"] else "no"),
        ("tensorlite", "fwd ms", number("tensorlite", "forward_ms")),
        ("tensorlite", "f+b ms", number("tensorlite", "forward_backward_ms")),
        ("tensorlite", "fwd GFLOP/s", number("tensorlite", "forward_gflops")),
        ("tensorlite", "f+b GFLOP/s", number("tensorlite", "forward_backward_gflops")),
    ]
    if with_torch:
        columns += [
            ("torch", "fwd ms", number("torch", "forward_ms")),
            ("torch", "f+b ms", number("torch", "forward_backward_ms")),
            ("torch", "f+b GFLOP/s", number("torch", "forward_backward_gflops")),
            ("tl/torch", "fwd", number("tensorlite_over_torch", "forward")),
            ("tl/torch", "f+b", number("tensorlite_over_torch", "forward_backward")),
        ]
    return columns


def aligned(columns, rows, text_columns=3, gap=2):
    """Lines of a plain-text table: a line of group names over their columns, the headings, a rule, the rows.
    The first ``text_columns`` columns are left-aligned, the rest (numbers) right-aligned."""
    cells = [[cell(row) for _, _, cell in columns] for row in rows]
    widths = [max([len(heading)] + [len(line[i]) for line in cells]) for i, (_, heading, _) in enumerate(columns)]
    groups = []  # [name, first column, last column]
    for i, (group, _, _) in enumerate(columns):
        if groups and groups[-1][0] == group:
            groups[-1][2] = i
        else:
            groups.append([group, i, i])

    def span(first, last):
        return sum(widths[first:last + 1]) + gap * (last - first)

    for name, first, last in groups:  # widen a group's last column until its name fits over the group
        widths[last] += max(0, len(name) - span(first, last))

    def line(texts):
        padded = [t.ljust(w) if i < text_columns else t.rjust(w) for i, (t, w) in enumerate(zip(texts, widths))]
        return (" " * gap).join(padded).rstrip()

    group_line = (" " * gap).join(name.center(span(first, last)) for name, first, last in groups)
    headings = line([heading for _, heading, _ in columns])
    return [group_line.rstrip(), headings, "-" * len(headings)] + [line(texts) for texts in cells]


def format_table(report):
    """The report as text: the machine, the GEMM ceiling, one table per device, the legend."""
    m, gemm = report.machine, report.gemm
    torch = f", torch {m['torch']} ({m['torch_threads']} threads)" if m["torch"] else ", torch not installed"
    ceiling = ", ".join(f"{key.removesuffix('_gflops')} {three_significant(value)} GFLOP/s"
                        for key, value in gemm.items() if key.endswith("_gflops"))
    rows = [result_row(measurement) for measurement in report.measurements]
    with_torch = any(row["torch"] is not None for row in rows)
    runs = report.repeat * RUNS_PER_TURN
    if with_torch:
        times = (f"times: fastest of {runs} runs per library, in {report.repeat} turns of {RUNS_PER_TURN} runs, "
                 f"the libraries alternating; ms per call")
    else:
        times = f"times: fastest of {runs} runs, in {report.repeat} turns of {RUNS_PER_TURN} runs; ms per call"
    lines = [
        f"machine: {machine_line(m)}; {m['date']}",
        f"versions: tensorlite {m['tensorlite']}, numpy {m['numpy']}, numba {m['numba']} "
        f"({m['numba_threads']} threads){torch}",
        f"GEMM ceiling (float32 {gemm['size']}x{gemm['size']} matmul): {ceiling}",
        times,
    ]
    for device in dict.fromkeys(row["device"] for row in rows):
        device_rows = [row for row in rows if row["device"] == device]
        lines += ["", f"device: {device}"] + aligned(_columns(device_rows[0]["torch"] is not None), device_rows)
    legend = [LEGEND, RATIO_LEGEND] if with_torch else [LEGEND]
    return "\n".join(lines + [""] + legend)


# --------------------------------------------------------------------- the chart
def write_chart(report, path):
    """A horizontal bar chart of forward+backward ms per case, tensorlite beside torch, one panel per device,
    on a log axis when the times span more than a factor of 30. Without matplotlib (the ``viz`` extra) it says
    so and writes nothing."""
    rows = [result_row(measurement) for measurement in report.measurements]
    devices = list(dict.fromkeys(row["device"] for row in rows))
    libraries = [lib for lib in ("tensorlite", "torch") if rows and rows[0][lib] is not None]
    n_cases = len(rows) // max(1, len(devices))
    figure = new_figure(figsize=(7, 1.2 + 0.32 * n_cases * len(devices)), layout="constrained")
    if figure is None:
        return
    for panel, device in enumerate(devices, start=1):
        axes = figure.add_subplot(len(devices), 1, panel)
        device_rows = [row for row in rows if row["device"] == device]
        height = 0.8 / len(libraries)
        for k, library in enumerate(libraries):
            times = [row[library]["forward_backward_ms"] for row in device_rows]
            positions = [i + (k - (len(libraries) - 1) / 2) * height for i in range(len(device_rows))]
            axes.barh(positions, times, height=height, label=library)
        every_time = [row[lib]["forward_backward_ms"] for row in device_rows for lib in libraries]
        if max(every_time) / min(every_time) > 30:
            axes.set_xscale("log")
        axes.set_yticks(range(len(device_rows)), [row["case"] for row in device_rows], fontsize=8)
        axes.invert_yaxis()
        runs = report.repeat * RUNS_PER_TURN
        axes.set_xlabel(f"forward+backward, ms (fastest of {runs}; lower is better)", fontsize=8)
        axes.set_title(f"{device}: {report.machine['cpu']}", fontsize=9)
        axes.legend(fontsize=8)
    save_figure(figure, path, "chart")
