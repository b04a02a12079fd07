"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median,
nanmedian, mode, quantile and nanquantile.

Indices come from the device's stable sort (the contract's ``argsort``: NaN
sorts as the largest value, equal values keep their order); values are the
input read at those indices (``GetItem``), so their gradient flows to exactly
the elements picked, as PyTorch's does, and double backward and devices come
with it. The one exception is PyTorch's: ``median()`` and ``nanmedian()`` of all
elements share the gradient equally among the elements equal to the result.

Ties: sort and argsort are always stable (PyTorch's ``stable=False`` leaves the
order of equal values unspecified); descending sorts keep equal values in their
original order too. topk and kthvalue pick among equal values in that stable
order, where PyTorch's choice depends on its selection algorithm (the values
agree; the indices, and so where the gradient goes, may differ between equal
values). median picks the lower median; mode the smallest of the most frequent
values and the last index where it occurs (PyTorch's choices; NaNs count as
distinct values there). ``sorted=False`` in topk returns them sorted anyway.
"""
from collections import namedtuple

from ..arguments import tensor_arg
from ..function import Function
from ..tensor_base import TensorBase, make_tensor
from . import elementwise as E
from .convert import Clone
from .index_args import along, dim_arg
from .movement import GetItem

Sort = namedtuple("sort", ["values", "indices"])
TopK = namedtuple("topk", ["values", "indices"])
KthValue = namedtuple("kthvalue", ["values", "indices"])
Median = namedtuple("median", ["values", "indices"])
NanMedian = namedtuple("nanmedian", ["values", "indices"])
Mode = namedtuple("mode", ["values", "indices"])

INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _flag(who, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{who}: {name} must be a bool, got {type(value).__name__} {value!r}")
    return value


def sorted_indices(t, dim, descending=False):
    """The int64 array of indices that sort t along ``dim``, stably."""
    be = t._backend
    if not descending:
        return be.argsort(t._data, dim)
    # descending and stable: sort the reversed array, reverse the result and map the
    # positions back (equal values then keep their order, and NaN comes first)
    n = t.shape[dim]
    rev = (slice(None),) * dim + (slice(None, None, -1),)
    return be.sub(n - 1, be.getitem(be.argsort(be.getitem(t._data, rev), dim), rev))


def _pick(t, idx, dim):
    """t's values at the index array ``idx`` along ``dim`` (recorded: the gradient goes to those elements)."""
    return GetItem.apply(t, along(t._backend, idx, dim))


def _zero_index(t):
    be = t._backend
    return make_tensor(be.zeros((), "int64"), be)


def sort(t, dim, descending, stable):
    """(values, indices) of t sorted along ``dim``, as torch.sort (always stable here)."""
    who = "sort"
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    _flag(who, "descending", descending)
    _flag(who, "stable", stable)
    if t.ndim == 0:
        return Sort(Clone.apply(t), _zero_index(t))
    idx = sorted_indices(t, d, descending)
    return Sort(_pick(t, idx, d), make_tensor(idx, t._backend))


def argsort(t, dim, descending, stable):
    """The indices that sort t along ``dim`` (no gradient), as torch.argsort (always stable here)."""
    who = "argsort"
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    _flag(who, "descending", descending)
    _flag(who, "stable", stable)
    if t.ndim == 0:
        return _zero_index(t)
    return make_tensor(sorted_indices(t, d, descending), t._backend)


def msort(t):
    """t sorted along dim 0 (the values), as torch.msort."""
    tensor_arg("msort", t)
    return sort(t, 0, False, False).values


def _count_arg(who, name, k, low, high, dim, n):
    if isinstance(k, TensorBase) and k.ndim == 0 and k.dtype.kind in "iu":
        k = k.item()
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"{who}: {name} must be an int, got {type(k).__name__} {k!r}")
    if not low <= k <= high:  # RuntimeError, as PyTorch's
        raise RuntimeError(f"{who}: {name} ({k}) is out of range for dim {dim} of size {n}; expected {low} <= {name} "
                           f"<= {high}")
    return k


