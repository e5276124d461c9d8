"""The ``tensorlite`` command: ``info`` (versions and hardware), ``demo`` (the lesson demos in order),
``bench`` (time the CNN kernels against torch), ``train`` (the MNIST lesson), ``profile`` (the MNIST network's
time per layer) and ``run`` (a PyTorch script on tensorlite)."""
import argparse
import json
import platform
import runpy
import sys
import time
from pathlib import Path

from . import __version__
from .bench.timing import RUNS_PER_TURN
from .run import add_arguments as add_run_arguments
from .run import limit_from_environment, run_script
from .train import TrainConfig, TrainingError, train_and_report

DEMO_DIR = Path(__file__).resolve().parent.parent / "demos"


def info(args):
    """Print the versions, thread count, the CPU kernel set and whether CUDA is usable (and if not, why)."""
    import numba
    import numpy

    import tensorlite as tl
    from tensorlite.allocator import allocator_policy
    from tensorlite.backends import kernels
    from tensorlite.backends.cpu.scratch import CHUNK_BYTES, last_level_cache_bytes
    from tensorlite.bench.machine import describe_machine, machine_line
    from tensorlite.threads import thread_policy

    rows = [
        ("tensorlite", tl.__version__),
        ("python", platform.python_version()),
        ("numpy", numpy.__version__),
        ("numba", numba.__version__),
        ("machine", machine_line(describe_machine())),
        ("threads", thread_policy()),
        ("allocator", allocator_policy()),
        ("kernels", kernels()),
        ("batch chunks", _chunk_policy(CHUNK_BYTES, last_level_cache_bytes())),
        ("cuda available", _cuda_status(tl.cuda)),
    ]
    for name, value in rows:
        print(f"{name}: {value}")


def _chunk_policy(chunk_bytes, cache_bytes):
    """'32 MiB of temporaries per chunk of a convolution's batch (half the 260 MiB last-level cache, within 4 to
    32 MiB)', or where the cache's size is unknown, '4 MiB ... (the last-level cache's size is unknown)'."""
    why = (f"half the {cache_bytes / 2**20:.0f} MiB last-level cache, within 4 to 32 MiB" if cache_bytes
           else "the last-level cache's size is unknown")
    return f"{chunk_bytes >> 20} MiB of temporaries per chunk of a convolution's batch ({why})"


def _cuda_status(cuda):
    """'yes (GPU name)', 'simulated (...)' or 'no (why not, and what to install)'."""
    reason = cuda.why_unavailable()
    if reason is None:
        return f"yes ({cuda.get_device_name()})"
    if cuda.is_available():  # usable without a GPU: numba-cuda's simulator
        return "simulated (NUMBA_ENABLE_CUDASIM=1; no GPU is used)"
    return f"no ({reason})"


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


def bench(args):
    """Time conv2d, max_pool2d and batch_norm (forward, forward+backward) in tensorlite and, if installed, torch;
    print the table, write the PNG chart and, with ``--json``, every measurement. With ``--startup``, time the
    compilation of every kernel and a warm start instead; with ``--recipe``, a whole MNIST training run."""
    from . import bench as kernels

    if args.startup:
        from .bench.startup import format_startup, measure_startup

        return _print_and_save(measure_startup(), format_startup, args.json)
    if args.steps < 1 or args.runs < 1:
        sys.exit(f"tensorlite bench: --steps and --runs must be at least 1, got {args.steps} and {args.runs}")
    if args.threads:
        from .bench.loops import format_blas_threads, measure_blas_threads

        return _print_and_save(measure_blas_threads(steps=args.steps, runs=args.runs), format_blas_threads, args.json)
    if args.loop and not args.recipe:
        sys.exit("tensorlite bench: --loop times the training step of a recipe; add --recipe mnist")
    if args.recipe and args.loop:
        from .bench.loops import LOOP_STYLES, compare_loops, format_loops

        unknown = [style for style in args.loop if style not in LOOP_STYLES]
        if unknown:
            sys.exit(f"tensorlite bench: unknown loop style {unknown}; choose from {', '.join(LOOP_STYLES)}")
        figures = compare_loops(args.loop, steps=args.steps, runs=args.runs)
        return _print_and_save(figures, format_loops, args.json)
    if args.recipe:
        from .bench.training import compare_mnist, format_comparison

        return _print_and_save(compare_mnist(epochs=args.epochs, root=args.root), format_comparison, args.json)
    cases = kernels.select_cases(args.cases)
    if not cases:
        sys.exit(f"tensorlite bench: no case matches {args.cases}; available: {[c.name for c in kernels.CASES]}")
    if args.repeat is not None and args.repeat < 1:
        sys.exit(f"tensorlite bench: --repeat must be at least 1, got {args.repeat}")
    repeat = args.repeat or (kernels.QUICK_REPEAT if args.quick else kernels.DEFAULT_REPEAT)
    gemm_size = kernels.QUICK_GEMM_SIZE if args.quick else kernels.GEMM_SIZE
    report = kernels.run(cases, devices=args.device, repeat=repeat, gemm_size=gemm_size)
    print(kernels.format_table(report))
    if report.measurements and args.png:
        kernels.write_chart(report, args.png)
    if args.json:
        kernels.write_json(report, args.json)
        print(f"json: {args.json}")


