"""Test-session setup. numba reads NUMBA_ENABLE_CUDASIM when numba.cuda is first imported, so it is set here,
before any test module imports tensorlite: without a GPU the CUDA tests run on numba's simulator. Set
TENSORLITE_REAL_CUDA=1 to run them on a real GPU instead.

The suite runs under either CPU kernel set (TENSORLITE_KERNELS=fast, the default, or reference). A test about the
fast kernels themselves (which route a convolution takes, its workspace, Numba's cache, the bounds-checked Numba
run, benchmark internals) carries ``@pytest.mark.fast_kernels`` and is skipped under the reference set."""
import os

import pytest

if not os.environ.get("TENSORLITE_REAL_CUDA"):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "fast_kernels: about the fast CPU kernels themselves; skipped under "
                                       "TENSORLITE_KERNELS=reference")


def pytest_collection_modifyitems(config, items):
    from tensorlite.backends import kernels

    if kernels() == "reference":
        skip = pytest.mark.skip(reason="about the fast CPU kernels; this run uses TENSORLITE_KERNELS=reference")
        for item in items:
            if item.get_closest_marker("fast_kernels"):
                item.add_marker(skip)
