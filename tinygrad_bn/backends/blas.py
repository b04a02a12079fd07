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

Products of ours that threads run at once take turns (see
``small_products_on_one_thread``), so each gets the count a serial run gives it; a NumPy product that another
Python thread runs directly during ours still sees the one thread limit for
that time.
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
    """``matmul(a, b)`` for the CPU backend (see the module docstring).

    The thread count is process-wide, so products of ours take turns: one at a
    time, a small one on one thread (the count set for it and put back after),
    a large one on the count as it is. A product then runs with the count a
    serial run gives it, whatever other threads do, so threads that train at
    once get the results of serial runs bit for bit. (Products are serialized
    across Python threads; each is a BLAS call that holds its cores anyway, and
    the turn costs one uncontended lock in a single thread.)"""
    functions = _openblas_thread_functions()
    if functions is None:
        return np.matmul
    get_threads, set_threads = functions
    np_matmul = np.matmul
    turn = threading.Lock()

    def matmul(a, b):
        with turn:
            if a.size * (b.shape[-1] if b.ndim > 1 else 1) >= SERIAL_BELOW:
                return np_matmul(a, b)
            threads = get_threads()
            if threads == 1:
                return np_matmul(a, b)
            set_threads(1)
            try:
                return np_matmul(a, b)
            finally:
                set_threads(threads)

    return matmul
