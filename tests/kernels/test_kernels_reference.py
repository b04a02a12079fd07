"""The CPU normalization kernels against float64 NumPy references, on every
path a call can take: serial, the thread pool at each thread count this machine
has, and more chunks than threads (uneven, some holding one row), over odd and
prime row counts; float32 data far from zero (mean 1e4) forward and backward;
reductions of 1e5 values and more; and inputs large enough (1M elements) to take
the parallel path without help."""
import numba
import numpy as np
import pytest

from kernels.cpu import _common, batchnorm, groupnorm, layernorm, pool

EPS = 1e-5


# ----------------------------------------------------------------- references
def ref_batch_norm(x, w, b, dy):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    xd, dyd = x.astype(np.float64), dy.astype(np.float64)
    n = xd.size // xd.shape[1]
    mean, var = xd.mean(axes), xd.var(axes)
    invstd = 1 / np.sqrt(var + EPS)
    xh = (xd - mean.reshape(shape)) * invstd.reshape(shape)
    y = xh * w.reshape(shape) + b.reshape(shape)
    dbeta, dgamma = dyd.sum(axes), (dyd * xh).sum(axes)
    dx = (w * invstd).reshape(shape) / n * (n * dyd - dbeta.reshape(shape) - xh * dgamma.reshape(shape))
    return dict(y=y, mean=mean, var=var, dx=dx, dgamma=dgamma, dbeta=dbeta, **_sum_scales(dyd, xh, axes))


def _sum_scales(dyd, xh, axes):
    """dgamma and dbeta are sums that may cancel: their errors are judged against
    the sums of their terms' sizes (float32 rounds each term, not the result)."""
    return dict(dgamma_abs=np.abs(dyd * xh).sum(axes), dbeta_abs=np.abs(dyd).sum(axes))


def _rows_norm(xr, g):
    """Normalize each row of xr (float64); dx for dy-times-gamma ``g`` per element."""
    width = xr.shape[1]
    mean, var = xr.mean(1), xr.var(1)
    invstd = 1 / np.sqrt(var + EPS)
    xh = (xr - mean[:, None]) * invstd[:, None]
    dx = invstd[:, None] / width * (width * g - g.sum(1, keepdims=True) - xh * (g * xh).sum(1, keepdims=True))
    return mean, invstd, xh, dx


def ref_layer_norm(x, w, b, dy, nd):
    lead = x.shape[: x.ndim - nd]
    xr = x.astype(np.float64).reshape(int(np.prod(lead)), -1)
    dyr = dy.astype(np.float64).reshape(xr.shape)
    mean, invstd, xh, dx = _rows_norm(xr, dyr * w.reshape(-1))
    return dict(y=(xh * w.reshape(-1) + b.reshape(-1)).reshape(x.shape), mean=mean.reshape(lead),
                invstd=invstd.reshape(lead), dx=dx.reshape(x.shape),
                dgamma=(dyr * xh).sum(0).reshape(w.shape), dbeta=dyr.sum(0).reshape(w.shape),
                **_sum_scales(dyr, xh, 0))


def ref_group_norm(x, w, b, dy, groups):
    n, c = x.shape[:2]
    shape = (1, c) + (1,) * (x.ndim - 2)
    g = (dy.astype(np.float64) * w.reshape(shape)).reshape(n * groups, -1)
    mean, invstd, xh, dx = _rows_norm(x.astype(np.float64).reshape(n * groups, -1), g)
    xh = xh.reshape(x.shape)
    axes = (0,) + tuple(range(2, x.ndim))
    dyd = dy.astype(np.float64)
    return dict(y=xh * w.reshape(shape) + b.reshape(shape), mean=mean.reshape(n, groups),
                invstd=invstd.reshape(n, groups), dx=dx.reshape(x.shape),
                dgamma=(dyd * xh).sum(axes), dbeta=dyd.sum(axes), **_sum_scales(dyd, xh, axes))


# ------------------------------------------------------------ running kernels
def run_batch_norm(x, w, b, dy):
    y, mean, var, invstd = batchnorm.forward_train(x, w, b, EPS)
    dx, dgamma, dbeta = batchnorm.backward(x, dy, mean, invstd, w, True)
    return dict(y=y, mean=mean, var=var, dx=dx, dgamma=dgamma, dbeta=dbeta)


