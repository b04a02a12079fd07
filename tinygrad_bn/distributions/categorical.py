"""``Categorical(probs=None, logits=None)``: one of K categories, as ``torch.distributions.Categorical``."""
from typing import ClassVar

from ..arguments import float_tensor_arg
from ..creation import arange, full, tensor, zeros
from ..device import Size
from ..dtypes import int64
from ..grad_mode import no_grad
from ..sampling import multinomial
from ..tensor import Tensor
from . import constraints
from .distribution import Distribution
from .probs_logits import ProbsLogits
from .utils import broadcast_shapes, finfo, one_parameter


def _weights_arg(who, probs, logits):
    """``("probs", probs)`` or ``("logits", logits)``, the one given: exactly one, a
    floating point tensor of at least one dim (the last: the categories)."""
    name, given = one_parameter(who, probs, logits)
    float_tensor_arg(who, given, name)
    if given.ndim < 1:
        raise ValueError(f"{who}: {name} must have at least one dim (the categories), got a 0-d tensor; "
                         "pass e.g. tensor([0.2, 0.8])")
    return name, given


class Categorical(ProbsLogits):
    """Draws of a category index in 0 .. K-1 (int64), K being the size of the
    last dim of ``probs`` or ``logits`` (floating point tensors of at least one
    dim; the dims before the last are the batch). As in PyTorch, ``probs`` are
    normalized to sum to 1 over the last dim (so non-negative weights will do)
    and ``logits`` are normalized to log-probabilities (log_softmax); the other
    form is computed on first use, differentiably.

    ``sample`` draws with ``tinygrad_bn.multinomial`` (with replacement) from
    the device's generator; ``mean`` and ``variance`` are NaN, as in PyTorch.
    """

    has_enumerate_support = True
    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex, "logits": constraints.real_vector}
    _binary = False
    _expand_copies = ("_num_events",)

    def __init__(self, probs=None, logits=None, validate_args=None):
        name, given = _weights_arg("Categorical", probs, logits)
        validate = Distribution._validate_args if validate_args is None else validate_args
        if validate:
            # checked before normalizing: a negative weight or an all-zero row is the caller's mistake
            self._check_given(name, given)
        self._keep(name, given / given.sum(-1, keepdim=True) if name == "probs" else given.log_softmax(-1))
        self._num_events = given.shape[-1]
        super().__init__(given.shape[:-1], validate_args=validate_args)

    def _check_given(self, name, given):
        if name == "probs":
            self._check_parameter("probs", given, (given >= 0) * given.isfinite(),
                                  "finite and non-negative (weights; they are normalized over the last dim)",
                                  "pass logits=... instead for unnormalized log-probabilities")
            sums = given.detach().sum(-1)
            self._check_parameter("probs (its sums over the last dim)", sums, sums > 0, "positive",
                                  "give every distribution at least one category of positive weight")
        else:
            self._check_parameter("logits", given, constraints.real.check(given) * (given < float("inf")),
                                  "real numbers or -inf (not NaN or +inf)")

    @property
    def mean(self):
        p = self._param
        return full(self._extended_shape(), float("nan"), dtype=p.dtype, device=p.device)

    @property
    def variance(self):
        return self.mean

    @property
    def mode(self):
        return self.probs.argmax(-1)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        n = Size(shape[:len(shape) - len(self._batch_shape)]).numel()
        p = self.probs.detach()
        if n == 0 or p.numel() == 0:
            return zeros(*shape, dtype=int64, device=p.device)
        with no_grad():
            draws = multinomial(p.reshape(-1, self._num_events), n, True)  # (distributions, n)
            return draws.T.reshape(*shape)

    def log_prob(self, value):
        """log probs[..., value]: the log-probability of each category index in ``value``."""
        if self._validate_args:
            self._validate_sample(value)
        if not isinstance(value, Tensor):  # a number, taken unchecked when validation is off (as PyTorch)
            value = tensor(value, device=self._param_device())
        value = value.long()
        shape = broadcast_shapes("Categorical.log_prob", [value.shape, self._batch_shape])
        k = self._num_events
        log_pmf = self.logits.expand(*shape, k).reshape(-1, k)
        index = value.expand(*shape).reshape(-1)
        rows = arange(index.shape[0], device=log_pmf.device)
        return log_pmf[rows, index].reshape(*shape)

    def entropy(self):
        """-sum(probs * logits) over the categories (logits clamped to the dtype's
        lowest float, so a category of probability 0 adds 0, not NaN)."""
        logits = self.logits.clamp(min=float(finfo(self.logits.dtype).min))
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        """tensor([0, ..., K-1]) shaped (K, 1, ..., 1), expanded to (K,) + batch_shape when ``expand``."""
        values = arange(self._num_events, device=self._param_device())
        values = values.reshape(-1, *([1] * len(self._batch_shape)))
        return values.expand(self._num_events, *self._batch_shape) if expand else values

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)


class CategoricalEvents(Distribution):
    """The base of the distributions of vectors over the K categories of a Categorical
    (OneHotCategorical, Multinomial), given ``probs`` or ``logits`` as Categorical is:
    ``probs``, ``logits`` and ``param_shape`` are that Categorical's, the event shape is (K,)."""

    _expand_attrs = ("_categorical",)

    def _init_categorical(self, probs, logits, validate_args):
        who = type(self).__name__
        name, given = _weights_arg(who, probs, logits)
        validate = Distribution._validate_args if validate_args is None else validate_args
        if validate:
            Categorical._check_given(self, name, given)  # Categorical's checks, with this class's name in the messages
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=False)
        Distribution.__init__(self, self._categorical.batch_shape, self._categorical.param_shape[-1:],
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
        return self._categorical._param

    def _params(self):
        return self._categorical._params()
