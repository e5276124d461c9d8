"""The allocator policy (tensorlite/allocator.py): a training step's freed memory is kept for the next step.

Page faults are counts, not times, so these tests can hold them: with glibc set to hand every large block back
(``MALLOC_MMAP_THRESHOLD_`` pinned at its 128 KiB start), a function-style MNIST step faults thousands of pages in
again each time unless tensorlite raised the thresholds at import.
"""
import json
import os
import platform
import subprocess
import sys

import pytest

import tensorlite as tl
from tensorlite.allocator import allocator_policy

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the policy applies to glibc's malloc only")


def step_faults(**variables):
    """Minor page faults per step of 10 function-style MNIST steps in a fresh process with ``variables`` set."""
    script = "import json; from tensorlite.bench.loops import time_loop; print(json.dumps(time_loop('tensorlite', 'function', 10)))"
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072", **variables}
    output = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    return json.loads(output.stdout.splitlines()[-1])["faults_per_step"]


@glibc
def test_import_raises_the_thresholds():
    assert allocator_policy().startswith("glibc keeps freed memory")


@glibc
def test_a_step_reuses_the_previous_steps_memory():
    kept, returned = step_faults(), step_faults(TENSORLITE_ALLOCATOR="system")
    assert kept < 100 < 1000 < returned, (kept, returned)


def test_the_environment_can_leave_malloc_alone():
    script = "from tensorlite.allocator import allocator_policy; print(allocator_policy())"
    environment = {**os.environ, "TENSORLITE_ALLOCATOR": "system"}
    output = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == "system malloc (TENSORLITE_ALLOCATOR=system)"


def test_reused_memory_never_aliases_a_live_tensor():
    """Arrays freed by one step and reused by the next never overlap an array still alive."""
    import numpy as np

    kept = [tl.randn(64, 10, 24, 24) for _ in range(4)]
    values = [t.numpy().copy() for t in kept]
    for _ in range(20):
        x = tl.randn(64, 10, 24, 24, requires_grad=True)
        (x.relu() * 2).sum().backward()
        del x
    for tensor, value in zip(kept, values):
        np.testing.assert_array_equal(tensor.numpy(), value)
