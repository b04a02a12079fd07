"""Losses with ``torch.nn.functional``'s signatures, defaults and values.

Each is a composition of recorded tensor ops (backward, double backward and
every device come with them), in PyTorch's numerically stable form where it
has one. ``reduction`` is 'mean', 'sum' or 'none' ('batchmean' too for kl_div);
the deprecated ``size_average`` / ``reduce`` arguments still work, as in PyTorch,
with its warning. Unlike PyTorch, a target whose shape differs from the input's
is refused rather than broadcast with a warning (broadcasting there is almost
always a bug: (N,) against (N, 1) makes an (N, N) loss).
"""
import math
import warnings

from ..arguments import devices_differ, float_tensor_arg, number_arg, tensor_arg
from ..creation import arange, full_like
from ..grad_mode import no_grad
from ..ops.elementwise import minimum, where
from ..ops.movement import broadcasts_to
from ..tensor_base import same_device
from .activation_functional import logsigmoid, pairwise_distance

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cosine_embedding_loss", "gaussian_nll_loss",
    "hinge_embedding_loss", "huber_loss", "kl_div", "l1_loss", "margin_ranking_loss", "mse_loss", "multi_margin_loss",
    "multilabel_margin_loss", "multilabel_soft_margin_loss", "poisson_nll_loss", "smooth_l1_loss",
    "soft_margin_loss", "triplet_margin_loss", "triplet_margin_with_distance_loss",
]

_REDUCTIONS = ("mean", "sum", "none")


def legacy_reduction(size_average, reduce):
    """PyTorch's mapping of the deprecated size_average / reduce to a reduction, with its warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=4)
    return ret


def reduction_arg(who, reduction, size_average=None, reduce=None, allowed=_REDUCTIONS):
    """The reduction to apply: from ``size_average``/``reduce`` when either is given, else ``reduction``, checked."""
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction not in allowed:
        raise ValueError(f"{who}: reduction must be one of {allowed}, got {reduction!r}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _same_device(who, first, t, names):
    if t is not None and not same_device(t, first):
        raise devices_differ(who, first.device, t.device, names)


def _pair(who, input, target, input_name="input", target_name="target"):
    """Floating ``input`` and ``target`` of one shape on one device."""
    float_tensor_arg(who, input, input_name)
    float_tensor_arg(who, target, target_name)
    _same_device(who, input, target, f"the {input_name} and the {target_name}")
    if input.shape != target.shape:
        raise ValueError(f"{who}: {input_name} shape {input.shape} and {target_name} shape {target.shape} "
                         "differ; they must match")


def _weight_arg(who, weight, shape, input, name="weight"):
    """A floating ``weight`` that broadcasts to ``shape`` (None passes)."""
    if weight is None:
        return None
    float_tensor_arg(who, weight, name)
    _same_device(who, input, weight, f"the input and the {name}")
    if not broadcasts_to(tuple(weight.shape), tuple(shape)):
        raise ValueError(f"{who}: {name} of shape {weight.shape} does not broadcast to the input's shape {shape}")
    return weight


def _elementwise_weight(who, weight, input):
    """A floating ``weight`` of exactly the input's shape, one per term (None passes)."""
    if weight is None:
        return None
    float_tensor_arg(who, weight, "weight")
    _same_device(who, input, weight, "the input and the weight")
    if weight.shape != input.shape:
        raise ValueError(f"{who}: weight shape {weight.shape} and input shape {input.shape} must be the same")
    return weight


def _reduce_weighted(loss, weight, reduction):
    """``loss`` times ``weight`` (None: unweighted) reduced, 'mean' dividing by the weights'
    sum (PyTorch's rule for l1_loss and mse_loss)."""
    if weight is None:
        return _reduce(loss, reduction)
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


def _margin_arg(who, margin, name="margin"):
    return number_arg(who, name, margin)


