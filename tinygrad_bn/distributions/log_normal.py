"""``LogNormal(loc, scale)``: exp of a normal variable, as ``torch.distributions.LogNormal``."""
import math
from typing import ClassVar

from ..creation import randn
from . import constraints
from .distribution import Distribution
from .normal import Normal
from .utils import broadcast_all

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_SQRT_2 = math.sqrt(2.0)


class LogNormal(Distribution):
    """Y = exp(X) with X ~ Normal(``loc``, ``scale``) (numbers or floating point
    tensors, broadcast together). ``rsample`` is reparameterized
    (exp(loc + eps * scale)), so gradients reach loc and scale. ``base_dist``
    is that Normal, as in PyTorch (where LogNormal is a TransformedDistribution).
    """

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("LogNormal", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters(
                {"scale": "pass a positive scale (the standard deviation of log Y)"},
                loc=self.loc, scale=self.scale)

    @property
    def base_dist(self):
        """Normal(loc, scale): the distribution of log Y."""
        return Normal(self.loc, self.scale, validate_args=False)

    def _params(self):
        return [("loc", self.loc), ("scale", self.scale)]

    def expand(self, batch_shape, _instance=None):
        shape = self._expanded_batch(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.loc, new.scale = self.loc.expand(*shape), self.scale.expand(*shape)
        Distribution.__init__(new, shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return (self.loc + self.scale ** 2 / 2).exp()

    @property
    def mode(self):
        return (self.loc - self.scale ** 2).exp()

    @property
    def variance(self):
        s2 = self.scale ** 2
        return s2.expm1() * (2 * self.loc + s2).exp()

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return (self.loc + eps * self.scale).exp()

    def log_prob(self, value):
        """Normal(loc, scale).log_prob(log value) - log value."""
        if self._validate_args:
            self._validate_sample(value)
        x = value.log()
        return -((x - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() - _LOG_SQRT_2PI - x

    def cdf(self, value):
        """(1 + erf((log value - loc) / (scale sqrt 2))) / 2."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return 0.5 * (1 + ((value.log() - self.loc) / (self.scale * _SQRT_2)).erf())

    def icdf(self, value):
        """exp(loc + scale sqrt(2) erfinv(2 value - 1))."""
        return (self.loc + self.scale * _SQRT_2 * (2 * value - 1).erfinv()).exp()

    def entropy(self):
        """The Normal's entropy + loc: 1/2 + log(sqrt(2 pi)) + log(scale) + loc."""
        return 0.5 + _LOG_SQRT_2PI + self.scale.log() + self.loc
