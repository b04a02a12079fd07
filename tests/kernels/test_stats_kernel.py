"""The one-call array summary behind the Tape's statistics (kernels/cpu/stats.py),
against NumPy on the finite values."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kernels.cpu import _common, stats


def reference(a):
    flat = np.asarray(a, dtype=np.float64).reshape(-1)
    finite = flat[np.isfinite(flat)]
    return (finite.size, finite.sum(), (finite * finite).sum(), np.abs(finite).max(initial=0.0),
            int(np.isnan(flat).sum()), int(np.isinf(flat).sum()))


def assert_summary(got, want):
    n, s, sq, mx, nan, inf = got
    assert (n, nan, inf) == (want[0], want[4], want[5])
    scale = max(1.0, want[2])
    assert abs(s - want[1]) <= 1e-9 * scale and abs(sq - want[2]) <= 1e-9 * scale
    assert mx == want[3]  # the max is one of the values, exactly


values = st.one_of(st.floats(-1e6, 1e6, width=32), st.just(np.nan), st.just(np.inf), st.just(-np.inf),
                   st.just(0.0), st.just(-0.0))


@settings(max_examples=60, deadline=None)
@given(arr=hnp.arrays(st.sampled_from([np.float32, np.float64]),
                      hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40), elements=values))
def test_summary_matches_numpy_on_finite_values(arr):
    assert_summary(stats.summarize(arr), reference(arr))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_is_the_largest_magnitude_with_either_sign(dtype):
    a = np.array([0.5, -3.25, 3.0, -0.0, 1e-30], dtype=dtype)
    assert stats.summarize(a)[3] == 3.25
    assert stats.summarize(-a)[3] == 3.25
    tiny = np.array([np.finfo(dtype).smallest_subnormal, 0.0], dtype=dtype)
    assert stats.summarize(tiny)[3] == np.finfo(dtype).smallest_subnormal


def test_non_finite_values_are_counted_and_left_out():
    a = np.arange(10, dtype=np.float32)
    a[[2, 5]] = np.nan
    a[7] = -np.inf
    n, s, sq, mx, nan, inf = stats.summarize(a)
    assert (n, nan, inf, mx) == (7, 2, 1, 9.0) and s == 0 + 1 + 3 + 4 + 6 + 8 + 9


def test_strided_float16_integer_and_empty_arrays():
    a = np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2]  # not contiguous
    assert_summary(stats.summarize(a), reference(a))
    h = np.array([1.5, -2.0], dtype=np.float16)  # summarized in float64
    assert_summary(stats.summarize(h), reference(h))
    assert stats.summarize(np.arange(5)) == (0, 0.0, 0.0, 0.0, 0, 0)
    assert stats.summarize(np.zeros((0, 3), np.float32)) == (0, 0.0, 0.0, 0.0, 0, 0)


def test_parallel_chunks_agree_with_one_pass(monkeypatch):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(3000).astype(np.float32)
    a[[10, 2000]] = np.nan
    a[2999] = np.inf
    serial = stats.summarize(a)
    monkeypatch.setattr(_common, "SERIAL_BELOW", 1)
    monkeypatch.setattr(_common, "num_threads", lambda: 3)  # the pool is claimed for three chunks,
    monkeypatch.setattr(stats, "num_threads", lambda: 3)  # one per "thread"
    launches = []
    real = stats._summary_parallel
    monkeypatch.setattr(stats, "_summary_parallel", lambda *args: launches.append(args[-1]) or real(*args))
    parallel = stats.summarize(a)
    assert len(launches) == 1 and len(launches[0]) == 4  # the parallel kernel ran, over three chunks
    assert parallel[0] == serial[0] and parallel[3:] == serial[3:]
    assert parallel[1] == pytest.approx(serial[1], rel=1e-12) and parallel[2] == pytest.approx(serial[2], rel=1e-12)
    assert_summary(parallel, reference(a))
