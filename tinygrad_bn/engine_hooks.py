"""Gradient hooks as the walk runs them: each sees the gradient and may return
a replacement, checked to keep the shape, dtype and device."""
from .tensor_base import TensorBase, make_tensor


def run_hooks(hooks, g, be):
    """Each hook sees the gradient as a tensor and may return a replacement of
    the same shape, dtype and device (on the recording backend the gradient
    already is a tensor, with its graph)."""
    records = be.records
    for hook in hooks:
        res = hook(g if records else make_tensor(g, be, False))
        if res is not None:
            _check_hook_result(hook, res, g, be)
            g = res if records else res._data
    return g


def _check_hook_result(hook, res, g, be):
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(res, TensorBase):
        raise TypeError(f"hook {name!r} returned a {type(res).__name__}; a gradient hook must return a Tensor "
                        "(the new gradient) or None (keep it)")
    if res.shape != tuple(g.shape):
        raise RuntimeError(f"hook {name!r} changed the gradient's shape from {tuple(g.shape)} to {res.shape}; "
                           "a hook must return a gradient of the same shape")
    if res.dtype != g.dtype:
        raise RuntimeError(f"hook {name!r} changed the gradient's dtype from {g.dtype} to {res.dtype}; "
                           "a hook must keep it: cast it back (res.to(grad.dtype))")
    if res._backend is not be.base:
        raise RuntimeError(f"hook {name!r} returned a gradient on {res.device}, expected {be.name} "
                           "(the tensor's device); move it with .to(device)")
