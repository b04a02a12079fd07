"""Shape ops: reshape, permute, expand, indexing, cat and stack; each op with
the function that checks its arguments before it runs (Tensor methods call these)."""
import math
import numbers

from ..arguments import accepts_axis, devices_differ
from ..function import Function
from ..promotion import result_type
from ..tensor_base import TensorBase, new_tensor
from .index_args import fill_number, python_number
from .reduce import normalize_axis


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


class ScatterAdd(Function):
    """zeros(shape) with values added at index (repeats summed): GetItem's
    backward, as an op of its own so that backward can be recorded too. Its
    own backward reads the gradient back at the same index."""

    @staticmethod
    def forward(ctx, values, shape, index):
        ctx.index = index
        return ctx.backend.scatter_add(shape, values.dtype, index, values)

    @staticmethod
    def backward(ctx, g):
        return ctx.backend.getitem(g, ctx.index), None, None


class SetItem(Function):
    """a with a[index] replaced by value (broadcast), as a new array: the
    recorded form of ``t[index] = value`` (``Tensor.__setitem__`` writes the
    result back in place). The replaced places pass no gradient to a; value
    gets the gradient of the places it filled, summed where it was broadcast."""

    @staticmethod
    def forward(ctx, a, index, value):
        be = ctx.backend
        out = be.copy(a)
        be.setitem(out, index, value)
        ctx.index, ctx.value_shape = index, tuple(getattr(value, "shape", ()))
        return out

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        ga = gv = None
        if ctx.needs_input_grad[0]:
            ga = be.copy(g)
            be.setitem(ga, ctx.index, 0)
        if ctx.needs_input_grad[2]:
            gv = be.unbroadcast(be.getitem(g, ctx.index), ctx.value_shape)
        return ga, None, gv


class ViewWrite(Function):
    """The tensor that owns a view's memory, after an in-place write through the
    view (PyTorch's CopySlices): the values are already in memory; on the tape
    the owner now depends on its old self outside the view and on the written
    view inside it. ``steps`` are the view ops from owner to view."""

    @staticmethod
    def forward(ctx, owner, view, steps):
        ctx.steps, ctx.owner_shape, ctx.owner_dtype = steps, owner.shape, owner.dtype
        return owner  # the write went into this memory

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        keep_owner, to_view = ctx.needs_input_grad[:2]
        ga = gv = None
        if keep_owner:  # the old values count outside the view only
            mask = be.base.full(ctx.owner_shape, 1, ctx.owner_dtype)
            be.base.setitem(replay_view(be.base, mask, ctx.steps), ..., 0)
            ga = be.mul(g, mask)
        if to_view:
            gv = replay_view(be, g, ctx.steps)
        return ga, gv, None


def replay_view(be, a, steps):
    """The view ``steps`` made, taken of ``a`` (an array, or a tensor on the recording backend)."""
    from ..function import Context
    for cls, extra in steps:
        a = cls.apply(a, *extra) if be.records else cls.forward(Context(be, ()), a, *extra)
    return a


def broadcasts_to(shape, target):
    """Whether an array of ``shape`` broadcasts to ``target`` without growing it."""
    extra = len(shape) - len(target)
    if extra > 0 and any(d != 1 for d in shape[:extra]):
        return False
    tail = shape[max(extra, 0):]
    return all(s in (1, t) for s, t in zip(tail, target[len(target) - len(tail):]))


