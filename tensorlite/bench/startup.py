"""How long tensorlite takes to get going: Numba compiling every CPU kernel on a cold cache, then a warm start.

Numba compiles a kernel the first time it is called with new argument types and, with ``cache=True``, keeps the
machine code on disk (``__pycache__`` beside the module, or ``NUMBA_CACHE_DIR``), so later processes only load it.
Each script below runs in a fresh Python process, with ``NUMBA_CACHE_DIR`` pointed at a new, empty folder, and
times itself from before ``import tensorlite``:

- ``cold``: every CPU kernel used once in float32 and float64, forward and backward (convolution by im2col, by
  Winograd, by the direct loops at kernel sizes 5x5 and 3x3, and depthwise; max and average pooling; batch norm);
- ``cold, again``: the same script once more, the cache now filled: loading instead of compiling;
- ``warm``: ``import tensorlite`` and one forward pass of the MNIST lesson's network at batch 64.

A cold run takes tens of seconds, so each script announces itself on stderr as it starts and its figure as it ends.
"""
import os
import subprocess
import sys
import tempfile

EVERY_KERNEL = """
import time
start = time.perf_counter()
import numpy as np
import tensorlite as tl
import tensorlite.nn.functional as F

rng = np.random.default_rng(0)
for dtype in (np.float32, np.float64):
    def tensor(*shape):
        return tl.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)

    x, grey, wide = tensor(2, 4, 9, 9), tensor(2, 1, 9, 9), tensor(2, 32, 6, 6)
    convolutions = [
        (x, tensor(6, 4, 3, 3), {}),                 # direct, 3x3
        (grey, tensor(6, 1, 5, 5), {}),              # direct, 5x5
        (x, tensor(6, 4, 3, 3), {"stride": 2}),      # im2col + GEMM
        (x, tensor(4, 1, 3, 3), {"groups": 4}),      # depthwise
        (wide, tensor(4, 32, 3, 3), {}),             # Winograd
    ]
    for inp, weight, options in convolutions:
        F.conv2d(inp, weight, tensor(weight.shape[0]), padding=1, **options).sum().backward()
    F.max_pool2d(x, 2).sum().backward()
    F.avg_pool2d(x, 2).sum().backward()
    F.batch_norm(x, None, None, tensor(4), tensor(4), training=True).sum().backward()
print(time.perf_counter() - start)
"""

MNIST_FORWARD = """
import time
start = time.perf_counter()
import numpy as np
import tensorlite as tl
from tensorlite.train.mnist import MNISTNet

images = np.random.default_rng(0).standard_normal((64, 1, 28, 28)).astype(np.float32)
MNISTNet()(tl.tensor(images))
print(time.perf_counter() - start)
"""


def seconds_of(script, cache_dir):
    """Run ``script`` in a fresh Python process whose Numba cache is ``cache_dir``; the seconds it printed last."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    return float(done.stdout.split()[-1])


STEPS = (  # (figure, what the script does, the script)
    ("cold", "every CPU kernel on an empty cache (compiling)", EVERY_KERNEL),
    ("cold, again", "the same again, the cache now filled (loading)", EVERY_KERNEL),
    ("warm", "warm start: import tensorlite + one MNIST-network forward", MNIST_FORWARD),
)


def measure_startup(progress=True):
    """{"cold": s, "cold, again": s, "warm": s} on a new, empty cache folder (see the module's docstring). With
    ``progress``, one line on stderr per script: what it does as it starts, then the seconds it measured."""
    figures = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        for number, (figure, what, script) in enumerate(STEPS, 1):
            if progress:
                print(f"startup {number}/{len(STEPS)}: {what} ...", end=" ", file=sys.stderr, flush=True)
            figures[figure] = seconds_of(script, cache_dir)
            if progress:
                print(f"{figures[figure]:.2f} s", file=sys.stderr, flush=True)
    return figures


def format_startup(figures):
    """One line per figure, saying what it measured."""
    return "\n".join([
        f"every CPU kernel, float32 and float64, forward and backward, empty cache: {figures['cold']:.1f} s",
        f"the same again, cache filled:                                             {figures['cold, again']:.1f} s",
        f"warm start, import tensorlite + one MNIST-network forward (batch 64):     {figures['warm']:.2f} s",
    ])
