"""Tensor methods for PyTorch's pointwise math beyond arithmetic (sin, atan2,
lgamma, round, xlogy, nan_to_num, frexp, ...), the complex-number functions on
real tensors (conj, real, angle, ...), the in-place forms and PyTorch's
NumPy-style aliases (arcsin, greater, ...). ``Tensor`` (tensor.py) inherits them.
Arithmetic beyond the operators is tensor_arithmetic.py's, comparisons, tests
and logical and bitwise ops tensor_compare.py's, reductions beyond sum and mean
tensor_reductions.py's; ``MATH_FUNCTIONS`` names those of all four that are also
free functions.

A function with an op of its own (``ops.pointwise``) is one tape entry; the
rest are compositions of recorded ops, so every one has a backward and a
double backward on every device. Integer and bool inputs of a function whose
result is floating point are converted to the default float dtype first, as PyTorch does.
"""
import math
import numbers

from .arguments import number_arg
from .dtypes import bool_, float64, get_default_dtype, int64, is_float
from .grad_mode import no_grad
from .ops import elementwise as E
from .ops import pointwise as P
from .tensor_base import TensorBase, make_tensor

# name -> ops.pointwise function, for the one-input functions with a float result
_FLOAT_UNARY = {
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "arcsin", "acos": "arccos", "atan": "arctan",
    "sinh": "sinh", "cosh": "cosh", "asinh": "arcsinh", "acosh": "arccosh", "atanh": "arctanh",
    "expm1": "expm1", "log1p": "log1p", "exp2": "exp2", "lgamma": "lgamma", "digamma": "digamma",
    "erfc": "erfc", "erfinv": "erfinv", "i0": "i0",
}
# PyTorch's NumPy-style aliases
_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
            "arctanh": "atanh", "arctan2": "atan2", "absolute": "abs", "fix": "trunc", "multiply": "mul",
            "subtract": "sub", "true_divide": "div", "divide": "div", "negative": "neg", "sgn": "sign",
            "greater": "gt", "greater_equal": "ge", "less": "lt", "less_equal": "le",
            "not_equal": "ne"}


def as_float(t):
    """t itself when floating point, else t in the default float dtype (PyTorch's
    promotion for float-valued functions of integer and bool tensors)."""
    return t if is_float(t.dtype) else t.to(get_default_dtype())


def _other(x, who):
    """The second operand of a binary function: a tensor, or a Python number left as it is."""
    return E.operand(x, who)


def _binary_float(name, fn):
    def method(self, other):
        # PyTorch's result dtype of the pair, the default float dtype if that is an integer or bool
        return E.binary(P.OPS[fn], self, other, name, true_division=True)
    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}(self, other)``, as ``torch.{name}``."
    return method


def _unary_float(name, fn):
    def method(self):
        return P.OPS[fn].apply(as_float(self))
    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}``, as ``torch.{name}``."
    return method


def _rounding(name, fn):
    def method(self):
        # integers are already whole: returned as they are (a copy), as PyTorch
        return P.OPS[fn].apply(self) if is_float(self.dtype) else self.clone()
    method.__name__ = name
    method.__doc__ = f"Elementwise ``{name}``; its gradient is 0, as in PyTorch."
    return method


def _in_place(name):
    """``x.<name>_()``: the function's values written into x, recorded like x = x.<name>()."""
    def method(self, *args, **kwargs):
        if not is_float(self.dtype):
            raise RuntimeError(f"{name}_: the result is floating point and cannot be stored in place in a tensor of "
                               f"dtype {self.dtype}; convert first (x = x.float()) or use x.{name}()")
        with no_grad():
            values = getattr(self, name)(*args, **kwargs)._data
        return self._inplace(f"{name}_", lambda t: getattr(t, name)(*args, **kwargs), "copyto", values)
    method.__name__ = f"{name}_"
    method.__doc__ = f"In place: ``x.{name}_()`` is ``x.copy_(x.{name}())``, recorded as such."
    return method


