"""The derived layer of the backend contract: every name ops use beyond the core,
written once in terms of the core (``contract.Core``) so that a device that
provides only the core has all of them.

Each method says what it means in its first line and computes it from core
names only (or other derived names), with NumPy's results: the same values,
dtype and NaN behaviour as the NumPy function of that name. ``ArrayBackend``
overrides most of them with the array module's own function, which is faster
and gives the same result (``tests/backends`` checks each override against the
version here). A device overrides a name here only for speed, never to change
its meaning.
"""
import math


def _is_number(x):
    return isinstance(x, (bool, int, float))


class Derived:
    """Mixed into a backend class that provides the core."""

    records = False  # whether results are recorded tensors (recording_backend.RecordingBackend)
    defers_checks = False  # whether check() may raise at the next host read instead of at once (CUDA)

    @property
    def base(self):
        """The backend whose results are plain arrays of this device: this one;
        for the recording backend, the array backend under it (for constants)."""
        return self

    # creation and conversion -------------------------------------------------------
    def cast(self, x, dtype):
        """x converted to dtype (x itself when it already has it)."""
        return x if x.dtype == dtype else self.asarray(x, dtype)

    def copy(self, x):
        """A new contiguous array with the values of x."""
        out = self.full(x.shape, 0, x.dtype)
        self.setitem(out, ..., x)
        return out

    def ascontiguous(self, x):
        """x as a C-contiguous array, 0-d staying 0-d (here always a copy; a device
        may return x itself when it already is one)."""
        return self.copy(x)

    def zeros(self, shape, dtype):
        """A new array of zeros."""
        return self.full(shape, 0, dtype)

    def zeros_like(self, x, dtype=None):
        """Zeros with x's shape (and dtype unless given)."""
        return self.full(x.shape, 0, x.dtype if dtype is None else dtype)

    def ones_like(self, x, dtype=None):
        """Ones with x's shape (and dtype unless given)."""
        return self.full(x.shape, 1, x.dtype if dtype is None else dtype)

    # random numbers ------------------------------------------------------------------
    def uniform(self, low, high, shape, dtype):
        """Uniform samples on [low, high)."""
        return self.cast(self.add(self.mul(self.rand(shape, "float64"), high - low), low), dtype)

    def normal(self, mean, std, shape, dtype):
        """Normal samples with this mean and standard deviation."""
        return self.cast(self.add(self.mul(self.randn(shape, "float64"), std), mean), dtype)

    def bernoulli_mask(self, keep_prob, shape, dtype):
        """1 with probability keep_prob, else 0 (dropout's mask)."""
        return self.cast(self.less(self.rand(shape, "float64"), keep_prob), dtype)

    # elementwise ---------------------------------------------------------------------
    def neg(self, a):
        """-a (wrapping around for unsigned integers, as NumPy does; no bools)."""
        if _is_number(a):
            return -a
        kind = _kind(a, "neg")
        if kind == "u":  # a * (2^n - 1) = -a modulo 2^n
            return self.mul(a, self.asarray((1 << (8 * a.dtype.itemsize)) - 1, a.dtype))
        return self.mul(a, -1)

    def sub(self, a, b):
        """a - b (no bools; a Python int from an unsigned array wraps as NumPy's)."""
        if _is_number(b) and not _is_number(a) and a.dtype.kind == "u" and isinstance(b, int):
            b = self.asarray(b, a.dtype)  # -b is not an unsigned value, b is (or NumPy's OverflowError)
        elif _is_number(a) and not _is_number(b) and _kind(b, "sub") == "u" and isinstance(a, int):
            a = self.asarray(a, b.dtype)
        return self.add(a, self.neg(b))

    def sign(self, a):
        """-1, 0 or 1 (0 at 0, NaN at NaN), in a's dtype (no bools)."""
        _kind(a, "sign")
        s = self.add(self.cast(self.less(0, a), a.dtype), self.neg(self.cast(self.less(a, 0), a.dtype)))
        return self.where(self.isnan(a), a, s) if a.dtype.kind in "fc" else s

    def sigmoid(self, a):
        """1 / (1 + exp(-a)), without overflow for large |a|."""
        # with e = exp(-|a|) <= 1 neither branch overflows; no boolean indexing,
        # which would make a GPU wait to count the mask
        e = self.exp(self.neg(self.abs(a)))
        one_plus = self.add(e, 1.0)
        return self.cast(self.where(self.less(a, 0), self.div(e, one_plus), self.div(1.0, one_plus)), a.dtype)

    def relu(self, a):
        """max(a, 0)."""
        return self.maximum(a, 0)

    def relu_backward(self, out, grad):
        """grad where out > 0, else 0."""
        return self.mul(grad, self.cast(self.less(0, out), grad.dtype))

    def minimum(self, a, b):
        """Elementwise smaller of a and b; NaN if either is NaN; b where they tie (-0.0 and 0.0)."""
        # NumPy's rule: a where a < b or a is NaN, else b (so a NaN b comes through too)
        return self.where(self.less(a, b), a, self.where(self.isnan(a), a, b))

    def clip(self, a, lo, hi):
        """a limited to [lo, hi]; a None bound is open (NaN stays NaN)."""
        if lo is not None:
            a = self.maximum(a, lo)
        if hi is not None:
            a = self.minimum(a, hi)
        return a

    def greater(self, a, b):
        """a > b, as bools."""
        return self.less(b, a)

    def less_equal(self, a, b):
        """a <= b, as bools."""
        return self.where(self.less(a, b), True, self.equal(a, b))

    def greater_equal(self, a, b):
        """a >= b, as bools."""
        return self.less_equal(b, a)

    def not_equal(self, a, b):
        """a != b, as bools (True where either is NaN)."""
        return self.logical_not(self.equal(a, b))

    def logical_not(self, a):
        """not a, elementwise (a number is true when non-zero)."""
        if _is_number(a):
            return not a
        return self.equal(a, False) if a.dtype.kind == "b" else self.equal(a, 0)

    def logical_and(self, a, b):
        """a and b, elementwise."""
        return self.where(self.not_equal(a, 0), self.not_equal(b, 0), False)

    def isnan(self, a):
        """True where a is NaN."""
        return self.logical_not(self.equal(a, a))

    def isfinite(self, a):
        """True where a is neither NaN nor infinite."""
        if a.dtype.kind not in "fc":
            return self.full(a.shape, True, "bool")
        return self.equal(self.sub(a, a), 0)  # inf - inf and nan - nan are NaN

    # reductions ----------------------------------------------------------------------
    def mean(self, x, axis=None, keepdims=False):
        """Mean over axis (float64 for integer and bool input)."""
        dtype = x.dtype
        if dtype.kind in "biu":
            x = self.cast(x, "float64")
        elif dtype.itemsize < 4:  # float16 sums in float32 and rounds the mean back, as NumPy
            x = self.cast(x, "float32")
        total = self.sum(x, axis=axis, keepdims=keepdims)
        count = x.size // max(1, _size(total)) if x.size else 0
        mean = self.div(total, count)
        return self.cast(mean, dtype) if dtype.kind == "f" and dtype.itemsize < 4 else mean

    def min(self, x, axis=None, keepdims=False):
        """Smallest value over axis; NaN if any is NaN."""
        return _reverse_order(self, self.max(_reverse_order(self, x), axis=axis, keepdims=keepdims))

    def argmin(self, x, axis=None, keepdims=False):
        """Index of the first smallest value over axis (the first NaN if any; int64)."""
        return self.argmax(_reverse_order(self, x), axis=axis, keepdims=keepdims)

    def any(self, x):
        """True if any element is true or non-zero (a Python bool)."""
        if x.size == 0:
            return False
        return bool(self.to_numpy(self.max(self.not_equal(x, 0))))

    def unbroadcast(self, grad, shape):
        """grad summed over the axes broadcasting added or stretched, so it has shape."""
        # the gradient of a broadcast is a sum over the copies
        if grad.shape == shape:
            return grad
        extra = grad.ndim - len(shape)
        if extra:
            grad = self.sum(grad, axis=tuple(range(extra)))
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = self.sum(grad, axis=axes, keepdims=True)
        return self.reshape(grad, shape)

    # shape and indexing ------------------------------------------------------------------
    def swapaxes(self, x, a, b):
        """x with two axes exchanged (a view)."""
        axes = list(range(x.ndim))
        axes[a], axes[b] = axes[b], axes[a]
        return self.transpose(x, tuple(axes))

    def stack(self, arrays, axis):
        """Same-shaped arrays joined along a new axis."""
        ndim = arrays[0].ndim + 1
        axis = axis + ndim if axis < 0 else axis
        return self.concatenate([self.reshape(a, a.shape[:axis] + (1,) + a.shape[axis:]) for a in arrays], axis)

    def split_at(self, x, indices_or_sections, axis):
        """x cut into pieces along axis (NumPy's split: a number of equal sections, or the indices to cut at)."""
        length = x.shape[axis]
        if isinstance(indices_or_sections, int):
            if length % indices_or_sections:
                raise ValueError("array split does not result in an equal division")
            step = length // indices_or_sections
            indices_or_sections = [step * i for i in range(1, indices_or_sections)]
        bounds = [0, *indices_or_sections, length]
        lead = (slice(None),) * (axis % x.ndim)
        return [self.getitem(x, lead + (slice(lo, hi),)) for lo, hi in zip(bounds[:-1], bounds[1:])]

    def take_along_axis(self, x, idx, axis):
        """Values of x at the indices idx along axis (idx has x's number of dims)."""
        return self.getitem(x, _along_axis_index(self, idx, axis))

    def put_along_axis(self, x, idx, values, axis):
        """In place: x at the indices idx along axis = values."""
        self.setitem(x, _along_axis_index(self, idx, axis), values)

    def argsort(self, x, axis):
        """Indices that sort x along axis ascending, stably (equal values keep their order; NaN last), int64:
        NumPy's argsort(kind="stable"). Here by ranking every pair (n^2 memory along axis); devices bind a sort."""
        x = self.swapaxes(x, axis, -1)
        n = x.shape[-1]
        a = self.reshape(x, x.shape + (1,))  # element i along the rows
        b = self.reshape(x, x.shape[:-1] + (1, n))  # element j along the columns
        positions = self.arange(0, n, 1, "int64")
        earlier = self.less(self.reshape(positions, (1, n)), self.reshape(positions, (n, 1)))  # j < i
        if x.dtype.kind in "fc":  # NaN is the largest value and equals itself here
            nan_a, nan_b = self.isnan(a), self.isnan(b)
            tie = self.where(nan_a, nan_b, self.equal(a, b))
            above = self.logical_and(nan_a, self.logical_not(nan_b))
            smaller = self.where(self.less(b, a), True, above)
        else:
            tie, smaller = self.equal(a, b), self.less(b, a)
        before = self.where(smaller, True, self.logical_and(tie, earlier))  # j goes before i
        rank = self.cast(self.sum(before, axis=-1), "int64")
        out = self.zeros(x.shape, "int64")
        self.put_along_axis(out, rank, self.broadcast_to(positions, x.shape), -1)
        return self.swapaxes(out, axis, -1)

    # in place on an existing array (in-place tensor methods, optimizers) ---------------------
    def copyto(self, dst, src):
        """In place: dst = src (broadcast, cast to dst's dtype)."""
        self.setitem(dst, ..., src)

    def iadd(self, x, y):
        """In place: x += y."""
        self.copyto(x, self.add(x, y))

    def isub(self, x, y):
        """In place: x -= y."""
        self.copyto(x, self.sub(x, y))

    def imul(self, x, y):
        """In place: x *= y."""
        self.copyto(x, self.mul(x, y))

    def idiv(self, x, y):
        """In place: x /= y."""
        self.copyto(x, self.div(x, y))

    def axpy(self, y, a, x):
        """In place: y += a * x, a a scalar."""
        self.iadd(y, self.mul(x, a))

    def fill(self, x, value):
        """In place: every element of x = value."""
        self.copyto(x, value)

    # checks and inspection ----------------------------------------------------------------
    def check(self, bad, error, message):
        """Raise error(message) if boolean array bad has a True; message is a str or a function giving it
        (called only then). A device may raise at its next host read instead, so checking never stalls it."""
        if self.any(bad):
            raise error(message() if callable(message) else message)

    def check_finite(self, message, *arrays):
        """Raise ValueError(message) if an array holds a NaN or Inf (through check: on a device that defers
        checks, at its next host read)."""
        # one flag for all of them (a deferring device then queues one check), kept
        # as a device array: CuPy's where takes no Python bool as its condition
        bad = None
        for a in arrays:
            if a.size:
                flag = self.max(self.logical_not(self.isfinite(a)))
                bad = flag if bad is None else self.where(bad, True, flag)
        if bad is not None:
            self.check(bad, ValueError, message)

    def finite_stats(self, x):
        """(number of NaN, number of Inf) in x, as Python ints."""
        summary = self.kernels.summarize(x)
        return int(summary[4]), int(summary[5])

    def empty_cache(self):
        """Give the memory the kernels keep for reuse back to the allocator."""
        self.kernels.empty_cache()


