"""The ``tensorlite`` command: ``info`` (versions and hardware) and ``demo`` (run the lesson demos in order)."""
import argparse
import os
import platform
import runpy
import sys
import time
from pathlib import Path

DEMO_DIR = Path(__file__).resolve().parent.parent / "demos"


def info(args):
    """Print the versions, thread count and whether CUDA is usable."""
    import numba
    import numpy

    import tensorlite as tl

    cuda = tl.cuda.is_available()
    rows = [
        ("tensorlite", tl.__version__),
        ("python", platform.python_version()),
        ("numpy", numpy.__version__),
        ("numba", numba.__version__),
        ("machine", f"{platform.machine()}, {os.cpu_count()} logical CPUs"),
        ("numba threads", numba.get_num_threads()),
        ("cuda available", f"yes ({tl.cuda.get_device_name()})" if cuda else "no"),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


def demo(args):
    """Run every script in ``demos/`` (or those whose name contains one of ``args.only``), in teaching order."""
    if not DEMO_DIR.is_dir():
        sys.exit(f"tensorlite demo: no demos/ folder next to the package ({DEMO_DIR}); run it from a source checkout")
    scripts = sorted(p for p in DEMO_DIR.glob("[0-9]*.py") if not args.only or any(o in p.name for o in args.only))
    if not scripts:
        sys.exit(f"tensorlite demo: no demo matches {args.only}; available: {[p.name for p in DEMO_DIR.glob('[0-9]*.py')]}")
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        runpy.run_path(str(script), run_name="__main__")
        print(f"--- {script.stem} finished in {time.perf_counter() - start:.1f} s", flush=True)


def build_parser():
    parser = argparse.ArgumentParser(prog="tensorlite", description="A small PyTorch-like deep-learning framework.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, threads and whether CUDA is usable").set_defaults(run=info)
    demo_parser = commands.add_parser("demo", help="run the lesson demos in teaching order")
    demo_parser.add_argument("only", nargs="*", help="run only demos whose file name contains one of these")
    demo_parser.set_defaults(run=demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
