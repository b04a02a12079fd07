"""``Normal(loc, scale)``: the normal (Gaussian) distribution, as ``torch.distributions.Normal``."""
import math

from ..creation import randn
from ..ops.elementwise import Erf
from .loc_scale import LocScale

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_SQRT_2 = math.sqrt(2.0)


class Normal(LocScale):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``
    (numbers or floating point tensors, broadcast together; the batch shape is
    theirs). ``rsample`` is reparameterized (loc + eps * scale with eps standard
    normal from the device's generator), so gradients reach loc and scale;
    ``sample`` is the same draw without a gradient.
    """

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = randn(*shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """log N(value; loc, scale) = -(value - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - self.scale.log() - _LOG_SQRT_2PI

    def cdf(self, value):
        """P(X <= value) = (1 + erf((value - loc) / (scale sqrt 2))) / 2."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return 0.5 * (1 + Erf.apply((value - self.loc) / (self.scale * _SQRT_2)))

    def icdf(self, value):
        """The quantile of level ``value``: loc + scale erfinv(2 value - 1) sqrt(2) (unchecked, as PyTorch's)."""
        return self.loc + self.scale * (2 * value - 1).erfinv() * _SQRT_2

    def entropy(self):
        """1/2 + log(sqrt(2 pi)) + log(scale)."""
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()
