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
import inspect
import os
import threading
import warnings

import numba
import numpy as np

from ..cache_stamp import drop_stale_kernel_cache, numba_locators
from . import pool

# Kernels here call jitted functions from other files of this folder (group norm
# uses layer norm's row statistics), which Numba's on-disk cache does not watch:
# when any source here changes, the cached kernels go (kernels/cache_stamp.py).
drop_stale_kernel_cache(os.path.dirname(os.path.abspath(__file__)), numba_locators("cpu"))

# Below this many elements a kernel runs serially (see the module docstring).
SERIAL_BELOW = 1 << 20

# reassoc lets LLVM vectorise float reductions (the order is fixed at compile
# time, so results still repeat exactly); no flag that changes NaN/Inf handling.
FASTMATH = {"reassoc", "contract"}

JIT = dict(cache=True, fastmath=FASTMATH, nogil=True)
PJIT = dict(cache=True, fastmath=FASTMATH, nogil=True, parallel=True)

# The first row or element of a range, for a compiled caller to pass to a kernel.
# A literal 0 there types as Literal[int](0) and compiles the kernel a second
# time beside the int64 copy that the parallel twins and Python callers use.
START = np.int64(0)


def num_threads() -> int:
    return numba.get_num_threads()


# --- when a call may use Numba's thread pool --------------------------------
# Two runtimes cannot take every caller (the process would abort):
# - GNU OpenMP cannot start a parallel region in a child forked after the parent
#   used its pool, so such a child runs every kernel on its calling thread.
# - The workqueue layer (Numba's fallback when neither OpenMP nor TBB loads)
#   takes one parallel launch at a time, so under it a second thread that finds
#   the pool busy runs its kernel serially instead of launching into it.
# The layer is known only after the first parallel launch, so that one is
# treated as the workqueue case.
_pool_lock = threading.Lock()
_pool_used = False          # this process has launched a parallel kernel
_layer_threadsafe = False   # ... and its threading layer takes concurrent launches
_forked_after_pool = False  # this process is a fork of one that used the pool


def _after_fork_in_child():
    global _forked_after_pool, _pool_lock
    _pool_lock = threading.Lock()  # a thread of the parent may have held it
    if _pool_used:
        _forked_after_pool = True


os.register_at_fork(after_in_child=_after_fork_in_child)


def claim_pool(numel, rows) -> bool:
    """Whether a kernel over ``rows`` rows (``numel`` elements) runs on the thread
    pool; a True must be paired with ``release_pool()`` once the launch returns."""
    global _pool_used
    if numel < SERIAL_BELOW or rows < 2 or num_threads() < 2:
        return False
    if _forked_after_pool:
        _warn_forked_once()
        return False
    if _layer_threadsafe:
        return True
    if not _pool_lock.acquire(blocking=False):
        return False
    _pool_used = True
    return True


def release_pool() -> None:
    global _layer_threadsafe
    if _layer_threadsafe:
        return
    _layer_threadsafe = numba.threading_layer() in ("omp", "tbb")
    _pool_lock.release()


_warned_fork = False


def _warn_forked_once():
    global _warned_fork
    if not _warned_fork:
        _warned_fork = True
        warnings.warn(
            "Normalization kernels: this process was forked after its parent used Numba's thread pool, which "
            "GNU OpenMP cannot use again after fork(); the normalization kernels run on one thread "
            "here. Start child processes with multiprocessing's 'spawn' or 'forkserver' method "
            "to keep them parallel.", RuntimeWarning, stacklevel=4)


# --- the parallel twin of a serial row kernel ---------------------------------
# A serial row kernel takes (*args, r0, r1), or (*args, s1, s2, r0, r1) when it
# also sums into two float64 rows, or (*args, block, r0, r1) when it writes
# into a block of its own (partial sums of any shape); its twin takes
# (*args, bounds), (*args, part, bounds) or (*args, block, bounds) with one
# block per chunk, and runs it on each chunk of rows in a prange.
#
# The twin is made from source text, not as a closure: Numba's cache keys a
# closure by a pickle of what it closes over, and a jitted function pickles
# with an id drawn anew in each process, so a closure over the serial kernel
# compiled again in every process (measured: a miss and one more cache entry
# per process). Source that names the serial kernel as a global has no
# closure; compiled under the serial kernel's file name, it is cached beside
# it and loaded by the next process (so a traceback through a twin names lines
# 1-3 of that file: the twin's source is the template here).

