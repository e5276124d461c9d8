"""Pictures for the lessons: images in a row or a grid under their titles, rows of images on shared colour scales
with their colour bars, and saving any figure as a PNG.

matplotlib is optional (``pip install tensorlite[viz]``). Without it, ``new_figure`` prints one line saying so
and returns None, and the image helpers draw nothing, so a lesson still runs and still checks its numbers.
Figures are ``matplotlib.figure.Figure`` objects rather than ``pyplot`` ones: nothing here changes the global
backend or leaves a window open, so the helpers behave the same in a script, a test and a notebook.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MATPLOTLIB_MISSING = "matplotlib is not installed (pip install tensorlite[viz]); no picture written"


def new_figure(**figure_kwargs):
    """A ``matplotlib.figure.Figure(**figure_kwargs)``, or None after printing a note when matplotlib is missing."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        print(MATPLOTLIB_MISSING)
        return None
    return Figure(**figure_kwargs)


def save_figure(fig, path, what="picture"):
    """Write ``fig`` to ``path`` (a PNG, folders created as needed) and print ``"<what> written to <path>"``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"{what} written to {path}")


def save_image_grid(images, titles, path, *, columns=None, what="images", vmin=None, vmax=None, show_values=False,
                    panel_inches=1.6):
    """Draw 2-D images (tensors or arrays) in grey, ``columns`` to a row (default: all in one row), each under
    its title, and save them to ``path``. A None image leaves its cell empty.

    ``vmin`` / ``vmax`` fix the grey scale shared by all panels (black at ``vmin``, white at ``vmax``); by
    default each panel spans its own minimum to maximum. ``show_values`` writes every pixel's value in its
    cell, for the small matrices of the lessons. Each panel is about ``panel_inches`` wide (100 pixels an inch).
    """
    columns = columns or len(images)
    rows = -(-len(images) // columns)
    fig = new_figure(figsize=(panel_inches * columns, panel_inches * rows))
    if fig is None:
        return
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(images):]:
        ax.set_axis_off()
    for ax, image, title in zip(axes, images, titles):
        if image is None:
            ax.set_axis_off()
            continue
        pixels = np.asarray(image.detach().cpu().numpy() if hasattr(image, "detach") else image, dtype=np.float64)
        shown = ax.imshow(pixels, cmap="gray", vmin=vmin, vmax=vmax, interpolation="nearest")
        if show_values:
            low, high = shown.get_clim()
            for (row, col), value in np.ndenumerate(pixels):
                dark = (value - low) < 0.5 * (high - low)
                ax.text(col, row, f"{value:g}", ha="center", va="center", size=8, color="white" if dark else "black")
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    save_figure(fig, path, what)


def save_image_row(images, titles, path, **options):
    """``save_image_grid`` with all the images side by side in one row; the same keyword options."""
    save_image_grid(images, titles, path, **options)


def as_array(image):
    """A tensor (on any device) or array-like as a float64 NumPy array."""
    return np.asarray(image.detach().cpu().numpy() if hasattr(image, "detach") else image, dtype=np.float64)


def symmetric_limit(images):
    """The largest absolute value over ``images``: a colour scale from -limit to +limit puts zero in its middle.
    1.0 when every value is zero, so that the scale is never empty."""
    limit = max((float(np.abs(as_array(image)).max()) for image in images), default=0.0)
    return limit if limit > 0 else 1.0


@dataclass
class ImageRows:
    """A heading over a set of images laid out a fixed number to a row; ``titles``, when given, go over each image."""

    heading: str
    images: list
    titles: list = None


@dataclass
class ColourScale:
    """One colour scale shared by every image of a group: ``cmap`` from ``vmin`` to ``vmax`` (by default the
    group's smallest and largest value). ``label`` names the colour bar drawn beside the group; None draws none."""

    cmap: str = "gray"
    vmin: float = None
    vmax: float = None
    label: str = None


HEADING_HEIGHT = 0.32  # a heading's row, as a fraction of an image row's height


def save_image_sections(groups, path, *, columns, what="images", title=None, panel_inches=1.0):
    """Draw groups of ``ImageRows`` under one another, ``columns`` images to a row, and save them to ``path``.

    ``groups`` is a list of ``(ColourScale, [ImageRows, ...])``. Every image of a group is drawn on that group's
    scale, so equal colours mean equal values across the whole group, and the group's colour bar spans its rows.
    Colours compare within a group, not between groups: each group has a scale of its own.
    """
    sections = []  # (group index, ImageRows, first grid row of its images, number of image rows)
    height_ratios = []
    for g, (_, rows_of_group) in enumerate(groups):
        for section in rows_of_group:
            image_rows = max(1, -(-len(section.images) // columns))
            height_ratios.append(HEADING_HEIGHT)
            sections.append((g, section, len(height_ratios), image_rows))
            height_ratios += [1.0] * image_rows
    width_ratios = [1.0] * columns + [0.12, 0.14]  # the images, a gap, the colour bars
    title_inches = 0.45 if title else 0.0
    height = panel_inches * sum(height_ratios) * 1.1 + title_inches
    fig = new_figure(figsize=(panel_inches * sum(width_ratios) * 1.05, height))
    if fig is None:
        return
    grid = fig.add_gridspec(len(height_ratios), len(width_ratios), height_ratios=height_ratios,
                            width_ratios=width_ratios, hspace=0.25, wspace=0.08,
                            left=0.02, right=0.98, bottom=0.02, top=1 - title_inches / height)
    scales = []
    for scale, rows_of_group in groups:
        pixels = [as_array(image) for section in rows_of_group for image in section.images]
        vmin = scale.vmin if scale.vmin is not None else min((p.min() for p in pixels), default=0.0)
        vmax = scale.vmax if scale.vmax is not None else max((p.max() for p in pixels), default=1.0)
        scales.append((scale, vmin, vmax))
    drawn = {}  # group index → (its last image drawn, its first grid row of images, its last)
    for g, section, first_row, image_rows in sections:
        scale, vmin, vmax = scales[g]
        heading = fig.add_subplot(grid[first_row - 1, :columns])
        heading.set_axis_off()
        heading.text(0, 0, section.heading, transform=heading.transAxes, ha="left", va="bottom", fontsize=10)
        for i, image in enumerate(section.images):
            ax = fig.add_subplot(grid[first_row + i // columns, i % columns])
            shown = ax.imshow(as_array(image), cmap=scale.cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if section.titles is not None:
                ax.set_title(section.titles[i], fontsize=8, pad=2)
            ax.set_xticks([])
            ax.set_yticks([])
            top = drawn[g][1] if g in drawn else first_row
            drawn[g] = (shown, top, first_row + image_rows - 1)
    for g, (shown, top, bottom) in drawn.items():
        if scales[g][0].label:
            bar = fig.colorbar(shown, cax=fig.add_subplot(grid[top:bottom + 1, -1]))
            bar.set_label(scales[g][0].label, fontsize=9)
            bar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title, fontsize=11, x=0.02, y=1 - 0.08 / height, ha="left", va="top")
    save_figure(fig, path, what)
