"""Reductions and the softmax family. ``axis`` is None (all), an int or a tuple."""
from collections import namedtuple

from ..function import Function

MaxMin = namedtuple("MaxMin", ["values", "indices"])


def normalize_axis(axis, ndim, op):
    """Axis argument as a sorted tuple of non-negative ints, with a clear error."""
    if axis is None:
        return tuple(range(ndim))
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int):  # a bool is no dim, as in PyTorch
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {a!r}")
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(
                f"{op}: dim {a} is out of range for a tensor with {ndim} dimensions "
                f"(expected a value in [{-max(ndim, 1)}, {max(ndim, 1) - 1}])"
            )
        out.append(a % max(ndim, 1) if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {axis!r} names the same dimension twice; expected distinct dims")
    return tuple(sorted(out)) if ndim else ()


def reduce_args(t, dim, keepdim, op):
    """(axes, keepdim) from PyTorch's ``dim``/``keepdim`` (NumPy's ``axis``/``keepdims`` are
    renamed to them before: arguments.accepts_axis)."""
    return normalize_axis(dim, t.ndim, op), bool(keepdim)


def extreme(t, which, dim, keepdim, indices=True):
    """max/min of all elements, or (values, indices) along one dim, as in PyTorch
    (values alone with ``indices=False``: amax/amin)."""
    op = "amax" if which == "max" else "amin"
    axes, keep = reduce_args(t, dim, keepdim, op)
    if any(t.shape[a] == 0 for a in axes):  # PyTorch's classes: RuntimeError over all, IndexError along a dim
        raise (RuntimeError if dim is None else IndexError)(
            f"{op}: cannot reduce over an empty dimension (shape {t.shape}); a max or min needs at least one element")
    values = (Max if which == "max" else Min).apply(t, axes, keep)
    if not indices or dim is None:
        return values
    arg = t.argmax if which == "max" else t.argmin
    return MaxMin(values, arg(dim, keep))


def _expand_back(be, g, in_shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input again."""
    if not keepdims:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        g = be.reshape(g, tuple(shape))
    return g


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        ctx.params = {"dim": axes, "keepdim": keepdims}
        return ctx.backend.sum(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        g = _expand_back(be, g, ctx.in_shape, ctx.axes, ctx.keepdims)
        return be.ascontiguous(be.broadcast_to(g, ctx.in_shape)), None, None


class Prod(Function):
    """The product over axes. d prod / d x_i is the product of the others: out / x_i
    where x_i != 0; where a slice holds one zero, that zero's gradient is the product of
    the rest and the others' 0; with two or more zeros every gradient is 0 (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, a, axes, keepdims):
        be = ctx.backend
        axes = tuple(range(a.ndim)) if axes is None else axes
        ctx.in_shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        ctx.params = {"dim": axes, "keepdim": keepdims}
        out = be.prod(a, axis=axes, keepdims=keepdims)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        be = ctx.backend
        axes = ctx.axes
        g = _expand_back(be, g, ctx.in_shape, axes, ctx.keepdims)
        out = _expand_back(be, out, ctx.in_shape, axes, ctx.keepdims)
        is_zero = be.equal(a, 0)
        zeros = be.sum(be.cast(is_zero, "int64"), axis=axes, keepdims=True)
        safe = be.where(is_zero, 1, a)
        others = be.prod(safe, axis=axes, keepdims=True)  # the product of the non-zero elements
        at_zero = be.where(be.equal(zeros, 1), others, 0)
        local = be.where(is_zero, at_zero, be.div(out, safe))
        return be.mul(g, local), None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, a, axes, keepdims):
        ctx.in_shape, ctx.axes, ctx.keepdims = a.shape, axes, keepdims
        ctx.params = {"dim": axes, "keepdim": keepdims}
        count = 1
        for ax in axes:
            count *= a.shape[ax]
        ctx.count = count
        if count == 0:  # NaN, as PyTorch (NumPy's mean would warn "Mean of empty slice")
            return ctx.backend.mul(ctx.backend.sum(a, axis=axes, keepdims=keepdims), float("nan"))
        return ctx.backend.mean(a, axis=axes, keepdims=keepdims)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        # with no elements averaged the input's gradient is empty: any divisor will do
        g = _expand_back(be, be.div(g, max(ctx.count, 1)), ctx.in_shape, ctx.axes, ctx.keepdims)
        return be.ascontiguous(be.broadcast_to(g, ctx.in_shape)), None, None


class _Extreme(Function):
    """max/min over axes. Ties share the gradient equally (PyTorch's amax/amin rule)."""

    reduce_name = None

    @classmethod
    def forward(cls, ctx, a, axes, keepdims):
        be = ctx.backend
        ctx.params = {"dim": axes, "keepdim": keepdims}
        out = getattr(be, cls.reduce_name)(a, axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        if keepdims:
            return out
        return be.reshape(out, tuple(n for i, n in enumerate(a.shape) if i not in axes))

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        be = ctx.backend
        g = _expand_back(be, g, a.shape, ctx.axes, ctx.keepdims)
        mask = be.cast(be.equal(a, out), g.dtype)
        count = be.sum(mask, axis=ctx.axes, keepdims=True)
        return be.mul(mask, be.div(g, count)), None, None


class Max(_Extreme):
    reduce_name = "max"


class Min(_Extreme):
    reduce_name = "min"


def _centered(be, a, axes):
    """a less its mean over axes (a itself when that is empty: nothing to center, and no
    NumPy warning about the mean of an empty slice)."""
    if a.size == 0:
        return a
    return be.sub(a, be.mean(a, axis=axes, keepdims=True))


class Var(Function):
    """Variance over axes with ``correction`` (1 = unbiased, 0 = biased), as torch.var.
    Saves its input (as PyTorch does), so a recorded backward sees how the
    centered values depend on it."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdims):
        be = ctx.backend
        count = 1
        for ax in axes:
            count *= a.shape[ax]
        denom = count - correction
        centered = _centered(be, a, axes)
        ctx.save_for_backward(a)
        ctx.axes, ctx.keepdims, ctx.denom = axes, keepdims, denom
        ctx.params = {"dim": axes, "correction": correction, "keepdim": keepdims}
        sq = be.sum(be.mul(centered, centered), axis=axes, keepdims=keepdims)
        # no degrees of freedom (denom <= 0): PyTorch divides by max(0, denom), so inf
        # where the values differ and NaN (0 / 0) where they are all equal
        return be.div(sq, float(denom)) if denom > 0 else be.mul(sq, float("inf"))

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        be = ctx.backend
        centered = _centered(be, a, ctx.axes)
        g = _expand_back(be, g, a.shape, ctx.axes, ctx.keepdims)
        scale = 2.0 / ctx.denom if ctx.denom > 0 else float("inf")  # as the forward: 2 (x - mean) / 0
        return be.mul(be.mul(centered, scale), g), None, None, None


class Std(Function):
    """Standard deviation over axes with ``correction``, as torch.std. One op,
    not sqrt(var): where the std is 0 (constant input) the gradient is 0, as in
    PyTorch, where the chain rule through sqrt would give 0 * inf = NaN."""

    @staticmethod
    def forward(ctx, a, axes, correction, keepdims):
        var = Var.forward(ctx, a, axes, correction, keepdims)
        out = ctx.backend.sqrt(var)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        be = ctx.backend
        centered = _centered(be, a, ctx.axes)
        g = _expand_back(be, g, a.shape, ctx.axes, ctx.keepdims)
        std = _expand_back(be, out, a.shape, ctx.axes, ctx.keepdims)
        if ctx.denom <= 0:  # (x - mean) / (0 * std): NaN everywhere, in the input's shape
            return be.mul(be.mul(centered, g), float("nan")), None, None, None
        # d std / d x = (x - mean) / (denom * std), set to 0 where std is 0
        positive = be.greater(std, 0)
        scale = be.where(positive, be.div(1.0 / ctx.denom, be.where(positive, std, 1)), 0)
        return be.mul(be.mul(centered, scale), g), None, None, None


class Norm2(Function):
    """The Euclidean norm over axes, as torch.norm / linalg.vector_norm with p=2:
    d|x|/dx = x / |x|, and 0 where the norm is 0 (PyTorch's choice; the chain
    rule through sqrt would give NaN there)."""

    @staticmethod
    def forward(ctx, a, axes, keepdims):
        be = ctx.backend
        out = be.sqrt(be.sum(be.mul(a, a), axis=axes, keepdims=keepdims))
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.keepdims = axes, keepdims
        ctx.params = {"p": 2, "dim": axes, "keepdim": keepdims}
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        be = ctx.backend
        norm = _expand_back(be, out, a.shape, ctx.axes, ctx.keepdims)
        g = _expand_back(be, g, a.shape, ctx.axes, ctx.keepdims)
        positive = be.greater(norm, 0)
        scale = be.where(positive, be.div(g, be.where(positive, norm, 1)), 0)
        return be.mul(a, scale), None, None


class LogSoftmax(Function):
    """log_softmax along one axis, computed as x - max - log(sum(exp(x - max)))
    so large logits do not overflow."""

    @staticmethod
    def forward(ctx, a, axis):
        be = ctx.backend
        if a.shape[axis] == 0:  # no elements to normalize along: an empty result, as PyTorch's
            out = be.full(a.shape, 0, a.dtype)
        else:
            shifted = be.sub(a, be.max(a, axis=axis, keepdims=True))
            out = be.sub(shifted, be.log(be.sum(be.exp(shifted), axis=axis, keepdims=True)))
        ctx.save_for_backward(out)
        ctx.axis = axis
        ctx.params = {"dim": axis}
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        return be.sub(g, be.mul(be.exp(out), be.sum(g, axis=ctx.axis, keepdims=True))), None


class Softmax(Function):
    @staticmethod
    def forward(ctx, a, axis):
        be = ctx.backend
        if a.shape[axis] == 0:  # as LogSoftmax
            out = be.full(a.shape, 0, a.dtype)
        else:
            e = be.exp(be.sub(a, be.max(a, axis=axis, keepdims=True)))
            out = be.div(e, be.sum(e, axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        ctx.params = {"dim": axis}
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        be = ctx.backend
        gy = be.mul(g, out)
        return be.sub(gy, be.mul(out, be.sum(gy, axis=ctx.axis, keepdims=True))), None
