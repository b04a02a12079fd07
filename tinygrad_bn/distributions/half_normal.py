"""``HalfNormal(scale)``: |X| for X ~ Normal(0, scale), as ``torch.distributions.HalfNormal``."""
import math
from typing import ClassVar

from ..creation import randn, zeros_like
from ..ops.elementwise import where
from . import constraints
from .distribution import Distribution
from .normal import Normal
from .utils import broadcast_all

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_SQRT_2 = math.sqrt(2.0)


class HalfNormal(Distribution):
    """|X| with X ~ Normal(0, ``scale``) (a positive number or floating point
    tensor). ``rsample`` is reparameterized (|eps| * scale), so gradients reach
    scale. ``base_dist`` is Normal(0, scale), as in PyTorch. ``log_prob`` is
    -inf below 0 (reached without ``validate_args``).
    """

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all("HalfNormal", scale=scale)
        super().__init__(self.scale.shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters({"scale": "pass a positive scale (that of the full Normal)"}, scale=self.scale)

    @property
    def base_dist(self):
        """Normal(0, scale): the distribution folded at 0."""
        return Normal(zeros_like(self.scale), self.scale, validate_args=False)

    def _params(self):
        return [("scale", self.scale)]

    def expand(self, batch_shape, _instance=None):
        shape = self._expanded_batch(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.scale = self.scale.expand(*shape)
        Distribution.__init__(new, shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return zeros_like(self.scale)

    @property
    def variance(self):
        return self.scale ** 2 * (1 - 2 / math.pi)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.scale.dtype, device=self.scale.device)
        return (eps * self.scale).abs()

    def log_prob(self, value):
        """log 2 + Normal(0, scale).log_prob(value) for value >= 0, else -inf."""
        if self._validate_args:
            self._validate_sample(value)
        lp = -(value ** 2) / (2 * self.scale ** 2) - self.scale.log() - _LOG_SQRT_2PI + math.log(2)
        return where(value.detach() >= 0, lp, float("-inf"))

    def cdf(self, value):
        """2 Phi(value / scale) - 1 = erf(value / (scale sqrt 2))."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return (value / (self.scale * _SQRT_2)).erf()

    def icdf(self, value):
        """scale sqrt(2) erfinv(value)."""
        return self.scale * _SQRT_2 * value.erfinv()

    def entropy(self):
        """The Normal's entropy - log 2."""
        return 0.5 + _LOG_SQRT_2PI + self.scale.log() - math.log(2)
