"""Copies: dtype casts, clones, moves between devices, and overwrites (the
recorded form of ``fill_`` and ``copy_``)."""
from ..backends import move
from ..function import Function


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype):
        ctx.params = {"dtype": str(dtype)}
        # its callers (Tensor.to, the recording backend's cast) cast only to another dtype
        return ctx.backend.cast(a, dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None  # the engine casts it back to the input's dtype


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return ctx.backend.copy(a)

    @staticmethod
    def backward(ctx, g):
        return g


class ToDevice(Function):
    """A copy on another device; backward moves the gradient back."""

    @staticmethod
    def forward(ctx, a, target):
        ctx.output_backend = target
        ctx.params = {"from": ctx.backend.name, "to": target.name}
        return move(a, ctx.backend, target)

    @staticmethod
    def backward(ctx, g):
        if ctx.backend.records:  # a recorded backward: the move back is an op too
            return ToDevice.apply(g, ctx.backend.base), None
        return move(g, ctx.output_backend, ctx.backend), None


class Overwrite(Function):
    """Every element of ``a`` replaced by ``src`` (a number, or an array that
    broadcasts to a's shape), in a's dtype. The old values get a zero gradient;
    ``src`` gets the gradient summed over the broadcast."""

    @staticmethod
    def forward(ctx, a, src):
        be = ctx.backend
        ctx.src_shape = getattr(src, "shape", None)
        out = be.zeros(a.shape, a.dtype)
        be.copyto(out, src)
        return out

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        # the old values get a gradient of zeros (not None), as in PyTorch: a leaf upstream gets .grad = 0
        old = be.zeros_like(g) if ctx.needs_input_grad[0] else None
        return old, be.unbroadcast(g, ctx.src_shape) if ctx.needs_input_grad[1] else None
