"""PyTorch's index ops: gather, scatter, scatter_add, index_select/add/copy/fill,
masked_fill/select/scatter, take, take_along_dim, flip, roll, rot90 and the
diagonal family, each as a composition of recorded ops.

Reading at indices is ``GetItem`` (its backward scatters with addition), writing
is ``SetItem`` (the written places pass no gradient to the old values) and adding
at indices is ``ScatterAdd``; so every op here has a backward, a double backward
and runs on every device without code of its own. Indices are checked before
anything runs (a device that defers checks raises at its next host read).

Where we differ from PyTorch: indices may be any integer dtype (PyTorch wants
int64 for gather/scatter); ``diagonal`` returns a copy (PyTorch: a view, so an
in-place write to it would reach the input there); duplicate indices in
``scatter``/``index_copy``/``masked_scatter`` keep the last write (PyTorch leaves
which one undefined).
"""
from ..arguments import devices_differ, tensor_arg
from ..tensor_base import TensorBase, make_tensor
from . import elementwise as E
from .convert import Clone
from .movement import GetItem, ScatterAdd, SetItem, cat
from .reduce import normalize_axis

# ------------------------------------------------------------------ argument checks

def dim_arg(who, t, dim, ndim=None):
    """``dim`` as a non-negative int for a tensor of ``ndim`` dims (t's by default);
    a 0-d tensor takes 0 and -1, as in PyTorch."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{who}: dim must be an int, got {type(dim).__name__} {dim!r}")
    axes = normalize_axis(dim, t.ndim if ndim is None else ndim, who)
    return axes[0] if axes else 0


def ints_arg(who, name, value):
    """An int or a sequence of ints, as a tuple of ints, or a TypeError naming ``who``."""
    items = (value,) if isinstance(value, int) else value
    if isinstance(items, (str, bytes)) or not hasattr(items, "__iter__"):
        raise TypeError(f"{who}: {name} must be an int or a tuple of ints, got {type(value).__name__} {value!r}")
    items = tuple(items)
    if any(isinstance(v, bool) or not isinstance(v, int) for v in items):
        raise TypeError(f"{who}: {name} must be an int or a tuple of ints, got {value!r}")
    return items


def int_arg(who, name, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__} {value!r}")
    return value


def index_arg(who, t, index, name="index"):
    """``index`` when it is an integer tensor on t's device, else a clear error."""
    if not isinstance(index, TensorBase):
        raise TypeError(f"{who}: {name} must be an integer Tensor, got {type(index).__name__}; "
                        "make one with tinygrad_bn.tensor([...]) (int64)")
    if index.dtype.kind not in "iu":
        raise TypeError(f"{who}: {name} must be an integer tensor (int64), got dtype {index.dtype}")
    if index._backend is not t._backend:
        raise devices_differ(who, t.device, index.device, f"the input and {name}")
    return index


def check_range(who, be, idx, size, what, negative=False):
    """Refuse an index array with a value outside [0, size) (or [-size, size) when
    ``negative``), naming the first such value and what it indexes."""
    if not idx.size:
        return
    low = -size if negative else 0
    bad = be.logical_not(be.logical_and(be.greater_equal(idx, low), be.less(idx, size)))

    def message():
        first = be.to_numpy(idx)[be.to_numpy(bad)].reshape(-1)[0]
        return (f"{who}: index {int(first)} is out of range for {what} of size {size}; "
                f"expected indices in [{low}, {size})")
    be.check(bad, IndexError, message)


def same_dtype(who, t, other, name):
    if other.dtype != t.dtype:
        raise TypeError(f"{who}: {name} must have the input's dtype {t.dtype}, got {other.dtype}; "
                        f"convert it with .to({t.dtype})")


