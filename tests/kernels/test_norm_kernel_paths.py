"""Which path a CPU normalization call takes, at the real thresholds: the thread
pool from ``SERIAL_BELOW`` elements up (two rows or more, two threads or more),
batch norm's one compiled call below ``pool.MIN_BYTES`` bytes (and its replay
forms alike), the chunk bounds the pool's kernels get, and the pool's lock
under a threading layer that takes concurrent launches. The paths give the same
numbers, so these tests watch which kernel runs."""
import numba
import numpy as np
import pytest

from kernels.cpu import _common, batchnorm, groupnorm, layernorm, pool, rmsnorm

EPS = 1e-5


# ------------------------------------------------------------------ chunks
@pytest.mark.parametrize("total, parts", [(0, 4), (1, 4), (3, 8), (7, 7), (10, 3), (31, 7), (1000, 2), (10, 1)])
def test_chunks_cover_every_row_once_in_nearly_equal_pieces(total, parts):
    """min(parts, total) pieces (one empty piece for no rows), in order, sizes
    differing by at most one."""
    bounds = _common.chunks(total, parts)
    assert bounds.dtype == np.int64
    assert bounds[0] == 0 and bounds[-1] == total
    sizes = np.diff(bounds)
    if total == 0:
        assert bounds.tolist() == [0, 0]
        return
    assert len(sizes) == min(parts, total)
    assert (sizes >= 1).all() and sizes.max() - sizes.min() <= 1


def test_chunks_of_a_zero_part_count_is_one_piece():
    assert _common.chunks(5, 0).tolist() == [0, 5]


# ------------------------------------------------------- claim_pool's rule
@pytest.fixture(autouse=True)
def launched():
    """One parallel launch first: the threading layer, which ``release_pool``
    reads, is known only after one."""
    x = np.ones((2, 4))
    y = np.empty_like(x)
    layernorm._forward_rows_par(x, np.ones(4), np.zeros(4), EPS, y, np.empty(2), np.empty(2),
                                np.array([0, 1, 2]))


@pytest.fixture
def two_threads(monkeypatch):
    """claim_pool sees two threads, whatever this machine has."""
    monkeypatch.setattr(_common, "num_threads", lambda: 2)


def _pooled(a):
    """Whether array a lies in a buffer of the cache (pool.empty's owner)."""
    while isinstance(a, np.ndarray):
        a = a.base
    return isinstance(a, pool._Owner)


def _claims(numel, rows):
    took = _common.claim_pool(numel, rows)
    if took:
        _common.release_pool()
    return took


@pytest.mark.usefixtures("two_threads")
def test_the_pool_is_claimed_from_serial_below_elements_and_two_rows_up():
    n = _common.SERIAL_BELOW
    assert n == 1 << 20  # "below ~1M elements (4 MB of float32)" (kernels/cpu/_common.py)
    assert _claims(n, 2) and _claims(n + 1, 2) and _claims(n, 1000)
    assert not _claims(n - 1, 2) and not _claims(n - 1, 1000)
    assert not _claims(n, 1) and not _claims(10 * n, 1) and not _claims(n, 0)


def test_one_thread_never_claims_the_pool(monkeypatch):
    monkeypatch.setattr(_common, "num_threads", lambda: 1)
    assert not _claims(1 << 24, 1000)
    monkeypatch.setattr(_common, "num_threads", lambda: 2)
    assert _claims(1 << 24, 1000)


@pytest.mark.usefixtures("two_threads")
def test_a_busy_pool_is_shared_only_under_a_threadsafe_layer():
    """After the first parallel launch the threading layer is known: under OpenMP
    or TBB a second caller launches into a busy pool; under the workqueue layer
    it runs serially (``claim_pool`` says no while another launch holds the pool)."""
    assert _claims(1 << 20, 2)
    threadsafe = numba.threading_layer() in ("omp", "tbb")
    got = _common._pool_lock.acquire(blocking=False)
    try:
        assert _common.claim_pool(1 << 20, 2) == threadsafe
    finally:
        if threadsafe:
            _common.release_pool()
        if got:
            _common._pool_lock.release()
    assert _claims(1 << 20, 2)  # the pool is free again


# --------------------------------------- the kernels at the real threshold
def _watch_claims(monkeypatch):
    """The (numel, rows, claimed) of every pool decision the kernels make."""
    seen = []
    real = _common.claim_pool

    def claim(numel, rows):
        took = real(numel, rows)
        seen.append((numel, rows, took))
        return took
    monkeypatch.setattr(_common, "claim_pool", claim)
    return seen


def _forward_and_backward(kind, x):
    c = x.shape[1]
    w = np.linspace(0.5, 1.5, c)
    if kind == "batch":
        y, m, _, i = batchnorm.forward_train(x, w, w, EPS)
        return [y, *batchnorm.backward(x, x, m, i, w, True)]
    if kind == "layer":
        y, m, i = layernorm.forward(x, w, w, EPS, 1)
        return [y, *layernorm.backward(x, x, m, i, w, 1)]
    if kind == "group":
        y, m, i = groupnorm.forward(x, 1, w, w, EPS)
        return [y, *groupnorm.backward(x, x, 1, m, i, w)]
    y, r = rmsnorm.forward(x, w, EPS, 1)
    return [y, *rmsnorm.backward(x, x, r, w, 1)]


