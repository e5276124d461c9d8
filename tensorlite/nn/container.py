"""Containers: modules that hold other modules — ``Sequential``, ``ModuleList``, ``ModuleDict``."""
import operator
from collections import OrderedDict

from .module import Module, _addindent


def _absolute_index(idx, size):
    """``idx`` (possibly negative) as an index into ``range(size)``, with torch's error when out of range."""
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range")
    return idx % size


class _ModuleSequence(Module):
    """What ``Sequential`` and ``ModuleList`` share: children kept in order and reached by position."""

    def _key(self, idx):
        return list(self._modules)[_absolute_index(idx, len(self))]

    def _sliced(self, items):
        """A new container of this type holding the ``(name, module)`` pairs ``items``."""
        raise NotImplementedError

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._sliced(list(self._modules.items())[idx])
        return self._modules[self._key(idx)]

    def __setitem__(self, idx, module):
        setattr(self, self._key(idx), module)

    def __delitem__(self, idx):
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._key(idx)]
        for key in keys:
            delattr(self, key)
        # renumber the remaining children 0, 1, ... as torch does
        object.__setattr__(self, "_modules", {str(i): m for i, m in enumerate(self._modules.values())})

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end, named by its position; returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not hasattr(modules, "__iter__"):
            raise TypeError(
                f"{type(self).__name__}.extend should be called with an iterable, but got {type(modules).__name__}"
            )
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        """Insert ``module`` before position ``index``; children are renumbered."""
        modules = list(self)
        modules.insert(index, module)
        object.__setattr__(self, "_modules", {})
        self.extend(modules)
        return self


class Sequential(_ModuleSequence):
    """Modules applied one after another: ``forward(x)`` returns ``m_k(...m_2(m_1(x)))``.

    Build it from modules (children named ``0``, ``1``, ...) or from an ``OrderedDict`` of named modules.
    Index it like a list: ``model[0]``, ``model[-1]``, ``model[1:]`` (a new ``Sequential``), ``len(model)``.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _sliced(self, items):
        return type(self)(OrderedDict(items))

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules that registers them (so ``parameters()``, ``to()`` and ``state_dict`` see them).

    It has no ``forward``: the owning module decides how to call its entries.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _sliced(self, items):
        return type(self)(module for _, module in items)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __repr__(self):
        """torch's compact form: runs of identical entries print once, as ``(0-2): 3 x Linear(...)``."""
        if not len(self):
            return f"{self._get_name()}()"
        runs = []  # [first index, last index, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [
            _addindent(f"({first}): {text}" if first == last else f"({first}-{last}): {last - first + 1} x {text}", 2)
            for first, last, text in runs
        ]
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dictionary of modules that registers them; keys are the children's names."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def pop(self, key):
        module = self[key]
        del self[key]
        return module

    def clear(self):
        self._modules.clear()

    def update(self, modules):
        """Add the entries of a mapping, or of an iterable of ``(key, module)`` pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module
