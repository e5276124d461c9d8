"""``tensorlite bench --recipe mnist --loop`` and ``--threads``: the loop programs run in either library, the table
reads right, and the measured thread count is the fastest one (timed runs take minutes: faked here)."""
import subprocess
import sys

import pytest

from tensorlite.bench import loops
from tensorlite.cli import main
from tensorlite.threads import stored_blas_threads


@pytest.mark.parametrize("style", loops.LOOP_STYLES)
def test_each_loop_style_trains_in_tensorlite(style):
    figures = loops.time_loop("tensorlite", style, 3)
    assert figures["ms_per_step"] > 0 and figures["images_per_second"] > 0 and figures["faults_per_step"] >= 0


@pytest.mark.parametrize("style", loops.LOOP_STYLES)
def test_each_loop_style_is_valid_torch(style):
    pytest.importorskip("torch")
    assert loops.time_loop("torch", style, 2)["ms_per_step"] > 0


def test_torch_processes_leave_malloc_alone(monkeypatch):
    monkeypatch.delenv("TENSORLITE_ALLOCATOR", raising=False)
    assert loops.fresh_process_environment("torch")["TENSORLITE_ALLOCATOR"] == "system"
    assert "TENSORLITE_ALLOCATOR" not in loops.fresh_process_environment("tensorlite")
    assert loops.fresh_process_environment("tensorlite", TENSORLITE_BLAS_THREADS="1")["TENSORLITE_BLAS_THREADS"] == "1"


def test_the_benchmark_modules_leave_the_cpu_kernels_unloaded():
    """A timed torch process imports tensorlite.bench.loops; were tensorlite's CPU kernels loaded there, Numba
    would start its OpenMP runtime (waiting passively, see backends/cpu/depthwise.py) before torch, torch would
    share it, and its small convolutions would run up to 1.5x slower than for its own users."""
    check = ("import sys, tensorlite.bench.loops, tensorlite.bench.harness, tensorlite.cli; "
             "print('tensorlite.backends.cpu' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_loop_table_has_a_row_per_style_with_the_ratio():
    def figures(ms, faults):
        return {"ms_per_step": ms, "images_per_second": 64_000 / ms, "faults_per_step": faults}

    result = {
        "machine": {"cpu": "Some CPU", "logical_cpus": 2}, "steps": 300, "runs": 3,
        "styles": {"inline": {"tensorlite": figures(5.0, 0.25), "torch": figures(4.0, 0.0)},
                   "function": {"tensorlite": figures(4.0, 1.0), "torch": figures(5.0, 2.0)}},
    }
    header, inline, function, footer = loops.format_loops(result).splitlines()
    assert header.split() == ["loop", "style", "tensorlite", "ms/step", "images/s", "faults/step", "torch", "ms/step",
                              "images/s", "faults/step", "tensorlite/torch"]
    assert inline.split() == ["inline", "5.00", "12,800", "0.2", "4.00", "16,000", "0.0", "1.25"]
    assert function.split() == ["function", "4.00", "16,000", "1.0", "5.00", "12,800", "2.0", "0.80"]
    assert footer == "300 steps at batch 64, fastest of 3 fresh processes per library; Some CPU, 2 logical CPUs"


def test_the_fastest_blas_thread_count_is_stored(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(loops.os, "cpu_count", lambda: 2)
    times = {"1": [9.0, 8.0], "2": [10.0, 11.0]}

    def fake_run(library, style, steps, TENSORLITE_BLAS_THREADS):
        assert (library, style) == ("tensorlite", "function")
        return {"ms_per_step": times[TENSORLITE_BLAS_THREADS].pop(), "images_per_second": 1, "faults_per_step": 0}

    monkeypatch.setattr(loops, "_run_in_fresh_process", fake_run)
    result = loops.measure_blas_threads(steps=5, runs=2, progress=lambda line: None)
    assert result["ms_per_step"] == {1: 8.0, 2: 10.0} and result["blas_threads"] == 1
    assert stored_blas_threads() == 1
    assert "fastest: 1 BLAS thread(s)" in loops.format_blas_threads(result)


@pytest.mark.parametrize("arguments, message", [
    (["--loop", "inline"], "add --recipe mnist"),
    (["--recipe", "mnist", "--loop", "inline,nested"], "unknown loop style ['nested']"),
    (["--recipe", "mnist", "--loop", "inline", "--steps", "0"], "--steps and --runs must be at least 1"),
    (["--threads", "--runs", "0"], "--steps and --runs must be at least 1"),
])
def test_bad_loop_options_say_what_is_wrong(arguments, message):
    with pytest.raises(SystemExit) as exit_:
        main(["bench", *arguments])
    assert message in str(exit_.value)
