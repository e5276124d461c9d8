"""The lesson's training step timed in the three ways people write the loop (``bench --recipe mnist --loop``).

    inline    the step at module level, as in a notebook cell or a short script
    function  ``def train_step(x, y): ...`` called once per batch
    loader    the tutorials' ``def train(epoch):`` looping over a shuffling ``DataLoader``

The arithmetic is identical; what differs is when the previous step's arrays die. Inline, each name is rebound
one by one during the next step; in a function, every array of the step is freed at once when it returns, which
is when an allocator that hands memory back to the operating system pays for it again as page faults on the
next step. So each run reports minor page faults per step beside milliseconds per step.

Every (library, style) run is a fresh process (``python -m tensorlite.bench.loops LIBRARY STYLE STEPS``) that
trains on synthetic MNIST-shaped batches (no download), warms up, then times ``STEPS`` steps; the libraries take
turns and each keeps its fastest run.
"""
import json
import math
import os
import resource
import subprocess
import sys
import time

from ..threads import store_blas_threads
from .machine import describe_machine, machine_line

LOOP_STYLES = ("inline", "function", "loader")
BATCH_SIZE = 64
WARMUP_STEPS = 20


def lesson_network(torch):
    """The lesson's CNN written once in torch's API and built in ``torch``: the torch module or tensorlite."""
    nn, F = torch.nn, torch.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2, self.fc = nn.Conv2d(1, 10, 5), nn.Conv2d(10, 20, 5), nn.Linear(320, 10)

        def forward(self, x):
            x = F.relu(F.max_pool2d(self.conv1(x), 2))
            x = F.relu(F.max_pool2d(self.conv2(x), 2))
            return self.fc(x.flatten(1))

    return Net()


# One program per style, written once in torch's API and run with ``torch`` bound to either library.
SETUP = """
import numpy as np
F = torch.nn.functional
torch.manual_seed(0)
model = lesson_network(torch)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
rng = np.random.default_rng(0)
images = torch.tensor(rng.standard_normal((steps * batch_size, 1, 28, 28), dtype=np.float32))
labels = torch.tensor(rng.integers(0, 10, steps * batch_size))
batches = [(images[i:i + batch_size], labels[i:i + batch_size]) for i in range(0, len(images), batch_size)]
train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=batch_size,
                                           shuffle=True)
"""

LOOPS = {
    "inline": """
for x, y in batches:
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
""",
    "function": """
def train_step(x, y):
    optimizer.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    return loss

for x, y in batches:
    train_step(x, y)
""",
    "loader": """
def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()

train(1)
""",
}


def time_loop(library, style, steps):
    """Run ``style``'s loop in ``library`` ('tensorlite' or 'torch'): ``WARMUP_STEPS`` steps, then ``steps`` timed
    ones; returns {'ms_per_step', 'images_per_second', 'faults_per_step'} (minor page faults, from getrusage)."""
    torch = __import__(library)
    program = compile(LOOPS[style], f"<{style} loop>", "exec")
    namespace = {"torch": torch, "lesson_network": lesson_network, "__name__": "__main__", "steps": WARMUP_STEPS,
                 "batch_size": BATCH_SIZE}
    exec(SETUP, namespace)
    exec(program, namespace)  # warm-up: compiled kernels loaded, optimiser state made
    namespace["steps"] = steps
    exec(SETUP, namespace)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    exec(program, namespace)
    seconds = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return {
        "ms_per_step": seconds / steps * 1e3,
        "images_per_second": steps * BATCH_SIZE / seconds,
        "faults_per_step": faults / steps,
    }


def fresh_process_environment(library, **variables):
    """The environment of a timed child process: torch's runs leave malloc as the C library configured it, so that
    torch is measured as its users run it (importing this module imports tensorlite, which would otherwise raise
    malloc's thresholds for torch too; see ``tensorlite/allocator.py``)."""
    environment = {**os.environ, **variables}
    if library == "torch":
        environment["TENSORLITE_ALLOCATOR"] = "system"
    return environment


def _run_in_fresh_process(library, style, steps, **variables):
    output = subprocess.run(
        [sys.executable, "-m", "tensorlite.bench.loops", library, style, str(steps)],
        check=True, capture_output=True, text=True, env=fresh_process_environment(library, **variables),
    ).stdout
    return json.loads(output.splitlines()[-1])


