"""Test-session setup. numba reads NUMBA_ENABLE_CUDASIM when numba.cuda is first imported, so it is set here,
before any test module imports tensorlite: without a GPU the CUDA tests run on numba's simulator. Set
TENSORLITE_REAL_CUDA=1 to run them on a real GPU instead."""
import os

if not os.environ.get("TENSORLITE_REAL_CUDA"):
    os.environ.setdefault("NUMBA_ENABLE_CUDASIM", "1")
