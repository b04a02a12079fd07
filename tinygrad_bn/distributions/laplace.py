"""``Laplace(loc, scale)``: the Laplace (double exponential) distribution, as
``torch.distributions.Laplace``."""
import math

from ..creation import rand
from .loc_scale import LocScale
from .utils import finfo


class Laplace(LocScale):
    """The Laplace distribution of location ``loc`` and scale ``scale`` (density
    exp(-|x - loc| / scale) / (2 scale)); numbers or floating point tensors,
    broadcast together. ``rsample`` is reparameterized (loc - scale sign(u)
    log(1 - |u|), u uniform on (eps - 1, 1) as PyTorch), so gradients reach both.
    """

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return math.sqrt(2.0) * self.scale

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = float(finfo(self.loc.dtype).eps)
        # uniform on [eps - 1, 1): |u| < 1, so log1p(-|u|) is finite
        u = rand(*shape, dtype=self.loc.dtype, device=self.loc.device) * (2 - eps) + (eps - 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value):
        """-log(2 scale) - |value - loc| / scale."""
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (value - self.loc).abs() / self.scale

    def cdf(self, value):
        """1/2 - sign(value - loc) expm1(-|value - loc| / scale) / 2."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        d = value - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value):
        """loc - scale sign(value - 1/2) log(1 - 2 |value - 1/2|)."""
        term = value - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self):
        """1 + log(2 scale)."""
        return 1 + (2 * self.scale).log()
