"""``Dirichlet(concentration)``: the Dirichlet distribution on the simplex, as
``torch.distributions.Dirichlet``."""
from typing import ClassVar

from ..arguments import float_tensor_arg
from ..creation import arange
from ..grad_mode import no_grad
from ..ops.elementwise import where
from . import constraints
from .distribution import Distribution
from .draws import standard_gamma
from .utils import xlogy


class Dirichlet(Distribution):
    """The Dirichlet distribution of ``concentration`` (a floating point tensor
    of positive values with at least one dim; its last dim is the event, of K
    categories). Draws are K independent Gamma(concentration_k, 1) variates
    normalized to sum to 1 (host gamma draws from the device's generator).

    Differs from PyTorch: no ``rsample`` (as Gamma here); ``sample`` works.
    ``log_prob``'s derivative in a concentration of exactly 1 keeps its
    log(value) term (PyTorch's, through torch.xlogy, drops it there).
    """

    arg_constraints: ClassVar[dict] = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex

    def __init__(self, concentration, validate_args=None):
        who = type(self).__name__
        float_tensor_arg(who, concentration, "concentration")
        if concentration.ndim < 1:
            raise ValueError(f"{who}: concentration must have at least one dim (the categories), got a 0-d "
                             "tensor; pass e.g. tensor([0.5, 0.5])")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)
        if self._validate_args:
            self._check_parameter("concentration", concentration, concentration.detach() > 0, "positive (> 0)",
                                  "pass positive concentrations, e.g. exp() of a parameter")

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__}.rsample: reparameterized Dirichlet draws need "
                                  "reparameterized gamma draws, which are not implemented here; use sample(), "
                                  "which carries no gradient")

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            g = standard_gamma(f"{type(self).__name__}.sample", self.concentration.detach().expand(*shape))
            return g / g.sum(-1, keepdim=True)

    def log_prob(self, value):
        """sum xlogy(alpha - 1, value) + lgamma(sum alpha) - sum lgamma(alpha)."""
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return xlogy(c - 1.0, value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def mode(self):
        """(alpha - 1)+ normalized; where every alpha < 1, the first vertex (1, 0, ..., 0), as PyTorch's."""
        c = self.concentration
        cm1 = (c - 1).clamp(min=0.0)
        below = (c.detach() < 1).long().sum(-1, keepdim=True) == c.shape[-1]
        mode = cm1 / where(below, 1.0, cm1.sum(-1, keepdim=True))  # no 0 / 0 where the vertex is taken
        first = (arange(c.shape[-1], device=c.device) == 0).to(c.dtype)
        return where(below, first, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = c.sum(-1, keepdim=True)
        return c * (c0 - c) / (c0 ** 2 * (c0 + 1))

    def entropy(self):
        """log B(alpha) + (a0 - K) digamma(a0) - sum (alpha_k - 1) digamma(alpha_k)."""
        c = self.concentration
        k = c.shape[-1]
        a0 = c.sum(-1)
        return c.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((c - 1.0) * c.digamma()).sum(-1)
