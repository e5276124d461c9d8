"""Every op in the conformance table against torch, on hypothesis-drawn samples.

Each op runs ``TENSORLITE_CONFORMANCE_EXAMPLES`` samples (default 70: over 10,000 cases in all, see
``python -m tests.conformance``); CI draws them deterministically. A failure prints the sample and every
mismatch. Skipped cleanly without torch.
"""
import os

import pytest

pytest.importorskip("torch")

from hypothesis import HealthCheck, given, settings  # noqa: E402

from .harness import compare  # noqa: E402
from .opinfo import OPS  # noqa: E402

EXAMPLES = int(os.environ.get("TENSORLITE_CONFORMANCE_EXAMPLES", "70"))
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("op", OPS, ids=[op.name for op in OPS])
def test_matches_torch(op):
    @SETTINGS
    @given(op.samples)
    def check(sample):
        mismatches = compare(op, sample)
        assert not mismatches, f"{op.name}{sample!r}\n" + "\n".join(map(str, mismatches))

    check()
