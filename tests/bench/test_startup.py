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


def test_each_script_is_announced_as_it_starts_and_its_seconds_as_it_ends(monkeypatch, capsys):
    ran = []

    def fake_seconds_of(script, cache_dir):
        ran.append((script, cache_dir))
        return {1: 40.0, 2: 1.5, 3: 0.25}[len(ran)]

    monkeypatch.setattr(startup, "seconds_of", fake_seconds_of)
    assert startup.measure_startup() == {"cold": 40.0, "cold, again": 1.5, "warm": 0.25}
    assert [script for script, _ in ran] == [startup.EVERY_KERNEL, startup.EVERY_KERNEL, startup.MNIST_FORWARD]
    assert len({cache for _, cache in ran}) == 1  # one cache folder: the second run loads what the first compiled
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["startup 1/3", "startup 2/3", "startup 3/3"]
    assert lines[0].endswith("(compiling) ... 40.00 s") and lines[2].endswith("forward ... 0.25 s")


def test_startup_without_progress_is_silent(monkeypatch, capsys):
    monkeypatch.setattr(startup, "seconds_of", lambda script, cache_dir: 1.0)
    startup.measure_startup(progress=False)
    assert capsys.readouterr() == ("", "")
