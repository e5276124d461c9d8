# %% [markdown]
"""Lesson 8: hand-made kernels are image filters. Sharpen and box blur, applied to a picture.

A 3x3 kernel that averages a pixel with its eight neighbours (every weight 1/9) is a box blur: it smooths
edges, fine texture and thin strokes away. The sharpen kernel [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] does the
opposite: it is the pixel plus four times (pixel minus the mean of its four neighbours), so it exaggerates
whatever differs from its surroundings, edges first, and leaves flat regions alone. Both kernels sum to 1,
so neither changes the overall brightness. A convolutional network learns kernels like these by itself,
as lesson 3 did with the edge detector.

The picture is a synthetic scene drawn with NumPy (sky, sun, a brick house, a tree and a sign reading CNN),
so the demo needs no download. Without padding the filtered images are one pixel smaller on each side, so
the original is shown cropped to match. Writes the three side by side to runs/demos/image_filters.png.
"""

# %%
from pathlib import Path

import numpy as np

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite.utils.viz import save_image_row

OUT = Path("runs/demos")
SHARPEN = tl.tensor([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]])
BOX_BLUR = tl.ones(3, 3) / 9


# %%
def draw_strokes(canvas, polylines, width, value):
    """Paint each polyline [(row, col), ...] as a stroke of the given width (in pixels)."""
    rows, cols = np.indices(canvas.shape)
    for line in polylines:
        for (r0, c0), (r1, c1) in zip(line, line[1:]):
            t = ((rows - r0) * (r1 - r0) + (cols - c0) * (c1 - c0)) / ((r1 - r0) ** 2 + (c1 - c0) ** 2)
            t = np.clip(t, 0, 1)
            distance = np.hypot(rows - (r0 + t * (r1 - r0)), cols - (c0 + t * (c1 - c0)))
            canvas[distance <= width / 2] = value


# %%
def synthetic_scene():
    """A 96x128 grey-level landscape in [0, 1]: smooth gradients, hard edges, fine texture and thin strokes."""
    rows, cols = np.indices((96, 128), dtype=np.float32)

    def box(top, bottom, left, right):
        return (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)

    horizon = 62 + 4 * np.sin(cols / 14)
    scene = np.where(rows < horizon, 0.5 + 0.35 * rows / 62, 0.42 - 0.12 * (rows - 62) / 34)  # sky, ground
    scene[np.hypot(rows - 18, cols - 100) <= 9.5] = 1.0  # sun

    wall = box(44, 78, 18, 58)
    mortar = (rows % 5 == 0) | ((cols + 5 * (rows // 5 % 2)) % 10 == 0)
    scene[wall] = np.where(mortar, 0.42, 0.62)[wall]
    scene[(rows >= 26) & (rows < 44) & (np.abs(cols - 38) <= (rows - 26) * 1.25 + 2)] = 0.18  # roof
    scene[box(50, 62, 24, 36)] = 0.92  # window ...
    scene[box(50, 62, 29, 31) | box(55, 56, 24, 36)] = 0.3  # ... and its frame
    scene[box(60, 78, 42, 51)] = 0.12  # door

    scene[box(55, 82, 78, 83)] = 0.2  # tree trunk ...
    scene[np.hypot((rows - 48) / 1.2, cols - 80) <= 11] = 0.28  # ... and crown

    scene[box(66, 90, 107, 109)] = 0.25  # signpost ...
    scene[box(66, 82, 92, 124)] = 0.1  # ... and its board, lettered CNN
    letter_c = [(70, 100), (70, 95), (78, 95), (78, 100)]
    letter_n = [[(78, c), (70, c), (78, c + 6), (70, c + 6)] for c in (104, 114)]
    draw_strokes(scene, [letter_c, *letter_n], width=1.6, value=0.95)
    return scene


# %%
def neighbour_difference(image):
    """Mean |pixel - right-hand neighbour|: how much fine detail and how many edges an image has."""
    return (image[:, 1:] - image[:, :-1]).abs().mean().item()


# %%
def main():
    scene = synthetic_scene()
    image = tl.tensor(scene).reshape(1, 1, *scene.shape)
    print(f"a {scene.shape[0]}x{scene.shape[1]} synthetic scene, filtered by F.conv2d without padding")
    print(f"sharpen kernel:\n{SHARPEN}\nbox blur kernel:\n{BOX_BLUR}")
    versions = {
        "original": image[0, 0, 1:-1, 1:-1],
        "sharpened": F.conv2d(image, SHARPEN.reshape(1, 1, 3, 3))[0, 0],
        "box blur": F.conv2d(image, BOX_BLUR.reshape(1, 1, 3, 3))[0, 0],
    }

    def shifted(a, b):
        """The scene moved so that pixel (i, j) of the result is pixel (i + a, j + b) of the scene."""
        return scene[a:a + scene.shape[0] - 2, b:b + scene.shape[1] - 2]

    five_point = 5 * shifted(1, 1) - shifted(0, 1) - shifted(2, 1) - shifted(1, 0) - shifted(1, 2)
    np.testing.assert_allclose(versions["sharpened"].numpy(), five_point, atol=1e-5)
    window_mean = sum(shifted(a, b) for a in range(3) for b in range(3)) / 9
    np.testing.assert_allclose(versions["box blur"].numpy(), window_mean, atol=1e-5)

    detail = {name: neighbour_difference(x) for name, x in versions.items()}
    brightness = {name: x.mean().item() for name, x in versions.items()}
    print(f"\n{'':<9}  detail  brightness    (detail: mean |pixel - right-hand neighbour|)")
    for name in versions:
        print(f"{name:<9}  {detail[name]:.4f}      {brightness[name]:.4f}")
    assert detail["box blur"] < detail["original"] < detail["sharpened"]
    assert max(brightness.values()) - min(brightness.values()) < 0.01, "kernels that sum to 1 keep the brightness"

    save_image_row(
        list(versions.values()), list(versions), OUT / "image_filters.png",
        what="filtered images", vmin=0, vmax=1, panel_inches=4.0,
    )


# %%
if __name__ == "__main__":
    main()
