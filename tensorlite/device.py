"""Devices: where a tensor's storage lives ("cpu" or "cuda[:index]")."""


class device:
    """A device, spelled as in torch: ``device('cpu')``, ``device('cuda')``, ``device('cuda', 0)``, ``device('cuda:0')``."""

    TYPES = ("cpu", "cuda")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            type, index = type.type, type.index
        elif isinstance(type, str) and ":" in type:
            type, _, idx = type.partition(":")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}:{idx}'")
            index = int(idx)
        if type not in self.TYPES:
            raise RuntimeError(f"Expected one of {', '.join(self.TYPES)} device type at start of device string: {type}")
        if type == "cpu":
            index = None
        self.type = type
        self.index = index

    @property
    def is_cuda(self):
        return self.type == "cuda"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index or 0) == (other.type, other.index or 0)

    def __hash__(self):
        return hash((self.type, self.index or 0))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")
_default_device = CPU


def set_default_device(d):
    """Where factory functions (``tl.zeros``, ``tl.randn``, ``tl.tensor``, ...) put tensors when no ``device`` is given
    (``None`` sets the CPU again), as torch's ``set_default_device``."""
    global _default_device
    _default_device = CPU if d is None else as_device(d)


def get_default_device():
    return _default_device


def as_device(d):
    """None → the default device (the CPU unless ``set_default_device`` said otherwise); a string or device →
    device."""
    return _default_device if d is None else d if isinstance(d, device) else device(d)


def check_same_device(*tensors):
    """Raise torch's error when the tensors (None entries skipped) do not all live on one device."""
    devices = [t.device for t in tensors if t is not None]
    for other in devices[1:]:
        if other is not devices[0] and other != devices[0]:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, {devices[0]} and "
                f"{other}!"
            )
