"""The backend contract: everything an op may ask of a device, in three layers.

1. ``Core`` (below): the primitives a device must provide itself, about thirty.
2. ``Derived`` (``derived.py``): the rest of what ops call (``sub``, ``sigmoid``,
   comparisons, ``mean``, ``unbroadcast``, ``stack``, in-place updates, ...),
   written once in terms of the core, so every device gets them. A device may
   override a derived name with a faster equivalent (``ArrayBackend`` binds
   most of them straight to NumPy's or CuPy's functions); tests check that
   each override gives what the derived version gives.
3. ``kernels``: the device's normalization kernels, a package that implements
   ``kernels.protocol.NormKernels`` (``kernels.cpu``, ``kernels.cuda``).

An op never calls an array library itself; it calls ``ctx.backend.<name>(...)``
with a name of these layers, and nothing else. A new device is one class
that provides the core (subclassing ``Derived``), the core's attributes among
them, plus a kernel package.
``tests/backends`` checks every direction: every backend has every name, no
code outside ``backends/`` calls a name that is not listed, the core stays
small, and a device with only the core trains like the CPU.

Arrays are the backend's own (``ndarray``); "scalar" means a Python number.
Shapes are tuples of ints; dtypes are NumPy dtypes. Functions return new
arrays unless they say "in place".
"""
from typing import Protocol

from kernels.protocol import NAMES as KERNEL_NAMES
from kernels.protocol import NormKernels

from .derived import Derived


class Core(Protocol):
    name: str                     # the device name tensors carry ("cpu", "cuda")
    ndarray: type                 # the array type this backend's ops return
    kernels: NormKernels          # its normalization kernels (kernels/protocol.py)
    generator: object             # its random generator, as seed() left it (tg.default_generator returns it)

    # host transfer and creation ----------------------------------------------------
    def asarray(self, x, dtype=None): """An array on this device from one of its arrays, a host array, a number or
        nested lists, converted to dtype when given (no copy when x already is one of that dtype)."""
    def to_numpy(self, x): """A host NumPy array with the values of x (no copy on the CPU)."""
    def full(self, shape, value, dtype): """A new array filled with value."""
    def arange(self, start, stop, step, dtype): """Evenly spaced values in [start, stop)."""

    # random numbers: one generator per device, reset by seed() ----------------------
    def seed(self, seed): """Restart this device's generator from seed (manual_seed calls it on every device)."""
    def rand(self, shape, dtype): """Uniform samples on [0, 1)."""
    def randn(self, shape, dtype): """Standard normal samples."""

    # elementwise, NumPy broadcasting and type promotion; a scalar may stand in for either operand
    def add(self, a, b): """a + b."""
    def mul(self, a, b): """a * b."""
    def div(self, a, b): """a / b (IEEE: x/0 is inf or nan)."""
    def pow(self, a, b): """a ** b."""
    def exp(self, a): """e ** a."""
    def log(self, a): """Natural logarithm (-inf at 0, nan below)."""
    def sqrt(self, a): """Square root."""
    def abs(self, a): """|a| (|-0.0| is 0.0)."""
    def tanh(self, a): """Hyperbolic tangent."""
    def erf(self, a): """The error function (exact GELU)."""
    def math(self, fn, *args): """fn(*args) elementwise, fn one of ops.pointwise.MATH_FUNCTIONS (sin, arctan2,
        lgamma, polygamma(n, a), ...: NumPy's names); float results keep the float operands' dtype."""
    def maximum(self, a, b): """Elementwise larger of a and b; NaN if either is NaN."""
    def where(self, cond, a, b): """a where cond is true, else b."""
    def less(self, a, b): """a < b, as bools (False where either is NaN)."""
    def equal(self, a, b): """a == b, as bools (False where either is NaN)."""

    # reductions (axis: None, an int or a tuple; ops pass axis and keepdims by keyword) --
    def sum(self, x, axis=None, keepdims=False): """Sum over axis."""
    def max(self, x, axis=None, keepdims=False): """Largest value over axis; NaN if any is NaN."""
    def prod(self, x, axis=None, keepdims=False): """Product over axis (int64 for integer and bool input)."""
    def argmax(self, x, axis=None, keepdims=False): """Index of the first largest value over axis (the first NaN
        if any; int64)."""

    # shape, indexing, products ---------------------------------------------------
    def reshape(self, x, shape): """x with a new shape (a view when possible)."""
    def transpose(self, x, axes): """x with its axes permuted (a view)."""
    def broadcast_to(self, x, shape): """A read-only broadcast view of x with shape."""
    def concatenate(self, arrays, axis): """Arrays joined along an existing axis."""
    def getitem(self, x, index): """x[index] with NumPy's basic and advanced indexing."""
    def setitem(self, x, index, value): """In place: x[index] = value (value broadcasts to x[index] and is cast to
        x's dtype)."""
    def scatter_add(self, shape, dtype, index, values): """zeros(shape)[index] += values, repeated indices summed."""
    def shares_memory(self, a, b): """Whether a and b may use the same memory (views)."""
    def matmul(self, a, b): """a @ b with NumPy's rules for 1-d and batched operands."""

    # the device ------------------------------------------------------------------
    def synchronize(self): """Wait until work queued on this device is done (no-op on the CPU; the tape times ops with it)."""


CORE = tuple(n for n in Core.__dict__ if not n.startswith("_")) + tuple(Core.__annotations__)
DERIVED = tuple(n for n in Derived.__dict__ if not n.startswith("_"))
CONTRACT = CORE + DERIVED
"""Every name a backend object has for ops to call (the kernels' own names are
``KERNEL_NAMES``, reached through ``backend.kernels``)."""

__all__ = ["CONTRACT", "CORE", "DERIVED", "KERNEL_NAMES", "Core", "Derived", "NormKernels"]
