"""Tensor methods that apply ops: arithmetic, comparisons, elementwise
functions, reductions and shape ops, with PyTorch's names (the in-place updates
are tensor_inplace.py's). Each is a thin call into ``tinygrad_bn.ops``;
``Tensor`` (tensor.py) inherits them."""
import math

import numpy as np

from .ops import elementwise as E
from .ops import linalg as L
from .ops import movement as M
from .ops import reduce as R
from .arguments import number_arg, tensor_arg
from .dtypes import cast_for, is_float
from .ops.reduce import normalize_axis
from .tensor_base import TensorBase, make_tensor, new_tensor
from .tensor_math import as_float


class TensorMethods:
    __slots__ = ()

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return E.binary(E.Add, self, other, "add (+)")

    def __radd__(self, other):
        return E.binary(E.Add, other, self, "add (+)")

    def __sub__(self, other):
        return E.binary(E.Sub, self, other, "sub (-)")

    def __rsub__(self, other):
        return E.binary(E.Sub, other, self, "sub (-)")

    def __mul__(self, other):
        return E.binary(E.Mul, self, other, "mul (*)")

    def __rmul__(self, other):
        return E.binary(E.Mul, other, self, "mul (*)")

    def __truediv__(self, other):
        return E.binary(E.Div, self, other, "div (/)", true_division=True)

    def __rtruediv__(self, other):
        return E.binary(E.Div, other, self, "div (/)", true_division=True)

    def __pow__(self, other):
        return E.binary(E.Pow, self, other, "pow (**)")

    def __rpow__(self, other):
        return E.binary(E.Pow, other, self, "pow (**)")

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
        _check_arg_extreme(self, dim, "argmax")
        return self._no_grad_result("argmax", axis=dim, keepdims=keepdim)

    def argmin(self, dim=None, keepdim=False):
        _check_arg_extreme(self, dim, "argmin")
        return self._no_grad_result("argmin", axis=dim, keepdims=keepdim)

    # ----------------------------------------------------------------- unary
    def exp(self):
        return E.Exp.apply(as_float(self))

    def log(self):
        return E.Log.apply(as_float(self))

    def log10(self):
        return E.Log.apply(as_float(self)) * _INV_LN10

    def log2(self):
        return E.Log.apply(as_float(self)) * _INV_LN2

    def sqrt(self):
        return E.Sqrt.apply(as_float(self))

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
        return E.Tanh.apply(as_float(self))

    def sigmoid(self):
        return E.Sigmoid.apply(as_float(self))

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

    # dim is required, as in PyTorch's Tensor methods (only F.softmax guesses one, with a warning)
    def softmax(self, dim):
        return _along_one_dim(self, dim, "softmax", R.Softmax)

    def log_softmax(self, dim):
        return _along_one_dim(self, dim, "log_softmax", R.LogSoftmax)

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        """The sum over ``dim`` (all elements when None); ``dtype``: the input is
        cast to it first (as PyTorch's, which sums in that dtype), and the
        gradient comes back in the input's own dtype."""
        x = cast_for(self, dtype, "sum")
        return R.Sum.apply(x, *R.reduce_args(x, dim, keepdim, "sum"))

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        x = cast_for(self, dtype, "mean")
        axes, keep = R.reduce_args(x, dim, keepdim, "mean")
        if not is_float(x.dtype):
            raise RuntimeError(f"mean: expected a floating point tensor, got {x.dtype}; call .float() first, "
                               "or pass dtype=tinygrad_bn.float32.")
        return R.Mean.apply(x, axes, keep)

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

    def var(self, dim=None, *args, correction=1, keepdim=False, unbiased=None):
        """Variance; ``correction=1`` (default) is unbiased, 0 biased, as torch.var, with
        PyTorch's older forms ``var(unbiased)`` and ``var(dim, unbiased, keepdim)`` too."""
        dim, correction, keepdim = _variance_args("var", dim, args, correction, keepdim, unbiased)
        axes, keep = R.reduce_args(self, dim, keepdim, "var")
        return R.Var.apply(self, axes, correction, keep)

    def std(self, dim=None, *args, correction=1, keepdim=False, unbiased=None):
        """Standard deviation, as torch.std (gradient 0 where it is 0); the older forms as var's."""
        dim, correction, keepdim = _variance_args("std", dim, args, correction, keepdim, unbiased)
        axes, keep = R.reduce_args(self, dim, keepdim, "std")
        return R.Std.apply(self, axes, correction, keep)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        """The vector p-norm over ``dim`` (all elements when None), as torch.norm:
        p = 2 or "fro" (gradient 0 where the norm is 0, as PyTorch), 1, inf, -inf
        (the smallest |x|), 0 (the count of non-zeros) or any other number
        ((sum |x|^p)^(1/p))."""
        axes, keep = R.reduce_args(self, dim, keepdim, "norm")
        x = cast_for(self, dtype, "norm")
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

    def transpose(self, dim0, dim1):
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


def _check_arg_extreme(t, dim, who):
    """argmax/argmin need an element to point at: over an empty tensor or an empty
    dim they raise IndexError, as PyTorch (NumPy's ValueError named no op)."""
    if dim is None:
        empty = t.numel() == 0
    else:
        empty = any(t.shape[a] == 0 for a in normalize_axis(dim, t.ndim, who))
    if empty:
        raise IndexError(f"{who}: cannot take the {who[3:]} of an empty {'tensor' if dim is None else 'dimension'} "
                         f"(shape {t.shape}); expected at least one element")


def _along_one_dim(t, dim, who, op):
    """softmax/log_softmax along ``dim``; a 0-d tensor is its own one-element dim
    (dim 0 or -1), so its softmax is 1 and its log_softmax 0, as PyTorch's."""
    axes = normalize_axis(dim, t.ndim, who)
    if t.ndim == 0:
        return op.apply(t.reshape(1), 0).reshape(())
    return op.apply(t, axes[0])


def _variance_args(who, dim, args, correction, keepdim, unbiased):
    """(dim, correction, keepdim) of var/std from PyTorch's three forms: ``(dim=None, *,
    correction=1, keepdim=False)``, ``(unbiased)`` and ``(dim, unbiased, keepdim=False)``."""
    if isinstance(dim, bool):  # var(unbiased)
        if args:
            raise TypeError(f"{who}: after unbiased={dim} nothing more goes by position, got {args!r}")
        dim, args = None, (dim,)
    if args:
        if len(args) > 2 or unbiased is not None:
            raise TypeError(f"{who}: takes (dim, unbiased, keepdim) by position, and unbiased once; got dim={dim!r} "
                            f"and {args!r}" + ("" if unbiased is None else f" with unbiased={unbiased!r}"))
        unbiased = args[0]
        if len(args) == 2:
            keepdim = args[1]
    if unbiased is not None:
        if not isinstance(unbiased, bool):
            raise TypeError(f"{who}: unbiased must be a bool, got {type(unbiased).__name__} {unbiased!r}")
        correction = 1 if unbiased else 0
    return dim, correction, keepdim

