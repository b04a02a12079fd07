"""The backend contract: everything an op may ask of a device, in one place.

An op never calls an array library itself; it calls ``ctx.backend.<name>(...)``
with the names below, and nothing else. A new device is one class that
provides them all (``ArrayBackend`` does, over any NumPy-compatible array
module) plus its normalization kernels. ``tests/test_backend_contract.py``
checks both directions: every backend implements every name, and no code
outside ``backends/`` calls a name that is not listed here.

Arrays are the backend's own (``ndarray``); "scalar" means a Python number.
Shapes are tuples of ints; dtypes are NumPy dtypes. Functions return new
arrays unless they say "in place".
"""
from typing import Protocol


class Backend(Protocol):
    name: str                     # the device name tensors carry ("cpu", "cuda")
    ndarray: type                 # the array type this backend's ops return
    kernel_names: dict            # op -> the module of the kernel it runs ("batch_norm": "kernels.cpu.batchnorm")

    # host transfer and creation ----------------------------------------------------
    def asarray(self, x, dtype=None): """An array on this device from an array, a host array, a number or nested lists (no copy when already one)."""
    def to_numpy(self, x): """A host NumPy array with the values of x (no copy on the CPU)."""
    def copy(self, x): """A new contiguous array with the values of x."""
    def cast(self, x, dtype): """x converted to dtype (x itself when it already has it)."""
    def zeros(self, shape, dtype): """A new array of zeros."""
    def full(self, shape, value, dtype): """A new array filled with value."""
    def arange(self, start, stop, step, dtype): """Evenly spaced values in [start, stop)."""
    def zeros_like(self, x, dtype=None): """Zeros with x's shape (and dtype unless given)."""
    def ones_like(self, x, dtype=None): """Ones with x's shape (and dtype unless given)."""

    # random numbers: one generator per device, reset by seed() ----------------------
    def seed(self, seed): """Restart this device's generator from seed (manual_seed calls it on every device)."""
    def rand(self, shape, dtype): """Uniform samples on [0, 1)."""
    def randn(self, shape, dtype): """Standard normal samples."""
    def uniform(self, low, high, shape, dtype): """Uniform samples on [low, high)."""
    def normal(self, mean, std, shape, dtype): """Normal samples with this mean and standard deviation."""
    def bernoulli_mask(self, keep_prob, shape, dtype): """1 with probability keep_prob, else 0 (dropout's mask)."""

    # elementwise, NumPy broadcasting; a scalar may stand in for either operand -------
    def add(self, a, b): """a + b."""
    def sub(self, a, b): """a - b."""
    def mul(self, a, b): """a * b."""
    def div(self, a, b): """a / b (IEEE: x/0 is inf or nan)."""
    def neg(self, a): """-a."""
    def pow(self, a, b): """a ** b."""
    def exp(self, a): """e ** a."""
    def log(self, a): """Natural logarithm (-inf at 0, nan below)."""
    def sqrt(self, a): """Square root."""
    def abs(self, a): """|a|."""
    def sign(self, a): """-1, 0 or 1 (0 at 0)."""
    def tanh(self, a): """Hyperbolic tangent."""
    def erf(self, a): """The error function (exact GELU)."""
    def sigmoid(self, a): """1 / (1 + exp(-a)), without overflow for large |a|."""
    def relu(self, a): """max(a, 0)."""
    def relu_backward(self, out, grad): """grad where out > 0, else 0."""
    def clip(self, a, lo, hi): """a limited to [lo, hi]; a None bound is open."""
    def maximum(self, a, b): """Elementwise larger of a and b."""
    def minimum(self, a, b): """Elementwise smaller of a and b."""
    def where(self, cond, a, b): """a where cond is true, else b."""
    def greater(self, a, b): """a > b, as bools."""
    def greater_equal(self, a, b): """a >= b, as bools."""
    def less(self, a, b): """a < b, as bools."""
    def less_equal(self, a, b): """a <= b, as bools."""
    def equal(self, a, b): """a == b, as bools."""
    def not_equal(self, a, b): """a != b, as bools."""
    def logical_and(self, a, b): """a and b, elementwise."""
    def logical_not(self, a): """not a, elementwise."""
    def isnan(self, a): """True where a is NaN."""
    def isfinite(self, a): """True where a is neither NaN nor infinite."""

    # reductions (axis: None, an int or a tuple) ---------------------------------
    def sum(self, x, axis=None, keepdims=False): """Sum over axis."""
    def mean(self, x, axis=None, keepdims=False): """Mean over axis."""
    def max(self, x, axis=None, keepdims=False): """Largest value over axis."""
    def min(self, x, axis=None, keepdims=False): """Smallest value over axis."""
    def argmax(self, x, axis=None, keepdims=False): """Index of the largest value over axis (int64)."""
    def argmin(self, x, axis=None, keepdims=False): """Index of the smallest value over axis (int64)."""
    def any(self, x): """True if any element is true or non-zero (a Python bool)."""
    def unbroadcast(self, grad, shape): """grad summed over the axes broadcasting added or stretched, so it has shape."""

    # shape, indexing, products ---------------------------------------------------
    def reshape(self, x, shape): """x with a new shape (a view when possible)."""
    def transpose(self, x, axes): """x with its axes permuted (a view)."""
    def swapaxes(self, x, a, b): """x with two axes exchanged (a view)."""
    def broadcast_to(self, x, shape): """A read-only broadcast view of x with shape."""
    def concatenate(self, arrays, axis): """Arrays joined along an existing axis."""
    def stack(self, arrays, axis): """Same-shaped arrays joined along a new axis."""
    def split_at(self, x, indices_or_sections, axis): """x cut into pieces along axis (NumPy's split)."""
    def ascontiguous(self, x): """x as a C-contiguous array, 0-d arrays kept 0-d."""
    def getitem(self, x, index): """x[index] with NumPy's basic and advanced indexing."""
    def setitem(self, x, index, value): """x[index] = value, in place (value broadcasts to x[index])."""
    def scatter_add(self, shape, dtype, index, values): """zeros(shape)[index] += values, repeated indices summed."""
    def take_along_axis(self, x, idx, axis): """Values of x at the indices idx along axis."""
    def put_along_axis(self, x, idx, values, axis): """In place: x at the indices idx along axis = values."""
    def shares_memory(self, a, b): """Whether a and b may use the same memory (views)."""
    def matmul(self, a, b): """a @ b with NumPy's rules for 1-d and batched operands."""

    # in place on an existing array (in-place tensor methods, optimizers) ------------
    def iadd(self, x, y): """In place: x += y."""
    def isub(self, x, y): """In place: x -= y."""
    def imul(self, x, y): """In place: x *= y."""
    def idiv(self, x, y): """In place: x /= y."""
    def axpy(self, y, a, x): """In place: y += a * x, a a scalar."""
    def fill(self, x, value): """In place: every element of x = value."""
    def copyto(self, dst, src): """In place: dst = src (broadcast, cast to dst's dtype)."""

    # normalization kernels (kernels/<device>): arrays in, arrays out -----------------
    def batch_norm_train(self, x, weight, bias, eps): """(y, mean, biased var, invstd) of x (N, C, *) with batch statistics (float64 stats)."""
    def batch_norm_eval(self, x, weight, bias, running_mean, running_var, eps): """(y, invstd) of x with the running statistics."""
    def batch_norm_backward(self, x, dy, mean, invstd, weight, training): """(dx, dweight, dbias) of batch norm."""
    def layer_norm(self, x, weight, bias, eps, normalized_ndim): """(y, mean, invstd) over the last normalized_ndim dims."""
    def layer_norm_backward(self, x, dy, mean, invstd, weight, normalized_ndim): """(dx, dweight, dbias) of layer norm."""
    def group_norm(self, x, num_groups, weight, bias, eps): """(y, mean, invstd) per sample and channel group of x (N, C, *)."""
    def group_norm_backward(self, x, dy, num_groups, mean, invstd, weight): """(dx, dweight, dbias) of group norm."""
    def empty_cache(self): """Give the memory the kernels keep for reuse back to the allocator."""

    # diagnostics -----------------------------------------------------------------
    def synchronize(self): """Wait until work queued on this device is done (no-op on the CPU; the tape times ops with it)."""
    def check(self, bad, error, message): """Raise error(message) if boolean array bad has a True; message is a str or a
        function giving it (called only then). A device may raise at its next host read instead, as check_finite."""
    def check_finite(self, message, *arrays): """Raise ValueError(message) if an array holds a NaN or Inf. A device may
        raise at its next host read instead (CUDA: at .item(), .tolist(), .cpu()), so checking never stalls it."""
    def finite_stats(self, x): """(number of NaN, number of Inf) in x, as Python ints."""


CONTRACT = tuple(n for n in Backend.__dict__ if not n.startswith("_")) + tuple(Backend.__annotations__)
