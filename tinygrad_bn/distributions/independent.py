"""``Independent(base_distribution, reinterpreted_batch_ndims)``: some batch dims of a
distribution read as event dims, as ``torch.distributions.Independent``."""
import numbers

from . import constraints
from .distribution import Distribution
from .utils import sum_rightmost


class Independent(Distribution):
    """The base distribution with its last ``reinterpreted_batch_ndims`` batch
    dims moved into the event: ``log_prob`` and ``entropy`` are summed over
    them (e.g. a diagonal multivariate normal from ``Normal(loc, scale)`` of
    batch shape (3,): ``Independent(normal, 1)`` has batch () and event (3,)).
    Draws, moments and ``has_rsample`` are the base's.
    """

    arg_constraints: dict = {}  # noqa: RUF012 -- PyTorch's class attribute

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        who = "Independent"
        if not isinstance(base_distribution, Distribution):
            raise TypeError(f"{who}: base_distribution must be a Distribution, got "
                            f"{type(base_distribution).__name__}")
        n = reinterpreted_batch_ndims
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"{who}: reinterpreted_batch_ndims must be an int >= 0, got {n!r}")
        base_batch = base_distribution.batch_shape
        if n > len(base_batch):
            raise ValueError(f"{who}: expected reinterpreted_batch_ndims <= the number of batch dims of the base "
                             f"distribution ({len(base_batch)}, batch_shape {tuple(base_batch)}), got {n}")
        shape = base_batch + base_distribution.event_shape
        event_dim = int(n) + len(base_distribution.event_shape)
        self.base_dist = base_distribution
        self.reinterpreted_batch_ndims = int(n)
        super().__init__(shape[:len(shape) - event_dim], shape[len(shape) - event_dim:], validate_args=validate_args)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    @property
    def has_enumerate_support(self):
        return self.reinterpreted_batch_ndims == 0 and self.base_dist.has_enumerate_support

    @property
    def support(self):
        result = self.base_dist.support
        if self.reinterpreted_batch_ndims:
            result = constraints.independent(result, self.reinterpreted_batch_ndims)
        return result

    def _params(self):
        return self.base_dist._params()

    def _param_device(self):
        return self.base_dist._param_device()

    def expand(self, batch_shape, _instance=None):
        shape = self._expanded_batch(batch_shape)
        new = type(self).__new__(type(self)) if _instance is None else _instance
        new.base_dist = self.base_dist.expand(shape + self._event_shape[:self.reinterpreted_batch_ndims])
        new.reinterpreted_batch_ndims = self.reinterpreted_batch_ndims
        Distribution.__init__(new, shape, self._event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def mode(self):
        return self.base_dist.mode

    @property
    def variance(self):
        return self.base_dist.variance

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        """The base's log_prob summed over the reinterpreted dims."""
        if self._validate_args:
            self._validate_sample(value)
        return sum_rightmost(self.base_dist.log_prob(value), self.reinterpreted_batch_ndims)

    def entropy(self):
        return sum_rightmost(self.base_dist.entropy(), self.reinterpreted_batch_ndims)

    def enumerate_support(self, expand=True):
        if self.reinterpreted_batch_ndims > 0:
            raise NotImplementedError("Independent.enumerate_support: enumerating the cartesian product of "
                                      f"{self.reinterpreted_batch_ndims} reinterpreted dims is not implemented "
                                      "(as in PyTorch)")
        return self.base_dist.enumerate_support(expand=expand)

    def __repr__(self):
        return f"{type(self).__name__}({self.base_dist!r}, {self.reinterpreted_batch_ndims})"
