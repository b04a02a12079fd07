"""NumPy's matmul with OpenBLAS on one thread per product, split by us for the large ones.

OpenBLAS splits a product over every core. On a machine where other processes
also run, a split product waits for a descheduled thread: on 2 cores with 4
busy processes a SimpleNet step took 70-150 ms instead of 1-12 ms, and it did
so at random, whole runs at a time (benchmarks/bench_threads.py). And its split
changes the last bits of some products (a (4096, 784) by (784, 64) product on
two threads is not the one-thread product), so results would depend on the
thread count.

So every product runs on one OpenBLAS thread (``matmul`` sets the count to one
for the call and puts it back after: two calls into the library, well under a
microsecond each), and a product of ``SERIAL_BELOW`` multiply-adds or more may
be split by us instead: its rows in as many bands as the BLAS thread count,
each band a one-thread product on a thread of our own, written into one
output. Each output element is then the very product of the one-thread call
(the first split of each shape is checked against the serial product, and a
shape whose bands differ is never split: OpenBLAS can take another kernel
path or blocking for a band than for the whole, as for both first-layer
products of SimpleNet at batch 4096 on an AMD EPYC), so the split changes no
bit and the choice can follow the machine:
``SplitChooser`` times both ways as they run and takes the faster per
multiply-add, one chooser per shape (a split pays off for some shapes of a
size and not for others), trying the other way again every ``PROBE_EVERY``
products of the shape.
Under load the split waits for a descheduled thread and loses; on a quiet
machine it wins. Other BLAS libraries (MKL, Accelerate), or OpenBLAS built with
OpenMP (whose limits are per thread), are left alone: ``matmul`` is ``np.matmul``.

Products of ours that threads run at once take turns (see
``small_products_on_one_thread``), so each gets the count a serial run gives
it; a NumPy product that another Python thread runs directly during ours still
sees the one thread limit for that time. A compiled step's replay reads the
count once, as it begins, and while it was 1 the step's small products call
NumPy directly (``replay_form``).
"""
import itertools
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# m * k * n below which a product is never split (SimpleNet's largest at batch
# 1024 is 1024 * 784 * 64 = 51M; a split costs a thread hand-off, ~20 us).
# Alone, a (1024, 784) by (784, 64) product takes 1035 us on one thread and 659
# in two bands, but in a step at batch 256-1024 a threshold of 2^23 or 2^25 gave
# no steady gain (the step's other work and the second thread's wake-ups)
SERIAL_BELOW = 1 << 27
PROBE_EVERY = 16
"""Large products between two tries of the way ``SplitChooser`` is not taking."""


class SplitChooser:
    """Serial or split, by the time per multiply-add each took lately (an
    average over the last few products of each way). Both ways give the same
    bits, so this chooses speed only."""

    WEIGHT = 0.25  # of the newest product in each way's running average

    def __init__(self):
        self.cost = {"serial": None, "split": None}  # seconds per multiply-add
        self.count = 0

    def pick(self):
        self.count += 1
        serial, split = self.cost["serial"], self.cost["split"]
        if serial is None:
            return "serial"
        if split is None:
            return "split"
        best = "split" if split < serial else "serial"
        if self.count % PROBE_EVERY == 0:  # the machine may have changed: time the other way again
            return "serial" if best == "split" else "split"
        return best

    def record(self, way, seconds, macs):
        per = seconds / macs
        old = self.cost[way]
        self.cost[way] = per if old is None else old + self.WEIGHT * (per - old)


def numpys_openblas(controllers):
    """Of threadpoolctl's library controllers, the OpenBLAS that NumPy calls, or None.

    A process may hold several: SciPy's wheels bring an OpenBLAS of their own
    (LP64, beside NumPy's ILP64 one), loaded as soon as anything imports
    ``scipy.linalg``, and threadpoolctl lists the two in an order that changes
    from process to process. Setting the thread count of the other one leaves
    NumPy's products on every core: in about half of the processes, with other
    bits. So with more than one, only a library inside NumPy's own folders
    (``numpy.libs`` in a wheel) is taken."""
    openblas = [c for c in controllers if c.internal_api == "openblas"]
    if len(openblas) <= 1:
        return openblas[0] if openblas else None
    package = os.path.dirname(os.path.realpath(np.__file__))
    folders = tuple(os.path.join(d, "") for d in (package, package + ".libs"))
    numpys = [c for c in openblas if os.path.realpath(c.filepath).startswith(folders)]
    return numpys[0] if len(numpys) == 1 else None


