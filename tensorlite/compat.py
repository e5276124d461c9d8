"""Run PyTorch code unchanged: an import hook that answers ``import torch`` (and the MNIST parts of
``torchvision``) with tensorlite.

``install()`` puts a finder first on ``sys.meta_path``; from then on ``import torch``, ``import torch.nn as nn``,
``from torch.utils.data import DataLoader`` or ``from torchvision import datasets, transforms`` return thin
proxy modules. A proxy is a module object whose ``__getattr__`` looks a name up in the tensorlite module it
stands for (``MODULES`` below) and, when tensorlite has no such name, raises::

    NotImplementedError: tensorlite does not implement torch.nn.TransformerEncoder

at the first use, naming the full dotted name, instead of an ``AttributeError`` somewhere later. Importing a
module tensorlite lacks (``import torchvision.models``) succeeds and gives a proxy with no names, so the error
comes at the first name taken from it. ``uninstall()`` removes the finder and the proxies and puts back any
torch modules that were imported before ``install()``. ``import tensorlite`` itself installs nothing;
``tensorlite run SCRIPT.py`` (``tensorlite/run.py``) installs the hook around one script.
"""
import importlib
import importlib.abc
import importlib.machinery
import itertools
import sys
import types

# The torch and torchvision modules the hook answers, and the tensorlite module each one stands for
# (None: a namespace holding only the submodules listed here). A name not listed is looked up as an attribute
# of its parent's tensorlite module (``torch.backends.cudnn`` if ``tensorlite.backends`` has a module
# ``cudnn``); failing that the proxy is empty and every name taken from it raises NotImplementedError.
MODULES = {
    "torch": "tensorlite",
    "torch.nn": "tensorlite.nn",
    "torch.nn.functional": "tensorlite.nn.functional",
    "torch.nn.init": "tensorlite.nn.init",
    "torch.nn.parameter": "tensorlite.nn.parameter",
    "torch.nn.utils": "tensorlite.nn.utils",
    "torch.optim": "tensorlite.optim",
    "torch.optim.lr_scheduler": "tensorlite.optim.lr_scheduler",
    "torch.autograd": "tensorlite.autograd",
    "torch.cuda": "tensorlite.cuda",
    "torch.backends": "tensorlite.backends",
    "torch.utils": None,
    "torch.utils.data": "tensorlite.data",
    "torchvision": None,
    "torchvision.datasets": "tensorlite.data.datasets",
    "torchvision.transforms": "tensorlite.data.transforms",
    "torchvision.utils": "tensorlite.utils.image",
}
ROOTS = {"torch", "torchvision"}
DUNDERS_FORWARDED = {"__version__", "__doc__"}


def missing(name):
    """The error for a torch name tensorlite lacks."""
    return NotImplementedError(f"tensorlite does not implement {name}")


def handles(name):
    """Is ``name`` a module the hook answers (``torch``, ``torchvision`` or below)?"""
    return name.partition(".")[0] in ROOTS


class TorchModule(types.ModuleType):
    """A proxy standing in for the torch module ``name``: names come from the tensorlite module ``target``
    (``None`` for a namespace or a module tensorlite lacks), except those in ``overrides``."""

    def __init__(self, name, target, overrides):
        super().__init__(name, target.__doc__ if target is not None else None)
        self.__tensorlite__ = target
        self.__overrides__ = overrides

    def __getattr__(self, attr):
        target = self.__tensorlite__
        if attr.startswith("__") and attr.endswith("__"):
            if attr == "__all__":
                return [name for name in self.__dir__() if not name.startswith("_")]
            if attr in DUNDERS_FORWARDED and target is not None:
                return getattr(target, attr)
            raise AttributeError(f"module {self.__name__!r} has no attribute {attr!r}")
        full = f"{self.__name__}.{attr}"
        if full in MODULES:
            value = importlib.import_module(full)
        elif attr in self.__overrides__:
            value = self.__overrides__[attr]
        elif target is not None and not attr.startswith("_") and hasattr(target, attr):
            value = getattr(target, attr)
        else:
            raise missing(full)
        setattr(self, attr, value)
        return value

    def __dir__(self):
        prefix = self.__name__ + "."
        submodules = {name[len(prefix):] for name in MODULES if name.startswith(prefix) and "." not in name[len(prefix):]}
        names = set(dir(self.__tensorlite__)) if self.__tensorlite__ is not None else set()
        return sorted(submodules | set(self.__overrides__) | {n for n in names if not n.startswith("_")})

    def __repr__(self):
        target = self.__tensorlite__
        return f"<module {self.__name__!r} (tensorlite: {target.__name__ if target is not None else 'not implemented'})>"


def limited_data_loader(loader_class, limit):
    """A subclass of ``loader_class`` whose every pass (and ``len``) stops after ``limit`` batches."""

    class DataLoader(loader_class):
        __doc__ = f"{loader_class.__doc__ or ''}\n\n(Each pass stops after {limit} batches: tensorlite run's limit.)"

        def __iter__(self):
            return itertools.islice(super().__iter__(), limit)

        def __len__(self):
            return min(super().__len__(), limit)

    return DataLoader


class TorchFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """The ``sys.meta_path`` entry that makes a ``TorchModule`` for every torch and torchvision import."""

    def __init__(self, limit_batches=None):
        self.overrides = {}
        if limit_batches is not None:
            from .data import DataLoader

            self.overrides["torch.utils.data"] = {"DataLoader": limited_data_loader(DataLoader, limit_batches)}

    def find_spec(self, fullname, path=None, target=None):
        if not handles(fullname):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return TorchModule(spec.name, self.target_of(spec.name), self.overrides.get(spec.name, {}))

    def exec_module(self, module):
        """Nothing to run: a proxy's names are looked up when they are used."""

    @staticmethod
    def target_of(name):
        """The tensorlite module standing for the torch module ``name``, or ``None``."""
        if name in MODULES:
            return importlib.import_module(MODULES[name]) if MODULES[name] else None
        parent, _, attr = name.rpartition(".")
        parent_target = getattr(sys.modules.get(parent), "__tensorlite__", None)
        value = getattr(parent_target, attr, None)
        return value if isinstance(value, types.ModuleType) else None


_installed = None  # (finder, {name: module} of the torch modules set aside by install)


def install(limit_batches=None):
    """Answer ``import torch`` / ``import torchvision`` with tensorlite from now on (until ``uninstall()``).

    ``limit_batches``: stop every pass over a ``torch.utils.data.DataLoader`` after that many batches (a quick
    run of a long training script). Torch modules already imported are set aside until ``uninstall()``;
    names already bound to them (an earlier ``import torch``) keep pointing to them.
    """
    uninstall()
    global _installed
    set_aside = {name: sys.modules.pop(name) for name in list(sys.modules) if handles(name)}
    finder = TorchFinder(limit_batches)
    sys.meta_path.insert(0, finder)
    _installed = (finder, set_aside)


def uninstall():
    """Remove the hook and its proxy modules and restore the torch modules ``install()`` set aside."""
    global _installed
    if _installed is None:
        return
    finder, set_aside = _installed
    sys.meta_path.remove(finder)
    for name in [n for n, module in sys.modules.items() if isinstance(module, TorchModule)]:
        del sys.modules[name]
    sys.modules.update(set_aside)
    _installed = None


def installed():
    """Is the hook installed?"""
    return _installed is not None
