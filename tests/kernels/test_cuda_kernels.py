"""kernels/cuda against float64 references and their CPU twins.

Runs in Numba's CUDA simulator (marker ``cuda_sim``: a pytest process started
with ``NUMBA_ENABLE_CUDASIM=1``, which ``tests/kernels/test_cuda_simulator.py`` starts)
and on a real GPU (marker ``gpu``). In the simulator the launch shapes are
shrunk so that small inputs still use several blocks, column blocks and row
groups, and both the fused and the multi-kernel batch-norm paths.
"""
import sys

import numpy as np
import pytest


pytestmark = [pytest.mark.cuda_sim, pytest.mark.gpu, pytest.mark.usefixtures("small_cuda_launches")]

cb = pytest.importorskip("kernels.cuda.batchnorm")
import kernels.cuda  # noqa: E402
from kernels.cpu import batchnorm as pb, groupnorm as pg, layernorm as pl, stats as ps  # noqa: E402
from kernels.cuda import _common as kc, groupnorm as cg, layernorm as cl, pool as cpool, stats as cs  # noqa: E402
from test_kernel_arguments import CASE_IDS as ARGUMENT_CASE_IDS  # noqa: E402
from test_kernel_arguments import CASES as ARGUMENT_CASES  # noqa: E402
from test_stats_kernel import assert_summary, reference as summary_reference  # noqa: E402
from cuda_arrays import SIMULATED, close, dev, host  # noqa: E402




def bn_reference(x, w, b, eps, dy):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    x = x.astype(np.float64)
    dy = dy.astype(np.float64)
    mean = x.mean(axis=axes)
    var = x.var(axis=axes)
    invstd = 1 / np.sqrt(var + eps)
    xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
    y = xhat * w.reshape(shape) + b.reshape(shape)
    dxhat = dy * w.reshape(shape)
    dx = invstd.reshape(shape) * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                                  - xhat * (dxhat * xhat).mean(axis=axes, keepdims=True))
    return y, mean, var, invstd, dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


def ln_reference(x, w, b, eps, dy, nd):
    axes = tuple(range(x.ndim - nd, x.ndim))
    x = x.astype(np.float64)
    dy = dy.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    invstd = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + eps)
    xhat = (x - mean) * invstd
    g = dy * w
    dx = invstd * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    lead = tuple(range(x.ndim - nd))
    return (xhat * w + b, mean.reshape(x.shape[:x.ndim - nd]), invstd.reshape(x.shape[:x.ndim - nd]), dx,
            (dy * xhat).sum(axis=lead), dy.sum(axis=lead))


def gn_reference(x, groups, w, b, eps, dy):
    n, c = x.shape[:2]
    shape = (1, c) + (1,) * (x.ndim - 2)
    xg = x.astype(np.float64).reshape(n, groups, -1)
    mean = xg.mean(axis=2)
    invstd = 1 / np.sqrt(xg.var(axis=2) + eps)
    xhat = ((xg - mean[..., None]) * invstd[..., None]).reshape(x.shape)
    dy = dy.astype(np.float64)
    g = (dy * w.reshape(shape)).reshape(n, groups, -1)
    xh = xhat.reshape(n, groups, -1)
    dx = invstd[..., None] * (g - g.mean(axis=2, keepdims=True) - xh * (g * xh).mean(axis=2, keepdims=True))
    axes = (0,) + tuple(range(2, x.ndim))
    return (xhat * w.reshape(shape) + b.reshape(shape), mean, invstd, dx.reshape(x.shape),
            (dy * xhat).sum(axis=axes), dy.sum(axis=axes))


def data(rng, shape, dtype, offset=3.0):
    return (rng.standard_normal(shape) * 2 + offset).astype(dtype)


DTYPES = [np.float32, np.float64]