# ---------------------------------------------------------------- regression

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """|input - target|; with ``weight`` (the input's shape) each term is weighted and
    'mean' divides by the weights' sum (PyTorch's rule)."""
    who = "l1_loss"
    _pair(who, input, target)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    return _reduce_weighted((input - target).abs(), _elementwise_weight(who, weight, input), reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """(input - target)^2; with ``weight`` (the input's shape) each term is weighted and
    'mean' divides by the weights' sum (PyTorch's rule)."""
    who = "mse_loss"
    float_tensor_arg(who, input)
    tensor_arg(who, target, "target")
    reduction = reduction_arg(who, reduction, size_average, reduce)
    if target.shape != input.shape:
        raise ValueError(f"{who}: input shape {input.shape} and target shape {target.shape} differ; they must match")
    diff = input - target
    return _reduce_weighted(diff * diff, _elementwise_weight(who, weight, input), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is l1_loss."""
    who = "smooth_l1_loss"
    _pair(who, input, target)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    number_arg(who, "beta", beta, 0.0)
    d = input - target
    size = d.abs()
    if beta == 0:
        return _reduce(size, reduction)
    loss = where(size < beta, d * d * (0.5 / beta), size - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta); delta > 0. With ``weight``
    (the input's shape) each term is weighted and 'mean' is the plain mean (PyTorch's rule)."""
    who = "huber_loss"
    _pair(who, input, target)
    reduction = reduction_arg(who, reduction)
    number_arg(who, "delta", delta, 0.0, low_open=True)
    d = input - target
    size = d.abs()
    loss = where(size < delta, d * d * 0.5, (size - 0.5 * delta) * delta)
    weight = _elementwise_weight(who, weight, input)
    return _reduce(loss if weight is None else loss * weight, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) with ``full``).

    ``var``: the input's shape, or one dimension short of it, or with one of its
    dimensions 1 (a shared variance), or a float. The clamp at eps passes the gradient as
    if absent (PyTorch clamps under no_grad). Negative variances are refused."""
    who = "gaussian_nll_loss"
    float_tensor_arg(who, input)
    float_tensor_arg(who, target, "target")
    _same_device(who, input, target, "the input and the target")
    if not broadcasts_to(tuple(target.shape), tuple(input.shape)):
        raise ValueError(f"{who}: target shape {target.shape} does not broadcast to the input shape {input.shape}")
    number_arg(who, "eps", eps, 0.0)
    reduction = reduction_arg(who, reduction)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError(f"{who}: var has a negative entry ({var}); variances must be >= 0")
        var = full_like(input.detach(), float(var))
    else:
        float_tensor_arg(who, var, "var")
        _same_device(who, input, var, "the input and var")
        if var.shape != input.shape:
            if input.shape[:-1] == var.shape:
                var = var.unsqueeze(-1)
            elif not (input.ndim == var.ndim
                      and sum(v for i, v in zip(input.shape, var.shape) if i != v) == 1):
                raise ValueError(f"{who}: var is of incorrect size {var.shape} for input {input.shape}; expected "
                                 "the input's shape, that shape without its last dim, or with one dim of size 1")
        with no_grad():
            negative = bool((var < 0).any().item())
        if negative:
            raise ValueError(f"{who}: var has negative entries; variances must be >= 0")
    clamped = var + (var.clamp(min=eps) - var).detach()
    d = input - target
    loss = (clamped.log() + d * d / clamped) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """exp(input) - target * input with ``log_input``, else input - target * log(input + eps);
    ``full`` adds Stirling's term target log target - target + 0.5 log(2 pi target) where target > 1."""
    who = "poisson_nll_loss"
    _pair(who, input, target)
    number_arg(who, "eps", eps)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        big = target > 1
        safe = where(big, target, 2.0)  # log of the targets <= 1 is never taken, nor differentiated
        stirling = safe * safe.log() - safe + 0.5 * (safe * (2 * math.pi)).log()
        loss = loss + where(big, stirling, 0.0)
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- binary classification

def _check_unit_interval(who, t, name):
    with no_grad():
        inside = bool(((t >= 0) & (t <= 1)).all().item())
    if not inside:
        raise ValueError(f"{who}: all elements of {name} should be between 0 and 1")


def _log_clamped(p):
    """max(log(p), -100): PyTorch's clamp in binary_cross_entropy. Where p = 0 the log
    is not taken, so no 0 * inf reaches the gradient (which is 0 there, as the clamp's)."""
    positive = p > 0
    return where(positive, where(positive, p, 1.0).log(), -100.0).clamp(min=-100.0)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-weight (target log(input) + (1 - target) log(1 - input)), each log clamped at -100
    as in PyTorch. input and target must lie in [0, 1] (checked, like PyTorch's CPU)."""
    who = "binary_cross_entropy"
    _pair(who, input, target)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    weight = _weight_arg(who, weight, input.shape, input)
    _check_unit_interval(who, input, "input")
    _check_unit_interval(who, target, "target")
    loss = -(target * _log_clamped(input) + (1.0 - target) * _log_clamped(1.0 - input))
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(input), target) in PyTorch's stable form:
    (1 - target) input - (1 + (pos_weight - 1) target) logsigmoid(input), times weight.
    ``pos_weight`` weighs the positive term (one value per class, broadcast over the last dim)."""
    who = "binary_cross_entropy_with_logits"
    float_tensor_arg(who, input)
    float_tensor_arg(who, target, "target")
    _same_device(who, input, target, "the input and the target")
    if input.shape != target.shape:
        raise ValueError(f"{who}: target size {target.shape} must be the same as input size {input.shape}")
    reduction = reduction_arg(who, reduction, size_average, reduce)
    weight = _weight_arg(who, weight, input.shape, input)
    pos_weight = _weight_arg(who, pos_weight, input.shape, input, "pos_weight")
    log_sig = logsigmoid(input)
    if pos_weight is not None:
        log_sig = log_sig * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input - log_sig
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)) (targets +1 / -1), computed without overflow."""
    who = "soft_margin_loss"
    _pair(who, input, target)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    return _reduce((-(target * input)).logaddexp(0.0), reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """-(target logsigmoid(x) + (1 - target) logsigmoid(-x)) times weight, averaged over the
    classes (last dim): one value per sample before the reduction."""
    who = "multilabel_soft_margin_loss"
    _pair(who, input, target)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    if input.ndim == 0:
        raise ValueError(f"{who}: expected an input of shape (N, C) or (C,), got a 0-dim input")
    weight = _weight_arg(who, weight, input.shape, input)
    loss = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.sum(-1) / input.shape[-1]
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- distributions

def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise KL divergence of the log-probabilities ``input`` from ``target``:
    target (log target - input), 0 where target = 0 (or exp(target) (target - input)
    with ``log_target``). 'batchmean' divides the sum by the batch size (dim 0), which is
    the KL divergence proper; 'mean' divides by the element count, with PyTorch's warning."""
    who = "kl_div"
    _pair(who, input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_reduction(size_average, reduce)
    else:
        reduction_arg(who, reduction, allowed=_REDUCTIONS + ("batchmean",))
        if reduction == "mean":
            warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch size and the "
                          "support size; 'batchmean' divides only by the batch size, and aligns with the KL "
                          "div math definition (PyTorch's warning)", UserWarning, stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


# ---------------------------------------------------------------- margins and embeddings

def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """max(0, -target (input1 - input2) + margin): target 1 says input1 should rank higher."""
    who = "margin_ranking_loss"
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        float_tensor_arg(who, t, name)
        _same_device(who, input1, t, f"input1 and {name}")
    if not input1.ndim == input2.ndim == target.ndim:
        raise ValueError(f"{who}: all input tensors should have the same number of dims, got input1 "
                         f"{input1.shape}, input2 {input2.shape} and target {target.shape}")
    if not (input1.shape == input2.shape == target.shape):
        raise ValueError(f"{who}: input1 {input1.shape}, input2 {input2.shape} and target {target.shape} "
                         "must have the same shape")
    _margin_arg(who, margin)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    loss = (-target * (input1 - input2) + margin).clamp(min=0.0)
    return _reduce(loss, reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """input where target = 1, max(0, margin - input) where target = -1 (PyTorch's form:
    other target values get both terms)."""
    who = "hinge_embedding_loss"
    _pair(who, input, target)
    _margin_arg(who, margin)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    margin_term = where(target != 1, (margin - input).clamp(min=0.0), 0.0)
    self_term = where(target != -1, input, 0.0)
    return _reduce(margin_term + self_term, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """1 - cos(input1, input2) where target = 1, max(0, cos - margin) where target = -1.
    Inputs (N, D) with target (N,), or (D,) with a 0-dim target; cos as PyTorch
    computes it here: x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))."""
    who = "cosine_embedding_loss"
    for name, t in (("input1", input1), ("input2", input2), ("target", target)):
        float_tensor_arg(who, t, name)
        _same_device(who, input1, t, f"input1 and {name}")
    if target.ndim > 1:
        raise ValueError(f"{who}: 0-d or 1-d target tensor expected (multi-target not supported), "
                         f"got shape {target.shape}")
    if input1.shape != input2.shape or input1.ndim != target.ndim + 1:
        raise ValueError(f"{who}: a {target.ndim}-d target expects {target.ndim + 1}-d inputs of one shape, got "
                         f"input1 {input1.shape} and input2 {input2.shape}")
    if input1.shape[:-1] != target.shape:
        raise ValueError(f"{who}: target shape {target.shape} does not match the inputs' batch {input1.shape[:-1]}")
    _margin_arg(who, margin)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    eps = 1e-12
    prod = (input1 * input2).sum(-1)
    mag1 = (input1 * input1).sum(-1) + eps
    mag2 = (input2 * input2).sum(-1) + eps
    cos = prod / (mag1 * mag2).sqrt()
    pos = where(target == 1, 1.0 - cos, 0.0)
    neg = where(target == -1, (cos - margin).clamp(min=0.0), 0.0)
    return _reduce(pos + neg, reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """sum over i != y of weight[y] max(0, margin - x[y] + x[i])^p / C, per sample, for
    scores (N, C) (or (C,)) and class indices y (N,) (or a 0-d / 1-element target); p is 1 or 2.
    A term at exactly 0 has gradient 0, as PyTorch's."""
    who = "multi_margin_loss"
    float_tensor_arg(who, input)
    tensor_arg(who, target, "target")
    _same_device(who, input, target, "the input and the target")
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"{who}: only p == 1 and p == 2 are supported, got p={p!r}")
    _margin_arg(who, margin)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{who}: target must hold integer class indices, got dtype {target.dtype}; use .long()")
    if input.ndim not in (1, 2) or input.numel() == 0:
        raise ValueError(f"{who}: expected a non-empty input of shape (N, C) or (C,), got {input.shape}")
    n = input.shape[0] if input.ndim == 2 else 1
    if target.numel() != n or target.ndim > 1 or (input.ndim == 2 and target.ndim != 1):
        raise ValueError(f"{who}: target should be 1-d with one class index per sample: expected {n}, got "
                         f"shape {target.shape} for input {input.shape}")
    c = input.shape[-1]
    with no_grad():
        low, high = int(target.min().item()), int(target.max().item())
    if low < 0 or high >= c:
        raise IndexError(f"{who}: target {low if low < 0 else high} is out of range for {c} classes")
    if weight is not None:
        float_tensor_arg(who, weight, "weight")
        _same_device(who, input, weight, "the input and the weight")
        if weight.shape != (c,):
            raise ValueError(f"{who}: weight must have shape ({c},), one per class, got {weight.shape}")
    scores = input.reshape(n, c)
    labels = target.reshape(n, 1)
    picked = scores.gather(1, labels)
    z = scores - picked + margin
    others = labels != arange(c, device=input.device)  # i != y
    z = where(others & (z > 0), z, 0.0)
    if p == 2:
        z = z * z
    if weight is not None:
        z = z * weight[target.reshape(n)].reshape(n, 1)
    loss = z.sum(1) / c
    if input.ndim == 1:
        loss = loss.reshape(target.shape)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)), d the pairwise p-norm
    distance (with eps); ``swap`` uses min(d(a, n), d(p, n)) for the negative distance. margin > 0."""
    who = "triplet_margin_loss"
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        float_tensor_arg(who, t, name)
        _same_device(who, anchor, t, f"the anchor and {name}")
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{who}: the anchor, positive, and negative tensors are expected to have the same number "
                         f"of dimensions, got anchor {anchor.ndim}-d, positive {positive.ndim}-d and negative "
                         f"{negative.ndim}-d inputs")
    number_arg(who, "margin", margin, 0.0, low_open=True)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """sum over target classes j and non-target classes i of max(0, 1 - (x[j] - x[i])) / C, per
    sample. ``target`` (the input's shape, integer) lists each sample's classes first, then -1
    padding: the classes after the first -1 are ignored, as in PyTorch. A term at exactly 0 has
    gradient 0 (PyTorch's z > 0)."""
    who = "multilabel_margin_loss"
    float_tensor_arg(who, input)
    tensor_arg(who, target, "target")
    _same_device(who, input, target, "the input and the target")
    reduction = reduction_arg(who, reduction, size_average, reduce)
    if target.dtype.kind not in "iu":
        raise TypeError(f"{who}: target must hold integer class indices, got dtype {target.dtype}; use .long()")
    if input.ndim not in (1, 2) or input.numel() == 0:
        raise ValueError(f"{who}: expected a non-empty input of shape (N, C) or (C,), got {input.shape}")
    if target.shape != input.shape:
        raise ValueError(f"{who}: inconsistent target size {target.shape} for input of size {input.shape}; "
                         "they must match (pad the class lists with -1)")
    c = input.shape[-1]
    with no_grad():
        low, high = int(target.min().item()), int(target.max().item())
    if low < -1 or high >= c:
        raise IndexError(f"{who}: target {low if low < -1 else high} is out of range; expected class indices in "
                         f"[0, {c}) or -1 (the end of a sample's list)")
    n = input.shape[0] if input.ndim == 2 else 1
    scores = input.reshape(n, c)
    labels = target.reshape(n, c)
    listed = (labels == -1).long().cumsum(1) == 0  # (n, c): positions before the first -1
    classes = arange(c, device=input.device)
    hits = listed.unsqueeze(-1) & (labels.unsqueeze(-1) == classes)  # (n, position, class)
    is_target = hits.long().sum(1) > 0  # (n, class)
    picked = scores.gather(1, labels.clamp(min=0))  # (n, position): x[y[j]]
    z = 1.0 - picked.unsqueeze(-1) + scores.unsqueeze(1)  # (n, j, i)
    keep = listed.unsqueeze(-1) & ~is_target.unsqueeze(1) & (z > 0)
    loss = where(keep, z, 0.0).sum((1, 2)) / c
    if input.ndim == 1:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) with any distance function
    (``pairwise_distance`` when None); ``swap`` takes min(d(a, n), d(p, n)). margin > 0."""
    who = "triplet_margin_with_distance_loss"
    for name, t in (("anchor", anchor), ("positive", positive), ("negative", negative)):
        tensor_arg(who, t, name)
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise ValueError(f"{who}: the anchor, positive, and negative tensors are expected to have the same number "
                         f"of dimensions, got anchor {anchor.ndim}-d, positive {positive.ndim}-d and negative "
                         f"{negative.ndim}-d inputs")
    number_arg(who, "margin", margin, 0.0, low_open=True)
    reduction = reduction_arg(who, reduction)
    if distance_function is not None and not callable(distance_function):
        raise TypeError(f"{who}: distance_function must be callable or None, got {type(distance_function).__name__}")
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos = dist(anchor, positive)
    d_neg = dist(anchor, negative)
    if swap:
        d_neg = minimum(d_neg, dist(positive, negative))
    return _reduce((d_pos - d_neg + margin).clamp(min=0.0), reduction)
