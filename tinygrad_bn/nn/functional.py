"""Stateless forms of the layers, with ``torch.nn.functional``'s signatures."""
from ..ops import linalg as L
from ..ops import loss as LS
from ..tensor import Tensor, _operand

_REDUCTIONS = ("mean", "sum", "none")


def linear(input, weight, bias=None):
    """y = input @ weight.T + bias, one op on the tape."""
    if input.shape[-1] != weight.shape[1]:
        raise RuntimeError(
            f"linear: input has {input.shape[-1]} features (shape {input.shape}) but the weight "
            f"expects {weight.shape[1]} (weight shape {weight.shape})"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise RuntimeError(f"linear: bias shape {bias.shape} does not match {weight.shape[0]} output features")
    return L.Linear.apply(input, weight, bias)


def relu(input):
    return input.relu()


def leaky_relu(input, negative_slope=0.01):
    return input.leaky_relu(negative_slope)


def gelu(input, approximate="none"):
    return input.gelu(approximate)


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def softmax(input, dim=-1):
    return input.softmax(dim)


def log_softmax(input, dim=-1):
    return input.log_softmax(dim)


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the rest by 1/(1-p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from ..tensor import default_generator

    be = input._backend
    mask = be.bernoulli_mask(default_generator(), 1.0 - p, input.shape, input.dtype)
    return input * Tensor._wrap(be.mul(mask, 1.0 / (1.0 - p)).astype(input.dtype), input.device, False)


def _check_class_target(who, input, target):
    if not isinstance(target, Tensor):
        raise TypeError(f"{who}: target must be a Tensor of class indices, got {type(target).__name__}")
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{who}: target must hold integer class indices, got dtype {target.dtype}; "
            "use target.long() (probability targets are not supported)"
        )
    if input.ndim != 2:
        raise ValueError(f"{who}: expected input of shape (N, C), got {input.shape}")
    if target.shape != (input.shape[0],):
        raise ValueError(f"{who}: expected target of shape ({input.shape[0]},) for input {input.shape}, got {target.shape}")


def _check_reduction(who, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{who}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _check_target_range(who, target, n_classes, ignore_index):
    t = target.data
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(
            f"{who}: target {int(t[bad][0])} is out of bounds for {n_classes} classes "
            f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})"
        )


def cross_entropy(input, target, reduction="mean", ignore_index=-100):
    """Cross entropy of logits (N, C) and class indices (N,), fused and stable."""
    _check_class_target("cross_entropy", input, target)
    _check_reduction("cross_entropy", reduction)
    _check_target_range("cross_entropy", target, input.shape[1], ignore_index)
    return LS.CrossEntropy.apply(input, target.data, reduction, ignore_index)


def nll_loss(input, target, reduction="mean", ignore_index=-100):
    """Negative log likelihood of log-probabilities (N, C) and class indices (N,)."""
    _check_class_target("nll_loss", input, target)
    _check_reduction("nll_loss", reduction)
    _check_target_range("nll_loss", target, input.shape[1], ignore_index)
    return LS.NLL.apply(input, target.data, reduction, ignore_index)


def mse_loss(input, target, reduction="mean"):
    _check_reduction("mse_loss", reduction)
    target = _operand(target)
    tshape = getattr(target, "shape", ())
    if isinstance(target, Tensor) and tshape != input.shape:
        raise ValueError(f"mse_loss: input shape {input.shape} and target shape {tshape} differ; they must match")
    diff = input - target
    sq = diff * diff
    if reduction == "mean":
        return sq.mean()
    if reduction == "sum":
        return sq.sum()
    return sq
