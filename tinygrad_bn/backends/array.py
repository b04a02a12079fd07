"""One backend for every NumPy-compatible array module.

NumPy and CuPy share one array API, so the same class serves both: it is built
with the array module (``xp``) and the device's normalization kernels. The CPU
backend is ``ArrayBackend("cpu", numpy, <kernels/cpu>)``; a CUDA backend is the
same class over CuPy with ``kernels/cuda``. The names and their meaning are the
contract in ``backends/contract.py``.
"""
from types import SimpleNamespace


def kernel_set(**kernels):
    """The normalization kernels a backend runs, by contract name (plus ``erf``,
    ``empty_cache`` and ``kernel_names``)."""
    return SimpleNamespace(**kernels)


def norm_kernel_set(batchnorm, layernorm, groupnorm, erf, empty_cache):
    """A device's kernel set from its three kernel modules (the functions of
    ``kernels/cpu/batchnorm.py`` etc., by the same names)."""
    return kernel_set(
        batch_norm_train=batchnorm.forward_train,
        batch_norm_eval=batchnorm.forward_eval,
        batch_norm_backward=batchnorm.backward,
        layer_norm=layernorm.forward,
        layer_norm_backward=layernorm.backward,
        group_norm=groupnorm.forward,
        group_norm_backward=groupnorm.backward,
        erf=erf,
        empty_cache=empty_cache,
        kernel_names={"batch_norm": batchnorm.__name__, "layer_norm": layernorm.__name__,
                      "group_norm": groupnorm.__name__},
    )