def run_layer_norm(x, w, b, dy, nd):
    y, mean, invstd = layernorm.forward(x, w, b, EPS, nd)
    dx, dgamma, dbeta = layernorm.backward(x, dy, mean, invstd, w, nd)
    return dict(y=y, mean=mean, invstd=invstd, dx=dx, dgamma=dgamma, dbeta=dbeta)


def run_group_norm(x, w, b, dy, groups):
    y, mean, invstd = groupnorm.forward(x, groups, w, b, EPS)
    dx, dgamma, dbeta = groupnorm.backward(x, dy, groups, mean, invstd, w)
    return dict(y=y, mean=mean, invstd=invstd, dx=dx, dgamma=dgamma, dbeta=dbeta)


def case(kind, shape, dtype=np.float64, offset=0.0, seed=0, dy_offset=0.0):
    """Inputs, parameters and an upstream gradient for ``kind`` on ``shape``,
    with the references' and the kernels' results."""
    rng = np.random.default_rng(seed)
    x = (offset + rng.standard_normal(shape)).astype(dtype)
    dy = (dy_offset + rng.standard_normal(shape)).astype(dtype)
    if kind == "layer":
        pshape = shape[-1:]
    else:
        pshape = shape[1:2]
    w = (1 + 0.5 * rng.standard_normal(pshape)).astype(dtype)
    b = rng.standard_normal(pshape).astype(dtype)
    if kind == "batch":
        return ref_batch_norm(x, w, b, dy), run_batch_norm(x, w, b, dy)
    if kind == "layer":
        return ref_layer_norm(x, w, b, dy, 1), run_layer_norm(x, w, b, dy, 1)
    groups = 3 if shape[1] % 3 == 0 and np.prod(shape[1:]) // 3 > 1 else 1
    return ref_group_norm(x, w, b, dy, groups), run_group_norm(x, w, b, dy, groups)


def assert_close(got, want, rtol):
    for name, ref in want.items():
        if name.endswith("_abs"):
            continue
        val = np.asarray(got[name], dtype=np.float64)
        assert val.shape == ref.shape, name
        # errors relative to the values' size (a sum's: its terms'), at least 1
        scale = max(np.abs(want.get(name + "_abs", ref)).max(), 1.0)
        err = np.abs(val - ref).max() / scale
        assert err <= rtol, f"{name}: max error {err:.3g} of its scale {scale:.3g} (allowed {rtol:.1g})"


# ------------------------------------------------------------ the pool's paths
MAX_THREADS = numba.config.NUMBA_NUM_THREADS
PATHS = (["serial"] + [f"{n} threads" for n in range(2, MAX_THREADS + 1)] + ["3 chunks", "7 chunks"])


@pytest.fixture(params=PATHS)
def kernel_path(request, monkeypatch):
    """Force one path: serial, the pool at a real thread count, or more chunks
    than threads. Every size takes it (the size thresholds are lowered)."""
    path = request.param
    if path == "serial":
        monkeypatch.setattr(_common, "SERIAL_BELOW", 1 << 62)
        yield path
        return
    monkeypatch.setattr(_common, "SERIAL_BELOW", 1)
    monkeypatch.setattr(pool, "MIN_BYTES", 0)  # batch norm's one-call path for small inputs off
    if path.endswith("chunks"):
        parts = int(path.split()[0])
        monkeypatch.setattr(_common, "num_threads", lambda: parts)
        yield path
        return
    before = numba.get_num_threads()
    numba.set_num_threads(int(path.split()[0]))
    try:
        yield path
    finally:
        numba.set_num_threads(before)


SHAPES = [(2, 3), (5, 17), (13, 6), (31, 9), (97, 3), (7, 3, 5), (13, 6, 11)]


@pytest.mark.parametrize("kind", ["batch", "layer", "group"])
@pytest.mark.parametrize("shape", SHAPES, ids=[str(s) for s in SHAPES])
def test_kernels_match_float64_references_on_every_path(kind, shape, kernel_path):
    if kind == "layer" and len(shape) == 3:
        shape = shape[:2] + (shape[2] * 2,)  # a 3-d input normalized over its last dim
    want, got = case(kind, shape)
    assert_close(got, want, rtol=1e-10)


