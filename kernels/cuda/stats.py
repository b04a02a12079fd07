"""Summary statistics of an array on the GPU, for the Tape and anomaly mode:
the twin of ``kernels/cpu/stats.py``.

``summarize(x)`` returns (number of finite values, sum, sum of squares, max
|x|, NaN count, Inf count) over the finite values, sums in float64, as Python
numbers. Two kernels and one read:

1. ``_block_partials``: each thread walks a grid-stride share of x keeping
   five float64 values (sum, sum of squares, max |x|, NaN count, Inf count),
   each block combines its threads with shared-memory trees and writes one
   partial row;
2. ``_sum_block_partials``: one thread sums the partial rows in block order,
   so the result repeats exactly on one GPU;

then the five totals, and nothing else, come back to the host.

NaN is ``v != v``, and Inf a magnitude above the largest finite float64
(every value is widened to float64 first): comparisons, not ``math.isnan`` or
``math.isinf`` (libdevice, which the simulator lacks), and no inf - inf that
would warn in the simulator. Counts are float64, exact up to 2**53 values.
"""
import numpy as np
from numba import cuda, float64

from .. import checks
from ..arrays import array_module, flat
from ..checks import DEVICE_ARRAYS
from ._common import LAUNCH, MAX_THREADS, block_sum2, cdiv, kernel, launch, pow2_at_most

LARGEST_FINITE = float(np.finfo(np.float64).max)

# columns of a partial row, and of the totals read back
SUM, SQUARES, MAX_ABS, NANS, INFS = range(5)
COLUMNS = 5


@cuda.jit(device=True, inline="always")
def block_max(v, sh, t, count):
    """The largest v over the ``count`` threads (a power of two) of a 1-D block;
    every thread must call it (it synchronises) and gets the result."""
    sh[t] = v
    cuda.syncthreads()
    step = count // 2
    while step > 0:
        if t < step and sh[t + step] > sh[t]:
            sh[t] = sh[t + step]
        cuda.syncthreads()
        step //= 2
    result = sh[0]
    cuda.syncthreads()  # the buffer is reused by the next call
    return result


@kernel("X F")
def _block_partials(x, part):
    """part[b, :]: block b's sum, sum of squares and max |x| of its finite
    values, and its NaN and Inf counts."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    s = 0.0
    sq = 0.0
    biggest = 0.0
    nans = 0.0
    infs = 0.0
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        v = float64(x[i])
        magnitude = v if v >= 0.0 else -v
        if v != v:
            nans += 1.0
        elif magnitude > LARGEST_FINITE:
            infs += 1.0
        else:
            s += v
            sq += v * v
            if magnitude > biggest:
                biggest = magnitude
    s, sq = block_sum2(s, sq, sh1, sh2, t, t, threads, 1)
    nans, infs = block_sum2(nans, infs, sh1, sh2, t, t, threads, 1)
    biggest = block_max(biggest, sh1, t, threads)
    if t == 0:
        row = cuda.blockIdx.x * COLUMNS
        part[row + SUM] = s
        part[row + SQUARES] = sq
        part[row + MAX_ABS] = biggest
        part[row + NANS] = nans
        part[row + INFS] = infs


@kernel("F I F")
def _sum_block_partials(part, blocks, out):
    """out[:]: the partial rows of ``blocks`` blocks summed in block order (max |x|: the largest)."""
    if cuda.grid(1) == 0:
        s = 0.0
        sq = 0.0
        biggest = 0.0
        nans = 0.0
        infs = 0.0
        for b in range(blocks):
            row = b * COLUMNS
            s += part[row + SUM]
            sq += part[row + SQUARES]
            if part[row + MAX_ABS] > biggest:
                biggest = part[row + MAX_ABS]
            nans += part[row + NANS]
            infs += part[row + INFS]
        out[SUM] = s
        out[SQUARES] = sq
        out[MAX_ABS] = biggest
        out[NANS] = nans
        out[INFS] = infs


_NOTHING = (0, 0.0, 0.0, 0.0, 0, 0)


def summarize(x):
    """(number of finite values, their sum, their sum of squares, their max
    |x|, NaN count, Inf count) of a device array of any shape; zeros for an
    empty or non-float array. float16 is summarized in float64. Waits for the
    GPU: the only entry point that does."""
    checks.summarize(x, DEVICE_ARRAYS)
    if x.dtype.kind != "f" or x.size == 0:
        return _NOTHING
    xp = array_module(x)
    values = flat(x, None if x.dtype in (np.float32, np.float64) else np.float64)
    threads = pow2_at_most(LAUNCH.threads)
    # enough blocks to fill the card; each thread then sums many values
    blocks = max(1, min(cdiv(values.size, threads), LAUNCH.target_blocks()))
    part = xp.empty(blocks * COLUMNS)
    totals = xp.empty(COLUMNS)
    launch(_block_partials, blocks, threads, values, part)
    launch(_sum_block_partials, 1, 1, part, blocks, totals)
    s, sq, biggest, nans, infs = (totals if xp is np else totals.get()).tolist()
    nans, infs = int(nans), int(infs)
    return values.size - nans - infs, s, sq, biggest, nans, infs
