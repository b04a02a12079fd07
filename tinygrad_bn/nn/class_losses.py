"""Cross entropy and negative log likelihood over classes, with
``torch.nn.functional``'s signatures and semantics: class-index targets with
``ignore_index``, class ``weight``, ``label_smoothing`` and probability targets
(cross entropy), inputs (C,), (N, C) or (N, C, d1, ..., dk).

The common case (index targets, no weight, no smoothing) runs as one fused op
(``ops.loss``: the softmax and the loss in one pass, a closed-form backward);
the others are compositions of recorded tensor ops, so backward, double
backward and every device come with them. Either way the input is first laid
out as rows of classes: (M, C), with M = N * d1 * ... * dk.
"""
from ..arguments import devices_differ, float_tensor_arg, number_arg
from ..ops import loss as LS
from ..tensor import Tensor
from ..tensor_base import array_of, backend_of, make_tensor, same_device
from .loss_functional import reduction_arg

__all__ = ["cross_entropy", "nll_loss"]


def _rows_of_classes(who, input, target, probabilities_allowed):
    """(input as (M, C), target as (M,) indices or (M, C) probabilities, whether the target
    holds probabilities, the shape a 'none' reduction returns)."""
    float_tensor_arg(who, input)
    if not isinstance(target, Tensor):
        raise TypeError(f"{who}: target must be a Tensor of class indices, got {type(target).__name__}")
    if not same_device(input, target):
        raise devices_differ(who, input.device, target.device, "the input and the target")
    if input.ndim < 1:
        raise ValueError(f"{who}: expected input of shape (C,), (N, C) or (N, C, d1, ...), got a 0-d input")
    probabilities = target.dtype.kind == "f"
    if probabilities and not probabilities_allowed:
        raise TypeError(f"{who}: target must hold integer class indices, got dtype {target.dtype}; use target.long()")
    if not probabilities and target.dtype.kind not in "iu":
        raise TypeError(f"{who}: target must hold integer class indices or float probabilities, got dtype "
                        f"{target.dtype}")
    classes = input.shape[0] if input.ndim == 1 else input.shape[1]
    batch = () if input.ndim == 1 else (input.shape[0],) + tuple(input.shape[2:])
    want = tuple(input.shape) if probabilities else batch
    if tuple(target.shape) != want:
        kind = "probabilities (the input's shape)" if probabilities else "class indices"
        raise ValueError(f"{who}: expected a target of {kind} of shape {want} for input of shape "
                         f"{tuple(input.shape)}, got {tuple(target.shape)}")
    def as_rows(t):  # (C,), (N, C) or (N, C, d1, ...) -> (M, C): class dim last, the rest flattened
        if t.ndim == 1:
            return t.reshape(1, classes)
        return t if t.ndim == 2 else t.movedim(1, -1).reshape(-1, classes)
    # probabilities come in the input's shape; class indices in the batch's
    return as_rows(input), as_rows(target) if probabilities else target.reshape(-1), probabilities, batch


def _class_weight(who, weight, input, classes):
    if weight is None:
        return None
    float_tensor_arg(who, weight, "weight")
    if not same_device(input, weight):
        raise devices_differ(who, input.device, weight.device, "the input and the weight")
    if tuple(weight.shape) != (classes,):
        raise ValueError(f"{who}: weight must hold one value per class, shape ({classes},), got {tuple(weight.shape)}")
    if weight.dtype != input.dtype:
        raise TypeError(f"{who}: weight dtype {weight.dtype} differs from the input's {input.dtype}; "
                        f"use weight.to(input.dtype)")
    return weight


def _nll_rows(who, log_probs, target, weight, ignore_index, reduction, label_smoothing=0.0):
    """The loss of rows of log-probabilities against class indices, PyTorch's rules: a row's
    term is -weight[t] * log_p[t] (0 for ignored rows), 'mean' divides by the weights of the
    rows counted; smoothing mixes in -sum_c weight[c] * log_p[c] / C, reduced alike."""
    classes = log_probs.shape[1]
    be = backend_of(target)
    # an ignored row reads class 0 and counts for nothing; so does a class out of range until the
    # deferred check raises (on a GPU nothing may index outside the rows before it does)
    counted, safe = LS.check_class_targets(be, who, array_of(target), classes, ignore_index)
    counted = make_tensor(counted, be).to(log_probs.dtype)  # 1 for a row that counts, else 0
    safe = make_tensor(safe, be)
    picked = log_probs.gather(1, safe.reshape(-1, 1)).reshape(-1)
    row_weight = counted
    if weight is not None:
        row_weight = row_weight * weight[safe]
    loss = -picked * row_weight
    if label_smoothing:
        every = log_probs if weight is None else log_probs * weight.reshape(1, classes)
        smooth = -every.sum(1) * counted
        loss = (1 - label_smoothing) * loss + (label_smoothing / classes) * smooth
    if reduction == "mean":
        return loss.sum() / row_weight.sum()
    return loss.sum() if reduction == "sum" else loss


def _probability_rows(log_probs, target, weight, reduction, label_smoothing):
    """-sum_c weight[c] * p[c] * log_q[c] per row, the target p smoothed toward uniform;
    'mean' divides by the number of rows (PyTorch's rule for probability targets)."""
    classes = log_probs.shape[1]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = log_probs * target
    if weight is not None:
        terms = terms * weight.reshape(1, classes)
    loss = -terms.sum(1)
    if reduction == "mean":
        return loss.sum() / log_probs.shape[0]
    return loss.sum() if reduction == "sum" else loss


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy of logits against class indices or class probabilities, as
    ``torch.nn.functional.cross_entropy``."""
    who = "cross_entropy"
    rows, target_rows, probabilities, batch = _rows_of_classes(who, input, target, True)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    number_arg(who, "ignore_index", ignore_index, integer=True)
    label_smoothing = number_arg(who, "label_smoothing", label_smoothing, 0.0, 1.0)
    weight = _class_weight(who, weight, input, rows.shape[1])
    if not probabilities and weight is None and not label_smoothing:
        loss = LS.CrossEntropy.apply(rows, target_rows, reduction, ignore_index)
    else:
        log_probs = rows.log_softmax(1)
        loss = _probability_rows(log_probs, target_rows, weight, reduction, label_smoothing) if probabilities \
            else _nll_rows(who, log_probs, target_rows, weight, ignore_index, reduction, label_smoothing)
    return loss.reshape(batch) if reduction == "none" else loss


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of log-probabilities against class indices, as
    ``torch.nn.functional.nll_loss``."""
    who = "nll_loss"
    rows, target_rows, _, batch = _rows_of_classes(who, input, target, False)
    reduction = reduction_arg(who, reduction, size_average, reduce)
    number_arg(who, "ignore_index", ignore_index, integer=True)
    weight = _class_weight(who, weight, input, rows.shape[1])
    if weight is None:
        loss = LS.NLL.apply(rows, target_rows, reduction, ignore_index)
    else:
        loss = _nll_rows(who, rows, target_rows, weight, ignore_index, reduction)
    return loss.reshape(batch) if reduction == "none" else loss
