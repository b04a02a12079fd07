"""``HalfCauchy(scale)``: |X| for X ~ Cauchy(0, scale), as ``torch.distributions.HalfCauchy``."""
import math
from typing import ClassVar

from ..creation import empty, full, zeros_like
from ..ops.elementwise import where
from . import constraints
from .cauchy import Cauchy
from .distribution import Distribution
from .utils import broadcast_all


class HalfCauchy(Distribution):
    """|X| with X ~ Cauchy(0, ``scale``) (a positive number or floating point
    tensor). ``rsample`` is reparameterized (|c| * scale, c standard Cauchy);
    ``mean`` and ``variance`` are inf, as in PyTorch. ``base_dist`` is
    Cauchy(0, scale). ``log_prob`` is -inf below 0 (reached without ``validate_args``).
    """

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"scale": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, scale, validate_args=None):
        (self.scale,) = broadcast_all("HalfCauchy", scale=scale)
        super().__init__(self.scale.shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters({"scale": "pass a positive scale (that of the full Cauchy)"}, scale=self.scale)

    @property
    def base_dist(self):
        """Cauchy(0, scale): the distribution folded at 0."""
        return Cauchy(zeros_like(self.scale), self.scale, validate_args=False)

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
        return full(self._extended_shape(), float("inf"), dtype=self.scale.dtype, device=self.scale.device)

    @property
    def mode(self):
        return zeros_like(self.scale)

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
        return where(value.detach() >= 0, lp, float("-inf"))

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