@pytest.mark.usefixtures("two_threads")
@pytest.mark.parametrize("kind", ["batch", "layer", "group", "rms"])
@pytest.mark.parametrize("shape, parallel", [((1024, 1024), True), ((1023, 1025), False), ((1, 1 << 20), False),
                                              ((2, 1 << 19), True)],
                         ids=["SERIAL_BELOW elements", "one fewer", "one row", "two rows"])
def test_every_norm_kernel_takes_the_pool_from_serial_below_elements_of_two_rows(monkeypatch, kind, shape,
                                                                                   parallel):
    seen = _watch_claims(monkeypatch)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    out = _forward_and_backward(kind, x)
    assert all(np.isfinite(o).all() for o in out)
    assert seen and {numel for numel, _, _ in seen} == {x.size}
    assert {took for _, _, took in seen} == {parallel}, seen


# ----------------------------------------- batch norm's one compiled call
def _watch_small(monkeypatch):
    calls = []
    for name in ("_forward_train_small", "_backward_small"):
        real = getattr(batchnorm, name)
        monkeypatch.setattr(batchnorm, name, lambda *a, real=real, name=name: calls.append(name) or real(*a))
    return calls


@pytest.mark.parametrize("shape, one_call", [((1024, 256), False), ((1023, 256), True), ((4, 256, 256), False),
                                             ((4, 256, 255), True), ((512, 256), True)],
                         ids=["MIN_BYTES 2-d", "under 2-d", "MIN_BYTES 3-d", "under 3-d", "half"])
def test_batch_norm_runs_as_one_call_below_min_bytes_only(monkeypatch, shape, one_call):
    """Below pool.MIN_BYTES bytes of input (float32 here) forward and backward are
    one compiled call each; from MIN_BYTES up, the chunked kernels."""
    assert pool.MIN_BYTES == 1 << 20
    calls = _watch_small(monkeypatch)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    assert (x.nbytes < pool.MIN_BYTES) == one_call
    y, m, _, i = batchnorm.forward_train(x, None, None, EPS)
    dx = batchnorm.backward(x, x, m, i, None, True)[0]
    assert calls == (["_forward_train_small", "_backward_small"] if one_call else [])
    # the output buffers come from the cache exactly when they are MIN_BYTES or more
    assert _pooled(y) == _pooled(dx) == (not one_call)


@pytest.mark.parametrize("shape", [(1024, 256), (1023, 256), (4, 256, 256), (4, 256, 255)])
def test_batch_norm_replay_forms_keep_the_function_from_min_bytes_up(shape):
    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    _, m, _, i = batchnorm.forward_train(x, None, None, EPS)
    large = x.nbytes >= pool.MIN_BYTES
    assert (batchnorm.forward_train.replay_form(x, None, None, EPS) is batchnorm.forward_train) == large
    assert (batchnorm.backward.replay_form(x, x, m, i, None, True) is batchnorm.backward) == large


@pytest.mark.parametrize("stats_shape", [(1, 6), (6, 1), (1, 6, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_norm_backward_replay_takes_statistics_of_any_shape_with_c_values(rng, stats_shape, dtype):
    """As batch norm's backward itself, its replayed form reads mean and invstd of
    any shape holding C values, in any float dtype."""
    x = rng.standard_normal((10, 6, 3))
    dy = rng.standard_normal(x.shape)
    w = np.linspace(0.5, 1.5, 6)
    _, m, _, i = batchnorm.forward_train(x, w, w, EPS)
    m, i = m.astype(dtype).reshape(stats_shape), i.astype(dtype).reshape(stats_shape)
    expected = batchnorm.backward(x, dy, m, i, w, True)
    replayed = batchnorm.backward.replay_form(x, dy, m, i, w, True)
    assert replayed is not batchnorm.backward
    for e, g in zip(expected, replayed(x, dy, m, i, w, True)):
        assert e.shape == g.shape and e.dtype == g.dtype
        np.testing.assert_array_equal(e, g)


# ------------------------------------------------------- the buffer cache's cap
def test_the_cache_keeps_buffers_up_to_max_cached_bytes_inclusive(monkeypatch):
    """At most MAX_CACHED_BYTES are kept: buffers that fill the cap exactly stay,
    one more goes back to the allocator; a cached buffer serves only its own size."""
    import gc
    gc.collect()
    pool.empty_cache()
    monkeypatch.setattr(pool, "MAX_CACHED_BYTES", 2 * pool.MIN_BYTES)
    try:
        buffers = [pool.empty((pool.MIN_BYTES // 4,), np.float32) for _ in range(3)]
        assert all(_pooled(b) for b in buffers)
        del buffers
        gc.collect()
        assert pool.cached_bytes() == 2 * pool.MIN_BYTES
        wider = pool.empty((pool.MIN_BYTES // 2,), np.float32)  # twice the size: not from the cache
        assert pool.cached_bytes() == 2 * pool.MIN_BYTES and _pooled(wider)
        same = pool.empty((pool.MIN_BYTES // 8,), np.float64)  # same bytes, other dtype: from the cache
        assert pool.cached_bytes() == pool.MIN_BYTES and same.dtype == np.float64
        del wider, same
        gc.collect()
        assert pool.cached_bytes() == 2 * pool.MIN_BYTES  # the wider one found no room
    finally:
        pool.empty_cache()