def along(be, idx, dim):
    """The advanced index that picks ``idx`` (an int array) along ``dim`` and
    every position of the other dims, over idx's shape (take_along_axis as indexing)."""
    parts = []
    for d in range(idx.ndim):
        if d == dim:
            parts.append(idx)
        else:
            shape = [1] * idx.ndim
            shape[d] = idx.shape[d]
            parts.append(be.reshape(be.arange(0, idx.shape[d], 1, "int64"), tuple(shape)))
    return tuple(parts)


def at_dim(dim, idx):
    """The index that picks ``idx`` along ``dim`` and everything along the dims before it."""
    return (slice(None),) * dim + (idx,)


def _value_arg(who, t, value):
    """A fill value: a number, or a 0-d tensor (then recorded, cast to t's dtype)."""
    if isinstance(value, TensorBase):
        if value.ndim:
            raise RuntimeError(f"{who}: the value must be a number or a 0-d tensor, got a tensor of shape {value.shape}")
        if value._backend is not t._backend:
            raise devices_differ(who, t.device, value.device, "the input and the value")
        return value if value.dtype == t.dtype else value.to(t.dtype)
    if isinstance(value, bool) and t.dtype.kind == "b":
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{who}: the value must be a number or a 0-d tensor, got {type(value).__name__}")
    if isinstance(value, float) and t.dtype.kind in "biu":
        raise TypeError(f"{who}: cannot fill a {t.dtype} tensor with the float {value!r}; expected an int")
    return value


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
    if src is not None and (src.ndim != index.ndim or any(n > s for n, s in zip(index.shape, src.shape))):
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
        parts, x = _gather_index(who, t, dim, index, src if src.ndim else src.reshape(1))
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
    src1 = src if src.ndim else src.reshape(1)
    parts, x = _gather_index(who, t, dim, index, src1)
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
    if t.ndim == 0:
        return GetItem.apply(t.reshape(1), idx).reshape(() if index.ndim == 0 else (-1,))
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


def index_add(t, dim, index, source, *, alpha=1):
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


# ------------------------------------------------------------------ masks

def _mask_arg(who, t, mask):
    if not isinstance(mask, TensorBase):
        raise TypeError(f"{who}: mask must be a bool Tensor, got {type(mask).__name__}")
    if mask.dtype.kind != "b":
        raise TypeError(f"{who}: mask must be a bool tensor, got dtype {mask.dtype}; compare first, e.g. x > 0")
    if mask._backend is not t._backend:
        raise devices_differ(who, t.device, mask.device, "the input and the mask")
    return mask


def broadcast_shape(who, *shapes):
    """The shape the given shapes broadcast to, or a RuntimeError naming them."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(ndim):
        sizes = {s[d - ndim + len(s)] for s in shapes if d - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise RuntimeError(f"{who}: shapes {', '.join(str(tuple(s)) for s in shapes)} do not broadcast "
                               f"(sizes {sorted(sizes)} at dim {d} of the result); expected sizes equal or 1")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def masked_fill(t, mask, value):
    """t with ``value`` where ``mask`` holds (mask broadcasts), as torch.masked_fill."""
    who = "masked_fill"
    tensor_arg(who, t)
    _mask_arg(who, t, mask)
    value = _value_arg(who, t, value)
    broadcast_shape(who, t.shape, mask.shape)
    return E.Where.apply(mask._data, value, t)


def masked_select(t, mask):
    """The elements of t where ``mask`` holds (both broadcast), as a 1-d copy, as torch.masked_select."""
    who = "masked_select"
    tensor_arg(who, t)
    _mask_arg(who, t, mask)
    shape = broadcast_shape(who, t.shape, mask.shape)
    x = t if t.shape == shape else t.expand(*shape)
    m = mask._data if mask.shape == shape else t._backend.broadcast_to(mask._data, shape)
    return GetItem.apply(x, m).reshape(-1)


def masked_scatter(t, mask, source):
    """A copy of t whose places where ``mask`` holds take source's first elements
    in row-major order, as torch.masked_scatter. Counts the mask on the host."""
    who = "masked_scatter"
    tensor_arg(who, t)
    _mask_arg(who, t, mask)
    tensor_arg(who, source, "source")
    same_dtype(who, t, source, "source")
    if source._backend is not t._backend:
        raise devices_differ(who, t.device, source.device, "the input and source")
    shape = broadcast_shape(who, t.shape, mask.shape)
    be = t._backend
    m = be.broadcast_to(mask._data, shape)
    count = int(be.to_numpy(be.sum(m)))
    if source.numel() < count:
        raise RuntimeError(f"{who}: the mask selects {count} places but source has only {source.numel()} "
                           f"elements (shape {source.shape}); expected at least {count}")
    x = t if t.shape == shape else t.expand(*shape)
    return SetItem.apply(x, m, source.reshape(-1)[:count])


# ------------------------------------------------------------------ take

def take(t, index):
    """t's elements at ``index`` as if t were 1-d (negative indices count from the end), as torch.take."""
    who = "take"
    tensor_arg(who, t)
    index_arg(who, t, index)
    be = t._backend
    check_range(who, be, index._data, t.numel(), "the flattened input", negative=True)
    return GetItem.apply(t.reshape(-1), index._data)