_TWIN = """def {name}({args}, bounds):
    for t in prange(len(bounds) - 1):
        {serial}({args}, bounds[t], bounds[t + 1])
"""
_TWIN_WITH_PARTIALS = """def {name}({args}, part, bounds):
    for t in prange(len(bounds) - 1):
        part[t, 0, :] = 0.0
        part[t, 1, :] = 0.0
        {serial}({args}, part[t, 0], part[t, 1], bounds[t], bounds[t + 1])
"""
_TWIN_WITH_BLOCK = """def {name}({args}, {block}, bounds):
    for t in prange(len(bounds) - 1):
        {serial}({args}, {block}[t], bounds[t], bounds[t + 1])
"""


def parallel_rows(serial, partials=False, block=False):
    """The parallel twin (named ``<serial>_par``, compiled with ``PJIT``) of the
    ``@njit`` row kernel ``serial``; ``partials``: the kernel's last arguments
    before ``r0, r1`` are its two float64 sum rows; ``block``: its last argument
    before ``r0, r1`` is a block of its own, which the twin takes (under the
    same name) with one block per chunk along a new first axis."""
    fn = serial.py_func
    params = list(inspect.signature(fn).parameters)
    if params[-2:] != ["r0", "r1"]:
        raise TypeError(f"parallel_rows: {fn.__name__} must end with the arguments r0, r1, not {params[-2:]}")
    if partials and block:
        raise TypeError(f"parallel_rows: {fn.__name__}: partials and block exclude each other")
    args = ", ".join(params[:-2 - (2 if partials else 1 if block else 0)])
    name = f"{fn.__name__}_par"
    template = _TWIN_WITH_PARTIALS if partials else _TWIN_WITH_BLOCK if block else _TWIN
    source = template.format(name=name, args=args, serial=fn.__name__,
                             block=params[-3] if block else None)
    scope = {"__name__": fn.__module__, "prange": numba.prange, fn.__name__: serial}
    exec(compile(source, fn.__code__.co_filename, "exec"), scope)
    return numba.njit(**PJIT)(scope[name])


def chunks(total: int, parts: int) -> np.ndarray:
    """Boundaries splitting range(total) into ``parts`` nearly equal pieces."""
    parts = max(1, min(parts, total)) if total else 1
    return np.array([total * i // parts for i in range(parts + 1)], dtype=np.int64)


def run_rows(parallel_kernel, serial_kernel, rows, numel, args, partial_width=None, partial_rows=2):
    """Run a row kernel over ``rows``: one contiguous chunk per thread, or all
    rows on this thread when the input is small (or has one row).

    Kernels take ``(*args, r0, r1)`` (serial) and ``(*args, bounds)`` (parallel).
    With ``partial_width`` they also reduce into two float64 rows of that width:
    ``(*args, s1, s2, r0, r1)`` and ``(*args, part, bounds)`` with one partial
    pair per chunk, summed here in chunk order so results repeat exactly at a
    fixed thread count. Returns the two summed rows, or None; with
    ``partial_rows=1`` (a kernel that sums into its first row only) the second
    is not summed and comes back as None."""
    if not claim_pool(numel, rows):
        if partial_width is None:
            serial_kernel(*args, 0, rows)
            return None
        s1, s2 = np.zeros(partial_width), np.zeros(partial_width)
        serial_kernel(*args, s1, s2, 0, rows)
        return s1, s2
    try:
        bounds = chunks(rows, num_threads())
        if partial_width is None:
            parallel_kernel(*args, bounds)
            return None
        # From the buffer cache, zeroed by each chunk's thread: wide rows have
        # partials of megabytes, and np.zeros handed out fresh pages that
        # faulted on first touch (at (64, 200704) float32, 1.7-2 ms of RMS
        # norm's 9 ms backward went outside the kernel).
        part = pool.empty((len(bounds) - 1, 2, partial_width), np.float64)
        parallel_kernel(*args, part, bounds)
    finally:
        release_pool()
    # summed over the chunks in their order, only the rows in use: at (64, 200704)
    # summing RMS norm's unused row cost 0.2 ms
    total = part[:, :partial_rows].sum(axis=0)
    return total[0], (total[1] if partial_rows == 2 else None)

