"""``Bernoulli(probs=None, logits=None)``: 1 with probability ``probs``, else 0,
as ``torch.distributions.Bernoulli``."""
from typing import ClassVar

from ..creation import arange, rand
from ..grad_mode import no_grad
from ..ops.elementwise import where
from . import constraints
from .probs_logits import ProbsLogits
from .utils import binary_cross_entropy_with_logits


class Bernoulli(ProbsLogits):
    """Draws of 1.0 with probability ``probs`` and 0.0 otherwise (floats of the
    parameters' dtype). Give ``probs`` (in [0, 1]) or ``logits`` (log-odds,
    probs = sigmoid(logits)), numbers or floating point tensors; the other is
    computed on first use, differentiably, as in PyTorch (probs are clamped to
    [eps, 1 - eps] before taking log-odds).
    """

    has_enumerate_support = True
    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        fixes = {"probs": "pass logits=... instead for log-odds (probs = sigmoid(logits))"}
        self._init_elementwise(probs, logits, validate_args, fixes)

    @property
    def param_shape(self):
        return self._batch_shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """1 where probs > 1/2, 0 where below, NaN at exactly 1/2 (two modes), as PyTorch."""
        p = self.probs
        return where(p == 0.5, float("nan"), (p > 0.5).to(p.dtype))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            p = self.probs.detach()
            # u < p with u uniform on [0, 1): 1 with probability p exactly (never for p = 0, always for p = 1)
            return (rand(*shape, dtype=p.dtype, device=p.device) < p).to(p.dtype)

    def log_prob(self, value):
        """value * logits - softplus(logits) (= -binary_cross_entropy_with_logits)."""
        if self._validate_args:
            self._validate_sample(value)
        logits = self.logits
        if hasattr(value, "dtype") and value.dtype != logits.dtype:
            if value.dtype.kind in "biu":  # 0/1 outcomes as integers or bools (PyTorch refuses these)
                value = value.to(logits.dtype)
            else:  # PyTorch's binary_cross_entropy_with_logits computes in the target's dtype
                logits = logits.to(value.dtype)
        return -binary_cross_entropy_with_logits(logits, value)

    def entropy(self):
        return binary_cross_entropy_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        """tensor([0., 1.]) shaped (2, 1, ..., 1), expanded to (2,) + batch_shape when ``expand``."""
        param = self._param
        values = arange(2, dtype=param.dtype, device=param.device).reshape(-1, *([1] * len(self._batch_shape)))
        return values.expand(2, *self._batch_shape) if expand else values
