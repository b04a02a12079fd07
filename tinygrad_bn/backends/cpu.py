"""The CPU backend: NumPy for elementwise math and linear algebra (OpenBLAS),
``kernels.cpu`` (``@njit(parallel=True)``) for normalization."""
import functools

import numpy as np

import kernels.cpu

from .array import ArrayBackend
from .blas import small_products_on_one_thread


def cpu_special_function(name):
    """The Numba ufunc ``name`` of kernels/cpu/special.py, imported on first use
    (with Ctrl-C held, as the kernel package's own import)."""
    from kernels.interrupts import interrupts_held
    with interrupts_held():
        from kernels.cpu import special
    return getattr(special, name)


def erf(x):
    """kernels/cpu/elementwise.py's erf ufunc of ``x``. The ufunc is imported at
    the first call, with Ctrl-C held as for the kernel package's own import:
    loading it from Numba's cache starts Numba's compiler, 0.3 s that an import
    of tinygrad_bn need not pay (0.9 s with it, 0.6 s without, by -X
    importtime). A function, not an attribute that replaces itself: the
    compiled step's tracer wraps the backend's erf while it traces."""
    return _erf_ufunc()(x)


@functools.cache
def _erf_ufunc():
    from kernels.interrupts import interrupts_held
    with interrupts_held():
        from kernels.cpu.elementwise import erf as ufunc
    return ufunc


def cpu_backend(name="cpu"):
    """Host memory: NumPy arrays, the Numba kernels of kernels/cpu (NumPy has
    no erf: a Numba ufunc gives it), and small matmuls on one BLAS thread
    (blas.py). ``name`` lets a test register the same computation as a second
    device."""
    backend = ArrayBackend(name, np, kernels.cpu, erf, special=cpu_special_function)
    backend.matmul = small_products_on_one_thread()
    return backend
