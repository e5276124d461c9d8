"""The CPU kernels' sweep once more with Numba's bounds checking on: an index outside an array raises
IndexError there instead of reading or writing memory that is not the array's. A fresh cache folder, so
that every kernel is compiled with the checks rather than loaded without them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast_kernels

SWEEP = Path(__file__).with_name("test_kernels_cpu.py")


def test_kernel_sweep_passes_with_bounds_checks(tmp_path):
    env = dict(os.environ, NUMBA_BOUNDSCHECK="1", NUMBA_CACHE_DIR=str(tmp_path))
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(SWEEP), "-k", "not threads"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
