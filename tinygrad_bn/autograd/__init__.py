"""``tinygrad_bn.autograd``: ``from tinygrad_bn import autograd`` stands for
``from torch import autograd``.

- ``grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False)``
  and ``backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False)``: the engine's walk;
  with ``create_graph`` the gradients are recorded and can be differentiated again, to any order.
- ``Function`` (forward and backward on Tensors, as PyTorch's), ``FunctionCtx`` and
  ``once_differentiable``; the array-level ``tinygrad_bn.Function`` that our ops use is
  described in ``function.py``.
- ``gradcheck`` and ``gradgradcheck`` (float64 central differences, PyTorch's tolerances).
- ``detect_anomaly`` and ``set_detect_anomaly``: the anomaly checks of ``tinygrad_bn.anomaly``.
- ``functional``: ``vjp``, ``jvp``, ``hvp``, ``vhp``, ``jacobian``, ``hessian``.
- ``Variable``: PyTorch's deprecated wrapper, for old scripts.
"""
import warnings

from .. import engine as _engine
from ..engine_grad import grad
from ..tensor_base import TensorBase as _TensorBase
from ..anomaly import detect_anomaly, set_detect_anomaly
from ..testing.gradcheck import gradcheck, gradgradcheck
from . import functional
from .function import Function, FunctionCtx, once_differentiable


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate the gradients of ``tensors`` (one or a sequence) into the leaves'
    ``.grad``, or into ``inputs``' only (``torch.autograd.backward``).
    ``grad_variables`` is PyTorch's deprecated name for ``grad_tensors``."""
    if grad_variables is not None:
        warnings.warn("backward: grad_variables is deprecated; use grad_tensors", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("backward: got both grad_tensors and grad_variables (its deprecated name); "
                               "pass grad_tensors alone")
        grad_tensors = grad_variables
    tensors = [tensors] if isinstance(tensors, _TensorBase) else list(tensors)
    for k, t in enumerate(tensors):
        if not isinstance(t, _TensorBase):
            raise TypeError(f"backward: tensors[{k}] must be a Tensor, got {type(t).__name__}")
    if grad_tensors is not None:
        grad_tensors = [grad_tensors] if isinstance(grad_tensors, _TensorBase) else list(grad_tensors)
        if len(grad_tensors) != len(tensors):
            raise RuntimeError(f"backward: got {len(grad_tensors)} grad_tensors for {len(tensors)} tensors; "
                               "expected one per tensor (None for a scalar's 1)")
    _engine.backward(tensors, grad_tensors, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802  (PyTorch's name)
    """PyTorch's deprecated ``Variable(tensor, requires_grad=...)``: a tensor of the
    same memory (a leaf), requiring grad as asked; ``data`` itself is unchanged."""
    if not isinstance(data, _TensorBase):
        raise TypeError(f"Variable: expected a Tensor, got {type(data).__name__}; "
                        "Variables are Tensors now: use tinygrad_bn.tensor(data, requires_grad=...)")
    return data.detach().requires_grad_(bool(requires_grad) and not volatile)


__all__ = ["grad", "backward", "detect_anomaly", "set_detect_anomaly", "Function", "FunctionCtx", "once_differentiable", "gradcheck", "gradgradcheck",
           "Variable",
           "functional"]
