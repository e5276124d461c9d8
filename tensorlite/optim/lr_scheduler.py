"""Learning-rate schedulers, as ``torch.optim.lr_scheduler``.

A scheduler wraps an optimiser; each ``scheduler.step()`` (once an epoch, after ``optimizer.step()``)
advances ``last_epoch`` by one and sets every parameter group's ``'lr'``::

    scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
    for epoch in range(100):
        train(...)
        scheduler.step()
"""
import math
import warnings
from bisect import bisect_right

from .optimizer import Optimizer

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` is deprecated, as in PyTorch: use `scheduler.step()`. "
    "With an epoch, the closed form of the schedule is used instead of the chainable form."
)


class LRScheduler:
    """Base class of the schedulers.

    It counts epochs in ``last_epoch`` (0 once constructed) and keeps each group's starting rate in
    ``base_lrs`` (also stored in the group as ``'initial_lr'``, which is how a scheduler resumed with
    ``last_epoch >= 0`` finds it). A subclass gives its schedule in the two forms torch uses:

    - ``get_lr()``, the chainable form: the next rates computed from the groups' current ``'lr'``, so that
      other changes to the rates compose with it; ``step()`` uses it, so the values equal torch's exactly;
    - ``_get_closed_form_lr()``: the rates at ``last_epoch`` from ``base_lrs`` alone, used by the
      deprecated ``step(epoch)`` to jump to an epoch.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an optimizer"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        # Construction counts as the first step: the next epoch starts at the groups' current rates.
        self.last_epoch = last_epoch + 1
        self._last_lr = self._current_lrs()

    def _current_lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self):
        """The rates for epoch ``last_epoch``, from the current ones (the chainable form)."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr")

    def _get_closed_form_lr(self):
        """The rates for epoch ``last_epoch``, from ``base_lrs`` (the closed form)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _get_closed_form_lr")

    def step(self, epoch=None):
        """Advance one epoch and set every group's ``'lr'`` (``epoch``, deprecated, jumps to that epoch)."""
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            self.last_epoch = epoch
            rates = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def get_last_lr(self):
        """The rates the last ``step()`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        """Every attribute but the optimiser (save the optimiser's own ``state_dict`` next to it)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rates by ``gamma`` every ``step_size`` epochs: lr = base_lr · gamma^⌊epoch / step_size⌋."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma if self.last_epoch % self.step_size == 0 else 1
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rates by ``gamma`` at each milestone epoch: lr = base_lr · gamma^(milestones passed).

    A milestone listed n times multiplies by gamma^n.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = sorted(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        factor = self.gamma ** self.milestones.count(self.last_epoch)
        return [lr * factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** bisect_right(self.milestones, self.last_epoch) for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rates by ``gamma`` every epoch: lr = base_lr · gamma^epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal the rates along half a cosine from base_lr down to ``eta_min`` over ``T_max`` epochs::

        lr(t) = eta_min + (base_lr - eta_min) · (1 + cos(π t / T_max)) / 2

    Past ``T_max`` the curve climbs back up (it is periodic, with period 2 T_max; there are no restarts).
    ``step()`` uses torch's recursive form, which gets each rate from the previous one::

        lr(t) = eta_min + (lr(t-1) - eta_min) · (1 + cos(π t / T_max)) / (1 + cos(π (t-1) / T_max))
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, period = self.last_epoch, self.T_max
        if (t - 1 - period) % (2 * period) == 0:
            # lr(t-1) sits at the bottom, eta_min, where the ratio below is 0/0: add the closed form's increment.
            rise = 1 - math.cos(math.pi / period)
            return [lr + (base_lr - self.eta_min) * rise / 2 for lr, base_lr in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / period)) / (1 + math.cos(math.pi * (t - 1) / period))
        return [ratio * (lr - self.eta_min) + self.eta_min for lr in self._current_lrs()]

    def _get_closed_form_lr(self):
        cosine = 1 + math.cos(math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]
