"""Batch renormalization (Ioffe, 2017): F.batch_renorm and nn.BatchRenorm1d/2d
against a float64 reference written here from the paper's formulas (forward,
backward with r and d constant, running statistics), batch norm exactly at
r_max=1, d_max=0, the clipping limits, gradcheck and gradgradcheck in float64,
eval mode, the warm-up schedule, a property across shapes, and argument errors."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck, gradgradcheck

EPS = 1e-5


def ref_batch_renorm(x, rm, rv, w, b, eps, r_max, d_max, dy=None):
    """The paper's Algorithm 1 in float64: y, r, d, the new running stats (momentum 0.1) and, given dy,
    (dx, dw, db) with r and d constants."""
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    m = x.size // x.shape[1]
    mu_b = x.mean(axis=axes)
    var_b = x.var(axis=axes)
    sigma_b = np.sqrt(var_b + eps)
    sigma = np.sqrt(rv + eps)
    r = np.clip(sigma_b / sigma, 1 / r_max, r_max)
    d = np.clip((mu_b - rm) / sigma, -d_max, d_max)
    x_hat = (x - mu_b.reshape(view)) / sigma_b.reshape(view)
    y_hat = x_hat * r.reshape(view) + d.reshape(view)
    y = y_hat * w.reshape(view) + b.reshape(view)
    new_rm = 0.9 * rm + 0.1 * mu_b
    new_rv = 0.9 * rv + 0.1 * var_b * m / (m - 1)
    out = {"y": y, "r": r, "d": d, "rm": new_rm, "rv": new_rv}
    if dy is not None:
        dy = dy.astype(np.float64)
        g_hat = dy * w.reshape(view)  # dL/dy_hat
        g_xhat = g_hat * r.reshape(view)  # dL/dx_hat (r constant)
        # batch norm's backward through x_hat = (x - mu_B) / sigma_B
        dx = (g_xhat - g_xhat.mean(axis=axes, keepdims=True)
              - x_hat * (g_xhat * x_hat).mean(axis=axes, keepdims=True)) / sigma_b.reshape(view)
        out.update(dx=dx, dw=(dy * y_hat).sum(axis=axes), db=dy.sum(axis=axes))
    return out


def _case(rng, shape, dtype, shift=0.5, scale=2.0):
    c = shape[1]
    x = (rng.standard_normal(shape) * scale + shift).astype(dtype)
    rm = rng.standard_normal(c) * 0.5
    rv = rng.uniform(0.3, 3.0, c)
    w = rng.standard_normal(c).astype(dtype)
    b = rng.standard_normal(c).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    return x, rm, rv, w, b, dy


SHAPES = [(8, 4), (6, 3, 5), (300, 7), (40, 5, 70)]  # the last two above the kernels' small-input size


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("limits", [(1.5, 0.3), (3.0, 5.0), (1.0, 0.0)], ids=str)
def test_training_matches_the_paper(rng, shape, dtype, limits):
    r_max, d_max = limits
    x, rm, rv, w, b, dy = _case(rng, shape, dtype)
    ref = ref_batch_renorm(x, rm, rv, w, b, EPS, r_max, d_max, dy)
    tm, tv = tg.tensor(rm.astype(dtype)), tg.tensor(rv.astype(dtype))
    xt, wt, bt = (tg.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.batch_renorm(xt, tm, tv, wt, bt, training=True, momentum=0.1, eps=EPS, r_max=r_max, d_max=d_max)
    y.backward(tg.tensor(dy))
    tol = 1e-10 if dtype == np.float64 else 2e-5
    for got, want, what in [(y.detach(), ref["y"], "y"), (xt.grad, ref["dx"], "dx"), (wt.grad, ref["dw"], "dw"),
                            (bt.grad, ref["db"], "db"), (tm, ref["rm"], "running_mean"),
                            (tv, ref["rv"], "running_var")]:
        want = np.asarray(want)
        scale = max(1.0, np.abs(want).max())
        np.testing.assert_allclose(got.numpy().astype(np.float64), want, rtol=tol, atol=tol * scale, err_msg=what)
    assert y.dtype == xt.dtype and xt.grad.dtype == xt.dtype and wt.grad.dtype == wt.dtype


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_r_max_1_d_max_0_is_batch_norm_to_the_bit(rng, shape, dtype, affine):
    x, rm, rv, w, b, dy = _case(rng, shape, dtype, shift=3.0)
    outs = []
    for f in (F.batch_norm, F.batch_renorm):
        xt = tg.tensor(x, requires_grad=True)
        wt, bt = (tg.tensor(w, requires_grad=True), tg.tensor(b, requires_grad=True)) if affine else (None, None)
        tm, tv = tg.tensor(rm.astype(dtype)), tg.tensor(rv.astype(dtype))
        y = f(xt, tm, tv, wt, bt, training=True)
        y.backward(tg.tensor(dy))
        outs.append([y.detach().numpy(), xt.grad.numpy(), tm.numpy(), tv.numpy()]
                    + ([wt.grad.numpy(), bt.grad.numpy()] if affine else []))
    for a, b_ in zip(*outs):
        assert np.array_equal(a, b_)


def test_the_limits_hold_and_clip(rng):
    from kernels import cpu
    x = (rng.standard_normal((64, 6)) * np.array([0.1, 10, 1, 1, 1, 1]) + np.array([0, 0, 50, -50, 0.1, 0])
         ).astype(np.float32)
    rm, rv = np.zeros(6), np.ones(6)
    for r_max, d_max in [(1.0, 0.0), (2.0, 1.0), (5.0, 100.0)]:
        _, _, _, _, r, d = cpu.batch_renorm_train(x, None, None, rm, rv, EPS, r_max, d_max)
        assert np.all(r >= 1 / r_max) and np.all(r <= r_max) and np.all(np.abs(d) <= d_max)
        ref = ref_batch_renorm(x, rm, rv, np.ones(6), np.zeros(6), EPS, r_max, d_max)
        np.testing.assert_allclose(r, ref["r"], rtol=1e-6)
        np.testing.assert_allclose(d, ref["d"], rtol=1e-6, atol=1e-12)
    # at (2, 1): channel 0 (std 0.1) and 1 (std 10) clip r, channels 2 and 3 (mean +-50) clip d
    _, _, _, _, r, d = cpu.batch_renorm_train(x, None, None, rm, rv, EPS, 2.0, 1.0)
    assert r[0] == 0.5 and r[1] == 2.0 and d[2] == 1.0 and d[3] == -1.0


def test_eval_mode_is_batch_norms_eval(rng):
    x, rm, rv, w, b, _ = _case(rng, (5, 3, 4), np.float32)
    args = [tg.tensor(rm.astype(np.float32)), tg.tensor(rv.astype(np.float32)), tg.tensor(w), tg.tensor(b)]
    y = F.batch_renorm(tg.tensor(x), *args, training=False, r_max=3.0, d_max=5.0)
    want = F.batch_norm(tg.tensor(x), *args, training=False)
    assert np.array_equal(y.numpy(), want.numpy())
    view = (1, -1, 1)
    ref = (x - rm.reshape(view)) / np.sqrt(rv.reshape(view) + EPS) * w.reshape(view) + b.reshape(view)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(args[0].numpy(), rm.astype(np.float32))  # eval updates nothing
    # eval is the default, as batch_norm's (training=False)
    assert np.array_equal(F.batch_renorm(tg.tensor(x), *args, r_max=3.0, d_max=5.0).numpy(), want.numpy())
    np.testing.assert_array_equal(args[1].numpy(), rv.astype(np.float32))


def leaf(a):
    return tg.tensor(np.asarray(a, np.float64), requires_grad=True)


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3)], ids=str)
@pytest.mark.parametrize("affine", [True, False])
def test_gradcheck_and_gradgradcheck_in_float64(rng, shape, affine):
    """r and d are constants of the backward (stop gradient), which is the derivative of the function where
    both are clipped: the running std here (10) is 5-10 times the batch's (1-2), so r = 1 / r_max, and the
    running mean (-8) is far from the batch's, so d = d_max, with margins no finite difference crosses."""
    x, _, _, w, b, _ = _case(rng, shape, np.float64)
    rm, rv = np.full(shape[1], -8.0), np.full(shape[1], 100.0)
    ref = ref_batch_renorm(x, rm, rv, w, b, 1e-3, 1.5, 0.4)
    assert np.all(ref["r"] == 1 / 1.5) and np.all(ref["d"] == 0.4)
    rm_t, rv_t = tg.tensor(rm), tg.tensor(rv)

    def f(x, *wb):
        # momentum 0: the running statistics stay where they are between gradcheck's evaluations
        return F.batch_renorm(x, rm_t, rv_t, *wb, training=True, momentum=0.0, eps=1e-3, r_max=1.5, d_max=0.4)

    args = (leaf(x), leaf(w), leaf(b)) if affine else (leaf(x),)
    assert gradcheck(f, args)
    assert gradgradcheck(f, args)


