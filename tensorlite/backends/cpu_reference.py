"""The ``reference`` kernel set for the CPU: the CPU backend with every neural-network kernel replaced by the
plain NumPy one from ``reference`` (convolution, pooling, batch norm, softmax, log_softmax, relu's backward, sigmoid).

The array functions (creation, elementwise math, reductions, layout, matmul) are the CPU backend's own: they
are NumPy calls already. ``backend_for`` returns this module under ``TENSORLITE_KERNELS=reference`` or after
``tl.use_kernels("reference")``, so a breakpoint in ``reference.conv2d_forward`` stops there while a real
model trains, and the whole test suite can run on the oracle kernels.
"""
from .cpu import *  # noqa: F401,F403 - the array functions
from .reference import (  # noqa: F401 - the neural-network kernels, in place of the fast ones
    avg_pool2d_backward,
    avg_pool2d_forward,
    batch_norm_backward,
    batch_norm_forward,
    conv2d_backward,
    conv2d_forward,
    log_softmax,
    max_pool2d_backward,
    max_pool2d_forward,
    relu_backward,
    sigmoid,
    softmax,
)
