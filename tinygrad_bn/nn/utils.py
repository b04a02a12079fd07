"""``torch.nn.utils``: gradient clipping (``clip_grad_norm_``, ``get_total_norm``,
``clip_grads_with_norm_``, ``clip_grad_value_``), flattening parameters
(``parameters_to_vector`` / ``vector_to_parameters``), folding an eval-mode BatchNorm into
the Linear before it (``fuse_linear_bn_eval``), ``skip_init`` and ``stateless.functional_call``
(``from tinygrad_bn.nn.utils.stateless import functional_call`` works too); parametrizations
(``parametrize``, ``parametrizations.weight_norm`` / ``spectral_norm``) and the older
hook-based ``weight_norm`` / ``spectral_norm`` (with their ``remove_*``).

Everything is Tensor ops, so it runs on any device and, where PyTorch's does, records
for autograd (``parameters_to_vector``, ``functional_call``)."""
import copy
import math
import sys
import types
import warnings

from ..arguments import iterable_arg
from ..grad_mode import no_grad
from ..ops.movement import cat, stack
from ..tensor import Tensor
from . import parametrizations, parametrize, stateless
from .module import Module
from .parameter import Parameter
from .norm_hooks import (  # noqa: F401
    remove_spectral_norm,
    remove_weight_norm,
    spectral_norm,
    weight_norm,
)

# ``import tinygrad_bn.nn.utils.stateless`` (and .parametrize, .parametrizations) as in
# PyTorch, though utils is a module here
sys.modules.setdefault(__name__ + ".stateless", stateless)
sys.modules.setdefault(__name__ + ".parametrize", parametrize)
sys.modules.setdefault(__name__ + ".parametrizations", parametrizations)


def _tensors(who, name, tensors):
    """A Tensor or an iterable of them, as a list; anything else a TypeError naming ``who``."""
    if isinstance(tensors, Tensor):
        return [tensors]
    items = iterable_arg(who, name, tensors)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {name}[{i}] is a {type(t).__name__}, expected a Tensor")
    return items


def _with_grads(parameters, who):
    params = _tensors(who, "parameters", parameters)
    for i, p in enumerate(params):
        g = p.grad
        if g is not None and (not isinstance(g, Tensor) or g.device != p.device or g.shape != p.shape):
            got = (f"a {type(g).__name__}" if not isinstance(g, Tensor)
                   else f"shape {g.shape} on {g.device}")
            raise RuntimeError(f"{who}: the gradient of parameter {i} is {got}, the parameter has shape {p.shape} "
                               f"on {p.device}; expected its gradient there (move it with .to(device))")
    return [p for p in params if p.grad is not None]


def _as_float(who, name, value):
    """float(value) (so 'inf' works, as in PyTorch), or a TypeError naming the argument."""
    if isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be a number, got bool {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__} {value!r}") from None


def _bool_arg(who, name, value, allow_none=False):
    if not (isinstance(value, bool) or (allow_none and value is None)):
        expected = "a bool or None" if allow_none else "a bool"
        raise TypeError(f"{who}: {name} must be {expected}, got {type(value).__name__} {value!r}")
    return value