def topk(t, k, dim, largest, sorted=True):
    """(values, indices) of the k largest (``largest=False``: smallest) elements
    along ``dim``, in sorted order, as torch.topk."""
    who = "topk"
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    _flag(who, "largest", largest)
    _flag(who, "sorted", sorted)
    n = (t.shape or (1,))[d]
    k = _count_arg(who, "k", k, 0, n, d, n)
    if t.ndim == 0:
        x = t.reshape(1)
        out = topk(x, k, 0, largest)
        return TopK(*(o.reshape(()) if k else o for o in out))
    idx = t._backend.getitem(sorted_indices(t, d, largest), (slice(None),) * d + (slice(0, k),))
    return TopK(_pick(t, idx, d), make_tensor(idx, t._backend))


def _keep(result_cls, values, indices, d, keepdim):
    """A (values, indices) pair picked at one position along d (kept as size 1), without that dim unless keepdim."""
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return result_cls(values, indices)


def kthvalue(t, k, dim, keepdim):
    """(values, indices) of the k-th smallest element (k from 1) along ``dim``, as torch.kthvalue."""
    who = "kthvalue"
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    n = (t.shape or (1,))[d]
    k = _count_arg(who, "k", k, 1, max(n, 1), d, n)
    if n == 0:
        raise IndexError(f"{who}: cannot select from dim {d} of size 0")
    if t.ndim == 0:
        return KthValue(Clone.apply(t), _zero_index(t))
    be = t._backend
    idx = be.getitem(sorted_indices(t, d), (slice(None),) * d + (slice(k - 1, k),))
    return _keep(KthValue, _pick(t, idx, d), make_tensor(idx, be), d, keepdim)


# ------------------------------------------------------------------ medians and modes

def _median_index(t, d, skip_nan):
    """The index array (size 1 along d) of the lower median along d: of the non-NaN
    values with ``skip_nan``, else the first NaN where there is one (PyTorch's)."""
    be = t._backend
    order = sorted_indices(t, d)
    n = t.shape[d]
    if t.dtype.kind == "f":
        count = be.sub(n, be.sum(be.cast(be.isnan(t._data), "int64"), axis=d, keepdims=True))
    else:
        count = be.full(t.shape[:d] + (1,) + t.shape[d + 1:], n, "int64")
    # (count - 1) // 2, truncating a division of a non-negative number (0 when nothing counts)
    lower = be.cast(be.div(be.maximum(be.sub(count, 1), 0), 2), "int64")
    position = lower if skip_nan else be.where(be.less(count, n), count, lower)
    return be.take_along_axis(order, position, d)


class _Shared(Function):
    """``value`` (an element picked from a: its median) with the gradient shared
    equally among a's elements equal to it (among the NaNs when it is NaN), as
    PyTorch's median() and nanmedian() of all elements do."""

    @staticmethod
    def forward(ctx, a, value):
        be = ctx.backend
        hit = be.equal(a, value)
        if a.dtype.kind == "f":
            hit = be.where(be.isnan(a), be.isnan(value), hit)
        ctx.mask = be.cast(hit, a.dtype)
        ctx.count = be.sum(ctx.mask)
        return be.copy(value)

    @staticmethod
    def backward(ctx, g):
        be = ctx.backend
        return be.mul(ctx.mask, be.div(g, ctx.count)), None


def _median(who, result_cls, t, dim, keepdim, skip_nan):
    tensor_arg(who, t)
    if dim is None:
        if t.numel() == 0:
            if t.dtype.kind == "f":  # NaN, as PyTorch's (the sum keeps it on the tape, with an empty gradient)
                return t.sum() * float("nan")
            raise RuntimeError(f"{who}: cannot take the median of an empty integer tensor (shape {t.shape}); "
                               "PyTorch returns a meaningless value there")
        flat = t.reshape(-1)
        idx = _median_index(flat, 0, skip_nan)
        value = flat._backend.reshape(flat._backend.getitem(flat._data, idx), ())
        return _Shared.apply(t, value)
    d = dim_arg(who, t, dim)
    _flag(who, "keepdim", keepdim)
    if t.ndim == 0:
        return result_cls(Clone.apply(t), _zero_index(t))
    if t.shape[d] == 0:
        raise IndexError(f"{who}: cannot take the median over dim {d} of size 0 (shape {t.shape})")
    idx = _median_index(t, d, skip_nan)
    return _keep(result_cls, _pick(t, idx, d), make_tensor(idx, t._backend), d, keepdim)


