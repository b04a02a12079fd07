"""The CPU backend: NumPy for elementwise math and linear algebra (OpenBLAS),
``kernels/cpu`` (``@njit(parallel=True)``) for normalization."""
import numpy as np

from kernels.cpu import batchnorm, groupnorm, layernorm, pool
from kernels.cpu.elementwise import erf

from .array import ArrayBackend, norm_kernel_set
from .blas import small_products_on_one_thread

# NumPy has no erf: a Numba ufunc does it. The normalization kernels keep freed
# large outputs for reuse (kernels/cpu/pool.py); empty_cache gives them back.
CPU_KERNELS = norm_kernel_set(batchnorm, layernorm, groupnorm, erf=erf, empty_cache=pool.empty_cache)


def cpu_backend(name="cpu"):
    """Host memory: NumPy arrays; small matmuls on one BLAS thread (blas.py)."""
    backend = ArrayBackend(name, np, CPU_KERNELS)
    backend.matmul = small_products_on_one_thread()
    return backend
