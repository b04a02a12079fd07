"""Helpers the distributions share, named after ``torch.distributions.utils``:
``broadcast_all``, ``clamp_probs``, ``probs_to_logits``, ``logits_to_probs``,
``euler_constant``, ``sum_rightmost``, ``xlogy`` and ``softplus`` (a stable composite of
tensor ops, so its backward and double backward are the ops' own); ``outcome_value``
for log_prob."""
import numbers

import numpy as np

from .. import dtypes
from ..arguments import devices_differ
from ..creation import tensor
from ..dtypes import is_float
from ..ops.elementwise import where
from ..ops.index_args import broadcast_shape
from ..tensor import Tensor

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant, as torch.distributions.utils


def sum_rightmost(value, dim):
    """``value`` summed over its last ``dim`` dims (``dim`` = 0: as it is)."""
    return value if dim == 0 else value.reshape(*value.shape[:value.ndim - dim], -1).sum(-1)


def outcome_value(value, param):
    """``value`` ready for a log_prob beside ``param``: integer and bool outcomes
    (counts, 0/1) take the parameter's dtype; a float value keeps its own, so the
    result comes out in the two dtypes' promotion, as PyTorch's (float64 values of
    a float32 Poisson give float64 log-probabilities)."""
    return value.to(param.dtype) if value.dtype.kind in "biu" else value


def xlogy(x, y):
    """x log(y), 0 where x = 0 and y = 0 (as ``torch.xlogy``), with the derivative
    log(y) in x wherever y > 0: ``Tensor.xlogy`` follows PyTorch's, 0 at x = 0, a
    kink the densities (x^(a-1) at a = 1) do not have."""
    positive = y.detach() > 0
    return where(positive, x * where(positive, y, 1.0).log(), x.xlogy(y))


def broadcast_shapes(who, shapes):
    """The shape all of ``shapes`` broadcast to (NumPy's rule), or a RuntimeError."""
    return broadcast_shape(who, *shapes)


def broadcast_all(who, **params):
    """The parameters as floating point tensors of one shape, dtype and device,
    as ``torch.distributions.utils.broadcast_all``: a Python number becomes a
    tensor like the tensors given (float32 on the CPU when all are numbers),
    tensors are cast to the widest float dtype among them and expanded (a
    view: gradients flow back to the originals)."""
    tensors = {}
    for name, value in params.items():
        if isinstance(value, Tensor):
            if not is_float(value.dtype):
                raise TypeError(f"{who}: {name} must be a floating point tensor, got dtype {value.dtype}; "
                                "call .float() first")
            tensors[name] = value
        elif isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{who}: {name} must be a Tensor or a number, got {type(value).__name__}")
    first = next(iter(tensors.values()), None)
    device = first.device if first is not None else "cpu"
    for name, t in tensors.items():
        if t.device != device:
            raise devices_differ(who, device, t.device, ", ".join(tensors))
    dtype = max((t.dtype for t in tensors.values()), key=lambda d: d.itemsize, default=dtypes.default_float)
    shape = broadcast_shapes(who, [t.shape for t in tensors.values()])
    out = []
    for name, value in params.items():
        t = tensors.get(name)
        if t is None:
            t = tensor(float(value), dtype=dtype, device=device)
        elif t.dtype != dtype:
            t = t.to(dtype)
        out.append(t if t.shape == shape else t.expand(*shape))
    return out


def finfo(dtype):
    """Machine limits of a float dtype (NumPy's ``finfo``: ``eps``, ``min``, ``tiny``)."""
    return np.finfo(dtype)


def clamp_probs(probs):
    """``probs`` clamped to [eps, 1 - eps] (eps of its dtype), so their logs are finite."""
    eps = float(finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-odds (``is_binary``) or log-probabilities of clamped probabilities, as PyTorch's."""
    clamped = clamp_probs(probs)
    if is_binary:
        return clamped.log() - (1 - clamped).log()
    return clamped.log()


def logits_to_probs(logits, is_binary=False):
    """sigmoid(logits) (``is_binary``) or softmax over the last dim, as PyTorch's."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def softplus(x):
    """log(1 + exp(x)) without overflow: x + log(1 + exp(-x)) where x > 0, else
    log(1 + exp(x)). Each branch sees its input clamped to its own side, so
    neither overflows and the branch not taken passes no NaN to the gradient;
    at 0 the gradient is 1/2 and the second derivative 1/4, as they should be."""
    positive = x.clamp(min=0.0)
    negative = x.clamp(max=0.0)
    return where(x > 0, positive + (1 + (-positive).exp()).log(), (1 + negative.exp()).log())


def one_parameter(who, probs, logits):
    """``("probs", probs)`` or ``("logits", logits)``: the one given, a ValueError unless exactly one is."""
    if (probs is None) == (logits is None):
        got = "neither" if probs is None else "both"
        raise ValueError(f"{who}: expected exactly one of probs or logits, got {got}; pass either probs=... "
                         "or logits=...")
    return ("probs", probs) if probs is not None else ("logits", logits)


def binary_cross_entropy_with_logits(logits, target):
    """softplus(logits) - logits * target: -log p(target) of a Bernoulli with these log-odds."""
    return softplus(logits) - logits * target
