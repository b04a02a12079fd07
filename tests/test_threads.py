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
