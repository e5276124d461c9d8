"""Random numbers: a seeded NumPy generator behind torch's names (``manual_seed``, ``rand``, ``randn``, ...).

Samples are drawn on the host and handed to the device's backend, so one seed gives the same numbers
on every device.
"""
import numpy as np

from . import dtypes
from .backends import backend_for
from .device import as_device


class Generator:
    """A source of random numbers; ``tl.Generator().manual_seed(0)`` as in torch."""

    def __init__(self, device="cpu"):
        self.device = as_device(device)
        self.manual_seed(np.random.SeedSequence().entropy % 2**63)

    def manual_seed(self, seed):
        self.initial_seed_value = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self.initial_seed_value))
        return self

    def initial_seed(self):
        return self.initial_seed_value

    def get_state(self):
        return self.rng.bit_generator.state

    def set_state(self, state):
        self.rng.bit_generator.state = state


default_generator = Generator()


def manual_seed(seed):
    """Seed the default generator: every random op after it is reproducible."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.manual_seed(np.random.SeedSequence().entropy % 2**63).initial_seed()


def initial_seed():
    return default_generator.initial_seed()


def _sample(draw, shape, generator, dtype, device, requires_grad=False):
    from .tensor import Tensor

    rng = (generator or default_generator).rng
    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    device = as_device(device)
    array = np.asarray(draw(rng, shape), dtype=dtype.numpy)
    out = Tensor(backend_for(device).asarray(array), device)
    return out.requires_grad_(True) if requires_grad else out


def _shape(name, sizes, size=None):
    from .tensor import shape_argument

    return shape_argument(name, sizes, size)


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform samples on [0, 1): ``rand(2, 3)``, ``rand((2, 3))`` or ``rand(size=(2, 3))``."""
    shape = _shape("rand", sizes, size)
    return _sample(lambda r, s: r.random(s), shape, generator, dtype, device, requires_grad)


def randn(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal samples: ``randn(2, 3)``, ``randn((2, 3))`` or ``randn(size=(2, 3))``."""
    shape = _shape("randn", sizes, size)
    return _sample(lambda r, s: r.standard_normal(s), shape, generator, dtype, device, requires_grad)


def uniform(low, high, size, generator=None, dtype=None, device=None):
    return _sample(lambda r, s: r.uniform(low, high, s), _shape("uniform", (size,)), generator, dtype, device)


def normal(mean, std, size, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples with the given mean and standard deviation."""
    shape = _shape("normal", (size,))
    return _sample(lambda r, s: r.normal(mean, std, s), shape, generator, dtype, device, requires_grad)


def randint(low=0, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers uniform on [low, high): ``randint(low, high, size)``, or ``randint(high, size)`` from 0."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        high, size = None, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError('randint() missing 1 required positional arguments: "size"')
    shape = _shape("randint", (), size)
    dtype = dtype or dtypes.int64
    return _sample(lambda r, s: r.integers(low, high, s), shape, generator, dtype, device, requires_grad)


def rand_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    """``rand`` of ``input``'s shape, in its dtype and on its device unless told otherwise."""
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, generator=None, dtype=None, device=None, requires_grad=False):
    """``randn`` of ``input``'s shape, in its dtype and on its device unless told otherwise."""
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, generator=None, dtype=None, device=None, requires_grad=False):
    """``randint`` of ``input``'s shape and dtype: ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    return randint(low, high, input.shape, generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def randperm(n, generator=None, dtype=None, device=None):
    """A random permutation of 0 .. n-1."""
    return _sample(lambda r, s: r.permutation(n), (n,), generator, dtype or dtypes.int64, device)


def bernoulli_mask(p_keep, size, generator=None, dtype=None, device=None):
    """1 with probability ``p_keep``, else 0 (dropout's mask), drawn by the device's backend: on the CPU from
    the generator itself, on a GPU by a device kernel seeded from the generator (no host-to-device copy)."""
    from .tensor import Tensor, _size

    dtype = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    device = as_device(device)
    shape = _size(size) if isinstance(size, tuple) else _size((size,))
    rng = (generator or default_generator).rng
    return Tensor(backend_for(device).bernoulli(rng, p_keep, shape, dtype.numpy), device)
