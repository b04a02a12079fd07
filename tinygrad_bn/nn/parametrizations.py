"""``torch.nn.utils.parametrizations``: ``weight_norm`` and ``spectral_norm`` as
parametrizations (``register_parametrization``), with PyTorch 2.x's names, state dict
keys and semantics:

- ``weight_norm``: ``original0`` is the magnitude g (the norm of the weight over every
  dim but ``dim``), ``original1`` the direction v; the weight is ``g * v / ||v||``. A
  state dict of the older ``nn.utils.weight_norm`` (``weight_g``, ``weight_v``) loads too.
- ``spectral_norm``: the weight divided by its largest singular value, estimated by power
  iteration with the buffers ``_u`` and ``_v`` of the parametrization, updated in place
  in training mode only (eval uses the stored vectors).

``import tinygrad_bn.nn.utils.parametrizations`` works, as in PyTorch."""
import numbers

from ..grad_mode import no_grad
from ..tensor import Tensor
from . import functional as F
from . import parametrize
from .module import Module

__all__ = ["spectral_norm", "weight_norm"]


def _int_arg(who, name, value, allow_none=False):
    if value is None and allow_none:
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        expected = "an int or None" if allow_none else "an int"
        raise TypeError(f"{who}: {name} must be {expected}, got {type(value).__name__} {value!r}")
    return int(value)


def _eps_arg(who, eps):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
        raise TypeError(f"{who}: eps must be a number, got {type(eps).__name__} {eps!r}")
    if not eps >= 0:
        raise ValueError(f"{who}: eps must be a non-negative number, got {eps!r}")
    return float(eps)


def _norm_except_dim(v, dim):
    """PyTorch's ``norm_except_dim(v, 2, dim)``: the 2-norm over every dim but ``dim``,
    kept with size 1 (shape (1, .., n, .., 1)); ``dim == -1``: the norm of the whole
    tensor (0-d), as PyTorch."""
    if dim == -1:
        return v.norm()
    dim = dim % v.ndim
    n = v.shape[dim]
    moved = v if dim == 0 else v.permute(dim, *(d for d in range(v.ndim) if d != dim))
    norms = moved.reshape(n, -1).norm(2, 1)
    return norms.reshape(tuple(n if d == dim else 1 for d in range(v.ndim)))


def _weight_norm(v, g, dim):
    """PyTorch's ``_weight_norm(v, g, dim)``: ``v * (g / norm_except_dim(v, 2, dim))``."""
    return v * (g / _norm_except_dim(v, dim))


def _weight_norm_dim(who, weight, dim):
    """``dim`` checked against ``weight`` (None is -1: the whole tensor, as PyTorch)."""
    dim = _int_arg(who, "dim", dim, allow_none=True)
    if not isinstance(weight, Tensor):
        raise TypeError(f"{who}: the tensor to normalize must be a Tensor, got {type(weight).__name__}")
    if weight.ndim == 0:  # PyTorch refuses it for every dim, None included
        raise RuntimeError(f"{who}: the weight is 0-d (one value), which has no dim to normalize over; "
                           "give it a shape of at least one dim, e.g. (1,)")
    if dim is None:
        return -1
    if not -weight.ndim <= dim < weight.ndim:
        raise IndexError(f"{who}: dim {dim} is out of range for a {weight.ndim}-D weight (shape {weight.shape}); "
                         f"expected a dim in [{-weight.ndim}, {weight.ndim - 1}] or None")
    return dim


class _WeightNorm(Module):
    """``weight = g * v / ||v||`` (norm over every dim but ``dim``; -1: all).
    ``weight_norm`` gives it a checked dim, None already made -1."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def _weight_arg(who, module, name):
    """``module.<name>``, checked to be a tensor a normalization can parametrize."""
    parametrize._module_arg(who, "module", module)
    parametrize._name_arg(who, name)
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(  # noqa: TRY004  (PyTorch's error type)
            f"{who}: module {type(module).__name__} has no parameter or buffer named '{name}' (got "
            f"{type(weight).__name__}); expected the name of a tensor to normalize")
    return weight


def weight_norm(module, name="weight", dim=0):
    """Weight normalization of ``module.<name>``: the tensor becomes ``g * v / ||v||``
    with ``g`` (``parametrizations.<name>.original0``, the norm over every dim but
    ``dim``; ``dim=None``: one norm for the whole tensor) and ``v``
    (``parametrizations.<name>.original1``, the direction) trained in its place.
    Returns the module (its class becomes ``Parametrized<Class>``)."""
    who = "weight_norm"
    weight = _weight_arg(who, module, name)
    _weight_norm = _WeightNorm(_weight_norm_dim(who, weight, dim))
    parametrize.register_parametrization(module, name, _weight_norm, unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            original0, original1 = state_dict.pop(g_key), state_dict.pop(v_key)
            state_dict[f"{prefix}parametrizations.{name}.original0"] = original0
            state_dict[f"{prefix}parametrizations.{name}.original1"] = original1

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """``weight / sigma``, sigma the largest singular value of the weight reshaped to a
    matrix (``dim`` first), estimated as ``u . (W v)`` with the power-iteration vectors
    ``_u`` and ``_v`` (buffers). A 1-D weight is divided by its norm."""

    def __init__(self, weight, n_power_iterations, dim, eps):  # (spectral_norm passes its own defaults)
        super().__init__()
        who = "spectral_norm"
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"{who}: dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}] but "
                             f"got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"{who}: expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            # a 1-D weight needs no estimate (see forward)
            self.n_power_iterations = n_power_iterations
            with no_grad():
                weight_mat = self._reshape_weight_to_matrix(weight.detach())
                h, w = weight_mat.shape
                u = weight_mat.new_empty(h).normal_(0, 1)
                v = weight_mat.new_empty(w).normal_(0, 1)
                self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
                self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            # start from reasonable vectors: 15 iterations of the power method
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if weight.ndim <= 1:
            raise AssertionError(f"spectral_norm: expected a weight with more than 1 dimension, got {weight.ndim}")
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.ndim) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        # _u and _v are updated in place (an optimizer or a replica holding them sees the change);
        # forward uses clones, so a backward through an earlier forward stays valid
        with no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(weight_mat.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(weight_mat.t().mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(weight_mat.mv(v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral normalization of ``module.<name>``: the tensor becomes ``W / sigma(W)``,
    sigma the largest singular value of W reshaped to (size of ``dim``, -1), estimated
    by ``n_power_iterations`` of power iteration each time it is read in training mode
    (15 at registration). ``dim=None`` is 0. Returns the module."""
    who = "spectral_norm"
    weight = _weight_arg(who, module, name)
    n_power_iterations = _int_arg(who, "n_power_iterations", n_power_iterations)
    dim = _int_arg(who, "dim", dim, allow_none=True)
    _eps_arg(who, eps)
    if dim is None:
        dim = 0  # 1 for ConvTranspose in PyTorch, which tinygrad_bn does not have
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
