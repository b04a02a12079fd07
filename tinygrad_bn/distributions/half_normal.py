"""``HalfNormal(scale)``: |X| for X ~ Normal(0, scale), as ``torch.distributions.HalfNormal``."""
import math

from ..creation import randn
from .loc_scale import Folded
from .normal import _LOG_SQRT_2PI, _SQRT_2, Normal


class HalfNormal(Folded):
    """|X| with X ~ Normal(0, ``scale``) (a positive number or floating point
    tensor). ``rsample`` is reparameterized (|eps| * scale), so gradients reach
    scale. ``base_dist`` is Normal(0, scale), as in PyTorch. ``log_prob`` is
    -inf below 0 (reached without ``validate_args``).
    """

    _base = Normal

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

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
        return self._nonnegative_only(value, lp)

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