def test_module_runs_and_tracks_like_batch_norm(rng):
    x = rng.standard_normal((16, 3, 4, 4)).astype(np.float32)
    ours, bn = nn.BatchRenorm2d(3), nn.BatchNorm2d(3)
    for _ in range(3):
        assert np.array_equal(ours(tg.tensor(x)).detach().numpy(), bn(tg.tensor(x)).detach().numpy())
    assert int(ours.num_batches_tracked.item()) == 3
    assert list(ours.state_dict()) == list(bn.state_dict())
    ours.eval()
    bn.eval()
    assert np.array_equal(ours(tg.tensor(x)).detach().numpy(), bn(tg.tensor(x)).detach().numpy())
    assert int(ours.num_batches_tracked.item()) == 3
    m = nn.BatchRenorm1d(4, r_max=2.0, d_max=1.0)
    y = m(tg.tensor(rng.standard_normal((8, 4, 3)).astype(np.float32)))
    assert y.shape == (8, 4, 3)
    assert "r_max=2.0, d_max=1.0" in repr(m) and "warmup" not in repr(m)
    assert repr(nn.BatchRenorm1d(4, warmup=(5, 10))).endswith(", warmup=(5, 10, 10))")


def test_the_warmup_schedule(rng):
    m = nn.BatchRenorm1d(3, r_max=3.0, d_max=5.0, warmup=(2, 4, 2))
    x = tg.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    seen = []
    for _ in range(8):
        seen.append((m.current_r_max, m.current_d_max))
        m(x)
    assert seen == [(1.0, 0.0), (1.0, 0.0), (1.0, 0.0), (1.5, 2.5), (2.0, 5.0), (2.5, 5.0), (3.0, 5.0), (3.0, 5.0)]
    m.eval()
    assert m.current_r_max == 3.0
    no_warmup = nn.BatchRenorm1d(3, r_max=2.0, d_max=0.5)
    assert (no_warmup.current_r_max, no_warmup.current_d_max) == (2.0, 0.5)
    two = nn.BatchRenorm1d(3, r_max=2.0, d_max=1.0, warmup=(0, 2))
    assert two.warmup == (0, 2, 2) and (two.current_r_max, two.current_d_max) == (1.0, 0.0)


