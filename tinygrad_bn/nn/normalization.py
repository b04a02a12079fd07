"""Normalization layers with PyTorch's arguments, semantics and state dict keys."""

from . import functional as F
from ..arguments import number_arg
from ..dtypes import as_dtype, is_float
from .module import Module
from .parameter import Parameter
from ..creation import ones, tensor, zeros
from ..dtypes import int64
from ..tensor import Tensor
from ..tensor_base import write_in_place


class _NormBase(Module):
    """Batch and instance norm: affine parameters and running statistics.

    weight (gamma) starts at 1, bias (beta) at 0, running_mean at 0, running_var at 1.
    momentum m: running = (1 - m) * running + m * batch; momentum=None uses a
    cumulative average (m = 1 / num_batches_tracked).
    """

    expected_ndims = ()
    default_affine = True
    default_track = True

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=None, track_running_stats=None, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        name = type(self).__name__
        number_arg(name, "num_features", num_features, 1, integer=True)
        number_arg(name, "momentum", momentum, 0.0, 1.0, allow_none=True)
        dtype = _float_dtype(self, dtype)
        self.num_features, self.eps, self.momentum = int(num_features), _positive_eps(self, eps), momentum
        self.affine = self.default_affine if affine is None else bool(affine)
        self.track_running_stats = self.default_track if track_running_stats is None else bool(track_running_stats)
        device = device or "cpu"
        _affine_parameters(self, (num_features,), self.affine, bias, dtype, device)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        if self.track_running_stats:
            write_in_place(self.running_mean, "fill", 0)
            write_in_place(self.running_var, "fill", 1)
            write_in_place(self.num_batches_tracked, "fill", 0)

    def _check_input(self, x):
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(x).__name__}; make one with tinygrad_bn.tensor(...)")
        if x.ndim not in self.expected_ndims:
            dims = " or ".join(f"{d}D" for d in self.expected_ndims)
            raise ValueError(f"{name}: expected {dims} input, got {x.ndim}D input of shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(
                f"{name}: expected {self.num_features} channels (dim 1) but the input of shape "
                f"{x.shape} has {x.shape[1]}; build the layer with num_features={x.shape[1]} or fix the input"
            )

    def _momentum(self):
        """The averaging factor for this step (momentum=None: 1 / batches so far)."""
        if self.momentum is None:
            tracking = self.training and self.track_running_stats
            return 1.0 / (int(self.num_batches_tracked.item()) + 1) if tracking else 0.0
        return self.momentum

    def _count_batch(self):
        # after the functional call succeeded, so a rejected input changes no state
        if self.training and self.track_running_stats:
            write_in_place(self.num_batches_tracked, "iadd", 1)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    _optional_state = {"num_batches_tracked": 0}  # load_state_dict fills it in when absent, as PyTorch

    def forward(self, x):
        self._check_input(x)
        momentum = self._momentum()
        # eval() uses the running statistics when there are any; without them
        # (track_running_stats=False) batch statistics are used in both modes
        use_batch_stats = self.training or self.running_mean is None
        track = self.track_running_stats and self.training
        out = F.batch_norm(x, self.running_mean if track or not use_batch_stats else None,
                           self.running_var if track or not use_batch_stats else None,
                           self.weight, self.bias, use_batch_stats, momentum, self.eps)
        self._count_batch()
        return out


