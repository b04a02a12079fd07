"""Losses fused into one op each: the softmax and the loss share one pass, and
backward is the closed form (softmax - one_hot) instead of a chain of ops."""
from ..function import Function


def check_class_targets(be, who, target, n_classes, ignore_index):
    """(where target counts: it is not ``ignore_index``; the target with class 0 wherever it
    does not count or is out of range). A counted target outside [0, C) raises IndexError
    naming the first (on a GPU at the next host read); until that check raises, a bad target
    reads class 0, so nothing indexes out of bounds."""
    valid = be.not_equal(target, ignore_index)
    inside = be.logical_and(be.greater_equal(target, 0), be.less(target, n_classes))
    bad = be.logical_and(valid, be.logical_not(inside))
    be.check(bad, IndexError, _bad_target_message(be, who, target, n_classes, ignore_index))
    return valid, be.where(be.logical_and(valid, inside), target, 0)


def _bad_target_message(be, who, target, n_classes, ignore_index):
    def message():  # built only when raising
        targets = [int(t) for t in be.to_numpy(target).reshape(-1)]
        first = next(t for t in targets if t != ignore_index and not 0 <= t < n_classes)
        return (f"{who}: target {first} is out of bounds for {n_classes} classes "
                f"(expected 0 <= target < {n_classes}, or ignore_index={ignore_index})")
    return message


def _pick_targets(ctx, who, log_probs, target, reduction, ignore_index):
    """The per-row losses -log_probs[i, target[i]] reduced as asked; rows whose
    target is ``ignore_index`` count for nothing. Keeps what backward needs.
    A target outside [0, C) raises IndexError (on a GPU at the next host read)."""
    be = ctx.backend
    valid, safe_target = check_class_targets(be, who, target, log_probs.shape[1], ignore_index)
    picked = be.reshape(be.take_along_axis(log_probs, be.reshape(safe_target, (-1, 1)), 1), (-1,))
    losses = be.where(valid, be.neg(picked), be.zeros_like(picked))
    # the number of valid rows stays on the device (no wait on a GPU); NaN when
    # there are none, so a mean over zero targets is NaN as in PyTorch
    count = be.sum(valid)
    count = be.where(be.greater(count, 0), be.cast(count, log_probs.dtype), float("nan"))
    return _keep_and_reduce(ctx, losses, valid, safe_target, count, reduction, ignore_index)


def _keep_and_reduce(ctx, losses, valid, safe_target, count, reduction, ignore_index, total=None):
    """Keeps what backward needs and returns the per-row losses reduced as asked
    (``total``: their sum, when the caller has it already)."""
    ctx.target, ctx.valid, ctx.reduction, ctx.count = safe_target, valid, reduction, count
    ctx.params = {"reduction": reduction, "ignore_index": ignore_index}
    if reduction == "none":
        return losses
    if total is None:
        total = ctx.backend.sum(losses)
    return ctx.backend.div(total, count) if reduction == "mean" else total


def _row_scale(ctx, g, dtype):
    """d(loss)/d(row loss) as a column: g per row, g / count, or g; 0 on ignored rows."""
    return _scale_rows(ctx.backend, ctx.valid, ctx.reduction, ctx.count, g, dtype)


def _scale_rows(be, valid, reduction, count, g, dtype):
    scale = be.cast(be.reshape(valid, (-1, 1)), dtype)
    if reduction == "none":
        return be.mul(scale, be.reshape(g, (-1, 1)))
    if reduction == "mean":
        return be.mul(scale, be.div(g, count))
    return be.mul(scale, g)


class CrossEntropy(Function):
    """Cross entropy of logits (N, C) against class indices (N,), with
    ``ignore_index`` and ``reduction`` as in ``torch.nn.functional.cross_entropy``."""

    @staticmethod
    def forward(ctx, logits, target, reduction, ignore_index):
        be = ctx.backend
        ctx.fused = _fused_kernels(be, logits, target)
        if ctx.fused:
            return _fused_forward(ctx, logits, target, reduction, ignore_index)
        shifted = be.sub(logits, be.max(logits, axis=1, keepdims=True))
        log_probs = be.sub(shifted, be.log(be.sum(be.exp(shifted), axis=1, keepdims=True)))
        ctx.save_for_backward(log_probs)
        return _pick_targets(ctx, "cross_entropy", log_probs, target, reduction, ignore_index)

    @staticmethod
    def backward(ctx, g):
        (log_probs,) = ctx.saved_tensors
        be = ctx.backend
        if be.records:  # create_graph: one recorded op, differentiable again (CrossEntropyBackward)
            # log_softmax ignores a shift of each row, and log_probs is the logits
            # shifted, so log_probs standing for input 0 carries the graph of the logits
            logits = ctx.graph_input(0, log_probs)
            grad = CrossEntropyBackward.apply(logits, g, ctx.target, ctx.valid, ctx.count, ctx.reduction)
            return grad, None, None, None
        if ctx.fused and g.dtype == log_probs.dtype:
            # (softmax - one_hot) * (valid * scale) in one pass: scale is g / count, g, or g per row
            scale = be.div(g, ctx.count) if ctx.reduction == "mean" else g
            grad = be.kernels.cross_entropy_backward(log_probs, ctx.target, ctx.valid, scale)
            return grad, None, None, None
        idx = be.reshape(ctx.target, (-1, 1))
        grad = be.exp(log_probs)  # softmax - one_hot(target), in place
        be.put_along_axis(grad, idx, be.sub(be.take_along_axis(grad, idx, 1), 1), 1)
        return be.mul(grad, _row_scale(ctx, g, grad.dtype)), None, None, None