class MathMethods:
    __slots__ = ()

    def index_put(self, indices, values, accumulate=False):
        """A copy of self with ``values`` at ``indices`` (a tuple of index tensors), added
        there (repeats summed) when ``accumulate``, as ``torch.index_put``."""
        from .ops.movement import ScatterAdd
        if not isinstance(indices, (tuple, list)):
            raise TypeError(f"index_put: indices must be a tuple of index tensors, got {type(indices).__name__}")
        index = tuple(_raw(i) for i in indices)
        with no_grad():
            target_shape = self.detach()[tuple(indices)].shape  # also checks the indices, with a clear error
        values = _as_tensor(values, self)
        if accumulate:
            return self + ScatterAdd.apply(values.expand(*target_shape) if values.shape != target_shape else values,
                                           self.shape, index)
        out = self.clone()
        out[tuple(indices)] = values
        return out

    def index_put_(self, indices, values, accumulate=False):
        with no_grad():
            result = self.index_put(indices, values, accumulate)._data
        return self._inplace("index_put_", lambda t: t.index_put(indices, values, accumulate), "copyto", result,
                             operand=values if isinstance(values, TensorBase) else None)

    def hardshrink(self, lambd=0.5):
        """x where |x| > lambd, else 0 (``F.hardshrink``)."""
        number_arg("hardshrink", "lambd", lambd, 0.0)
        return E.where(self.abs() > lambd, self, 0.0)

    def pin_memory(self):
        """self: host memory is not pinned here (a no-op; ``is_pinned()`` says False)."""
        return self

    def fill_diagonal_(self, fill_value, wrap=False):
        """Write fill_value on the main diagonal (of a 2-d tensor or an all-equal-sides one), as
        PyTorch; with ``wrap`` a tall matrix's diagonal starts again every n + 1 rows."""
        number_arg("fill_diagonal_", "fill_value", fill_value, finite=False)
        if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
            raise RuntimeError(f"fill_diagonal_: expected a 2-d tensor or one with all sides equal, got shape "
                               f"{self.shape}")
        n = min(self.shape)
        if self.ndim == 2 and wrap and self.shape[0] > self.shape[1] + 1:
            rows = [r for r in range(self.shape[0]) if r % (self.shape[1] + 1) < self.shape[1]]
            index = (rows, [r % (self.shape[1] + 1) for r in rows])
        else:
            index = tuple([list(range(n))] * self.ndim)
        with no_grad():
            values = self.clone()
            values._backend.setitem(values._data, index, fill_value)
        return self._inplace("fill_diagonal_", lambda t: _with_diagonal(t, index, fill_value), "copyto", values._data)

    def erf(self):
        return E.Erf.apply(as_float(self))

    def sign(self):
        """-1, 0 or 1 (NaN stays NaN); its gradient is 0."""
        return P.OPS["sign"].apply(self)

    def signbit(self):
        """Whether the sign bit is set (True for -0.0), a bool tensor without gradient."""
        return _math_result(self, "signbit")

    def round(self, decimals=0):
        """Round half to even, to ``decimals`` places (as ``torch.round``); gradient 0."""
        if isinstance(decimals, bool) or not isinstance(decimals, numbers.Integral):
            raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__} {decimals!r}")
        decimals = int(decimals)  # a NumPy int too, as PyTorch takes it
        if not is_float(self.dtype):
            return self.clone()
        if decimals == 0:
            return P.OPS["rint"].apply(self)
        scale = 10.0 ** decimals
        return P.OPS["rint"].apply(self * scale) / scale

    def frac(self):
        """x - trunc(x): the fractional part, with x's sign."""
        return self - self.trunc()

    def polygamma(self, n):
        """The n-th derivative of digamma at self (``torch.polygamma(n, input)``: n comes first there)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"polygamma: n must be an int >= 0, got {n!r}")
        return P.OPS["polygamma"].apply(n, as_float(self))

    def mvlgamma(self, p):
        """The multivariate log-gamma function of dimension p: sum_i lgamma(x - i/2) + p(p-1)/4 log(pi)."""
        if isinstance(p, bool) or not isinstance(p, int) or p < 1:
            raise ValueError(f"mvlgamma: p must be an int >= 1, got {p!r}")
        x = as_float(self)
        with no_grad():
            low = (x <= (p - 1) / 2).any().item()
        if low:
            raise ValueError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
        total = x.lgamma()
        for i in range(1, p):
            total = total + (x - i / 2).lgamma()
        return total + p * (p - 1) / 4 * math.log(math.pi)

    def square(self):
        return self * self

    def rsqrt(self):
        return 1 / as_float(self).sqrt()

    def reciprocal(self):
        return 1 / as_float(self)

    def positive(self):
        if self.dtype == bool_:
            raise TypeError("positive: not defined for bool tensors (as in PyTorch)")
        return self

    def deg2rad(self):
        return as_float(self) * (math.pi / 180.0)

    def rad2deg(self):
        return as_float(self) * (180.0 / math.pi)

    def sinc(self):
        """sin(pi x) / (pi x), 1 at 0. At 0 the value comes from the Taylor series
        1 - z^2/6 + z^4/120 (z = pi x), exactly 1 there, so derivatives of every order up
        to the fourth are sinc's own: sinc''(0) = -pi^2/3, where PyTorch gives NaN."""
        x = as_float(self)
        at_zero = x == 0
        z = x * math.pi
        safe = E.where(at_zero, 1.0, z)  # no 0 / 0 where the series gives the value
        z2 = z.square()
        return E.where(at_zero, 1.0 - z2 / 6 + z2.square() / 120, safe.sin() / safe)

    def logit(self, eps=None):
        """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
        x = as_float(self)
        if eps is not None:
            number_arg("logit", "eps", eps, 0.0)
            x = x.clamp(eps, 1 - eps)
        return (x / (1 - x)).log()

    def xlogy(self, other):
        """self * log(other), 0 where self is 0 (unless other is NaN), as ``torch.xlogy``."""
        x = as_float(self)
        y = as_float(_as_tensor(other, x))
        zero = (x == 0) & ~y.isnan()
        return E.where(zero, 0.0, x * E.where(zero, 1.0, y).log())

    def copysign(self, other):
        return P.OPS["copysign"].apply(as_float(self), _float_operand(other, "copysign"))

    def fmax(self, other):
        """The larger of each pair, ignoring NaN (NaN only where both are)."""
        return P.OPS["fmax"].apply(self, _other(other, "fmax"))

    def fmin(self, other):
        return P.OPS["fmin"].apply(self, _other(other, "fmin"))

    def heaviside(self, values):
        """0 where self < 0, 1 where self > 0, ``values`` where self is 0; no derivative (as PyTorch)."""
        return P.OPS["heaviside"].apply(self, _other(values, "heaviside"))

    def ldexp(self, other):
        """self * 2 ** other."""
        return as_float(self) * P.OPS["exp2"].apply(as_float(_as_tensor(other, self)))

    def float_power(self, exponent):
        """self ** exponent computed in float64, as ``torch.float_power``."""
        e = exponent.to(float64) if isinstance(exponent, TensorBase) else exponent
        return self.to(float64) ** e

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """NaN, +inf and -inf replaced (by default: 0 and the dtype's largest and smallest
        finite values); the gradient is 0 where a value was replaced."""
        if not is_float(self.dtype):
            return self.clone()
        big = _finfo_max(self.dtype)
        posinf = big if posinf is None else posinf
        neginf = -big if neginf is None else neginf
        for name, value in (("nan", nan), ("posinf", posinf), ("neginf", neginf)):
            number_arg("nan_to_num", name, value, finite=False)
        out = E.where(self.isnan(), nan, self)
        out = E.where(self == math.inf, posinf, out)
        return E.where(self == -math.inf, neginf, out)

    def frexp(self):
        """(mantissa, exponent) with self = mantissa * 2 ** exponent and 0.5 <= |mantissa| < 1
        (both 0 at 0), as ``torch.frexp``; no gradient."""
        if not is_float(self.dtype):
            raise RuntimeError(f"frexp: expected a floating point tensor, got {self.dtype}")
        with no_grad():
            x = self.detach()
            finite = x.isfinite() & (x != 0)
            safe = E.where(finite, x, 1.0)
            exponent = (safe.abs().log2().floor() + 1).to(int64)
            # scaled by 2^-e in two halves: 2^1074 alone (a subnormal's e) is not finite
            half = exponent.div(2, rounding_mode="floor")
            mantissa = safe * P.OPS["exp2"].apply(-half.to(x.dtype)) * P.OPS["exp2"].apply(-(exponent - half).to(x.dtype))
            # log2 may round across a power of two: move one step where it did
            over = mantissa.abs() >= 1
            mantissa, exponent = E.where(over, mantissa / 2, mantissa), exponent + over.to(int64)
            under = mantissa.abs() < 0.5
            mantissa, exponent = E.where(under, mantissa * 2, mantissa), exponent - under.to(int64)
            mantissa = E.where(finite, mantissa, x)  # 0, inf and NaN as they are
            exponent = E.where(finite, exponent, 0).to(_exponent_dtype())
        return mantissa, exponent

    # complex-number functions on real tensors, as PyTorch defines them there
    def conj(self):
        return self

    conj_physical = resolve_conj = resolve_neg = conj

    @property
    def real(self):
        return self

    @property
    def imag(self):
        raise RuntimeError("imag: not implemented for tensors with non-complex dtypes (as in PyTorch); "
                           "tinygrad_bn has no complex dtypes, so a real tensor's imaginary part is 0: use "
                           "zeros_like(x) instead")

    def angle(self):
        """0 where self >= 0 (-0.0 too), pi where it is < 0, NaN at NaN; gradient 0 (as PyTorch)."""
        s = as_float(self).sign()  # -1, 0 or 1 with a zero gradient: (s^2 - s) pi/2 is pi, 0 or 0
        return (s * s - s) * (math.pi / 2)

    def is_complex(self):
        return False

    def is_floating_point(self):
        return is_float(self.dtype)

    def isreal(self):
        return make_tensor(self._backend.full(self.shape, True, bool_), self._backend)


def _delegate(name, target):
    def method(self, *args, **kwargs):
        return getattr(self, target)(*args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"``{name}`` is ``{target}``, as in PyTorch."
    return method


for _name, _fn in _FLOAT_UNARY.items():
    setattr(MathMethods, _name, _unary_float(_name, _fn))
for _name in ("floor", "ceil", "trunc"):
    setattr(MathMethods, _name, _rounding(_name, _name))
for _name, _fn in (("atan2", "arctan2"), ("hypot", "hypot"), ("logaddexp", "logaddexp"),
                   ("logaddexp2", "logaddexp2"), ("igamma", "gammainc"), ("igammac", "gammaincc"),
                   ("nextafter", "nextafter")):
    setattr(MathMethods, _name, _binary_float(_name, _fn))
for _name in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "expm1",
              "log1p", "exp2", "lgamma", "digamma", "erf", "erfc", "erfinv", "i0", "floor", "ceil", "trunc", "round",
              "frac", "sign", "square", "rsqrt", "reciprocal", "sinc", "logit", "deg2rad", "rad2deg", "nan_to_num",
              "xlogy", "fmod", "remainder", "copysign", "atan2", "hypot", "lerp", "addcmul", "addcdiv", "polygamma",
              "mvlgamma", "logaddexp", "logaddexp2", "ldexp", "float_power", "floor_divide", "fmax", "fmin",
              "exp", "log", "sqrt", "abs", "neg", "sigmoid", "tanh", "log10", "log2", "pow", "igamma", "igammac",
              "nextafter", "addmm", "addmv", "addr", "addbmm", "baddbmm", "tril", "triu"):
    setattr(MathMethods, f"{_name}_", _in_place(_name))
for _alias, _target in _ALIASES.items():
    setattr(MathMethods, _alias, _delegate(_alias, _target))
    setattr(MathMethods, f"{_alias}_", _delegate(f"{_alias}_", f"{_target}_"))

MATH_FUNCTIONS = tuple(_FLOAT_UNARY) + tuple(_ALIASES) + (
    "atan2", "hypot", "logaddexp", "logaddexp2", "igamma", "igammac", "nextafter", "erf", "erfc", "sign", "signbit",
    "round", "floor", "ceil", "trunc", "frac", "polygamma", "mvlgamma", "square", "rsqrt", "reciprocal", "positive",
    "deg2rad", "rad2deg", "sinc", "logit", "xlogy", "fmod", "remainder", "copysign", "fmax", "fmin", "heaviside",
    "ldexp", "float_power", "floor_divide", "lerp", "addcmul", "addcdiv", "nan_to_num", "frexp", "add", "sub", "mul",
    "div", "rsub", "clamp_min", "clamp_max", "conj", "conj_physical", "resolve_conj", "resolve_neg", "real",
    "angle", "is_complex", "is_floating_point", "isreal", "ne", "lt", "le", "gt", "ge", "isinf", "isposinf",
    "isneginf", "isclose", "logical_not", "logical_and", "logical_or", "logical_xor", "bitwise_not", "bitwise_and",
    "bitwise_or", "bitwise_xor", "prod", "logsumexp", "nansum", "nanmean", "std_mean", "var_mean", "aminmax",
    "count_nonzero", "dist", "neg", "pow", "exp", "log", "sqrt", "abs", "clamp", "clip", "eq")
"""The names above, and those of tensor_arithmetic.py, tensor_compare.py and tensor_reductions.py, that
PyTorch also has as free functions (``torch.sin(x)``); functions.py makes them."""


def _with_diagonal(t, index, value):
    """t with ``value`` at ``index`` (recorded: the rest of t keeps its gradient)."""
    out = t.clone()
    out[index] = value
    return out


def _raw(x):
    return x._data if isinstance(x, TensorBase) else x


def _math_result(t, fn, *others):
    """A result without gradient (bools, integers) of the backend's ``math``."""
    return make_tensor(t._backend.math(fn, t._data, *(_raw(o) for o in others)), t._backend)


def _as_tensor(x, like):
    return x if isinstance(x, TensorBase) else make_tensor(like._backend.asarray(x, like.dtype), like._backend)


def _float_operand(x, who):
    x = _other(x, who)
    return as_float(x) if isinstance(x, TensorBase) else x


def _finfo_max(dtype):
    return {2: 65504.0, 4: 3.4028234663852886e38, 8: 1.7976931348623157e308}[dtype.itemsize]


def _exponent_dtype():
    from .dtypes import int32
    return int32