def take_along_dim(t, indices, dim=None):
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


# ------------------------------------------------------------------ flips and rotations

def _dims_arg(who, t, dims):
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    return normalize_axis(dims, t.ndim, who) if dims else ()


def flip(t, dims):
    """A copy of t with the order of ``dims`` reversed, as torch.flip."""
    tensor_arg("flip", t)
    dims = _dims_arg("flip", t, dims)
    if not dims:
        return Clone.apply(t)
    index = tuple(slice(None, None, -1) if d in dims else slice(None) for d in range(t.ndim))
    return Clone.apply(GetItem.apply(t, index))


def fliplr(t):
    """t with its columns (dim 1) reversed; t must have at least 2 dims, as torch.fliplr."""
    tensor_arg("fliplr", t)
    if t.ndim < 2:
        raise RuntimeError(f"fliplr: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    return flip(t, (1,))


def flipud(t):
    """t with its rows (dim 0) reversed; t must have at least 1 dim, as torch.flipud."""
    tensor_arg("flipud", t)
    if t.ndim < 1:
        raise RuntimeError("flipud: expected a tensor of at least 1 dim, got a 0-d tensor")
    return flip(t, (0,))


def roll(t, shifts, dims=None):
    """t's elements shifted by ``shifts`` along ``dims`` (wrapping around; over the
    flattened tensor when dims is None), as a copy, as torch.roll."""
    who = "roll"
    tensor_arg(who, t)
    shifts = ints_arg(who, "shifts", shifts)
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"{who}: without dims, expected one shift, got {len(shifts)} ({shifts!r})")
        return roll(t.reshape(-1), shifts, 0).reshape(*t.shape)
    dims = ints_arg(who, "dims", dims)
    if len(dims) != len(shifts):
        raise RuntimeError(f"{who}: expected as many shifts as dims, got {len(shifts)} shifts and {len(dims)} dims")
    out = t
    for shift, dim in zip(shifts, dims):
        d = dim_arg(who, t, dim)
        n = (t.shape or (1,))[d]
        s = shift % n if n else 0
        if s and t.ndim:
            lead = (slice(None),) * d
            out = cat([out[lead + (slice(n - s, None),)], out[lead + (slice(0, n - s),)]], d)
    return Clone.apply(out) if out is t else out


