"""Shared pieces of the CPU normalization kernels.

Numerics: statistics accumulate in float64 on data shifted by the first
element of its group (shifted sums), so a float32 input with mean 1e4 and std 1
loses nothing to cancellation; normalization subtracts the float64 mean before
rounding back to the input dtype.

Parallelism: every kernel splits its work into tasks that write disjoint
outputs; reductions that cross tasks go into per-task partial rows, summed
afterwards in a fixed order, so results repeat exactly at a fixed thread count.
Inputs smaller than ``SERIAL_BELOW`` elements run on the calling thread: these
kernels are memory-bound, and below ~1M elements (4 MB of float32) waking the
pool and splitting the work cost about what a second thread saves (measured
with SimpleNetBN steps and BN at (1024, 128) on 2 cores, next to OpenBLAS).
"""
import numba
import numpy as np

# Below this many elements a kernel runs serially (see the module docstring).
SERIAL_BELOW = 1 << 20

# reassoc lets LLVM vectorise float reductions (the order is fixed at compile
# time, so results still repeat exactly); no flag that changes NaN/Inf handling.
FASTMATH = {"reassoc", "contract"}

JIT = dict(cache=True, fastmath=FASTMATH, nogil=True)
PJIT = dict(cache=True, fastmath=FASTMATH, nogil=True, parallel=True)


def num_threads() -> int:
    return numba.get_num_threads()


def chunks(total: int, parts: int) -> np.ndarray:
    """Boundaries splitting range(total) into ``parts`` nearly equal pieces."""
    parts = max(1, min(parts, total)) if total else 1
    return np.array([total * i // parts for i in range(parts + 1)], dtype=np.int64)


def run_rows(parallel_kernel, serial_kernel, rows, numel, args, partial_width=None):
    """Run a row kernel over ``rows``: one contiguous chunk per thread, or all
    rows on this thread when the input is small (or has one row).

    Kernels take ``(*args, r0, r1)`` (serial) and ``(*args, bounds)`` (parallel).
    With ``partial_width`` they also reduce into two float64 rows of that width:
    ``(*args, s1, s2, r0, r1)`` and ``(*args, part, bounds)`` with one partial
    pair per chunk, summed here in chunk order so results repeat exactly at a
    fixed thread count. Returns the two summed rows, or None."""
    parallel = numel >= SERIAL_BELOW and rows > 1 and num_threads() > 1
    bounds = chunks(rows, num_threads() if parallel else 1)
    if partial_width is None:
        if parallel:
            parallel_kernel(*args, bounds)
        else:
            serial_kernel(*args, 0, rows)
        return None
    part = np.zeros((len(bounds) - 1, 2, partial_width))
    if parallel:
        parallel_kernel(*args, part, bounds)
    else:
        serial_kernel(*args, part[0, 0], part[0, 1], 0, rows)
    total = part.sum(axis=0)
    return total[0], total[1]


def affine_or_default(weight, bias, size, who="kernel"):
    """gamma and beta as float64 vectors (ones and zeros when the layer has no
    affine), so a kernel compiles once per input dtype, not per parameter dtype."""
    w = np.ones(size) if weight is None else vector(who, "weight", weight, size)
    b = np.zeros(size) if bias is None else vector(who, "bias", bias, size)
    return w, b


# The kernels index without bounds checks: every entry point checks what it is
# given first, so a wrong size is an error naming the argument, never a read or
# write out of bounds (which crashes the interpreter).


def check_input(who, x, min_ndim):
    """x: a float32 or float64 NumPy array with at least ``min_ndim`` dims and no empty dim."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{who}: x must be a NumPy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{who}: x has dtype {x.dtype}; the kernels take float32 or float64 "
                        "(convert with x.astype(np.float32))")
    if x.ndim < min_ndim or 0 in x.shape:
        raise ValueError(f"{who}: x has shape {x.shape}; expected at least {min_ndim} dims, none of them 0")
    return x


def vector(who, name, v, size):
    """``v`` as a contiguous float64 vector of ``size`` values, or a ValueError naming it."""
    v = np.ascontiguousarray(v, dtype=np.float64).reshape(-1)
    if v.size != size:
        raise ValueError(f"{who}: {name} has {v.size} values, expected {size} (one per normalized "
                         "channel or element of x)")
    return v


def same_shape(who, name, a, shape):
    if tuple(np.shape(a)) != tuple(shape):
        raise ValueError(f"{who}: {name} has shape {tuple(np.shape(a))}, expected {tuple(shape)} (x's)")
