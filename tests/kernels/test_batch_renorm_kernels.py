"""The CPU batch renorm kernels (kernels/cpu/batchrenorm.py: batch norm's
sweeps with the renorm coefficients, and batch norm's backward with gamma * r)
against a float64 reference written here from the paper's formulas, on every
path a call can take (serial and the small-input call, the thread pool at each
thread count, more chunks than threads); batch norm's kernels to the bit at
r = 1, d = 0 on each path; float32 data far from zero; results that repeat."""
import numpy as np
import pytest
from test_kernels_reference import PATHS, assert_close, kernel_path  # noqa: F401 (kernel_path: a fixture)

import kernels.cpu
from kernels.cpu import batchnorm, batchrenorm, pool

EPS = 1e-5


def ref_batch_renorm(x, w, b, rm, rv, dy, r_max, d_max, eps=EPS):
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    sigma_b, sigma = np.sqrt(var + eps), np.sqrt(rv + eps)
    r = np.clip(sigma_b / sigma, 1 / r_max, r_max)
    d = np.clip((mean - rm) / sigma, -d_max, d_max)
    xh = (x - mean.reshape(view)) / sigma_b.reshape(view)
    yh = xh * r.reshape(view) + d.reshape(view)
    wv, dy = w.astype(np.float64).reshape(view), dy.astype(np.float64)
    g = dy * wv * r.reshape(view)
    dx = (g - g.mean(axis=axes, keepdims=True) - xh * (g * xh).mean(axis=axes, keepdims=True)) / sigma_b.reshape(view)
    return {"y": yh * wv + b.astype(np.float64).reshape(view), "mean": mean, "var": var, "invstd": 1 / sigma_b,
            "r": r, "d": d, "dx": dx, "dgamma": (dy * yh).sum(axis=axes), "dgamma_abs": np.abs(dy * yh).sum(axis=axes),
            "dbeta": dy.sum(axis=axes), "dbeta_abs": np.abs(dy).sum(axis=axes)}


def run(x, w, b, rm, rv, dy, r_max, d_max):
    y, mean, var, invstd, r, d = batchrenorm.forward_train(x, w, b, rm, rv, EPS, r_max, d_max)
    dx, dgamma, dbeta = batchrenorm.backward(x, dy, mean, invstd, r, d, w)
    assert y.dtype == dx.dtype == x.dtype and y.shape == dx.shape == x.shape
    assert all(a.dtype == np.float64 for a in (mean, var, invstd, r, d, dgamma, dbeta))
    return {"y": y, "mean": mean, "var": var, "invstd": invstd, "r": r, "d": d, "dx": dx, "dgamma": dgamma,
            "dbeta": dbeta}


def case(shape, dtype=np.float64, offset=0.0, seed=0, limits=(1.5, 0.5)):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = (offset + rng.standard_normal(shape) * rng.uniform(0.3, 3.0, c).reshape((1, c) + (1,) * (len(shape) - 2))
         ).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    w, b = (1 + 0.5 * rng.standard_normal(c)).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm, rv = offset + rng.standard_normal(c) * 0.7, rng.uniform(0.3, 3.0, c)
    return (x, w, b, rm, rv, dy, *limits)


SHAPES = [(2, 3), (5, 17), (13, 6), (31, 9), (97, 3), (7, 3, 5), (13, 6, 11), (3, 4, 5, 2)]


@pytest.mark.usefixtures("kernel_path")
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("limits", [(1.5, 0.5), (4.0, 3.0)], ids=str)
def test_kernels_match_the_float64_reference_on_every_path(shape, limits):
    args = case(shape, limits=limits)
    assert_close(run(*args), ref_batch_renorm(*args), rtol=1e-10)


@pytest.mark.usefixtures("kernel_path")
@pytest.mark.parametrize("shape", [(31, 9), (13, 6, 11)], ids=str)
def test_float32_far_from_zero_matches_the_reference(shape):
    args = case(shape, np.float32, offset=1e4, seed=1, limits=(3.0, 2.0))
    got, want = run(*args), ref_batch_renorm(*args)
    assert_close({k: got[k] for k in ("y", "dx", "dgamma", "dbeta", "r", "d")},
                 {k: want[k] for k in ("y", "dx", "dgamma", "dgamma_abs", "dbeta", "dbeta_abs", "r", "d")}, rtol=2e-4)


@pytest.mark.usefixtures("kernel_path")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(13, 6), (7, 3, 5), (300, 7)], ids=str)
def test_at_r_1_d_0_the_kernels_are_batch_norms_to_the_bit(shape, dtype):
    x, w, b, rm, rv, dy, _, _ = case(shape, dtype, seed=4)
    y, mean, var, invstd, r, d = batchrenorm.forward_train(x, w, b, rm, rv, EPS, 1.0, 0.0)
    assert (r == 1).all() and (d == 0).all()
    yb, meanb, varb, invstdb = batchnorm.forward_train(x, w, b, EPS)
    for a, e in [(y, yb), (mean, meanb), (var, varb), (invstd, invstdb)]:
        np.testing.assert_array_equal(a, e)
    got = batchrenorm.backward(x, dy, mean, invstd, r, d, w)
    want = batchnorm.backward(x, dy, meanb, invstdb, w, True)
    for a, e in zip(got, want):
        np.testing.assert_array_equal(a, e)


def test_the_small_call_and_the_sweeps_agree(monkeypatch):
    args = case((40, 6, 3), np.float32, seed=5, limits=(2.0, 0.3))
    small = batchrenorm.forward_train(*args[:5], EPS, *args[6:])
    monkeypatch.setattr(pool, "MIN_BYTES", 0)
    swept = batchrenorm.forward_train(*args[:5], EPS, *args[6:])
    for a, e in zip(small, swept):
        np.testing.assert_array_equal(a, e)


def test_no_affine_is_ones_and_zeros_and_results_repeat():
    x, _, _, rm, rv, dy, r_max, d_max = case((300, 7), seed=6)
    ones, zeros = np.ones(7), np.zeros(7)
    none = run(x, None, None, rm, rv, dy, r_max, d_max)
    unit = run(x, ones, zeros, rm, rv, dy, r_max, d_max)
    again = run(x, None, None, rm, rv, dy, r_max, d_max)
    for k in none:
        np.testing.assert_array_equal(none[k], unit[k])
        np.testing.assert_array_equal(none[k], again[k])


def test_the_entry_points_are_the_protocols():
    assert kernels.cpu.batch_renorm_train.__wrapped__ is batchrenorm.forward_train
    assert kernels.cpu.batch_renorm_backward.__wrapped__ is batchrenorm.backward
    assert kernels.cpu.KERNEL_MODULES["batch_renorm"] == "kernels.cpu.batchrenorm"
