"""One backend for every NumPy-compatible array module.

NumPy and CuPy share one array API, so the same class serves both: it is built
with the array module (``xp``), the device's kernel package (``kernels.cpu``,
``kernels.cuda``), its erf and its special functions (``special(name)``: the
ufunc of that name among ``SPECIAL_FUNCTIONS``). It provides the core of the contract
(``contract.Core``) and, for speed, binds most derived names
(``derived.Derived``) straight to the array module's function of that name.
"""
import numpy as np

from .derived import Derived

SPECIAL_FUNCTIONS = ("lgamma", "digamma", "polygamma", "erfinv", "erfc", "i0", "i1", "gammainc", "gammaincc")
"""The names of ``math`` that NumPy lacks: the device's ``special`` provides them."""


def _numpy_reduction(ufunc):
    """``np.sum``/``np.max``/``np.min`` as the ufunc's reduce, called directly:
    the same results bit for bit, without NumPy's Python wrapper (0.6-0.8 us a
    call), and a 0-d array where NumPy returns a scalar."""
    reduce = ufunc.reduce

    def reduction(a, axis=None, keepdims=False):
        r = reduce(a, axis, None, None, keepdims)
        return r if type(r) is np.ndarray else np.asarray(r)
    if ufunc is np.add:  # a compiled replay sums a batch's rows in a compiled loop (the same bits)
        def replay_form(a, axis=None, keepdims=False):
            from kernels.cpu.reductions import rows_summed_form
            return rows_summed_form(reduction, a, axis, keepdims)
        reduction.replay_form = replay_form
    return reduction


def _numpy_product(a, axis=None, keepdims=False):
    """np.prod, as a 0-d array where NumPy returns a scalar."""
    r = np.prod(a, axis=axis, keepdims=keepdims)
    return r if type(r) is np.ndarray else np.asarray(r)


