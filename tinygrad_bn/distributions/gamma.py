"""``Gamma(concentration, rate)``: the gamma distribution, as ``torch.distributions.Gamma``."""
from typing import ClassVar

from ..functions import igamma
from ..grad_mode import no_grad
from . import constraints
from .distribution import Distribution
from .draws import standard_gamma
from .utils import broadcast_all, finfo, xlogy


class Gamma(Distribution):
    """The gamma distribution of shape ``concentration`` (alpha) and ``rate``
    (beta = 1 / scale), positive numbers or floating point tensors broadcast
    together: density x^(alpha - 1) exp(-beta x) beta^alpha / Gamma(alpha).

    Draws are Marsaglia and Tsang's on the host, from the device's generator
    (``tinygrad_bn.distributions.draws``), divided by rate and clamped below at
    the dtype's smallest normal number, as PyTorch's.

    Differs from PyTorch: no ``rsample`` (PyTorch differentiates the draw
    implicitly through the gamma cdf, which has no op here); ``sample`` works.
    ``cdf`` is the regularized incomplete gamma function, differentiable with
    respect to rate and the value but not concentration (as PyTorch's).
    ``log_prob``'s derivative in a concentration of exactly 1 keeps its
    log(value) term (PyTorch's, through torch.xlogy, drops it there).
    """

    arg_constraints: ClassVar[dict] = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration, rate, validate_args=None):
        self._init_gamma(type(self).__name__, concentration, rate, validate_args)
        if self._validate_args:
            fixes = {"concentration": "pass a positive shape (alpha), e.g. exp() of a parameter",
                     "rate": "pass a positive rate (1 / scale), e.g. exp() of a parameter"}
            self._check_parameters(fixes, concentration=self.concentration, rate=self.rate)

    def _init_gamma(self, who, concentration, rate, validate_args):
        self.concentration, self.rate = broadcast_all(who, concentration=concentration, rate=rate)
        Distribution.__init__(self, self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        """(concentration - 1) / rate, or 0 for concentration < 1."""
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__}.rsample: reparameterized gamma draws (PyTorch's implicit "
                                  "gradient through the gamma cdf) are not implemented here; use sample(), which "
                                  "carries no gradient, or a score-function estimator with log_prob")

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            c, r = self.concentration.detach(), self.rate.detach()
            value = standard_gamma(f"{type(self).__name__}.sample", c.expand(*shape)) / r.expand(*shape)
            return value.clamp(min=float(finfo(value.dtype).tiny))

    def log_prob(self, value):
        """xlogy(alpha, beta) + xlogy(alpha - 1, value) - beta value - lgamma(alpha)."""
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        if value.dtype != r.dtype:
            value = value.to(r.dtype)
        return c.xlogy(r) + xlogy(c - 1, value) - r * value - c.lgamma()

    def cdf(self, value):
        """P(concentration, rate * value), the regularized lower incomplete gamma function."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return igamma(self.concentration.detach(), self.rate * value)

    def entropy(self):
        """alpha - log(beta) + lgamma(alpha) + (1 - alpha) digamma(alpha)."""
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()
