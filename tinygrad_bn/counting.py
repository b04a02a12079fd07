"""Counting and searching ops whose result size depends on the values, computed
on the host: nonzero (argwhere, where(condition)), unique, unique_consecutive,
bincount, histc, histogram, searchsorted, bucketize, tril_indices and
triu_indices. Each reads its input into NumPy (``backend.to_numpy``), computes
there, and returns tensors on the input's device. None carries a gradient (as in
PyTorch: they count and search, their results are piecewise constant).
The Tensor methods of the same names hold PyTorch's defaults and pass every
argument, so those here that only the methods call take none.
"""
import math
import numbers
from collections import namedtuple

import numpy as np

from .arguments import devices_differ, tensor_arg
from .backends import get_backend
from .dtypes import as_dtype, int64
from .tensor_base import TensorBase, make_tensor, new_tensor

Histogram = namedtuple("histogram", ["hist", "bin_edges"])


def _host(t):
    return t._backend.to_numpy(t._data)


def _on(t, array, dtype=None):
    """A tensor on t's device holding a host array (no gradient)."""
    be = t._backend
    return make_tensor(be.asarray(np.asarray(array, order="C"), dtype), be)


def _int(who, name, value, low=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{who}: {name} must be an int, got {type(value).__name__} {value!r}")
    if low is not None and value < low:
        raise ValueError(f"{who}: {name} must be >= {low}, got {value}")
    return int(value)


def _dim(who, t, dim):
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{who}: dim must be an int or None, got {type(dim).__name__} {dim!r}")
    nd = max(t.ndim, 1)
    if not -nd <= dim < nd:
        raise IndexError(f"{who}: dim {dim} is out of range for a tensor with {t.ndim} dimensions "
                         f"(expected a value in [{-nd}, {nd - 1}])")
    return dim % nd


# ------------------------------------------------------------------ nonzero

def nonzero(t, *, as_tuple):
    """The indices of t's non-zero elements: an (n, t.ndim) int64 tensor, one row
    per element in row-major order, or with ``as_tuple`` one 1-d tensor per dim,
    as torch.nonzero."""
    tensor_arg("nonzero", t)
    a = _host(t)
    if as_tuple:
        return tuple(_on(t, i, "int64") for i in np.nonzero(np.atleast_1d(a)))
    return _on(t, np.argwhere(a), "int64")


def argwhere(t):
    """nonzero(t): the (n, t.ndim) indices of t's non-zero elements, as torch.argwhere."""
    tensor_arg("argwhere", t)
    return nonzero(t, as_tuple=False)


# ------------------------------------------------------------------ unique

def unique(t, sorted, return_inverse, return_counts, dim):
    """t's distinct values in ascending order (slices along ``dim`` when given),
    with the index of each element's value (``return_inverse``, t's shape) and how
    often each occurs (``return_counts``), as torch.unique. As PyTorch on the CPU,
    the result is sorted even with ``sorted=False``; NaNs are each distinct."""
    who = "unique"
    tensor_arg(who, t)
    a = _host(t)
    if dim is None:
        flat = a.reshape(-1)
        values, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        inverse = inverse.reshape(a.shape)
    else:
        d = _dim(who, t, dim)
        if a.ndim == 0:
            raise IndexError(f"{who}: dim {dim} given for a 0-d tensor; expected dim=None")
        _check_empty_dims(who, a.shape, d)
        values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=d)
        inverse = inverse.reshape(-1)
    out = [_on(t, values)]
    if return_inverse:
        out.append(_on(t, inverse, "int64"))
    if return_counts:
        out.append(_on(t, counts, "int64"))
    return out[0] if len(out) == 1 else tuple(out)


def _check_empty_dims(who, shape, d):
    """PyTorch's rule for unique along a dim of a tensor with no elements: only the
    selected dim may be empty (slices of nothing cannot be told apart)."""
    empty = [i for i, n in enumerate(shape) if n == 0]
    if len(empty) > 1 or (empty and empty[0] != d):
        raise RuntimeError(
            f"{who}: the tensor of shape {tuple(shape)} has a dim of size 0 other than dim {d}; along a dim, "
            "only the selected dim may be empty (as in PyTorch). Select the empty dim, or pass dim=None")