class ArrayBackend(Derived):
    """The contract over array module ``xp``, normalization kernels ``kernels``
    (a package implementing ``kernels.protocol.NormKernels``) and ``erf``."""

    def __init__(self, name, xp, kernels, erf, to_numpy=None, seed=0, special=None):
        self.name = name
        self._special = special
        self._math = {}  # fn -> the array module's function or the special ufunc
        self.xp = xp
        self.ndarray = xp.ndarray
        self.kernels = kernels
        self.erf = erf
        self._to_numpy = to_numpy
        self._zeros = {}  # dtype -> 0-d zero: ufuncs take it ~2x faster than a Python 0
        # bound straight to the array module's functions: no Python frame per call
        self.__dict__.update({
            # core
            "add": xp.add, "mul": xp.multiply, "div": xp.divide, "pow": xp.power, "exp": xp.exp,
            "log": xp.log, "sqrt": xp.sqrt, "abs": xp.abs, "tanh": xp.tanh, "maximum": xp.maximum,
            "where": xp.where, "less": xp.less, "equal": xp.equal,
            "sum": xp.sum, "max": xp.max, "argmax": xp.argmax, "prod": xp.prod,  # (NumPy's sum, max: below)
            "reshape": xp.reshape, "transpose": xp.transpose, "broadcast_to": xp.broadcast_to,
            "concatenate": xp.concatenate, "matmul": xp.matmul, "shares_memory": xp.may_share_memory,
            # derived names the array module has as they are
            "sub": xp.subtract, "neg": xp.negative, "sign": xp.sign, "minimum": xp.minimum, "clip": xp.clip,
            "greater": xp.greater, "greater_equal": xp.greater_equal, "less_equal": xp.less_equal,
            "not_equal": xp.not_equal, "logical_and": xp.logical_and, "logical_not": xp.logical_not,
            "isnan": xp.isnan, "isfinite": xp.isfinite,
            "mean": xp.mean, "min": xp.min, "argmin": xp.argmin,
            "swapaxes": xp.swapaxes, "stack": xp.stack, "split_at": xp.split,
            "take_along_axis": xp.take_along_axis,
        })
        if xp is np:
            self.sum, self.max, self.min = (_numpy_reduction(u) for u in (np.add, np.maximum, np.minimum))
            self.prod = _numpy_product
        self.seed(seed)

    def __repr__(self):
        return f"<ArrayBackend {self.name!r} over {self.xp.__name__}>"

    def __reduce__(self):
        # a device is a name: copies and pickles of tensors and modules come back on
        # the registered backend of that name (its array module is not picklable)
        from . import get_backend
        return (get_backend, (self.name,))

    # core: host transfer and creation -------------------------------------------------
    def asarray(self, x, dtype=None):
        return self.xp.asarray(x, dtype=dtype)

    # The replay forms below (see check's) serve a compiled step's replay, whose
    # arrays have the trace's types and dtypes every time: for a NumPy array each
    # is one C call in place of a method frame and NumPy's argument handling.
    def _asarray_replay_form(x, dtype=None):
        """A NumPy array of the dtype asked is itself (NumPy's asarray returns it)."""
        if type(x) is not np.ndarray or (dtype is not None and np.dtype(dtype) != x.dtype):
            return None

        def asarray_replayed(x, dtype=None):
            return x if type(x) is np.ndarray and (dtype is None or x.dtype == dtype) else np.asarray(x, dtype=dtype)
        return asarray_replayed
    asarray.replay_form = _asarray_replay_form
    del _asarray_replay_form

    def to_numpy(self, x):
        return x if self._to_numpy is None else self._to_numpy(x)

    def full(self, shape, value, dtype):
        return self.xp.full(shape, value, dtype)

    def arange(self, start, stop, step, dtype):
        return self.xp.arange(start, stop, step).astype(dtype, copy=False)

    # core: elementwise math by name ---------------------------------------------------
    def math(self, fn, *args):
        f = self._math.get(fn)
        if f is None:
            f = self._math[fn] = self._math_function(fn)
        out = f(*args)
        # special ufuncs have float32 and float64 loops: a float16 operand gets a float32 result
        dtype = next((a.dtype for a in args if hasattr(a, "dtype") and a.dtype.kind == "f"), None)
        return out.astype(dtype) if dtype is not None and out.dtype.kind == "f" and out.dtype != dtype else out

    def _math_function(self, fn):
        if fn in SPECIAL_FUNCTIONS:
            if self._special is None:
                raise NotImplementedError(f"{fn}: device {self.name!r} has no special functions (its backend was "
                                          "built without special=)")
            return self._special(fn)
        return getattr(self.xp, fn)

    # core: random numbers ----------------------------------------------------------
    def seed(self, seed):
        self.generator = self.xp.random.default_rng(seed)

    def rand(self, shape, dtype):
        return self.generator.random(shape).astype(dtype, copy=False)

    def randn(self, shape, dtype):
        return self.generator.standard_normal(shape).astype(dtype, copy=False)

    # core: indexing ------------------------------------------------------------------
    def getitem(self, x, index):
        return x[index]

    def setitem(self, x, index, value):
        x[index] = value

    def scatter_add(self, shape, dtype, index, values):
        out = self.xp.zeros(shape, dtype=dtype)
        self.xp.add.at(out, index, values)
        return out

    def synchronize(self):
        pass  # NumPy runs eagerly

    # derived, faster here: the same results as derived.py's (tests/backends checks each),
    # worth the second copy (unbroadcast of (64, 10) to (10,): 2.9 us here, 6.0 through
    # the derived version's np.sum calls) ---------------------------------------------------
    def copy(self, x):
        return self.xp.array(x, copy=True)

    def cast(self, x, dtype):
        return x if x.dtype == dtype else x.astype(dtype)

    def ascontiguous(self, x):
        # ascontiguousarray turns 0-d arrays into shape (1,); keep the shape
        return self.xp.ascontiguousarray(x) if x.ndim else self.xp.array(x)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype)

    def zeros_like(self, x, dtype=None):
        return self.xp.zeros_like(x, dtype=dtype)

    def ones_like(self, x, dtype=None):
        return self.xp.ones_like(x, dtype=dtype)

    def _ones_like_replay_form(x, dtype=None):
        """The ones of a C-ordered NumPy array (backward's seed, a 0-d loss): made at
        the traced shape and dtype (ones_like would copy a layout, and C order is it)."""
        if type(x) is not np.ndarray or not x.flags.c_contiguous:
            return None
        shape, dt = x.shape, np.dtype(x.dtype if dtype is None else dtype)
        if shape == ():
            return lambda x, dtype=None: np.array(1, dt)
        return lambda x, dtype=None: np.ones(shape, dt)
    ones_like.replay_form = _ones_like_replay_form
    del _ones_like_replay_form

    def uniform(self, low, high, shape, dtype):
        return self.generator.uniform(low, high, size=shape).astype(dtype, copy=False)

    def normal(self, mean, std, shape, dtype):
        return self.generator.normal(mean, std, size=shape).astype(dtype, copy=False)

    def bernoulli_mask(self, keep_prob, shape, dtype):
        return (self.generator.random(shape) < keep_prob).astype(dtype)

    def sigmoid(self, x):
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

    def any(self, x):
        return bool(self.xp.any(x))

    def unbroadcast(self, grad, shape):
        if grad.shape == shape:
            return grad
        extra = grad.ndim - len(shape)
        if extra:
            grad = grad.sum(axis=tuple(range(extra)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = grad.sum(axis=axes, keepdims=True)
        return grad.reshape(shape)

    def put_along_axis(self, x, idx, values, axis):
        self.xp.put_along_axis(x, idx, values, axis=axis)

    def argsort(self, x, axis):
        if self.xp is np:
            return np.argsort(x, axis=axis, kind="stable")
        return self.xp.argsort(x, axis=axis)  # CuPy's sort is always stable (and takes no other kind)

    def iadd(self, x, y):
        self.xp.add(x, y, out=x, casting="unsafe")

    def _iadd_replay_form(x, y):
        """Two NumPy arrays of one dtype (a bias added in place): NumPy's add into x,
        whose casting rule then has nothing to cast."""
        if type(x) is not np.ndarray or type(y) is not np.ndarray or x.dtype != y.dtype:
            return None

        def iadd_replayed(x, y):
            np.add(x, y, x)
        return iadd_replayed
    iadd.replay_form = _iadd_replay_form
    del _iadd_replay_form

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

    def check(self, bad, error, message):
        # the array's own any() skips the dispatch of xp.any (about 1 us of a small step's replay)
        if bad.any() if hasattr(bad, "any") else bad:
            raise error(message() if callable(message) else message)

    def _check_replay_form(bad, error, message):
        """A kernel's one-element flag (cross entropy's target check) is read with
        item(): 0.04 us where any() takes 1.2, and a compiled replay's flag is
        the trace's kind of array every time."""
        if type(bad) is not np.ndarray or bad.size != 1:
            return None

        def check_flag(bad, error, message):
            if bad.item():
                raise error(message() if callable(message) else message)
        return check_flag
    check.replay_form = _check_replay_form
    del _check_replay_form

    def check_finite(self, message, *arrays):
        for a in arrays:
            if not self.xp.isfinite(a).all():
                raise ValueError(message)
