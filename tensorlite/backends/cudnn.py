"""``tl.backends.cudnn``: torch's cuDNN switches, for programs that set them (``cudnn.benchmark = True``).

tensorlite does not use cuDNN: its GPU kernels are its own (``backends/cuda``). The flags keep torch's defaults
and can be set, and change nothing in tensorlite; ``is_available()`` is False.
"""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    """The cuDNN version: None, as torch says without cuDNN."""
    return None
