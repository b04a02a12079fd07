"""The Tensor: an array on a device, plus what autograd needs to know about it.

A tensor that requires grad and was made by an op points to its tape entry
(``grad_fn``); a leaf (made by the user) has none and receives ``.grad``.
Array math never happens here: the methods in ``tensor_methods.py`` apply ops
from ``tinygrad_bn.ops`` (which check their arguments); this file holds what a
tensor is (its array, device, dtype, grad, tape entry, version) and how it
converts, moves and joins the tape.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import engine, function
from .backends import devices, get_backend
from .dtypes import as_dtype, default_float, float32, float64, int64, is_float
from .ops import convert as C
from .ops.reduce import normalize_axis
from .tensor_methods import TensorMethods


def _host_array(data):
    """``data`` as a host NumPy array with PyTorch's dtype rules for Python values."""
    if isinstance(data, (np.ndarray, np.generic)):
        # a copy in native byte order: the kernels (and PyTorch) take no other
        return np.array(data, dtype=data.dtype.newbyteorder("="), copy=True)
    try:
        arr = np.array(data)
    except ValueError as exc:
        raise ValueError(f"tensor: cannot build a tensor from {type(data).__name__}: {exc}") from None
    # Python floats become float32, Python ints int64, as in PyTorch.
    if arr.dtype == np.float64:
        arr = arr.astype(default_float)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    return arr


