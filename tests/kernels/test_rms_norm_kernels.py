"""The CPU RMS norm kernels (kernels/cpu/rmsnorm.py) against a float64 NumPy
reference written here, on every path a call can take: serial, the thread pool
at each thread count this machine has, and more chunks than threads (uneven,
some holding one row), over odd and prime row counts (the backward's four-row
blocks and their remainders); float32 data far from zero (mean 1e4) forward and
backward; reductions of 1e5 values; inputs large enough to split without help;
results that repeat exactly; the chunk bounds computed from the thread count
outside the kernels."""
import numpy as np
import pytest
from test_kernels_reference import PATHS, assert_close, kernel_path  # noqa: F401 (kernel_path: a fixture)

import kernels.cpu
from kernels.cpu import _common, rmsnorm

EPS = 1e-5


def ref_rms_norm(x, w, dy, nd, eps=EPS):
    """Forward and backward of y = x / sqrt(mean(x^2) + eps) * w over the last nd dims, in float64."""
    lead = x.shape[: x.ndim - nd]
    xr = x.astype(np.float64).reshape(int(np.prod(lead)), -1)
    dyr = dy.astype(np.float64).reshape(xr.shape)
    wv = w.astype(np.float64).reshape(-1)
    rstd = 1 / np.sqrt((xr * xr).mean(1) + eps)
    xh = xr * rstd[:, None]
    g = dyr * wv
    # d/dx of sum(g * x * rstd): rstd * g + x * d rstd/dx * sum(g * x), d rstd/dx = -rstd^3 x / D
    dx = rstd[:, None] * g - xr * (rstd ** 3 * (g * xr).sum(1) / xr.shape[1])[:, None]
    return {"y": (xh * wv).reshape(x.shape), "rstd": rstd.reshape(lead), "dx": dx.reshape(x.shape),
            "dgamma": (dyr * xh).sum(0).reshape(w.shape),
            "dgamma_abs": np.abs(dyr * xh).sum(0).reshape(w.shape)}  # dgamma's scale (assert_close)


def run_rms_norm(x, w, dy, nd, eps=EPS):
    y, rstd = rmsnorm.forward(x, w, eps, nd)
    dx, dgamma = rmsnorm.backward(x, dy, rstd, w, nd)
    assert y.dtype == x.dtype and dx.dtype == x.dtype and y.shape == dx.shape == x.shape
    assert rstd.dtype == np.float64 and rstd.shape == x.shape[: x.ndim - nd]
    assert dgamma.dtype == np.float64 and dgamma.shape == x.shape[x.ndim - nd:]
    return {"y": y, "rstd": rstd, "dx": dx, "dgamma": dgamma}


def case(shape, nd=1, dtype=np.float64, offset=0.0, seed=0, dy_offset=0.0):
    rng = np.random.default_rng(seed)
    x = (offset + rng.standard_normal(shape)).astype(dtype)
    dy = (dy_offset + rng.standard_normal(shape)).astype(dtype)
    w = (1 + 0.5 * rng.standard_normal(shape[len(shape) - nd:])).astype(dtype)
    return ref_rms_norm(x, w, dy, nd), run_rms_norm(x, w, dy, nd)


# odd and prime row counts: 4-row blocks with every remainder, one-row chunks
SHAPES = [((2, 3), 1), ((5, 17), 1), ((13, 6), 1), ((31, 9), 1), ((97, 3), 1), ((7, 3, 5), 2), ((13, 6, 11), 1),
          ((3, 4, 5, 2), 3), ((1, 8), 1), ((6,), 1),
          # wide rows (over rmsnorm.ONE_ROW_BYTES) go four at a time: one block and two rows left, two and three
          ((6, 2500), 1), ((11, 1100), 1)]


@pytest.mark.usefixtures("kernel_path")
@pytest.mark.parametrize("shape, nd", SHAPES, ids=[f"{s}-{n}" for s, n in SHAPES])
def test_rms_norm_kernels_match_float64_reference_on_every_path(shape, nd):
    want, got = case(shape, nd)
    assert_close(got, want, rtol=1e-10)


@pytest.mark.usefixtures("kernel_path")
@pytest.mark.parametrize("shape, nd", [((31, 9), 1), ((7, 3, 5), 2), ((11, 1100), 1)])
def test_float32_matches_the_reference_on_every_path(shape, nd):
    want, got = case(shape, nd, np.float32, offset=0.5, seed=4)
    assert_close(got, want, rtol=1e-6)


def test_the_paths_cover_serial_threads_and_uneven_chunks():
    assert PATHS[0] == "serial" and "3 chunks" in PATHS and "7 chunks" in PATHS


def test_the_shapes_reach_both_row_paths_of_the_backward():
    """Backward takes rows one at a time when the dgamma partial and a row of x
    and dy fit rmsnorm.ONE_ROW_BYTES, four at a time when they do not."""
    def wide(width, itemsize):
        return width * (8 + 2 * itemsize) > rmsnorm.ONE_ROW_BYTES

    assert not wide(9, 8) and wide(1100, 8) and wide(1100, 4) and not wide(1024, 4)


F32 = [((7, 33), 1), ((64, 5), 1), ((9, 4, 12), 2), ((1021, 1031), 1)]


