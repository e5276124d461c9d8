"""The import hook (tensorlite.compat) and the runner (tensorlite run / python -m tensorlite.run)."""
import importlib
import subprocess
import sys

import pytest

import tensorlite as tl
from tensorlite import compat
from tests.programs.test_programs import environment


@pytest.fixture
def hook():
    compat.install()
    yield
    compat.uninstall()


def test_import_tensorlite_installs_no_hook():
    assert not compat.installed()
    assert not any(isinstance(finder, compat.TorchFinder) for finder in sys.meta_path)


def test_torch_names_are_tensorlite_objects(hook):
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    from torch.optim.lr_scheduler import StepLR
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    assert nn.Conv2d is tl.nn.Conv2d and F.relu is tl.nn.functional.relu and StepLR is tl.optim.lr_scheduler.StepLR
    assert DataLoader is tl.data.DataLoader is torch.utils.data.DataLoader
    assert datasets.MNIST is tl.data.datasets.MNIST and transforms.ToTensor is tl.data.transforms.ToTensor
    assert torchvision.datasets is datasets and torch.nn is nn
    assert isinstance(torch.zeros(2), torch.Tensor) and torch.float32 is tl.float32
    assert torch.device("cpu") == tl.device("cpu") and torch.manual_seed is tl.manual_seed
    assert torch.cuda.is_available() == tl.cuda.is_available() and torch.save is tl.save
    from torch.nn.utils import clip_grad_norm_
    assert clip_grad_norm_ is nn.utils.clip_grad_norm_ is tl.nn.utils.clip_grad_norm_


@pytest.mark.parametrize("module, name", [("torch.nn", "TransformerEncoder"), ("torch.optim", "LBFGS"),
                                          ("torchvision.datasets", "CIFAR10"), ("torch.utils", "checkpoint")])
def test_a_missing_name_raises_not_implemented_naming_it(hook, module, name):
    with pytest.raises(NotImplementedError, match=f"^tensorlite does not implement {module}.{name}$"):
        getattr(importlib.import_module(module), name)


def test_a_missing_module_imports_and_fails_at_first_use(hook):
    import torchvision.models as models

    with pytest.raises(NotImplementedError, match="^tensorlite does not implement torchvision.models.resnet18$"):
        models.resnet18()
    with pytest.raises(NotImplementedError, match="^tensorlite does not implement torchvision.io.read_image$"):
        from torchvision.io import read_image  # noqa: F401


def test_torchvision_utils_is_the_image_module(hook):
    from torchvision.utils import make_grid, save_image

    from tensorlite.utils import image

    assert (make_grid, save_image) == (image.make_grid, image.save_image)
    with pytest.raises(NotImplementedError, match="^tensorlite does not implement torchvision.utils.draw_bounding_boxes$"):
        from torchvision.utils import draw_bounding_boxes  # noqa: F401


def test_dunder_names_stay_attribute_errors(hook):
    import torch

    assert not hasattr(torch, "__file__")
    assert torch.__version__ == tl.__version__
    assert "nn" in torch.__all__ and "Tensor" in dir(torch)


def test_limit_batches_stops_every_pass():
    compat.install(limit_batches=2)
    try:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        loader = DataLoader(TensorDataset(torch.arange(10)), batch_size=3)
        assert isinstance(loader, tl.data.DataLoader)
        assert len(loader) == 2 and [len(b[0]) for b in loader] == [3, 3] and len(list(loader)) == 2
    finally:
        compat.uninstall()


def test_uninstall_restores_the_real_torch():
    real = pytest.importorskip("torch")
    compat.install()
    try:
        import torch as proxy

        assert isinstance(proxy, compat.TorchModule)
    finally:
        compat.uninstall()
    import torch

    assert torch is real and not any(isinstance(m, compat.TorchModule) for m in sys.modules.values())


@pytest.mark.parametrize("command", [["-m", "tensorlite", "run"], ["-m", "tensorlite.run"]])
def test_runner_runs_a_script_as_main_with_its_arguments(tmp_path, command):
    script = tmp_path / "script.py"
    script.write_text("import sys, torch\nprint(__name__, sys.argv[1:], type(torch.zeros(1)).__module__)\n")
    result = subprocess.run([sys.executable, *command, str(script), "--epochs", "1", "x"], cwd=tmp_path,
                            env=environment(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "__main__ ['--epochs', '1', 'x'] tensorlite.tensor"


def test_runner_refuses_a_bad_batch_limit(tmp_path):
    script = tmp_path / "script.py"
    script.write_text("print('ran')\n")
    env = dict(environment(), TENSORLITE_RUN_LIMIT_BATCHES="0")
    result = subprocess.run([sys.executable, "-m", "tensorlite", "run", str(script)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "TENSORLITE_RUN_LIMIT_BATCHES must be a positive integer" in result.stderr
    assert "ran" not in result.stdout