# ------------------------------------------------------------------ helpers


def _size(x):
    return math.prod(getattr(x, "shape", ()))


def _kind(a, who):
    """a's dtype kind; bools have no negation (NumPy's TypeError)."""
    kind = a.dtype.kind
    if kind == "b":
        raise TypeError(f"{who}: a bool array has no negative; use logical_not (NumPy's rule)")
    return kind


def _reverse_order(be, x):
    """x under a map that reverses its order exactly (the max of the result is
    at the min of x): -x for floats (NaN stays NaN), -1 - x for integers (that
    is ~x: no overflow, wrapping arithmetic gives it exactly), not x for bools."""
    kind = x.dtype.kind
    if kind == "b":
        return be.logical_not(x)
    if kind == "i":
        return be.sub(be.asarray(-1, x.dtype), x)
    if kind == "u":
        return be.sub(be.asarray((1 << (8 * x.dtype.itemsize)) - 1, x.dtype), x)
    return be.neg(x)


def _along_axis_index(be, idx, axis):
    """The advanced index that picks idx along axis and every position of the
    other axes (NumPy's take_along_axis as plain indexing)."""
    ndim = idx.ndim
    axis = axis + ndim if axis < 0 else axis
    index = []
    for d in range(ndim):
        if d == axis:
            index.append(idx)
        else:
            shape = [1] * ndim
            shape[d] = idx.shape[d]
            index.append(be.reshape(be.arange(0, idx.shape[d], 1, "int64"), tuple(shape)))
    return tuple(index)

