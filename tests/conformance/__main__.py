"""The long conformance run: every op in the table on many samples, with counts per mismatch category.

    python -m tests.conformance --examples 1000 --seed 0        # about 140,000 cases
    python -m tests.conformance --ops F.conv2d sum --examples 200

Unlike the pytest suite, which stops at an op's first mismatch, this runs every sample and counts each
mismatch, then prints the first few of each op. Exits non-zero when any mismatch was found.
"""
import argparse
import sys
from collections import Counter, defaultdict

from hypothesis import HealthCheck, Phase, given, seed, settings
from tqdm import tqdm

from .harness import CATEGORIES, compare
from .opinfo import OPS


def survey(op, examples, seed_value, found):
    """Run ``examples`` samples of ``op``; return how many ran, and append (sample, mismatches) to ``found``."""
    count = 0

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(op.samples)
    def check(sample):
        nonlocal count
        count += 1
        mismatches = compare(op, sample)
        if mismatches:
            found.append((sample, mismatches))

    check()
    return count


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=70, help="samples per op (default 70, as in CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ops", nargs="*", help="only these ops (names as in the table)")
    parser.add_argument("--show", type=int, default=3, help="mismatching samples printed per op")
    args = parser.parse_args(argv)
    ops = [op for op in OPS if not args.ops or op.name in args.ops]
    cases, per_category, failures = 0, Counter(), defaultdict(list)
    for op in (progress := tqdm(ops, unit="op")):
        progress.set_postfix_str(op.name)
        cases += survey(op, args.examples, args.seed, failures[op.name])
        per_category.update(m.category for _, mismatches in failures[op.name] for m in mismatches)
    for name, found in failures.items():
        for sample, mismatches in found[: args.show]:
            print(f"{name}{sample!r}\n    " + "\n    ".join(map(str, mismatches)))
    print(f"\n{cases} cases over {len(ops)} ops; mismatching cases: {sum(map(len, failures.values()))}")
    print("by category: " + ", ".join(f"{c} {per_category[c]}" for c in CATEGORIES))
    print("by op: " + ", ".join(f"{name} {len(found)}" for name, found in failures.items() if found))
    return 1 if per_category else 0


if __name__ == "__main__":
    sys.exit(main())
