"""Constraints: the sets parameters and values must lie in, named as in
``torch.distributions.constraints`` (``real``, ``positive``, ``nonnegative``,
``unit_interval``, ``boolean``, ``simplex``, ``one_hot``, ``real_vector``,
``nonnegative_integer``, ``positive_integer``, ``integer_interval``,
``greater_than``, ``greater_than_eq``, ``less_than``, ``interval``,
``multinomial``, ``independent``). Bounds may be numbers or tensors (a
distribution's own parameters, as ``Uniform``'s support ``interval(low, high)``);
a tensor bound is shown in messages by the name given as ``text``, else as
"the distribution's bound". ``c.check(value)`` is a bool tensor, one per event (the last
``event_dim`` dims of ``value`` form one event); ``str(c)`` says in words what
the set is, for error messages. Distributions expose theirs as
``arg_constraints`` and ``support``."""
import math

from ..ops.elementwise import where
from ..tensor import Tensor


def _bound(b):
    """A bound ready to compare with: a tensor detached (no graph), a number as it is."""
    return b.detach() if isinstance(b, Tensor) else b


def _shown(b):
    """A bound in words: a number, or a one-element tensor's value, else a placeholder."""
    if isinstance(b, Tensor):
        return repr(b.item()) if b.numel() == 1 else "the distribution's bound"
    return repr(b) if isinstance(b, float) else str(b)


class Constraint:
    """A set of values. ``is_discrete``: whether it is countable; ``event_dim``:
    how many trailing dims make one element."""

    is_discrete = False
    event_dim = 0
    text = "valid values"

    def check(self, value):
        raise NotImplementedError

    def __str__(self):
        return self.text

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    text = "real numbers (not NaN)"

    def check(self, value):
        value = value.detach()
        return value.isfinite() + (value.abs() == math.inf)  # finite or infinite: not NaN


class _GreaterThan(Constraint):
    def __init__(self, lower_bound, text=None):
        self.lower_bound = lower_bound
        if text is None:
            text = ("positive (> 0)" if not isinstance(lower_bound, Tensor) and lower_bound == 0
                    else f"greater than {_shown(lower_bound)}")
        self.text = text

    def check(self, value):
        return value.detach() > _bound(self.lower_bound)

    def __repr__(self):
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(Constraint):
    def __init__(self, lower_bound, text=None):
        self.lower_bound = lower_bound
        if text is None:
            text = ("non-negative (>= 0)" if not isinstance(lower_bound, Tensor) and lower_bound == 0
                    else f"greater than or equal to {_shown(lower_bound)}")
        self.text = text

    def check(self, value):
        return value.detach() >= _bound(self.lower_bound)

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _LessThan(Constraint):
    def __init__(self, upper_bound, text=None):
        self.upper_bound = upper_bound
        self.text = text or f"less than {_shown(upper_bound)}"

    def check(self, value):
        return value.detach() < _bound(self.upper_bound)

    def __repr__(self):
        return f"LessThan(upper_bound={self.upper_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound, text=None):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.text = text or f"in [{_shown(lower_bound)}, {_shown(upper_bound)}]"

    def check(self, value):
        value = value.detach()
        return (value >= _bound(self.lower_bound)) * (value <= _bound(self.upper_bound))

    def __repr__(self):
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


def _whole(value, inside):
    """``inside`` and, for a float ``value``, a whole number there (inf and NaN compare
    unequal to the 0 they are cast as)."""
    if value.dtype.kind == "f":
        whole = where(value.isfinite(), value, 0.0).long().to(value.dtype)
        inside = inside * (value == whole)
    return inside


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound, text=None):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.text = text or f"whole numbers {_shown(lower_bound)} .. {_shown(upper_bound)}"

    def check(self, value):
        value = value.detach()
        return _whole(value, (value >= _bound(self.lower_bound)) * (value <= _bound(self.upper_bound)))

    def __repr__(self):
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerGreaterThan(Constraint):
    """Whole numbers >= ``lower_bound`` (PyTorch's name, though the bound is included)."""

    is_discrete = True

    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        self.text = {0: "whole numbers >= 0", 1: "whole numbers >= 1"}.get(
            lower_bound, f"whole numbers >= {lower_bound}")

    def check(self, value):
        value = value.detach()
        return _whole(value, value >= self.lower_bound)

    def __repr__(self):
        return f"IntegerGreaterThan(lower_bound={self.lower_bound})"


class _Boolean(Constraint):
    is_discrete = True
    text = "0 or 1"

    def check(self, value):
        value = value.detach()
        return (value == 0) + (value == 1)


class _Independent(Constraint):
    """``base`` for every element of the last ``reinterpreted`` dims: one check per event."""

    def __init__(self, base, reinterpreted):
        self.base, self.event_dim = base, base.event_dim + reinterpreted
        self.text = f"vectors of {base.text}"

    def check(self, value):
        ok = self.base.check(value)
        for _ in range(self.event_dim - self.base.event_dim):
            ok = ok.long().sum(-1) == ok.shape[-1]
        return ok

    def __repr__(self):
        return f"IndependentConstraint({self.base!r}, {self.event_dim - self.base.event_dim})"


class _Simplex(Constraint):
    event_dim = 1
    text = "non-negative vectors that sum to 1 over the last dim"

    def check(self, value):
        value = value.detach()
        return (value.amin(-1) >= 0) * ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    """Vectors of 0s with a single 1 (over the last dim)."""

    is_discrete = True
    event_dim = 1
    text = "one-hot vectors (0s and a single 1 over the last dim)"

    def check(self, value):
        value = value.detach()
        zero_or_one = ((value == 0) + (value == 1)).long().sum(-1) == value.shape[-1]
        return zero_or_one * (value.sum(-1) == 1)


class _Multinomial(Constraint):
    """Non-negative count vectors summing to at most ``upper_bound`` (PyTorch's check:
    it does not ask for whole numbers, nor for a sum of exactly ``upper_bound``)."""

    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound
        self.text = f"vectors of counts >= 0 summing to at most {upper_bound}"

    def check(self, value):
        value = value.detach()
        return (value.amin(-1) >= 0) * (value.sum(-1) <= self.upper_bound)

    def __repr__(self):
        return f"Multinomial(upper_bound={self.upper_bound})"


real = _Real()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
nonnegative_integer = _IntegerGreaterThan(0)
positive_integer = _IntegerGreaterThan(1)
one_hot = _OneHot()
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
simplex = _Simplex()
real_vector = _Independent(real, 1)
greater_than = _GreaterThan
greater_than_eq = _GreaterThanEq
less_than = _LessThan
interval = _Interval
integer_interval = _IntegerInterval
independent = _Independent
multinomial = _Multinomial

__all__ = [
    "Constraint",
    "boolean",
    "greater_than",
    "greater_than_eq",
    "independent",
    "integer_interval",
    "interval",
    "less_than",
    "multinomial",
    "nonnegative",
    "nonnegative_integer",
    "one_hot",
    "positive",
    "positive_integer",
    "real",
    "real_vector",
    "simplex",
    "unit_interval",
]