def unique_consecutive(t, return_inverse, return_counts, dim):
    """t with each run of equal consecutive values (slices along ``dim``) kept once,
    with each element's run number (``return_inverse``) and the run lengths
    (``return_counts``), as torch.unique_consecutive."""
    who = "unique_consecutive"
    tensor_arg(who, t)
    a = _host(t)
    if dim is None:
        flat = a.reshape(-1)
        starts = np.ones(flat.shape[0], dtype=bool)
        starts[1:] = flat[1:] != flat[:-1]
        values, shape = flat[starts], a.shape
    else:
        d = _dim(who, t, dim)
        if a.ndim == 0:
            raise IndexError(f"{who}: dim {dim} given for a 0-d tensor; expected dim=None")
        _check_empty_dims(who, a.shape, d)
        moved = np.moveaxis(a, d, 0)
        starts = np.ones(moved.shape[0], dtype=bool)
        # the slice sizes spelled out: NumPy cannot infer a -1 beside a 0 (an empty selected dim)
        differs = (moved[1:] != moved[:-1]).reshape(max(moved.shape[0] - 1, 0), math.prod(moved.shape[1:]))
        starts[1:] = differs.any(axis=1)  # each slice holds a value: an empty dim but the selected one is refused
        values, shape = np.moveaxis(moved[starts], 0, d), (moved.shape[0],)
    runs = np.cumsum(starts) - 1
    out = [_on(t, values)]
    if return_inverse:
        out.append(_on(t, runs.reshape(shape), "int64"))
    if return_counts:
        out.append(_on(t, np.diff(np.append(np.flatnonzero(starts), starts.shape[0])), "int64"))
    return out[0] if len(out) == 1 else tuple(out)


# ------------------------------------------------------------------ counting and histograms

def bincount(t, weights, minlength):
    """How often each value 0, 1, ..., max occurs in a 1-d tensor of non-negative
    ints (at least ``minlength`` bins), or the sums of ``weights`` per value, as
    torch.bincount (int64; with weights float32 for float32 weights and float64 for
    any other, float16 and integers included, as PyTorch's CPU kernel sums in float or double)."""
    who = "bincount"
    tensor_arg(who, t)
    if t.ndim != 1 or t.dtype.kind not in "biu":
        raise RuntimeError(f"{who}: expected a 1-d tensor of non-negative ints, got {t.ndim}-d {t.dtype}")
    minlength = _int(who, "minlength", minlength, 0)
    a = _host(t).astype(np.int64)
    if a.size and a.min() < 0:
        raise ValueError(f"{who}: the input must be non-negative, got {int(a.min())}")
    if weights is None:
        return _on(t, np.bincount(a, minlength=minlength).astype(np.int64))
    tensor_arg(who, weights, "weights")
    if weights._backend is not t._backend:
        raise devices_differ(who, t.device, weights.device, "the input and weights")
    if weights.shape != t.shape:
        raise RuntimeError(f"{who}: weights must have the input's shape {t.shape}, got {weights.shape}")
    w = _host(weights)
    dtype = np.dtype("float32") if w.dtype == np.float32 else np.dtype("float64")
    return _on(t, np.bincount(a, weights=w.astype(np.float64), minlength=minlength).astype(dtype))


