"""The CPU backend: NumPy for elementwise math and linear algebra (OpenBLAS),
``kernels/cpu`` (``@njit(parallel=True)``) for normalization."""
import numpy as np

from kernels.cpu import batchnorm, groupnorm, layernorm, pool
from kernels.cpu.elementwise import erf

from .array import ArrayBackend, kernel_set

CPU_KERNELS = kernel_set(
    batch_norm_train=batchnorm.forward_train,
    batch_norm_eval=batchnorm.forward_eval,
    batch_norm_backward=batchnorm.backward,
    layer_norm=layernorm.forward,
    layer_norm_backward=layernorm.backward,
    group_norm=groupnorm.forward,
    group_norm_backward=groupnorm.backward,
    erf=erf,  # NumPy has no erf; a Numba ufunc does it
    # the normalization kernels keep freed large outputs for reuse (kernels/cpu/pool.py)
    empty_cache=pool.empty_cache,
    kernel_names={"batch_norm": "kernels.cpu.batchnorm", "layer_norm": "kernels.cpu.layernorm",
                  "group_norm": "kernels.cpu.groupnorm"},
)


def cpu_backend(name="cpu"):
    """Host memory: NumPy arrays."""
    return ArrayBackend(name, np, CPU_KERNELS)
