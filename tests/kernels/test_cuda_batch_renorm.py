"""Batch renorm on CUDA: kernels/cuda/batchrenorm.py against a float64
reference and its CPU twin (kernels/cpu/batchrenorm.py), forward and backward,
batch norm's CUDA kernels at r = 1, d = 0, and F.batch_renorm /
nn.BatchRenorm1d on the "cuda" device against the CPU, with gradients to the
second order.

Runs in Numba's CUDA simulator (marker ``cuda_sim``: a pytest process started
with ``NUMBA_ENABLE_CUDASIM=1``, which ``tests/kernels/test_cuda_simulator.py``
starts) and on a real GPU (marker ``gpu``), with the launch shapes shrunk in the
simulator (fixture ``small_cuda_launches``): several row groups and blocks.
"""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F

pytestmark = [pytest.mark.cuda_sim, pytest.mark.gpu, pytest.mark.usefixtures("small_cuda_launches")]

cb = pytest.importorskip("kernels.cuda.batchrenorm")
import kernels.cuda
from kernels.cpu import batchrenorm as pb
from cuda_arrays import close, dev, host
from kernels.cuda import batchnorm as cbn

EPS = 1e-5



def reference(x, w, b, rm, rv, dy, r_max, d_max):
    x = x.astype(np.float64)
    axes = (0,) + tuple(range(2, x.ndim))
    view = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    sb, s = np.sqrt(var + EPS), np.sqrt(rv + EPS)
    r, d = np.clip(sb / s, 1 / r_max, r_max), np.clip((mean - rm) / s, -d_max, d_max)
    xh = (x - mean.reshape(view)) / sb.reshape(view)
    yh = xh * r.reshape(view) + d.reshape(view)
    g = dy.astype(np.float64) * (w * r).reshape(view)
    dx = (g - g.mean(axis=axes, keepdims=True) - xh * (g * xh).mean(axis=axes, keepdims=True)) / sb.reshape(view)
    return (yh * w.reshape(view) + b.reshape(view), mean, var, 1 / sb, r, d), (dx, (dy * yh).sum(axis=axes),
                                                                              dy.astype(np.float64).sum(axis=axes))


