"""Tensor methods for PyTorch's comparisons and tests beyond the operators
(ne, lt, ..., isinf, isclose, allclose, equal), its logical and bitwise ops
(with ``&``, ``|``, ``^`` and ``~``) and their in-place forms (``eq_``, ...).
``Tensor`` (tensor.py) inherits them.

Their results are bool (or integer) tensors that carry no gradient.
"""
import math

from .arguments import number_arg
from .dtypes import bool_, is_float
from .grad_mode import no_grad
from .tensor_base import TensorBase
from .tensor_math import _as_tensor, _math_result, _raw


def _in_place_test(name):
    """``x.eq_(y)`` and the like: the test's 0/1 written into x in x's dtype (no gradient flows through it)."""
    def method(self, *args, **kwargs):
        with no_grad():
            values = getattr(self, name)(*args, **kwargs).to(self.dtype)._data
        return self._inplace(f"{name}_", lambda t: getattr(t, name)(*args, **kwargs).to(t.dtype), "copyto", values)
    method.__name__ = f"{name}_"
    method.__doc__ = f"In place: ``x.{name}_(...)`` writes ``x.{name}(...)`` as 0 and 1 in x's dtype."
    return method



class ComparisonMethods:
    __slots__ = ()

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Whether every element is close to other's (a bool), as ``torch.allclose``."""
        return bool(self.isclose(_as_tensor(other, self), rtol, atol, equal_nan).all())

    def equal(self, other):
        """Whether other has self's shape and values (a bool), as ``torch.equal``."""
        return isinstance(other, TensorBase) and self.shape == other.shape and bool((self == other).all())

    # ------------------------------------------------------------- comparisons and tests
    def ne(self, other):
        return self._compare(other, "not_equal")

    def lt(self, other):
        return self._compare(other, "less")

    def le(self, other):
        return self._compare(other, "less_equal")

    def gt(self, other):
        return self._compare(other, "greater")

    def ge(self, other):
        return self._compare(other, "greater_equal")

    def isinf(self):
        with no_grad():
            return (self.abs() == math.inf) if is_float(self.dtype) else self.isreal() & False

    def isposinf(self):
        with no_grad():
            return self.detach() == math.inf

    def isneginf(self):
        with no_grad():
            return self.detach() == -math.inf

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """|self - other| <= atol + rtol * |other| elementwise (equal infinities close), as ``torch.isclose``."""
        number_arg("isclose", "rtol", rtol, 0.0)
        number_arg("isclose", "atol", atol, 0.0)
        with no_grad():
            a = self.detach()
            b = other.detach() if isinstance(other, TensorBase) else other
            b_abs = b.abs() if isinstance(b, TensorBase) else abs(b)
            # unequal infinities are never close (inf - -inf <= rtol * inf would say they are)
            finite = a.isfinite() & (b.isfinite() if isinstance(b, TensorBase) else math.isfinite(b))
            close = (a == b) | (finite & ((a - b).abs() <= atol + rtol * b_abs))
            if equal_nan:
                close = close | (a.isnan() & _isnan(b))
        return close

    def logical_not(self):
        return self._no_grad_result("logical_not")

    def logical_and(self, other):
        return self._no_grad_result("logical_and", _raw(other))

    def logical_or(self, other):
        return _math_result(self, "logical_or", other)

    def logical_xor(self, other):
        return _math_result(self, "logical_xor", other)

    def bitwise_not(self):
        _integer_only("bitwise_not", self)
        return _math_result(self, "invert")

    def bitwise_and(self, other):
        _integer_only("bitwise_and", self, other)
        return _math_result(self, "bitwise_and", other)

    def bitwise_or(self, other):
        _integer_only("bitwise_or", self, other)
        return _math_result(self, "bitwise_or", other)

    def bitwise_xor(self, other):
        _integer_only("bitwise_xor", self, other)
        return _math_result(self, "bitwise_xor", other)

    def __invert__(self):
        return self.logical_not() if self.dtype == bool_ else self.bitwise_not()

    def __and__(self, other):
        return self.logical_and(other) if self.dtype == bool_ else self.bitwise_and(other)

    def __or__(self, other):
        return self.logical_or(other) if self.dtype == bool_ else self.bitwise_or(other)

    def __xor__(self, other):
        return self.logical_xor(other) if self.dtype == bool_ else self.bitwise_xor(other)


for _name in ("eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor", "logical_not"):
    setattr(ComparisonMethods, f"{_name}_", _in_place_test(_name))


def _isnan(x):
    return x.isnan() if isinstance(x, TensorBase) else math.isnan(x)



def _integer_only(who, *operands):
    for t in operands:
        if isinstance(t, TensorBase) and is_float(t.dtype) or isinstance(t, float):
            kind = t.dtype if isinstance(t, TensorBase) else "a float"
            raise TypeError(f"{who}: expected integer or bool operands, got {kind}; bitwise ops are not defined "
                            "for floating point values")