def rot90(t, k=1, dims=(0, 1)):
    """t rotated by 90 degrees k times in the plane of ``dims`` (from the first
    towards the second), as torch.rot90."""
    who = "rot90"
    tensor_arg(who, t)
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"{who}: k must be an int, got {type(k).__name__} {k!r}")
    dims = ints_arg(who, "dims", dims)
    if len(dims) != 2:
        raise RuntimeError(f"{who}: expected 2 dims, got {len(dims)} ({dims!r})")
    if t.ndim < 2:
        raise RuntimeError(f"{who}: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    a, b = dim_arg(who, t, dims[0]), dim_arg(who, t, dims[1])
    if a == b:
        raise RuntimeError(f"{who}: expected two different dims, got {dims!r}")
    k %= 4
    if k == 0:
        return Clone.apply(t)
    if k == 2:
        return flip(t, (a, b))
    return flip(t, (b,)).transpose(a, b) if k == 1 else flip(t, (a,)).transpose(a, b)


# ------------------------------------------------------------------ diagonals

def _diagonal_positions(be, rows, cols, offset):
    """(row indices, column indices) of diagonal ``offset`` of a rows x cols matrix."""
    r0, c0 = max(-offset, 0), max(offset, 0)
    n = max(0, min(rows - r0, cols - c0))
    base = be.arange(0, n, 1, "int64")
    return be.add(base, r0), be.add(base, c0), n


def _diagonal_dims(who, t, offset, dim1, dim2):
    """(dim1, dim2, the other dims) of a diagonal op's arguments, checked."""
    tensor_arg(who, t)
    if t.ndim < 2:
        raise RuntimeError(f"{who}: expected a tensor of at least 2 dims, got {t.ndim} (shape {t.shape})")
    int_arg(who, "offset", offset)
    a, b = dim_arg(who, t, dim1), dim_arg(who, t, dim2)
    if a == b:
        raise RuntimeError(f"{who}: dim1 and dim2 must differ, got {dim1} and {dim2}")
    return a, b, [d for d in range(t.ndim) if d not in (a, b)]


def diagonal(t, offset=0, dim1=0, dim2=1):
    """The diagonal ``offset`` of the matrices in dims (dim1, dim2), as the last dim,
    as torch.diagonal (a copy here; a view in PyTorch)."""
    a, b, rest = _diagonal_dims("diagonal", t, offset, dim1, dim2)
    x = t.permute(*rest, a, b)
    rows, cols, _ = _diagonal_positions(t._backend, t.shape[a], t.shape[b], offset)
    return GetItem.apply(x, (Ellipsis, rows, cols))


_diagonal = diagonal  # diag's argument is named diagonal, as PyTorch's


def diag_embed(t, offset=0, dim1=-2, dim2=-1):
    """Matrices (in dims dim1, dim2 of the result) whose diagonal ``offset`` holds
    t's last dim, zeros elsewhere, as torch.diag_embed."""
    who = "diag_embed"
    tensor_arg(who, t)
    int_arg(who, "offset", offset)
    ndim = t.ndim + 1
    a, b = dim_arg(who, t, dim1, ndim), dim_arg(who, t, dim2, ndim)
    if a == b:
        raise RuntimeError(f"{who}: dim1 and dim2 must differ, got {dim1} and {dim2}")
    x = t if t.ndim else t.reshape(1)
    n = x.shape[-1] + abs(offset)
    rows, cols, _ = _diagonal_positions(t._backend, n, n, offset)
    out = ScatterAdd.apply(x, x.shape[:-1] + (n, n), (Ellipsis, rows, cols))
    order = [d for d in range(ndim) if d not in (a, b)]  # the result's dims, filled from (batch..., n, n)
    perm = [0] * ndim
    for i, d in enumerate(order):
        perm[d] = i
    perm[a], perm[b] = ndim - 2, ndim - 1
    return out.permute(*perm)


def diag(t, diagonal=0):
    """For a 1-d t: the square matrix with t on diagonal ``diagonal``; for a 2-d t:
    that diagonal as a 1-d copy, as torch.diag."""
    who = "diag"
    tensor_arg(who, t)
    if isinstance(diagonal, bool) or not isinstance(diagonal, int):
        raise TypeError(f"{who}: diagonal must be an int, got {type(diagonal).__name__} {diagonal!r}")
    if t.ndim == 1:
        return diag_embed(t, diagonal)
    if t.ndim == 2:
        return _diagonal(t, diagonal)
    raise RuntimeError(f"{who}: expected a 1-d or 2-d tensor, got {t.ndim}-d (shape {t.shape})")


def diagflat(t, offset=0):
    """The square matrix with t's elements (flattened) on diagonal ``offset``, as torch.diagflat."""
    tensor_arg("diagflat", t)
    int_arg("diagflat", "offset", offset)
    return diag_embed(t.reshape(-1), offset)


def trace(t):
    """The sum of a matrix's main diagonal, as torch.trace."""
    tensor_arg("trace", t)
    if t.ndim != 2:
        raise RuntimeError(f"trace: expected a 2-d tensor, got {t.ndim}-d (shape {t.shape})")
    return diagonal(t).sum()



# ------------------------------------------------------------------ select and the *_scatter family

def _src_of_shape(who, t, src, shape):
    tensor_arg(who, src, "src")
    same_dtype(who, t, src, "src")
    if src._backend is not t._backend:
        raise devices_differ(who, t.device, src.device, "the input and src")
    if src.shape != tuple(shape):
        raise RuntimeError(f"{who}: src must have the shape of the places it fills, {tuple(shape)}, got {src.shape}")
    return src


def _position(who, n, index, dim):
    int_arg(who, "index", index)
    if not -n <= index < n:
        raise IndexError(f"{who}: index {index} is out of range for dim {dim} of size {n}; expected [-{n}, {n})")
    return index % n


def select(t, dim, index):
    """The slice of t at ``index`` along ``dim``, without that dim (a view), as torch.select."""
    who = "select"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise IndexError(f"{who}: cannot select from a 0-d tensor; expected at least 1 dim")
    d = dim_arg(who, t, dim)
    return t[(slice(None),) * d + (_position(who, t.shape[d], index, d),)]


def select_scatter(t, src, dim, index):
    """A copy of t with src written into the slice at ``index`` along ``dim``, as torch.select_scatter."""
    who = "select_scatter"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise IndexError(f"{who}: cannot select from a 0-d tensor; expected at least 1 dim")
    d = dim_arg(who, t, dim)
    place = (slice(None),) * d + (_position(who, t.shape[d], index, d),)
    _src_of_shape(who, t, src, t.shape[:d] + t.shape[d + 1:])
    return SetItem.apply(t, place, src)


def slice_scatter(t, src, dim=0, start=None, end=None, step=1):
    """A copy of t with src written into t[start:end:step] along ``dim``, as torch.slice_scatter."""
    who = "slice_scatter"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise IndexError(f"{who}: cannot slice a 0-d tensor; expected at least 1 dim")
    d = dim_arg(who, t, dim)
    for name, v in (("start", start), ("end", end)):
        if v is not None:
            int_arg(who, name, v)
    if int_arg(who, "step", step) < 1:
        raise ValueError(f"{who}: step must be >= 1, got {step}")
    place = (slice(None),) * d + (slice(start, end, step),)
    _src_of_shape(who, t, src, t._backend.getitem(t._data, place).shape)
    return SetItem.apply(t, place, src)


def diagonal_scatter(t, src, offset=0, dim1=0, dim2=1):
    """A copy of t with src written onto the diagonal that ``diagonal(offset, dim1,
    dim2)`` reads (src has that diagonal's shape), as torch.diagonal_scatter."""
    who = "diagonal_scatter"
    a, b, rest = _diagonal_dims(who, t, offset, dim1, dim2)
    order = rest + [a, b]
    rows, cols, n = _diagonal_positions(t._backend, t.shape[a], t.shape[b], offset)
    _src_of_shape(who, t, src, tuple(t.shape[d] for d in rest) + (n,))
    out = SetItem.apply(t.permute(*order), (Ellipsis, rows, cols), src)
    back = [0] * t.ndim
    for i, d in enumerate(order):
        back[d] = i
    return out.permute(*back)
