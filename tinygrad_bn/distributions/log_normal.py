"""``LogNormal(loc, scale)``: exp of a normal variable, as ``torch.distributions.LogNormal``."""
from ..creation import randn
from . import constraints
from .loc_scale import LocScale
from .normal import _LOG_SQRT_2PI, _SQRT_2, Normal


class LogNormal(LocScale):
    """Y = exp(X) with X ~ Normal(``loc``, ``scale``) (numbers or floating point
    tensors, broadcast together). ``rsample`` is reparameterized
    (exp(loc + eps * scale)), so gradients reach loc and scale. ``base_dist``
    is that Normal, as in PyTorch (where LogNormal is a TransformedDistribution).
    """

    support = constraints.positive
    _scale_fix = "pass a positive scale (the standard deviation of log Y)"

    @property
    def base_dist(self):
        """Normal(loc, scale): the distribution of log Y."""
        return Normal(self.loc, self.scale, validate_args=False)

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
