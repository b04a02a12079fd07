"""GPU memory the kernels keep for reuse: the twin of ``kernels/cpu/pool.py``.

The CUDA kernels allocate their outputs and scratch rows with CuPy, whose
default memory pool keeps freed blocks for the next allocation of a fitting
size instead of returning them to the driver. ``empty_cache()`` hands those
blocks back. Under Numba's CUDA simulator arrays are NumPy's and there is
no pool.
"""
import sys

from ._common import simulator


def empty_cache() -> None:
    """Free every unused block of CuPy's default memory pool; nothing to do
    under the simulator or when CuPy was never imported (then no kernel has
    allocated from it)."""
    if simulator():
        return
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        cupy.get_default_memory_pool().free_all_blocks()
