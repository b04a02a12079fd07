"""The Tensor: an array on a device, plus what autograd needs to know about it.

A tensor that requires grad and was made by an op points to its tape entry
(``grad_fn``); a leaf (made by the user) has none and receives ``.grad``.
Array math never happens here: every method applies an op from ``tinygrad_bn.ops``.
"""
from __future__ import annotations

import numbers
from collections import namedtuple

import numpy as np

from . import autograd
from .autograd import Function
from .backends import get_backend
from .ops import elementwise as E
from .ops import linalg as L
from .ops import movement as M
from .ops import reduce as R
from .ops.reduce import normalize_axis

# dtypes, named as in PyTorch
float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

_default_dtype = [float32]
_rng = [np.random.default_rng(0)]


def manual_seed(seed: int) -> None:
    """Seed the generator behind rand, randn, weight init and dropout."""
    if not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    _rng[0] = np.random.default_rng(int(seed))


def default_generator() -> np.random.Generator:
    return _rng[0]


def _as_dtype(dtype, who="tensor"):
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{who}: {dtype!r} is not a dtype; use e.g. tinygrad_bn.float32") from None


def _is_float(dtype) -> bool:
    return dtype.kind == "f"


MaxMin = namedtuple("MaxMin", ["values", "indices"])


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.params = {"dtype": str(dtype)}
        be = ctx.backend
        return be.copy(a) if a.dtype == dtype else be.cast(a, dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine casts it back to the input's dtype


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return ctx.backend.copy(a)

    @staticmethod
    def backward(ctx, g):
        return g


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    Build one with ``tinygrad_bn.tensor(data, dtype=None, requires_grad=False)``.
    """

    __slots__ = ("data", "requires_grad", "grad", "_entry", "_version_cell", "_hooks",
                 "device", "_backend", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators

    def __init__(self, data, dtype=None, requires_grad=False, device="cpu"):
        backend = get_backend(device)
        dtype = _as_dtype(dtype)
        if isinstance(data, Tensor):
            arr = backend.copy(data.data)
        elif isinstance(data, (np.ndarray, np.generic)):
            arr = np.array(data, copy=True)
        else:
            try:
                arr = np.array(data)
            except ValueError as exc:
                raise ValueError(f"tensor: cannot build a tensor from {type(data).__name__}: {exc}") from None
            # Python floats become float32, Python ints int64, as in PyTorch.
            if arr.dtype == np.float64:
                arr = arr.astype(_default_dtype[0])
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64)
        if arr.dtype == object or arr.dtype.kind not in "biuf":
            raise TypeError(
                f"tensor: cannot build a tensor from data of type {type(data).__name__} "
                f"(NumPy dtype {arr.dtype}); pass numbers, nested lists of numbers or a numeric array."
            )
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        if requires_grad and not _is_float(arr.dtype):
            raise RuntimeError(
                f"tensor: only floating point tensors can require gradients, got dtype {arr.dtype}; "
                "pass dtype=tinygrad_bn.float32."
            )
        self.data = backend.asarray(arr)
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._entry = None
        self._version_cell = [0]
        self._hooks = None
        self.device = device
        self._backend = backend

    @classmethod
    def _wrap(cls, array, device, requires_grad):
        """A tensor around an existing array, without copying or checking."""
        t = object.__new__(cls)
        t.data = array
        t.requires_grad = requires_grad
        t.grad = None
        t._entry = None
        t._version_cell = [0]
        t._hooks = None
        t.device = device
        t._backend = get_backend(device)
        return t

    # ------------------------------------------------------------------ info
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    def size(self, dim=None):
        """The shape (``size()``) or the length of one dimension (``size(dim)``), as in PyTorch."""
        if dim is None:
            return self.shape
        return self.shape[normalize_axis(dim, self.ndim, "size")[0]]

    def numel(self) -> int:
        return int(self.data.size)

    @property
    def dtype(self):
        return self.data.dtype

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

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        arr = self._backend.to_numpy(self.data)
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
        if self.requires_grad:
            raise RuntimeError(
                "numpy(): the tensor requires grad, and changing the returned array would "
                "silently corrupt the tape; call tensor.detach().numpy() instead."
            )
        return self._backend.to_numpy(self.data)

    def tolist(self):
        return self._backend.to_numpy(self.data).tolist()

    def item(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"item(): only a tensor with one element can be converted to a Python "
                f"number, this one has shape {self.shape} ({self.data.size} elements)."
            )
        return self._backend.to_numpy(self.data).reshape(-1)[0].item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.data.size} elements is ambiguous; "
                "use .any() or .all()."
            )
        return bool(self.item())

    def detach(self) -> "Tensor":
        """The same values (shared memory) cut from the tape."""
        t = Tensor._wrap(self.data, self.device, False)
        t._version_cell = self._version_cell
        return t

    def clone(self) -> "Tensor":
        return Clone.apply(self)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise RuntimeError(
                "requires_grad_(): only leaf tensors can change requires_grad; this one was "
                f"made by {self._entry.name}. Use .detach().requires_grad_() for a new leaf."
            )
        if requires_grad and not _is_float(self.dtype):
            raise RuntimeError(
                f"requires_grad_(): only floating point tensors can require gradients, got {self.dtype}."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def to(self, dtype=None, device=None) -> "Tensor":
        """A copy with another dtype (tracked on the tape) or on another device."""
        if isinstance(dtype, str) and (dtype in ("cpu", "cuda") or dtype.startswith("cuda:")):
            dtype, device = None, dtype  # t.to("cpu"): a device given in the first position
        out = self
        if device is not None and device != self.device:
            get_backend(device)  # raises a clear error for unknown devices
            raise NotImplementedError(f"to(): moving tensors to {device!r} is not supported yet")
        if dtype is not None:
            dtype = _as_dtype(dtype, "to")
            if dtype != self.dtype:
                if self.requires_grad and not _is_float(dtype):
                    return Tensor._wrap(self._backend.cast(self.data, dtype), self.device, False)
                out = Cast.apply(out, dtype)
        return out

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def long(self):
        return self.to(int64)

    # --------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``."""
        gos = autograd._default_grad_outputs([self], [gradient], "backward")
        autograd.run_backward([self], gos, retain_graph=retain_graph)

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if self._entry is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad(): the tensor does not require grad.")
            return
        import weakref

        self._entry.retained = weakref.ref(self)

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
                self._entry.hooks = []
            hooks = self._entry.hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return E.Add.apply(self, _operand(other))

    def __radd__(self, other):
        return E.Add.apply(_operand(other), self)

    def __sub__(self, other):
        return E.Sub.apply(self, _operand(other))

    def __rsub__(self, other):
        return E.Sub.apply(_operand(other), self)

    def __mul__(self, other):
        return E.Mul.apply(self, _operand(other))

    def __rmul__(self, other):
        return E.Mul.apply(_operand(other), self)

    def __truediv__(self, other):
        return E.Div.apply(self, _operand(other))

    def __rtruediv__(self, other):
        return E.Div.apply(_operand(other), self)

    def __pow__(self, other):
        return E.Pow.apply(self, _operand(other))

    def __rpow__(self, other):
        return E.Pow.apply(_operand(other), self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return _matmul(self, _tensor_operand(other, self))

    def __rmatmul__(self, other):
        return _matmul(_tensor_operand(other, self), self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__

    def matmul(self, other):
        return self.__matmul__(other)

    # comparisons return boolean tensors that carry no gradient
    def _compare(self, other, name):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(getattr(self._backend, name)(self.data, other), self.device, False)

    def __lt__(self, other):
        return self._compare(other, "less")

    def __le__(self, other):
        return self._compare(other, "less_equal")

    def __gt__(self, other):
        return self._compare(other, "greater")

    def __ge__(self, other):
        return self._compare(other, "greater_equal")

    def __eq__(self, other):
        return self._compare(other, "equal")

    def __ne__(self, other):
        return self._compare(other, "not_equal")

    def eq(self, other):
        return self.__eq__(other)

    def any(self):
        return Tensor._wrap(self._backend.asarray(self._backend.any(self.data)), self.device, False)

    def all(self):
        return Tensor._wrap(self._backend.asarray(not self._backend.any(self._backend.logical_not(self.data))),
                            self.device, False)

    def isfinite(self):
        return Tensor._wrap(self._backend.isfinite(self.data), self.device, False)

    def isnan(self):
        return Tensor._wrap(self._backend.isnan(self.data), self.device, False)

    def argmax(self, dim=None, keepdim=False):
        return Tensor._wrap(self._backend.argmax(self.data, axis=dim, keepdims=keepdim), self.device, False)

    def argmin(self, dim=None, keepdim=False):
        return Tensor._wrap(self._backend.argmin(self.data, axis=dim, keepdims=keepdim), self.device, False)

    # ----------------------------------------------------------------- unary
    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def sqrt(self):
        return E.Sqrt.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    def clip(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clip: at least one of min and max must be given")
        return E.Clip.apply(self, min, max)

    clamp = clip

    def tanh(self):
        return E.Tanh.apply(self)

    def sigmoid(self):
        return E.Sigmoid.apply(self)

    def relu(self):
        return E.ReLU.apply(self)

    def leaky_relu(self, negative_slope=0.01):
        return E.LeakyReLU.apply(self, negative_slope)

    def gelu(self, approximate="none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return E.GELU.apply(self, approximate)

    def maximum(self, other):
        return E.Maximum.apply(self, _operand(other))

    def minimum(self, other):
        return E.Minimum.apply(self, _operand(other))

    def softmax(self, dim=-1):
        return R.Softmax.apply(self, normalize_axis(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim=-1):
        return R.LogSoftmax.apply(self, normalize_axis(dim, self.ndim, "log_softmax")[0])

    # ------------------------------------------------------------ reductions
    def _axes(self, dim, axis, keepdim, keepdims, op):
        if axis is not None:
            if dim is not None:
                raise TypeError(f"{op}: pass dim or axis, not both")
            dim = axis
        if keepdims is not None:
            keepdim = keepdims
        return normalize_axis(dim, self.ndim, op), bool(keepdim)

    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        axes, keep = self._axes(dim, axis, keepdim, keepdims, "sum")
        return R.Sum.apply(self, axes, keep)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        axes, keep = self._axes(dim, axis, keepdim, keepdims, "mean")
        if not _is_float(self.dtype):
            raise RuntimeError(f"mean: expected a floating point tensor, got {self.dtype}; call .float() first.")
        return R.Mean.apply(self, axes, keep)

    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        axes, keep = self._axes(dim, axis, keepdim, keepdims, "amax")
        self._check_nonempty(axes, "amax")
        return R.Max.apply(self, axes, keep)

    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        axes, keep = self._axes(dim, axis, keepdim, keepdims, "amin")
        self._check_nonempty(axes, "amin")
        return R.Min.apply(self, axes, keep)

    def _check_nonempty(self, axes, op):
        if any(self.shape[a] == 0 for a in axes):
            raise RuntimeError(f"{op}: cannot reduce over an empty dimension (shape {self.shape})")

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """max() of all elements, or (values, indices) along ``dim``, as in PyTorch."""
        values = self.amax(dim, keepdim, axis=axis, keepdims=keepdims)
        if dim is None and axis is None:
            return values
        d = dim if dim is not None else axis
        return MaxMin(values, self.argmax(d, keepdim if keepdims is None else keepdims))

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        values = self.amin(dim, keepdim, axis=axis, keepdims=keepdims)
        if dim is None and axis is None:
            return values
        d = dim if dim is not None else axis
        return MaxMin(values, self.argmin(d, keepdim if keepdims is None else keepdims))

    def var(self, dim=None, *, correction=1, keepdim=False, unbiased=None, axis=None, keepdims=None):
        """Variance; ``correction=1`` (default) is unbiased, 0 biased, as torch.var."""
        axes, keep = self._axes(dim, axis, keepdim, keepdims, "var")
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return R.Var.apply(self, axes, correction, keep)

    def std(self, dim=None, *, correction=1, keepdim=False, unbiased=None, axis=None, keepdims=None):
        return self.var(dim, correction=correction, keepdim=keepdim, unbiased=unbiased,
                        axis=axis, keepdims=keepdims).sqrt()

    # ------------------------------------------------------------ shape ops
    def reshape(self, *shape):
        import math

        shape = _shape_arg(shape)
        known = math.prod(n for n in shape if n != -1)
        wildcards = shape.count(-1)
        if (wildcards > 1 or any(n < -1 for n in shape)
                or (wildcards == 0 and known != self.numel())
                or (wildcards == 1 and (known == 0 or self.numel() % known))):
            raise RuntimeError(
                f"reshape: shape {tuple(shape)} is invalid for a tensor of shape {self.shape} "
                f"({self.numel()} elements)"
            )
        return M.Reshape.apply(self, tuple(shape))

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return self.reshape(1)
        s, e = normalize_axis(start_dim, self.ndim, "flatten")[0], normalize_axis(end_dim, self.ndim, "flatten")[0]
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:s] + (-1,) + self.shape[e + 1:] if self.numel() else \
            self.shape[:s] + (int(np.prod(self.shape[s:e + 1])),) + self.shape[e + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        dims = _shape_arg(dims)
        if sorted(normalize_axis(d, self.ndim, "permute")[0] for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the {self.ndim} dimensions")
        return M.Permute.apply(self, tuple(d % self.ndim for d in dims))

    def transpose(self, dim0=-2, dim1=-1):
        if self.ndim < 2:
            return self
        a = normalize_axis(dim0, self.ndim, "transpose")[0]
        b = normalize_axis(dim1, self.ndim, "transpose")[0]
        dims = list(range(self.ndim))
        dims[a], dims[b] = dims[b], dims[a]
        return M.Permute.apply(self, tuple(dims))

    @property
    def T(self):
        return M.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        axes = normalize_axis(dim, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in axes and n == 1)))

    def unsqueeze(self, dim):
        d = normalize_axis(dim, self.ndim + 1, "unsqueeze")[0]
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes):
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the number of dims ({self.ndim})")
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and shape[i + lead] != n:
                raise RuntimeError(
                    f"expand: size {shape[i + lead]} at dim {i + lead} does not match the existing "
                    f"size {n}; only dimensions of size 1 can be expanded (shape {self.shape} -> {tuple(sizes)})"
                )
        return M.Expand.apply(self, shape)

    def expand_as(self, other):
        return self.expand(*other.shape)

    def __getitem__(self, index):
        index = _index_arg(index)
        try:
            self._backend.getitem(self.data, index)  # validate before recording
        except IndexError as exc:
            raise IndexError(f"indexing a tensor of shape {self.shape}: {exc}") from None
        return M.GetItem.apply(self, index)

    # ---------------------------------------------------------------- in place
    def _inplace(self, op_name, make_result, apply_raw):
        """Change self in place. Recorded on the tape like its out-of-place twin when
        grad mode is on and self requires grad; always bumps the version counter."""
        if self.requires_grad and autograd.is_grad_enabled():
            if self.is_leaf:
                raise RuntimeError(
                    f"{op_name}: a leaf tensor that requires grad is being changed in place; "
                    "wrap the update in `with tinygrad_bn.no_grad():` (as optimizers do) "
                    "or work on a clone."
                )
            result = make_result()
            self._backend.copyto(self.data, result.data)
            self._entry = result._entry
        else:
            apply_raw()
        self._version_cell[0] += 1
        return self

    def add_(self, other, alpha=1):
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("add_", lambda: self + other * alpha if alpha != 1 else self + other,
                             lambda: self._backend.iadd(self.data, o if alpha == 1 else self._backend.mul(o, alpha)))

    def sub_(self, other, alpha=1):
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("sub_", lambda: self - other * alpha if alpha != 1 else self - other,
                             lambda: self._backend.isub(self.data, o if alpha == 1 else self._backend.mul(o, alpha)))

    def mul_(self, other):
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("mul_", lambda: self * other, lambda: self._backend.imul(self.data, o))

    def div_(self, other):
        o = other.data if isinstance(other, Tensor) else other
        return self._inplace("div_", lambda: self / other, lambda: self._backend.idiv(self.data, o))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._inplace("fill_", lambda: self * 0 + value, lambda: self._backend.fill(self.data, value))

    def copy_(self, src):
        s = src.data if isinstance(src, Tensor) else self._backend.asarray(src)
        try:
            self._backend.broadcast_to(s, self.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: cannot copy a source of shape {tuple(s.shape)} into a tensor of shape "
                f"{self.shape}; the source must broadcast to the destination"
            ) from None
        return self._inplace("copy_", lambda: self * 0 + src, lambda: self._backend.copyto(self.data, s))


class _RemovableHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = []
    for s in shape:
        if not isinstance(s, numbers.Integral):
            raise TypeError(f"expected a shape of ints, got {tuple(shape)!r}")
        out.append(int(s))
    return tuple(out)


def _index_arg(index):
    """Turn tensors and lists inside an index into arrays NumPy understands."""
    def conv(i):
        if isinstance(i, Tensor):
            if i.dtype.kind not in "biu":
                raise IndexError(f"tensors used as indices must be integer or bool, got {i.dtype}")
            return i.data
        if isinstance(i, list):
            arr = np.asarray(i)
            if arr.dtype.kind not in "biu":
                raise IndexError(f"lists used as indices must hold ints or bools, got {arr.dtype}")
            return arr
        if isinstance(i, np.ndarray) and i.dtype.kind not in "biu":
            raise IndexError(f"arrays used as indices must be integer or bool, got {i.dtype}")
        return i

    if isinstance(index, tuple):
        return tuple(conv(i) for i in index)
    return conv(index)


def _operand(x):
    """The other side of a binary op: a tensor, or a Python number left as it is
    (NumPy then keeps the tensor's dtype, as PyTorch does)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (bool, int, float)):
        return x
    if isinstance(x, (np.ndarray, np.generic, list, tuple)):
        return Tensor(x)
    raise TypeError(f"unsupported operand type {type(x).__name__} for a tensor op; use a tensor or a number")


def _tensor_operand(x, like):
    if isinstance(x, Tensor):
        return x
    return Tensor(x, dtype=like.dtype)


def _matmul(a, b):
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({ka} != {kb}); "
            "the last dim of the first must equal the second-to-last dim of the second."
        )
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise RuntimeError(f"matmul: batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
    return L.MatMul.apply(a, b)


# -------------------------------------------------------------- constructors

def tensor(data, dtype=None, requires_grad=False, device="cpu") -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (lists, scalars, NumPy arrays).

    NumPy arrays keep their dtype; Python floats become float32 and ints int64.
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def _factory_shape(size, who):
    try:
        return _shape_arg(size)
    except TypeError:
        raise TypeError(f"{who}: expected sizes as ints, got {size!r}") from None


def _new(array, requires_grad, device, who):
    if requires_grad and not _is_float(array.dtype):
        raise RuntimeError(f"{who}: only floating point tensors can require gradients, got {array.dtype}")
    return Tensor._wrap(get_backend(device).asarray(array), device, bool(requires_grad))


def zeros(*size, dtype=None, requires_grad=False, device="cpu"):
    return _new(np.zeros(_factory_shape(size, "zeros"), _as_dtype(dtype) or _default_dtype[0]), requires_grad, device, "zeros")


def ones(*size, dtype=None, requires_grad=False, device="cpu"):
    return _new(np.ones(_factory_shape(size, "ones"), _as_dtype(dtype) or _default_dtype[0]), requires_grad, device, "ones")


def full(size, fill_value, dtype=None, requires_grad=False, device="cpu"):
    if dtype is None:
        dtype = np.int64 if isinstance(fill_value, numbers.Integral) and not isinstance(fill_value, bool) \
            else (np.bool_ if isinstance(fill_value, bool) else _default_dtype[0])
    return _new(np.full(_factory_shape((size,), "full"), fill_value, _as_dtype(dtype)), requires_grad, device, "full")


def empty(*size, dtype=None, requires_grad=False, device="cpu"):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, device=device)


def rand(*size, dtype=None, requires_grad=False, device="cpu"):
    """Uniform on [0, 1) from the generator seeded by ``manual_seed``."""
    dtype = _as_dtype(dtype) or _default_dtype[0]
    return _new(_rng[0].random(_factory_shape(size, "rand")).astype(dtype), requires_grad, device, "rand")


def randn(*size, dtype=None, requires_grad=False, device="cpu"):
    """Standard normal from the generator seeded by ``manual_seed``."""
    dtype = _as_dtype(dtype) or _default_dtype[0]
    return _new(_rng[0].standard_normal(_factory_shape(size, "randn")).astype(dtype), requires_grad, device, "randn")


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device="cpu"):
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be non-zero")
    if dtype is None:
        ints = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if ints else _default_dtype[0]
    return _new(np.arange(start, end, step).astype(_as_dtype(dtype)), requires_grad, device, "arange")


def _like(fn, t, dtype, requires_grad, **kw):
    return fn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device, **kw)


def zeros_like(t, dtype=None, requires_grad=False):
    return _like(zeros, t, dtype, requires_grad)


def ones_like(t, dtype=None, requires_grad=False):
    return _like(ones, t, dtype, requires_grad)


def rand_like(t, dtype=None, requires_grad=False):
    return _like(rand, t, dtype, requires_grad)


def randn_like(t, dtype=None, requires_grad=False):
    return _like(randn, t, dtype, requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False):
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad, device=t.device)


# ------------------------------------------------------------ free functions

def _tensors(seq, who):
    seq = list(seq)
    if not seq:
        raise ValueError(f"{who}: expected a non-empty sequence of tensors")
    out = []
    for i, t in enumerate(seq):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: element {i} is a {type(t).__name__}, expected a Tensor")
        out.append(t)
    return out


def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    ts = _tensors(tensors, "cat")
    d = normalize_axis(dim, ts[0].ndim, "cat")[0]
    ref = ts[0].shape
    for i, t in enumerate(ts):
        if t.ndim != len(ref) or any(a != b for k, (a, b) in enumerate(zip(t.shape, ref)) if k != d):
            raise RuntimeError(f"cat: tensor {i} has shape {t.shape}, which does not match {ref} outside dim {d}")
    return M.Cat.apply(d, *ts)


def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    ts = _tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack: tensor {i} has shape {t.shape}, expected {ts[0].shape} like tensor 0")
    d = normalize_axis(dim, ts[0].ndim + 1, "stack")[0]
    return M.Stack.apply(d, *ts)


def where(condition, input, other):
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got {cond.dtype}")
    return E.Where.apply(cond, _operand(input), _operand(other))


def maximum(a, b):
    return E.Maximum.apply(_operand(a), _operand(b))


def minimum(a, b):
    return E.Minimum.apply(_operand(a), _operand(b))
