"""Numba kernels: arrays in, arrays out; no Tensor, no autograd.

``kernels.cpu`` holds ``@njit(parallel=True)`` kernels over NumPy arrays,
``kernels.cuda`` their ``numba.cuda`` twins over CuPy arrays. Both export the
names of ``protocol.py`` with the same signatures, check their arguments with
``checks.py`` and convert them with ``arrays.py``. Everything is compiled with
``cache=True`` so a second process loads machine code instead of compiling;
``cache_stamp.py`` drops a package's cached kernels when any of its sources
changes.
"""
