"""``Poisson(rate)``: the Poisson distribution, as ``torch.distributions.Poisson``."""
import math
from typing import ClassVar

from ..creation import arange
from ..grad_mode import no_grad
from ..ops.elementwise import where
from ..sampling import poisson
from . import constraints
from .distribution import Distribution
from .utils import outcome_value


class Poisson(Distribution):
    """Counts 0, 1, 2, ... with probability rate^k exp(-rate) / k! (``rate`` >= 0,
    a number or floating point tensor; draws are whole numbers in its dtype, from
    ``tinygrad_bn.poisson`` and the device's generator).

    Differs from PyTorch: ``entropy`` is given (PyTorch raises
    NotImplementedError): -sum_k P(k) log P(k) over the counts within
    rate +- (12 sqrt(rate) + 25) (the rest weighs under 1e-30), differentiable
    with respect to rate.
    """

    arg_constraints: ClassVar[dict] = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        fixes = {"rate": "pass a rate >= 0 (the mean count), e.g. exp() of a parameter"}
        (self.rate,) = self._init_params(fixes, validate_args, rate=rate)

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return poisson(self.rate.detach().expand(*shape))

    def log_prob(self, value):
        """value log(rate) - rate - log(value!) (0 log 0 = 0: a rate of 0 gives the count 0 probability 1)."""
        if self._validate_args:
            self._validate_sample(value)
        value = outcome_value(value, self.rate)
        return value.xlogy(self.rate) - self.rate - (value + 1).lgamma()

    def entropy(self):
        """-sum_k P(k) log P(k) over the counts that carry weight (0 for a rate of 0)."""
        if self.rate.numel() == 0:
            return self.rate * 0
        positive = self.rate.detach() > 0
        rate = where(positive, self.rate, 1.0)  # a rate of 0 has entropy 0 (set below), and no log(0) here
        top = float(rate.detach().max().item())
        width = math.ceil(12 * math.sqrt(top)) + 25
        start = (rate.detach() - width).clamp(min=0).floor()
        k = start + arange(2 * width + 1, dtype=rate.dtype, device=rate.device).reshape(-1, *([1] * rate.ndim))
        log_pmf = k * rate.log() - rate - (k + 1).lgamma()
        # -sum p log p directly (rather than rate (1 - log rate) + E[log k!]): no cancellation of large terms
        return where(positive, -(log_pmf.exp() * log_pmf).sum(0), 0.0)
