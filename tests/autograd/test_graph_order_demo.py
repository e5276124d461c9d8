"""Lesson 1b runs as a script: its asserts hold the engine's order and gradients, and it draws its picture."""
import os
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "demos" / "01b_graph_order.py"


def test_graph_order_demo_runs_and_draws(tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, str(DEMO)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "x.grad = [8.0, 8.0, 8.0]" in done.stdout
    assert (tmp_path / "runs" / "demos" / "graph_order.png").stat().st_size > 10_000
