"""Tensor methods that apply ops: arithmetic, comparisons, elementwise
functions, reductions, shape ops and in-place updates, with PyTorch's names.
Each is a thin call into ``tinygrad_bn.ops``; ``Tensor`` (tensor.py) inherits them."""
import math

import numpy as np

from .grad_mode import GradMode, no_grad
from .ops import convert as C
from .ops import elementwise as E
from .ops import linalg as L
from .ops import movement as M
from .ops import reduce as R
from .arguments import devices_differ, number_arg, tensor_arg
from .dtypes import is_float
from .ops.reduce import normalize_axis
from .tensor_base import TensorBase, make_tensor, new_tensor


class TensorMethods:
    __slots__ = ()

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return E.Add.apply(self, E.operand(other, "add (+)"))

    def __radd__(self, other):
        return E.Add.apply(E.operand(other, "add (+)"), self)

    def __sub__(self, other):
        return E.Sub.apply(self, E.operand(other, "sub (-)"))

    def __rsub__(self, other):
        return E.Sub.apply(E.operand(other, "sub (-)"), self)

    def __mul__(self, other):
        return E.Mul.apply(self, E.operand(other, "mul (*)"))

    def __rmul__(self, other):
        return E.Mul.apply(E.operand(other, "mul (*)"), self)

    def __truediv__(self, other):
        return E.Div.apply(self, E.operand(other, "div (/)"))

    def __rtruediv__(self, other):
        return E.Div.apply(E.operand(other, "div (/)"), self)

    def __pow__(self, other):
        return E.Pow.apply(self, E.operand(other, "pow (**)"))

    def __rpow__(self, other):
        return E.Pow.apply(E.operand(other, "pow (**)"), self)

    def __neg__(self):
        return E.Neg.apply(self)

    def __matmul__(self, other):
        return L.matmul(self, other if isinstance(other, TensorBase) else new_tensor(other, dtype=self.dtype))

    def __rmatmul__(self, other):
        return L.matmul(new_tensor(other, dtype=self.dtype), self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__
    matmul = __matmul__

    # comparisons and tests return tensors that carry no gradient
    def _no_grad_result(self, name, *args, **kwargs):
        return make_tensor(getattr(self._backend, name)(self._data, *args, **kwargs), self._backend)

    def _compare(self, other, name):
        return self._no_grad_result(name, other._data if isinstance(other, TensorBase) else other)

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

    eq = __eq__

    def any(self, dim=None, keepdim=False):
        """Whether any element is non-zero (NaN counts), over all elements or ``dim`` (an int or a
        tuple; () tests each element), as PyTorch: bool, uint8 for a uint8 tensor."""
        return _truth(self, dim, keepdim, "any")

    def all(self, dim=None, keepdim=False):
        """Whether every element is non-zero (NaN counts), over all elements or ``dim`` (an int or a
        tuple; () tests each element), as PyTorch: bool, uint8 for a uint8 tensor."""
        return _truth(self, dim, keepdim, "all")

    def isfinite(self):
        return self._no_grad_result("isfinite")

    def isnan(self):
        return self._no_grad_result("isnan")

    def argmax(self, dim=None, keepdim=False):
        if dim is not None:
            normalize_axis(dim, self.ndim, "argmax")
        return self._no_grad_result("argmax", axis=dim, keepdims=keepdim)

    def argmin(self, dim=None, keepdim=False):
        if dim is not None:
            normalize_axis(dim, self.ndim, "argmin")
        return self._no_grad_result("argmin", axis=dim, keepdims=keepdim)

    # ----------------------------------------------------------------- unary
    def exp(self):
        return E.Exp.apply(self)

    def log(self):
        return E.Log.apply(self)

    def log10(self):
        return E.Log.apply(self) * _INV_LN10

    def log2(self):
        return E.Log.apply(self) * _INV_LN2

    def sqrt(self):
        return E.Sqrt.apply(self)

    def abs(self):
        return E.Abs.apply(self)

    def clip(self, min=None, max=None):
        if min is None and max is None:
            raise ValueError("clamp (clip): at least one of min and max must be given, got min=None and max=None")
        for name, bound in (("min", min), ("max", max)):
            if not isinstance(bound, TensorBase):
                number_arg("clamp (clip)", name, bound, allow_none=True, finite=False)
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
        E.check_gelu_approximate(approximate)
        return E.GELU.apply(self, approximate)

    def maximum(self, other):
        return E.maximum(self, other)

    def minimum(self, other):
        return E.minimum(self, other)

    def softmax(self, dim=-1):
        return R.Softmax.apply(self, normalize_axis(dim, self.ndim, "softmax")[0])

    def log_softmax(self, dim=-1):
        return R.LogSoftmax.apply(self, normalize_axis(dim, self.ndim, "log_softmax")[0])

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False):
        return R.Sum.apply(self, *R.reduce_args(self, dim, keepdim, "sum"))

    def mean(self, dim=None, keepdim=False):
        axes, keep = R.reduce_args(self, dim, keepdim, "mean")
        if not is_float(self.dtype):
            raise RuntimeError(f"mean: expected a floating point tensor, got {self.dtype}; call .float() first.")
        return R.Mean.apply(self, axes, keep)

    def amax(self, dim=None, keepdim=False):
        return R.extreme(self, "max", dim, keepdim, indices=False)

    def amin(self, dim=None, keepdim=False):
        return R.extreme(self, "min", dim, keepdim, indices=False)

    def max(self, dim=None, keepdim=False, *, other=None):
        """max() of all elements, (values, indices) along ``dim``, or with a tensor
        (``max(other)``) the elementwise ``maximum``, as in PyTorch."""
        if isinstance(dim, TensorBase) or other is not None:
            return _pairwise(self, E.maximum, "max", dim, keepdim, other)
        return R.extreme(self, "max", dim, keepdim)

    def min(self, dim=None, keepdim=False, *, other=None):
        """min() of all elements, (values, indices) along ``dim``, or with a tensor
        (``min(other)``) the elementwise ``minimum``, as in PyTorch."""
        if isinstance(dim, TensorBase) or other is not None:
            return _pairwise(self, E.minimum, "min", dim, keepdim, other)
        return R.extreme(self, "min", dim, keepdim)

    def var(self, dim=None, *, correction=1, keepdim=False, unbiased=None):
        """Variance; ``correction=1`` (default) is unbiased, 0 biased, as torch.var."""
        axes, keep = R.reduce_args(self, dim, keepdim, "var")
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return R.Var.apply(self, axes, correction, keep)

    def std(self, dim=None, *, correction=1, keepdim=False, unbiased=None):
        """Standard deviation, as torch.std (gradient 0 where it is 0)."""
        axes, keep = R.reduce_args(self, dim, keepdim, "std")
        if unbiased is not None:
            correction = 1 if unbiased else 0
        return R.Std.apply(self, axes, correction, keep)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The vector p-norm over ``dim`` (all elements when None), as torch.norm:
        p = 2 or "fro" (gradient 0 where the norm is 0, as PyTorch), 1, inf, -inf
        (the smallest |x|), 0 (the count of non-zeros) or any other number
        ((sum |x|^p)^(1/p))."""
        axes, keep = R.reduce_args(self, dim, keepdim, "norm")
        x = self if dtype is None else self.to(dtype)
        if p in ("fro", 2, 2.0):
            return R.Norm2.apply(x, axes, keep)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or math.isnan(p):
            raise ValueError(f"norm: p must be a number or 'fro', got {p!r}")
        if p in (1, 1.0):
            return x.abs().sum(axes, keepdim=keep)
        if p == float("inf"):
            return x.abs().amax(axes, keepdim=keep)
        if p == float("-inf"):
            return x.abs().amin(axes, keepdim=keep)
        if p == 0:
            return (x != 0).to(x.dtype).sum(axes, keepdim=keep)
        return (x.abs() ** p).sum(axes, keepdim=keep) ** (1.0 / p)

    def __abs__(self):
        return self.abs()

    # ------------------------------------------------------------ shape ops
    def reshape(self, *shape):
        return M.reshape(self, shape)

    def view(self, *shape):
        return M.reshape(self, shape, "view")

    def flatten(self, start_dim=0, end_dim=-1):
        return M.flatten(self, start_dim, end_dim)

    def permute(self, *dims):
        return M.permute(self, dims)

    def transpose(self, dim0=-2, dim1=-1):
        return M.transpose(self, dim0, dim1)

    def t(self):
        """The transpose of a matrix; 0-d and 1-d tensors as they are (PyTorch's ``t``)."""
        if self.ndim > 2:
            raise RuntimeError(f"t: expected a tensor of at most 2 dims, got {self.ndim} (shape {self.shape}); "
                               "use transpose(dim0, dim1) or permute")
        return M.transpose(self, 0, 1) if self.ndim == 2 else self

    def mm(self, mat2):
        """Matrix product of two 2-d tensors (``matmul`` takes other shapes)."""
        other = getattr(mat2, "ndim", None)
        if self.ndim != 2 or other != 2:
            got = f"{other}-d" if other is not None else f"a {type(mat2).__name__}"
            raise RuntimeError(f"mm: expected two 2-d tensors, got {self.ndim}-d and {got}; use matmul (@) for "
                               "other shapes")
        return self @ mat2

    def triu(self, diagonal=0):
        """The upper triangle (elements on and above ``diagonal``) of the last two dims; the rest 0."""
        return _triangle(self, diagonal, "triu")

    def tril(self, diagonal=0):
        """The lower triangle (elements on and below ``diagonal``) of the last two dims; the rest 0."""
        return _triangle(self, diagonal, "tril")

    @property
    def T(self):
        return M.Permute.apply(self, tuple(reversed(range(self.ndim))))

    def squeeze(self, dim=None):
        return M.squeeze(self, dim)

    def unsqueeze(self, dim):
        return M.unsqueeze(self, dim)

    def expand(self, *sizes):
        return M.expand(self, sizes)

    def view_as(self, other):
        return M.reshape(self, tensor_arg("view_as", other, "other").shape, "view_as")

    def expand_as(self, other):
        return M.expand(self, tensor_arg("expand_as", other, "other").shape)

    def __getitem__(self, index):
        return M.getitem(self, index)

    def __setitem__(self, index, value):
        M.setitem(self, index, value)

    def _inplace(self, op_name, recorded, method, *args, operand=None):
        """An in-place method: on the tape like its out-of-place twin
        (``recorded(t)``, t standing for self) when grad mode is on and self or
        ``operand`` requires grad (then self does afterwards), else a raw
        backend write. Through a view, the tensor owning the memory is rebased
        on the tape as well (PyTorch's rule), so gradients flow as the values do."""
        tracked = self.requires_grad or (isinstance(operand, TensorBase) and operand.requires_grad)
        if not (tracked and GradMode.enabled):
            return self._write(method, *args)
        if self.is_leaf and self.requires_grad:
            raise RuntimeError(
                f"{op_name}: a leaf tensor that requires grad is being changed in place; "
                "wrap the update in `with tinygrad_bn.no_grad():` (as optimizers do) "
                "or work on a clone."
            )
        view = getattr(self, "_view", None)
        if view is not None:
            _check_view_write(op_name, *view)
        # the op runs on a copy that stands for self on the tape: an op that saves
        # its input (mul_, div_) keeps the old values, which the write below changes
        snapshot = make_tensor(self._backend.copy(self._data), self._backend, self.requires_grad)
        snapshot._entry, snapshot._out_index = self._entry, self._out_index
        result = recorded(snapshot)
        self._write("copyto", result._data)
        self._entry, self._out_index = result._entry, result._out_index
        self.requires_grad = result.requires_grad
        if view is not None:
            _rebase_owner(*view, self)
        return self

    def _check_inplace_operand(self, op_name, other, divides=False):
        """PyTorch's rule for in-place arithmetic: the result keeps the tensor's
        shape and dtype, so the operand must broadcast to the tensor's shape, and
        a floating result (a float operand, a division, or ``divides`` for any
        other reason: a float alpha) cannot go into an integer tensor."""
        _check_operand_values(op_name, other)
        if isinstance(other, TensorBase):
            _check_same_device(op_name, self, other)
            shape, floating = other.shape, is_float(other.dtype)
        else:
            o = np.asarray(other) if isinstance(other, (list, tuple)) else other
            shape = tuple(getattr(o, "shape", ()))
            kind = getattr(getattr(o, "dtype", None), "kind", None)
            floating = kind in ("f", "c") if kind is not None else isinstance(other, float)
        if not M.broadcasts_to(tuple(shape), self.shape):
            raise RuntimeError(
                f"{op_name}: the operand of shape {tuple(shape)} does not broadcast to the tensor's "
                f"shape {self.shape}; an in-place op keeps its tensor's shape, so use the "
                "out-of-place form (x = x + y) to get the broadcast result"
            )
        if not is_float(self.dtype) and (floating or divides):
            raise RuntimeError(
                f"{op_name}: the result is floating point and cannot be stored in place in a "
                f"tensor of dtype {self.dtype}; convert first (x = x.float()) or use the "
                "out-of-place form"
            )

    def _scaled(self, other, alpha):
        if alpha == 1:
            return other._data if isinstance(other, TensorBase) else other
        return self._backend.mul(other._data if isinstance(other, TensorBase) else other, alpha)

    def add_(self, other, alpha=1):
        self._check_inplace_operand("add_", other, divides=isinstance(alpha, float))
        return self._inplace("add_", lambda t: t + _or_self(other, self, t) * alpha if alpha != 1 else t + _or_self(other, self, t),
                             "iadd", self._scaled(other, alpha), operand=other)

    def sub_(self, other, alpha=1):
        self._check_inplace_operand("sub_", other, divides=isinstance(alpha, float))
        return self._inplace("sub_", lambda t: t - _or_self(other, self, t) * alpha if alpha != 1 else t - _or_self(other, self, t),
                             "isub", self._scaled(other, alpha), operand=other)

    def mul_(self, other):
        self._check_inplace_operand("mul_", other)
        return self._inplace("mul_", lambda t: t * _or_self(other, self, t), "imul", self._scaled(other, 1),
                             operand=other)

    def div_(self, other):
        self._check_inplace_operand("div_", other, divides=True)
        return self._inplace("div_", lambda t: t / _or_self(other, self, t), "idiv", self._scaled(other, 1),
                             operand=other)

    # x += y and the rest change x in place, as in PyTorch (without these Python
    # would rebind x to a new tensor: `p -= lr * p.grad` would leave p as it was)
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def relu_(self):
        return self._inplace("relu_", lambda t: t.relu(), "copyto", self._backend.relu(self._data))

    def leaky_relu_(self, negative_slope=0.01):
        with no_grad():
            values = self.leaky_relu(negative_slope)._data
        return self._inplace("leaky_relu_", lambda t: t.leaky_relu(negative_slope), "copyto", values)

    def clamp_(self, min=None, max=None):
        with no_grad():
            values = self.clamp(min, max)._data
        # a bound that requires grad makes the result require it, as an operand does
        bound = next((b for b in (min, max) if isinstance(b, TensorBase) and b.requires_grad), None)
        return self._inplace("clamp_", lambda t: t.clamp(min, max), "copyto", values, operand=bound)

    clip_ = clamp_

    def _random_fill(self, op_name, draw):
        if not is_float(self.dtype):
            raise RuntimeError(f"{op_name}: random values are floating point, so the tensor must be too; "
                               f"it has dtype {self.dtype}")
        values = draw(self._backend)
        return self._inplace(op_name, lambda t: C.Overwrite.apply(t, values), "copyto", values)

    def uniform_(self, a=0.0, b=1.0, *, generator=None):
        """Fill with values uniform on [a, b) from the device's generator or ``generator``, as PyTorch."""
        number_arg("uniform_", "a", a)
        number_arg("uniform_", f"b (with a={a})", b, a)
        if generator is None:
            return self._random_fill("uniform_", lambda be: be.uniform(a, b, self.shape, self.dtype))
        return self._random_fill("uniform_", lambda be: be.cast(be.add(be.mul(
            self._draw("uniform_", generator), b - a), a), self.dtype))

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill with normal values from the device's generator or ``generator``, as PyTorch."""
        number_arg("normal_", "mean", mean)
        number_arg("normal_", "std", std, 0.0)
        if generator is None:
            return self._random_fill("normal_", lambda be: be.normal(mean, std, self.shape, self.dtype))
        return self._random_fill("normal_", lambda be: be.cast(be.add(be.mul(
            self._draw("normal_", generator, normal=True), std), mean), self.dtype))

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        source = None
        if isinstance(value, TensorBase):
            if value.ndim:
                raise RuntimeError(f"fill_: the value must be a number or a 0-d tensor, got shape {value.shape}")
            if value.requires_grad:  # the filled values depend on it: recorded, as in PyTorch
                source = value
            value = value.item()
        number_arg("fill_", "value", value, finite=False)
        return self._inplace("fill_", lambda t: C.Overwrite.apply(t, value if source is None else source), "fill",
                             value, operand=source)

    def copy_(self, src):
        _check_operand_values("copy_", src)
        if isinstance(src, TensorBase) and src._backend is not self._backend:
            src = src.to(self.device)  # copy_ copies across devices, as in PyTorch (recorded: ToDevice)
        s = src._data if isinstance(src, TensorBase) else self._backend.asarray(src)
        try:
            self._backend.broadcast_to(s, self.shape)
        except ValueError:
            raise RuntimeError(
                f"copy_: cannot copy a source of shape {tuple(s.shape)} into a tensor of shape "
                f"{self.shape}; the source must broadcast to the destination"
            ) from None
        return self._inplace("copy_", lambda t: C.Overwrite.apply(t, src if isinstance(src, TensorBase) else s),
                             "copyto", s, operand=src)


def _pairwise(t, fn, who, dim, keepdim, other):
    """``max(other)`` / ``min(other)``: PyTorch's overload for a tensor, the elementwise maximum
    or minimum; it takes no dim or keepdim."""
    if other is None:
        other = dim
    elif dim is not None:
        raise TypeError(f"{who}: got other twice (as dim={type(dim).__name__} and other=); pass it once")
    if not isinstance(other, TensorBase):
        raise TypeError(f"{who}: other must be a tensor (for a dim pass dim=), got {type(other).__name__}")
    if keepdim is not False:
        raise TypeError(f"{who}: the elementwise form max(other) / min(other) takes no keepdim; it is "
                        f"maximum(input, other) / minimum(input, other)")
    return fn(t, other)


def _truth(t, dim, keepdim, which):
    """any or all over ``dim``: the largest of (x != 0) for any, of (x == 0) negated for all."""
    be = t._backend
    axes = () if isinstance(dim, (tuple, list)) and not len(dim) else normalize_axis(dim, t.ndim, which)
    if not isinstance(keepdim, bool):
        raise TypeError(f"{which}: keepdim must be a bool, got {type(keepdim).__name__} {keepdim!r}")
    shape = tuple(1 if i in axes else n for i, n in enumerate(t.shape) if keepdim or i not in axes)
    test = be.not_equal(t._data, 0) if which == "any" else be.equal(t._data, 0)
    if not axes:
        found = test
    elif any(t.shape[a] == 0 for a in axes):  # nothing to find: any is False, all is True
        found = be.full(shape, False, "bool")
    else:
        found = be.reshape(be.max(test, axis=axes, keepdims=keepdim), shape)
    out = found if which == "any" else be.logical_not(found)
    return make_tensor(be.cast(out, "uint8") if t.dtype == np.uint8 else be.asarray(out, "bool"), be)


def _check_same_device(op_name, t, other):
    if other._backend is not t._backend:
        raise devices_differ(op_name, other.device, t.device, "the operand and the tensor")


def _check_view_write(op_name, owner, steps):
    if isinstance(steps, str):  # an input a custom Function returned as it is (PyTorch refuses this too)
        raise RuntimeError(
            f"{op_name}: the tensor is a view of another, {steps}, and is being changed in place; "
            "return x.clone() from forward, or clone the output before changing it.")
    if owner.is_leaf and owner.requires_grad:
        raise RuntimeError(
            f"{op_name}: a view of a leaf tensor that requires grad cannot be changed in place (its "
            "gradient would lose the write); change the leaf under `with tinygrad_bn.no_grad():` or work on a clone.")
    if any(cls is M.Expand for cls, _ in steps):
        raise RuntimeError(
            f"{op_name}: the tensor is an expanded view, in which several elements share one memory "
            "location; writing it in place is not supported. Clone it first (t = t.clone()).")


def _rebase_owner(owner, steps, view):
    """After an in-place write through ``view``: the owner of its memory stands
    on the tape for its old values outside the view and the view's new ones inside."""
    stand_in = make_tensor(owner._data, owner._backend, owner.requires_grad)
    stand_in._entry, stand_in._out_index, stand_in._version_cell = owner._entry, owner._out_index, owner._version_cell
    rebased = M.ViewWrite.apply(stand_in, view, steps)
    owner._entry, owner._out_index = rebased._entry, rebased._out_index
    owner.requires_grad = rebased.requires_grad


def _check_operand_values(op_name, other):
    """The operand of an in-place op: a tensor, a number, or numbers in a list or array."""
    if isinstance(other, (TensorBase, bool, int, float, np.number)):
        return
    if isinstance(other, (list, tuple, np.ndarray)):
        try:
            kind = np.asarray(other).dtype.kind
        except ValueError:
            kind = "O"
        if kind in "biuf":
            return
    raise TypeError(f"{op_name}: the operand must be a tensor, a number or a list or array of numbers, "
                    f"got {type(other).__name__}")


def _or_self(other, self, stand_in):
    """The operand of an in-place op, with ``stand_in`` for self (x *= x)."""
    return stand_in if other is self else other


_INV_LN10 = 1.0 / math.log(10.0)
_INV_LN2 = 1.0 / math.log(2.0)


def _triangle(t, diagonal, who):
    """t where the triangle's mask holds, else 0 (a where, so inf and NaN outside become 0, as in PyTorch)."""
    if t.ndim < 2:
        raise RuntimeError(f"{who}: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise TypeError(f"{who}: diagonal must be an int, got {type(diagonal).__name__} {diagonal!r}")
    rows, cols = t.shape[-2:]
    mask = (np.triu if who == "triu" else np.tril)(np.ones((rows, cols), dtype=bool), diagonal)
    return E.where(mask, t, np.zeros((), dtype=t.dtype))
