"""Run an unmodified PyTorch script on tensorlite: ``tensorlite run SCRIPT.py [ARGS...]`` or
``python -m tensorlite.run SCRIPT.py [ARGS...]``.

The script runs as ``python SCRIPT.py ARGS...`` would run it (``__name__ == "__main__"``, ``sys.argv`` set to
the script and its arguments, its folder first on ``sys.path``) with the import hook of ``tensorlite.compat``
installed, so its ``import torch`` and ``from torchvision import datasets, transforms`` give tensorlite.

``TENSORLITE_RUN_LIMIT_BATCHES=N`` stops every pass over a ``torch.utils.data.DataLoader`` after N batches
(and makes ``len(loader)`` at most N): a long training script becomes a quick check that it runs.
"""
import argparse
import os
import runpy
import sys
from pathlib import Path

from . import compat

LIMIT_VARIABLE = "TENSORLITE_RUN_LIMIT_BATCHES"


def limit_from_environment():
    """The batch limit set by ``TENSORLITE_RUN_LIMIT_BATCHES``, or ``None`` when it is unset or empty."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        sys.exit(f"tensorlite run: {LIMIT_VARIABLE} must be a positive integer, got {text!r}")
    return int(text)


def run_script(script, args=(), limit_batches=None):
    """Run the file ``script`` as ``__main__`` with ``args`` as its command line, torch mapped to tensorlite."""
    path = Path(script)
    if not path.is_file():
        sys.exit(f"tensorlite run: no such file: {script}")
    saved_argv, saved_path = sys.argv, sys.path[:]
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(path.resolve().parent))
    compat.install(limit_batches=limit_batches)
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        compat.uninstall()
        sys.argv, sys.path[:] = saved_argv, saved_path


def add_arguments(parser):
    """The command line of ``tensorlite run``: the script, then everything after it as the script's own."""
    parser.add_argument("script", help="the PyTorch script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    parser.epilog = f"{LIMIT_VARIABLE}=N stops every pass over a DataLoader after N batches."


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tensorlite.run",
                                     description="Run a PyTorch script with torch mapped to tensorlite.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    run_script(args.script, args.args, limit_from_environment())


if __name__ == "__main__":
    main()
