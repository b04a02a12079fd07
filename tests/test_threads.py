"""One thread setting for both CPU pools, and the defaults that keep them from
fighting."""
import os
import subprocess
import sys

import numba
import pytest
from threadpoolctl import threadpool_info

import tinygrad_bn as tg


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_set_num_threads_limits_numba_and_blas_and_checks_its_argument():
    before, blas_before = tg.get_num_threads(), _blas_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1 == numba.get_num_threads()
        assert _blas_threads() and set(_blas_threads()) == {1}
    finally:
        numba.set_num_threads(before)
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=max(blas_before or [1]), user_api="blas")
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
            tg.set_num_threads(bad)
    with pytest.raises(ValueError, match="NUMBA_NUM_THREADS"):
        tg.set_num_threads(numba.config.NUMBA_NUM_THREADS + 1)


def test_idle_openmp_threads_sleep_unless_the_user_chose_a_policy():
    code = "import os, tinygrad_bn; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ACTIVE"


def test_small_kernels_stay_on_the_calling_thread():
    from kernels.cpu import _common
    assert _common.SERIAL_BELOW >= 1 << 20  # a SimpleNetBN batch of 1024 (131K values) wakes no pool


def test_small_products_run_on_one_blas_thread_and_the_count_comes_back(monkeypatch):
    import numpy as np
    from threadpoolctl import threadpool_limits

    from tinygrad_bn.backends import blas
    functions = blas._openblas_thread_functions()
    if functions is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")
    get_threads, _ = functions
    seen = []
    real = np.matmul

    def spy(a, b):
        seen.append(get_threads())
        return real(a, b)
    monkeypatch.setattr(np, "matmul", spy)
    matmul = blas.small_products_on_one_thread()
    with threadpool_limits(limits=2, user_api="blas"):
        before = get_threads()
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((64, 100)), rng.standard_normal((100, 30))
        np.testing.assert_array_equal(matmul(a, b), real(a, b))
        np.testing.assert_array_equal(matmul(a, b[:, 0]), real(a, b[:, 0]))
        assert seen == [1, 1] and get_threads() == before  # one thread inside, restored after
        monkeypatch.setattr(blas, "SERIAL_BELOW", 10)
        matmul(a, b)  # a large product keeps the pool as it is
        assert seen[-1] == before


def test_the_cpu_backend_uses_the_one_thread_matmul_for_small_products():
    from tinygrad_bn.backends import blas, get_backend
    be = get_backend("cpu")
    if blas._openblas_thread_functions() is not None:
        assert be.matmul is not np_matmul()


def np_matmul():
    import numpy as np
    return np.matmul
