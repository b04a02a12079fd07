"""The Tensor users hold: an array on a device that records the ops applied to it.

A tensor that requires grad and was made by an op points to its tape entry
(``grad_fn``); a leaf (made by the user) has none and receives ``.grad``.
Array math never happens here: the methods in ``tensor_methods.py`` apply ops
from ``tinygrad_bn.ops`` (which check their arguments). A tensor's state and
constructor are ``TensorBase``'s (``tensor_base.py``, below the ops and the
engine); this file holds how a tensor converts, moves and joins the tape.
"""
from __future__ import annotations

import sys
import weakref

import numpy as np

from . import engine
from .arguments import accept_axis_in_methods, varargs_or_keyword
from .backends import devices, get_backend
from .dtypes import as_dtype, bool_, float16, float32, float64, int8, int16, int32, int64, is_float, uint8
from .ops import convert as C
from .ops.reduce import normalize_axis
from .sampling import SamplingMethods
from .tensor_base import TensorBase, make_tensor
from .tensor_arithmetic import ArithmeticMethods
from .tensor_compare import ComparisonMethods
from .tensor_indexing import IndexingMethods
from .tensor_inplace import InPlaceMethods
from .tensor_math import MathMethods
from .tensor_methods import TensorMethods
from .tensor_linalg import LinalgMethods
from .tensor_reductions import ReductionMethods


