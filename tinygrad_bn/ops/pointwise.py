"""Elementwise math beyond arithmetic: trigonometric and hyperbolic functions,
rounding, special functions (lgamma, digamma, erfinv, Bessel I0, incomplete
gamma) and two-operand functions (atan2, hypot, fmod, ...).

Each is one op on the tape (named after the function: ``Sin``, ``Atan2``) over
the backend's ``math(fn, *args)``. Its derivative is written below in backend
calls, so a recorded backward (``create_graph=True``) is made of ops too and
differentiates again: d sin = cos, d cos = -sin, d lgamma = digamma, d digamma =
polygamma(1), d i0 = i1, ... to any order.

Where PyTorch gives no derivative (nextafter, heaviside, igamma in its first
argument) backward raises, as PyTorch's does. Rounding functions have zero
derivative, as in PyTorch.
"""
import math

from ..function import Function
from .elementwise import _reduce

_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_LN2 = math.log(2.0)


def _sq(be, a):
    return be.mul(a, a)


def _zero(be, g, *args):
    return be.zeros_like(g)


def _no_derivative(name, which="its input"):
    def rule(be, g, out, *args):
        raise RuntimeError(f"{name}: the derivative with respect to {which} is not implemented (as in PyTorch); "
                           "detach that input (x.detach()) if no gradient is needed through it")
    return rule


# unary rules: (be, g, out, a) -> gradient for a
_UNARY = {
    "sin": lambda be, g, out, a: be.mul(g, be.math("cos", a)),
    "cos": lambda be, g, out, a: be.neg(be.mul(g, be.math("sin", a))),
    "tan": lambda be, g, out, a: be.mul(g, be.add(_sq(be, out), 1)),
    "arcsin": lambda be, g, out, a: be.div(g, be.sqrt(be.sub(1, _sq(be, a)))),
    "arccos": lambda be, g, out, a: be.neg(be.div(g, be.sqrt(be.sub(1, _sq(be, a))))),
    "arctan": lambda be, g, out, a: be.div(g, be.add(_sq(be, a), 1)),
    "sinh": lambda be, g, out, a: be.mul(g, be.math("cosh", a)),
    "cosh": lambda be, g, out, a: be.mul(g, be.math("sinh", a)),
    "arcsinh": lambda be, g, out, a: be.div(g, be.sqrt(be.add(_sq(be, a), 1))),
    # (a - 1)(a + 1) rather than a^2 - 1: exact near a = 1, as PyTorch writes it
    "arccosh": lambda be, g, out, a: be.div(g, be.sqrt(be.mul(be.sub(a, 1), be.add(a, 1)))),
    "arctanh": lambda be, g, out, a: be.div(g, be.sub(1, _sq(be, a))),
    "expm1": lambda be, g, out, a: be.mul(g, be.add(out, 1)),
    "log1p": lambda be, g, out, a: be.div(g, be.add(a, 1)),
    "exp2": lambda be, g, out, a: be.mul(g, be.mul(out, _LN2)),
    "floor": _zero, "ceil": _zero, "trunc": _zero, "rint": _zero, "sign": _zero,
    "lgamma": lambda be, g, out, a: be.mul(g, be.math("digamma", a)),
    "digamma": lambda be, g, out, a: be.mul(g, be.math("polygamma", 1, a)),
    "erfc": lambda be, g, out, a: be.mul(g, be.mul(be.exp(be.neg(_sq(be, a))), -_TWO_OVER_SQRT_PI)),
    "erfinv": lambda be, g, out, a: be.mul(g, be.mul(be.exp(_sq(be, out)), _SQRT_PI_OVER_2)),
    "i0": lambda be, g, out, a: be.mul(g, be.math("i1", a)),
    # I1'(x) = I0(x) - I1(x)/x, which is 1/2 at x = 0
    "i1": lambda be, g, out, a: be.mul(g, be.where(be.equal(a, 0), 0.5,
                                                   be.sub(be.math("i0", a), be.div(out, be.where(be.equal(a, 0), 1, a))))),
}


def _polygamma_rule(be, g, out, n, a):
    return None, be.mul(g, be.math("polygamma", n + 1, a))


def _atan2_rule(be, g, out, y, x):
    r2 = be.add(_sq(be, x), _sq(be, y))
    return be.mul(g, be.div(x, r2)), be.neg(be.mul(g, be.div(y, r2)))


def _hypot_rule(be, g, out, a, b):
    return be.mul(g, be.div(a, out)), be.mul(g, be.div(b, out))


