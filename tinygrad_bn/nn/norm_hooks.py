"""The older spellings ``torch.nn.utils.weight_norm`` / ``remove_weight_norm`` and
``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm``: the weight recomputed by a
forward pre-hook before every call, with PyTorch's parameter, buffer and state dict
names (``weight_g``, ``weight_v``; ``weight_orig``, ``weight_u``, ``weight_v``).

``module.<name>`` is then a plain tensor attribute (not a parameter) holding the last
computed weight. The parametrization forms in ``nn.utils.parametrizations`` are the
ones PyTorch recommends; ``weight_norm`` here warns as PyTorch's does."""
import warnings

from ..grad_mode import no_grad
from . import functional as F
from .module import Module
from .parameter import Parameter
from .parametrizations import (
    _eps_arg,
    _int_arg,
    _norm_except_dim,
    _weight_norm,
    _weight_norm_dim,
)

__all__ = ["SpectralNorm", "WeightNorm", "remove_spectral_norm", "remove_weight_norm", "spectral_norm", "weight_norm"]


def _module_arg(who, module):
    if not isinstance(module, Module):
        raise TypeError(f"{who}: module must be an nn.Module, got {type(module).__name__}")


def _name_arg(who, name):
    if not isinstance(name, str):
        raise TypeError(f"{who}: name must be a str (the parameter's name), got {type(name).__name__} {name!r}")


def _parameter(who, module, name):
    """``module._parameters[name]``, or an error naming what the module has."""
    weight = module._parameters.get(name)
    if weight is None:
        have = [n for n, p in module._parameters.items() if p is not None]
        raise ValueError(f"{who}: module {type(module).__name__} has no parameter named '{name}' (or it is None); "
                         f"expected one of {have}")
    return weight


class WeightNorm:
    """The forward pre-hook of ``weight_norm``: ``module.<name> = g * v / ||v||``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        who = "weight_norm"
        warnings.warn("`tinygrad_bn.nn.utils.weight_norm` is deprecated in favor of "
                      "`tinygrad_bn.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=3)
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"{who}: cannot register two weight_norm hooks on the same parameter {name}")
        weight = _parameter(who, module, name)
        fn = WeightNorm(name, _weight_norm_dim(who, weight, dim))
        del module._parameters[name]
        with no_grad():
            module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight, fn.dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.data))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.data))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Weight normalization by a forward pre-hook (deprecated in PyTorch, as here: a
    FutureWarning): the parameter ``<name>`` is replaced by ``<name>_g`` (the norm over
    every dim but ``dim``; None: of the whole tensor) and ``<name>_v``, and
    ``module.<name> = g * v / ||v||`` is recomputed before every forward. Returns the
    module."""
    who = "weight_norm"
    _module_arg(who, module)
    _name_arg(who, name)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``<name>`` is a parameter again, holding the normalized weight."""
    return _remove_hook("remove_weight_norm", module, name, WeightNorm, "weight_norm")


class SpectralNorm:
    """The forward pre-hook of ``spectral_norm``: ``module.<name> = <name>_orig / sigma``,
    sigma ``u . (W v)`` with ``<name>_u`` and ``<name>_v`` updated by power iteration in
    training mode."""

    _version = 1

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name = name
        self.dim = dim
        if n_power_iterations <= 0:
            raise ValueError(f"spectral_norm: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight):
        weight_mat = weight
        if self.dim != 0:
            weight_mat = weight_mat.permute(self.dim, *(d for d in range(weight_mat.ndim) if d != self.dim))
        return weight_mat.reshape(weight_mat.shape[0], -1)

    def compute_weight(self, module, do_power_iteration):
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                mat = weight_mat.detach()
                for _ in range(self.n_power_iterations):
                    # in place: the buffers themselves move on
                    v.copy_(F.normalize(mat.t().mv(u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(mat.mv(v), dim=0, eps=self.eps))
        # clones: a backward through an earlier forward keeps the vectors it used
        u, v = u.clone(), v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        who = "spectral_norm"
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(f"{who}: cannot register two spectral_norm hooks on the same parameter {name}")
        weight = _parameter(who, module, name)
        if not -weight.ndim <= dim < max(weight.ndim, 1):
            raise IndexError(f"{who}: dim {dim} is out of range for a {weight.ndim}-D weight (shape "
                             f"{weight.shape}); expected a dim in [{-weight.ndim}, {weight.ndim - 1}]")
        fn = SpectralNorm(name, n_power_iterations, dim % max(weight.ndim, 1), eps)
        with no_grad():
            weight_mat = fn.reshape_weight_to_matrix(weight.detach())
            h, w = weight_mat.shape
            u = F.normalize(weight.new_empty(h).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(w).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        # a plain attribute until the first forward computes it (PyTorch's weight.data)
        setattr(module, fn.name, weight.data)
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalization by a forward pre-hook: the parameter ``<name>`` becomes
    ``<name>_orig``, with buffers ``<name>_u`` and ``<name>_v`` (power-iteration
    vectors), and ``module.<name> = <name>_orig / sigma`` is recomputed before every
    forward (``n_power_iterations`` steps in training mode). ``dim=None`` is 0. Returns
    the module."""
    who = "spectral_norm"
    _module_arg(who, module)
    _name_arg(who, name)
    n_power_iterations = _int_arg(who, "n_power_iterations", n_power_iterations)
    dim = _int_arg(who, "dim", dim, allow_none=True)
    eps = _eps_arg(who, eps)
    SpectralNorm.apply(module, name, n_power_iterations, 0 if dim is None else dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` is a parameter again, holding the normalized
    weight (computed with the stored vectors, no further iteration)."""
    return _remove_hook("remove_spectral_norm", module, name, SpectralNorm, "spectral_norm")


def _remove_hook(who, module, name, hook_class, applied):
    """Take the ``hook_class`` pre-hook on ``name`` off ``module`` (its remove() puts the
    parameter back); refused when ``nn.utils.<applied>`` was not applied to that name."""
    _module_arg(who, module)
    _name_arg(who, name)
    for k, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_class) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[k]
            return module
    raise ValueError(f"{who}: {applied} of '{name}' not found in {type(module).__name__}; expected a module that "
                     f"nn.utils.{applied} was applied to")
