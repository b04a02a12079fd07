"""Probability distributions, named as in ``torch.distributions``, on the
``Distribution`` base: Normal, LogNormal, HalfNormal, Uniform, Exponential,
Laplace, Cauchy, HalfCauchy, Gumbel, Gamma, Chi2, Beta, Dirichlet, StudentT,
Bernoulli, Geometric, Binomial, Poisson, Categorical, OneHotCategorical,
Multinomial and Independent, with ``kl_divergence`` and ``register_kl``
(module ``kl``). They are made of tensor ops, so their log-probabilities,
entropies, KL divergences and reparameterized samples carry gradients on any
device, and their draws come from the device's generator
(``tinygrad_bn.manual_seed``)."""
from . import constraints, kl
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .log_normal import LogNormal
from .multinomial import Multinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .student_t import StudentT
from .uniform import Uniform

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Chi2",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "Gamma",
    "Geometric",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Independent",
    "Laplace",
    "LogNormal",
    "Multinomial",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "StudentT",
    "Uniform",
    "constraints",
    "kl",
    "kl_divergence",
    "register_kl",
]
