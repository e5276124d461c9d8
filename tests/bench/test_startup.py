"""``tensorlite bench --startup``: its scripts run in fresh processes on the cache folder they are given."""
import json

import pytest

from tensorlite.bench import startup
from tensorlite.cli import build_parser, main


def test_a_script_runs_in_a_fresh_process_on_the_given_cache(tmp_path):
    script = (f"import os, sys\n"
              f"assert os.environ['NUMBA_CACHE_DIR'] == {str(tmp_path)!r}\n"
              f"assert 'tensorlite' not in sys.modules  # nothing imported before the clock starts\n"
              f"print(2.5)")
    assert startup.seconds_of(script, tmp_path) == 2.5


@pytest.mark.fast_kernels
def test_the_warm_start_script_times_an_mnist_forward(tmp_path):
    seconds = startup.seconds_of(startup.MNIST_FORWARD, tmp_path)  # an empty cache: this one compiles
    assert 0 < seconds < 600
    assert list(tmp_path.rglob("*.nbi")), "Numba kept no kernel in the cache folder it was given"


def test_startup_option_prints_and_writes_the_figures(tmp_path, monkeypatch, capsys):
    assert build_parser().parse_args(["bench", "--startup"]).startup
    figures = {"cold": 41.25, "cold, again": 1.25, "warm": 0.875}
    monkeypatch.setattr(startup, "measure_startup", lambda: figures)
    main(["bench", "--startup", "--json", str(tmp_path / "startup.json")])
    out = capsys.readouterr().out
    assert "empty cache: 41.2 s" in out and "cache filled" in out and "0.88 s" in out
    assert json.loads((tmp_path / "startup.json").read_text()) == figures
