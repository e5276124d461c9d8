"""The thread policy (tensorlite/threads.py): one choice for Numba's pool and the BLAS, measured per machine."""
import os
import subprocess
import sys

import numba
import pytest
from threadpoolctl import threadpool_info

import tensorlite as tl
from tensorlite import threads


def run_python(script, **variables):
    """Run ``script`` in a fresh interpreter with ``variables`` set (and no thread count inherited)."""
    environment = {k: v for k, v in os.environ.items() if k != "TENSORLITE_BLAS_THREADS"}
    return subprocess.run([sys.executable, "-c", script], env={**environment, **variables}, capture_output=True,
                          text=True)


def blas_counts():
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_the_environment_sets_the_blas_threads():
    script = "import tensorlite.threads as t; print(t.thread_policy())"
    output = run_python(script, TENSORLITE_BLAS_THREADS="1")
    assert output.returncode == 0, output.stderr
    assert output.stdout.strip().endswith(" 1 (TENSORLITE_BLAS_THREADS)"), output.stdout


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_a_bad_thread_count_in_the_environment_is_refused_at_import(value):
    output = run_python("import tensorlite", TENSORLITE_BLAS_THREADS=value)
    assert output.returncode != 0
    assert f"TENSORLITE_BLAS_THREADS must be a positive integer, got '{value}'" in output.stderr


def test_a_measured_choice_is_stored_per_machine_and_applied_at_import(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = threads.store_blas_threads(1, {"1": 10.0, "2": 12.0})
    assert path == tmp_path / "tensorlite" / "threads.json"
    assert threads.stored_blas_threads() == 1
    output = run_python("import tensorlite.threads as t; print(t.thread_policy())", XDG_CACHE_HOME=str(tmp_path))
    assert output.returncode == 0, output.stderr
    assert "measured fastest here" in output.stdout and str(path) in output.stdout


def test_no_choice_is_made_up_where_none_was_measured(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert threads.stored_blas_threads() is None
    output = run_python("import tensorlite.threads as t; print(t.thread_policy())", XDG_CACHE_HOME=str(tmp_path))
    assert "default; `tensorlite bench --threads` measures" in output.stdout


def test_set_num_threads_sets_every_pool():
    numba_before, blas_before = numba.get_num_threads(), max(blas_counts())
    try:
        tl.set_num_threads(1)
        assert tl.get_num_threads() == 1 == numba.get_num_threads()
        assert blas_counts() == {1}
        assert "set_num_threads" in threads.thread_policy()
    finally:
        numba.set_num_threads(numba_before)
        threads.set_blas_threads(blas_before)


@pytest.mark.parametrize("count, message", [(0, "set_num_threads expects a positive integer"),
                                            (-2, "set_num_threads expects a positive integer"),
                                            (1.5, "set_num_threads expects an int, but got float")])
def test_set_num_threads_refuses_what_torch_refuses(count, message):
    with pytest.raises(RuntimeError) as raised:
        tl.set_num_threads(count)
    assert str(raised.value) == message
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as raised:
        torch.set_num_threads(count)
    assert str(raised.value) == message
