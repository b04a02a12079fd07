"""How many threads the CPU uses: one setting for both thread pools.

A CPU step runs matmuls in NumPy's BLAS (OpenBLAS, its own pthreads) and
normalization in Numba's OpenMP pool. ``set_num_threads(n)`` limits both;
``get_num_threads()`` reads Numba's (the BLAS limit is set alongside).

Defaults, and why: normalization kernels use every core from ~1M elements and
run on the calling thread below (``kernels/cpu/_common.py``); every matmul runs
on one BLAS thread, a large one perhaps in row bands on as many threads of our
own as the BLAS limit, when timing says that is faster (``backends/blas.py``);
idle OpenMP threads sleep at once instead of spinning (``OMP_WAIT_POLICY=PASSIVE``,
set by ``kernels/cpu`` unless you set a policy yourself), so the two pools do
not take each other's cores. Results repeat exactly on the same machine for the
same Numba thread count; for models whose activations are below ~1M elements,
whatever the thread counts.
"""
import numba


def set_num_threads(n: int) -> None:
    """Use at most ``n`` threads in both pools (Numba's: in this thread, as
    ``numba.set_num_threads``; BLAS: process-wide)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a positive int, got {n!r}")
    limit = numba.config.NUMBA_NUM_THREADS
    if n > limit:
        raise ValueError(
            f"set_num_threads: {n} threads asked, but Numba's pool has {limit}; expected at most {limit} "
            "(set NUMBA_NUM_THREADS before starting Python to allow more)"
        )
    numba.set_num_threads(n)
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=n, user_api="blas")  # takes effect now; nothing restores it later


def get_num_threads() -> int:
    """The threads the normalization kernels use (and BLAS is limited to, after
    ``set_num_threads``)."""
    return numba.get_num_threads()
