"""The backend contract over Tensors: every call is a recorded op.

An op's backward is written against the contract (``ctx.backend.mul(g, b)``)
on plain arrays. Run with ``RecordingBackend`` instead, the same backward
takes and returns Tensors, and every step it takes is itself an op on the
tape: its result can be differentiated again. That is how the engine runs a
``create_graph=True`` pass (``engine.run_backward``), so each op's backward is
also its double backward, to any order, with no second formula to keep in step.

What it means for each layer of the contract:
- core and derived arithmetic, reductions and shape ops become the recorded op
  of that name (``mul`` -> ``Mul``, ``sum`` -> ``Sum``, ``broadcast_to`` ->
  ``Expand``, ``scatter_add`` -> ``ScatterAdd``, ...); derived names not listed
  here come from ``Derived``, built from those;
- comparisons, ``sign``, ``argmax`` and creation give constant tensors (they
  are piecewise constant: no gradient flows through them);
- in-place names (``setitem``, ``copyto``, ...) rebase the tensor they write,
  as an in-place op does on the tape;
- the fused normalization kernels return arrays without a graph, so the norm
  ops' backward checks ``records`` and records one ``ops.norm_grad.NormBackward``
  (the kernel as its forward, the closed-form double backward as its backward).

Arguments may mix Tensors, the device's arrays (constants, from what an op
kept on its context) and Python numbers; results are Tensors on ``base``.
"""
from __future__ import annotations

import functools
import types

import numpy as np

from .backends.derived import Derived
from .tensor_base import TensorBase, make_tensor


