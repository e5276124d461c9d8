"""Numba's on-disk cache across processes: kernels compiled in separate runs, then loaded together, still
compute what the reference kernels compute (a student runs one lesson script after another)."""
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.fast_kernels

SCRIPT = """
import sys
import numpy as np
import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite.backends import reference
rng = np.random.default_rng(0)
for spec in sys.argv[1:]:
    kh, kw = map(int, spec.split("x"))
    x = rng.standard_normal((2, 3, 9, 10)).astype(np.float32)
    w = rng.standard_normal((4, 3, kh, kw)).astype(np.float32)
    out = F.conv2d(tl.tensor(x), tl.tensor(w), padding=1).numpy()
    expected = reference.conv2d_forward(x, w, None, (1, 1), (1, 1), (1, 1), 1)
    print(spec, float(np.max(np.abs(out - expected))) if np.isfinite(out).all() else "nan")
"""


def run_sizes(cache_dir, *sizes):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    done = subprocess.run([sys.executable, "-c", SCRIPT, *sizes], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return dict(line.split() for line in done.stdout.splitlines())


def test_kernels_cached_by_separate_processes_load_together_correctly(tmp_path):
    sizes = ("3x3", "2x2", "4x5")  # each a direct-route specialisation of its own
    for size in sizes:
        assert float(run_sizes(tmp_path, size)[size]) < 1e-4
    errors = run_sizes(tmp_path, *reversed(sizes))
    assert all(errors[size] != "nan" and float(errors[size]) < 1e-4 for size in sizes), errors
