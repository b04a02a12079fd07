"""PyTorch's gather, scatter, scatter_add, the index_* ops along one dim
(index_select, index_add, index_copy, index_fill), take and take_along_dim:
reading at indices is ``GetItem``, writing ``SetItem``, adding ``ScatterAdd``.
See ops/indexing.py for what all index ops share."""
from ..arguments import devices_differ, tensor_arg
from ..tensor_base import TensorBase, make_tensor
from .index_args import (
    _value_arg,
    along,
    at_dim,
    broadcast_shape,
    check_range,
    dim_arg,
    index_arg,
    same_dtype,
)
from .movement import GetItem, ScatterAdd, SetItem

# ------------------------------------------------------------------ gather and scatter

def _check_gather_shapes(who, t, index, dim, src=None):
    """PyTorch's rule: index has the input's number of dims and is no larger than
    it outside ``dim`` (and no larger than src anywhere)."""
    if index.ndim != max(t.ndim, 1) and not (t.ndim == 0 and index.ndim == 0):
        raise RuntimeError(f"{who}: index must have as many dims as the input ({t.ndim}), got {index.ndim} "
                           f"(index shape {index.shape}, input shape {t.shape})")
    shape = t.shape or (1,)
    for d, n in enumerate(index.shape):
        if d != dim and n > shape[d]:
            raise RuntimeError(f"{who}: index shape {index.shape} is larger than the input's {t.shape} at dim {d}; "
                               f"expected index.size(d) <= input.size(d) for every d != dim ({dim})")
    if src is None:
        return
    ishape, sshape = index.shape, src.shape
    if t.ndim == 0:  # a 0-d input takes a 0-d or one-element index and src, in any mix (PyTorch's)
        ishape, sshape = ishape or (1,), sshape or (1,)
    if len(sshape) != len(ishape) or any(n > s for n, s in zip(ishape, sshape)):
        raise RuntimeError(f"{who}: index shape {index.shape} must be no larger than src shape {src.shape} "
                           "in every dim (and have as many dims)")


def _gather_index(who, t, dim, index, src=None, negative=False):
    """(the index tuple for GetItem/SetItem/ScatterAdd, the input viewed as >= 1-d)."""
    dim = dim_arg(who, t, dim)
    index_arg(who, t, index)
    _check_gather_shapes(who, t, index, dim, src)
    be = t._backend
    idx = be.reshape(index._data, (1,)) if index.ndim == 0 else index._data
    size = (t.shape or (1,))[dim]
    check_range(who, be, idx, size, f"dim {dim}", negative)
    return along(be, idx, dim), (t if t.ndim else t.reshape(1))


def gather(t, dim, index, *, sparse_grad=False):
    """Values of t at ``index`` along ``dim`` (out[i][j] = t[index[i][j]][j] for dim 0), as torch.gather."""
    tensor_arg("gather", t)
    parts, x = _gather_index("gather", t, dim, index)
    out = GetItem.apply(x, parts)
    return out.reshape(()) if index.ndim == 0 else out


def _src_part(src, index):
    """src cut to index's shape (PyTorch uses only that corner of src)."""
    if src.shape == index.shape:
        return src
    return src[tuple(slice(0, n) for n in index.shape)]


def scatter(t, dim, index, src=None, *, value=None, reduce=None):
    """A copy of t with src's values (or ``value``) written at ``index`` along
    ``dim``, as torch.scatter (out of place). ``reduce="add"`` adds instead
    (scatter_add); ``"multiply"`` is not supported."""
    who = "scatter"
    tensor_arg(who, t)
    if src is not None and value is not None:
        raise TypeError(f"{who}: pass src or value, not both")
    if src is None and value is None:
        raise TypeError(f"{who}: expected src (a tensor) or value (a number)")
    if not isinstance(src, TensorBase) and src is not None:
        src, value = None, src  # scatter(dim, index, 2.0): the value form, as PyTorch's overload
    if reduce not in (None, "add"):
        raise ValueError(f"{who}: reduce={reduce!r} is not supported; expected None or 'add' "
                         "(for a product, compute it out of place)")
    if src is None:
        value = _value_arg(who, t, value)
        if reduce == "add":
            index_arg(who, t, index)
            return scatter_add(t, dim, index, _filled(t, index, value))
        parts, x = _gather_index(who, t, dim, index)
        out = SetItem.apply(x, parts, value)
    else:
        if reduce == "add":
            return scatter_add(t, dim, index, src)
        tensor_arg(who, src, "src")
        same_dtype(who, t, src, "src")
        parts, x = _gather_index(who, t, dim, index, src)  # as scatter_add: shapes checked as given
        out = SetItem.apply(x, parts, _src_part(src if src.ndim else src.reshape(1), index if index.ndim else
                                                index.reshape(1)))
    return out.reshape(()) if t.ndim == 0 else out


def _filled(t, index, value):
    """A tensor of index's shape holding ``value`` (a number or a 0-d tensor) in t's dtype."""
    be = t._backend
    if isinstance(value, TensorBase):
        return value.expand(*index.shape) if index.ndim else value
    return make_tensor(be.full(index.shape, value, t.dtype), be)


