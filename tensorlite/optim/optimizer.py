"""``Optimizer``: the bookkeeping every optimiser shares, so that an algorithm is one method.

The base class keeps the parameter groups (each with its own options), the per-parameter state, and
``zero_grad``, ``step``, ``state_dict`` and ``load_state_dict``, and the two gradient changes every algorithm
starts with (``maximize`` negates it, ``weight_decay`` adds the L2 penalty λ θ). A subclass only says how one
parameter moves given that gradient: ``_update(param, grad, state, group)``.
"""
import warnings
from collections import defaultdict

from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor


class Optimizer:
    """Base class of the optimisers, as ``torch.optim.Optimizer``.

    ``params`` is an iterable of tensors, or of dicts (parameter groups), each with a ``'params'`` entry and
    any options that override ``defaults`` for that group::

        SGD([{'params': features}, {'params': head, 'lr': 1e-2}], lr=1e-3, momentum=0.9)

    ``param_groups`` is the list of groups: dicts holding ``'params'`` and every option.
    ``state`` maps a parameter to its own state, a dict (e.g. SGD's ``momentum_buffer``).
    """

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {type(params).__name__}"
            )
        self.defaults = defaults
        self.state = defaultdict(dict)
        self.param_groups = []
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options; the options it leaves out come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors "
                "in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not param.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        if len({id(p) for p in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; they will be updated more than once",
                stacklevel=3,
            )
        taken = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in taken for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append({**self.defaults, **param_group, "params": params})

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: set every parameter's ``.grad`` to None (or fill it with zeros)."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None:
                    if set_to_none:
                        param.grad = None
                    else:
                        param.grad.zero_()

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns ``closure()``'s loss when a closure is given.

        ``closure`` re-evaluates the model and returns the loss; it runs first, with grad enabled. The updates
        run under ``no_grad``: they change the parameters in place and record nothing. With a group's
        ``maximize`` option the gradient is negated first, so the parameters climb instead of descend; then
        ``_decay_weights`` applies the group's ``weight_decay``.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        grad = -param.grad if group.get("maximize", False) else param.grad
                        grad = self._decay_weights(param, grad, group)
                        self._update(param, grad, self.state[param], group)
        return loss

    def _decay_weights(self, param, grad, group):
        """Weight decay as an L2 penalty: returns g + λ θ (λ = the group's ``weight_decay``; g itself when λ = 0 or
        the optimiser has no such option). AdamW overrides it to shrink θ instead."""
        weight_decay = group.get("weight_decay", 0)
        return grad.add(param, alpha=weight_decay) if weight_decay != 0 else grad

    def _update(self, param, grad, state, group):
        """Move ``param`` in place, given its gradient, its ``state`` dict (empty at first) and its group's options."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def state_dict(self):
        """The optimiser's state in torch's layout, with each parameter replaced by its index.

        Parameters are numbered in the order of ``param_groups``::

            {'state': {0: {'momentum_buffer': tensor(...)}, 1: {...}},
             'param_groups': [{'lr': 0.01, 'momentum': 0.9, ..., 'params': [0, 1]}]}
        """
        index = {}
        groups = []
        for group in self.param_groups:
            for param in group["params"]:
                index.setdefault(id(param), len(index))
            options = {key: value for key, value in group.items() if key != "params"}
            groups.append({**options, "params": [index[id(p)] for p in group["params"]]})
        state = {index[id(param)]: dict(param_state) for param, param_state in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore a ``state_dict()`` into an optimiser whose groups hold the same number of parameters.

        The groups' options are taken from ``state_dict``; state tensors are copied onto their parameter's
        device, floating ones cast to its dtype, as torch does. A torch optimiser's state dict with its tensors
        converted to tensorlite tensors loads too: its ``step`` tensors become ints.
        """
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(self.param_groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group that doesn't match the size of optimizer's group"
            )
        param_at = {
            index: param
            for group, saved in zip(self.param_groups, saved_groups)
            for index, param in zip(saved["params"], group["params"])
        }
        self.state = defaultdict(dict)
        for index, saved_state in state_dict["state"].items():
            if index not in param_at:
                raise ValueError(
                    f"loaded state dict has state for parameter {index!r}, which is not in its param_groups"
                )
            param = param_at[index]
            self.state[param] = {key: _placed_like(param, key, value) for key, value in saved_state.items()}
        self.param_groups = [{**saved, "params": g["params"]} for g, saved in zip(self.param_groups, saved_groups)]

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines + [")"])


def _check_non_negative(**options):
    """Raise torch's ``ValueError`` for the first option (in the order given) that is negative or NaN."""
    for name, value in options.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_OPTION_NAMES.get(name, name + ' value')}: {value}")


_OPTION_NAMES = {"lr": "learning rate", "eps": "epsilon value"}  # the others read "Invalid <name> value: ..."


def _placed_like(param, key, value):
    """A copy of a loaded state value for ``param``: tensors go to its device, floating ones to its dtype;
    the step counter ``step``, a 0-d float tensor in torch's state dicts, becomes the ``int`` tensorlite counts
    with; anything else is returned as it is."""
    if key == "step" and isinstance(value, Tensor) and value.numel() == 1:
        return int(value.item())
    if not isinstance(value, Tensor):
        return value
    dtype = param.dtype if value.is_floating_point() and key != "step" else value.dtype
    return value.detach().to(device=param.device, dtype=dtype).clone()
