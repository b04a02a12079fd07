"""The argument checks the index ops share (dims, ints, index tensors and their
ranges, fill values, broadcast shapes) and the helpers that place an index
along one dim; ops.shaping, ops.sorting, ops.scan and ops.products use them too."""
import math
import numbers

from ..arguments import devices_differ
from ..dtypes import iinfo
from ..tensor_base import TensorBase
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
    return fill_number(who, t.dtype, value)


def python_number(value):
    """A NumPy scalar (a float32 2.5, an int64 3, NumPy's True) as the Python number it
    holds, so one set of number rules serves both; anything else, a 0-d array among
    them, as it is. (The ops import no NumPy: its scalars are told by their module.)"""
    kind = type(value)
    return value.item() if kind.__module__ == "numpy" and kind.__name__ != "ndarray" and hasattr(value, "item") \
        else value


def fill_number(who, dtype, value, overflowing=("float16", "float32")):
    """A number (a Python or NumPy bool, int or float) as the Python scalar of
    ``dtype``'s kind, as PyTorch casts a fill value to a tensor's dtype: bool for
    a bool tensor, int for an integer one (a float truncated toward zero, a
    negative int into an unsigned dtype wrapped: -1 is 255 in uint8), float
    otherwise. What PyTorch's cast calls an overflow is refused: a float outside
    the integer dtype's range (NaN and infinities too), an int outside it (down
    to -max for unsigned dtypes), and a finite float past the largest of a float
    dtype in ``overflowing`` (PyTorch's item assignment stores inf in float16)."""
    value = python_number(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: the value must be a number or a 0-d tensor, got {type(value).__name__} {value!r}")
    if dtype.kind == "b":
        return bool(value)
    if dtype.kind in "iu":
        info = iinfo(dtype)
        if isinstance(value, numbers.Integral):
            low, v = (-info.max if dtype.kind == "u" else info.min), int(value)
            if low <= v <= info.max:
                return v % (info.max + 1) if v < 0 and dtype.kind == "u" else v
        else:
            low = info.min
            if low <= float(value) <= info.max:  # (False for NaN)
                return int(value)
        raise _overflow(who, value, dtype, f"from {low} to {info.max}")
    try:
        v = float(value)
    except OverflowError:  # an int past the float64 range
        raise _overflow(who, value, dtype, "up to 1.8e308") from None
    largest = _FLOAT_MAX.get(str(dtype)) if str(dtype) in overflowing else None
    if largest and math.isfinite(v) and abs(v) > largest[0]:
        raise _overflow(who, value, dtype, f"up to {largest[1]}")
    return v


_FLOAT_MAX = {"float16": (65504.0, "65504"), "float32": (3.4028234663852886e38, "3.4e38")}


def _overflow(who, value, dtype, holds):
    shown = f"{value!r}" if len(repr(value)) < 30 else f"a {len(str(abs(int(value))))}-digit int"
    return RuntimeError(f"{who}: {shown} does not fit in {dtype}, which holds {holds} (PyTorch calls this an "
                        "overflow); expected a value it holds, or a wider dtype")


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
