"""RMS norm on CUDA: kernels/cuda/rmsnorm.py against a float64 reference and
its CPU twin (kernels/cpu/rmsnorm.py), forward and backward, and F.rms_norm /
nn.RMSNorm on the "cuda" device against the CPU, with their gradients to the
second order.

Runs in Numba's CUDA simulator (marker ``cuda_sim``: a pytest process started
with ``NUMBA_ENABLE_CUDASIM=1``, which ``tests/kernels/test_cuda_simulator.py``
starts) and on a real GPU (marker ``gpu``). The launch shapes are shrunk in the
simulator (fixture ``small_cuda_launches``) so small inputs use several blocks,
several rows per block and a grid-stride loop that goes round.
"""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F

pytestmark = [pytest.mark.cuda_sim, pytest.mark.gpu, pytest.mark.usefixtures("small_cuda_launches")]

cr = pytest.importorskip("kernels.cuda.rmsnorm")
import kernels.cuda
from kernels.cpu import rmsnorm as pr
from kernels.cuda import _common as kc
from cuda_arrays import SIMULATED, close, dev, host

EPS = 1e-5



def rms_reference(x, w, eps, dy, nd):
    axes = tuple(range(x.ndim - nd, x.ndim))
    lead = x.shape[: x.ndim - nd]
    x = x.astype(np.float64)
    dy = dy.astype(np.float64)
    rstd = 1 / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    xhat = x * rstd
    g = dy * w
    dx = rstd * (g - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    return xhat * w, rstd.reshape(lead), dx, (dy * xhat).sum(axis=tuple(range(len(lead))))


# short rows several to a block, long rows, two normalized dims, more rows than
# the grid holds at once (the grid-stride loop goes round), one row
CASES = [((7, 10), 1), ((5, 70), 1), ((3, 4, 9), 2), ((2, 3, 33), 1), ((150, 10), 1), ((1, 5), 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,nd", CASES)
def test_rms_norm_kernels_match_float64_reference_and_cpu_twin(shape, nd, dtype):
    rng = np.random.default_rng(31)
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[len(shape) - nd:])
    y_ref, r_ref, dx_ref, dw_ref = rms_reference(x, w, EPS, dy, nd)
    y, rstd = cr.forward(dev(x), dev(w), EPS, nd)
    assert host(y).dtype == dtype and host(rstd).dtype == np.float64
    close(y, y_ref, dtype, "y")
    close(rstd, r_ref, dtype, "rstd")
    twin = pr.forward(x, w, EPS, nd)
    for got, want, what in zip((y, rstd), twin, ("y", "rstd")):
        close(got, want, dtype, f"{what} vs cpu")
    dx, dw = cr.backward(dev(x), dev(dy), dev(twin[1]), dev(w), nd)
    close(dx, dx_ref, dtype, "dx", scale=10)
    close(dw, dw_ref, dtype, "dgamma", scale=10)
    for got, want, what in zip((dx, dw), pr.backward(x, dy, twin[1], w, nd), ("dx", "dgamma")):
        close(got, want, dtype, f"{what} vs cpu", scale=10)


def test_the_cases_cover_several_rows_per_block_and_a_grid_that_goes_round():
    if SIMULATED:
        from kernels.cuda.layernorm import row_block, row_grid
        assert row_block(10)[1] > 1  # short rows share a block
        rows_per_block = row_block(10)[1]
        assert row_grid(150, rows_per_block) * rows_per_block < 150  # 150 rows: more than one round


def test_float32_at_mean_1e4_and_without_weight():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((37, 12)) + 1e4).astype(np.float32)
    dy = (rng.standard_normal(x.shape) + 1).astype(np.float32)
    y_ref, r_ref, dx_ref, dw_ref = rms_reference(x, np.ones(12), EPS, dy, 1)
    y, rstd = cr.forward(dev(x), None, EPS, 1)
    close(y, y_ref, np.float32, "y")
    close(host(rstd) * 1e4, r_ref * 1e4, np.float64, "rstd", scale=1e3)  # float64 sums of float32 squares
    dx, dw = cr.backward(dev(x), dev(dy), rstd, None, 1)
    close(host(dx) * 1e4, dx_ref * 1e4, np.float32, "dx", scale=10)  # dx scales with rstd ~ 1e-4
    close(dw, dw_ref, np.float32, "dgamma", scale=10)
    cy, _ = pr.forward(x, None, EPS, 1)
    close(y, cy, np.float32, "y vs cpu")


def test_the_default_launch_shapes_give_the_same_results(monkeypatch):
    for name in ("threads", "row_threads", "sm_count"):
        monkeypatch.setattr(kc.LAUNCH, name, getattr(type(kc.LAUNCH), name))
    if SIMULATED:
        monkeypatch.setattr(kc.LAUNCH, "sm_count", 2)
    rng = np.random.default_rng(8)
    for shape in [(12, 45), (3, 5, 20)]:  # 8 rows a block: a full block and a part one
        x, dy = rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal(shape[-1])
        y_ref, r_ref, dx_ref, dw_ref = rms_reference(x, w, EPS, dy, 1)
        y, _ = cr.forward(dev(x), dev(w), EPS, 1)
        close(y, y_ref, np.float32, f"y {shape}")
        dx, dw = cr.backward(dev(x), dev(dy), dev(r_ref), dev(w), 1)
        close(dx, dx_ref, np.float32, f"dx {shape}", scale=10)
        close(dw, dw_ref, np.float32, f"dgamma {shape}", scale=10)


def test_kernels_repeat_exactly():
    rng = np.random.default_rng(5)
    x, dy = rng.standard_normal((37, 10)).astype(np.float32), rng.standard_normal((37, 10)).astype(np.float32)
    first = cr.forward(dev(x), None, EPS, 1)
    again = cr.forward(dev(x), None, EPS, 1)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(host(a), host(b))
    g1 = kernels.cuda.rms_norm_backward(dev(x), dev(dy), first[1], None, 1)
    g2 = kernels.cuda.rms_norm_backward(dev(x), dev(dy), first[1], None, 1)
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(host(a), host(b))
    assert kernels.cuda.KERNEL_MODULES["rms_norm"] == "kernels.cuda.rmsnorm"


# ------------------------------------------------------------------ the "cuda" device


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_rms_norm_on_cuda_matches_the_cpu_forward_and_backward(dtype):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((6, 3, 5))
    w = rng.standard_normal((3, 5))
    dy = rng.standard_normal(x.shape)
    results = {}
    for device in ("cpu", "cuda"):
        xt = tg.tensor(x, dtype=dtype, device=device, requires_grad=True)
        wt = tg.tensor(w, dtype=dtype, device=device, requires_grad=True)
        out = F.rms_norm(xt, (3, 5), wt)
        out.backward(tg.tensor(dy, dtype=dtype, device=device))
        assert out.device == device and xt.grad.device == device and wt.grad.device == device
        results[device] = [t.detach().cpu().numpy() for t in (out, xt.grad, wt.grad)]
    tol = 1e-5 if dtype == tg.float32 else 1e-12
    for got, want in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_the_module_on_cuda_trains_like_on_the_cpu():
    rng = np.random.default_rng(13)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    weights = {}
    for device in ("cpu", "cuda"):
        tg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 6), nn.RMSNorm(6), nn.Linear(6, 2)).to(device)
        opt = tg.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(2):
            opt.zero_grad()
            model(tg.tensor(x, device=device)).square().mean().backward()
            opt.step()
        weights[device] = model[1].weight.detach().cpu().numpy()
    assert not np.allclose(weights["cpu"], 1.0)
    np.testing.assert_allclose(weights["cuda"], weights["cpu"], rtol=1e-5, atol=1e-6)


def test_gradcheck_and_gradgradcheck_of_rms_norm_on_cuda_in_float64():
    from tinygrad_bn.testing import gradcheck, gradgradcheck
    rng = np.random.default_rng(21)

    def leaf(*shape):
        return tg.tensor(rng.standard_normal(shape), dtype=tg.float64, requires_grad=True, device="cuda")
    x, w = leaf(3, 4), leaf(4)
    assert gradcheck(lambda x, w: F.rms_norm(x, (4,), w, eps=1e-3), (x, w), fast_mode=True)
    fast = {"fast_mode": True, "n_directions": 2}
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (4,), w, eps=1e-3), (x, w), **fast)
    assert gradgradcheck(lambda x: F.rms_norm(x, (2, 2)), (leaf(2, 2, 2),), **fast)


def test_a_nan_input_raises_at_the_next_host_read_naming_the_op():
    x = tg.tensor([[1.0, np.nan], [1.0, 2.0]], device="cuda")
    with pytest.raises(ValueError, match="rms_norm"):
        F.rms_norm(x, 2).sum().item()