def setitem(t, index, value):
    """``t[index] = value`` in place, as PyTorch: a version bump, an error on a
    leaf that requires grad outside no_grad(), recorded on a tensor that has a
    tape entry. value is a number or a tensor broadcasting to t[index]."""
    be = t._backend
    raw_index = index
    index = tuple(_index_part(i, be) for i in index) if isinstance(index, tuple) else _index_part(index, be)
    try:
        selected = be.getitem(t._data, index)
    except IndexError as exc:
        raise _index_error("assigning into", t, raw_index, exc) from None
    is_tensor = isinstance(value, TensorBase)
    if is_tensor and value._backend is not be:
        raise devices_differ("assigning into a tensor", t.device, value.device, "the tensor and the value")
    if not is_tensor:
        value = python_number(value)
    if not is_tensor and not isinstance(value, numbers.Real):  # a list or an array (a 0-d one too)
        try:
            value = new_tensor(value, dtype=t.dtype, device=t.device)
        except (TypeError, ValueError):
            raise TypeError(f"assigning into a tensor of shape {t.shape}: the value must be a number, a tensor "
                            f"or a list or array of numbers, got {type(value).__name__}") from None
        is_tensor = True
    shape = value.shape if is_tensor else ()
    if not broadcasts_to(shape, tuple(selected.shape)):
        raise RuntimeError(f"assigning into a tensor of shape {t.shape}: a value of shape {shape} does not "
                           f"broadcast to the {tuple(selected.shape)} places selected; expected a number or a value "
                           "of that shape (or one that broadcasts to it)")
    if not is_tensor:  # cast to t's dtype as PyTorch casts it (a float into an integer tensor truncates)
        value = fill_number("assigning into a tensor", t.dtype, value, overflowing=("float32",))
    else:
        if value.ndim > len(selected.shape):  # its extra leading dims are 1s (above): NumPy's assignment wants them gone
            value = value.reshape(*value.shape[value.ndim - len(selected.shape):])
        if t.dtype.kind != "f" and value.requires_grad:  # cast into integers: no gradient flows back, as in PyTorch
            value = value.detach()
    raw = value._data if is_tensor else value
    return t._inplace("__setitem__", lambda s: SetItem.apply(s, index, value), "setitem", index, raw,
                      operand=value if is_tensor else None)


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


# ------------------------------------------------------------ checked entry points

def shape_arg(shape, who="shape"):
    """Sizes given as ints or as one tuple/list of ints, as a tuple."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    out = []
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):  # a bool is no size, as in PyTorch
            raise TypeError(f"{who}: expected a shape of ints, got {tuple(shape)!r}")
        out.append(int(s))
    return tuple(out)


def reshape(t, shape, who="reshape"):
    shape = shape_arg(shape, who)
    known = math.prod(n for n in shape if n != -1)
    wildcards = shape.count(-1)
    n = t.numel()
    if (wildcards > 1 or any(s < -1 for s in shape) or (wildcards == 0 and known != n)
            or (wildcards == 1 and (known == 0 or n % known))):
        raise RuntimeError(
            f"{who}: shape {tuple(shape)} is invalid for a tensor of shape {t.shape} ({n} elements)"
        )
    return Reshape.apply(t, shape)


def flatten(t, start_dim=0, end_dim=-1):
    if t.ndim == 0:  # dims wrap as for a 1-d tensor, as in PyTorch
        for name, d in (("start_dim", start_dim), ("end_dim", end_dim)):
            if d not in (0, -1):
                raise IndexError(f"flatten: {name} {d} is out of range for a 0-d tensor (shape ()); expected 0 or -1")
        return reshape(t, (1,))
    s = normalize_axis(start_dim, t.ndim, "flatten")[0]
    e = normalize_axis(end_dim, t.ndim, "flatten")[0]
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}; expected start_dim <= end_dim")
    return reshape(t, t.shape[:s] + (math.prod(t.shape[s:e + 1]),) + t.shape[e + 1:])


def permute(t, dims):
    dims = shape_arg(dims, "permute")
    if len(dims) != t.ndim:
        raise ValueError(f"permute: got {len(dims)} dims {tuple(dims)} for a tensor with {t.ndim} dimensions; "
                         "expected each dimension once")
    if sorted(normalize_axis(d, t.ndim, "permute")[0] for d in dims) != list(range(t.ndim)):
        raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the {t.ndim} dimensions")
    return Permute.apply(t, tuple(d % t.ndim for d in dims))


def transpose(t, dim0, dim1):
    for d in (dim0, dim1):  # one dim each, as PyTorch's (a tuple is refused, not read as its first)
        if isinstance(d, bool) or not isinstance(d, int):
            raise TypeError(f"transpose: dim must be an int, got {d!r} (dim0 and dim1 are one dim each)")
    if t.ndim < 2:
        return t  # nothing to exchange
    a = normalize_axis(dim0, t.ndim, "transpose")[0]
    b = normalize_axis(dim1, t.ndim, "transpose")[0]
    dims = list(range(t.ndim))
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(t, tuple(dims))


def squeeze(t, dim=None):
    if dim is None:
        return reshape(t, tuple(n for n in t.shape if n != 1))
    axes = normalize_axis(dim, t.ndim, "squeeze")
    return reshape(t, tuple(n for i, n in enumerate(t.shape) if not (i in axes and n == 1)))


def unsqueeze(t, dim):
    d = normalize_axis(dim, t.ndim + 1, "unsqueeze")[0]
    return reshape(t, t.shape[:d] + (1,) + t.shape[d:])


def expand(t, sizes):
    sizes = shape_arg(sizes, "expand")
    if len(sizes) < t.ndim:
        raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the number of dims ({t.ndim})")
    lead = len(sizes) - t.ndim
    shape = tuple(t.shape[i - lead] if (s == -1 and i >= lead) else s for i, s in enumerate(sizes))
    for i, n in enumerate(t.shape):
        if n != 1 and shape[i + lead] != n:
            raise RuntimeError(
                f"expand: size {shape[i + lead]} at dim {i + lead} does not match the existing "
                f"size {n}; only dimensions of size 1 can be expanded (shape {t.shape} -> {tuple(sizes)})"
            )
    return Expand.apply(t, shape)


def _index_part(i, be):
    """One part of an index, with tensors and lists turned into the backend's arrays."""
    if isinstance(i, TensorBase):
        if i.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be integer or bool, got {i.dtype}")
        return i._data
    if isinstance(i, list) or getattr(i, "ndim", 0):  # lists and arrays; scalars stay as they are
        try:
            arr = be.asarray(i)
        except (TypeError, ValueError):
            raise IndexError(f"lists used as indices must hold ints or bools, got {i!r}") from None
        if arr.dtype.kind not in "biu":
            raise IndexError(f"lists and arrays used as indices must hold ints or bools, got {arr.dtype}")
        return arr
    return i