def _print_and_save(figures, format_figures, json_path):
    """Print ``figures`` as ``format_figures`` writes them and, when ``json_path`` is given, save them as JSON."""
    print(format_figures(figures))
    if json_path:
        Path(json_path).write_text(json.dumps(figures, indent=2))
        print(f"json: {json_path}")


def train(args):
    """Train the MNIST lesson's CNN with the lesson's recipe (see ``tensorlite.train.mnist``). Options left out are
    None here: ``train`` fills them from ``TrainConfig``'s defaults, or on ``--resume`` from the checkpoint."""
    given = {k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__ and v is not None}
    train_and_report(TrainConfig(**given), explicit=given, onnx=bool(getattr(args, "onnx", False)))


def profile(args):
    """Profile the MNIST lesson's CNN layer by layer (``tensorlite.utils.profile``) on random images of the
    lesson's shape and random labels, with its cross-entropy loss; print the table and draw the chart."""
    import tensorlite as tl
    from tensorlite.nn import functional as F
    from tensorlite.train.mnist import MNISTNet
    from tensorlite.utils.profile import profile as profile_model

    if args.batch_size < 1 or args.repeat < 1:
        sys.exit(f"tensorlite profile: --batch-size and --repeat must be at least 1, got {args.batch_size} and "
                 f"{args.repeat}")
    tl.manual_seed(0)
    images, labels = tl.randn(args.batch_size, 1, 28, 28), tl.randint(0, 10, (args.batch_size,))
    report = profile_model(MNISTNet(), images, repeat=args.repeat, loss_fn=lambda out: F.cross_entropy(out, labels))
    print(report)
    if args.png:
        report.save_chart(args.png)


def run(args):
    """Run a PyTorch script unchanged with torch mapped to tensorlite (see ``tensorlite.run``)."""
    run_script(args.script, args.args, limit_from_environment())


def comma_list(text):
    """'cpu,cuda' → ['cpu', 'cuda']."""
    return [item.strip() for item in text.split(",") if item.strip()]


TRAIN_DESCRIPTION = """\
Train the MNIST lesson's CNN with the lesson's recipe. Every epoch shows a progress bar and the
test accuracy and writes a checkpoint epoch_N.npz to --out; the end of the run draws the
training curves, the learned kernels and the feature maps there."""

TRAIN_EPILOG = """\
resuming:
  --resume runs/mnist/epoch_2.npz continues that run: model, optimiser (momentum buffers
  included), shuffle order and history come from the checkpoint, and so do the options left
  out; it then ends with exactly the weights of an uninterrupted run. --epochs, --lr and
  --momentum may change on resume: a new lr or momentum replaces the restored optimiser's, and
  a line says so. --batch-size, --seed and --limit fix the order of the batches, so a resumed
  run refuses values other than the checkpoint's; start a fresh run to change them.

when a run cannot go on, one line says why and the exit status is 1: an option out of
range, a missing or foreign checkpoint, a GPU that is not there, an --out that cannot be
written, MNIST that cannot be found or downloaded, or a loss that became nan or inf (no
checkpoint is written for that epoch; try a smaller --lr)."""


