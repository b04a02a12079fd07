"""Probability distributions, named as in ``torch.distributions``: ``Normal``,
``Bernoulli`` and ``Categorical`` on the ``Distribution`` base. They are made
of tensor ops, so their log-probabilities, entropies and reparameterized
samples carry gradients (and gradients of gradients) on any device, and their
draws come from the device's generator (``tinygrad_bn.manual_seed``)."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .normal import Normal

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "constraints"]
