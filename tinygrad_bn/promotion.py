"""PyTorch's type promotion for binary ops (``torch.result_type``), which NumPy's
differs from: an integer tensor with a float32 tensor or a Python float is
float32 in PyTorch (float64 in NumPy), a 0-d float64 tensor beside a float32
tensor leaves it float32, and true division of integers gives the default float
dtype.

The operands fall in three groups: tensors with dims, 0-d tensors and Python
numbers. Within a group dtypes promote as usual (the higher category wins:
bool < integer < float; within a category the wider type). Between groups a
0-d tensor or a number decides only when it is of a higher category than the
tensors with dims (``x_int + 2.5``), and a Python number then stands for the
default dtype of its category (float: ``get_default_dtype()``; int: int64)."""
import numpy as np

from .dtypes import get_default_dtype, is_float
from .tensor_base import TensorBase

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def promote_types(x, y):
    """The dtype both of x and y go to: the higher category's, or within one
    category the wider (NumPy's rule agrees with PyTorch's there)."""
    if x == y:
        return x
    cx, cy = _CATEGORY[x.kind], _CATEGORY[y.kind]
    if cx != cy:
        return x if cx > cy else y
    return np.promote_types(x, y)


def _combine(higher, lower):
    """A group's dtype with a lower-priority group's (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or is_float(higher):
        return higher
    if higher.kind == "b" or _CATEGORY[lower.kind] > _CATEGORY[higher.kind]:
        return promote_types(higher, lower)
    return higher


def _number_dtype(x):
    if isinstance(x, bool):
        return np.dtype(bool)
    if isinstance(x, int):
        return np.dtype(np.int64)
    return np.dtype(get_default_dtype())  # a float: elementwise.operand admits no other number


def result_type(*operands):
    """The dtype a binary op of these operands (tensors and Python numbers) computes in."""
    groups = [None, None, None]  # tensors with dims, 0-d tensors, Python numbers
    for x in operands:
        if isinstance(x, TensorBase):
            g, d = (0 if x.ndim else 1), x.dtype
        else:
            g, d = 2, _number_dtype(x)
        groups[g] = d if groups[g] is None else promote_types(groups[g], d)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def promoted(a, b, *, true_division=False):
    """a and b (tensors or Python numbers) with every tensor cast to the result
    dtype (a recorded cast, so gradients flow back in each input's dtype);
    numbers stay numbers, which NumPy then takes in the tensors' dtype. With
    ``true_division`` an integer or bool result becomes the default float dtype."""
    # the common cases first, without building the groups: one dtype, or a tensor beside
    # a Python number of no higher category (x * 0.5 with x float, i + 1 with i integer)
    ta, tb = isinstance(a, TensorBase), isinstance(b, TensorBase)
    if ta and tb and a.dtype == b.dtype and (a.dtype.kind == "f" or not true_division):
        return a, b
    if ta != tb:
        t, n = (a, b) if ta else (b, a)
        if t.dtype.kind == "f" and type(n) in (int, float, bool):
            return a, b
        if t.dtype.kind in "iu" and type(n) in (int, bool) and not true_division:
            lo, hi = _INT_RANGES[t.dtype]
            return (a, b) if lo <= n <= hi else tuple(_wrapped(x, t.dtype) for x in (a, b))
    target = result_type(a, b)
    if true_division and not is_float(target):
        target = np.dtype(get_default_dtype())
    return tuple(x.to(target) if isinstance(x, TensorBase) and x.dtype != target else _wrapped(x, target)
                 for x in (a, b))


_INT_RANGES = {np.dtype(t): (int(np.iinfo(t).min), int(np.iinfo(t).max))
               for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)}


def _wrapped(x, dtype):
    """A Python int outside an integer dtype's range wrapped into it, as PyTorch
    casts the scalar of a binary op (int8 tensor * 300 multiplies by 44); NumPy
    would refuse it. Anything else as it is."""
    if type(x) is not int or dtype not in _INT_RANGES:
        return x
    lo, hi = _INT_RANGES[dtype]
    return x if lo <= x <= hi else (x - lo) % (hi - lo + 1) + lo
