"""NumPy's matmul with OpenBLAS on one thread for the small products of an MLP.

OpenBLAS splits a product over every core. On a machine where other processes
also run, a split product waits for a descheduled thread: on 2 cores with 4
busy processes a SimpleNet step took 70-150 ms instead of 1-12 ms, and it did
so at random, whole runs at a time (benchmarks/bench_threads.py). A product
below ``SERIAL_BELOW`` multiply-adds gains little from a second core even on a
quiet machine, so ``matmul`` runs it on one thread: it sets OpenBLAS to one
thread for the call and puts the count back after (two calls into the library,
well under a microsecond each). Larger products use the BLAS thread count as
it is. Other BLAS libraries (MKL, Accelerate), or OpenBLAS built with OpenMP
(whose limits are per thread), are left alone: ``matmul`` is ``np.matmul``.

Products of ours that threads run at once take turns at the process-wide
count (``_OneThreadPolicy``), so each gets the count a serial run gives it; a
NumPy product that another Python thread runs directly during ours still sees
the one thread limit for that time.
"""
import threading

import numpy as np

# m * k * n below which a product runs on one BLAS thread (SimpleNet's largest
# at batch 1024 is 1024 * 784 * 64 = 51M)
SERIAL_BELOW = 1 << 27


def _openblas_thread_functions():
    """(get, set) of NumPy's OpenBLAS thread count as ctypes functions, or None."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    np.ones((2, 2)) @ np.ones((2, 2))  # make sure NumPy's BLAS is loaded
    for lib in ThreadpoolController().lib_controllers:
        if lib.internal_api == "openblas" and lib.threading_layer == "pthreads":
            get, set_ = lib._get_symbol("openblas_get_num_threads"), lib._get_symbol("openblas_set_num_threads")
            if get is not None and set_ is not None:
                return get, set_
    return None


def small_products_on_one_thread():
    """``matmul(a, b)`` for the CPU backend (see the module docstring)."""
    functions = _openblas_thread_functions()
    if functions is None:
        return np.matmul
    return _OneThreadPolicy(*functions).matmul


class _OneThreadPolicy:
    """The thread count is process-wide, so threads that multiply at once take
    turns at it: small products run together on one thread (the first to
    start sets it, the last to finish puts the count back), large ones
    together on the count as it was, never one kind while the other runs. A
    product then gets the thread count a serial run gives it, whatever other
    threads do, so results equal a serial run's bit for bit."""

    def __init__(self, get_threads, set_threads):
        self.get_threads, self.set_threads = get_threads, set_threads
        self.np_matmul = np.matmul
        self.lock = threading.Lock()  # held for a few counter updates (a plain lock: `with` is a C call)
        self.turn = threading.Condition(self.lock)  # waited on only when the other kind is running
        self.small = self.large = 0  # products running now, of each kind
        self.waiting = 0
        self.saved = 1  # the count to put back when the last small product ends

    def matmul(self, a, b):
        np_matmul = self.np_matmul
        if a.size * (b.shape[-1] if b.ndim > 1 else 1) >= SERIAL_BELOW:
            return self._large(a, b, np_matmul)
        with self.lock:
            while self.large:
                self._wait()
            if not self.small:
                self.saved = self.get_threads()
                if self.saved != 1:
                    self.set_threads(1)
            self.small += 1
        try:
            return np_matmul(a, b)
        finally:
            with self.lock:
                self.small -= 1
                if not self.small:
                    if self.saved != 1:
                        self.set_threads(self.saved)
                    if self.waiting:
                        self.turn.notify_all()

    def _large(self, a, b, np_matmul):
        with self.lock:
            while self.small:
                self._wait()
            self.large += 1
        try:
            return np_matmul(a, b)
        finally:
            with self.lock:
                self.large -= 1
                if not self.large and self.waiting:
                    self.turn.notify_all()

    def _wait(self):
        self.waiting += 1
        self.turn.wait()
        self.waiting -= 1
