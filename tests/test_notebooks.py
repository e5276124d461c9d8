"""The lesson notebooks in notebooks/ are the demo scripts in demos/ as Jupyter notebooks.

The scripts are the source (jupytext's percent format: ``# %%`` starts a code cell, ``# %% [markdown]`` a text
cell); the committed notebooks are generated from them without outputs and must stay equal to what jupytext makes
of the scripts today. Every notebook is then executed top to bottom in a fresh kernel of this interpreter, in a
temporary folder, with no MNIST (its lesson skips itself): about 45 s for all of them on two cores.
"""
import os
from pathlib import Path

import jupytext
import nbclient
import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec

ROOT = Path(__file__).resolve().parent.parent
DEMOS = sorted((ROOT / "demos").glob("[0-9]*.py"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REGENERATE = "jupytext --set-kernel python3 --to ../notebooks//ipynb demos/[0-9]*.py"
CELL_TIMEOUT_S = 300

# A line each lesson prints once its checks have passed: seen in the notebook's outputs, the lesson ran to its end.
LAST_WORDS = {
    "01_mlp_spiral": "test accuracy",
    "01b_graph_order": "x.grad = [8.0, 8.0, 8.0]",
    "02_corr2d_and_edges": "the transposed kernel finds the horizontal edges",
    "03_learning_a_kernel": "learned kernel:",
    "04_padding_and_stride": "Conv2d(5, 10, 3).weight has shape (10, 5, 3, 3)",
    "05_channels": "1x1 convolution vs matmul",
    "06_pooling": "nearest-neighbour interpolation doubles it",
    "07_batch_norm": "eval mode output, a new batch",
    "08_image_filters": "sharpened",
    "09_mnist": "MNIST is not available here, so this lesson is skipped",
}


def cells(notebook):
    """What a reader sees of a notebook: each cell's kind and text."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_every_demo_has_a_notebook_and_every_notebook_a_demo():
    assert DEMOS, "no demo scripts found"
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in DEMOS], f"notebooks/ and demos/ differ; run: {REGENERATE}"


@pytest.mark.parametrize("demo", DEMOS, ids=lambda p: p.stem)
def test_notebook_is_generated_from_its_demo(demo):
    notebook_path = ROOT / "notebooks" / f"{demo.stem}.ipynb"
    assert notebook_path.exists(), f"{notebook_path.name} is missing; run: {REGENERATE}"
    generated, committed = jupytext.read(demo), nbformat.read(notebook_path, as_version=4)
    assert [kind for kind, _ in cells(generated)].count("markdown") >= 1, f"{demo.name} has no [markdown] cell"
    assert cells(committed) == cells(generated), f"{notebook_path.name} is out of date with {demo.name}; run: {REGENERATE}"
    assert committed.metadata.kernelspec.name == "python3", f"{notebook_path.name} names no python3 kernel"


@pytest.mark.parametrize("notebook_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(notebook_path):
    notebook = nbformat.read(notebook_path, as_version=4)
    nbformat.validate(notebook)
    for i, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{notebook_path.name}: cell {i} has outputs"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory):
    """A folder for JUPYTER_PATH holding a kernel spec that starts ipykernel in this very interpreter."""
    folder = tmp_path_factory.mktemp("jupyter")
    write_kernel_spec(folder / "kernels" / "tensorlite-tests")
    return folder


@pytest.mark.parametrize("notebook_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_without_errors(notebook_path, kernel_dir, tmp_path, monkeypatch):
    assert notebook_path.stem in LAST_WORDS, f"add to LAST_WORDS a line that {notebook_path.stem} prints at its end"
    no_data = tmp_path / "not-a-folder"
    no_data.write_text("")  # MNIST's folder under a file: it can be neither found nor downloaded
    env = dict(os.environ, TENSORLITE_DATA=str(no_data / "data"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), MPLBACKEND="Agg")
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))  # where the kernel spec is looked up, in this process
    notebook = nbformat.read(notebook_path, as_version=4)
    client = nbclient.NotebookClient(notebook, kernel_name="tensorlite-tests", timeout=CELL_TIMEOUT_S,
                                     startup_timeout=120, resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)  # a cell that raises raises CellExecutionError here, with its traceback
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells), "not every code cell ran"
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]
    printed = "".join(out.get("text", "") for cell in code_cells for out in cell.outputs if out.output_type == "stream")
    assert LAST_WORDS[notebook_path.stem] in printed, f"{notebook_path.stem} did not run to its end:\n{printed[-2000:]}"
