"""``OneHotCategorical(probs=None, logits=None)``: one of K categories as a one-hot
vector, as ``torch.distributions.OneHotCategorical``."""
from typing import ClassVar

from ..arguments import float_tensor_arg
from ..creation import arange, eye
from . import constraints
from .categorical import Categorical
from .distribution import Distribution
from .utils import one_parameter


def _categorical_of(dist, who, probs, logits, validate_args):
    """The Categorical behind ``dist`` (OneHotCategorical, Multinomial), its arguments
    checked under ``who``'s name as Categorical checks its own."""
    one_parameter(who, probs, logits)
    name, given = ("probs", probs) if probs is not None else ("logits", logits)
    float_tensor_arg(who, given, name)
    if given.ndim < 1:
        raise ValueError(f"{who}: {name} must have at least one dim (the categories), got a 0-d tensor; "
                         "pass e.g. tensor([0.2, 0.8])")
    validate = Distribution._validate_args if validate_args is None else validate_args
    if validate:
        Categorical._check_given(dist, name, given)  # the checks, with ``dist``'s name in the messages
    return Categorical(probs=probs, logits=logits, validate_args=False)


class OneHotCategorical(Distribution):
    """Draws of one-hot vectors of size K (the last dim of ``probs`` or
    ``logits``, normalized as Categorical's), in the parameters' dtype; the
    event shape is (K,). ``mean`` is probs and ``variance`` probs (1 - probs).
    """

    has_enumerate_support = True
    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = _categorical_of(self, "OneHotCategorical", probs, logits, validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def _param(self):
        return self._categorical._params()[0][1]

    def _params(self):
        return self._categorical._params()

    def expand(self, batch_shape, _instance=None):
        shape = self._expanded_batch(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new._categorical = self._categorical.expand(shape)
        Distribution.__init__(new, shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

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