# (N, C): one row group (fused kernel), N < a block's rows, several row groups, C
# not a multiple of the channels per block; (N, C, L) and (N, C, H, W)
BN_SHAPES = [(3, 5), (7, 10), (37, 10), (130, 19), (2, 3, 5), (9, 2, 16), (4, 3, 2, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batch_norm_kernels_match_float64_reference_and_cpu_twin(shape, dtype):
    rng = np.random.default_rng(len(shape) * 100 + shape[0])
    x, dy = data(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    y_ref, mean_ref, var_ref, inv_ref, dx_ref, dw_ref, db_ref = bn_reference(x, w, b, 1e-5, dy)
    y, mean, var, invstd = cb.forward_train(dev(x), dev(w), dev(b), 1e-5)
    assert host(y).dtype == dtype and host(y).shape == shape
    for got, want, what in [(y, y_ref, "y"), (mean, mean_ref, "mean"), (var, var_ref, "var"), (invstd, inv_ref, "invstd")]:
        close(got, want, dtype, what)
    twin = pb.forward_train(x, w, b, 1e-5)
    for got, want, what in zip((y, mean, var, invstd), twin, ("y", "mean", "var", "invstd")):
        close(got, want, dtype, f"{what} vs cpu")
    dx, dw, db = cb.backward(dev(x), dev(dy), dev(twin[1]), dev(twin[3]), dev(w), True)
    for got, want, what in [(dx, dx_ref, "dx"), (dw, dw_ref, "dgamma"), (db, db_ref, "dbeta")]:
        close(got, want, dtype, what, scale=10)
    for got, want, what in zip((dx, dw, db), pb.backward(x, dy, twin[1], twin[3], w, True), ("dx", "dw", "db")):
        close(got, want, dtype, f"{what} vs cpu", scale=10)


def test_the_batch_norm_shapes_cover_both_paths():
    # (N, C) shapes with one row group take the fused kernel, the others three kernels
    groups = {s: cb._column_blocks(*s)[2] for s in BN_SHAPES if len(s) == 2}
    planes = {s: cb._plane_groups(s[0], s[1], int(np.prod(s[2:]))) for s in BN_SHAPES if len(s) > 2}
    if SIMULATED:
        assert groups[(3, 5)] == 1 and groups[(7, 10)] == 1  # fused, N below a block's rows
        assert groups[(37, 10)] > 1 and groups[(130, 19)] > 1  # several row groups
        assert max(planes.values()) > 1
        assert cb._column_blocks(37, 10)[1] == 2  # C = 10 spans two column blocks of 8
        assert cl.row_block(10) == (4, 8) and cl.row_block(70) == (16, 2)  # short rows share a block
    # however many rows, the grid aims at target_blocks blocks in all (more only for one group per column block)
    width_blocks, groups = cb._column_blocks(10**6, 70)[1:]
    assert groups == max(1, kc.LAUNCH.target_blocks() // width_blocks)
    assert cb._plane_groups(10**6, 3, 10) == max(1, kc.LAUNCH.target_blocks() // 3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(37, 10), (9, 4, 7), (3, 5)])
def test_batch_norm_inference_and_its_backward(shape, dtype):
    rng = np.random.default_rng(7)
    x, dy = data(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    rm, rv = rng.standard_normal(shape[1]) + 3, rng.random(shape[1]) + 0.5
    y, invstd = cb.forward_eval(dev(x), dev(w), dev(b), dev(rm), dev(rv), 1e-5)
    bshape = (1, -1) + (1,) * (len(shape) - 2)
    inv = 1 / np.sqrt(rv + 1e-5)
    close(y, (x - rm.reshape(bshape)) * (inv * w).reshape(bshape) + b.reshape(bshape), dtype, "y")
    close(invstd, inv, dtype, "invstd")
    dx, dw, db = cb.backward(dev(x), dev(dy), dev(rm), dev(inv), dev(w), False)
    close(dx, dy * (w * inv).reshape(bshape), dtype, "dx", scale=10)
    for got, want, what in zip((dx, dw, db), pb.backward(x, dy, rm, inv, w, False), ("dx", "dw", "db")):
        close(got, want, dtype, f"{what} vs cpu", scale=10)


@pytest.mark.parametrize("shape", [(37, 10), (9, 4, 7), (5, 6)])
def test_batch_norm_of_data_with_mean_1e4_keeps_its_precision_both_ways(shape):
    rng = np.random.default_rng(3)
    x = data(rng, shape, np.float32, offset=1e4)
    dy = rng.standard_normal(shape).astype(np.float32)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    y, mean, var, invstd = cb.forward_train(dev(x), dev(w), dev(b), 1e-5)
    y_ref, mean_ref, var_ref, inv_ref, dx_ref, dw_ref, db_ref = bn_reference(x, w, b, 1e-5, dy)
    close(var, var_ref, np.float32, "var")
    close(y, y_ref, np.float32, "y", scale=5)
    # backward from the float64 statistics: x - mean must not cancel either
    dx, dw, db = cb.backward(dev(x), dev(dy), dev(mean_ref), dev(inv_ref), dev(w), True)
    for got, want, what in [(dx, dx_ref, "dx"), (dw, dw_ref, "dgamma"), (db, db_ref, "dbeta")]:
        close(got, want, np.float32, what, scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_constant_and_nearly_constant_channels_and_rows(dtype):
    rng = np.random.default_rng(4)
    x = data(rng, (37, 6), dtype)
    x[:, 0] = 5.0  # variance 0: invstd is 1 / sqrt(eps)
    x[:, 1] = 2.0 + 1e-3 * rng.standard_normal(37)  # variance ~1e-6, below eps
    y, mean, var, invstd = cb.forward_train(dev(x), None, None, 1e-5)
    y_ref, mean_ref, var_ref, inv_ref, *_ = bn_reference(x, np.ones(6), np.zeros(6), 1e-5, x)
    close(var, var_ref, dtype, "var", scale=10)
    close(invstd, inv_ref, dtype, "invstd", scale=10)
    assert host(invstd)[0] == pytest.approx(1 / np.sqrt(1e-5))
    xt = np.ascontiguousarray(x.T)  # the same rows for layer norm
    y, mean, invstd = cl.forward(dev(xt), None, None, 1e-5, 1)
    _, _, inv_ref, *_ = ln_reference(xt, np.ones(37), np.zeros(37), 1e-5, xt, 1)
    close(invstd, inv_ref, dtype, "layer norm invstd", scale=10)


# short rows several to a block, long rows, two normalized dims, more rows than the
# grid holds at once (the grid-stride loop goes round), one row
LN_CASES = [((7, 10), 1), ((5, 70), 1), ((3, 4, 9), 2), ((2, 3, 33), 1), ((150, 10), 1), ((1, 5), 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,nd", LN_CASES)
def test_layer_norm_kernels_match_float64_reference_and_cpu_twin(shape, nd, dtype):
    rng = np.random.default_rng(11)
    x, dy = data(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
    norm_shape = shape[len(shape) - nd:]
    w, b = rng.standard_normal(norm_shape), rng.standard_normal(norm_shape)
    y_ref, mean_ref, inv_ref, dx_ref, dw_ref, db_ref = ln_reference(x, w, b, 1e-5, dy, nd)
    y, mean, invstd = cl.forward(dev(x), dev(w), dev(b), 1e-5, nd)
    for got, want, what in [(y, y_ref, "y"), (mean, mean_ref, "mean"), (invstd, inv_ref, "invstd")]:
        close(got, want, dtype, what)
    twin = pl.forward(x, w, b, 1e-5, nd)
    for got, want, what in zip((y, mean, invstd), twin, ("y", "mean", "invstd")):
        close(got, want, dtype, f"{what} vs cpu")
    dx, dw, db = cl.backward(dev(x), dev(dy), dev(twin[1]), dev(twin[2]), dev(w), nd)
    for got, want, what in [(dx, dx_ref, "dx"), (dw, dw_ref, "dgamma"), (db, db_ref, "dbeta")]:
        close(got, want, dtype, what, scale=10)
    for got, want, what in zip((dx, dw, db), pl.backward(x, dy, twin[1], twin[2], w, nd), ("dx", "dw", "db")):
        close(got, want, dtype, f"{what} vs cpu", scale=10)


GN_CASES = [((3, 6, 5), 2), ((2, 4, 3, 3), 4), ((5, 6), 3), ((4, 3, 7), 1), ((40, 4, 3), 2)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,groups", GN_CASES)
def test_group_norm_kernels_match_float64_reference_and_cpu_twin(shape, groups, dtype):
    rng = np.random.default_rng(13)
    x, dy = data(rng, shape, dtype), rng.standard_normal(shape).astype(dtype)
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    y_ref, mean_ref, inv_ref, dx_ref, dw_ref, db_ref = gn_reference(x, groups, w, b, 1e-5, dy)
    y, mean, invstd = cg.forward(dev(x), groups, dev(w), dev(b), 1e-5)
    for got, want, what in [(y, y_ref, "y"), (mean, mean_ref, "mean"), (invstd, inv_ref, "invstd")]:
        close(got, want, dtype, what)
    twin = pg.forward(x, groups, w, b, 1e-5)
    dx, dw, db = cg.backward(dev(x), dev(dy), groups, dev(twin[1]), dev(twin[2]), dev(w))
    for got, want, what in [(dx, dx_ref, "dx"), (dw, dw_ref, "dgamma"), (db, db_ref, "dbeta")]:
        close(got, want, dtype, what, scale=10)
    for got, want, what in zip((dx, dw, db), pg.backward(x, dy, groups, twin[1], twin[2], w), ("dx", "dw", "db")):
        close(got, want, dtype, f"{what} vs cpu", scale=10)


def test_the_grid_aims_at_a_few_blocks_on_every_multiprocessor():
    """On a GPU the card's multiprocessors; in the simulator two (it runs blocks one by one)."""
    from numba import cuda
    fresh = kc.Launch()
    sms = 2 if kc.simulator() else cuda.get_current_device().MULTIPROCESSOR_COUNT
    assert fresh.target_blocks() == kc.Launch.blocks_per_sm * sms


def test_the_default_launch_shapes_give_the_same_results(monkeypatch):
    """The tests shrink the launch shapes; the production ones (256 threads,
    blocks of 32 channels by 8 rows, a warp per short row) on one input each."""
    for name in ("threads", "bn_channels", "row_threads", "rows_per_thread", "sm_count"):
        monkeypatch.setattr(kc.LAUNCH, name, getattr(type(kc.LAUNCH), name))
    if SIMULATED:
        monkeypatch.setattr(kc.LAUNCH, "sm_count", 2)
    rng = np.random.default_rng(8)
    for shape in [(40, 45), (3, 5, 20)]:
        x, dy = data(rng, shape, np.float32), rng.standard_normal(shape).astype(np.float32)
        w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
        y_ref, mean_ref, var_ref, inv_ref, dx_ref, dw_ref, db_ref = bn_reference(x, w, b, 1e-5, dy)
        y, mean, var, invstd = cb.forward_train(dev(x), dev(w), dev(b), 1e-5)
        close(y, y_ref, np.float32, f"bn y {shape}")
        dx, dw, db = cb.backward(dev(x), dev(dy), dev(mean_ref), dev(inv_ref), dev(w), True)
        close(dx, dx_ref, np.float32, f"bn dx {shape}", scale=10)
        close(dw, dw_ref, np.float32, f"bn dgamma {shape}", scale=10)
        wl = rng.standard_normal(shape[-1])
        ly_ref, lmean, linv, ldx_ref, *_ = ln_reference(x, wl, np.zeros(shape[-1]), 1e-5, dy, 1)
        ly, _, _ = cl.forward(dev(x), dev(wl), None, 1e-5, 1)
        close(ly, ly_ref, np.float32, f"ln y {shape}")
        ldx, _, _ = cl.backward(dev(x), dev(dy), dev(lmean), dev(linv), dev(wl), 1)
        close(ldx, ldx_ref, np.float32, f"ln dx {shape}", scale=10)
    assert cb._column_blocks(300, 33)[2] > 1  # several row groups at the defaults too


def test_kernels_repeat_exactly_and_need_no_affine():
    rng = np.random.default_rng(5)
    x, dy = data(rng, (37, 10), np.float32), rng.standard_normal((37, 10)).astype(np.float32)
    first = cb.forward_train(dev(x), None, None, 1e-5)
    again = cb.forward_train(dev(x), None, None, 1e-5)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(host(a), host(b))
    g1 = cb.backward(dev(x), dev(dy), first[1], first[3], None, True)
    g2 = cb.backward(dev(x), dev(dy), first[1], first[3], None, True)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(host(a), host(b))
    y_ref, *_ = bn_reference(x, np.ones(10), np.zeros(10), 1e-5, dy)
    close(first[0], y_ref, np.float32, "y without affine")


@pytest.mark.parametrize("name, call, error, message", ARGUMENT_CASES, ids=ARGUMENT_CASE_IDS)
def test_bad_kernel_arguments_are_the_cpu_errors_on_cuda_too(name, call, error, message):
    # the cases marked (oob) read or wrote out of bounds here before the entry points checked
    with pytest.raises(error, match=message):
        call(kernels.cuda, lambda a: dev(np.asarray(a)))


def summary_inputs():
    rng = np.random.default_rng(17)
    spiked = rng.standard_normal(1000).astype(np.float32) * 3
    spiked[[5, 400, 999]] = np.nan
    spiked[[7, 600]] = [np.inf, -np.inf]
    both = np.full(70, np.nan)
    both[::3] = -np.inf
    return {
        "float32 normal, several blocks": rng.standard_normal((25, 40)).astype(np.float32),
        "float64 odd size": rng.standard_normal(333) * 1e3,
        "float32 with NaN and Inf": spiked,
        "all NaN": np.full(50, np.nan, np.float32),
        "only NaN and Inf": both,
        "signed zeros and a tiny value": np.array([-0.0, 0.0, -1e-30, 5e-324]),
        "one value": np.array([-2.5], np.float32),
        "strided": (rng.standard_normal((40, 30)) + 1)[::3, 1::2],
        "float16": rng.standard_normal(300).astype(np.float16),
        "empty": np.zeros((0, 4), np.float32),
        "int": np.arange(50),
        "bool": np.ones(5, bool),
    }


@pytest.mark.parametrize("case", list(summary_inputs()))
def test_summarize_matches_the_cpu_twin_and_float64_numpy(case):
    a = summary_inputs()[case]
    got = cs.summarize(dev(a))
    twin = ps.summarize(a)
    assert [type(v) for v in got] == [int, float, float, float, int, int]
    assert (got[0], got[3], got[4], got[5]) == (twin[0], twin[3], twin[4], twin[5])  # counts and the max exactly
    assert got[1] == pytest.approx(twin[1], rel=1e-12, abs=1e-300)
    assert got[2] == pytest.approx(twin[2], rel=1e-12, abs=1e-300)
    if a.dtype.kind == "f" and a.size:
        assert_summary(got, summary_reference(a))
    else:
        assert got == (0, 0.0, 0.0, 0.0, 0, 0)
    assert cs.summarize(dev(a)) == got  # repeats exactly


def test_summarize_runs_several_blocks_and_sums_their_partials_in_block_order(monkeypatch):
    threads = kc.pow2_at_most(kc.LAUNCH.threads)
    x = np.zeros(3 * threads)
    # one value per block (thread 0 of each); the others add zeros, exactly
    x[[0, threads, 2 * threads]] = [1.0, 2.0 ** 53, -(2.0 ** 53)]
    launches = []
    real = cs.launch
    monkeypatch.setattr(cs, "launch", lambda kernel, grid, block, *args: launches.append((kernel, grid)) or
                        real(kernel, grid, block, *args))
    n, s, sq, biggest, nan, inf = cs.summarize(dev(x))
    assert [grid for _, grid in launches] == [3, 1]  # three blocks of partials, one thread sums them
    # in block order (1 + 2^53) - 2^53 = 0 (the 1 is lost to rounding); from the last block, or
    # pairwise from the first two, the sum would be 1
    assert (n, s, biggest, nan, inf) == (x.size, 0.0, 2.0 ** 53, 0, 0)
    assert sq == 2.0 ** 107  # 1 + 2^106 + 2^106, the 1 lost


def test_empty_cache_frees_cupys_pool_and_nothing_in_the_simulator(monkeypatch):
    kernels.cuda.empty_cache()  # on a GPU: CuPy's pool; in the simulator: nothing to free
    freed = []
    fake_cupy = type(sys)("cupy")
    fake_cupy.get_default_memory_pool = lambda: type("Pool", (), {"free_all_blocks": lambda self: freed.append(1)})()
    monkeypatch.setitem(sys.modules, "cupy", fake_cupy)
    monkeypatch.setattr(cpool, "simulator", lambda: True)
    cpool.empty_cache()
    assert freed == []
    monkeypatch.setattr(cpool, "simulator", lambda: False)
    cpool.empty_cache()
    assert freed == [1]
    monkeypatch.delitem(sys.modules, "cupy")
    cpool.empty_cache()  # CuPy never imported: no pool to free
    assert freed == [1]


@pytest.mark.skipif(not SIMULATED, reason="a guard of the simulator itself")
def test_the_simulator_gives_every_thread_of_a_block_the_same_shared_array():
    """Without the lock kernels/cuda/_common.py adds, threads reaching a
    shared-array line together may each get their own array, and a block's
    reduction then sums into several (a training step went wrong 1 run in 5)."""
    import threading
    from numba.cuda.simulator import kernelapi
    got = []
    for _ in range(20):
        shared = kernelapi.FakeCUDAShared(0)
        start = threading.Barrier(16)
        arrays = []

        def thread():
            start.wait()
            arrays.append(shared.array(64, np.float64))

        threads = [threading.Thread(target=thread) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        got.append(len({id(a) for a in arrays}))
    assert got == [1] * 20