def _total_norm(who, tensors, norm_type, error_if_nonfinite):
    """The norm of the norms of ``tensors`` (as if concatenated into one vector), on the
    first tensor's device, in the widest of their dtypes (PyTorch's stack promotes)."""
    if not tensors:
        return Tensor(0.0)
    device = tensors[0].device
    with no_grad():
        norms = [t.norm(norm_type) for t in tensors]
        norms = [n if n.device == device else n.to(device) for n in norms]
        total = stack(norms).norm(norm_type)  # stack promotes as PyTorch's: float16 and float32 give float32
        if error_if_nonfinite and not total.isfinite().item():
            raise RuntimeError(
                f"{who}: the total norm of order {norm_type} of the gradients is {total.item()}, expected a "
                "finite norm; set error_if_nonfinite=False to clip anyway (the gradients then become NaN)"
            )
    return total


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of ``tensors`` (a Tensor or an iterable of them; usually the
    gradients) taken together, as if concatenated into one vector: the norm of their
    norms. A tensor on the first one's device; ``tensor(0.)`` for no tensors. ``foreach``
    is accepted for PyTorch's signature (one implementation here)."""
    who = "get_total_norm"
    norm_type = _as_float(who, "norm_type", norm_type)
    if math.isnan(norm_type):
        raise ValueError(f"{who}: norm_type must be a number or inf, got nan")
    _bool_arg(who, "error_if_nonfinite", error_if_nonfinite)
    _bool_arg(who, "foreach", foreach, allow_none=True)
    return _total_norm(who, _tensors(who, "tensors", tensors), norm_type, error_if_nonfinite)


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` in place by ``min(max_norm / (total_norm + 1e-6), 1)``,
    ``total_norm`` being a precomputed norm (``get_total_norm``'s). Returns None."""
    who = "clip_grads_with_norm_"
    params = _with_grads(parameters, who)
    max_norm = _as_float(who, "max_norm", max_norm)
    _bool_arg(who, "foreach", foreach, allow_none=True)
    if not isinstance(total_norm, Tensor):
        total_norm = Tensor(_as_float(who, "total_norm", total_norm))
    if total_norm.numel() != 1:
        raise RuntimeError(f"{who}: total_norm must hold one number (a norm), got shape {total_norm.shape}")
    if not params:
        return
    with no_grad():
        # multiplying by min(coef, 1) always, as PyTorch does, needs no host read
        coef = (max_norm / (total_norm.detach().reshape(()) + 1e-6)).clamp(max=1.0)
        for p in params:
            p.grad.mul_(coef if coef.device == p.grad.device else coef.to(p.grad.device))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale the gradients in place so that their norm, taken over all of them
    together as if concatenated, is at most ``max_norm``. Returns that total norm
    (before clipping) as a tensor, as PyTorch does: ``get_total_norm`` of the gradients
    followed by ``clip_grads_with_norm_``."""
    who = "clip_grad_norm_"
    max_norm, norm_type = _as_float(who, "max_norm", max_norm), _as_float(who, "norm_type", norm_type)
    if not max_norm >= 0:
        raise ValueError(f"{who}: max_norm must be a non-negative number, got {max_norm}")
    if not (norm_type > 0 or norm_type == math.inf):
        raise ValueError(f"{who}: norm_type must be positive or inf, got {norm_type}")
    _bool_arg(who, "error_if_nonfinite", error_if_nonfinite)
    _bool_arg(who, "foreach", foreach, allow_none=True)
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn(f"{who}: `parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    params = _with_grads(parameters, who)
    # parameters on several devices give one total on the first one's, as in PyTorch
    total = _total_norm(who, [p.grad for p in params], norm_type, error_if_nonfinite)
    clip_grads_with_norm_(params, max_norm, total)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated alias of ``clip_grad_norm_`` (a FutureWarning, as in PyTorch)."""
    warnings.warn("`tinygrad_bn.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`tinygrad_bn.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    who = "clip_grad_value_"
    clip_value = _as_float(who, "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{who}: clip_value must be a non-negative number, got {clip_value}")
    _bool_arg(who, "foreach", foreach, allow_none=True)
    with no_grad():
        for p in _with_grads(parameters, who):
            p.grad.copy_(p.grad.clamp(-clip_value, clip_value))


# ------------------------------------------------------------------ flattening

def _same_device(who, params):
    for i, p in enumerate(params):
        if p.device != params[0].device:
            raise TypeError(f"{who}: parameter {i} is on {p.device}, parameter 0 on {params[0].device}; "
                            "expected all parameters on one device (move them with .to(device))")


def parameters_to_vector(parameters):
    """All parameters flattened and joined into one 1-D tensor (recorded: gradients flow
    back to the parameters)."""
    who = "parameters_to_vector"
    params = _tensors(who, "parameters", parameters)
    if not params:
        raise ValueError(f"{who}: got no parameters; expected at least one tensor (model.parameters())")
    _same_device(who, params)
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D ``vec`` into ``parameters`` (replacing their
    data, as PyTorch's ``param.data = ...``, so they share ``vec``'s memory)."""
    who = "vector_to_parameters"
    if not isinstance(vec, Tensor):
        raise TypeError(f"{who}: expected a Tensor for vec, got {type(vec).__name__}")
    params = _tensors(who, "parameters", parameters)
    _same_device(who, params)
    needed = sum(p.numel() for p in params)
    if vec.numel() < needed:
        raise RuntimeError(f"{who}: vec has {vec.numel()} elements, the parameters {needed}; expected at least "
                           f"as many elements as the parameters hold (parameters_to_vector's length)")
    for i, p in enumerate(params):
        if vec.device != p.device:
            raise TypeError(f"{who}: vec is on {vec.device}, parameter {i} on {p.device}; expected one device")
    flat = vec.detach().reshape(-1)
    pointer = 0
    for p in params:
        n = p.numel()
        p.data = flat[pointer:pointer + n].reshape(p.shape)
        pointer += n