def median(t, dim, keepdim):
    """The lower median: of all elements (a 0-d tensor; NaN if there is a NaN), or
    (values, indices) along ``dim``, as torch.median."""
    return _median("median", Median, t, dim, keepdim, False)


def nanmedian(t, dim, keepdim):
    """median ignoring NaNs (NaN only where every value is NaN), as torch.nanmedian."""
    return _median("nanmedian", NanMedian, t, dim, keepdim, True)


def _running(be, x, d, pick, reverse=False):
    """The running ``pick`` (be.maximum or be.minimum) of array x along d (from the end with ``reverse``)."""
    n = x.shape[d]
    lead = (slice(None),) * d
    if reverse:
        x = be.getitem(x, lead + (slice(None, None, -1),))
    s = 1
    while s < n:
        x = be.concatenate([be.getitem(x, lead + (slice(0, s),)),
                            pick(be.getitem(x, lead + (slice(0, n - s),)), be.getitem(x, lead + (slice(s, None),)))],
                           d)
        s *= 2
    return be.getitem(x, lead + (slice(None, None, -1),)) if reverse else x


def mode(t, dim, keepdim):
    """(values, indices) of the most frequent value along ``dim`` (the smallest
    among equally frequent ones; its last index), as torch.mode."""
    who = "mode"
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    _flag(who, "keepdim", keepdim)
    if t.ndim == 0:
        return Mode(Clone.apply(t), _zero_index(t))
    n = t.shape[d]
    if n == 0:
        raise IndexError(f"{who}: cannot take the mode over dim {d} of size 0 (shape {t.shape})")
    be = t._backend
    order = sorted_indices(t, d)
    s = be.take_along_axis(t._data, order, d)
    lead = (slice(None),) * d
    shape = [1] * t.ndim
    shape[d] = n
    positions = be.broadcast_to(be.reshape(be.arange(0, n, 1, "int64"), tuple(shape)), t.shape)
    # where each run of equal sorted values starts and ends (NaN never equals NaN: runs of one)
    same = be.equal(be.getitem(s, lead + (slice(1, None),)), be.getitem(s, lead + (slice(0, -1),)))
    edge = be.full(t.shape[:d] + (1,) + t.shape[d + 1:], False, "bool")
    starts = be.where(be.concatenate([edge, same], d), 0, positions)
    ends = be.where(be.concatenate([same, edge], d), n - 1, positions)
    first, last = _running(be, starts, d, be.maximum), _running(be, ends, d, be.minimum, reverse=True)
    best = be.argmax(be.sub(last, first), axis=d, keepdims=True)  # the first longest run: the smallest value
    idx = be.take_along_axis(order, be.take_along_axis(last, best, d), d)
    return _keep(Mode, _pick(t, idx, d), make_tensor(idx, be), d, keepdim)


# ------------------------------------------------------------------ quantiles

def _q_array(who, t, q):
    """(q as a float64 array on t's device of shape (Q,), whether q was a scalar); q in [0, 1]."""
    be = t._backend
    if isinstance(q, TensorBase):
        if q.ndim > 1 or q.dtype.kind != "f":
            raise TypeError(f"{who}: q must be a number or a 0-d or 1-d floating point tensor, got "
                            f"{q.ndim}-d {q.dtype}")
        if q._backend is not be:
            raise RuntimeError(f"{who}: q is on {q.device} and the input on {t.device}; expected one device")
        values, scalar = be.reshape(be.cast(q._data, "float64"), (-1,)), q.ndim == 0
    elif isinstance(q, (int, float)) and not isinstance(q, bool):
        values, scalar = be.asarray([float(q)], "float64"), True
    else:
        raise TypeError(f"{who}: q must be a number or a floating point tensor, got {type(q).__name__}")
    host = be.to_numpy(values)
    if not ((host >= 0) & (host <= 1)).all():
        raise ValueError(f"{who}: q values must be in [0, 1], got {host.tolist() if host.size < 8 else 'some outside'}")
    return values, scalar