def _data_range(who, a, fix):
    """(min, max) of ``a`` for bins taken from the data. As PyTorch, a range that
    is not finite (a NaN, which min and max pass on, or an infinity) is refused:
    its bins would have no width or no end."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"{who}: the data's range [{lo:g}, {hi:g}] is not finite (the input holds NaN or an "
                           f"infinity); {fix}")
    return lo, hi


def histc(t, bins, min, max):  # PyTorch's argument names (shadowing builtins)
    """Counts of t's elements in ``bins`` equal bins over [min, max] (the data's
    range when both are 0; elements outside are ignored; max falls in the last
    bin), in t's dtype, as torch.histc."""
    who = "histc"
    tensor_arg(who, t)
    if t.dtype.kind != "f":
        raise TypeError(f"{who}: the input must be floating point, got {t.dtype}; call .float() first")
    bins = _int(who, "bins", bins, 1)
    for name, v in (("min", min), ("max", max)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(v):
            raise TypeError(f"{who}: {name} must be a finite number, got {v!r}")
    a = _host(t).reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise ValueError(f"{who}: max must be >= min, got min={min}, max={max}")
    if lo == hi and a.size:
        lo, hi = _data_range(who, a, "pass min and max to count only the values between them")
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    inside = a[(a >= lo) & (a <= hi)]
    counts, _ = np.histogram(inside, bins=bins, range=(lo, hi))
    return _on(t, counts.astype(t.dtype))


def histogram(t, bins, *, range, weight, density):
    """(hist, bin_edges): counts (or summed ``weight``; a density with ``density``)
    of t's elements in ``bins`` equal bins over ``range`` (default the data's), or
    in the bins between the edges of a 1-d tensor ``bins``, as torch.histogram."""
    who = "histogram"
    tensor_arg(who, t)
    if t.dtype.kind != "f":
        raise TypeError(f"{who}: the input must be floating point, got {t.dtype}; call .float() first")
    a = _host(t).reshape(-1)
    if isinstance(bins, TensorBase):
        if bins.ndim != 1 or bins.numel() < 2 or bins.dtype.kind != "f":
            raise RuntimeError(f"{who}: a tensor of bin edges must be 1-d floating point with at least 2 edges, "
                               f"got shape {bins.shape} {bins.dtype}")
        edges = _host(bins).astype(np.float64)
        if (np.diff(edges) < 0).any():
            raise ValueError(f"{who}: bin edges must increase monotonically")
    else:
        edges = _int(who, "bins", bins, 1)
    if range is not None:
        if len(range) != 2 or not range[0] <= range[1]:
            raise ValueError(f"{who}: range must be (min, max) with min <= max, got {range!r}")
        range = (float(range[0]), float(range[1]))
    w = None
    if weight is not None:
        tensor_arg(who, weight, "weight")
        if weight.shape != t.shape:
            raise RuntimeError(f"{who}: weight must have the input's shape {t.shape}, got {weight.shape}")
        w = _host(weight).reshape(-1).astype(np.float64)
    if range is None and a.size and not isinstance(edges, np.ndarray):
        range = _data_range(who, a, "pass range=(min, max) to count only the values between them")
    hist, edges = np.histogram(a.astype(np.float64), bins=edges, range=range, weights=w, density=bool(density))
    return Histogram(_on(t, hist.astype(t.dtype)), _on(t, edges.astype(t.dtype)))


# ------------------------------------------------------------------ searching

def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """For each value of ``input``, the index where it would be inserted into the
    sorted last dim of ``sorted_sequence`` to keep it sorted (after equal values
    with ``right=True`` or ``side="right"``), as torch.searchsorted. A 1-d
    sequence serves every value; an N-d one has input's leading dims. NaN sorts
    last (NumPy's order; for a NaN inside the sequence PyTorch's binary search
    has no consistent order, so results there may differ from PyTorch's)."""
    who = "searchsorted"
    tensor_arg(who, sorted_sequence, "sorted_sequence")
    if side not in (None, "left", "right"):
        raise ValueError(f"{who}: side must be 'left' or 'right', got {side!r}")
    if side == "left" and right:
        raise RuntimeError(f"{who}: side='left' contradicts right=True; pass one of them")
    side = side or ("right" if right else "left")
    seq = _host(sorted_sequence)
    scalar = not isinstance(input, TensorBase)
    if scalar:
        if isinstance(input, bool) or not isinstance(input, numbers.Real):
            raise TypeError(f"{who}: input must be a Tensor or a number, got {type(input).__name__}")
        if sorted_sequence.ndim != 1:
            raise RuntimeError(f"{who}: a number as input needs a 1-d sorted_sequence, got shape "
                               f"{sorted_sequence.shape}")
        values = np.asarray(input)
    else:
        if input._backend is not sorted_sequence._backend:
            raise devices_differ(who, sorted_sequence.device, input.device, "sorted_sequence and input")
        values = _host(input)
    if sorter is not None:
        tensor_arg(who, sorter, "sorter")
        if sorter.shape != sorted_sequence.shape or sorter.dtype.kind not in "iu":
            raise RuntimeError(f"{who}: sorter must be an integer tensor of sorted_sequence's shape "
                               f"{sorted_sequence.shape}, got {sorter.dtype} {sorter.shape}")
        order = _host(sorter)
        if seq.size and (order.min() < 0 or order.max() >= seq.shape[-1]):
            raise IndexError(f"{who}: sorter holds indices outside [0, {seq.shape[-1]})")
        seq = np.take_along_axis(seq, order, -1)
    if seq.ndim == 0:
        raise RuntimeError(f"{who}: sorted_sequence must have at least 1 dim, got a 0-d tensor")
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=side)
    else:
        if values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"{who}: an N-d sorted_sequence {tuple(seq.shape)} needs input with the same leading "
                               f"dims, got {tuple(values.shape)}")
        rows_s, rows_v = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(rows_s, rows_v)]).reshape(values.shape)
    return _on(sorted_sequence, np.asarray(out), "int32" if out_int32 else "int64")


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """For each value of ``input``, the index of its bucket among the sorted 1-d
    ``boundaries``: i with boundaries[i-1] < x <= boundaries[i] (< and <= swap with
    ``right=True``), as torch.bucketize."""
    who = "bucketize"
    tensor_arg(who, boundaries, "boundaries")
    if boundaries.ndim != 1:
        raise RuntimeError(f"{who}: boundaries must be 1-d, got shape {boundaries.shape}")
    if not isinstance(input, TensorBase) and (isinstance(input, bool) or not isinstance(input, numbers.Real)):
        raise TypeError(f"{who}: input must be a Tensor or a number, got {type(input).__name__}")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


