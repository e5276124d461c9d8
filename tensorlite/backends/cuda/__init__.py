"""The CUDA backend: ``@numba.cuda.jit`` kernels with the CPU backend's function names and signatures, on numba
device arrays. Data stays on the device between ops; it moves only in ``asarray`` (host → device) and
``to_numpy`` (device → host). Every kernel's launch layout is in its module's docstring and in docs/cuda.md.

Under ``NUMBA_ENABLE_CUDASIM=1`` numba's simulator runs the same kernels on the CPU (slowly), which is how the
tests check this backend on machines without a GPU.
"""
from ... import cuda as _cuda

if not _cuda.is_available():  # backend_for turns this into the RuntimeError a user sees, with the reason in it
    raise ImportError(_cuda.why_unavailable())

from .elementwise import (  # noqa: F401,E402
    abs,
    add,
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    clip,
    cos,
    equal,
    exp,
    greater,
    greater_equal,
    invert,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    power,
    relu_backward,
    sigmoid,
    sign,
    sin,
    sqrt,
    subtract,
    tanh,
    true_divide,
    where,
)
from .layout import (  # noqa: F401,E402
    arange,
    asarray,
    astype,
    broadcast_to,
    can_view,
    concatenate,
    copy,
    copy_into,
    eye,
    full,
    getitem,
    has_internal_overlap,
    index_add,
    is_contiguous,
    ones,
    pad,
    reshape,
    setitem,
    shares_memory,
    to_numpy,
    transpose,
    zeros,
)
from .linalg import matmul  # noqa: F401,E402
from .nn import (  # noqa: F401,E402
    avg_pool2d_backward,
    avg_pool2d_forward,
    batch_norm_backward,
    batch_norm_forward,
    conv2d_backward,
    conv2d_forward,
    log_softmax,
    max_pool2d_backward,
    max_pool2d_forward,
    softmax,
)
from .reduction import all, any, argmax, argmin, max, min, sum  # noqa: F401,E402
from .rng import bernoulli  # noqa: F401,E402