def _fused_kernels(be, logits, target):
    """Whether the device's fused cross entropy (the CPU's kernels/cpu/crossentropy.py)
    takes these arrays: 2-d float32 or float64 logits with a class or more, int64
    targets. Other devices and arrays run the composed form."""
    return (hasattr(be.kernels, "cross_entropy") and logits.ndim == 2 and logits.shape[1] > 0
            and logits.dtype.kind == "f" and logits.dtype.itemsize in (4, 8)
            and target.dtype.kind == "i" and target.dtype.itemsize == 8 and target.ndim == 1)


def _fused_forward(ctx, logits, target, reduction, ignore_index):
    be = ctx.backend
    log_probs, losses, valid, safe_target, bad, total, count = be.kernels.cross_entropy(
        logits, target, ignore_index)
    be.check(bad, IndexError, _bad_target_message(be, "cross_entropy", target, logits.shape[1], ignore_index))
    ctx.save_for_backward(log_probs)
    return _keep_and_reduce(ctx, losses, valid, safe_target, count, reduction, ignore_index, total)


class CrossEntropyBackward(Function):
    """Cross entropy's gradient in the logits, (softmax(z) - one_hot) * scale, as
    one op of a recorded backward pass (``create_graph=True``): its forward is
    the first-order closed form, and its backward the second, with p = softmax(z),
    Gs = G * scale per row (G: what reaches this op's output):
        d/dz = p * (Gs - rowsum(p * Gs)),   d/dg = the row sums of (p - one_hot) * G,
    reduced as the loss was (mean: over valid rows / count). ``log_probs`` stands
    for the logits z (softmax ignores a shift of each row): forward computes
    exactly what the first-order backward does, and backward recomputes p from it
    with recorded ops, so every higher order is exact too."""

    @staticmethod
    def forward(ctx, log_probs, g, target, valid, count, reduction):
        be = ctx.backend
        idx = be.reshape(target, (-1, 1))
        grad = be.exp(log_probs)
        be.put_along_axis(grad, idx, be.sub(be.take_along_axis(grad, idx, 1), 1), 1)
        ctx.save_for_backward(log_probs, g)
        ctx.target, ctx.valid, ctx.count, ctx.reduction = target, valid, count, reduction
        ctx.params = {"reduction": reduction}
        return be.mul(grad, _scale_rows(be, valid, reduction, count, g, grad.dtype))

    @staticmethod
    def backward(ctx, G):
        logits, g = ctx.saved_tensors
        be = ctx.backend
        nz, ng = ctx.needs_input_grad[:2]
        shifted = be.sub(logits, be.max(logits, axis=1, keepdims=True))
        p = be.exp(be.sub(shifted, be.log(be.sum(be.exp(shifted), axis=1, keepdims=True))))
        dz = dg = None
        if nz:
            gs = be.mul(G, _scale_rows(be, ctx.valid, ctx.reduction, ctx.count, g, p.dtype))
            dz = be.mul(p, be.sub(gs, be.sum(be.mul(p, gs), axis=1, keepdims=True)))
        if ng:
            one_hot = be.base.zeros(p.shape, p.dtype)
            be.base.put_along_axis(one_hot, be.base.reshape(ctx.target, (-1, 1)), 1, 1)
            rows = be.mul(be.sum(be.mul(be.sub(p, one_hot), G), axis=1),
                          be.cast(ctx.valid, p.dtype))  # (N,): d(row scale) per row
            if ctx.reduction == "none":
                dg = rows
            else:
                dg = be.sum(rows)
                if ctx.reduction == "mean":
                    dg = be.div(dg, ctx.count)
            dg = be.cast(dg, g.dtype)
        return dz, dg, None, None, None, None


class NLL(Function):
    """Negative log likelihood of log-probabilities (N, C) and class indices (N,)."""

    @staticmethod
    def forward(ctx, log_probs, target, reduction, ignore_index):
        ctx.shape, ctx.dtype = log_probs.shape, log_probs.dtype
        return _pick_targets(ctx, "nll_loss", log_probs, target, reduction, ignore_index)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        grad = be.zeros(ctx.shape, ctx.dtype)  # -one_hot(target)
        be.put_along_axis(grad, be.reshape(ctx.target, (-1, 1)), be.neg(_row_scale(ctx, g, ctx.dtype)), 1)
        return grad, None, None, None
