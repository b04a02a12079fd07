"""The CPU backend: NumPy for elementwise math and linear algebra (OpenBLAS),
``kernels.cpu`` (``@njit(parallel=True)``) for normalization."""
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


def _erf_on_first_use(backend):
    """The backend's erf until its first call, which imports the compiled ufunc
    (loading it from Numba's cache starts Numba's compiler: 0.2 s that an
    import of tinygrad_bn need not pay) and puts it in its place."""
    def erf(x):
        from kernels.interrupts import interrupts_held
        with interrupts_held():
            from kernels.cpu.elementwise import erf as ufunc
        backend.erf = ufunc
        return ufunc(x)
    return erf


def cpu_backend(name="cpu"):
    """Host memory: NumPy arrays, the Numba kernels of kernels/cpu (NumPy has
    no erf: a Numba ufunc gives it), and small matmuls on one BLAS thread
    (blas.py). ``name`` lets a test register the same computation as a second
    device."""
    backend = ArrayBackend(name, np, kernels.cpu, None, special=cpu_special_function)
    backend.erf = _erf_on_first_use(backend)
    backend.matmul = small_products_on_one_thread()
    return backend
