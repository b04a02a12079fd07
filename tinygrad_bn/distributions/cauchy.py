"""``Cauchy(loc, scale)``: the Cauchy (Lorentz) distribution, as ``torch.distributions.Cauchy``."""
import math

from ..creation import empty, full
from .loc_scale import LocScale


class Cauchy(LocScale):
    """The Cauchy distribution of median ``loc`` and half width at half maximum
    ``scale`` (numbers or floating point tensors, broadcast together).
    ``rsample`` is reparameterized (loc + c * scale, c standard Cauchy from the
    device's generator, ``Tensor.cauchy_``). ``mean`` is NaN and ``variance``
    inf (they do not exist), as in PyTorch.
    """

    @property
    def mean(self):
        return full(self._extended_shape(), float("nan"), dtype=self.loc.dtype, device=self.loc.device)

    @property
    def variance(self):
        return full(self._extended_shape(), float("inf"), dtype=self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        eps = empty(*shape, dtype=self.loc.dtype, device=self.loc.device).cauchy_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        """-log(pi) - log(scale) - log(1 + ((value - loc) / scale)^2)."""
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()

    def cdf(self, value):
        """atan((value - loc) / scale) / pi + 1/2."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def icdf(self, value):
        """loc + scale tan(pi (value - 1/2))."""
        return (math.pi * (value - 0.5)).tan() * self.scale + self.loc

    def entropy(self):
        """log(4 pi scale)."""
        return math.log(4 * math.pi) + self.scale.log()