class RecordingBackend(Derived):
    """The contract over Tensors living on ``base`` (an array backend)."""

    records = True  # ops' backward asks this (array backends say False, from Derived)

    base = None  # the array backend underneath (Derived's property says "self" for array backends)

    def __init__(self, base):
        self.base = base
        self.name = base.name
        self.ndarray = TensorBase._made_by_ops
        self.kernels = base.kernels

    @property
    def generator(self):
        return self.base.generator  # seed() replaces the base's generator: read it each time

    def __repr__(self):
        return f"<RecordingBackend over {self.base!r}>"

    # ------------------------------------------------------------ tensors and constants
    def _t(self, x):
        """x as a tensor: a tensor itself, a device array as a constant one; numbers stay numbers."""
        if isinstance(x, TensorBase) or isinstance(x, (bool, int, float)) or x is None:
            return x
        if type(x) is not self.base.ndarray:
            x = self.base.asarray(x)
        return make_tensor(x, self.base, False)

    def _const(self, array):
        return make_tensor(array if type(array) is self.base.ndarray else self.base.asarray(array), self.base, False)

    def _raw(self, x):
        return x._data if isinstance(x, TensorBase) else x

    # ------------------------------------------------------------ core: creation
    def asarray(self, x, dtype=None):
        if isinstance(x, TensorBase):
            return x if dtype is None else self.cast(x, dtype)
        return self._const(self.base.asarray(x, dtype))

    def to_numpy(self, x):
        return self.base.to_numpy(self._raw(x))

    def full(self, shape, value, dtype):
        return self._const(self.base.full(shape, value, dtype))

    def arange(self, start, stop, step, dtype):
        return self._const(self.base.arange(start, stop, step, dtype))

    def seed(self, seed):
        self.base.seed(seed)

    def rand(self, shape, dtype):
        return self._const(self.base.rand(shape, dtype))

    def randn(self, shape, dtype):
        return self._const(self.base.randn(shape, dtype))

    # ------------------------------------------------------------ core: elementwise
    def add(self, a, b):
        if _number(a) and _number(b):
            return a + b
        return _ops().E.Add.apply(self._t(a), self._t(b))

    def mul(self, a, b):
        if _number(a) and _number(b):
            return a * b
        return _ops().E.Mul.apply(self._t(a), self._t(b))

    def div(self, a, b):
        if _number(a) and _number(b):
            return a / b
        return _ops().E.Div.apply(self._t(a), self._t(b))

    def pow(self, a, b):
        if _number(a) and _number(b):
            return a ** b
        return _ops().E.Pow.apply(self._t(a), self._t(b))

    def exp(self, a):
        return _ops().E.Exp.apply(self._t(a))

    def log(self, a):
        return _ops().E.Log.apply(self._t(a))

    def sqrt(self, a):
        return _ops().E.Sqrt.apply(self._t(a))

    def abs(self, a):
        return _ops().E.Abs.apply(self._t(a))

    def tanh(self, a):
        return _ops().E.Tanh.apply(self._t(a))

    def math(self, fn, *args):
        op = _ops().P.OPS.get(fn)
        if op is None:  # bools and integers: constants
            return self._const(self.base.math(fn, *(self._raw(a) for a in args)))
        return op.apply(*(self._t(a) for a in args))

    def erf(self, a):
        return _ops().E.Erf.apply(self._t(a))

    def maximum(self, a, b):
        return _ops().E.Maximum.apply(self._t(a), self._t(b))

    def where(self, cond, a, b):
        a, b = self._t(a), self._t(b)
        if not isinstance(a, TensorBase) and not isinstance(b, TensorBase):
            return self._const(self.base.where(self._raw(cond), a, b))
        return _ops().E.Where.apply(self._raw(cond), a, b)

    def less(self, a, b):
        return self._const(self.base.less(self._raw(a), self._raw(b)))

    def equal(self, a, b):
        return self._const(self.base.equal(self._raw(a), self._raw(b)))

    # ------------------------------------------------------------ core: reductions
    def sum(self, x, axis=None, keepdims=False):
        x = self._t(x)
        return _ops().R.Sum.apply(x, _ops().R.normalize_axis(axis, x.ndim, "sum"), bool(keepdims))

    def max(self, x, axis=None, keepdims=False):
        x = self._t(x)
        return _ops().R.Max.apply(x, _ops().R.normalize_axis(axis, x.ndim, "max"), bool(keepdims))

    def argmax(self, x, axis=None, keepdims=False):
        return self._const(self.base.argmax(self._raw(x), axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------ core: shape, indexing, products
    def reshape(self, x, shape):
        x = self._t(x)
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        if -1 in shape:  # resolved here, so that a reshape to the same shape records nothing
            known = 1
            for n in shape:
                known *= n if n != -1 else 1
            shape = tuple(x.numel() // known if n == -1 else n for n in shape) if known else shape
        if shape == x.shape:
            return x
        return _ops().M.Reshape.apply(x, shape)

    def transpose(self, x, axes):
        x = self._t(x)
        return _ops().M.Permute.apply(x, tuple(a % x.ndim for a in axes))

    def broadcast_to(self, x, shape):
        x = self._t(x)
        return x if x.shape == tuple(shape) else _ops().M.Expand.apply(x, tuple(shape))

    def concatenate(self, arrays, axis):
        ts = [self._t(a) for a in arrays]
        return _ops().M.Cat.apply(axis % ts[0].ndim, *ts)

    def getitem(self, x, index):
        return _ops().M.GetItem.apply(self._t(x), _raw_index(index))

    def setitem(self, x, index, value):
        """In place, as an in-place op on the tape: x now stands for the result."""
        if not isinstance(x, TensorBase):
            raise TypeError("RecordingBackend.setitem: writes into a tensor; got a plain array")
        value = self._t(value)
        result = _ops().M.SetItem.apply(x, _raw_index(index), value)
        _rebase(x, result)

    def scatter_add(self, shape, dtype, index, values):
        return _ops().M.ScatterAdd.apply(self._t(values), tuple(shape), _raw_index(index))

    def shares_memory(self, a, b):
        return self.base.shares_memory(self._raw(a), self._raw(b))

    def matmul(self, a, b):
        return _ops().L.MatMul.apply(self._t(a), self._t(b))

    def synchronize(self):
        self.base.synchronize()

    # ------------------------------------------------------------ derived names, as single ops
    def cast(self, x, dtype):
        x = self._t(x)
        if x.dtype == dtype:
            return x
        return _ops().C.Cast.apply(x, _dtype(dtype))

    def copy(self, x):
        return _ops().C.Clone.apply(self._t(x))

    def ascontiguous(self, x):
        # tensors here are values, never written in place by the walk: a broadcast
        # view is a valid gradient (a copy is made only where one is kept as .grad)
        return self._t(x)

    def neg(self, a):
        return _ops().E.Neg.apply(self._t(a))

    def sub(self, a, b):
        if _number(a) and _number(b):
            return a - b
        return _ops().E.Sub.apply(self._t(a), self._t(b))

    def sigmoid(self, a):
        return _ops().E.Sigmoid.apply(self._t(a))

    def relu(self, a):
        return _ops().E.ReLU.apply(self._t(a))

    def minimum(self, a, b):
        return _ops().E.Minimum.apply(self._t(a), self._t(b))

    def prod(self, x, axis=None, keepdims=False):
        x = self._t(x)
        return _ops().R.Prod.apply(x, _ops().R.normalize_axis(axis, x.ndim, "prod"), bool(keepdims))

    def mean(self, x, axis=None, keepdims=False):
        x = self._t(x)
        return _ops().R.Mean.apply(x, _ops().R.normalize_axis(axis, x.ndim, "mean"), bool(keepdims))

    def min(self, x, axis=None, keepdims=False):
        x = self._t(x)
        return _ops().R.Min.apply(x, _ops().R.normalize_axis(axis, x.ndim, "min"), bool(keepdims))

    # piecewise constant: computed on the arrays, as constants
    def sign(self, a):
        return self._const(self.base.sign(self._raw(a)))

    def greater(self, a, b):
        return self._const(self.base.greater(self._raw(a), self._raw(b)))

    def less_equal(self, a, b):
        return self._const(self.base.less_equal(self._raw(a), self._raw(b)))

    def greater_equal(self, a, b):
        return self._const(self.base.greater_equal(self._raw(a), self._raw(b)))

    def not_equal(self, a, b):
        return self._const(self.base.not_equal(self._raw(a), self._raw(b)))

    def logical_not(self, a):
        return self._const(self.base.logical_not(self._raw(a)))

    def logical_and(self, a, b):
        return self._const(self.base.logical_and(self._raw(a), self._raw(b)))

    def isnan(self, a):
        return self._const(self.base.isnan(self._raw(a)))

    def isfinite(self, a):
        return self._const(self.base.isfinite(self._raw(a)))

    def argmin(self, x, axis=None, keepdims=False):
        return self._const(self.base.argmin(self._raw(x), axis=axis, keepdims=keepdims))

    def argsort(self, x, axis):
        return self._const(self.base.argsort(self._raw(x), axis))

    def relu_backward(self, out, grad):
        return self.where(self.base.less(0, self._raw(out)), grad, 0)

    # in place: the tensor is rebased onto the recorded result
    def copyto(self, dst, src):
        self.setitem(dst, ..., src)

    def check(self, bad, error, message):
        self.base.check(self._raw(bad), error, message)

    def check_finite(self, message, *arrays):
        self.base.check_finite(message, *(self._raw(a) for a in arrays))


def _number(x):
    return isinstance(x, (bool, int, float))


def _rebase(x, result):
    """x takes result's values and place on the tape: an in-place write as the
    backward sees it. The result is a new array (SetItem copies), so x's old
    array, which an op may have saved, is left as it was; x gets a version
    counter of its own."""
    x._data = result._data
    x._entry, x._out_index = result._entry, result._out_index
    x.requires_grad = result.requires_grad
    x._version_cell = [0]


def _raw_index(index):
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, TensorBase) else i for i in index)
    return index._data if isinstance(index, TensorBase) else index


def _dtype(dtype):
    return np.dtype(dtype)


@functools.cache
def _ops():
    """The op modules, imported on first use (they import what this module imports)."""
    from .ops import convert, elementwise, linalg, movement, pointwise, reduce
    return types.SimpleNamespace(E=elementwise, R=reduce, M=movement, L=linalg, C=convert, P=pointwise)


_recording = {}


def recording(base):
    """The recording backend over ``base`` (one per device backend)."""
    rb = _recording.get(id(base))
    if rb is None or rb.base is not base:
        rb = _recording[id(base)] = RecordingBackend(base)
    return rb

