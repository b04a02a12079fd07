"""Summary statistics of an array in one call, for the Tape and anomaly mode.

``summarize(x)`` returns (number of finite values, sum, sum of squares, max
|x|, NaN count, Inf count) of a float array, sums in float64. A Tape summarizes every op's
output and every gradient, so this replaces four NumPy reductions (dot,
maximum, minimum, mean) with one compiled call.

Two vectorised passes in the common case: the sums, then max |x|. LLVM will
not vectorise a float max that must respect NaN, so the max runs on the bit
patterns as integers: with the sign bit cleared, a finite float's bits order
like its magnitude. That is only true without NaN, which a finite sum of
squares proves; otherwise one scalar pass counts NaN and Inf and redoes the
sums and max over the finite values.
"""
import struct

import numpy as np
from numba import njit, prange

from .. import checks
from ..checks import NUMPY_ARRAYS
from ._common import JIT, PJIT, START, chunks, claim_pool, num_threads, release_pool


@njit(**JIT)
def _sums(x, lo, hi):
    # loops run over a slice from 0: an index that could be negative gets a
    # wraparound check, which stops LLVM from vectorising the loop
    y = x[lo:hi]
    s = 0.0
    sq = 0.0
    for i in range(y.size):
        v = np.float64(y[i])
        s += v
        sq += v * v
    return s, sq


@njit(**JIT)
def _max_magnitude_bits(bits, mask, lo, hi):
    y = bits[lo:hi]
    m = mask & 0
    for i in range(y.size):
        b = y[i] & mask
        m = b if b > m else m
    return m


@njit(**JIT)
def _finite_pass(x, bits, mask, lo, hi):
    s = 0.0
    sq = 0.0
    m = mask & 0
    nan = 0
    inf = 0
    for i in range(lo, hi):
        v = np.float64(x[i])
        if v != v:
            nan += 1
        elif v - v != 0.0:  # inf - inf is NaN; a finite value minus itself is 0
            inf += 1
        else:
            s += v
            sq += v * v
            b = bits[i] & mask
            m = b if b > m else m
    return s, sq, m, nan, inf


@njit(**JIT)
def _summary(x, bits, mask, lo, hi):
    s, sq = _sums(x, lo, hi)
    if np.isfinite(sq):
        return s, sq, _max_magnitude_bits(bits, mask, lo, hi), 0, 0
    return _finite_pass(x, bits, mask, lo, hi)


@njit(**PJIT)
def _summary_chunks(x, bits, mask, bounds, sums, maxbits, counts):
    """_summary of each chunk bounds[p]:bounds[p + 1], into row p of the outputs.
    (Made and combined in here, the rows cost Numba six more parallel loops to
    compile: 5 s instead of 1 s.)"""
    for p in prange(len(bounds) - 1):
        s, sq, m, nan, inf = _summary(x, bits, mask, bounds[p], bounds[p + 1])
        sums[p, 0] = s
        sums[p, 1] = sq
        maxbits[p] = m
        counts[p, 0] = nan
        counts[p, 1] = inf


def _summary_parallel(x, bits, mask, bounds):
    parts = len(bounds) - 1
    sums = np.zeros((parts, 2))
    maxbits = np.zeros(parts, bits.dtype)
    counts = np.zeros((parts, 2), np.int64)
    _summary_chunks(x, bits, mask, bounds, sums, maxbits, counts)
    # chunk order is fixed, so the result repeats at a fixed thread count
    s = 0.0
    sq = 0.0
    for chunk_s, chunk_sq in sums.tolist():
        s += chunk_s
        sq += chunk_sq
    nan, inf = counts.sum(axis=0).tolist()
    return s, sq, maxbits.max(), nan, inf


@njit(**JIT)
def _summary_float32(x):
    return _summary(x, x.view(np.int32), np.int32(0x7FFFFFFF), START, x.size)


@njit(**JIT)
def _summary_float64(x):
    return _summary(x, x.view(np.int64), np.int64(0x7FFFFFFFFFFFFFFF), START, x.size)


# float dtype -> (integer dtype of its bits, mask clearing the sign bit, bits -> float,
# serial kernel with the view and mask built in: a call with one argument dispatches fastest)
_BITS = {
    np.dtype(np.float32): (np.int32, np.int32(0x7FFFFFFF), struct.Struct("<i"), struct.Struct("<f"),
                           _summary_float32),
    np.dtype(np.float64): (np.int64, np.int64(0x7FFFFFFFFFFFFFFF), struct.Struct("<q"), struct.Struct("<d"),
                           _summary_float64),
}
_NOTHING = (0, 0.0, 0.0, 0.0, 0, 0)


def summarize(x):
    """(number of finite values, their sum, their sum of squares, their max
    |x|, NaN count, Inf count) of a NumPy array of any shape; zeros for an
    empty or non-float array. float16 is summarized in float64."""
    checks.summarize(x, NUMPY_ARRAYS)
    kernels = _BITS.get(x.dtype)
    if kernels is None:
        if x.dtype.kind != "f":
            return _NOTHING
        x = x.astype(np.float64)
        kernels = _BITS[x.dtype]
    n = x.size
    if not n:
        return _NOTHING
    flat = x.reshape(-1) if x.flags.c_contiguous else np.ascontiguousarray(x).reshape(-1)
    int_type, mask, as_int, as_float, serial = kernels
    if claim_pool(n, n):
        try:
            s, sq, m, nan, inf = _summary_parallel(flat, flat.view(int_type), mask, chunks(n, num_threads()))
        finally:
            release_pool()
        m, nan, inf = int(m), int(nan), int(inf)
    else:
        s, sq, m, nan, inf = serial(flat)
    return n - nan - inf, s, sq, as_float.unpack(as_int.pack(m))[0], nan, inf
