"""Wide vectors for the CPU kernels: ``prefer_wide_vectors()`` asks LLVM to vectorise the loops of the function
it is called in with the widest registers the processor has.

On processors with AVX-512, LLVM's tuning for most Intel models ("prefer-256-bit") vectorises with 256-bit
registers, although 512-bit ones are there: a frequency drop on the first AVX-512 processors made wide vectors
a loss for code that runs them briefly. The CNN kernels run them for milliseconds, and with 512 bits they do
twice the work per instruction. Numba's switch for it (``NUMBA_CPU_FEATURES``) is process-wide and would
change the user's own Numba functions too; the LLVM function attribute ``"prefer-vector-width"="512"`` changes
only the function that carries it. Where the processor has no 512-bit registers (or ``NUMBA_CPU_NAME`` names
one without them) the attribute changes nothing.

A ``prange`` loop's body is compiled as a function of its own, so a parallel kernel calls this inside the
loop body; the call emits no instruction.
"""
from numba import types
from numba.extending import intrinsic


@intrinsic
def prefer_wide_vectors(typingctx):
    """Marks the LLVM function being compiled with ``"prefer-vector-width"="512"``."""

    def codegen(context, builder, signature, args):
        # llvmlite checks attribute names against its list of flags; a key="value" attribute goes in as text
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen
