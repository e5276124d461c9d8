"""Pictures for the lessons: images in a row or a grid under their titles, and saving any figure as a PNG.

matplotlib is optional (``pip install tensorlite[viz]``). Without it, ``new_figure`` prints one line saying so
and returns None, and the image helpers draw nothing, so a lesson still runs and still checks its numbers.
Figures are ``matplotlib.figure.Figure`` objects rather than ``pyplot`` ones: nothing here changes the global
backend or leaves a window open, so the helpers behave the same in a script, a test and a notebook.
"""
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
