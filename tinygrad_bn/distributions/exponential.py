"""``Exponential(rate)``: the exponential distribution, as ``torch.distributions.Exponential``."""
from typing import ClassVar

from ..creation import empty, zeros_like
from . import constraints
from .distribution import Distribution


class Exponential(Distribution):
    """The exponential distribution of rate ``rate`` (= 1 / mean; a positive
    number or floating point tensor, the batch shape is its). ``rsample`` is
    reparameterized (e / rate with e standard exponential from the device's
    generator, ``Tensor.exponential_``), so gradients reach rate.
    """

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, rate, validate_args=None):
        fixes = {"rate": "pass a positive rate (1 / the mean), e.g. exp() of a parameter"}
        (self.rate,) = self._init_params(fixes, validate_args, rate=rate)

    @property
    def mean(self):
        return self.rate.reciprocal()

    @property
    def mode(self):
        return zeros_like(self.rate)

    @property
    def stddev(self):
        return self.rate.reciprocal()

    @property
    def variance(self):
        return self.rate ** -2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        e = empty(*shape, dtype=self.rate.dtype, device=self.rate.device).exponential_()
        return e / self.rate

    def log_prob(self, value):
        """log(rate) - rate * value."""
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value):
        """1 - exp(-rate * value)."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return 1 - (-self.rate * value).exp()

    def icdf(self, value):
        """-log(1 - value) / rate."""
        return -(-value).log1p() / self.rate

    def entropy(self):
        """1 - log(rate)."""
        return 1.0 - self.rate.log()