class Tensor(TensorBase, MathMethods, ArithmeticMethods, ComparisonMethods, ReductionMethods, SamplingMethods,
             TensorMethods, InPlaceMethods, IndexingMethods, LinalgMethods, made_by_ops=True):
    """An n-dimensional array that records the ops applied to it.

    Build one with ``tinygrad_bn.tensor(data, dtype=None, requires_grad=False, device="cpu")``.
    Its state and constructor are ``TensorBase``'s (tensor_base.py); the
    methods here convert, move and join the tape, those of ``TensorMethods``
    apply ops.
    """

    __slots__ = ()
    __array_ufunc__ = None  # make NumPy defer to our reflected operators
    is_parameter = False  # nn.Parameter says True (the tape labels those inputs "param")

    # ------------------------------------------------------------------ info
    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim=None):
        """The shape (``size()``) or the length of one dimension (``size(dim)``), as in PyTorch."""
        if dim is None:
            return self.shape
        return self.shape[normalize_axis(dim, self.ndim, "size")[0]]

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """``tinygrad_bn.multinomial(self, ...)``: indices drawn with these weights."""
        from .sampling import multinomial
        return multinomial(self, num_samples, replacement, generator=generator)

    def type(self, dtype=None):
        """Without ``dtype``: PyTorch's type name ('torch.FloatTensor', 'torch.cuda.LongTensor', ...);
        with one (a dtype or such a name): ``to(dtype)``."""
        if dtype is None:
            name = _TYPE_NAMES.get(self.dtype)
            if name is None:
                raise TypeError(f"type: PyTorch has no tensor type name for dtype {self.dtype}")
            return ("torch.cuda." if self._backend.name == "cuda" else "torch.") + name
        if isinstance(dtype, str):  # a tensor type name only, as PyTorch ('torch.float64' is none)
            dtypes = {v: k for k, v in _TYPE_NAMES.items()}
            base = dtype.rsplit(".", 1)[-1]
            if base not in dtypes or not dtype.startswith("torch."):
                raise ValueError(f"type: unknown tensor type {dtype!r}; expected one of "
                                 f"{sorted('torch.' + n for n in dtypes)} (or torch.cuda.*) or a dtype")
            out = self.to(dtypes[base])
            return out.to("cuda") if ".cuda." in dtype else out
        return self.to(as_dtype(dtype, "type"))

    @property
    def data(self) -> "Tensor":
        """The same values (shared memory) as a tensor that is not recorded on the
        tape and does not require grad, as PyTorch's ``.data``: in-place changes to
        it (``p.data -= lr * p.grad``, ``m.bias.data.fill_(0)``) change this tensor
        without autograd seeing them. Prefer ``detach()``, whose changes a backward
        that saved the old values notices; ``.data`` keeps a version counter of its
        own, as in PyTorch, so it cannot."""
        return make_tensor(self._data, self._backend)

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

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        arr = self._backend.to_numpy(self._data)
        body = np.array2string(arr, separator=", ", prefix="tensor(", **PRINT_OPTIONS)
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
                f"numpy(): the tensor is on '{self.device}'; copy it to host memory first "
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

    def __format__(self, spec):
        """A 0-d tensor formats as its number (f"{loss:.4f}"), as in PyTorch."""
        if self.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def detach(self) -> "Tensor":
        """The same values (shared memory) cut from the tape."""
        t = make_tensor(self._data, self._backend)
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
                    return make_tensor(out._backend.cast(out._data, dtype), out._backend)
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

    def half(self):
        return self.to(float16)

    def int(self):
        return self.to(int32)

    def short(self):
        return self.to(int16)

    def char(self):
        return self.to(int8)

    def byte(self):
        return self.to(uint8)

    def bool(self):
        return self.to(bool_)

    def type_as(self, other):
        """self converted to other's dtype."""
        return self.to(_tensor_arg("type_as", other).dtype)

    def reshape_as(self, other):
        return self.reshape(*_tensor_arg("reshape_as", other).shape)

    def contiguous(self):
        """self when its memory is in row-major order, else a contiguous copy (recorded as one)."""
        if self.is_contiguous():
            return self
        out = self.clone()  # recorded; its fresh array is then laid out row-major (a copy keeps the layout)
        out._data = self._backend.ascontiguous(out._data)
        return out

    def is_contiguous(self):
        return bool(self._data.flags.c_contiguous)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        """A tensor from data with self's dtype and device unless given, as PyTorch."""
        return Tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return self._new_filled("new_full", (size,), fill_value, dtype, device, requires_grad)

    def new_zeros(self, *args, size=None, dtype=None, device=None, requires_grad=False):
        size = varargs_or_keyword("new_zeros", "size", args, size)
        return self._new_filled("new_zeros", size, 0, dtype, device, requires_grad)

    def new_ones(self, *args, size=None, dtype=None, device=None, requires_grad=False):
        size = varargs_or_keyword("new_ones", "size", args, size)
        return self._new_filled("new_ones", size, 1, dtype, device, requires_grad)

    def new_empty(self, *args, size=None, dtype=None, device=None, requires_grad=False):
        """Zeros (no uninitialised memory, as empty)."""
        size = varargs_or_keyword("new_empty", "size", args, size)
        return self._new_filled("new_empty", size, 0, dtype, device, requires_grad)

    def _new_filled(self, who, size, fill_value, dtype, device, requires_grad):
        """A new leaf with self's dtype and device unless given, as PyTorch's new_* methods."""
        from .creation import filled
        return filled(who, size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                      requires_grad=requires_grad)

    def sum_to_size(self, *size):
        """self summed over the dims broadcasting added to reach it from ``size``."""
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
        from .ops.movement import broadcasts_to
        if not broadcasts_to(shape, self.shape):
            raise RuntimeError(f"sum_to_size: size {shape} does not broadcast to the tensor's shape {self.shape}; "
                               "expected a size the tensor could have been broadcast from")
        extra = self.ndim - len(shape)
        out = self.sum(tuple(range(extra))) if extra else self
        dims = tuple(i for i, n in enumerate(shape) if n == 1 and out.shape[i] != 1)
        return out.sum(dims, keepdim=True) if dims else out

    def detach_(self):
        """Detach in place: self leaves the graph and no longer requires grad."""
        if getattr(self, "_view", None) is not None:
            raise RuntimeError("detach_: cannot detach a view of another tensor in place; use detach() instead")
        self._entry, self._out_index = None, 0
        self.requires_grad = False
        return self

    # ------------------------------------------------------------ attributes
    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.dtype.itemsize * self.numel()

    def element_size(self):
        return self.dtype.itemsize

    def get_device(self):
        """-1 on the CPU, the GPU's index (0) on "cuda", as PyTorch."""
        return -1 if self.device.type == "cpu" else (self.device.index or 0)

    def ndimension(self):
        return self.ndim

    def is_signed(self):
        return self.dtype.kind in "if"

    def is_inference(self):
        return False  # inference_mode makes no tensors of a kind of their own here

    def is_pinned(self):
        return False

    @property
    def retains_grad(self):
        entry = self._entry
        return bool(entry is not None and entry.retained and self._out_index in entry.retained)

    @property
    def mT(self):
        """The transpose of the last two dims."""
        if self.ndim < 2:
            raise RuntimeError(f"mT: expected a tensor of at least 2 dims, got {self.ndim} (shape {self.shape})")
        return self.transpose(-2, -1)

    mH = mT  # real tensors: the conjugate transpose is the transpose

    @property
    def H(self):
        return self.t()

    # --------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (only into
        ``inputs``, when given); with ``create_graph`` the gradients are
        recorded, so they can be differentiated again (``retain_graph`` then
        defaults to True)."""
        engine.backward([self], [gradient], retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

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


# x.sum(axis=1), x.softmax(axis=-1), x.cumsum(axis=0, ...): NumPy's spelling of dim in every
# method with a dim, as PyTorch, but for its methods written in Python, which refuse it
accept_axis_in_methods(Tensor, python_level=("norm", "split", "unique", "unique_consecutive"))

_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
               int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor", bool_: "BoolTensor",
               # PyTorch's newer unsigned types (a tensor made from a NumPy array of them has these dtypes)
               **{np.dtype(f"uint{bits}"): f"UInt{bits}Tensor" for bits in (16, 32, 64)}}


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


def _tensor_arg(who, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"{who}: expected a Tensor, got {type(other).__name__}")
    return other


PRINT_OPTIONS = {"precision": 4}
"""How tensors print (``np.array2string``'s keywords); ``set_printoptions`` changes it."""

_PROFILES = {"default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "max_line_width": 80},
             "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "max_line_width": 80},
             "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "max_line_width": 80}}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How tensors print, as ``torch.set_printoptions``: a profile ("default", "short",
    "full") and then any of the options given."""
    # every argument checked before any is applied: a refused call leaves the options as they were
    if profile is not None and profile not in _PROFILES:
        raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
    given = {}
    for name, key, value in (("precision", "precision", precision), ("threshold", "threshold", threshold),
                             ("edgeitems", "edgeitems", edgeitems), ("linewidth", "max_line_width", linewidth)):
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"set_printoptions: {name} must be an int >= 0, got {value!r}")
            given[key] = value
    if profile is not None:
        PRINT_OPTIONS.clear()
        PRINT_OPTIONS.update(_PROFILES[profile])
    PRINT_OPTIONS.update(given)
    if sci_mode is not None:
        PRINT_OPTIONS["suppress_small"] = not sci_mode
        PRINT_OPTIONS["floatmode"] = "maxprec"
        if sci_mode:
            p = PRINT_OPTIONS.get("precision", 4)
            PRINT_OPTIONS["formatter"] = {"float_kind": lambda v: f"{v:.{p}e}"}
        else:
            PRINT_OPTIONS.pop("formatter", None)


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


