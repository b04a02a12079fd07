"""Running (prefix) ops along a dim: cumsum, cumprod, logcumsumexp, cummax,
cummin, and diff.

The prefix ops are a log-step scan (Hillis-Steele: ceil(log2 n) rounds of
"combine each element with the one s places earlier", s = 1, 2, 4, ...) built
from slicing, cat and elementwise ops, so their gradients (including cumprod's
through zeros), double backward and devices come with the composition. Sums are
added in a different order than PyTorch's sequential loop: results agree to
rounding. cummax/cummin find their indices with the same scan on the arrays
(no gradient) and gather the values there, so the gradient flows to those
indices, as in PyTorch; ties and NaN as PyTorch: the latest of equal values,
and NaN, once met, wins (the latest NaN).
"""
from collections import namedtuple

from ..arguments import float_tensor_arg, tensor_arg
from ..dtypes import as_dtype, int64
from ..tensor_base import TensorBase, make_tensor
from .convert import Clone
from .index_args import along, dim_arg
from .movement import GetItem, cat

CumMax = namedtuple("cummax", ["values", "indices"])
CumMin = namedtuple("cummin", ["values", "indices"])


def _scan(t, dim, combine):
    """The inclusive prefix scan of t along ``dim`` with an associative
    ``combine(earlier, later)`` (a copy, even when there is nothing to combine)."""
    n = t.shape[dim]
    lead = (slice(None),) * dim
    s = 1
    while s < n:
        t = cat([t[lead + (slice(0, s),)], combine(t[lead + (slice(0, n - s),)], t[lead + (slice(s, None),)])], dim)
        s *= 2
    return t if n > 1 else Clone.apply(t)


def _prepared(who, t, dim, dtype):
    """(t as >= 1-d in the result dtype, dim): integer and bool inputs sum in int64, as in PyTorch."""
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    if dtype is not None:
        t = t.to(as_dtype(dtype, who))
    elif t.dtype.kind in "biu":
        t = t.to(int64)
    return (t if t.ndim else t.reshape(1)), d


def cumsum(t, dim, *, dtype=None):
    """Running sums along ``dim`` (int64 for integer and bool input unless ``dtype``), as torch.cumsum."""
    x, d = _prepared("cumsum", t, dim, dtype)
    out = _scan(x, d, lambda a, b: a + b)
    return out.reshape(()) if t.ndim == 0 else out


def cumprod(t, dim, *, dtype=None):
    """Running products along ``dim`` (int64 for integer and bool input unless
    ``dtype``), as torch.cumprod; the gradient is exact through zeros."""
    x, d = _prepared("cumprod", t, dim, dtype)
    out = _scan(x, d, lambda a, b: a * b)
    return out.reshape(()) if t.ndim == 0 else out


def _logaddexp(a, b):
    """log(exp(a) + exp(b)) without overflow: shifted by the larger of the two, a
    constant (the result does not depend on the shift), so the gradient is the
    softmax of (a, b) everywhere, ties and second derivatives included."""
    be = a._backend
    m = be.maximum(a._data, b._data)
    m = make_tensor(be.where(be.isfinite(m), m, be.zeros_like(m)), be)  # both -inf: exp(-inf) + exp(-inf) = 0
    return ((a - m).exp() + (b - m).exp()).log() + m


def logcumsumexp(t, dim):
    """log(cumsum(exp(t))) along ``dim``, computed stably, as torch.logcumsumexp."""
    float_tensor_arg("logcumsumexp", t)
    x, d = _prepared("logcumsumexp", t, dim, None)
    out = _scan(x, d, _logaddexp)
    return out.reshape(()) if t.ndim == 0 else out


def _running_pick(who, t, dim, larger):
    tensor_arg(who, t)
    d = dim_arg(who, t, dim)
    x = t if t.ndim else t.reshape(1)
    be = x._backend
    v = x._data
    n = x.shape[d]
    shape = [1] * x.ndim
    shape[d] = n
    idx = be.copy(be.broadcast_to(be.reshape(be.arange(0, n, 1, "int64"), tuple(shape)), x.shape))
    floating = v.dtype.kind == "f"
    lead = (slice(None),) * d
    s = 1
    while s < n:
        early, late = lead + (slice(0, n - s),), lead + (slice(s, None),)
        ev, lv = be.getitem(v, early), be.getitem(v, late)
        # the later one wins ties; NaN beats every number (and the later NaN the earlier)
        wins = be.greater_equal(lv, ev) if larger else be.less_equal(lv, ev)
        if floating:
            wins = be.where(be.isnan(lv), True, be.logical_and(wins, be.logical_not(be.isnan(ev))))
        head = lead + (slice(0, s),)
        v = be.concatenate([be.getitem(v, head), be.where(wins, lv, ev)], d)
        idx = be.concatenate([be.getitem(idx, head), be.where(wins, be.getitem(idx, late), be.getitem(idx, early))], d)
        s *= 2
    values = GetItem.apply(x, along(be, idx, d))
    indices = make_tensor(idx, be)
    if t.ndim == 0:
        values, indices = values.reshape(()), indices.reshape(())
    return (CumMax if larger else CumMin)(values, indices)


def cummax(t, dim):
    """(running maximum, the index where it was found) along ``dim``, as torch.cummax."""
    return _running_pick("cummax", t, dim, True)


def cummin(t, dim):
    """(running minimum, the index where it was found) along ``dim``, as torch.cummin."""
    return _running_pick("cummin", t, dim, False)


def diff(t, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim`` (after joining ``prepend`` and
    ``append``); for bool tensors "differs from the previous", as torch.diff."""
    who = "diff"
    tensor_arg(who, t)
    if t.ndim == 0:
        raise RuntimeError(f"{who}: expected a tensor of at least 1 dim, got a 0-d tensor")
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{who}: n must be an int >= 0, got {n!r}")
    d = dim_arg(who, t, dim)
    parts = []
    for name, extra in (("prepend", prepend), (None, t), ("append", append)):
        if extra is None:
            continue
        if name is not None:
            if not isinstance(extra, TensorBase):
                raise TypeError(f"{who}: {name} must be a Tensor, got {type(extra).__name__}")
            if extra.ndim != t.ndim:
                raise RuntimeError(f"{who}: {name} must have the input's number of dims ({t.ndim}), got shape "
                                   f"{extra.shape}")
        parts.append(extra)
    x = cat(parts, d) if len(parts) > 1 else t
    lead = (slice(None),) * d
    for _ in range(n):
        later, earlier = x[lead + (slice(1, None),)], x[lead + (slice(0, -1),)]
        x = (later != earlier) if x.dtype.kind == "b" else later - earlier
    return Clone.apply(x) if x is t else x
