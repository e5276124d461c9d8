"""A benchmark run: for every device and case, build the workloads, warm them up, time them in turns.

Per case: one workload per library (tensorlite, and torch when it is installed); WARMUP_RUNS untimed
forward+backward passes each (Numba loads or compiles its kernels, allocators and caches settle); then the
forward passes in turns, ``repeat`` times each, then the forward+backward passes likewise. Each library keeps
its fastest run (see ``timing``).
"""
from dataclasses import dataclass, field

from tqdm import tqdm

import tensorlite as tl

from .machine import describe_machine, gemm_ceiling
from .timing import CLOCKS, fastest_in_turns, why_unavailable
from .workload import Workload

DEFAULT_REPEAT, QUICK_REPEAT = 10, 2
GEMM_SIZE, QUICK_GEMM_SIZE = 2048, 256
WARMUP_RUNS = 2
MODES = ("forward", "forward_backward")


@dataclass
class Measurement:
    """The fastest seconds of ``case`` on ``device``: ``seconds[library][mode]``, mode one of MODES."""

    device: str
    case: object
    seconds: dict


@dataclass
class Report:
    """Everything one run measured, and on what."""

    machine: dict
    gemm: dict
    repeat: int
    measurements: list = field(default_factory=list)
    skipped_devices: dict = field(default_factory=dict)


def import_torch():
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def measure(case, device, libraries, repeat):
    """Warm up, then time ``case`` on ``device`` in every library of ``libraries`` {name: module}, in turns."""
    workloads = {name: Workload(library, case, device) for name, library in libraries.items()}
    for workload in workloads.values():
        for _ in range(WARMUP_RUNS):
            workload.forward_backward()
    seconds = {name: {} for name in workloads}
    for mode in MODES:
        calls = {name: getattr(workload, mode) for name, workload in workloads.items()}
        for name, best in fastest_in_turns(calls, repeat, CLOCKS[device]).items():
            seconds[name][mode] = best
    return Measurement(device, case, seconds)


def run(cases, devices=("cpu",), repeat=DEFAULT_REPEAT, gemm_size=GEMM_SIZE, progress=True):
    """Measure every case on every available device, plus the GEMM ceiling; print a line for each device
    that is not available and for a missing torch, and carry on with the rest."""
    torch = import_torch()
    if torch is None:
        print("torch is not installed: timing tensorlite alone (pip install torch for the comparison)")
    libraries = {"tensorlite": tl, **({"torch": torch} if torch else {})}
    report = Report(describe_machine(torch), gemm_ceiling(gemm_size, repeat, torch), repeat)
    for device in devices:
        reason = why_unavailable(device)
        if reason:
            print(f"{device}: not benchmarked: {reason}")
            report.skipped_devices[device] = reason
    available = [d for d in devices if d not in report.skipped_devices]
    jobs = [(device, case) for device in available for case in cases]
    bar = tqdm(jobs, desc="bench", unit="case", disable=not progress)
    for device, case in bar:
        bar.set_postfix_str(f"{device} {case.name}")
        report.measurements.append(measure(case, device, libraries, repeat))
    return report
