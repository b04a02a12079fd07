"""``Gumbel(loc, scale)``: the Gumbel (type I extreme value) distribution, as
``torch.distributions.Gumbel``."""
import math

from ..creation import rand
from .loc_scale import LocScale
from .utils import euler_constant, finfo


class Gumbel(LocScale):
    """The Gumbel distribution of location ``loc`` and scale ``scale`` (cdf
    exp(-exp(-(x - loc) / scale)); numbers or floating point tensors, broadcast
    together). ``rsample`` is reparameterized (loc - scale log(-log u), u
    uniform on [tiny, 1 - eps] as PyTorch's), so gradients reach both.
    """

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

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