def case(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    return x, rng.standard_normal(c), rng.standard_normal(c), rng.standard_normal(c), rng.uniform(0.3, 5.0, c), dy


# (N, C) few rows (batch norm's one-kernel path there), (N, C) many rows (several row groups), (N, C, L)
CASES = [(7, 5), (150, 3), (4, 3, 9), (3, 2, 2, 5)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", CASES, ids=str)
def test_kernels_match_the_float64_reference_and_the_cpu_twin(shape, dtype):
    x, w, b, rm, rv, dy = case(shape, dtype)
    fwd_ref, bwd_ref = reference(x, w, b, rm, rv, dy, 1.5, 0.5)
    out = cb.forward_train(dev(x), dev(w), dev(b), dev(rm), dev(rv), EPS, 1.5, 0.5)
    assert host(out[0]).dtype == dtype and all(host(a).dtype == np.float64 for a in out[1:])
    twin = pb.forward_train(x, w, b, rm, rv, EPS, 1.5, 0.5)
    for got, want, cpu, what in zip(out, fwd_ref, twin, ("y", "mean", "var", "invstd", "r", "d")):
        close(got, want, dtype, what, scale=10)
        close(got, cpu, dtype, f"{what} vs cpu", scale=10)
    mean, _, invstd, r, d = twin[1:]
    grads = cb.backward(dev(x), dev(dy), dev(mean), dev(invstd), dev(r), dev(d), dev(w))
    for got, want, cpu, what in zip(grads, bwd_ref, pb.backward(x, dy, mean, invstd, r, d, w), ("dx", "dw", "db")):
        close(got, want, dtype, what, scale=10)
        close(got, cpu, dtype, f"{what} vs cpu", scale=10)


@pytest.mark.parametrize("shape", CASES, ids=str)
def test_at_r_1_d_0_the_kernels_give_batch_norms_results(shape):
    x, w, b, rm, rv, dy = case(shape, np.float32, seed=2)
    y, mean, var, invstd, r, d = cb.forward_train(dev(x), dev(w), dev(b), dev(rm), dev(rv), EPS, 1.0, 0.0)
    assert (host(r) == 1).all() and (host(d) == 0).all()
    want = cbn.forward_train(dev(x), dev(w), dev(b), EPS)
    for got, ref, what in zip((y, mean, var, invstd), want, ("y", "mean", "var", "invstd")):
        close(got, host(ref), np.float32, what)  # the same sums; (N, C) few rows: another kernel, another order
    grads = cb.backward(dev(x), dev(dy), mean, invstd, r, d, dev(w))
    for got, ref in zip(grads, cbn.backward(dev(x), dev(dy), mean, invstd, dev(w), True)):
        np.testing.assert_array_equal(host(got), host(ref))  # batch norm's backward kernel itself


def test_the_limits_hold_and_nan_stays_nan():
    x = np.array([[0.0, 100.0, 5.0], [0.1, -100.0, 5.5], [0.2, 0.0, 6.0]])
    out = cb.forward_train(dev(x), None, None, dev(np.zeros(3)), dev(np.ones(3)), EPS, 2.0, 1.0)
    r, d = host(out[4]), host(out[5])
    assert r[0] == 0.5 and r[1] == 2.0 and d[2] == 1.0 and np.all(np.abs(d) <= 1.0)
    x[0, 0] = np.nan
    out = cb.forward_train(dev(x), None, None, dev(np.zeros(3)), dev(np.ones(3)), EPS, 2.0, 1.0)
    assert np.isnan(host(out[4])[0]) and np.isnan(host(out[5])[0]) and not np.isnan(host(out[4])[1:]).any()


def test_kernels_repeat_exactly_and_are_the_protocols():
    x, _, _, rm, rv, _ = case((37, 4), np.float32, seed=5)
    first = kernels.cuda.batch_renorm_train(dev(x), None, None, dev(rm), dev(rv), EPS, 3.0, 2.0)
    again = kernels.cuda.batch_renorm_train(dev(x), None, None, dev(rm), dev(rv), EPS, 3.0, 2.0)
    for a, b_ in zip(first, again):
        np.testing.assert_array_equal(host(a), host(b_))
    assert kernels.cuda.KERNEL_MODULES["batch_renorm"] == "kernels.cuda.batchrenorm"


# ------------------------------------------------------------------ the "cuda" device


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_batch_renorm_on_cuda_matches_the_cpu(dtype):
    rng = np.random.default_rng(12)
    x, dy = rng.standard_normal((6, 3, 5)) + 0.5, rng.standard_normal((6, 3, 5))
    w, b, rm, rv = rng.standard_normal(3), rng.standard_normal(3), rng.standard_normal(3) * 0.3, rng.uniform(0.5, 2, 3)
    results = {}
    for device in ("cpu", "cuda"):
        xt, wt, bt = (tg.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in (x, w, b))
        tm, tv = tg.tensor(rm, dtype=dtype, device=device), tg.tensor(rv, dtype=dtype, device=device)
        out = F.batch_renorm(xt, tm, tv, wt, bt, training=True, r_max=1.2, d_max=0.2)
        out.backward(tg.tensor(dy, dtype=dtype, device=device))
        assert out.device == device and xt.grad.device == device
        results[device] = [t.detach().cpu().numpy() for t in (out, xt.grad, wt.grad, bt.grad, tm, tv)]
    tol = 1e-5 if dtype == tg.float32 else 1e-12
    for got, want in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_the_module_on_cuda_trains_like_on_the_cpu():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    state = {}
    for device in ("cpu", "cuda"):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6), nn.BatchRenorm1d(6, r_max=2.0, d_max=1.0, warmup=(1, 1)),
                              nn.Linear(6, 2)).to(device)
        opt = tg.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            model(tg.tensor(x, device=device)).square().mean().backward()
            opt.step()
        state[device] = [t.detach().cpu().numpy() for t in (model[1].weight, model[1].running_mean,
                                                             model[1].running_var)]
    for got, want in zip(state["cuda"], state["cpu"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_gradcheck_and_gradgradcheck_on_cuda_in_float64():
    from tinygrad_bn.testing import gradcheck, gradgradcheck
    rng = np.random.default_rng(21)
    x = tg.tensor(rng.standard_normal((4, 3)), dtype=tg.float64, requires_grad=True, device="cuda")
    w = tg.tensor(rng.standard_normal(3), dtype=tg.float64, requires_grad=True, device="cuda")
    # r and d clipped (running std 10, running mean -8): the stop-gradient backward is the derivative
    rm, rv = tg.full((3,), -8.0, dtype=tg.float64, device="cuda"), tg.full((3,), 100.0, dtype=tg.float64, device="cuda")

    def f(x, w):
        return F.batch_renorm(x, rm, rv, w, None, training=True, momentum=0.0, eps=1e-3, r_max=1.5, d_max=0.4)

    assert gradcheck(f, (x, w), fast_mode=True)
    assert gradgradcheck(f, (x, w), fast_mode=True, n_directions=2)
