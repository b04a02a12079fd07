"""``Gumbel(loc, scale)``: the Gumbel (type I extreme value) distribution, as
``torch.distributions.Gumbel``."""
import math
from typing import ClassVar

from ..creation import rand
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, euler_constant, finfo


class Gumbel(Distribution):
    """The Gumbel distribution of location ``loc`` and scale ``scale`` (cdf
    exp(-exp(-(x - loc) / scale)); numbers or floating point tensors, broadcast
    together). ``rsample`` is reparameterized (loc - scale log(-log u), u
    uniform on [tiny, 1 - eps] as PyTorch's), so gradients reach both.
    """

    has_rsample = True
    arg_constraints: ClassVar[dict] = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all("Gumbel", loc=loc, scale=scale)
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
        return self.loc + self.scale * euler_constant

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev ** 2

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        info = finfo(self.loc.dtype)
        tiny, eps = float(info.tiny), float(info.eps)
        u = rand(*shape, dtype=self.loc.dtype, device=self.loc.device) * (1 - eps - tiny) + tiny
        return self.loc - self.scale * (-u.log()).log()

    def log_prob(self, value):
        """z - exp(z) - log(scale) with z = (loc - value) / scale."""
        if self._validate_args:
            self._validate_sample(value)
        z = (self.loc - value) / self.scale
        return (z - z.exp()) - self.scale.log()

    def cdf(self, value):
        """exp(-exp(-(value - loc) / scale))."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return (-((self.loc - value) / self.scale).exp()).exp()

    def icdf(self, value):
        """loc - scale log(-log(value))."""
        return self.loc - self.scale * (-value.log()).log()

    def entropy(self):
        """log(scale) + 1 + Euler's constant."""
        return self.scale.log() + (1 + euler_constant)
