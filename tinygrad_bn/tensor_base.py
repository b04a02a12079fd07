"""What the engine, the ops and the layers above them need of a tensor.

This module sits below everything that makes or reads tensors: it imports
only ``backends``, ``dtypes`` and ``device``. ``TensorBase`` is a tensor's state and how
one is built: its array on a device, that device's backend, whether it
requires grad, its ``.grad``, the tape entry that made it (and which of the
entry's outputs it is), its version counter (a one-element list, shared by
views of one array) and the hooks of a leaf. ``Tensor`` (tensor.py) adds the
methods users call, which apply ops. Since the ops sit between the two, the
class they make is named by the class statement of ``Tensor`` itself
(``class Tensor(TensorBase, ..., made_by_ops=True)``): ``make_tensor`` and
``new_tensor`` make that class, and ``isinstance(x, TensorBase)`` recognises
one. The ops, the engine and the inspection that observes it (the Tape,
anomaly mode) use the fields directly: they are this state's own machinery.
Everything above them (nn, optim, data, distributed, saving, testing) goes
through the functions at the bottom.
"""
from __future__ import annotations

import copy

import numpy as np

from . import compile_state
from .backends import get_backend, move
from .device import _DEVICES, device_of, shape_of
from . import dtypes
from .dtypes import as_dtype, is_float

_compiling = compile_state._current  # which tg.compile tracer records on this thread (None: none)


def _host_array(data, dtype=None):
    """``data`` as a host NumPy array with PyTorch's dtype rules for Python values
    (or straight in ``dtype`` when given: 0.1 as float64 is float64's 0.1, not float32's)."""
    if isinstance(data, (np.ndarray, np.generic)):
        # a copy in native byte order: the kernels (and PyTorch) take no other
        return np.array(data, dtype=data.dtype.newbyteorder("="), copy=True)
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"tensor: cannot build a tensor from {type(data).__name__}: {exc}") from None
    # Python floats become float32, Python ints int64, as in PyTorch.
    if dtype is not None and arr.dtype.kind in "biuf":
        return arr.astype(dtype)
    if arr.dtype == np.float64:
        arr = arr.astype(dtypes.default_float)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    return arr


class TensorBase:
    """A tensor's state; see the module docstring. Users meet its subclass ``Tensor``."""

    # _view, set only on a tensor a view op made on another's memory: (the tensor
    # whose memory it is, the view ops from it), so an in-place write through the
    # view rebases that tensor on the tape (read it with getattr(t, "_view", None))
    __slots__ = ("_data", "requires_grad", "grad", "_entry", "_out_index", "_version_cell", "_hooks",
                 "_backend", "_view", "__weakref__")
    _made_by_ops = None  # the class make_tensor makes (Tensor)

    def __init_subclass__(cls, made_by_ops=False, **kwargs):
        super().__init_subclass__(**kwargs)
        if made_by_ops:
            if TensorBase._made_by_ops is not None:
                raise TypeError(f"{cls.__name__}: {TensorBase._made_by_ops.__name__} is already the class ops make")
            TensorBase._made_by_ops = cls

    def __init__(self, data, dtype=None, requires_grad=False, device="cpu"):
        backend = get_backend(device)
        dtype = as_dtype(dtype)
        if isinstance(data, TensorBase):
            arr = backend.copy(data._data) if data._backend is backend else move(data._data, data._backend, backend)
        else:
            arr = _host_array(data, dtype)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(
                f"tensor: cannot build a tensor from data of type {type(data).__name__} "
                f"(NumPy dtype {arr.dtype}); pass numbers, nested lists of numbers or a numeric array."
            )
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        if requires_grad and not is_float(arr.dtype):
            raise RuntimeError(
                f"tensor: only floating point tensors can require gradients, got dtype {arr.dtype}; "
                "pass dtype=tinygrad_bn.float32."
            )
        self._data = backend.asarray(arr)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._entry = None
        self._out_index = 0
        self._version_cell = [0]
        self._hooks = None
        self._backend = backend
        if _compiling.tracer is not None:  # tg.compile notes the tensors a traced step makes
            _compiling.tracer.born.add(id(self))

    # copies and pickles, as PyTorch's: a tensor is its device, dtype, values and
    # requires_grad; the graph is not copied (a non-leaf that requires grad is refused)
    def __reduce_ex__(self, protocol):
        self._refuse_graph("pickle")
        return (_rebuild_tensor, (type(self), self._backend.to_numpy(self._data), self._backend.name,
                                  self.requires_grad))

    def __deepcopy__(self, memo):
        self._refuse_graph("copy.deepcopy")
        be = self._backend
        new = _as_class(type(self), make_tensor(be.copy(self._data), be, self.requires_grad))
        memo[id(self)] = new
        if self.grad is not None:
            new.grad = copy.deepcopy(self.grad, memo)
        return new

    def _refuse_graph(self, who):
        if self._entry is not None and self.requires_grad:
            raise RuntimeError(f"{who}: only tensors created by the user (graph leaves) can be copied or pickled, "
                               "not one an op made that requires grad (its graph is not copied); "
                               "use t.detach() (or t.detach().clone())")

    @property
    def device(self) -> str:
        """Its device: the backend's name, as a ``tinygrad_bn.device`` (a str)."""
        name = self._backend.name
        return _DEVICES.get(name) or device_of(name)

    @property
    def shape(self):
        """The shape, a ``Size`` (a tuple of ints with ``numel()``), as PyTorch's."""
        return shape_of(self._data)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        return self._entry is None

    @property
    def grad_fn(self):
        """The tape entry that made this tensor (None for leaves)."""
        return self._entry

    @property
    def _version(self) -> int:
        return self._version_cell[0]

    def _write(self, method, *args):
        """Change the array in place with backend method ``method`` (iadd, fill,
        copyto, axpy, ...) and bump the version counter, so a backward that saved
        the old values notices. Every in-place write goes through here."""
        getattr(self._backend, method)(self._data, *args)
        self._version_cell[0] += 1
        if _compiling.tracer is not None:  # inside a step being compiled: replay bumps it too
            _compiling.tracer.bumped(self)
        return self