class BatchNorm1d(_BatchNorm):
    """Batch norm of (N, C) or (N, C, L) over N (and L), per channel C.

    y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta, with the batch's mean and
    biased variance in training and the running statistics in eval mode.
    running_var takes the unbiased batch variance.
    """

    expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of (N, C, H, W) over N, H and W, per channel C."""

    expected_ndims = (4,)


class _BatchRenorm(_NormBase):
    """Batch renormalization (Ioffe, 2017): see ``BatchRenorm1d``."""

    _optional_state = _BatchNorm._optional_state  # load_state_dict fills it in when absent, as PyTorch

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, r_max=1.0,
                 d_max=0.0, warmup=None, device=None, dtype=None, *, bias=True):
        name = type(self).__name__
        F.check_renorm_limits(name, r_max, d_max)
        if not track_running_stats:
            raise ValueError(f"{name}: track_running_stats=False is not supported: r and d compare the batch's "
                             "statistics with the running ones (use BatchNorm for batch statistics alone)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype, bias=bias)
        self.r_max, self.d_max = float(r_max), float(d_max)
        self.warmup = _warmup_arg(name, warmup)

    def _limits_at(self, step):
        """(r_max, d_max) for the batch after ``step`` tracked ones."""
        if self.warmup is None:
            return self.r_max, self.d_max
        start, r_ramp, d_ramp = self.warmup

        def ramp(steps):
            if step < start:
                return 0.0
            return 1.0 if steps == 0 else min(1.0, (step - start) / steps)

        return 1.0 + (self.r_max - 1.0) * ramp(r_ramp), self.d_max * ramp(d_ramp)

    @property
    def current_r_max(self):
        """The r_max the next training batch uses (the warm-up schedule at num_batches_tracked)."""
        return self._limits_at(self._step())[0]

    @property
    def current_d_max(self):
        """The d_max the next training batch uses (the warm-up schedule at num_batches_tracked)."""
        return self._limits_at(self._step())[1]

    def _step(self):
        return 0 if self.warmup is None else int(self.num_batches_tracked.item())

    def forward(self, x):
        self._check_input(x)
        r_max, d_max = self._limits_at(self._step()) if self.training else (self.r_max, self.d_max)
        out = F.batch_renorm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                             self._momentum(), self.eps, r_max, d_max)
        self._count_batch()
        return out

    def extra_repr(self):
        return (super().extra_repr() + f", r_max={self.r_max}, d_max={self.d_max}"
                + ("" if self.warmup is None else f", warmup={self.warmup}"))


def _warmup_arg(name, warmup):
    """None, (start_step, ramp_steps) or (start_step, r_ramp_steps, d_ramp_steps), non-negative ints, as
    (start, r_ramp, d_ramp)."""
    if warmup is None:
        return None
    if not isinstance(warmup, (tuple, list)) or len(warmup) not in (2, 3):
        raise ValueError(f"{name}: warmup must be None, (start_step, ramp_steps) or "
                         f"(start_step, r_ramp_steps, d_ramp_steps), got {warmup!r}")
    for i, v in enumerate(warmup):
        number_arg(name, f"warmup[{i}]", v, 0, integer=True)
    steps = tuple(int(v) for v in warmup)
    return steps if len(steps) == 3 else (steps[0], steps[1], steps[1])


class BatchRenorm1d(_BatchRenorm):
    """Batch renormalization (Ioffe, 2017) of (N, C) or (N, C, L) over N (and L), per channel C.

    In training, y = (x_hat * r + d) * gamma + beta with the batch's x_hat and
    r = clip(sigma_B / sigma, 1 / r_max, r_max), d = clip((mu_B - mu) / sigma, -d_max, d_max)
    against the running statistics (sigma = sqrt(running_var + eps)); r and d carry
    no gradient. The running statistics update as BatchNorm1d's. In eval mode it is
    BatchNorm1d's eval. r_max=1 and d_max=0 (the defaults) make it BatchNorm1d.

    ``warmup``: None (the limits apply from the first batch), or
    ``(start_step, ramp_steps)`` or ``(start_step, r_ramp_steps, d_ramp_steps)``:
    the paper's schedule over ``num_batches_tracked`` (t): r_max = 1 and
    d_max = 0 while t < start_step, then both grow linearly to ``r_max`` and
    ``d_max``, reached at t = start_step + ramp_steps (the paper: r_max 1 -> 3
    and d_max 0 -> 5 from 5k steps, reached at 40k and 25k, is
    ``r_max=3, d_max=5, warmup=(5000, 35000, 20000)``). ``current_r_max`` and
    ``current_d_max`` are the limits the next training batch uses.
    ``track_running_stats`` must be True. The state dict is BatchNorm1d's.
    """

    expected_ndims = (2, 3)


class BatchRenorm2d(_BatchRenorm):
    """Batch renormalization of (N, C, H, W) over N, H and W, per channel C (see ``BatchRenorm1d``)."""

    expected_ndims = (4,)


class _InstanceNorm(_NormBase):
    default_affine = False
    default_track = False

    def forward(self, x):
        self._check_input(x)
        # as PyTorch's: momentum=None passes 0 (the buffers keep their values), and
        # num_batches_tracked is never counted, so state dicts match PyTorch's
        momentum = 0.0 if self.momentum is None else self.momentum
        use_input_stats = self.training or self.running_mean is None
        return F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                               use_input_stats, momentum, self.eps)


class InstanceNorm1d(_InstanceNorm):
    """Instance norm of (N, C, L): each channel of each sample over L.
    affine and track_running_stats default to False, as in PyTorch."""

    expected_ndims = (3,)


class InstanceNorm2d(_InstanceNorm):
    """Instance norm of (N, C, H, W): each channel of each sample over H and W."""

    expected_ndims = (4,)


class LayerNorm(Module):
    """Layer norm over the trailing dims ``normalized_shape`` of each sample.

    y = (x - E[x]) / sqrt(Var[x] + eps) * gamma + beta, statistics per sample,
    gamma and beta of shape ``normalized_shape`` (when ``elementwise_affine``;
    ``bias=False`` drops beta).
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = F.normalized_shape_arg(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine = _positive_eps(self, eps), elementwise_affine
        dtype = _float_dtype(self, dtype)
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype, device or "cpu")

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """RMS norm over the trailing dims ``normalized_shape`` of each sample, as ``torch.nn.RMSNorm``.

    y = x / sqrt(mean(x^2) + eps) * weight, the mean over ``normalized_shape``;
    weight (when ``elementwise_affine``) has that shape and starts at 1; there is
    no bias. ``eps=None`` (kept as None) is the machine epsilon of the input's
    compute dtype at each call (see ``functional.rms_norm``).
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = F.normalized_shape_arg(normalized_shape, "RMSNorm")
        self.eps = None if eps is None else _positive_eps(self, eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype = _float_dtype(self, dtype)
        if self.elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype, device=device or "cpu"))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self):
        if self.weight is not None:
            write_in_place(self.weight, "fill", 1)

    def forward(self, x):
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group norm of (N, C, *): channels split into ``num_groups`` groups,
    statistics per sample and group, gamma and beta per channel."""

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        number_arg("GroupNorm", "num_channels", num_channels, 1, integer=True)
        F.check_groups(num_groups, num_channels, "GroupNorm")
        dtype = _float_dtype(self, dtype)
        self.num_groups, self.num_channels, self.eps, self.affine = (int(num_groups), int(num_channels),
                                                                      _positive_eps(self, eps), affine)
        _affine_parameters(self, (num_channels,), affine, bias, dtype, device or "cpu")

    def forward(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"GroupNorm: expected a Tensor input, got {type(x).__name__}; make one with tinygrad_bn.tensor(...)")
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(
                f"GroupNorm: expected input (N, {self.num_channels}, *), got shape {x.shape}"
            )
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.bias is not None}"


def _affine_parameters(module, shape, affine, bias, dtype, device):
    """gamma (ones) and beta (zeros) of ``shape`` on ``device`` when ``affine``, beta
    left out for ``bias=False`` (PyTorch's keyword); the slots registered as None otherwise."""
    module.register_parameter("weight", Parameter(ones(*shape, dtype=dtype, device=device)) if affine else None)
    module.register_parameter("bias", Parameter(zeros(*shape, dtype=dtype, device=device)) if affine and bias else None)


def _positive_eps(module, eps):
    """eps as a float, or an error: 0 divides by zero on constant input and a
    negative eps gives NaN, which would be blamed on the input."""
    return float(number_arg(type(module).__name__, "eps", eps, 0.0, low_open=True))


def _float_dtype(module, dtype):
    """The parameters' dtype: None (the default float) or a floating point dtype."""
    if dtype is None:
        return None
    dtype = as_dtype(dtype, type(module).__name__)
    if not is_float(dtype):
        raise TypeError(f"{type(module).__name__}: dtype must be a floating point type, got {dtype}")
    return dtype
