"""The product split policy of backends/blas.py: which products may be split in
bands (2-d by 2-d, SERIAL_BELOW multiply-adds or more, at least one row per BLAS
thread, more than one thread), each giving the one-thread product's bits, and
the chooser's running average of each way's time per multiply-add."""
import numpy as np
import pytest

from tinygrad_bn.backends import blas

threadpoolctl = pytest.importorskip("threadpoolctl")


def _needs_pthreads_openblas():
    if blas._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")


@pytest.mark.parametrize("a_shape, b_shape, threads, considered", [
    ((2, 8), (8, 3), 2, True),  # as many rows as threads: a band each
    ((3, 8), (8, 3), 2, True),
    ((1, 8), (8, 3), 2, False),  # fewer rows than threads
    ((2, 2, 8), (8, 3), 2, False),  # batched
    ((4, 8), (2, 8, 3), 2, False),
    ((4, 8), (8,), 2, False),  # a matrix-vector product
    ((8,), (8, 3), 2, False),
    ((4, 8), (8, 3), 1, False),  # one BLAS thread: nothing to split over
])
def test_only_2d_products_with_a_row_per_thread_on_several_threads_may_be_split(
        monkeypatch, a_shape, b_shape, threads, considered):
    _needs_pthreads_openblas()
    monkeypatch.setattr(blas, "SERIAL_BELOW", 1)
    matmul = blas.small_products_on_one_thread()
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        want = np.matmul(a, b)
    with threadpoolctl.threadpool_limits(limits=threads, user_api="blas"):
        for _ in range(3):
            got = matmul(a, b)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    assert bool(matmul.choosers) == considered
    assert bool(matmul.same_bits) == considered  # the first split of a candidate is checked
    if considered:
        (key,) = matmul.choosers
        assert key[-1] == threads and matmul.choosers[key].count >= 2  # timed serial, then split


def test_the_chooser_keeps_a_running_average_weighted_to_the_newest_product():
    """Time per multiply-add: the first product of a way sets it, each later one moves it
    WEIGHT (a quarter) of the way towards the newest."""
    chooser = blas.SplitChooser()
    assert chooser.WEIGHT == 0.25 and chooser.cost == {"serial": None, "split": None}
    chooser.record("serial", 8.0, 2)
    assert chooser.cost == {"serial": 4.0, "split": None}
    chooser.record("serial", 16.0, 2)  # 8 per multiply-add: 4 + (8 - 4) / 4
    assert chooser.cost == {"serial": 5.0, "split": None}
    chooser.record("split", 3.0, 3)
    chooser.record("split", 0.0, 3)
    assert chooser.cost == {"serial": 5.0, "split": 0.75}
    assert chooser.count == 0  # counting is pick's


def test_the_chooser_times_serial_first_then_split_then_takes_the_faster():
    chooser = blas.SplitChooser()
    assert chooser.pick() == "serial"
    chooser.record("serial", 1.0, 1)
    assert chooser.pick() == "split"
    chooser.record("split", 2.0, 1)
    picks = [chooser.pick() for _ in range(blas.PROBE_EVERY - 3)]  # before the first probe
    assert picks == ["serial"] * len(picks)
    assert chooser.pick() == "split"  # the PROBE_EVERY-th: the slower way is tried again
    chooser.record("split", 0.0, 1)  # 2 + (0 - 2) / 4 = 1.5: still slower
    assert chooser.pick() == "serial"
    for _ in range(3):
        chooser.record("split", 0.0, 1)  # 1.125, 0.84, 0.63: faster than 1
    assert chooser.pick() == "split"
