"""Constraints: the sets parameters and values must lie in, named as in
``torch.distributions.constraints`` (``real``, ``positive``, ``unit_interval``,
``boolean``, ``simplex``, ``real_vector``, ``integer_interval``, ``greater_than``,
``interval``). ``c.check(value)`` is a bool tensor, one per event (the last
``event_dim`` dims of ``value`` form one event); ``str(c)`` says in words what
the set is, for error messages. Distributions expose theirs as
``arg_constraints`` and ``support``."""
import math

from ..ops.elementwise import where


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
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound
        self.text = "positive (> 0)" if lower_bound == 0 else f"greater than {lower_bound}"

    def check(self, value):
        return value.detach() > self.lower_bound

    def __repr__(self):
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.text = f"in [{lower_bound}, {upper_bound}]"

    def check(self, value):
        value = value.detach()
        return (value >= self.lower_bound) * (value <= self.upper_bound)

    def __repr__(self):
        return f"Interval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.text = f"whole numbers {lower_bound} .. {upper_bound}"

    def check(self, value):
        value = value.detach()
        inside = (value >= self.lower_bound) * (value <= self.upper_bound)
        if value.dtype.kind == "f":
            # whole numbers stored as floats (inf and NaN compare unequal to the 0 they are cast as)
            whole = where(value.isfinite(), value, 0.0).long().to(value.dtype)
            inside = inside * (value == whole)
        return inside

    def __repr__(self):
        return f"IntegerInterval(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


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


real = _Real()
positive = _GreaterThan(0.0)
unit_interval = _Interval(0.0, 1.0)
boolean = _Boolean()
simplex = _Simplex()
real_vector = _Independent(real, 1)
greater_than = _GreaterThan
interval = _Interval
integer_interval = _IntegerInterval
independent = _Independent

__all__ = [
    "Constraint",
    "boolean",
    "greater_than",
    "independent",
    "integer_interval",
    "interval",
    "positive",
    "real",
    "real_vector",
    "simplex",
    "unit_interval",
]