def _quantile(who, t, q, dim, keepdim, interpolation, skip_nan):
    tensor_arg(who, t)
    if t.dtype.kind != "f":
        raise TypeError(f"{who}: the input must be floating point, got {t.dtype}; call .float() first")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{who}: interpolation must be one of {', '.join(map(repr, INTERPOLATIONS))}, "
                         f"got {interpolation!r}")
    _flag(who, "keepdim", keepdim)
    qs, scalar = _q_array(who, t, q)
    x, d = (t.reshape(-1), 0) if dim is None else (t if t.ndim else t.reshape(1), dim_arg(who, t, dim))
    n = x.shape[d]
    if n == 0:
        raise RuntimeError(f"{who}: the input must be non-empty along the reduced dim, got shape {t.shape}")
    be = t._backend
    x = x.movedim(d, -1) if d != x.ndim - 1 else x  # (..., n)
    rows = x.shape[:-1]
    nq = qs.shape[0]
    count = be.sub(n, be.sum(be.cast(be.isnan(x._data), "int64"), axis=-1, keepdims=True))  # non-NaN per row
    # the fractional position of each quantile among the sorted (non-NaN) values, (Q, ..., 1), computed in
    # the input's dtype as PyTorch does (so a float32 q * (n - 1) rounds to PyTorch's position)
    dtype = "float32" if t.dtype.itemsize < 4 else t.dtype
    last = be.cast(be.maximum(be.sub(count, 1), 0), dtype) if skip_nan else be.asarray(n - 1, dtype)
    pos = be.mul(be.reshape(be.cast(qs, dtype), (nq,) + (1,) * x.ndim), last)
    if not skip_nan:
        pos = be.broadcast_to(pos, (nq,) + rows + (1,))
    below = be.cast(pos, "int64")  # truncation is floor here: pos >= 0
    frac = be.sub(pos, be.cast(below, dtype))
    above = be.add(below, be.cast(be.greater(frac, 0), "int64"))
    if interpolation == "nearest":  # round half to even, as torch.round
        odd = be.equal(be.sub(below, be.mul(be.cast(be.div(below, 2), "int64"), 2)), 1)
        up = be.where(be.equal(frac, 0.5), odd, be.greater(frac, 0.5))
        below = above = be.add(below, be.cast(up, "int64"))
    order = be.broadcast_to(be.reshape(sorted_indices(x, x.ndim - 1), (1,) + x.shape), (nq,) + x.shape)
    ordered = x.unsqueeze(0) if nq == 1 else x.unsqueeze(0).expand(nq, *x.shape)

    def at(position):  # the sorted values at these positions, read from x (the gradient goes there)
        return _pick(ordered, be.take_along_axis(order, position, x.ndim), x.ndim)
    if interpolation in ("lower", "nearest"):
        out = at(below)
    elif interpolation == "higher":
        out = at(above)
    elif interpolation == "midpoint":
        out = (at(below) + at(above)) * 0.5
    else:
        lo = at(below)
        out = lo + (at(above) - lo) * make_tensor(be.cast(frac, t.dtype), be)
    missing = be.equal(count, 0) if skip_nan else be.less(count, n)  # all NaN / some NaN: the result is NaN
    out = E.Where.apply(be.broadcast_to(missing, out.shape), float("nan"), out)  # (Q, ..., 1)
    if t.ndim == 0:
        out = out.reshape(nq)
    elif keepdim:
        out = out.reshape(*((nq,) + (1,) * t.ndim)) if dim is None else out.movedim(-1, d + 1)
    else:
        out = out.squeeze(-1)
    return out.squeeze(0) if scalar else out


def quantile(t, q, dim, keepdim, *, interpolation):
    """The q-th quantiles (q a number or a 1-d tensor in [0, 1]; its dim comes first)
    of all elements or along ``dim``, between the sorted values by ``interpolation``
    (linear, lower, higher, midpoint, nearest); NaN where a NaN is present, as torch.quantile."""
    return _quantile("quantile", t, q, dim, keepdim, interpolation, False)


def nanquantile(t, q, dim, keepdim, *, interpolation):
    """quantile ignoring NaNs (NaN only where every value is NaN), as torch.nanquantile."""
    return _quantile("nanquantile", t, q, dim, keepdim, interpolation, True)