def _fastest(figures, candidate):
    return candidate if figures is None or candidate["ms_per_step"] < figures["ms_per_step"] else figures


def compare_loops(styles=LOOP_STYLES, steps=300, runs=3, libraries=("tensorlite", "torch"), progress=print):
    """For each style, ``runs`` fresh processes per library in turns; each library's fastest run (its faults are
    those of that run). Returns {'machine', 'steps', 'runs', 'styles': {style: {library: figures}}}."""
    results = {}
    for style in styles:
        best = dict.fromkeys(libraries)
        for run in range(runs):
            for library in libraries:
                figures = _run_in_fresh_process(library, style, steps)
                progress(f"{style} loop, {library}, run {run + 1}/{runs}: {figures['ms_per_step']:.2f} ms/step, "
                         f"{figures['faults_per_step']:.1f} faults/step")
                best[library] = _fastest(best[library], figures)
        results[style] = best
    return {"machine": describe_machine(), "steps": steps, "runs": runs, "styles": results}


def measure_blas_threads(steps=300, runs=3, progress=print):
    """Time the function-style step with the BLAS at each thread count from 1 to the logical CPU count (fresh
    processes, in turns, fastest of ``runs``); store the fastest as this machine's choice (``tensorlite.threads``).
    Returns {'machine', 'steps', 'runs', 'ms_per_step': {count: ms}, 'blas_threads': the choice, 'stored_in'}."""
    counts = range(1, (os.cpu_count() or 1) + 1)
    best = dict.fromkeys(counts)
    for run in range(runs):
        for count in counts:
            figures = _run_in_fresh_process("tensorlite", "function", steps, TENSORLITE_BLAS_THREADS=str(count))
            progress(f"blas threads {count}, run {run + 1}/{runs}: {figures['ms_per_step']:.2f} ms/step")
            best[count] = _fastest(best[count], figures)
    ms_per_step = {count: figures["ms_per_step"] for count, figures in best.items()}
    choice = min(ms_per_step, key=ms_per_step.get)
    path = store_blas_threads(choice, {str(count): round(ms, 3) for count, ms in ms_per_step.items()})
    return {"machine": describe_machine(), "steps": steps, "runs": runs, "ms_per_step": ms_per_step,
            "blas_threads": choice, "stored_in": str(path)}


def format_blas_threads(result):
    """One line per BLAS thread count, then the choice and where it was stored."""
    lines = [f"blas threads {count}: {ms:.2f} ms/step" for count, ms in result["ms_per_step"].items()]
    lines.append(f"fastest: {result['blas_threads']} BLAS thread(s), applied from now on at `import tensorlite` on "
                 f"this machine (stored in {result['stored_in']}; TENSORLITE_BLAS_THREADS=N overrides it)")
    lines.append(f"function-style MNIST step, batch {BATCH_SIZE}, {result['steps']} steps, fastest of {result['runs']} "
                 f"fresh processes; {machine_line(result['machine'])}")
    return "\n".join(lines)


def format_loops(result):
    """One row per loop style: each library's ms/step, images/s and page faults per step, and the time ratio."""
    styles = result["styles"]
    libraries = list(next(iter(styles.values())))
    header = ["loop style"]
    for library in libraries:
        header += [f"{library} ms/step", "images/s", "faults/step"]
    if len(libraries) == 2:
        header.append(f"{libraries[0]}/{libraries[1]}")
    rows = [header]
    for style, figures in styles.items():
        row = [style]
        for library in libraries:
            f = figures[library]
            row += [f"{f['ms_per_step']:.2f}", f"{f['images_per_second']:,.0f}", f"{f['faults_per_step']:.1f}"]
        if len(libraries) == 2:
            a, b = (figures[library]["ms_per_step"] for library in libraries)
            row.append(f"{a / b:.2f}" if b else str(math.inf))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows]
    lines.append(f"{result['steps']} steps at batch {BATCH_SIZE}, fastest of {result['runs']} fresh processes per "
                 f"library; {machine_line(result['machine'])}")
    return "\n".join(lines)


if __name__ == "__main__":
    library, style, steps = sys.argv[1:]
    print(json.dumps(time_loop(library, style, int(steps))))