def test_the_pool_really_runs_and_splits_unevenly(monkeypatch):
    """The fixture's forcing reaches the kernels: a chunked call hands the
    parallel kernel chunk bounds covering every row once."""
    monkeypatch.setattr(_common, "SERIAL_BELOW", 1)
    monkeypatch.setattr(_common, "num_threads", lambda: 7)
    seen = []
    real = layernorm._forward_rows_par
    monkeypatch.setattr(layernorm, "_forward_rows_par", lambda *a: seen.append(a[-1].copy()) or real(*a))
    x = np.random.default_rng(0).standard_normal((31, 5))
    layernorm.forward(x, None, None, EPS, 1)
    (bounds,) = seen
    assert bounds[0] == 0 and bounds[-1] == 31 and len(bounds) == 8 and (np.diff(bounds) > 0).all()
    assert len(set(np.diff(bounds))) > 1  # uneven: 31 rows in 7 chunks


# ------------------------------------------------------- float32, far from zero
F32 = [("batch", (64, 5)), ("batch", (1025, 257)), ("batch", (16, 3, 40)), ("batch", (64, 4, 2050)),
       ("layer", (7, 33)), ("layer", (1021, 1031)), ("group", (9, 12)), ("group", (6, 6, 50)),
       ("group", (67, 12, 2053))]


@pytest.mark.parametrize("kind, shape", F32, ids=[f"{k}-{s}" for k, s in F32])
def test_float32_at_mean_1e4_matches_float64_forward_and_backward(kind, shape):
    # (the large shapes take the multi-sweep and parallel paths, the small the one-call ones).
    # An upstream gradient with a mean makes a lost float32 residual of the mean show
    # (it enters dx through mean(dy) * residual); errors here are ~1e-7 of scale.
    want, got = case(kind, shape, np.float32, offset=1e4, dy_offset=1.0)
    for name in ("mean", "var", "invstd"):  # float64 sums of float32 differences (products)
        if name in want:
            assert_close({name: got[name]}, {name: want[name]}, rtol=1e-6)
    assert_close(got, want, rtol=1e-6)  # float32 outputs and gradients


# ----------------------------------------------------------- long reductions
LONG = [("batch", (100_003, 3)), ("batch", (2, 3, 50_021)), ("layer", (3, 100_003)),
        ("group", (2, 4, 50_021))]


@pytest.mark.parametrize("kind, shape", LONG, ids=[f"{k}-{s}" for k, s in LONG])
def test_reductions_of_1e5_values_keep_float64_accuracy(kind, shape):
    # The kernels' float64 sums keep the statistics to ~1e-9 here and dgamma/dbeta
    # to ~1e-7; summed in float32 (even vectorized) they lose ~1e-7 and ~1e-6.
    want, got = case(kind, shape, np.float32, offset=3.0, seed=1)
    for name in ("mean", "var", "invstd"):
        if name in want:
            assert_close({name: got[name]}, {name: want[name]}, rtol=1e-8)
    assert_close({k: got[k] for k in ("dgamma", "dbeta")}, {k: want[k] for k in ("dgamma", "dbeta")}, rtol=5e-7)


# ------------------------------------------------------- large enough to split
BIG = [("batch", (1031, 1021)), ("batch", (257, 7, 601)), ("layer", (1031, 1021)), ("group", (1031, 1020)),
       ("group", (131, 12, 677))]


@pytest.mark.parametrize("kind, shape", BIG, ids=[f"{k}-{s}" for k, s in BIG])
def test_inputs_over_the_threshold_split_across_threads_correctly(kind, shape):
    assert np.prod(shape) >= _common.SERIAL_BELOW
    want, got = case(kind, shape, seed=2)
    assert_close(got, want, rtol=1e-10)


def test_eval_batch_norm_far_from_zero_matches_float64():
    rng = np.random.default_rng(3)
    for shape in [(32, 6), (4096, 300)]:  # one-call and multi-sweep
        x = (1e4 + rng.standard_normal(shape)).astype(np.float32)
        rm = 1e4 + 0.1 * rng.standard_normal(shape[1])
        rv = 1 + 0.1 * rng.random(shape[1])
        w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
        y, _ = batchnorm.forward_eval(x, w, b, rm, rv, EPS)
        want = (x.astype(np.float64) - rm) / np.sqrt(rv + EPS) * w + b
        assert_close({"y": y}, {"y": want}, rtol=2e-6)