# ------------------------------------------------------------------ fusion

def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The weight and bias (Parameters) of one Linear that computes ``bn(linear(x))`` for
    an eval-mode BatchNorm with running statistics ``bn_rm``, ``bn_rv``, ``bn_eps`` and
    affine ``bn_w``, ``bn_b`` (None: 1 and 0). ``linear_b`` None is a zero bias."""
    who = "fuse_linear_bn_weights"
    for name, t in (("linear_w", linear_w), ("bn_rm", bn_rm), ("bn_rv", bn_rv)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}: {name} must be a Tensor, got {type(t).__name__}")
    for name, t in (("linear_b", linear_b), ("bn_w", bn_w), ("bn_b", bn_b)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{who}: {name} must be a Tensor or None, got {type(t).__name__}")
    eps = _as_float(who, "bn_eps", bn_eps)
    if linear_w.ndim != 2:
        raise ValueError(f"{who}: linear_w must be a 2-D weight (out_features, in_features), got shape "
                         f"{linear_w.shape}")
    w_dtype = linear_w.dtype
    b_dtype = linear_b.dtype if linear_b is not None else w_dtype
    with no_grad():
        if linear_b is None:
            linear_b = bn_rm.detach() * 0
        scale = (bn_rv.detach() + eps).rsqrt()
        if bn_w is not None:
            scale = bn_w.detach() * scale
        fused_w = linear_w.detach() * scale.unsqueeze(-1).to(w_dtype)
        fused_b = (linear_b.detach() - bn_rm.detach()) * scale
        if bn_b is not None:
            fused_b = fused_b + bn_b.detach()
        fused_b = fused_b.to(b_dtype)
    return Parameter(fused_w, linear_w.requires_grad), Parameter(fused_b, linear_b.requires_grad)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose output is ``bn(linear(x))``, for both in eval mode (the
    BatchNorm's running statistics folded into the weight and bias)."""
    who = "fuse_linear_bn_eval"
    if not isinstance(linear, Module) or not hasattr(linear, "weight") or not hasattr(linear, "out_features"):
        raise TypeError(f"{who}: linear must be an nn.Linear, got {type(linear).__name__}")
    if not isinstance(bn, Module) or not hasattr(bn, "running_mean") or not hasattr(bn, "num_features"):
        raise TypeError(f"{who}: bn must be a BatchNorm module, got {type(bn).__name__}")
    if linear.training or bn.training:
        raise AssertionError(f"{who}: fusion is for eval mode only, got linear.training={linear.training} and "
                             f"bn.training={bn.training}; call .eval() on both first")
    if not (linear.out_features == bn.num_features or bn.num_features == 1):
        raise AssertionError(f"{who}: expected linear.out_features == bn.num_features or bn.num_features == 1, "
                             f"got {linear.out_features} and {bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError(f"{who}: bn has no running statistics (track_running_stats=False); expected a "
                             "BatchNorm that tracks them")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


# ------------------------------------------------------------------ skip_init

def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters and buffers left unfilled (zeros
    here) on ``device`` (a keyword; default "cpu"): the initialisation draws nothing from the
    random generator, as PyTorch's (which builds the module on the meta device)."""
    # the generator's state, kept around the build
    from ..random import get_rng_state, set_rng_state
    who = "skip_init"
    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise RuntimeError(f"{who}: expected a Module class; got {module_cls!r}")  # noqa: TRY004  (PyTorch's)
    device = kwargs.pop("device", "cpu")
    state = get_rng_state()
    try:
        module = module_cls(*args, **kwargs)
    finally:
        set_rng_state(state)
    return module.to_empty(device=device)