def build_parser():
    parser = argparse.ArgumentParser(prog="tensorlite", description="A small PyTorch-like deep-learning framework.")
    parser.add_argument("--version", action="version", version=f"tensorlite {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, threads and whether CUDA is usable").set_defaults(run=info)
    demo_parser = commands.add_parser("demo", help="run the lesson demos in teaching order")
    demo_parser.add_argument("only", nargs="*", help="run only demos whose file name contains one of these")
    demo_parser.set_defaults(run=demo)
    bench_parser = commands.add_parser("bench", help="time conv2d, max_pool2d and batch_norm against torch")
    option = bench_parser.add_argument
    option("--cases", type=comma_list, default=[], help="only cases whose name contains one of these, comma-separated")
    option("--device", type=comma_list, default=["cpu"], help="devices to time, comma-separated (default: cpu)")
    option("--repeat", type=int, help=f"turns per library, each of {RUNS_PER_TURN} timed runs in a row; the fastest run "
           "is kept (default: 10; with --quick: 2)")
    option("--quick", action="store_true", help="few runs and a small GEMM: a smoke test, not a measurement")
    option("--json", metavar="PATH", help="also write every measurement and the machine's details as JSON")
    option("--png", metavar="PATH", default="runs/bench/bench.png", help="bar chart, '' for none (default: %(default)s)")
    option("--recipe", choices=["mnist"], help="instead of the kernel table: train the MNIST recipe in tensorlite, "
           "then in torch, and compare seconds, accuracy and peak memory per epoch")
    option("--startup", action="store_true", help="instead of the kernel table: seconds to compile every CPU kernel "
           "on an empty Numba cache, and of a warm start (import + one MNIST-network forward)")
    option("--threads", action="store_true", help="instead of the kernel table: time the MNIST step with each BLAS "
           "thread count and keep the fastest as this machine's thread policy (applied at import)")
    option("--loop", type=comma_list, metavar="STYLES", help="with --recipe mnist: time the training step written as "
           "inline, function and/or loader (comma-separated) in fresh processes, ms/step and page faults per step")
    option("--steps", type=int, default=300, help="timed steps per process for --loop and --threads "
           "(default: %(default)s)")
    option("--runs", type=int, default=3, help="fresh processes per library and loop style, or per thread count, for "
           "--loop and --threads; the fastest is kept (default: %(default)s)")
    option("--epochs", type=int, default=3, help="epochs for --recipe (default: %(default)s)")
    option("--root", help="MNIST data folder for --recipe (default: $TENSORLITE_DATA or ~/.cache/tensorlite)")
    bench_parser.set_defaults(run=bench)
    train_parser = commands.add_parser(
        "train", help="train the MNIST lesson's CNN", description=TRAIN_DESCRIPTION, epilog=TRAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train_parser.add_argument("task", choices=["mnist"], help="what to train")
    option = train_parser.add_argument
    recipe = TrainConfig()
    option("--epochs", type=int, metavar="N", help=f"train until epoch N (default: {recipe.epochs}; on --resume: "
           "the checkpoint's)")
    option("--batch-size", type=int, metavar="N", help=f"images per step (default: {recipe.batch_size}; on --resume: "
           "the checkpoint's, and no other)")
    option("--lr", type=float, help=f"SGD learning rate (default: {recipe.lr}; on --resume: the checkpoint's, or "
           "this one, which replaces it)")
    option("--momentum", type=float, help=f"SGD momentum (default: {recipe.momentum}; on --resume: the checkpoint's, "
           "or this one, which replaces it)")
    option("--device", help=f"cpu, or cuda for an NVIDIA GPU (default: {recipe.device})")
    option("--seed", type=int, help=f"seeds the initial weights and the shuffle order (default: {recipe.seed}; on "
           "--resume: the checkpoint's, and no other)")
    option("--out", metavar="FOLDER", help="checkpoints and pictures go here; a fresh run first removes the "
           f"epoch_N.npz an earlier run left there (default: {recipe.out}; on --resume: the checkpoint's folder)")
    option("--root", metavar="FOLDER", help="MNIST data folder, downloaded into when the files are missing "
           "(default: $TENSORLITE_DATA or ~/.cache/tensorlite)")
    option("--resume", metavar="CHECKPOINT", help="continue the run saved in an epoch_N.npz checkpoint after its "
           "epoch N (default: none, a fresh run)")
    option("--limit", type=int, metavar="N", help="train on the first N training images only, for a quick run "
           "(default: all 60,000; on --resume: the checkpoint's, and no other)")
    option("--onnx", action="store_true", default=None, help="also write the trained model as model.onnx to --out, for "
           "onnxruntime (default: off; needs the onnx package: pip install tensorlite[onnx])")
    train_parser.set_defaults(run=train)
    profile_parser = commands.add_parser("profile", help="time the MNIST network layer by layer, forward and backward")
    profile_parser.add_argument("model", choices=["mnist"], help="what to profile")
    option = profile_parser.add_argument
    option("--batch-size", type=int, default=64, metavar="N", help="images per step (default: %(default)s)")
    option("--repeat", type=int, default=5, metavar="N", help="timed steps; each row keeps its fastest "
           "(default: %(default)s)")
    option("--png", metavar="PATH", default="runs/profile/mnist.png", help="bar chart, '' for none "
           "(default: %(default)s)")
    profile_parser.set_defaults(run=profile)
    run_parser = commands.add_parser("run", help="run a PyTorch script with torch mapped to tensorlite")
    add_run_arguments(run_parser)
    run_parser.set_defaults(run=run)
    return parser


def main(argv=None):
    """Parse ``argv`` (default: ``sys.argv[1:]``) and run the command. A ``TrainingError`` (a run that cannot start or
    go on, for a reason the person running it can act on) becomes its message on stderr and exit status 1."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except TrainingError as err:
        sys.exit(f"tensorlite {args.command}: {err}")


if __name__ == "__main__":
    main()
