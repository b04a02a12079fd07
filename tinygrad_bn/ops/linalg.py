"""Matrix products: ``@`` with NumPy's matmul rules, and the fused affine map of
``nn.Linear`` (one op instead of matmul + transpose + add)."""
from ..function import Function


def matmul(a, b):
    """a @ b after checking that the shapes multiply."""
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0]:  # the common case, checked cheaply
        return MatMul.apply(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both operands need at least 1 dimension, got shapes {a.shape} and {b.shape}")
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if ka != kb:
        raise RuntimeError(
            f"matmul: shapes {sa} and {sb} cannot be multiplied ({ka} != {kb}); "
            "the last dim of the first must equal the second-to-last dim of the second."
        )
    for x, y in zip(reversed(sa[:-2]), reversed(sb[:-2])):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(f"matmul: batch dimensions of {sa} and {sb} do not broadcast")
    return MatMul.apply(a, b)


class MatMul(Function):
    """a @ b for 1-d, 2-d and batched (broadcast) operands."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.backend.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        be = ctx.backend
        na, nb = ctx.needs_input_grad
        # Promote 1-d operands to matrices the way matmul does, then undo it.
        a2 = be.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = be.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        # g in the promoted (..., m, n) layout: same elements, the dropped 1s put back
        batch = g.shape[:-2] if (a.ndim > 1 and b.ndim > 1) else g.shape[:max(g.ndim - 1, 0)] \
            if (a.ndim > 1 or b.ndim > 1) else ()
        g2 = be.reshape(g, tuple(batch) + (a2.shape[-2], b2.shape[-1]))
        ga = gb = None
        if na:
            ga = be.matmul(g2, be.swapaxes(b2, -1, -2))
            ga = be.unbroadcast(ga, a2.shape)
            if ga.shape != a.shape:  # a view only where needed: a fresh array is kept as .grad uncopied
                ga = be.reshape(ga, a.shape)
        if nb:
            gb = be.matmul(be.swapaxes(a2, -1, -2), g2)
            gb = be.unbroadcast(gb, b2.shape)
            if gb.shape != b.shape:
                gb = be.reshape(gb, b.shape)
        return ga, gb


class Linear(Function):
    """y = x @ W.T + b for x of shape (*, in), W (out, in), b (out,) or None."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        be = ctx.backend
        ctx.save_for_backward(x, weight)
        ctx.params = {"in_features": weight.shape[1], "out_features": weight.shape[0]}
        out = be.matmul(x, be.swapaxes(weight, 0, 1))
        if bias is not None:
            be.iadd(out, bias)
        return out

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        be = ctx.backend
        nx, nw, nb = ctx.needs_input_grad
        gx = be.matmul(g, weight) if nx else None
        gw = gb = None
        if nw or nb:
            g2 = be.reshape(g, (-1, g.shape[-1]))
            if nw:
                gw = be.matmul(be.swapaxes(g2, 0, 1), be.reshape(x, (-1, x.shape[-1])))
            if nb:
                gb = be.sum(g2, axis=0)
        return gx, gw, gb
