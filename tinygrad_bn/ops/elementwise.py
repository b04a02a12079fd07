"""Elementwise ops. Binary ops broadcast like NumPy; their backward sums each
gradient back to its input's shape. A Python scalar may stand in for either side."""
import math
import numbers

from ..arguments import devices_differ
from ..function import Function
from ..tensor_base import TensorBase, new_tensor
from ..promotion import promoted

GELU_APPROXIMATIONS = ("none", "tanh")


def operand(x, who="a tensor op"):
    """The other side of a binary op: a tensor, or a Python number left as it is
    (the array module then keeps the tensor's dtype, as PyTorch does)."""
    if isinstance(x, TensorBase) or type(x) in (bool, int, float):
        return x
    if isinstance(x, numbers.Number) and not isinstance(x, complex) and hasattr(x, "item"):
        # a NumPy number (float32, int64; NumPy's float64 even is a float) is a Python number to PyTorch,
        # weak in promotion: float16 * float64(2.5) of NumPy stays float16, int64 * NumPy's float32 is float32
        return x.item()
    if isinstance(x, (bool, int, float)):
        return x
    if isinstance(x, (list, tuple)) or hasattr(x, "dtype"):
        return new_tensor(x)
    raise TypeError(f"{who}: the other operand must be a tensor, a number or a list or array of numbers, "
                    f"got {type(x).__name__}")


def binary(cls, a, b, who, true_division=False):
    """``cls.apply(a, b)`` for a binary op named ``who``, the operands first taken as
    tensors or numbers (``operand``) and cast to PyTorch's result dtype (promotion.py)."""
    return cls.apply(*promoted(operand(a, who), operand(b, who), true_division=true_division))


def where(condition, input, other):
    """Elements of ``input`` where ``condition`` holds, else of ``other``."""
    if not isinstance(condition, TensorBase):
        device = next((t.device for t in (input, other) if isinstance(t, TensorBase)), "cpu")
        condition = new_tensor(condition, device=device)
    if condition.dtype.kind != "b":
        raise TypeError(f"where: condition must be a bool tensor, got {condition.dtype}; compare first, e.g. x > 0")
    for name, t in (("input", input), ("other", other)):
        if isinstance(t, TensorBase) and t._backend is not condition._backend:
            raise devices_differ("where", condition.device, t.device, f"the condition and {name}")
    return Where.apply(condition._data, *promoted(operand(input, "where"), operand(other, "where")))


def maximum(a, b):
    return binary(Maximum, a, b, "maximum")


def minimum(a, b):
    return binary(Minimum, a, b, "minimum")


def check_gelu_approximate(approximate, who="gelu"):
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"{who}: approximate must be 'none' or 'tanh', got {approximate!r}")


def _shape(x):
    return getattr(x, "shape", ())


def _reduce(be, g, x):
    """Gradient for operand ``x``: summed back to its shape (scalars get none)."""
    shape = getattr(x, "shape", None)
    return None if shape is None else be.unbroadcast(g, shape)