def test_warmup_limits_reach_the_functional(rng, monkeypatch):
    calls = []
    real = F.batch_renorm
    monkeypatch.setattr(F, "batch_renorm", lambda *a, **k: calls.append(a[-2:]) or real(*a, **k))
    m = nn.BatchRenorm1d(2, r_max=3.0, d_max=2.0, warmup=(1, 2))
    x = tg.tensor(rng.standard_normal((4, 2)).astype(np.float32))
    for _ in range(4):
        m(x)
    assert calls == [(1.0, 0.0), (1.0, 0.0), (2.0, 1.0), (3.0, 2.0)]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 9), c=st.integers(1, 5), length=st.sampled_from([None, 1, 3, 20]),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16))
def test_unclipped_output_is_the_running_normalization(n, c, length, dtype, seed):
    """When r and d lie inside their limits, y = (x - mu) / sigma * w + b with the running mu, sigma."""
    rng = np.random.default_rng(seed)
    shape = (n, c) if length is None else (n, c, length)
    x = (rng.standard_normal(shape) * rng.uniform(0.5, 2.0) + rng.uniform(-1, 1)).astype(dtype)
    rm, rv = rng.standard_normal(c) * 0.3, rng.uniform(0.5, 2.0, c)
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    ref = ref_batch_renorm(x, rm, rv, w, b, EPS, 1e6, 1e6)
    y = F.batch_renorm(tg.tensor(x), tg.tensor(rm), tg.tensor(rv), tg.tensor(w), tg.tensor(b), training=True,
                       r_max=1e6, d_max=1e6).numpy().astype(np.float64)
    view = (1, -1) + (1,) * (x.ndim - 2)
    running = (x.astype(np.float64) - rm.reshape(view)) / np.sqrt(rv.reshape(view) + EPS)
    want = running * w.reshape(view) + b.reshape(view)
    assert np.all(ref["r"] < 1e6) and np.all(np.abs(ref["d"]) < 1e6)
    tol = 1e-9 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(y, want, rtol=tol, atol=tol * max(1.0, np.abs(want).max()))


