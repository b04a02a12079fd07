"""Reductions for a compiled replay, where NumPy's call costs more than the work.

A bias gradient is the sum over the batch of a (N, C) gradient: ``np.sum(g,
axis=0)`` costs about 2.5 us at (16, 128), most of it the call, and a compiled
step makes three of them. NumPy adds the rows in order into the output (for a
C-contiguous array with two or more columns; one column is summed pairwise), so
a loop that does the same gives the same bits."""
import numpy as np
from numba import njit, types

# float32 and float64, writeable and read-only (a broadcast view, a reshape of one)
_SIGNATURES = [types.Array(dt, 1, "C")(types.Array(dt, 2, "C", readonly=readonly))
               for dt in (types.float32, types.float64) for readonly in (False, True)]


@njit(_SIGNATURES, cache=True, nogil=True)  # no fastmath: reassoc would change the order of the sum
def _rows_summed(x):
    out = np.zeros(x.shape[1], x.dtype)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[j] += x[i, j]
    return out


def rows_summed_form(reduction, traced, axis, keepdims):
    """What a replay calls for ``reduction(x, axis, keepdims)`` (NumPy's sum) on
    arrays like ``traced``: the compiled loop for the rows of a C-contiguous
    float matrix of two or more columns, where it gives NumPy's bits, and
    ``reduction`` itself otherwise (a replayed array of another layout or dtype
    goes to it too)."""
    if not (isinstance(traced, np.ndarray) and traced.ndim == 2 and axis in (0, -2) and not keepdims
            and traced.shape[1] >= 2 and traced.dtype in (np.float32, np.float64) and traced.flags.c_contiguous):
        return reduction

    def rows_summed(x, axis=None, keepdims=False):
        if x.flags.c_contiguous and x.ndim == 2 and x.dtype == traced.dtype:
            return _rows_summed(x)
        return reduction(x, axis, keepdims)
    return rows_summed
