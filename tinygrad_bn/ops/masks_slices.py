"""PyTorch's mask ops (masked_fill, masked_select, masked_scatter), select and
the *_scatter family (select_scatter, slice_scatter, diagonal_scatter).
See ops/indexing.py for what all index ops share."""
from ..arguments import devices_differ, tensor_arg
from ..tensor_base import TensorBase
from . import elementwise as E
from .flips_diagonals import _diagonal_dims, _diagonal_positions
from .index_args import _value_arg, broadcast_shape, dim_arg, int_arg, same_dtype
from .movement import GetItem, SetItem

# ------------------------------------------------------------------ masks

def _mask_arg(who, t, mask):
    if not isinstance(mask, TensorBase):
        raise TypeError(f"{who}: mask must be a bool Tensor, got {type(mask).__name__}")
    if mask.dtype.kind != "b":
        raise TypeError(f"{who}: mask must be a bool tensor, got dtype {mask.dtype}; compare first, e.g. x > 0")
    if mask._backend is not t._backend:
        raise devices_differ(who, t.device, mask.device, "the input and the mask")
    return mask


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


def slice_scatter(t, src, dim, start, end, step):
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


def diagonal_scatter(t, src, offset, dim1, dim2):
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
