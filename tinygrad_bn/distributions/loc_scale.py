"""The bases of the location-scale distributions: ``LocScale`` (Normal, Laplace,
Cauchy, Gumbel, LogNormal) and ``Folded``, |X| for X of a LocScale at loc 0
(HalfNormal, HalfCauchy)."""
from typing import ClassVar

from ..creation import zeros_like
from ..ops.elementwise import where
from . import constraints
from .distribution import Distribution


class LocScale(Distribution):
    """A distribution of location ``loc`` and positive scale ``scale`` (numbers or
    floating point tensors, broadcast together; the batch shape is theirs), its
    draws a standard draw moved and scaled (reparameterized: gradients reach
    both). ``mode`` is loc unless a subclass says otherwise."""

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    # how to fix a scale that is not positive, for the message
    _scale_fix = "pass a positive scale, e.g. exp() or softplus of an unconstrained parameter"

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = self._init_params({"scale": self._scale_fix}, validate_args, loc=loc, scale=scale)

    @property
    def mode(self):
        return self.loc


class Folded(Distribution):
    """|X| with X ~ ``_base``(0, ``scale``) (``_base``: the LocScale folded; ``scale``
    a positive number or floating point tensor, the batch shape is its). ``base_dist``
    is that distribution, as in PyTorch; the mode is 0."""

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative
    _base: ClassVar[type]

    def __init__(self, scale, validate_args=None):
        fixes = {"scale": f"pass a positive scale (that of the full {self._base.__name__})"}
        (self.scale,) = self._init_params(fixes, validate_args, scale=scale)

    @property
    def base_dist(self):
        """``_base``(0, scale): the distribution folded at 0."""
        return self._base(zeros_like(self.scale), self.scale, validate_args=False)

    @property
    def mode(self):
        return zeros_like(self.scale)

    @staticmethod
    def _nonnegative_only(value, log_prob):
        """``log_prob`` where value >= 0, -inf below (reached without ``validate_args``)."""
        return where(value.detach() >= 0, log_prob, float("-inf"))