def _openblas_thread_functions():
    """(get, set) of NumPy's OpenBLAS thread count as ctypes functions, or None
    (with a warning when there is an OpenBLAS that cannot be told apart)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure NumPy's BLAS is loaded
    controllers = ThreadpoolController().lib_controllers
    lib = numpys_openblas(controllers)
    if lib is None:
        found = [c.filepath for c in controllers if c.internal_api == "openblas"]
        if found:
            warnings.warn(f"tinygrad_bn: cannot tell which of {len(found)} OpenBLAS libraries NumPy calls "
                          f"({', '.join(found)}); matrix products use OpenBLAS's own thread count, so their last "
                          "bits may depend on it (set OPENBLAS_NUM_THREADS=1 for results that repeat across "
                          "processes)", RuntimeWarning, stacklevel=2)
        return None
    if lib.threading_layer != "pthreads":
        return None
    get, set_ = lib._get_symbol("openblas_get_num_threads"), lib._get_symbol("openblas_set_num_threads")
    return (get, set_) if get is not None and set_ is not None else None


def split_rows(a, b, bands, pool):
    """``a @ b`` (2-d) with the rows of ``a`` in ``bands`` bands, each a
    one-thread product on its own thread (the first on this one), into one
    output: element by element the one-thread product of the whole."""
    out = np.empty((a.shape[0], b.shape[1]), np.result_type(a.dtype, b.dtype))
    edges = [a.shape[0] * i // bands for i in range(bands + 1)]
    jobs = [pool.submit(np.matmul, a[lo:hi], b, out=out[lo:hi]) for lo, hi in itertools.pairwise(edges[1:])]
    np.matmul(a[:edges[1]], b, out=out[:edges[1]])
    for job in jobs:
        job.result()
    return out


_TURN = threading.Lock()
"""Held by a product of ours while it sets and restores OpenBLAS's count: one lock
for the process, as the count is (every CPU backend's matmul takes it)."""


def small_products_on_one_thread():
    """``matmul(a, b)`` for the CPU backend (see the module docstring).

    The thread count is process-wide, so products of ours take turns: one at a
    time, each on one OpenBLAS thread (the count set for it and put back after),
    a large 2-d one perhaps in bands on our own threads (``SplitChooser``). A
    product then gives the bits of a serial run whatever the thread counts and
    whatever other threads do, so threads that train at once get the results
    of serial runs bit for bit. (Products are serialized across Python threads;
    each holds its cores anyway, and the turn costs one uncontended lock in a
    single thread.)"""
    functions = _openblas_thread_functions()
    if functions is None:
        return np.matmul
    get_threads, set_threads = functions
    np_matmul = np.matmul
    turn = _TURN
    choosers = {}  # shape -> its SplitChooser: a split pays off for some shapes and not others
    same_bits = {}  # (shapes, dtypes, strides, bands) -> whether bands gave the serial product's bits
    pools = {}  # band count -> the threads that run all bands but the first

    def matmul(a, b):
        with turn:
            threads = get_threads()
            if threads != 1:
                set_threads(1)
            try:
                macs = a.size * (b.shape[-1] if b.ndim > 1 else 1)
                if macs < SERIAL_BELOW or threads == 1 or a.ndim != 2 or b.ndim != 2 or a.shape[0] < threads:
                    return np_matmul(a, b)
                shape = (a.shape, b.shape, a.dtype, b.dtype, a.strides, b.strides, threads)
                if same_bits.get(shape) is False:
                    return np_matmul(a, b)
                chooser = choosers.get(shape)
                if chooser is None:
                    chooser = choosers[shape] = SplitChooser()
                way = chooser.pick()
                start = time.perf_counter()
                if way == "serial":
                    out = np_matmul(a, b)
                    chooser.record(way, time.perf_counter() - start, macs)
                    return out
                pool = pools.get(threads)
                if pool is None:
                    pool = pools[threads] = ThreadPoolExecutor(threads - 1, thread_name_prefix="tinygrad_bn-blas")
                out = split_rows(a, b, threads, pool)
                chooser.record(way, time.perf_counter() - start, macs)
                if shape not in same_bits:
                    # the first split of a shape is checked against the serial product: a shape whose
                    # bands take another kernel path or blocking in OpenBLAS is never split
                    serial = np_matmul(a, b)
                    same_bits[shape] = bool(np.array_equal(out, serial, equal_nan=True))
                    return serial
                return out
            finally:
                if threads != 1:
                    set_threads(threads)

    replaying = threading.local()  # .one_thread: OpenBLAS's count was 1 as this thread's replay began

    def before_replay():
        # read under the turn: another thread's product sets the count to 1 only for its turn
        with turn:
            replaying.one_thread = get_threads() == 1

    def replay_form(a, b):
        """For a compiled step: a product below ``SERIAL_BELOW`` that replays
        while OpenBLAS's count is 1 calls NumPy directly (the turn, the two
        count calls and the size test cost about 1 us a product, 3% of a
        SimpleNet step at batch 64). The count is read once per replay, by
        the replaying thread (``before_replay``); products of ours never change
        a count of 1, so only a count that another thread sets by hand during
        the step (``tg.set_num_threads``, threadpoolctl) is not seen, as it
        would not be by an eager product that it changes halfway either. With
        a count above 1 each product takes the turn as an eager one does."""
        if a.size * (b.shape[-1] if b.ndim > 1 else 1) >= SERIAL_BELOW:
            return None

        def small_product(a, b):
            return np_matmul(a, b) if getattr(replaying, "one_thread", False) else matmul(a, b)
        small_product.before_replay = before_replay
        return small_product

    matmul.choosers, matmul.same_bits, matmul.pools = choosers, same_bits, pools
    matmul.replay_form = replay_form
    return matmul
