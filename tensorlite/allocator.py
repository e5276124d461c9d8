"""Keep a training step's freed memory for the next step, instead of handing it back to the operating system.

A training step allocates the same arrays every time: activations, their gradients, im2col buffers. NumPy, Numba
and OpenBLAS all get that memory from the C library's ``malloc``. glibc's malloc returns freed memory to the
operating system in two ways: a block of at least ``M_MMAP_THRESHOLD`` bytes gets its own ``mmap`` and is unmapped
when freed, and once more than ``M_TRIM_THRESHOLD`` bytes lie free at the top of the heap, the heap shrinks. Both
thresholds start at 128 KiB and glibc raises them as it sees large blocks freed, so whether a step's memory stays
depends on the allocation history, that is on how the loop is written: a step in a function frees everything at
once when it returns, and the heap is trimmed. The next step then touches that memory again page by page, each 4 KiB
page a minor page fault that the kernel serves by zeroing a fresh page: about 2,100 faults per step of the MNIST
network at batch 64 when malloc returns everything (docs/kernels.md, "Memory between steps", has the figures).

So on glibc, ``import tensorlite`` sets both thresholds once, through ``mallopt``: blocks of up to 32 MiB (the
largest mmap threshold glibc accepts on 64-bit) come from the heap, and up to 256 MiB of free heap is kept for
reuse. Memory is still reused only after it is freed, by malloc itself, so no buffer can be handed out while it
is live. The cost: a process keeps up to 256 MiB of freed memory mapped. Set ``TENSORLITE_ALLOCATOR=system`` to
leave malloc as the C library configured it (``MALLOC_*`` variables included). Other C libraries are left alone.
"""
import ctypes
import os
import platform

MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 256 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameter numbers, from glibc's malloc.h

_policy = "not applied"


def keep_freed_memory():
    """Raise glibc's mmap and trim thresholds (see the module docstring); returns the policy now in force, in words.
    Does nothing where ``TENSORLITE_ALLOCATOR=system`` or the C library is not glibc."""
    global _policy
    if os.environ.get("TENSORLITE_ALLOCATOR", "").lower() == "system":
        _policy = "system malloc (TENSORLITE_ALLOCATOR=system)"
    elif platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        _policy = f"system malloc ({platform.system()}, {platform.libc_ver()[0] or 'not glibc'}: left alone)"
    else:
        mallopt = ctypes.CDLL(None).mallopt
        applied = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        _policy = (f"glibc keeps freed memory (mmap threshold {MMAP_THRESHOLD >> 20} MiB, trim threshold "
                   f"{TRIM_THRESHOLD >> 20} MiB)" if applied else "system malloc (mallopt refused the thresholds)")
    return _policy


def allocator_policy():
    """The policy ``keep_freed_memory`` put in force, in words (``tensorlite info`` prints it)."""
    return _policy
