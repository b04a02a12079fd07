"""Numba kernels: arrays in, arrays out; no Tensor, no autograd.

``kernels.cpu`` holds ``@njit(parallel=True)`` kernels. Everything is compiled
with ``cache=True`` so a second process loads machine code instead of compiling.
"""
