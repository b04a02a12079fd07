"""Array helpers both kernel packages use, for NumPy arrays (CPU, CUDA
simulator) and CuPy arrays (GPU) alike. Arguments are checked first
(``kernels/checks.py``); these only convert."""
import numpy as np


def array_module(x):
    """CuPy for CuPy arrays, NumPy for anything else."""
    if not isinstance(x, np.ndarray) and type(x).__module__.split(".")[0] == "cupy":
        import cupy
        return cupy
    return np


def flat(x, dtype=None):
    """x as a C-contiguous 1-D array of its own array module (a view when it
    already is contiguous and of ``dtype``)."""
    xp = np if isinstance(x, np.ndarray) else array_module(x)  # skips a call on the CPU's every vector
    return xp.ascontiguousarray(x, dtype=dtype).reshape(-1)


def affine_or_default(weight, bias, size, xp, dtype=np.float64):
    """gamma and beta as flat vectors of ``dtype`` (ones and zeros of array
    module ``xp`` when the layer has no affine), so a kernel compiles once per
    input dtype, not once per parameter dtype or shape."""
    w = xp.ones(size, dtype) if weight is None else flat(weight, dtype)
    b = xp.zeros(size, dtype) if bias is None else flat(bias, dtype)
    return w, b
