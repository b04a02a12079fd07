"""``Binomial(total_count=1, probs=None, logits=None)``: the number of successes in
``total_count`` Bernoulli trials, as ``torch.distributions.Binomial``."""
from typing import ClassVar

from .. import dtypes
from ..creation import arange
from ..dtypes import is_float
from ..grad_mode import no_grad
from ..tensor import Tensor
from . import constraints
from .draws import binomial
from .probs_logits import ProbsLogits
from .utils import broadcast_all, one_parameter, outcome_value


def _clamp_by_zero(x):
    """max(x, 0) with gradient 1/2 at 0 (PyTorch's helper)."""
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(ProbsLogits):
    """Successes in ``total_count`` trials of probability ``probs`` (or log-odds
    ``logits``), broadcast together; ``total_count`` is a whole number >= 0 (an
    int, a float or a tensor of them; it takes the parameters' dtype). Draws are
    whole numbers in that dtype, from the device's generator (on the host, as
    ``tinygrad_bn.poisson``). ``entropy`` and ``enumerate_support`` need one
    total_count for the whole batch, as in PyTorch.
    """

    has_enumerate_support = True
    arg_constraints: ClassVar[dict] = {"total_count": constraints.nonnegative_integer,
                                       "probs": constraints.unit_interval, "logits": constraints.real}
    _expand_attrs = ("total_count", *ProbsLogits._expand_attrs)

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        who = "Binomial"
        name, given = one_parameter(who, probs, logits)
        if isinstance(total_count, Tensor) and not is_float(total_count.dtype):
            dtype = given.dtype if isinstance(given, Tensor) and is_float(given.dtype) else dtypes.default_float
            total_count = total_count.to(dtype)
        elif isinstance(total_count, Tensor) and isinstance(given, Tensor) and is_float(given.dtype):
            total_count = total_count.to(given.dtype)  # PyTorch: total_count.type_as(probs)
        self.total_count, param = broadcast_all(who, total_count=total_count, **{name: given})
        self._keep(name, param)
        super().__init__(param.shape, validate_args=validate_args)
        if self._validate_args:
            fixes = {"total_count": "pass the number of trials, a whole number >= 0",
                     "probs": "pass logits=... instead for log-odds (probs = sigmoid(logits))"}
            self._check_parameters(fixes, total_count=self.total_count, **{name: param})

    def _params(self):
        return [("total_count", self.total_count), *super()._params()]

    @property
    def support(self):
        n = self.total_count
        text = None if n.numel() == 1 else "whole numbers 0 .. total_count"
        return constraints.integer_interval(0, n, text=text)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        """floor((total_count + 1) probs), at most total_count."""
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            return binomial("Binomial.sample", self.total_count.expand(*shape), self.probs.detach().expand(*shape))

    def log_prob(self, value):
        """log C(n, value) + value logits - n log(1 + exp(logits)), written stably as PyTorch's."""
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        value = outcome_value(value, logits)
        normalize = n * _clamp_by_zero(logits) + n * (-logits.abs()).exp().log1p() - (n + 1).lgamma()
        return value * logits - (value + 1).lgamma() - (n - value + 1).lgamma() - normalize

    def _homogeneous_count(self, op):
        n = self.total_count.detach()
        if n.numel() == 0:
            return 0
        top, bottom = float(n.max().item()), float(n.min().item())
        if top != bottom:
            raise NotImplementedError(f"Binomial.{op}: total_count differs across the batch (from {bottom:g} to "
                                      f"{top:g}); {op} needs one total_count, as in PyTorch")
        return int(top)

    def entropy(self):
        """-sum_k P(k) log P(k) over k = 0 .. total_count (one total_count for the batch)."""
        self._homogeneous_count("entropy")
        log_pmf = self.log_prob(self.enumerate_support(expand=False))
        return -(log_pmf.exp() * log_pmf).sum(0)

    def enumerate_support(self, expand=True):
        """0, 1, ..., total_count shaped (n + 1, 1, ..., 1), expanded to (n + 1,) + batch_shape when ``expand``."""
        n = self._homogeneous_count("enumerate_support")
        param = self._param
        values = arange(n + 1, dtype=param.dtype, device=param.device).reshape(-1, *([1] * len(self._batch_shape)))
        return values.expand(n + 1, *self._batch_shape) if expand else values
