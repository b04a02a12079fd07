"""``StudentT(df, loc=0.0, scale=1.0)``: Student's t-distribution, as ``torch.distributions.StudentT``."""
import math
from typing import ClassVar

from ..creation import randn
from ..grad_mode import no_grad
from ..ops.elementwise import where
from . import constraints
from .chi2 import Chi2
from .distribution import Distribution


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, location ``loc`` and scale
    ``scale`` (numbers or floating point tensors, broadcast together). Draws
    are loc + scale Z / sqrt(V / df), Z standard normal and V ~ Chi2(df) (host
    gamma draws). ``mean`` is NaN for df <= 1; ``variance`` is inf for
    1 < df <= 2 and NaN for df <= 1, as in PyTorch.

    Differs from PyTorch: no ``rsample`` (it needs reparameterized chi-squared
    draws, which Gamma lacks here); ``sample`` works.
    """

    arg_constraints: ClassVar[dict] = {"df": constraints.positive, "loc": constraints.real,
                                       "scale": constraints.positive}
    support = constraints.real
    _expand_attrs = ("df", "loc", "scale", "_chi2")

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        fixes = {"df": "pass positive degrees of freedom", "scale": "pass a positive scale, e.g. exp() of a parameter"}
        self.df, self.loc, self.scale = self._init_params(fixes, validate_args, df=df, loc=loc, scale=scale)
        self._chi2 = Chi2(self.df, validate_args=False)

    @property
    def mean(self):
        return where(self.df.detach() <= 1, float("nan"), self.loc)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df.detach()
        finite = self.scale ** 2 * self.df / where(df > 2, self.df - 2, 1.0)
        return where(df > 2, finite, where(df > 1, float("inf"), float("nan")))

    def rsample(self, sample_shape=()):
        raise NotImplementedError("StudentT.rsample: reparameterized draws need reparameterized chi-squared "
                                  "(gamma) draws, which are not implemented here; use sample(), which carries "
                                  "no gradient")

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            z = randn(*shape, dtype=self.df.dtype, device=self.df.device)
            v = self._chi2.sample(sample_shape)
            return self.loc.detach() + self.scale.detach() * z * (v / self.df.detach()).rsqrt()

    def log_prob(self, value):
        """-(df + 1)/2 log(1 + y^2 / df) - log(scale) - log(df pi)/2 - lgamma(df/2) + lgamma((df + 1)/2)."""
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        z = (self.scale.log() + 0.5 * self.df.log() + 0.5 * math.log(math.pi)
             + (0.5 * self.df).lgamma() - (0.5 * (self.df + 1.0)).lgamma())
        return -0.5 * (self.df + 1.0) * (y ** 2 / self.df).log1p() - z

    def entropy(self):
        df = self.df
        lbeta = (0.5 * df).lgamma() + math.lgamma(0.5) - (0.5 * (df + 1)).lgamma()
        return (self.scale.log() + 0.5 * (df + 1) * ((0.5 * (df + 1)).digamma() - (0.5 * df).digamma())
                + 0.5 * df.log() + lbeta)
