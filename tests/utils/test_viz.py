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


def test_symmetric_limit_covers_every_value_and_is_never_zero():
    assert viz.symmetric_limit([np.array([-3.0, 1.0]), tl.tensor([2.0])]) == 3.0
    assert viz.symmetric_limit([np.zeros((2, 2))]) == 1.0


def test_image_sections_share_one_scale_per_group(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    signed = viz.ColourScale("RdBu_r", -2.0, 2.0, label="value")
    grey = viz.ColourScale(label="pixel")  # no limits given: the group's own minimum and maximum
    groups = [
        (grey, [viz.ImageRows("one image", [np.eye(4)])]),
        (signed, [viz.ImageRows("seven images, two rows", [np.full((3, 3), v) for v in range(-3, 4)], list("abcdefg")),
                  viz.ImageRows("and one more", [-np.eye(3)])]),
    ]
    viz.save_image_sections(groups, tmp_path / "sections.png", columns=4, what="sections", title="a title")
    assert (tmp_path / "sections.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"sections written to {tmp_path / 'sections.png'}" in capsys.readouterr().out