def _fmod_rule(be, g, out, a, b):
    # fmod(a, b) = a - trunc(a / b) * b
    return g, be.neg(be.mul(g, be.math("trunc", be.div(a, b))))


def _remainder_rule(be, g, out, a, b):
    # remainder(a, b) = a - floor(a / b) * b (the sign of b, as Python's %)
    return g, be.neg(be.mul(g, be.math("floor", be.div(a, b))))


def _copysign_rule(be, g, out, a, b):
    # d|a| sign(b) / da = sign(a) sign(b) = sign(a) sign(out) where a != 0; 0 at a = 0, as PyTorch
    return be.mul(g, be.mul(be.sign(a), be.sign(out))), be.zeros_like(g)


def _logaddexp_rule(be, g, out, a, b):
    # d/da log(e^a + e^b) = e^(a - out): no overflow, since out >= a
    return be.mul(g, be.exp(be.sub(a, out))), be.mul(g, be.exp(be.sub(b, out)))


def _logaddexp2_rule(be, g, out, a, b):
    return (be.mul(g, be.math("exp2", be.sub(a, out))), be.mul(g, be.math("exp2", be.sub(b, out))))


def _fmax_rule(be, g, out, a, b):
    return _pick_nan_aware(be, g, a, b, "greater_equal")


def _fmin_rule(be, g, out, a, b):
    return _pick_nan_aware(be, g, a, b, "less_equal")


def _pick_nan_aware(be, g, a, b, wins):
    """fmax/fmin: the gradient goes to the operand picked (a on ties, or where b is NaN), as PyTorch."""
    to_a = be.where(be.isnan(b), True, getattr(be, wins)(a, b))
    zero = be.zeros_like(g)
    return be.where(to_a, g, zero), be.where(to_a, zero, g)


def _gammainc_rule(sign):
    def rule(be, g, out, a, x):
        # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a); Q = 1 - P
        log_density = be.sub(be.sub(be.mul(be.sub(a, 1), be.log(x)), x), be.math("lgamma", a))
        return None, be.mul(g, be.mul(be.exp(log_density), sign))
    return rule


_BINARY = {
    "polygamma": _polygamma_rule,
    "arctan2": _atan2_rule,
    "hypot": _hypot_rule,
    "fmod": _fmod_rule,
    "remainder": _remainder_rule,
    "copysign": _copysign_rule,
    "logaddexp": _logaddexp_rule,
    "logaddexp2": _logaddexp2_rule,
    "fmax": _fmax_rule,
    "fmin": _fmin_rule,
    "gammainc": _gammainc_rule(1.0),
    "gammaincc": _gammainc_rule(-1.0),
    "nextafter": _no_derivative("nextafter", "either input"),
    "heaviside": _no_derivative("heaviside", "either input"),
}

NO_GRADIENT_FUNCTIONS = ("signbit", "logical_or", "logical_xor", "invert", "bitwise_and", "bitwise_or",
                         "bitwise_xor", "floor_divide")
"""Functions whose results carry no gradient (bools, integers): tensor methods call
``backend.math`` for them directly, without an op."""

MATH_FUNCTIONS = tuple(_UNARY) + tuple(_BINARY) + NO_GRADIENT_FUNCTIONS
"""The names the backend's ``math`` takes (NumPy's spelling where NumPy has the function)."""


class Math(Function):
    """One elementwise function of ``MATH_FUNCTIONS``; subclasses name it (``fn``)."""

    fn = None

    @classmethod
    def forward(cls, ctx, *args):
        out = ctx.backend.math(cls.fn, *args)
        ctx.save_for_backward(*args, out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        *args, out = ctx.saved_tensors
        be = ctx.backend
        if len(args) == 1:
            return _UNARY[cls.fn](be, g, out, args[0])
        if cls.fn in ("gammainc", "gammaincc") and ctx.needs_input_grad[0]:
            name = "igamma" if cls.fn == "gammainc" else "igammac"
            _no_derivative(name, "its first argument (a)")(be, g, out)
        grads = _BINARY[cls.fn](be, g, out, *args)
        return tuple(_reduce(be, gi, a) if need and gi is not None else None
                     for gi, a, need in zip(grads, args, ctx.needs_input_grad))


def _op_class(fn):
    name = "".join(part.capitalize() for part in fn.split("_"))
    return type(name, (Math,), {"fn": fn, "__doc__": f"Elementwise ``{fn}`` (see ops/pointwise.py)."})


OPS = {fn: _op_class(fn) for fn in (*_UNARY, *_BINARY)}
"""fn -> its op class (``OPS["sin"].apply(x)``)."""
