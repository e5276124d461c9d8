"""Pictures: grids of images become PNG files, and a missing matplotlib is a note, not a crash."""
import sys

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.utils import viz


def test_image_grid_is_written_as_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    images = [tl.randn(5, 5), None, np.eye(3)]
    viz.save_image_grid(images, ["a", None, "c"], tmp_path / "grid.png", columns=2, what="grid")
    assert (tmp_path / "grid.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"grid written to {tmp_path / 'grid.png'}" in capsys.readouterr().out


def test_without_matplotlib_nothing_is_drawn_and_the_user_is_told(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    viz.save_image_row([np.zeros((2, 2))], ["zeros"], tmp_path / "row.png")
    assert not (tmp_path / "row.png").exists()
    assert viz.MATPLOTLIB_MISSING in capsys.readouterr().out
