"""tensorlite: a small PyTorch-like deep-learning framework.

``import tensorlite as tl`` and write PyTorch code: tensors with reverse-mode autograd, ``tl.nn`` layers,
``tl.optim`` optimisers, Numba-compiled CNN kernels on the CPU and numba.cuda kernels on NVIDIA GPUs.
"""
__version__ = "0.1.0"

from .allocator import keep_freed_memory
from .threads import apply_thread_policy, get_num_threads, set_num_threads  # noqa: F401

keep_freed_memory()  # before any array exists: a training step's freed memory stays for the next (allocator.py)
apply_thread_policy()  # the BLAS thread count measured fastest on this machine, if it was measured (threads.py)

from . import accelerator, autograd, cuda  # noqa: F401
from .backends import use_kernels  # noqa: F401
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .device import device, get_default_device, set_default_device  # noqa: F401
from .dtypes import (  # noqa: F401
    bool,
    double,
    dtype,
    float,
    float32,
    float64,
    get_default_dtype,
    int,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from .random import (  # noqa: F401
    Generator, initial_seed, manual_seed, normal, rand, rand_like, randint, randint_like, randn, randn_like, randperm, seed,
)
from .tensor import (  # noqa: F401
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    Size,
    Tensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    scalar_tensor,
    tensor,
    zeros,
    zeros_like,
)
from .functions import *  # noqa: F401,F403
from . import nn  # noqa: F401,E402
from . import optim  # noqa: F401,E402
from . import data  # noqa: F401,E402
from .utils import load, save  # noqa: F401,E402
from . import compat  # noqa: F401,E402  (tl.compat.install(): torch imports resolve to tensorlite; installs nothing by itself)
from . import onnx  # noqa: F401,E402  (tl.onnx.export; the onnx package itself is imported only when export runs)
