"""Stateless forms of the layers, with ``torch.nn.functional``'s signatures.
Argument checks live here once; the modules store their settings and call them."""
import numbers

from ..arguments import devices_differ, float_tensor_arg, number_arg, tensor_arg
from ..dtypes import finfo, float16
from ..ops import linalg as L
from ..ops import norm as BN
from ..ops.elementwise import where
from ..tensor import Tensor
from ..tensor_base import array_of, backend_of, make_tensor, same_device, write_in_place
from .activation_functional import softmax_dim_and_input as _softmax_dim_and_input
from .class_losses import cross_entropy, nll_loss  # noqa: F401  (F.cross_entropy, F.nll_loss)
from .loss_functional import mse_loss  # noqa: F401  (F.mse_loss)


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, one op on the tape."""
    tensor_arg("linear", input)
    tensor_arg("linear", weight, "weight")
    if bias is not None:
        tensor_arg("linear", bias, "bias")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-d (out_features, in_features), got shape {weight.shape}")
    if input.ndim < 1:
        raise ValueError(f"linear: input must have at least 1 dim (..., {weight.shape[1]}), got shape {input.shape}")
    if input.dtype != weight.dtype:
        raise TypeError(
            f"linear: input dtype {input.dtype} does not match weight dtype {weight.dtype}; "
            f"convert the input with .to({weight.dtype}) (or the module with .to(...))"
        )
    if input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input has {input.shape[-1]} features (shape {input.shape}) but the weight "
            f"expects {weight.shape[1]} (weight shape {weight.shape})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias shape {bias.shape} does not match {weight.shape[0]} output features")
    return L.Linear.apply(input, weight, bias)


def relu(input, inplace=False):
    """max(input, 0); with ``inplace`` it overwrites input and returns it, as PyTorch."""
    tensor_arg("relu", input)
    return input.relu_() if inplace else input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    tensor_arg("leaky_relu", input)
    number_arg("leaky_relu", "negative_slope", negative_slope)
    return input.leaky_relu_(negative_slope) if inplace else input.leaky_relu(negative_slope)


def gelu(input, approximate="none"):
    tensor_arg("gelu", input)
    return input.gelu(approximate)


def check_dropout_p(p, who="dropout"):
    number_arg(who, "p", p, 0.0, 1.0)


def sigmoid(input):
    tensor_arg("sigmoid", input)
    return input.sigmoid()


def tanh(input):
    tensor_arg("tanh", input)
    return input.tanh()


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along ``dim``. With dim=None, PyTorch's deprecated implicit
    choice (0 for 0-, 1- and 3-dim inputs, else 1) with a warning. ``dtype`` casts the input first."""
    tensor_arg("softmax", input)
    dim, input = _softmax_dim_and_input("softmax", input, dim, dtype, _stacklevel)
    return input.softmax(dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along ``dim``, as ``softmax`` takes its arguments."""
    tensor_arg("log_softmax", input)
    dim, input = _softmax_dim_and_input("log_softmax", input, dim, dtype, _stacklevel)
    return input.log_softmax(dim)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability p and scale the rest by 1/(1-p);
    ``inplace`` writes the result into ``input`` (a version bump, as PyTorch's)."""
    tensor_arg("dropout", input)
    check_dropout_p(p)
    if not training or p == 0.0:
        return input
    _floating_for_dropout("dropout", input)
    if p == 1.0:
        out = input * 0.0
    else:
        be = backend_of(input)
        mask = be.bernoulli_mask(1.0 - p, input.shape, input.dtype)
        out = input * make_tensor(be.mul(mask, 1.0 / (1.0 - p)), be)
    return input.copy_(out) if inplace else out


def _floating_for_dropout(who, input):
    """Dropout in training scales by 1 / (1 - p), a float: PyTorch refuses an integer input there."""
    if input.dtype.kind != "f":
        raise RuntimeError(f"{who}: cannot drop out of a {input.dtype} input in training (the kept values are "
                           "scaled by 1 / (1 - p)); expected a floating point input (x.float())")


# ---------------------------------------------------------------- normalization

def _check_norm_input(who, input, min_ndim):
    float_tensor_arg(who, input)
    if input.ndim < min_ndim:
        raise ValueError(f"{who}: expected an input with at least {min_ndim} dims (N, C, ...), got shape {input.shape}")
    if input.numel() == 0:
        raise ValueError(f"{who}: got an empty input of shape {input.shape}; every dimension must be at least 1")


def _check_param(who, name, t, shape, input=None):
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{who}: {name} must be a Tensor or None, got {type(t).__name__}")
    if input is not None and not same_device(t, input):
        raise devices_differ(who, input.device, t.device, f"the input and {name}")
    if t.dtype.kind != "f":
        raise TypeError(f"{who}: {name} must be floating point, got dtype {t.dtype}")
    if t.shape != tuple(shape):
        raise ValueError(f"{who}: {name} has shape {t.shape}, expected {tuple(shape)} for this input")


def _check_running(who, input, running_mean, running_var, channels):
    """Both running buffers or neither, each (C,), floating, on the input's device:
    checked before anything is written."""
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        _check_param(who, name, t, (channels,), input)
    if (running_mean is None) != (running_var is None):
        given, missing = ("running_mean", "running_var") if running_var is None else ("running_var", "running_mean")
        raise ValueError(f"{who}: {given} was given but {missing} is None; pass both running buffers "
                         "(to track statistics) or neither")


def _update_running(running, batch_value, momentum):
    """running = (1 - momentum) * running + momentum * batch, in place (a buffer).
    Where the batch's statistic is not finite the buffer keeps its value: on a
    device that checks later (CUDA) the op has not raised yet, and state must
    not turn NaN (the CPU raised before getting here)."""
    be = backend_of(running)
    old = be.cast(array_of(running), "float64")
    new = be.add(be.mul(old, 1.0 - momentum), be.mul(batch_value, momentum))
    if be.defers_checks:
        new = be.where(be.isfinite(batch_value), new, old)
    write_in_place(running, "copyto", new)


def _in_kernel_dtype(input):
    """The input as the norm kernels take it: float16 runs in float32 (PyTorch's
    CPU kernels also compute half in float), recorded as a cast so gradients flow
    back in float16; the caller casts the output back with ``_as_input_dtype``."""
    return input.float() if input.dtype == float16 else input


def _as_input_dtype(out, input):
    return out.to(input.dtype) if out.dtype != input.dtype else out


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch norm of (N, C, *) over every axis but C, as ``torch.nn.functional.batch_norm``.

    In training, normalizes with the batch mean and biased variance and, when
    running buffers are given, updates them in place:
    running = (1 - momentum) * running + momentum * batch, with the unbiased
    batch variance for running_var. Otherwise normalizes with the running statistics.
    """
    who = "batch_norm"
    _check_norm_input(who, input, 2)
    check_momentum_eps(who, momentum, eps)
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        _check_param(who, name, t, (channels,), input)
    _check_running(who, input, running_mean, running_var, channels)
    count = input.numel() // channels
    if training and count <= 1:
        raise ValueError(f"{who}: expected more than 1 value per channel when training, got input size {input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{who}: running_mean and running_var are needed when training=False")
    out = BN.BatchNorm.apply(_in_kernel_dtype(input), weight, bias,
                             None if running_mean is None else array_of(running_mean),
                             None if running_var is None else array_of(running_var),
                             bool(training), float(eps))
    if not training:
        return _as_input_dtype(out, input)
    out, mean, var = out
    out = _as_input_dtype(out, input)
    if running_mean is not None:
        be = backend_of(input)
        _update_running(running_mean, array_of(mean), momentum)
        _update_running(running_var, be.mul(array_of(var), count / (count - 1)), momentum)
    return out


def check_renorm_limits(who, r_max, d_max):
    """r_max a finite number >= 1, d_max a finite number >= 0."""
    number_arg(who, "r_max", r_max, 1.0)
    number_arg(who, "d_max", d_max, 0.0)


def batch_renorm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5,
                 r_max=1.0, d_max=0.0):
    """Batch renormalization (Ioffe, 2017) of (N, C, *) over every axis but C.

    In training, with the batch mean mu_B and std sigma_B = sqrt(biased var + eps)
    per channel and the running ones, mu = running_mean and
    sigma = sqrt(running_var + eps):
    r = clip(sigma_B / sigma, 1 / r_max, r_max), d = clip((mu_B - mu) / sigma, -d_max, d_max),
    y = ((x - mu_B) / sigma_B * r + d) * weight + bias, with r and d constants of the
    backward (no gradient flows through them); then the running buffers are
    updated in place as ``batch_norm``'s (momentum, unbiased variance). In eval,
    y = (x - mu) / sigma * weight + bias, as ``batch_norm``'s eval. With
    r_max=1 and d_max=0 (r = 1, d = 0) it is ``batch_norm`` exactly.
    The running buffers are needed in both modes (r and d compare with them).
    """
    who = "batch_renorm"
    _check_norm_input(who, input, 2)
    check_momentum_eps(who, momentum, eps)
    check_renorm_limits(who, r_max, d_max)
    channels = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias)):
        _check_param(who, name, t, (channels,), input)
    _check_running(who, input, running_mean, running_var, channels)
    if running_mean is None:
        raise ValueError(f"{who}: running_mean and running_var are needed (r and d compare the batch's "
                         "statistics with them); pass both running buffers")
    if not training:
        return _as_input_dtype(BN.BatchNorm.apply(_in_kernel_dtype(input), weight, bias, array_of(running_mean),
                                                  array_of(running_var), False, float(eps)), input)
    count = input.numel() // channels
    if count <= 1:
        raise ValueError(f"{who}: expected more than 1 value per channel when training, got input size {input.shape}")
    out, mean, var, _, _ = BN.BatchRenorm.apply(_in_kernel_dtype(input), weight, bias, array_of(running_mean),
                                                array_of(running_var), float(eps), float(r_max), float(d_max))
    out = _as_input_dtype(out, input)
    be = backend_of(input)
    _update_running(running_mean, array_of(mean), momentum)
    _update_running(running_var, be.mul(array_of(var), count / (count - 1)), momentum)
    return out


def check_momentum_eps(who, momentum, eps):
    """eps a positive finite number; momentum in [0, 1] (or None: a cumulative average)."""
    number_arg(who, "eps", eps, 0.0, low_open=True)
    number_arg(who, "momentum", momentum, 0.0, 1.0, allow_none=True)


def normalized_shape_arg(normalized_shape, who="layer_norm"):
    """``normalized_shape`` as a tuple of positive ints."""
    if isinstance(normalized_shape, (str, bytes, bool)) or not isinstance(normalized_shape,
                                                                          (numbers.Integral, tuple, list)):
        raise TypeError(f"{who}: normalized_shape must be an int or a tuple of ints, got "
                        f"{type(normalized_shape).__name__} {normalized_shape!r}")
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    if any(isinstance(n, bool) for n in shape):  # a bool is no size, as in PyTorch
        raise TypeError(f"{who}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    if not shape or any(not isinstance(n, numbers.Integral) or n <= 0 for n in shape):
        raise ValueError(f"{who}: normalized_shape must be positive ints, got {normalized_shape!r}")
    return tuple(int(n) for n in shape)


def check_groups(num_groups, channels, who="group_norm"):
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral) or num_groups <= 0:
        raise ValueError(f"{who}: num_groups must be a positive int, got {num_groups!r}")
    if channels % num_groups:
        raise ValueError(
            f"{who}: num_channels ({channels}) must be divisible by num_groups ({num_groups}); "
            "pick a num_groups that divides the channel count"
        )


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer norm over the trailing dims ``normalized_shape``, as ``torch.nn.functional.layer_norm``."""
    who = "layer_norm"
    normalized_shape = normalized_shape_arg(normalized_shape, who)
    check_momentum_eps(who, None, eps)
    _check_norm_input(who, input, 1)
    nd = len(normalized_shape)
    if nd == 0 or input.shape[input.ndim - nd:] != normalized_shape or input.ndim < nd:
        raise ValueError(
            f"{who}: normalized_shape {normalized_shape} must match the last dims of the input, "
            f"got input shape {input.shape}"
        )
    _check_param(who, "weight", weight, normalized_shape, input)
    _check_param(who, "bias", bias, normalized_shape, input)
    return _as_input_dtype(BN.LayerNorm.apply(_in_kernel_dtype(input), weight, bias, nd, float(eps)), input)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """RMS norm over the trailing dims ``normalized_shape``, as ``torch.nn.functional.rms_norm``:
    y = x / sqrt(mean(x^2 over those dims) + eps) * weight (no mean is subtracted, no bias).

    ``eps=None`` is the machine epsilon of the dtype the input is computed in, as in
    PyTorch: ``finfo(input.dtype).eps`` for float32 and float64, float32's for float16
    (which, as everywhere here and in PyTorch's kernels, is computed in float32)."""
    who = "rms_norm"
    normalized_shape = normalized_shape_arg(normalized_shape, who)
    number_arg(who, "eps", eps, 0.0, low_open=True, allow_none=True)
    _check_norm_input(who, input, 1)
    nd = len(normalized_shape)
    if input.ndim < nd or input.shape[input.ndim - nd:] != normalized_shape:
        raise ValueError(
            f"{who}: normalized_shape {normalized_shape} must match the last dims of the input, "
            f"got input shape {input.shape}"
        )
    _check_param(who, "weight", weight, normalized_shape, input)
    x = _in_kernel_dtype(input)
    eps = float(finfo(x.dtype).eps) if eps is None else float(eps)
    return _as_input_dtype(BN.RMSNorm.apply(x, weight, nd, eps), input)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group norm of (N, C, *) with ``num_groups`` groups, as ``torch.nn.functional.group_norm``."""
    who = "group_norm"
    _check_norm_input(who, input, 2)
    check_momentum_eps(who, None, eps)
    channels = input.shape[1]
    check_groups(num_groups, channels, who)
    _check_param(who, "weight", weight, (channels,), input)
    _check_param(who, "bias", bias, (channels,), input)
    return _as_input_dtype(BN.GroupNorm.apply(_in_kernel_dtype(input), weight, bias, int(num_groups),
                                              float(eps))[0], input)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance norm of (N, C, *): each channel of each sample normalized on its own.

    With ``use_input_stats`` and running buffers, the buffers move toward the
    mean over samples of each instance's mean and unbiased variance (PyTorch's rule);
    without ``use_input_stats`` the running statistics normalize, like batch norm in eval.
    """
    who = "instance_norm"
    _check_norm_input(who, input, 3)
    check_momentum_eps(who, momentum, eps)
    channels = input.shape[1]
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    count = input.numel() // (input.shape[0] * channels)
    if count <= 1:
        raise ValueError(f"{who}: expected more than 1 spatial element when training, got input size {input.shape}")
    _check_param(who, "weight", weight, (channels,), input)
    _check_param(who, "bias", bias, (channels,), input)
    _check_running(who, input, running_mean, running_var, channels)
    out, mean, invstd = BN.GroupNorm.apply(input, weight, bias, channels, float(eps), who)
    if running_mean is not None:
        be, invstd = backend_of(input), array_of(invstd)
        var = be.mul(be.sub(be.div(1.0, be.mul(invstd, invstd)), eps), count / (count - 1))
        _update_running(running_mean, be.mean(array_of(mean), axis=0), momentum)
        _update_running(running_var, be.mean(var, axis=0), momentum)
    return out


# ---------------------------------------------------------------- embedding

def embedding_padding_idx(who, padding_idx, num_embeddings):
    """``padding_idx`` as a row of the weight (a negative one counts from the end, as in
    PyTorch), or None; a ValueError when it is not a row."""
    if padding_idx is None:
        return None
    number_arg(who, "padding_idx", padding_idx, integer=True)
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{who}: padding_idx must be a row of the weight, in [-{num_embeddings}, {num_embeddings}) "
                         f"for num_embeddings={num_embeddings}, got {padding_idx}")
    return padding_idx % num_embeddings