_VALID_INDICES = ("expected ints within each dim's size, slices, None, ..., or integer or boolean "
                  "tensors and lists (a boolean one of the indexed dims' shape)")


def _index_error(what, t, index, exc):
    if isinstance(index, TensorBase):
        shown = f"a {index.dtype} tensor of shape {index.shape}"
    else:
        shown = repr(index)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return IndexError(f"{what} a tensor of shape {t.shape} with {shown} ({type(index).__name__}): {exc}; "
                      + _VALID_INDICES)


def getitem(t, index):
    be = t._backend
    raw_index = index
    index = tuple(_index_part(i, be) for i in index) if isinstance(index, tuple) else _index_part(index, be)
    try:
        be.getitem(t._data, index)  # validate before recording
    except IndexError as exc:
        raise _index_error("indexing", t, raw_index, exc) from None
    return GetItem.apply(t, index)


def _tensors(seq, who):
    seq = list(seq)
    if not seq:
        raise ValueError(f"{who}: expected a non-empty sequence of tensors")
    for i, t in enumerate(seq):
        if not isinstance(t, TensorBase):
            raise TypeError(f"{who}: element {i} is a {type(t).__name__}, expected a Tensor")
    return seq


def _promoted(ts):
    """The tensors in the dtype PyTorch joins them in (an int32 and a float32 tensor: float32,
    where NumPy's concatenate would give float64); casts are recorded, so gradients flow back."""
    dtype = result_type(*ts)
    return ts if all(t.dtype == dtype for t in ts) else [t if t.dtype == dtype else t.to(dtype) for t in ts]


@accepts_axis
def cat(tensors, dim=0):
    """Join tensors along an existing dimension."""
    return join("cat", tensors, dim)


def join(who, tensors, dim):
    """``cat`` for ``who`` (hstack, vstack, ...: the name its errors give)."""
    ts = _tensors(tensors, who)
    for i, t in enumerate(ts):
        if t.ndim == 0:  # RuntimeError, as PyTorch's (a 0-d tensor has no dim to join along)
            raise RuntimeError(f"{who}: tensor {i} is 0-d and cannot be concatenated; expected tensors of at least "
                               "1 dim (use stack to join 0-d tensors, or reshape(1) them first)")
    d = normalize_axis(dim, ts[0].ndim, who)[0]
    ref = ts[0].shape
    for i, t in enumerate(ts):
        if t.ndim != len(ref) or any(a != b for k, (a, b) in enumerate(zip(t.shape, ref)) if k != d):
            raise RuntimeError(f"{who}: tensor {i} has shape {t.shape}, which does not match {ref} outside dim {d}")
    return Cat.apply(d, *_promoted(ts))


@accepts_axis
def stack(tensors, dim=0):
    """Join same-shaped tensors along a new dimension."""
    ts = _tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.shape != ts[0].shape:
            raise RuntimeError(f"stack: tensor {i} has shape {t.shape}, expected {ts[0].shape} like tensor 0")
    d = normalize_axis(dim, ts[0].ndim + 1, "stack")[0]
    return Stack.apply(d, *_promoted(ts))
