"""Gradient clipping, as ``torch.nn.utils``."""
import math

from ..arguments import iterable_arg
from ..grad_mode import no_grad
from ..ops.movement import stack
from ..tensor import Tensor


def _with_grads(parameters, who):
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    params = iterable_arg(who, "parameters", parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{who}: parameter {i} is a {type(p).__name__}, expected a Tensor")
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
        raise TypeError(f"{who}: {name} must be a number, got bool")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a number, got {type(value).__name__} {value!r}") from None


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients in place so that their norm, taken over all of them
    together as if concatenated, is at most ``max_norm``. Returns that total norm
    (before clipping) as a tensor, as PyTorch does."""
    who = "clip_grad_norm_"
    max_norm, norm_type = _as_float(who, "max_norm", max_norm), _as_float(who, "norm_type", norm_type)
    if not max_norm >= 0:
        raise ValueError(f"{who}: max_norm must be a non-negative number, got {max_norm}")
    if not (norm_type > 0 or norm_type == math.inf):
        raise ValueError(f"{who}: norm_type must be positive or inf, got {norm_type}")
    params = _with_grads(parameters, who)
    if not params:
        return Tensor(0.0)
    # tensor ops on the gradients' devices: no host read unless error_if_nonfinite asks;
    # parameters on several devices give one total on the first one's, as in PyTorch
    device = params[0].grad.device
    with no_grad():
        if norm_type == math.inf:
            parts = [p.grad.abs().amax() for p in params]
        else:
            parts = [(p.grad.abs() ** norm_type).sum() for p in params]
        parts = [t if t.device == device else t.to(device) for t in parts]
        if norm_type == math.inf:
            total = stack(parts).amax()
        else:
            total = stack(parts).sum() ** (1.0 / norm_type)
        if error_if_nonfinite and not total.isfinite().item():
            raise RuntimeError(
                f"{who}: the total norm of order {norm_type} of the gradients is {total.item()}, expected a "
                "finite norm; "
                "set error_if_nonfinite=False to clip anyway (the gradients then become NaN)"
            )
        # multiplying by min(coef, 1) always, as PyTorch does, needs no host read
        coef = (max_norm / (total + 1e-6)).clamp(max=1.0)
        for p in params:
            p.grad.mul_(coef if p.grad.device == device else coef.to(p.grad.device))
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value], in place."""
    who = "clip_grad_value_"
    clip_value = _as_float(who, "clip_value", clip_value)
    if not clip_value >= 0:
        raise ValueError(f"{who}: clip_value must be a non-negative number, got {clip_value}")
    with no_grad():
        for p in _with_grads(parameters, who):
            p.grad.copy_(p.grad.clamp(-clip_value, clip_value))
