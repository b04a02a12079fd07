"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale), as ``torch.distributions.HalfCauchy``."""
import math

from ..creation import empty, full
from .cauchy import Cauchy
from .loc_scale import Folded


class HalfCauchy(Folded):
    """|X| with X ~ Cauchy(0, ``scale``) (a positive number or floating point
    tensor). ``rsample`` is reparameterized (|c| * scale, c standard Cauchy);
    ``mean`` and ``variance`` are inf, as in PyTorch. ``base_dist`` is
    Cauchy(0, scale). ``log_prob`` is -inf below 0 (reached without ``validate_args``).
    """

    _base = Cauchy

    @property
    def mean(self):
        return full(self._extended_shape(), float("inf"), dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self):
        return full(self._extended_shape(), float("inf"), dtype=self.scale.dtype, device=self.scale.device)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        c = empty(*shape, dtype=self.scale.dtype, device=self.scale.device).cauchy_()
        return (c * self.scale).abs()

    def log_prob(self, value):
        """log 2 + Cauchy(0, scale).log_prob(value) for value >= 0, else -inf."""
        if self._validate_args:
            self._validate_sample(value)
        lp = math.log(2 / math.pi) - self.scale.log() - ((value / self.scale) ** 2).log1p()
        return self._nonnegative_only(value, lp)

    def cdf(self, value):
        """2 atan(value / scale) / pi."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return (value / self.scale).atan() * (2 / math.pi)

    def icdf(self, value):
        """scale tan(pi value / 2)."""
        return (value * (math.pi / 2)).tan() * self.scale

    def entropy(self):
        """The Cauchy's entropy - log 2 = log(2 pi scale)."""
        return math.log(2 * math.pi) + self.scale.log()
