"""``Multinomial(total_count=1, probs=None, logits=None)``: counts of K categories in
``total_count`` draws, as ``torch.distributions.Multinomial``."""
import numbers
from typing import ClassVar

from ..creation import arange, tensor, zeros
from ..device import Size
from ..ops.elementwise import where
from ..tensor import Tensor
from . import constraints
from .binomial import Binomial
from .categorical import CategoricalEvents
from .utils import outcome_value


class Multinomial(CategoricalEvents):
    """Count vectors of size K (the last dim of ``probs`` or ``logits``,
    normalized as Categorical's) summing to ``total_count`` (an int >= 0),
    in the parameters' dtype; the event shape is (K,). ``sample`` counts
    ``total_count`` Categorical draws; ``log_prob`` takes any count vector
    (its own total), as PyTorch's.
    """

    arg_constraints: ClassVar[dict] = {"probs": constraints.simplex, "logits": constraints.real_vector}
    _expand_copies = ("total_count",)

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        who = "Multinomial"
        if isinstance(total_count, Tensor):
            raise NotImplementedError(f"{who}: a tensor total_count (one per distribution) is not supported, as in "
                                      "PyTorch; pass an int")
        if isinstance(total_count, bool) or not isinstance(total_count, numbers.Integral):
            raise TypeError(f"{who}: total_count must be an int, got {type(total_count).__name__} {total_count!r}")
        if total_count < 0:
            raise ValueError(f"{who}: total_count must be >= 0 (the number of draws), got {total_count}")
        self.total_count = int(total_count)
        self._init_categorical(probs, logits, validate_args)

    @property
    def _binomial(self):
        return Binomial(self.total_count, probs=self.probs, validate_args=False)

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    def __repr__(self):
        name, t = self._params()[0]
        return f"Multinomial(total_count: {self.total_count}, {name}: {Size(t.shape)!r})"

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        k = self._event_shape[0]
        dtype = self._param.dtype
        if self.total_count == 0 or shape.numel() == 0:
            return zeros(*shape, dtype=dtype, device=self._param.device)
        sample_shape = shape[:len(shape) - len(self._batch_shape) - 1]
        draws = self._categorical.sample((self.total_count, *sample_shape))  # (n,) + sample_shape + batch_shape
        return (draws.unsqueeze(-1) == arange(k, device=draws.device)).to(dtype).sum(0)

    def log_prob(self, value):
        """log(n!) - sum log(value_k!) + sum value_k log p_k, n = the value's own total."""
        if self._validate_args:
            self._validate_sample(value)
        logits = self.logits
        value = outcome_value(value, logits)
        # a category of probability 0 (logit -inf) counted 0 times adds 0, not NaN
        safe = where((value.detach() == 0) * (logits.detach() == float("-inf")), 0.0, logits)
        return (value.sum(-1) + 1).lgamma() - (value + 1).lgamma().sum(-1) + (safe * value).sum(-1)

    def entropy(self):
        """n H(categorical) - log n! + sum_k E[log(x_k!)], x_k ~ Binomial(n, p_k) (PyTorch's formula)."""
        n = self.total_count
        param = self._param
        term1 = n * self._categorical.entropy() - tensor(float(n + 1), dtype=param.dtype, device=param.device).lgamma()
        if n == 0:
            return term1
        binomial = self._binomial
        support = binomial.enumerate_support(expand=False)[1:]
        weights = (support + 1).lgamma()
        return term1 + (binomial.log_prob(support).exp() * weights).sum(0).sum(-1)
