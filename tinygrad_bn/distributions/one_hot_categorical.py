"""``OneHotCategorical(probs=None, logits=None)``: one of K categories as a one-hot
vector, as ``torch.distributions.OneHotCategorical``."""
from typing import ClassVar

from ..creation import arange, eye
from . import constraints
from .categorical import CategoricalEvents


class OneHotCategorical(CategoricalEvents):
    """Draws of one-hot vectors of size K (the last dim of ``probs`` or
    ``logits``, normalized as Categorical's), in the parameters' dtype; the
    event shape is (K,). ``mean`` is probs and ``variance`` probs (1 - probs).
    """

    has_enumerate_support = True
    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._init_categorical(probs, logits, validate_args)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """The one-hot vector of the most probable category."""
        probs = self.probs
        return self._one_hot(probs.argmax(-1))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def _one_hot(self, index):
        k = self._event_shape[0]
        return (index.unsqueeze(-1) == arange(k, device=index.device)).to(self._param.dtype)

    def sample(self, sample_shape=()):
        return self._one_hot(self._categorical.sample(sample_shape))

    def log_prob(self, value):
        """The Categorical's log-probability of the index of the 1 in each vector."""
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        """The K one-hot vectors shaped (K, 1, ..., 1, K), expanded to (K,) + batch_shape + (K,) when ``expand``."""
        k = self._event_shape[0]
        values = eye(k, dtype=self._param.dtype, device=self._param.device)
        values = values.reshape(k, *([1] * len(self._batch_shape)), k)
        return values.expand(k, *self._batch_shape, k) if expand else values
