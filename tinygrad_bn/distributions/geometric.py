"""``Geometric(probs=None, logits=None)``: the number of failures before the first
success of Bernoulli trials, as ``torch.distributions.Geometric``."""
from typing import ClassVar

from ..creation import rand
from ..grad_mode import no_grad
from ..ops.elementwise import where
from . import constraints
from .probs_logits import ProbsLogits
from .utils import binary_cross_entropy_with_logits, finfo, outcome_value


class Geometric(ProbsLogits):
    """P(X = k) = (1 - p)^k p for k = 0, 1, 2, ... (failures before the first
    success; ``Tensor.geometric_`` counts trials, 1, 2, ..., as PyTorch's). Give
    ``probs`` (in (0, 1]) or ``logits`` (log-odds), numbers or floating point
    tensors; the other is computed on first use, differentiably. Draws are whole
    numbers in the parameters' dtype: floor(log u / log(1 - p)) with u uniform
    on [tiny, 1).
    """

    arg_constraints: ClassVar[dict] = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        fix = {"probs": "pass probabilities of success in (0, 1], or logits=... for log-odds"}
        self._init_elementwise(probs, logits, validate_args, fix)
        if self._validate_args and self._probs is not None:
            self._check_parameter("probs", self._probs, self._probs.detach() > 0,
                                  "positive (a success probability of 0 never stops)", fix["probs"])

    @property
    def param_shape(self):
        return self._batch_shape

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return self.probs * 0.0

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        with no_grad():
            p = self.probs.detach()
            tiny = float(finfo(p.dtype).tiny)
            u = rand(*shape, dtype=p.dtype, device=p.device).clamp(min=tiny)
            certain = p == 1  # no failure before the first success: 0 (and no log(0) below)
            draws = (u.log() / (-where(certain, 0.5, p)).log1p()).floor()
            return where(certain, 0.0, draws)

    def log_prob(self, value):
        """value log(1 - probs) + log(probs) (0 for value 0 at probs 1)."""
        if self._validate_args:
            self._validate_sample(value)
        probs = self.probs
        value = outcome_value(value, probs)
        # where probs = 1 and value = 0 the first term is 0 (0 * log 0 is NaN); the gradient there is 0 too
        safe = where((probs.detach() == 1) * (value.detach() == 0), 0.0, probs)
        return value * (-safe).log1p() + probs.log()

    def entropy(self):
        """binary_cross_entropy_with_logits(logits, probs) / probs."""
        return binary_cross_entropy_with_logits(self.logits, self.probs) / self.probs