def scatter_add(t, dim, index, src):
    """t plus src's values added at ``index`` along ``dim`` (repeats summed), as torch.scatter_add."""
    who = "scatter_add"
    tensor_arg(who, t)
    tensor_arg(who, src, "src")
    same_dtype(who, t, src, "src")
    parts, x = _gather_index(who, t, dim, index, src)  # shapes checked as given: all 0-d is PyTorch's 0-d case
    src1 = src if src.ndim else src.reshape(1)
    index1 = index if index.ndim else index.reshape(1)
    added = ScatterAdd.apply(_src_part(src1, index1), x.shape, parts)
    out = x + added
    return out.reshape(()) if t.ndim == 0 else out


# ------------------------------------------------------------------ index_* along one dim

def _index_along(who, t, dim, index):
    """(dim, the 1-d index array) for the index_* ops: a 0-d or 1-d integer tensor in [0, size)."""
    dim = dim_arg(who, t, dim)
    index_arg(who, t, index)
    if index.ndim > 1:
        raise IndexError(f"{who}: index must be 0-d or 1-d, got shape {index.shape}")
    be = t._backend
    idx = be.reshape(index._data, (-1,))
    check_range(who, be, idx, (t.shape or (1,))[dim], f"dim {dim}")
    return dim, idx


def index_select(t, dim, index):
    """The slices of t at ``index`` along ``dim`` (a copy), as torch.index_select."""
    who = "index_select"
    tensor_arg(who, t)
    dim, idx = _index_along(who, t, dim, index)
    if t.ndim == 0:  # as PyTorch: one index, and a 0-d result
        if index.numel() != 1:
            raise RuntimeError(f"{who}: a 0-d input takes exactly one index, got {index.numel()}")
        return GetItem.apply(t.reshape(1), idx).reshape(())
    return GetItem.apply(t, at_dim(dim, idx))


def _source_arg(who, t, dim, idx, source):
    tensor_arg(who, source, "source")
    same_dtype(who, t, source, "source")
    if source._backend is not t._backend:
        raise devices_differ(who, t.device, source.device, "the input and source")
    want = list(t.shape or (1,))
    want[dim] = int(idx.shape[0])
    got = source.shape or (1,)
    if tuple(got) != tuple(want):
        raise RuntimeError(f"{who}: source must have shape {tuple(want)} (the input's with dim {dim} the index's "
                           f"length), got {source.shape}")
    return source if source.ndim else source.reshape(1)


def index_add(t, dim, index, source, *, alpha):
    """t plus ``alpha * source`` added at ``index`` along ``dim`` (repeats summed), as torch.index_add."""
    who = "index_add"
    tensor_arg(who, t)
    dim, idx = _index_along(who, t, dim, index)
    source = _source_arg(who, t, dim, idx, source)
    x = t if t.ndim else t.reshape(1)
    out = x + ScatterAdd.apply(source if alpha == 1 else source * alpha, x.shape, at_dim(dim, idx))
    return out.reshape(()) if t.ndim == 0 else out


def index_copy(t, dim, index, source):
    """A copy of t with source's slices written at ``index`` along ``dim``, as torch.index_copy."""
    who = "index_copy"
    tensor_arg(who, t)
    dim, idx = _index_along(who, t, dim, index)
    source = _source_arg(who, t, dim, idx, source)
    out = SetItem.apply(t if t.ndim else t.reshape(1), at_dim(dim, idx), source)
    return out.reshape(()) if t.ndim == 0 else out


def index_fill(t, dim, index, value):
    """A copy of t with the slices at ``index`` along ``dim`` set to ``value``, as torch.index_fill."""
    who = "index_fill"
    tensor_arg(who, t)
    dim, idx = _index_along(who, t, dim, index)
    value = _value_arg(who, t, value)
    out = SetItem.apply(t if t.ndim else t.reshape(1), at_dim(dim, idx), value)
    return out.reshape(()) if t.ndim == 0 else out


# ------------------------------------------------------------------ take

def take(t, index):
    """t's elements at ``index`` as if t were 1-d (negative indices count from the end), as torch.take."""
    who = "take"
    tensor_arg(who, t)
    index_arg(who, t, index)
    be = t._backend
    check_range(who, be, index._data, t.numel(), "the flattened input", negative=True)
    return GetItem.apply(t.reshape(-1), index._data)


def take_along_dim(t, indices, dim):
    """t's values at ``indices`` along ``dim`` (input and indices broadcast outside
    dim; both flattened when dim is None), as torch.take_along_dim."""
    who = "take_along_dim"
    tensor_arg(who, t)
    index_arg(who, t, indices, "indices")
    if dim is None:
        return take_along_dim(t.reshape(-1), indices.reshape(-1), 0)
    dim = dim_arg(who, t, dim)
    if indices.ndim != t.ndim:
        raise RuntimeError(f"{who}: input and indices must have the same number of dims, got {t.ndim} "
                           f"(shape {t.shape}) and {indices.ndim} (shape {indices.shape})")
    if t.ndim == 0:
        return t.reshape(1)[indices.reshape(1)].reshape(())
    outside = broadcast_shape(who, t.shape[:dim] + (1,) + t.shape[dim + 1:],
                              indices.shape[:dim] + (1,) + indices.shape[dim + 1:])
    x_shape = outside[:dim] + (t.shape[dim],) + outside[dim + 1:]
    i_shape = outside[:dim] + (indices.shape[dim],) + outside[dim + 1:]
    be = t._backend
    x = t if t.shape == x_shape else t.expand(*x_shape)
    idx = indices._data if indices.shape == i_shape else be.broadcast_to(indices._data, i_shape)
    check_range(who, be, idx, t.shape[dim], f"dim {dim}", negative=True)
    return GetItem.apply(x, along(be, idx, dim))
