"""``Normal(loc, scale)``: the normal (Gaussian) distribution, as ``torch.distributions.Normal``."""
import math
from typing import ClassVar

from ..creation import randn
from ..ops.elementwise import Erf
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

_LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))
_SQRT_2 = math.sqrt(2.0)


class Normal(Distribution):
    """The normal distribution with mean ``loc`` and standard deviation ``scale``
    (numbers or floating point tensors, broadcast together; the batch shape is
    theirs). ``rsample`` is reparameterized (loc + eps * scale with eps standard
    normal from the device's generator), so gradients reach loc and scale;
    ``sample`` is the same draw without a gradient.

    Differs from PyTorch: no ``icdf`` (it needs erfinv, which has no op here).
    """

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Normal", loc=loc, scale=scale)
        super().__init__(self.loc.shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters(
                {"scale": "pass a positive scale, e.g. exp() or softplus of an unconstrained parameter"},
                loc=self.loc, scale=self.scale)

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
        return self.loc

    @property
    def mode(self):
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

    def entropy(self):
        """1/2 + log(sqrt(2 pi)) + log(scale)."""
        return 0.5 + _LOG_SQRT_2PI + self.scale.log()
