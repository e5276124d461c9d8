"""``tensorlite bench``: time conv2d, max_pool2d and batch_norm, forward and forward+backward, through the public
API of tensorlite and of torch, on a table of the shapes people train with.

    cases      the table of shapes and the FLOP count of each op
    workload   one case made runnable in one library (tensorlite or torch: the same torch-style code)
    timing     clocks per device, and the fastest-of-N loop that runs the libraries in turns
    machine    the processor, versions and threads, and the GEMM GFLOP/s ceiling
    harness    a whole run: warm up, then time every case on every device
    report     the figures as a text table, JSON and a PNG chart
    startup    seconds to compile every kernel on an empty Numba cache, and of a warm start (``--startup``)
    training   the MNIST recipe trained in tensorlite, then in torch, epoch by epoch (``--recipe mnist``)

From Python: ``report = run(select_cases(["mnist"]), repeat=5); print(format_table(report))``.
"""
from .cases import CASES, BatchNorm2dCase, Conv2dCase, MaxPool2dCase, select_cases  # noqa: F401
from .harness import DEFAULT_REPEAT, GEMM_SIZE, QUICK_GEMM_SIZE, QUICK_REPEAT, Report, run  # noqa: F401
from .report import format_table, to_json, write_chart, write_json  # noqa: F401
