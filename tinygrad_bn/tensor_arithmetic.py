"""Tensor methods for PyTorch's arithmetic beyond the operators: div with a
rounding mode, add and sub with ``alpha``, rsub, floor_divide, fmod and
remainder (``%``), lerp, addcmul, addcdiv, clamp_min and clamp_max.
``Tensor`` (tensor.py) inherits them.

Each is an op of ``ops.elementwise`` or ``ops.pointwise`` or a composition of
recorded ops; integer quotients are computed exactly, without gradient.
"""
from .arguments import number_arg
from .dtypes import is_float
from .ops import elementwise as E
from .ops import pointwise as P
from .promotion import promoted
from .tensor_base import TensorBase, make_tensor, new_tensor
from .tensor_math import _other, _raw


class ArithmeticMethods:
    __slots__ = ()

    def fmod(self, other):
        """The remainder of self / other with self's sign (C's fmod), as ``torch.fmod``."""
        return E.binary(P.OPS["fmod"], self, other, "fmod")

    def remainder(self, other):
        """The remainder of self / other with other's sign (Python's %), as ``torch.remainder``."""
        return E.binary(P.OPS["remainder"], self, other, "remainder")

    __mod__ = remainder

    def __rmod__(self, other):
        return E.binary(P.OPS["remainder"], other, self, "remainder (%)")

    def floor_divide(self, other):
        """floor(self / other), as ``torch.floor_divide``; gradient 0."""
        return self.div(other, rounding_mode="floor")

    __floordiv__ = floor_divide

    def __rfloordiv__(self, other):
        other = E.operand(other, "floor_divide (//)")
        if not isinstance(other, TensorBase):  # a number: a 0-d tensor of its own dtype, as PyTorch wraps it
            other = new_tensor(other, device=self.device)
        return other.div(self, rounding_mode="floor")

    def lerp(self, end, weight):
        """self + weight * (end - self)."""
        return self + _other(weight, "lerp") * (_other(end, "lerp") - self)

    def addcmul(self, tensor1, tensor2, value=1):
        number_arg("addcmul", "value", value)
        return self + value * (tensor1 * tensor2)

    def addcdiv(self, tensor1, tensor2, value=1):
        number_arg("addcdiv", "value", value)
        return self + value * (tensor1 / tensor2)

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode`` "trunc" or "floor" rounds the quotient (gradient 0 then)."""
        if rounding_mode is None:
            return E.binary(E.Div, self, other, "div (/)", true_division=True)
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
        if not is_float(self.dtype) and not (isinstance(other, TensorBase) and is_float(other.dtype)) \
                and not isinstance(other, float):
            return _integer_division(*promoted(self, E.operand(other, "div")), rounding_mode)
        q = E.binary(E.Div, self, other, "div", true_division=True)
        return q.trunc() if rounding_mode == "trunc" else q.floor()

    def add(self, other, *, alpha=1):
        return self + (other if alpha == 1 else _scaled(other, alpha, "add"))

    def sub(self, other, *, alpha=1):
        return self - (other if alpha == 1 else _scaled(other, alpha, "sub"))

    def rsub(self, other, *, alpha=1):
        return other - (self if alpha == 1 else self * alpha)

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)


def _scaled(other, alpha, who):
    number_arg(who, "alpha", alpha)
    return E.operand(other, who) * alpha



def _integer_division(a, b, rounding_mode):
    """Integer quotients rounded toward zero or down, exactly (no float round trip), without gradient."""
    be = a._backend
    bb = _raw(b)
    q = be.math("floor_divide", a._data, bb)
    if rounding_mode == "trunc":
        # floor and trunc differ where the exact quotient is negative and not whole
        inexact = be.not_equal(be.math("fmod", a._data, bb), 0)
        negative = be.not_equal(be.less(a._data, 0), be.less(bb, 0))
        q = be.where(be.logical_and(inexact, negative), be.add(q, 1), q)
    return make_tensor(q, be)
