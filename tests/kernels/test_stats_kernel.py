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


# ---------------------------------------------------- the parallel path, at its real threshold
N_PARALLEL = _common.SERIAL_BELOW + 13  # just past the size below which a summary runs serially


@pytest.fixture(params=[None, 3, 5], ids=["threads", "3 chunks", "5 chunks"])
def parallel_chunks(request, monkeypatch):
    """The chunk bounds of a parallel summary of N_PARALLEL elements, which each test must
    then take: Numba's thread count of chunks, or 3 or 5 (more chunks than threads)."""
    if request.param is not None:
        monkeypatch.setattr(_common, "num_threads", lambda: request.param)  # claim_pool's check
        monkeypatch.setattr(stats, "num_threads", lambda: request.param)  # the chunk count
    elif _common.num_threads() < 2:
        pytest.skip("one thread: the summary never takes the parallel path")
    launches = []
    real = stats._summary_parallel
    monkeypatch.setattr(stats, "_summary_parallel", lambda *args: launches.append(args[-1]) or real(*args))
    bounds = _common.chunks(N_PARALLEL, request.param or _common.num_threads())
    yield bounds
    assert len(launches) >= 1 and all(list(b) == list(bounds) for b in launches), "the serial path ran"


def _places(bounds):
    """Indices at the edges of every chunk: first and last element of each."""
    return sorted({int(b) for b in bounds[:-1]} | {int(b) - 1 for b in bounds[1:]})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_the_largest_magnitude_counts_wherever_its_chunk_is(parallel_chunks, dtype, sign):
    rng = np.random.default_rng(7)
    base = rng.uniform(-1.0, 1.0, N_PARALLEL).astype(dtype)
    for where in _places(parallel_chunks):
        a = base.copy()
        a[where] = sign * 123.5
        n, _, _, mx, nan, inf = stats.summarize(a)
        assert mx == 123.5, f"max |x| at index {where} (chunks {list(parallel_chunks)}) read as {mx}"
        assert (n, nan, inf) == (N_PARALLEL, 0, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_finite_values_in_any_chunk_are_counted_and_the_max_is_over_every_chunk(parallel_chunks, dtype):
    """NaN and Inf in some chunks (which then take the scalar pass), the largest finite
    magnitude in another: counts and max gather every chunk's."""
    bounds = [int(b) for b in parallel_chunks]
    rng = np.random.default_rng(9)
    base = rng.uniform(-1.0, 1.0, N_PARALLEL).astype(dtype)
    for k in range(len(bounds) - 1):  # the extreme in chunk k, NaN in the first chunk, Inf in the last
        a = base.copy()
        a[bounds[0]] = np.nan
        a[bounds[-1] - 1] = -np.inf
        a[bounds[k] + 1] = -77.25
        got = stats.summarize(a)
        assert got[3] == 77.25 and got[4:] == (1, 1) and got[0] == N_PARALLEL - 2
        assert_summary(got, reference(a))