_new = object.__new__


def new_tensor(data, dtype=None, device="cpu"):
    """A new tensor (of the class ops make) holding a copy of ``data``: numbers,
    nested lists, a NumPy array or a tensor (``tinygrad_bn.tensor``'s rules)."""
    return TensorBase._made_by_ops(data, dtype=dtype, device=device)


def _rebuild_tensor(cls, values, device, requires_grad):
    """A pickled tensor back: ``values`` (host) on ``device``, as class ``cls`` (Tensor, Parameter)."""
    backend = get_backend(device)
    values = np.ascontiguousarray(values).reshape(np.shape(values))  # (ascontiguousarray makes a 0-d array 1-d)
    return _as_class(cls, make_tensor(backend.asarray(values), backend, requires_grad))


def _as_class(cls, t):
    """``t`` as an instance of ``cls`` (a Tensor subclass without slots of its own, e.g. Parameter)."""
    if type(t) is not cls:
        t.__class__ = cls
    return t


def make_tensor(array, backend, requires_grad=False):
    """A tensor around ``array`` (an array of ``backend``'s device), not copied or checked."""
    t = _new(TensorBase._made_by_ops)
    t._data = array
    t.requires_grad = requires_grad
    t.grad = t._entry = t._hooks = None
    t._out_index = 0
    t._version_cell = [0]
    t._backend = backend
    if _compiling.tracer is not None:  # tg.compile notes the tensors a traced step makes
        _compiling.tracer.born.add(id(t))
    return t


# ------------------------------------------------------------------ the internal API above the ops


def array_of(t):
    """The device array that holds ``t``'s values: shared, to read. Change it
    only through ``write_in_place``, which tells autograd."""
    return t._data


def backend_of(t):
    """The backend of ``t``'s device: the array math that may be done on ``array_of(t)``."""
    return t._backend


def same_device(a, b):
    """Whether tensors ``a`` and ``b`` are on one device (one backend), so one
    op may read both arrays."""
    return a._backend is b._backend


def write_in_place(t, method, *args):
    """``backend_of(t).<method>(array_of(t), *args)`` (an in-place contract name:
    ``fill``, ``copyto``, ``iadd``, ``axpy``, ...), then a new version of ``t``,
    so a backward that saved its old values refuses to run. Returns ``t``."""
    return t._write(method, *args)


def replace_storage(t, array, backend=None):
    """Give ``t`` a new array (and device): ``Module.to``, a received broadcast.
    A new version too, since values saved for backward are stale."""
    t._data = array
    if backend is not None:
        t._backend = backend
    t._version_cell[0] += 1


def bump_version(t):
    """Record that ``t``'s array was changed in place by code that wrote it
    directly (a collective writing into it)."""
    t._version_cell[0] += 1
