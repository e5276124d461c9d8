"""Grad mode: a thread-local switch that tells ops whether to record the graph."""
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


def swap_grad_enabled(mode):
    """Set grad mode to ``mode`` and return the mode it had: the cheap form of ``with no_grad():`` for the one
    place that switches it around every op (``Function.apply``), which restores it in a ``finally``."""
    previous = getattr(_state, "enabled", True)
    _state.enabled = mode
    return previous


class _GradMode:
    """Context manager and decorator that sets grad mode inside and restores the previous mode after."""

    def __init__(self, mode):
        self.mode = mode

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with _GradMode(mode):
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):
    """``with tl.no_grad():`` ops inside record nothing and their results do not require grad."""

    def __init__(self):
        super().__init__(False)


class enable_grad(_GradMode):
    """``with tl.enable_grad():`` record the graph again, e.g. inside a ``no_grad`` block."""

    def __init__(self):
        super().__init__(True)


class set_grad_enabled(_GradMode):
    """``tl.set_grad_enabled(False)`` switches at once; used in a ``with`` block it restores the old mode on exit."""

    def __init__(self, mode):
        super().__init__(bool(mode))
        self.prev = is_grad_enabled()
        _state.enabled = self.mode

    def __enter__(self):
        return self
