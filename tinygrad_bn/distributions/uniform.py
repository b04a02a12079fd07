"""``Uniform(low, high)``: the continuous uniform distribution on [low, high), as
``torch.distributions.Uniform``."""
from ..creation import rand
from ..ops.elementwise import where
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

_SQRT_12 = 12 ** 0.5


class Uniform(Distribution):
    """Uniform on the half-open interval [``low``, ``high``) (numbers or floating
    point tensors, broadcast together; the batch shape is theirs). ``rsample``
    is reparameterized (low + u * (high - low), u uniform on [0, 1) from the
    device's generator), so gradients reach low and high.

    ``log_prob`` is -log(high - low) inside [low, high) and -inf outside (the
    support checked under ``validate_args`` is the closed [low, high], as PyTorch's);
    ``mode`` is NaN (every point is one), as in PyTorch.
    """

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all("Uniform", low=low, high=high)
        super().__init__(self.low.shape, validate_args=validate_args)
        if self._validate_args:
            self._check_parameters({"low": "give each low below its high (the interval is [low, high))"},
                                   low=self.low, high=self.high)

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high, text="less than high"),
                "high": constraints.greater_than(self.low, text="greater than low")}

    @property
    def support(self):
        return constraints.interval(self.low, self.high, text="in [low, high]")

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return float("nan") * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / _SQRT_12

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=()):
        shape = self._extended_shape(sample_shape)
        u = rand(*shape, dtype=self.low.dtype, device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        """-log(high - low) where low <= value < high, else -inf."""
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low.detach() <= value.detach()) * (self.high.detach() > value.detach())
        return where(inside, -(self.high - self.low).log(), float("-inf"))

    def cdf(self, value):
        """(value - low) / (high - low), clamped to [0, 1]."""
        if self._validate_args:
            self._validate_sample(value, "cdf")
        return ((value - self.low) / (self.high - self.low)).clamp(min=0, max=1)

    def icdf(self, value):
        """low + value * (high - low)."""
        return value * (self.high - self.low) + self.low

    def entropy(self):
        """log(high - low)."""
        return (self.high - self.low).log()