def test_bad_arguments():
    x = tg.randn(4, 3)
    rm, rv = tg.zeros(3), tg.ones(3)
    with pytest.raises(ValueError, match="batch_renorm: r_max must be >= 1.0, got 0.5"):
        F.batch_renorm(x, rm, rv, training=True, r_max=0.5)
    with pytest.raises(ValueError, match="batch_renorm: d_max must be >= 0.0, got -1"):
        F.batch_renorm(x, rm, rv, training=True, d_max=-1)
    with pytest.raises(ValueError, match="r_max must be a finite number"):
        F.batch_renorm(x, rm, rv, training=True, r_max=float("inf"))
    with pytest.raises(TypeError, match="r_max must be a number"):
        F.batch_renorm(x, rm, rv, training=True, r_max="2")
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        F.batch_renorm(x, None, None, training=True)
    with pytest.raises(ValueError, match="running_mean has shape"):
        F.batch_renorm(x, tg.zeros(4), rv, training=True)
    with pytest.raises(ValueError, match="at least 2 dims"):
        F.batch_renorm(tg.randn(3), rm, rv, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_renorm(tg.randn(1, 3), rm, rv, training=True)
    with pytest.raises(ValueError, match="batch_renorm: weight has shape"):
        F.batch_renorm(x, rm, rv, tg.ones(2), training=True)
    with pytest.raises(ValueError, match="batch_renorm: the input contains NaN or Inf"):
        F.batch_renorm(tg.tensor([[1.0, float("nan"), 0.0], [0.0, 1.0, 2.0]]), rm, rv, training=True)
    assert rm.numpy().tolist() == [0, 0, 0]  # a rejected call changes no state
    with pytest.raises(ValueError, match="BatchRenorm1d: r_max must be >= 1.0"):
        nn.BatchRenorm1d(3, r_max=0.9)
    with pytest.raises(ValueError, match="BatchRenorm2d: d_max must be >= 0.0"):
        nn.BatchRenorm2d(3, d_max=-0.1)
    with pytest.raises(ValueError, match="track_running_stats=False is not supported"):
        nn.BatchRenorm1d(3, track_running_stats=False)
    with pytest.raises(ValueError, match="warmup must be None"):
        nn.BatchRenorm1d(3, warmup=5)
    with pytest.raises(ValueError, match=r"warmup\[1\] must be >= 0"):
        nn.BatchRenorm1d(3, warmup=(0, -1))
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        nn.BatchRenorm1d(3)(tg.randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchRenorm2d(3)(tg.randn(2, 3))
    with pytest.raises(ValueError, match="expected 3 channels"):
        nn.BatchRenorm1d(3)(tg.randn(2, 4))


def test_create_graph_gradients_equal_the_kernels_with_r_and_d_unclipped(rng):
    """The recorded backward (create_graph=True: NormBackward with weight * r, then r, d per channel) gives
    the kernels' gradients, r and d constants, also where they are not clipped."""
    x, rm, rv, w, b, dy = _case(rng, (6, 3, 4), np.float64)
    grads = []
    for create_graph in (False, True):
        xt, wt, bt = leaf(x), leaf(w), leaf(b)
        y = F.batch_renorm(xt, tg.tensor(rm), tg.tensor(rv), wt, bt, training=True, r_max=10.0, d_max=10.0)
        grads.append([g.detach().numpy() for g in tg.autograd.grad(y, (xt, wt, bt), tg.tensor(dy),
                                                                    create_graph=create_graph)])
    ref = ref_batch_renorm(x, rm, rv, w, b, EPS, 10.0, 10.0, dy)
    assert np.all(ref["r"] < 10) and np.all(np.abs(ref["d"]) < 10) and np.any(np.abs(ref["r"] - 1) > 0.05)
    for a, e, want in zip(*grads, (ref["dx"], ref["dw"], ref["db"])):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(a, want, rtol=1e-10, atol=1e-12)
