"""Shape ops: reshape, permute, expand, indexing, cat and stack."""
from ..autograd import Function


class Reshape(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        ctx.params = {"shape": shape}
        return ctx.backend.reshape(a, shape)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.reshape(g, ctx.in_shape), None


class Permute(Function):
    is_view = True

    @staticmethod
    def forward(ctx, a, axes):
        ctx.axes = axes
        ctx.params = {"dims": axes}
        return ctx.backend.transpose(a, axes)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inverse[a] = i
        return ctx.backend.transpose(g, tuple(inverse)), None


class Expand(Function):
    """Broadcast to a larger shape without copying; backward sums the copies."""

    is_view = True

    @staticmethod
    def forward(ctx, a, shape):
        ctx.in_shape = a.shape
        ctx.params = {"shape": shape}
        return ctx.backend.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.unbroadcast(g, ctx.in_shape), None


class GetItem(Function):
    """Indexing with ints, slices, None, Ellipsis and integer or boolean arrays.
    Backward scatters with addition, so an index repeated in an integer array
    receives the sum of its gradients."""

    is_view = True

    @staticmethod
    def forward(ctx, a, index):
        ctx.in_shape, ctx.in_dtype, ctx.index = a.shape, a.dtype, index
        return ctx.backend.getitem(a, index)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.scatter_add(ctx.in_shape, g.dtype, ctx.index, g), None


class Cat(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        ctx.params = {"dim": axis}
        return ctx.backend.concatenate(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        bounds = []
        total = 0
        for n in ctx.sizes[:-1]:
            total += n
            bounds.append(total)
        return (None, *be.split_at(g, bounds, axis=ctx.axis))


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *arrays):
        ctx.axis = axis
        ctx.params = {"dim": axis}
        return ctx.backend.stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        n = g.shape[ctx.axis]
        parts = be.split_at(g, n, axis=ctx.axis)
        return (None, *(be.reshape(p, p.shape[:ctx.axis] + p.shape[ctx.axis + 1:]) for p in parts))
