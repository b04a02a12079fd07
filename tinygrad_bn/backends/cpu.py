"""The CPU backend: NumPy for elementwise and linear algebra, Numba kernels for
normalization. Arrays are ``numpy.ndarray``."""
import numpy as np

from kernels.cpu import batchnorm as _bn
from kernels.cpu import groupnorm as _gn
from kernels.cpu import layernorm as _ln
from kernels.cpu import pool as _pool
from kernels.cpu.elementwise import erf as _erf_ufunc


def _unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched so that it
    has ``shape`` again (the gradient of a broadcast is a sum)."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class CPUBackend:
    """Array operations on host memory."""

    name = "cpu"
    ndarray = np.ndarray

    # creation -----------------------------------------------------------
    asarray = staticmethod(np.asarray)
    zeros = staticmethod(np.zeros)
    ones = staticmethod(np.ones)
    full = staticmethod(np.full)
    empty = staticmethod(np.empty)
    arange = staticmethod(np.arange)
    zeros_like = staticmethod(np.zeros_like)
    ones_like = staticmethod(np.ones_like)
    full_like = staticmethod(np.full_like)
    empty_like = staticmethod(np.empty_like)

    @staticmethod
    def copy(x):
        return np.array(x, copy=True)

    @staticmethod
    def to_numpy(x):
        return x

    @staticmethod
    def cast(x, dtype):
        return x if x.dtype == dtype else x.astype(dtype)

    @staticmethod
    def uniform(rng, low, high, shape, dtype):
        return rng.uniform(low, high, size=shape).astype(dtype, copy=False)

    @staticmethod
    def normal(rng, mean, std, shape, dtype):
        return rng.normal(mean, std, size=shape).astype(dtype, copy=False)

    @staticmethod
    def bernoulli_mask(rng, keep_prob, shape, dtype):
        return (rng.random(shape) < keep_prob).astype(dtype)

    # elementwise ----------------------------------------------------------
    add = staticmethod(np.add)
    sub = staticmethod(np.subtract)
    mul = staticmethod(np.multiply)
    div = staticmethod(np.divide)
    neg = staticmethod(np.negative)
    pow = staticmethod(np.power)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sqrt = staticmethod(np.sqrt)
    abs = staticmethod(np.abs)
    sign = staticmethod(np.sign)
    tanh = staticmethod(np.tanh)
    erf = staticmethod(_erf_ufunc)  # NumPy has no erf; a Numba ufunc does it
    clip = staticmethod(np.clip)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    where = staticmethod(np.where)
    greater = staticmethod(np.greater)
    greater_equal = staticmethod(np.greater_equal)
    less = staticmethod(np.less)
    less_equal = staticmethod(np.less_equal)
    equal = staticmethod(np.equal)
    not_equal = staticmethod(np.not_equal)
    logical_and = staticmethod(np.logical_and)
    logical_or = staticmethod(np.logical_or)
    logical_not = staticmethod(np.logical_not)
    isnan = staticmethod(np.isnan)
    isinf = staticmethod(np.isinf)
    isfinite = staticmethod(np.isfinite)

    @staticmethod
    def sigmoid(x):
        # Split by sign so neither branch overflows exp.
        out = np.empty_like(x)
        pos = x >= 0
        out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
        ex = np.exp(x[~pos])
        out[~pos] = ex / (1.0 + ex)
        return out

    @staticmethod
    def relu(x):
        return np.maximum(x, 0)

    @staticmethod
    def relu_backward(x, grad):
        # multiplying by the boolean mask is ~10x faster than np.where here
        return np.multiply(grad, x > 0, dtype=grad.dtype)

    # reductions -----------------------------------------------------------
    @staticmethod
    def sum(x, axis=None, keepdims=False):
        return np.sum(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def mean(x, axis=None, keepdims=False):
        return np.mean(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def max(x, axis=None, keepdims=False):
        return np.max(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def min(x, axis=None, keepdims=False):
        return np.min(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def argmax(x, axis=None, keepdims=False):
        return np.argmax(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def argmin(x, axis=None, keepdims=False):
        return np.argmin(x, axis=axis, keepdims=keepdims)

    @staticmethod
    def any(x):
        return bool(np.any(x))

    @staticmethod
    def count_nonzero(x):
        return int(np.count_nonzero(x))

    unbroadcast = staticmethod(_unbroadcast)

    # shape and indexing ---------------------------------------------------
    reshape = staticmethod(np.reshape)
    transpose = staticmethod(np.transpose)
    broadcast_to = staticmethod(np.broadcast_to)
    expand_dims = staticmethod(np.expand_dims)
    concatenate = staticmethod(np.concatenate)
    stack = staticmethod(np.stack)
    split_at = staticmethod(np.split)

    @staticmethod
    def ascontiguous(x):
        # np.ascontiguousarray turns 0-d arrays into shape (1,); keep the shape
        return np.ascontiguousarray(x) if x.ndim else np.array(x)

    @staticmethod
    def getitem(x, index):
        return x[index]

    @staticmethod
    def scatter_add(shape, dtype, index, values):
        """zeros(shape)[index] += values, with repeated indices summed."""
        out = np.zeros(shape, dtype=dtype)
        np.add.at(out, index, values)
        return out

    @staticmethod
    def take_along_axis(x, idx, axis):
        return np.take_along_axis(x, idx, axis=axis)

    @staticmethod
    def put_along_axis(x, idx, values, axis):
        np.put_along_axis(x, idx, values, axis=axis)

    @staticmethod
    def shares_memory(a, b):
        return np.may_share_memory(a, b)

    # linear algebra ---------------------------------------------------------
    matmul = staticmethod(np.matmul)
    outer = staticmethod(np.outer)
    swapaxes = staticmethod(np.swapaxes)

    # in place (the optimizers and in-place tensor methods use these) --------
    @staticmethod
    def iadd(x, y):
        np.add(x, y, out=x, casting="unsafe")

    @staticmethod
    def isub(x, y):
        np.subtract(x, y, out=x, casting="unsafe")

    @staticmethod
    def imul(x, y):
        np.multiply(x, y, out=x, casting="unsafe")

    @staticmethod
    def idiv(x, y):
        np.divide(x, y, out=x, casting="unsafe")

    @staticmethod
    def fill(x, value):
        x.fill(value)

    @staticmethod
    def copyto(dst, src):
        np.copyto(dst, src, casting="unsafe")

    @staticmethod
    def axpy(y, a, x):
        """y += a * x in place, without a temporary for the sum."""
        y += a * x

    # normalization: fused Numba kernels (kernels/cpu) -----------------------
    batch_norm_train = staticmethod(_bn.forward_train)
    batch_norm_eval = staticmethod(_bn.forward_eval)
    batch_norm_backward = staticmethod(_bn.backward)
    layer_norm = staticmethod(_ln.forward)
    layer_norm_backward = staticmethod(_ln.backward)
    group_norm = staticmethod(_gn.forward)
    group_norm_backward = staticmethod(_gn.backward)
    # the normalization kernels keep freed large outputs for reuse (kernels/cpu/pool.py)
    empty_cache = staticmethod(_pool.empty_cache)
    cached_bytes = staticmethod(_pool.cached_bytes)
    kernel_names = {
        "batch_norm": "kernels.cpu.batchnorm",
        "layer_norm": "kernels.cpu.layernorm",
        "group_norm": "kernels.cpu.groupnorm",
    }

    # diagnostics ------------------------------------------------------------
    @staticmethod
    def all_finite(x):
        return bool(np.isfinite(x).all())

    @staticmethod
    def finite_stats(x):
        """(number of NaN, number of Inf) in x."""
        if x.dtype.kind not in "fc":
            return 0, 0
        return int(np.count_nonzero(np.isnan(x))), int(np.count_nonzero(np.isinf(x)))

    @staticmethod
    def norm(x):
        return float(np.sqrt(np.sum(np.square(x, dtype=np.float64))))