class ArrayBackend:
    """The contract over array module ``xp`` and a ``kernel_set``."""

    def __init__(self, name, xp, kernels, to_numpy=None, seed=0):
        self.name = name
        self.xp = xp
        self.ndarray = xp.ndarray
        self.kernel_names = dict(kernels.kernel_names)
        self._to_numpy = to_numpy
        self._zeros = {}  # dtype -> 0-d zero: ufuncs take it ~2x faster than a Python 0
        xp_names = {
            # elementwise
            "add": xp.add, "sub": xp.subtract, "mul": xp.multiply, "div": xp.divide,
            "neg": xp.negative, "pow": xp.power, "exp": xp.exp, "log": xp.log, "sqrt": xp.sqrt,
            "abs": xp.abs, "sign": xp.sign, "tanh": xp.tanh, "clip": xp.clip,
            "maximum": xp.maximum, "minimum": xp.minimum, "where": xp.where,
            "greater": xp.greater, "greater_equal": xp.greater_equal, "less": xp.less,
            "less_equal": xp.less_equal, "equal": xp.equal, "not_equal": xp.not_equal,
            "logical_and": xp.logical_and, "logical_not": xp.logical_not,
            "isnan": xp.isnan, "isfinite": xp.isfinite,
            # reductions: (x, axis=None, keepdims=False) as the contract has them
            "sum": xp.sum, "mean": xp.mean, "max": xp.max, "min": xp.min,
            "argmax": xp.argmax, "argmin": xp.argmin,
            # shape and products
            "reshape": xp.reshape, "transpose": xp.transpose, "swapaxes": xp.swapaxes,
            "broadcast_to": xp.broadcast_to, "concatenate": xp.concatenate, "stack": xp.stack,
            "split_at": xp.split, "take_along_axis": xp.take_along_axis, "matmul": xp.matmul,
            "shares_memory": xp.may_share_memory,
        }
        # bound straight to the array module's functions: no Python frame per call
        self.__dict__.update(xp_names)
        for k in ("erf", "batch_norm_train", "batch_norm_eval", "batch_norm_backward", "layer_norm",
                  "layer_norm_backward", "group_norm", "group_norm_backward", "empty_cache"):
            setattr(self, k, getattr(kernels, k))
        self.seed(seed)

    def __repr__(self):
        return f"<ArrayBackend {self.name!r} over {self.xp.__name__}>"

    # host transfer and creation ------------------------------------------------------
    def asarray(self, x, dtype=None):
        return self.xp.asarray(x, dtype=dtype)

    def to_numpy(self, x):
        return x if self._to_numpy is None else self._to_numpy(x)

    def copy(self, x):
        return self.xp.array(x, copy=True)

    def cast(self, x, dtype):
        return x if x.dtype == dtype else x.astype(dtype)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype)

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype)

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step).astype(dtype, copy=False)

    def zeros_like(self, x, dtype=None):
        return self.xp.zeros_like(x, dtype=dtype)

    def ones_like(self, x, dtype=None):
        return self.xp.ones_like(x, dtype=dtype)

    # random numbers ----------------------------------------------------------------
    def seed(self, seed):
        self.generator = self.xp.random.default_rng(seed)

    def rand(self, shape, dtype):
        return self.generator.random(shape).astype(dtype, copy=False)

    def randn(self, shape, dtype):
        return self.generator.standard_normal(shape).astype(dtype, copy=False)

    def uniform(self, low, high, shape, dtype):
        return self.generator.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, mean, std, shape, dtype):
        return self.generator.normal(mean, std, size=shape).astype(dtype, copy=False)

    def bernoulli_mask(self, keep_prob, shape, dtype):
        return (self.generator.random(shape) < keep_prob).astype(dtype)

    # elementwise that NumPy has no single function for ---------------------------------
    def sigmoid(self, x):
        # with e = exp(-|x|) <= 1 neither branch overflows; no boolean indexing,
        # which would make a GPU wait to count the mask
        xp = self.xp
        e = xp.exp(-xp.abs(x))
        return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)

    def _zero(self, dtype):
        z = self._zeros.get(dtype)
        if z is None:
            z = self._zeros[dtype] = self.xp.zeros((), dtype)
        return z

    def relu(self, x):
        return self.xp.maximum(x, self._zero(x.dtype))

    def relu_backward(self, out, grad):
        # multiplying by the boolean mask is ~10x faster than where() here
        return self.xp.multiply(grad, self.xp.greater(out, self._zero(out.dtype)), dtype=grad.dtype)

    # reductions --------------------------------------------------------------------
    def any(self, x):
        return bool(self.xp.any(x))

    def unbroadcast(self, grad, shape):
        # the gradient of a broadcast is a sum over the copies
        if grad.shape == shape:
            return grad
        extra = grad.ndim - len(shape)
        if extra:
            grad = grad.sum(axis=tuple(range(extra)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        return grad.reshape(shape)

    # shape and indexing --------------------------------------------------------------
    def ascontiguous(self, x):
        # ascontiguousarray turns 0-d arrays into shape (1,); keep the shape
        return self.xp.ascontiguousarray(x) if x.ndim else self.xp.array(x)

    def getitem(self, x, index):
        return x[index]

    def setitem(self, x, index, value):
        x[index] = value

    def scatter_add(self, shape, dtype, index, values):
        out = self.xp.zeros(shape, dtype=dtype)
        self.xp.add.at(out, index, values)
        return out

    def put_along_axis(self, x, idx, values, axis):
        self.xp.put_along_axis(x, idx, values, axis=axis)

    # in place ----------------------------------------------------------------------
    def iadd(self, x, y):
        self.xp.add(x, y, out=x, casting="unsafe")

    def isub(self, x, y):
        self.xp.subtract(x, y, out=x, casting="unsafe")

    def imul(self, x, y):
        self.xp.multiply(x, y, out=x, casting="unsafe")

    def idiv(self, x, y):
        self.xp.divide(x, y, out=x, casting="unsafe")

    def axpy(self, y, a, x):
        y += a * x

    def fill(self, x, value):
        x.fill(value)

    def copyto(self, dst, src):
        self.xp.copyto(dst, src, casting="unsafe")

    # diagnostics -------------------------------------------------------------------
    def synchronize(self):
        pass  # NumPy runs eagerly

    def check(self, bad, error, message):
        if self.xp.any(bad):
            raise error(message() if callable(message) else message)

    def check_finite(self, message, *arrays):
        for a in arrays:
            if not self.xp.isfinite(a).all():
                raise ValueError(message)

    def finite_stats(self, x):
        if x.dtype.kind not in "fc":
            return 0, 0
        xp = self.xp
        return int(xp.count_nonzero(xp.isnan(x))), int(xp.count_nonzero(xp.isinf(x)))