def check_embedding_options(who, max_norm, norm_type, scale_grad_by_freq, sparse):
    number_arg(who, "max_norm", max_norm, 0.0, low_open=True, allow_none=True)
    number_arg(who, "norm_type", norm_type, 0.0, low_open=True, finite=False)
    if scale_grad_by_freq:
        raise NotImplementedError(f"{who}: scale_grad_by_freq=True is not implemented; leave it False (the "
                                  "gradient of each row is then the sum over its occurrences, PyTorch's default)")
    if sparse:
        raise NotImplementedError(f"{who}: sparse=True (sparse gradients) is not implemented; leave it False "
                                  "for a dense gradient of the weight")


def _renorm_rows(weight, indices, max_norm, norm_type):
    """In place, without recording: each row of ``weight`` that ``indices``
    picks and whose ``norm_type``-norm exceeds ``max_norm`` is scaled to norm
    max_norm (PyTorch's ``embedding_renorm_``, with its 1e-7 in the divisor)."""
    be = backend_of(weight)
    rows_at = be.reshape(array_of(indices), (-1,))
    rows = be.cast(be.getitem(array_of(weight), rows_at), "float64")
    size = be.abs(rows)
    if norm_type == float("inf"):
        norms = be.max(size, axis=1, keepdims=True)
    else:
        norms = be.pow(be.sum(be.pow(size, norm_type), axis=1, keepdims=True), 1.0 / norm_type)
    scale = be.where(be.greater(norms, max_norm), be.div(max_norm, be.add(norms, 1e-7)), 1.0)
    write_in_place(weight, "setitem", rows_at, be.cast(be.mul(rows, scale), weight.dtype))


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """The rows of ``weight`` (num_embeddings, embedding_dim) at the integer
    indices ``input`` (any shape): output ``input.shape + (embedding_dim,)``,
    as ``torch.nn.functional.embedding``. Its backward adds each output's
    gradient into the row it came from; the row ``padding_idx`` gets none.
    With ``max_norm`` the rows looked up are first rescaled in place to norm
    at most max_norm (the weight changes, as in PyTorch). ``scale_grad_by_freq``
    and ``sparse`` are not implemented (NotImplementedError)."""
    who = "embedding"
    tensor_arg(who, input)
    float_tensor_arg(who, weight, "weight")
    if weight.ndim != 2:
        raise ValueError(f"{who}: weight must be 2-d (num_embeddings, embedding_dim), got shape {weight.shape}")
    if input.dtype.kind not in "iu":
        raise TypeError(f"{who}: input must be an integer tensor of indices, got dtype {input.dtype}; "
                        "convert it with .long()")
    if not same_device(input, weight):
        raise devices_differ(who, input.device, weight.device, "the input and the weight")
    num_embeddings = weight.shape[0]
    padding_idx = embedding_padding_idx(who, padding_idx, num_embeddings)
    check_embedding_options(who, max_norm, norm_type, scale_grad_by_freq, sparse)
    if input.numel():
        low, high = int(input.min().item()), int(input.max().item())
        if low < 0 or high >= num_embeddings:
            raise IndexError(f"{who}: index {low if low < 0 else high} is out of range for a weight of "
                             f"{num_embeddings} rows; expected indices in [0, {num_embeddings - 1}]")
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None and out.requires_grad:
        # the padding positions take their value from a detached copy: their gradient
        # reaches no row, so the padding row's stays 0 (PyTorch's rule)
        out = where((input == padding_idx).unsqueeze(-1), out.detach(), out)
    return out


# activations, distances and losses beyond the ones above (nn/activation_functional.py, nn/loss_functional.py)
from .functional_extra import *
