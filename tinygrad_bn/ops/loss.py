"""Losses fused into one op each: the softmax and the loss share one pass, and
backward is the closed form (softmax - one_hot) instead of a chain of ops."""
from ..autograd import Function


def _reduce_loss(be, losses, reduction, count):
    if reduction == "mean":
        return be.div(be.sum(losses), count)
    if reduction == "sum":
        return be.sum(losses)
    return losses


class CrossEntropy(Function):
    """Cross entropy of logits (N, C) against class indices (N,), with
    ``ignore_index`` and ``reduction`` as in ``torch.nn.functional.cross_entropy``."""

    @staticmethod
    def forward(ctx, logits, target, reduction, ignore_index):
        be = ctx.backend
        shifted = be.sub(logits, be.max(logits, axis=1, keepdims=True))
        log_probs = be.sub(shifted, be.log(be.sum(be.exp(shifted), axis=1, keepdims=True)))
        valid = be.not_equal(target, ignore_index)
        safe_target = be.where(valid, target, 0)
        picked = be.reshape(be.take_along_axis(log_probs, be.reshape(safe_target, (-1, 1)), 1), (-1,))
        losses = be.where(valid, be.neg(picked), be.zeros_like(picked))
        count = be.count_nonzero(valid)
        ctx.save_for_backward(log_probs)
        ctx.target, ctx.valid, ctx.reduction, ctx.count = safe_target, valid, reduction, count
        ctx.params = {"reduction": reduction, "ignore_index": ignore_index}
        # mean over zero valid targets is NaN in PyTorch too
        return _reduce_loss(be, losses, reduction, count if count else float("nan"))

    @staticmethod
    def backward(ctx, g):
        (log_probs,) = ctx.saved_tensors
        be = ctx.backend
        grad = be.exp(log_probs)  # softmax
        idx = be.reshape(ctx.target, (-1, 1))
        be.put_along_axis(grad, idx, be.sub(be.take_along_axis(grad, idx, 1), 1), 1)
        scale = be.cast(be.reshape(ctx.valid, (-1, 1)), grad.dtype)
        if ctx.reduction == "none":
            scale = be.mul(scale, be.reshape(g, (-1, 1)))
        elif ctx.reduction == "mean":
            scale = be.mul(scale, be.div(g, ctx.count if ctx.count else float("nan")))
        else:
            scale = be.mul(scale, g)
        return be.mul(grad, scale), None, None, None


class NLL(Function):
    """Negative log likelihood of log-probabilities (N, C) and class indices (N,)."""

    @staticmethod
    def forward(ctx, log_probs, target, reduction, ignore_index):
        be = ctx.backend
        valid = be.not_equal(target, ignore_index)
        safe_target = be.where(valid, target, 0)
        picked = be.reshape(be.take_along_axis(log_probs, be.reshape(safe_target, (-1, 1)), 1), (-1,))
        losses = be.where(valid, be.neg(picked), be.zeros_like(picked))
        count = be.count_nonzero(valid)
        ctx.shape, ctx.dtype = log_probs.shape, log_probs.dtype
        ctx.target, ctx.valid, ctx.reduction, ctx.count = safe_target, valid, reduction, count
        ctx.params = {"reduction": reduction, "ignore_index": ignore_index}
        return _reduce_loss(be, losses, reduction, count if count else float("nan"))

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        grad = be.zeros(ctx.shape, dtype=ctx.dtype)
        if ctx.reduction == "none":
            per_row = be.neg(g)
        elif ctx.reduction == "mean":
            per_row = be.full(ctx.shape[:1], -1.0 / ctx.count if ctx.count else float("nan"), dtype=ctx.dtype)
            per_row = be.mul(per_row, g)
        else:
            per_row = be.mul(be.full(ctx.shape[:1], -1.0, dtype=ctx.dtype), g)
        per_row = be.where(ctx.valid, per_row, be.zeros_like(per_row))
        be.put_along_axis(grad, be.reshape(ctx.target, (-1, 1)), be.reshape(per_row, (-1, 1)), 1)
        return grad, None, None, None