@pytest.mark.parametrize("shape, nd", F32, ids=[str(s) for s, _ in F32])
def test_float32_at_mean_1e4_matches_float64_forward_and_backward(shape, nd):
    # rstd is ~1e-4 here: its float64 sum of squares loses nothing; dx's two terms,
    # r * g and x * r^3 mean(g x), nearly cancel for an upstream gradient with a mean
    want, got = case(shape, nd, np.float32, offset=1e4, dy_offset=1.0)
    assert_close({"rstd": got["rstd"] * 1e4}, {"rstd": want["rstd"] * 1e4}, rtol=1e-9)
    assert_close({k: got[k] for k in ("y", "dgamma")}, {k: want[k] for k in ("y", "dgamma", "dgamma_abs")},
                 rtol=1e-6)
    # dx is ~1e-4 (it scales with rstd): its error relative to the size of r * g
    scale = np.abs(want["rstd"]).max() * (1 + np.abs(want["dx"]).max() / np.abs(want["rstd"]).max())
    assert np.abs(got["dx"] - want["dx"]).max() / scale < 2e-6


@pytest.mark.parametrize("shape", [(3, 100_003), (100_003, 3)], ids=["long rows", "many rows"])
def test_reductions_of_1e5_values_keep_float64_accuracy(shape):
    want, got = case(shape, 1, np.float32, offset=3.0, seed=1)
    assert_close({"rstd": got["rstd"]}, {"rstd": want["rstd"]}, rtol=1e-8)
    assert_close({"dgamma": got["dgamma"]}, {"dgamma": want["dgamma"], "dgamma_abs": want["dgamma_abs"]},
                 rtol=5e-7)


@pytest.mark.parametrize("shape", [(1031, 1021), (257, 7, 601)])
def test_inputs_over_the_threshold_split_across_threads_correctly(shape):
    assert np.prod(shape) >= _common.SERIAL_BELOW
    want, got = case(shape, 1, seed=2)
    assert_close(got, want, rtol=1e-10)


def test_the_thread_count_is_passed_in_as_chunk_bounds(monkeypatch):
    """The parallel kernels get the chunks' row bounds, computed outside from the
    thread count (here a forced 7): every row once, unevenly."""
    monkeypatch.setattr(_common, "SERIAL_BELOW", 1)
    monkeypatch.setattr(_common, "num_threads", lambda: 7)
    seen = []
    for name in ("_forward_rows_par", "_backward_rows_par"):
        real = getattr(rmsnorm, name)
        monkeypatch.setattr(rmsnorm, name, lambda *a, real=real: seen.append(a[-1].copy()) or real(*a))
    x = np.random.default_rng(0).standard_normal((31, 5))
    y, rstd = rmsnorm.forward(x, None, EPS, 1)
    dx, dw = rmsnorm.backward(x, x, rstd, None, 1)
    assert len(seen) == 2
    for bounds in seen:
        assert bounds[0] == 0 and bounds[-1] == 31 and len(bounds) == 8 and (np.diff(bounds) > 0).all()
        assert len(set(np.diff(bounds))) > 1  # uneven: 31 rows in 7 chunks
    want = ref_rms_norm(x, np.ones(5), x, 1)
    assert_close({"y": y, "dx": dx, "dgamma": dw}, {k: want[k] for k in ("y", "dx", "dgamma", "dgamma_abs")},
                 rtol=1e-10)


def _both(x, dy, w):
    y, r = rmsnorm.forward(x, w, EPS, 1)
    return [y, r, *rmsnorm.backward(x, dy, r, w, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_repeat_exactly_and_the_pool_gives_the_serial_results(dtype, monkeypatch):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((301, 40)) * 3 + 2).astype(dtype)
    dy = rng.standard_normal(x.shape).astype(dtype)
    w = rng.standard_normal(40).astype(dtype)
    monkeypatch.setattr(_common, "SERIAL_BELOW", 1 << 62)
    serial = _both(x, dy, w)
    monkeypatch.setattr(_common, "SERIAL_BELOW", 0)
    parallel, again = _both(x, dy, w), _both(x, dy, w)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    for p, a, s in zip(parallel, again, serial):
        np.testing.assert_array_equal(p, a)
        np.testing.assert_allclose(p, s, rtol=tol, atol=tol)


def test_no_weight_is_a_weight_of_ones_and_zero_rows_are_zero():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 7))
    x[3] = 0.0
    dy = rng.standard_normal(x.shape)
    a = _both(x, dy, None)
    b = _both(x, dy, np.ones(7))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert (a[0][3] == 0).all() and a[1][3] == pytest.approx(1 / np.sqrt(EPS))
    np.testing.assert_allclose(a[2][3], dy[3] / np.sqrt(EPS))  # at x = 0, dx = rstd * dy


def test_weight_of_any_float_dtype_and_shape_with_the_right_size():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((4, 3, 2)).astype(np.float32)
    w = rng.standard_normal((3, 2))
    y1, _ = kernels.cpu.rms_norm(x, w, EPS, 2)
    y2, _ = kernels.cpu.rms_norm(x, w.astype(np.float32).reshape(-1), EPS, 2)
    np.testing.assert_array_equal(y1, y2)


def test_the_entry_points_are_the_protocols_and_hold_ctrl_c():
    assert kernels.cpu.rms_norm.__wrapped__ is rmsnorm.forward
    assert kernels.cpu.rms_norm_backward.__wrapped__ is rmsnorm.backward
    assert kernels.cpu.KERNEL_MODULES["rms_norm"] == "kernels.cpu.rmsnorm"