class Tensor(TensorMethods):
    """An n-dimensional array that records the ops applied to it.

    Build one with ``tinygrad_bn.tensor(data, dtype=None, requires_grad=False, device="cpu")``.
    """

    __slots__ = ("_data", "requires_grad", "grad", "_entry", "_out_index", "_version_cell", "_hooks",
                 "_backend", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators
    is_parameter = False  # nn.Parameter says True (the tape labels those inputs "param")

    def __init__(self, data, dtype=None, requires_grad=False, device="cpu"):
        backend = get_backend(device)
        dtype = as_dtype(dtype)
        if isinstance(data, Tensor):
            arr = backend.copy(data._data) if data._backend is backend else C.move(data._data, data._backend, backend)
        else:
            arr = _host_array(data)
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

    @classmethod
    def _wrap(cls, array, backend, requires_grad=False):
        """A tensor around an existing array of ``backend``, without copying or checking."""
        t = object.__new__(cls)
        t._data = array
        t.requires_grad = requires_grad
        t.grad = None
        t._entry = None
        t._out_index = 0
        t._version_cell = [0]
        t._hooks = None
        t._backend = backend
        return t

    # ------------------------------------------------------------------ info
    @property
    def device(self) -> str:
        return self._backend.name

    @property
    def shape(self):
        return tuple(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim=None):
        """The shape (``size()``) or the length of one dimension (``size(dim)``), as in PyTorch."""
        if dim is None:
            return self.shape
        return self.shape[normalize_axis(dim, self.ndim, "size")[0]]

    def numel(self) -> int:
        return int(self._data.size)

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
    def data(self) -> "Tensor":
        """The same values (shared memory) as a tensor that is not recorded on the
        tape and does not require grad, as PyTorch's ``.data``: in-place changes to
        it (``p.data -= lr * p.grad``, ``m.bias.data.fill_(0)``) change this tensor
        without autograd seeing them. Prefer ``detach()``, whose changes a backward
        that saved the old values notices; ``.data`` keeps a version counter of its
        own, as in PyTorch, so it cannot."""
        return Tensor._wrap(self._data, self._backend)

    @data.setter
    def data(self, value):
        # Assigning a tensor swaps this tensor's array for that tensor's (shared,
        # not copied), as in PyTorch: shape, dtype and device may all change.
        if not isinstance(value, Tensor):
            raise TypeError(
                f"Tensor.data: assigned data must be a Tensor, got {type(value).__name__}; "
                "wrap it with tinygrad_bn.tensor(...) first."
            )
        if self.requires_grad and not is_float(value.dtype):
            raise RuntimeError(
                f"Tensor.data: this tensor requires grad, so its data must be floating point, "
                f"got dtype {value.dtype}; convert it with .float() first."
            )
        self._data, self._backend = value._data, value._backend

    @property
    def _version(self) -> int:
        return self._version_cell[0]

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        arr = self._backend.to_numpy(self._data)
        body = np.array2string(arr, separator=", ", prefix="tensor(", precision=4)
        extras = []
        if arr.dtype not in (np.float32, np.int64, np.bool_):
            extras.append(f"dtype={arr.dtype}")
        if self.device != "cpu":
            extras.append(f"device='{self.device}'")
        if self._entry is not None:
            extras.append(f"grad_fn=<{self._entry.name} #{self._entry.seq}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __hash__ = object.__hash__

    # ------------------------------------------------------------ conversion
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array (sharing memory on the CPU)."""
        if self.device != "cpu":
            raise TypeError(
                f"numpy(): the tensor is on {self.device!r}; copy it to host memory first "
                "with tensor.cpu().numpy() (as in PyTorch)."
            )
        if self.requires_grad:
            raise RuntimeError(
                "numpy(): the tensor requires grad, and changing the returned array would "
                "silently corrupt the tape; call tensor.detach().numpy() instead."
            )
        return self._backend.to_numpy(self._data)

    def tolist(self):
        return self._backend.to_numpy(self._data).tolist()

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"item(): only a tensor with one element can be converted to a Python "
                f"number, this one has shape {self.shape} ({self._data.size} elements)."
            )
        return self._backend.to_numpy(self._data).reshape(-1)[0].item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                "use .any() or .all()."
            )
        return bool(self.item())

    def detach(self) -> "Tensor":
        """The same values (shared memory) cut from the tape."""
        t = Tensor._wrap(self._data, self._backend)
        t._version_cell = self._version_cell
        return t

    def clone(self) -> "Tensor":
        return C.Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError(
                "requires_grad_(): only leaf tensors can change requires_grad; this one was "
                f"made by {self._entry.name}. Use .detach().requires_grad_() for a new leaf."
            )
        if requires_grad and not is_float(self.dtype):
            raise RuntimeError(
                f"requires_grad_(): only floating point tensors can require gradients, got {self.dtype}."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, *args, dtype=None, device=None) -> "Tensor":
        """A copy with another dtype and/or on another device (both recorded on the
        tape): ``to(float64)``, ``to("cpu")``, ``to("cuda", float32)``, ``to(other_tensor)``."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif _is_device(a):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            try:
                target = get_backend(device)
            except ValueError as exc:
                raise ValueError(f"to: {exc}") from None
            if target is not self._backend:
                out = C.ToDevice.apply(out, target)
        if dtype is not None:
            dtype = as_dtype(dtype, "to")
            if dtype != out.dtype:
                if out.requires_grad and not is_float(dtype):
                    return Tensor._wrap(out._backend.cast(out._data, dtype), out._backend)
                out = C.Cast.apply(out, dtype)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    # --------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        engine.backward([self], [gradient], retain_graph=retain_graph)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self._entry is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad(): the tensor does not require grad; expected a tensor "
                                   "created with requires_grad=True or computed from one.")
            return
        if self._entry.retained is None:
            self._entry.retained = {}
        self._entry.retained[self._out_index] = weakref.ref(self)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned
        tensor replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("register_hook(): cannot register a hook on a tensor that does not require grad.")
        if self._entry is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self._entry.hooks is None:
                self._entry.hooks = {}
            hooks = self._entry.hooks.setdefault(self._out_index, [])
        return RemovableHandle(hooks, hook)

    # ---------------------------------------------------------------- in place
    def _write(self, method, *args):
        """Change the array in place with backend method ``method`` (iadd, fill,
        copyto, axpy, ...) and bump the version counter, so a backward that saved
        the old values notices. Every in-place write goes through here: these
        methods, nn.init, running statistics, optimizer steps, load_state_dict."""
        getattr(self._backend, method)(self._data, *args)
        self._version_cell[0] += 1
        return self

def _is_device(name):
    """Whether a positional argument of ``to`` names a device rather than a dtype:
    a registered device, or a string that is no dtype (get_backend then names the
    devices there are)."""
    if not isinstance(name, str):
        return False
    if name in devices():
        return True
    try:
        np.dtype(name)
        return False
    except TypeError:
        return True


class RemovableHandle:
    """Returned by ``register_hook`` and the module hook registrations: ``remove()``
    takes the hook out again (a list of hooks, or a dict keyed by the handle)."""

    _next_id = 0

    def __init__(self, store, hook):
        RemovableHandle._next_id += 1
        self.id = RemovableHandle._next_id
        self._store = store
        if isinstance(store, dict):
            store[self.id] = hook
        else:
            store.append(hook)
        self._hook = hook

    def remove(self):
        if isinstance(self._store, dict):
            self._store.pop(self.id, None)
        elif self._hook in self._store:
            self._store.remove(self._hook)


function.Tensor = Tensor