class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return ctx.backend.add(a, b)

    @staticmethod
    def backward(ctx, g):
        be, na, nb = ctx.backend, *ctx.needs_input_grad
        return (be.unbroadcast(g, ctx.a_shape) if na else None,
                be.unbroadcast(g, ctx.b_shape) if nb else None)


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return ctx.backend.sub(a, b)

    @staticmethod
    def backward(ctx, g):
        be, na, nb = ctx.backend, *ctx.needs_input_grad
        return (be.unbroadcast(g, ctx.a_shape) if na else None,
                be.unbroadcast(be.neg(g), ctx.b_shape) if nb else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # d/da needs only b and d/db only a: saving less lets x.mul_(2) on a
        # non-leaf pass the in-place check, as in PyTorch
        na, nb = ctx.needs_input_grad
        ctx.save_for_backward(a if nb else None, b if na else None)
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return ctx.backend.mul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        be, na, nb = ctx.backend, *ctx.needs_input_grad
        return (be.unbroadcast(be.mul(g, b), ctx.a_shape) if na else None,
                be.unbroadcast(be.mul(g, a), ctx.b_shape) if nb else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.a_shape = _shape(a)
        return ctx.backend.div(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        be, na, nb = ctx.backend, *ctx.needs_input_grad
        ga = be.unbroadcast(be.div(g, b), ctx.a_shape) if na else None
        # d(a/b)/db = -a / b^2
        gb = _reduce(be, be.neg(be.div(be.mul(g, a), be.mul(b, b))), b) if nb else None
        return ga, gb


class Pow(Function):
    """a ** b for a tensor or scalar base and exponent."""

    @staticmethod
    def forward(ctx, a, b):
        out = ctx.backend.pow(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        be, na, nb = ctx.backend, *ctx.needs_input_grad
        ga = gb = None
        if na:
            # b * a^(b-1), written without dividing by a so a = 0 works; 0 where
            # b = 0 (PyTorch's rule: x ** 0 is constant, though 0 * 0^-1 is NaN)
            # a Python exponent stays a Python number (a weak scalar): the backend's
            # sub would make it a NumPy int64, and a float32 base to its power float64
            local = be.mul(b, be.pow(a, b - 1 if type(b) in (int, float) else be.sub(b, 1)))
            local = be.where(be.equal(b, 0), 0, local)
            ga = _reduce(be, be.mul(g, local), a)
        if nb:
            # a^b * log(a), as PyTorch takes it where the log is undefined: NaN for
            # a < 0 (a real power of a negative base has no derivative in the
            # exponent); at a = 0, 0 for b >= 0 and a^b * -inf for b < 0 (a^b is
            # +-inf there, so that is -a^b; NaN for a NaN b, as a^b is)
            def at_zero():
                return be.where(be.greater_equal(b, 0), 0, be.neg(out))
            if type(a) in (int, float):  # a Python base stays a weak scalar (where() would make it float64)
                local = at_zero() if a == 0 else be.mul(out, math.log(a) if a > 0 else float("nan"))
            else:
                safe = be.where(be.greater(a, 0), a, 1)
                local = be.where(be.less(a, 0), float("nan"),
                                 be.where(be.equal(a, 0), at_zero(), be.mul(out, be.log(safe))))
            gb = _reduce(be, be.mul(g, local), b)
        return ga, gb


class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return ctx.backend.neg(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.neg(g)


class _Pick(Function):
    """Elementwise maximum or minimum, with PyTorch's gradient: where the inputs
    tie, each gets half; the input that loses gets a zero (+0, not the sign of
    g); where either is NaN (the result is NaN), both get the whole gradient."""

    pick = loses = None  # backend names: the op, and the comparison (a, b) true where a loses

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.save_for_backward(a, b)
        return getattr(ctx.backend, cls.pick)(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.saved_tensors
        be, na, nb = ctx.backend, *ctx.needs_input_grad
        loses = getattr(be, cls.loses)
        shared = be.where(be.equal(a, b), be.mul(g, 0.5), g)
        ga = _reduce(be, be.where(loses(a, b), 0, shared), a) if na else None
        gb = _reduce(be, be.where(loses(b, a), 0, shared), b) if nb else None
        return ga, gb


class Maximum(_Pick):
    pick, loses = "maximum", "less"


class Minimum(_Pick):
    pick, loses = "minimum", "greater"


class Where(Function):
    """where(cond, a, b): the condition is a boolean array and gets no gradient."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.cond = cond
        ctx.a_shape, ctx.b_shape = _shape(a), _shape(b)
        return ctx.backend.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        _, na, nb = ctx.needs_input_grad
        zero = be.zeros_like(g)
        ga = be.unbroadcast(be.where(ctx.cond, g, zero), ctx.a_shape) if na else None
        gb = be.unbroadcast(be.where(ctx.cond, zero, g), ctx.b_shape) if nb else None
        return None, ga, gb


# ------------------------------------------------------------------ unary

class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.backend.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return ctx.backend.mul(g, out)


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.log(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return ctx.backend.div(g, a)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.backend.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        return be.div(g, be.mul(out, 2))


class Abs(Function):
    """|a|; the gradient at 0 is 0 (sign(0)), as in PyTorch."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.abs(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return ctx.backend.mul(g, ctx.backend.sign(a))


class Clip(Function):
    """clip(a, min, max), each bound a number, an array or None. The gradient goes to
    whichever operand was picked, with PyTorch's rules: a, where min <= a <= max (a wins
    a tie with a bound); min, where a < min < max; max, where a > max or max < min (then
    every element is max). Inputs broadcast, and each gradient is summed back to its shape."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        ctx.shapes = tuple(getattr(x, "shape", None) for x in (a, lo, hi))
        ctx.params = {"min": _bound_param(lo), "max": _bound_param(hi)}
        return ctx.backend.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        be = ctx.backend
        lo, hi = ctx.lo, ctx.hi
        na, nlo, nhi = ctx.needs_input_grad
        zero = be.zeros_like(g)
        ga = glo = ghi = None
        if na:
            mask = be.ones_like(g, dtype=bool)
            if lo is not None:
                mask = be.logical_and(mask, be.greater_equal(a, lo))
            if hi is not None:
                mask = be.logical_and(mask, be.less_equal(a, hi))
            ga = be.unbroadcast(be.where(mask, g, zero), ctx.shapes[0])
        if nlo and ctx.shapes[1] is not None:
            picked = be.less(a, lo)
            if hi is not None:
                picked = be.logical_and(picked, be.less(lo, hi))
            glo = be.unbroadcast(be.where(picked, g, zero), ctx.shapes[1])
        if nhi and ctx.shapes[2] is not None:
            picked = be.greater(a, hi)
            if lo is not None:
                picked = be.where(be.less(hi, lo), True, picked)
            ghi = be.unbroadcast(be.where(picked, g, zero), ctx.shapes[2])
        return ga, glo, ghi


def _bound_param(bound):
    """A clip bound as the tape shows it: the number, or the shape of an array bound."""
    shape = getattr(bound, "shape", None)
    return bound if shape is None else f"tensor of shape {tuple(shape)}"


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.backend.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        return be.mul(g, be.sub(1, be.mul(out, out)))


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.backend.sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        return be.mul(g, be.mul(out, be.sub(1, out)))


class ReLU(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.backend.relu(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # relu(a) > 0 exactly where a > 0, so the output serves as the mask
        (out,) = ctx.saved_tensors
        return ctx.backend.relu_backward(out, g)


class LeakyReLU(Function):
    @staticmethod
    def forward(ctx, a, negative_slope):
        ctx.save_for_backward(a)
        ctx.slope = negative_slope
        ctx.params = {"negative_slope": negative_slope}
        be = ctx.backend
        return be.where(be.greater(a, 0), a, be.mul(a, negative_slope))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        be = ctx.backend
        return be.where(be.greater(a, 0), g, be.mul(g, ctx.slope)), None


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


class Erf(Function):
    """The error function; d erf(a)/da = 2/sqrt(pi) * exp(-a^2). GELU's backward
    calls erf, so a recorded GELU backward is made of this op."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.backend.erf(a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        be = ctx.backend
        return be.mul(g, be.mul(be.exp(be.neg(be.mul(a, a))), _TWO_OVER_SQRT_PI))


_SQRT_2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class GELU(Function):
    """GELU, exact (x * Phi(x)) or with the tanh approximation (``approximate='tanh'``)."""

    @staticmethod
    def forward(ctx, a, approximate):
        be = ctx.backend
        ctx.save_for_backward(a)
        ctx.approximate = approximate
        ctx.params = {"approximate": approximate}
        if approximate == "tanh":
            inner = be.mul(be.add(a, be.mul(be.mul(be.mul(a, a), a), 0.044715)), _SQRT_2_PI)
            return be.mul(be.mul(a, 0.5), be.add(be.tanh(inner), 1))
        cdf = be.mul(be.add(be.erf(be.div(a, _SQRT_2)), 1), 0.5)
        return be.mul(a, cdf)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        be = ctx.backend
        if ctx.approximate == "tanh":
            a2 = be.mul(a, a)
            inner = be.mul(be.add(a, be.mul(be.mul(a2, a), 0.044715)), _SQRT_2_PI)
            t = be.tanh(inner)
            dinner = be.mul(be.add(be.mul(a2, 3 * 0.044715), 1), _SQRT_2_PI)
            d = be.add(be.mul(be.add(t, 1), 0.5),
                       be.mul(be.mul(be.mul(a, 0.5), be.sub(1, be.mul(t, t))), dinner))
            return be.mul(g, d), None
        cdf = be.mul(be.add(be.erf(be.div(a, _SQRT_2)), 1), 0.5)
        pdf = be.mul(be.exp(be.mul(be.mul(a, a), -0.5)), _INV_SQRT_2PI)
        return be.mul(g, be.add(cdf, be.mul(a, pdf))), None
