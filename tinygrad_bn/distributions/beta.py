"""``Beta(concentration1, concentration0)``: the beta distribution on [0, 1], as
``torch.distributions.Beta``."""
from typing import ClassVar

from ..grad_mode import no_grad
from ..ops.movement import stack
from . import constraints
from .dirichlet import Dirichlet
from .distribution import Distribution
from .utils import broadcast_all, outcome_value


class Beta(Distribution):
    """The beta distribution with density x^(a - 1) (1 - x)^(b - 1) / B(a, b),
    a = ``concentration1`` and b = ``concentration0`` (positive numbers or
    floating point tensors, broadcast together). It is the first coordinate of
    Dirichlet([a, b]), as in PyTorch; draws are X / (X + Y) with X ~ Gamma(a),
    Y ~ Gamma(b) (host gamma draws from the device's generator).

    Differs from PyTorch: no ``rsample`` (as Gamma here); ``sample`` works.
    """

    arg_constraints: ClassVar[dict] = {"concentration1": constraints.positive,
                                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    _expand_attrs = ("_dirichlet",)  # the concentrations are its

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all("Beta", concentration1=concentration1, concentration0=concentration0)
        super().__init__(c1.shape, validate_args=validate_args)
        if self._validate_args:
            fix = "pass a positive concentration, e.g. exp() of a parameter"
            self._check_parameters({"concentration1": fix, "concentration0": fix},
                                   concentration1=c1, concentration0=c0)
        self._dirichlet = Dirichlet(stack([c1, c0], -1), validate_args=False)

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        """(a - 1) / (a + b - 2) for a, b > 1; as PyTorch's (through the Dirichlet) otherwise."""
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=()):
        raise NotImplementedError("Beta.rsample: reparameterized beta draws need reparameterized gamma draws, "
                                  "which are not implemented here; use sample(), which carries no gradient")

    def sample(self, sample_shape=()):
        with no_grad():
            return self._dirichlet.sample(sample_shape)[..., 0]

    def log_prob(self, value):
        """xlogy(a - 1, value) + xlogy(b - 1, 1 - value) - log B(a, b)."""
        if self._validate_args:
            self._validate_sample(value)
        c = self._dirichlet.concentration
        value = outcome_value(value, c)
        return self._dirichlet.log_prob(stack([value, 1.0 - value], -1))

    def entropy(self):
        return self._dirichlet.entropy()