# ------------------------------------------------------------------ triangle indices

def _triangle_indices(who, fn, row, col, offset, dtype, device):
    row, col = _int(who, "row", row, 0), _int(who, "col", col, 0)
    offset = _int(who, "offset", offset)
    dtype = as_dtype(dtype, who) or int64
    if dtype.kind not in "iu":
        raise TypeError(f"{who}: dtype must be an integer dtype, got {dtype}")
    be = get_backend(device)
    rows, cols = fn(row, offset, col)
    return make_tensor(be.asarray(np.stack([rows, cols]).astype(dtype)), be)


def tril_indices(row, col, offset=0, *, dtype=None, device="cpu"):
    """The (2, N) indices of the lower triangle (on and below diagonal ``offset``)
    of a row x col matrix, row by row, as torch.tril_indices."""
    return _triangle_indices("tril_indices", np.tril_indices, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device="cpu"):
    """The (2, N) indices of the upper triangle (on and above diagonal ``offset``)
    of a row x col matrix, row by row, as torch.triu_indices."""
    return _triangle_indices("triu_indices", np.triu_indices, row, col, offset, dtype, device)


def unravel_index(indices, shape):
    """The coordinates in a tensor of ``shape`` of flat (row-major) ``indices``: one
    int64 tensor per dim, each of indices' shape, as torch.unravel_index (negative
    indices count from the end)."""
    who = "unravel_index"
    if isinstance(indices, numbers.Integral) and not isinstance(indices, bool):
        indices = new_tensor(int(indices))
    tensor_arg(who, indices, "indices")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be an integer tensor, got {indices.dtype}")
    shape = (shape,) if isinstance(shape, numbers.Integral) else tuple(shape)
    shape = tuple(_int(who, "a size", n, 0) for n in shape)
    a = _host(indices).astype(np.int64)
    total = int(np.prod(shape))
    if a.size and (a.min() < -total or a.max() >= total):
        bad = a[(a < -total) | (a >= total)].reshape(-1)[0]
        raise IndexError(f"{who}: index {int(bad)} is out of range for shape {shape} ({total} elements)")
    coords = np.unravel_index(np.where(a < 0, a + total, a), shape) if shape else ()
    return tuple(_on(indices, c, "int64") for c in coords)
