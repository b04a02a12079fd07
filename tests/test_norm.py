"""Normalization: kernels against plain float64 NumPy, gradients against central
differences through a randomly weighted loss, running statistics, modes, errors."""
import numpy as np
import pytest

import tinygrad_bn as tg
from kernels.cpu import batchnorm, groupnorm, layernorm
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck


# ------------------------------------------------------------- references


def ref_norm(x, axes, eps):
    x = x.astype(np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps), mean, var


def ref_norm_backward(x, dy, axes, eps, gamma_b):
    """dx of y = x_hat * gamma through the closed form, all in float64."""
    xh, _, var = ref_norm(x, axes, eps)
    g = dy.astype(np.float64) * gamma_b
    inv = 1 / np.sqrt(var + eps)
    return inv * (g - g.mean(axis=axes, keepdims=True) - xh * (g * xh).mean(axis=axes, keepdims=True))


def channel_axes(ndim):
    return (0,) + tuple(range(2, ndim))


def bcast(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))


BN_SHAPES = [(2, 3), (64, 64), (300, 7), (5, 4, 9), (4, 3, 6, 5), (2, 70, 300)]


def _chunked(fn):
    """fn() with batch norm's one-call path for small inputs turned off."""
    return _with_serial_below(1 << 20, fn, one_call_below=0)


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("path", ["one call", "chunked"])
def test_batchnorm_kernel_matches_float64_reference(rng, shape, dtype, path):
    if path == "chunked":
        return _chunked(lambda: test_batchnorm_kernel_matches_float64_reference(rng, shape, dtype, "one call"))
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    axes = channel_axes(len(shape))
    tol = 2e-5 if dtype == np.float32 else 1e-11
    y, mean, var, invstd = batchnorm.forward_train(x, gamma, beta, 1e-5)
    xh, rmean, rvar = ref_norm(x, axes, 1e-5)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, xh * bcast(gamma, x.ndim) + bcast(beta, x.ndim), atol=tol * 5)
    np.testing.assert_allclose(mean, rmean.reshape(-1), atol=tol)
    np.testing.assert_allclose(var, rvar.reshape(-1), rtol=tol * 10)
    dx, dgamma, dbeta = batchnorm.backward(x, dy, mean, invstd, gamma, True)
    ref_dx = ref_norm_backward(x, dy, axes, 1e-5, bcast(gamma, x.ndim))
    np.testing.assert_allclose(dx, ref_dx, atol=tol * 10)
    np.testing.assert_allclose(dgamma, (dy * xh).sum(axes), atol=tol * 100)
    np.testing.assert_allclose(dbeta, dy.astype(np.float64).sum(axes), atol=tol * 100)


@pytest.mark.parametrize("path", ["one call", "chunked"])
def test_batchnorm_eval_kernel(rng, path):
    if path == "chunked":
        return _chunked(lambda: test_batchnorm_eval_kernel(rng, "one call"))
    x = rng.standard_normal((10, 4, 3))
    rm, rv = rng.standard_normal(4), rng.random(4) + 0.5
    g, b = rng.standard_normal(4), rng.standard_normal(4)
    y, invstd = batchnorm.forward_eval(x, g, b, rm, rv, 1e-5)
    ref = (x - bcast(rm, 3)) / np.sqrt(bcast(rv, 3) + 1e-5) * bcast(g, 3) + bcast(b, 3)
    np.testing.assert_allclose(y, ref, atol=1e-12)
    dy = rng.standard_normal(x.shape)
    dx, dg, db = batchnorm.backward(x, dy, rm, invstd, g, False)
    np.testing.assert_allclose(dx, dy * bcast(g * invstd, 3), atol=1e-12)
    np.testing.assert_allclose(dg, (dy * (x - bcast(rm, 3)) * bcast(invstd, 3)).sum((0, 2)), atol=1e-10)


@pytest.mark.parametrize("shape,nd", [((4, 10), 1), ((64, 64), 1), ((3, 4, 5), 2), ((2, 3, 4, 5), 3), ((9, 700), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layernorm_kernel_matches_float64_reference(rng, shape, nd, dtype):
    x = (rng.standard_normal(shape) * 3 - 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    ns = shape[-nd:]
    gamma, beta = rng.standard_normal(ns), rng.standard_normal(ns)
    axes = tuple(range(len(shape) - nd, len(shape)))
    lead = tuple(range(len(shape) - nd))
    tol = 2e-5 if dtype == np.float32 else 1e-11
    y, mean, invstd = layernorm.forward(x, gamma, beta, 1e-5, nd)
    xh, rmean, _ = ref_norm(x, axes, 1e-5)
    np.testing.assert_allclose(y, xh * gamma + beta, atol=tol * 5)
    np.testing.assert_allclose(mean, rmean.reshape(shape[:len(shape) - nd]), atol=tol)
    dx, dgamma, dbeta = layernorm.backward(x, dy, mean, invstd, gamma, nd)
    np.testing.assert_allclose(dx, ref_norm_backward(x, dy, axes, 1e-5, gamma), atol=tol * 10)
    np.testing.assert_allclose(dgamma, (dy * xh).sum(lead), atol=tol * 100)
    np.testing.assert_allclose(dbeta, dy.astype(np.float64).sum(lead), atol=tol * 100)


@pytest.mark.parametrize("shape,groups", [((4, 6, 5), 3), ((3, 8, 4, 4), 2), ((2, 6, 7), 6), ((8, 4), 2), ((64, 32, 40), 8)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_groupnorm_kernel_matches_float64_reference(rng, shape, groups, dtype):
    x = (rng.standard_normal(shape) * 2 + 3).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    C, N = shape[1], shape[0]
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    tol = 2e-5 if dtype == np.float32 else 1e-11
    y, mean, invstd = groupnorm.forward(x, groups, gamma, beta, 1e-5)
    xg = x.reshape(N, groups, -1)
    xh, rmean, _ = ref_norm(xg, (2,), 1e-5)
    xh = xh.reshape(shape)
    np.testing.assert_allclose(y, xh * bcast(gamma, x.ndim) + bcast(beta, x.ndim), atol=tol * 5)
    np.testing.assert_allclose(mean, rmean.reshape(N, groups), atol=tol)
    dx, dgamma, dbeta = groupnorm.backward(x, dy, groups, mean, invstd, gamma)
    g = (dy.astype(np.float64) * bcast(gamma, x.ndim)).reshape(N, groups, -1)
    ref_dx = ref_norm_backward(xg, g, (2,), 1e-5, 1.0).reshape(shape)
    np.testing.assert_allclose(dx, ref_dx, atol=tol * 10)
    axes = channel_axes(x.ndim)
    np.testing.assert_allclose(dgamma, (dy * xh).sum(axes), atol=tol * 100)
    np.testing.assert_allclose(dbeta, dy.astype(np.float64).sum(axes), atol=tol * 100)


# ------------------------------------------------- badly scaled float32 data


@pytest.mark.parametrize("kind", ["batch", "layer", "group"])
def test_float32_with_mean_1e4_normalizes_like_centred_data(rng, kind):
    base = rng.standard_normal((256, 32, 3))
    fns = {
        "batch": lambda a: batchnorm.forward_train(a, None, None, 1e-5)[0],
        "layer": lambda a: layernorm.forward(a, None, None, 1e-5, 2)[0],
        "group": lambda a: groupnorm.forward(a, 4, None, None, 1e-5)[0],
    }
    centred = fns[kind](base.astype(np.float32))
    shifted = fns[kind]((base + 1e4).astype(np.float32))
    exact = fns[kind]((base + 1e4).astype(np.float32).astype(np.float64))  # same inputs, float64
    assert np.abs(shifted - exact).max() < 1e-5
    # the shifted data loses only what rounding the input to float32 near 1e4 costs (ulp 1e-3)
    assert np.abs(shifted - centred).max() < 5e-3


def test_large_offsets_keep_variance_positive():
    x = np.full((100, 3), 3e7, np.float32)
    x[::2] += 2
    y, mean, var, invstd = batchnorm.forward_train(x, None, None, 1e-5)
    assert (var >= 0).all() and np.isfinite(y).all()
    np.testing.assert_allclose(np.abs(y), 1.0, atol=1e-5)


# ------------------------------------------------------ determinism, caching


def test_results_repeat_exactly(rng):
    x = rng.standard_normal((512, 256)).astype(np.float32)
    dy = rng.standard_normal((512, 256)).astype(np.float32)
    a = batchnorm.forward_train(x, None, None, 1e-5)
    b = batchnorm.forward_train(x, None, None, 1e-5)
    np.testing.assert_array_equal(a[0], b[0])
    da = batchnorm.backward(x, dy, a[1], a[3], None)
    db = batchnorm.backward(x, dy, a[1], a[3], None)
    for u, v in zip(da, db):
        np.testing.assert_array_equal(u, v)
    la = layernorm.backward(x, dy, *layernorm.forward(x, None, None, 1e-5, 1)[1:], None, 1)
    lb = layernorm.backward(x, dy, *layernorm.forward(x, None, None, 1e-5, 1)[1:], None, 1)
    for u, v in zip(la, lb):
        np.testing.assert_array_equal(u, v)


def _with_serial_below(threshold, fn, one_call_below=None):
    """fn() with the kernels' thresholds set: ``threshold`` elements for the
    parallel split, ``one_call_below`` bytes for batch norm's one-call path
    (0: never; None: as it is)."""
    from kernels.cpu import _common, pool

    old = _common.SERIAL_BELOW, pool.MIN_BYTES
    try:
        _common.SERIAL_BELOW = threshold
        if one_call_below is not None:
            pool.MIN_BYTES = one_call_below
        return fn()
    finally:
        _common.SERIAL_BELOW, pool.MIN_BYTES = old


def _all_kernels(x, dy, groups):
    """Forward and backward of batch, layer and group norm on x (N, C, *)."""
    w = np.linspace(0.5, 1.5, x.shape[1])
    y, m, v, i = batchnorm.forward_train(x, w, w, 1e-5)
    out = [y, m, v, i, *batchnorm.backward(x, dy, m, i, w, True)]
    ly, lm, li = layernorm.forward(x, None, None, 1e-5, x.ndim - 1)
    out += [ly, lm, li, *layernorm.backward(x, dy, lm, li, None, x.ndim - 1)]
    gy, gm, gi = groupnorm.forward(x, groups, w, w, 1e-5)
    out += [gy, gm, gi, *groupnorm.backward(x, dy, groups, gm, gi, w)]
    return out


@pytest.mark.parametrize("shape", [(300, 40), (64, 6, 25)])
def test_the_parallel_path_gives_the_serial_results_and_repeats_exactly(rng, shape):
    # the inputs are small, so force each path: threshold 0 splits every input
    # over the threads, a huge one runs all on this thread
    x = rng.standard_normal(shape) * 3 + 2
    dy = rng.standard_normal(shape)
    parallel = _with_serial_below(0, lambda: _all_kernels(x, dy, 2), one_call_below=0)
    again = _with_serial_below(0, lambda: _all_kernels(x, dy, 2), one_call_below=0)
    serial = _with_serial_below(1 << 40, lambda: _all_kernels(x, dy, 2), one_call_below=0)
    one_call = _all_kernels(x, dy, 2)  # small: batch norm runs as one compiled call
    for p, a, s, o in zip(parallel, again, serial, one_call):
        np.testing.assert_array_equal(p, a)
        np.testing.assert_allclose(p, s, rtol=1e-10, atol=1e-10)
        np.testing.assert_array_equal(o, s)  # the one-call path rounds as the chunked one does


# ------------------------------------------------------------ ops on the tape


def dbl(rng, *shape, scale=1.0, shift=0.0):
    return tg.tensor(rng.standard_normal(shape) * scale + shift, requires_grad=True)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 3, 4)])
def test_batch_norm_gradcheck(rng, shape):
    x = dbl(rng, *shape, scale=2, shift=1)
    w, b = dbl(rng, shape[1]), dbl(rng, shape[1])
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    rm, rv = tg.tensor(rng.standard_normal(shape[1])), tg.tensor(rng.random(shape[1]) + 0.5)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=False), (x, w, b))


@pytest.mark.parametrize("shape,ns", [((5, 4), (4,)), ((3, 2, 5), (2, 5)), ((2, 3, 4), (4,))])
def test_layer_norm_gradcheck(rng, shape, ns):
    x, w, b = dbl(rng, *shape, scale=2), dbl(rng, *ns), dbl(rng, *ns)
    assert gradcheck(lambda x, w, b: F.layer_norm(x, ns, w, b), (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, ns), (x,))


@pytest.mark.parametrize("shape,groups", [((3, 4, 5), 2), ((2, 6, 2, 3), 3), ((4, 6), 3)])
def test_group_and_instance_norm_gradcheck(rng, shape, groups):
    x, w, b = dbl(rng, *shape, scale=2), dbl(rng, shape[1]), dbl(rng, shape[1])
    assert gradcheck(lambda x, w, b: F.group_norm(x, groups, w, b), (x, w, b))
    if len(shape) >= 3:
        assert gradcheck(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b))


def test_norm_entries_name_kernel_and_parameters():
    x = tg.randn(8, 4, requires_grad=True)
    out = F.batch_norm(x, None, None, training=True, eps=1e-3)
    ctx = out.grad_fn.ctx
    assert out.grad_fn.name == "BatchNorm" and ctx.kernel == "kernels.cpu.batchnorm"
    assert ctx.params["eps"] == 1e-3 and ctx.params["training"] is True
    ln = F.layer_norm(x, (4,))
    assert ln.grad_fn.ctx.kernel == "kernels.cpu.layernorm" and ln.grad_fn.ctx.params["normalized_shape"] == (4,)
    gn = F.group_norm(x, 2)
    assert gn.grad_fn.ctx.kernel == "kernels.cpu.groupnorm" and gn.grad_fn.ctx.params["num_groups"] == 2


def test_float32_ops_return_float32_grads(rng):
    bn = nn.BatchNorm1d(5)
    x = tg.tensor(rng.standard_normal((7, 5)).astype(np.float32), requires_grad=True)
    (bn(x) * tg.tensor(rng.standard_normal((7, 5)).astype(np.float32))).sum().backward()
    assert x.grad.dtype == np.float32 and bn.weight.grad.dtype == np.float32


# ---------------------------------------------------------------- modules


def test_running_statistics_follow_the_momentum_formula(rng):
    bn = nn.BatchNorm1d(3, momentum=0.3)
    rm, rv = np.zeros(3), np.ones(3)
    for _ in range(4):
        x = rng.standard_normal((10, 3)) * 2 + 5
        bn(tg.tensor(x.astype(np.float32)))
        rm = 0.7 * rm + 0.3 * x.mean(0)
        rv = 0.7 * rv + 0.3 * x.var(0, ddof=1)  # running_var takes the unbiased variance
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 4


def test_cumulative_average_when_momentum_is_none(rng):
    bn = nn.BatchNorm2d(2, momentum=None)
    xs = [rng.standard_normal((4, 2, 3, 3)) for _ in range(3)]
    for x in xs:
        bn(tg.tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(), np.mean([x.mean((0, 2, 3)) for x in xs], 0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), np.mean([x.var((0, 2, 3), ddof=1) for x in xs], 0), rtol=1e-5)


def test_eval_uses_running_statistics_and_is_affine_per_channel(rng):
    bn = nn.BatchNorm1d(4)
    for _ in range(3):
        bn(tg.tensor(rng.standard_normal((16, 4)).astype(np.float32) * 3 + 1))
    bn.eval()
    before = bn.running_mean.numpy().copy()
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = bn(tg.tensor(x)).detach().numpy()
    ref = (x - bn.running_mean.numpy()) / np.sqrt(bn.running_var.numpy() + bn.eps)
    np.testing.assert_allclose(y, ref, atol=1e-5)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)  # eval does not update
    y1 = bn(tg.tensor(x[:1])).detach().numpy()  # one sample works in eval
    np.testing.assert_allclose(y1, y[:1], atol=1e-6)
    bn.train()
    assert not np.allclose(bn(tg.tensor(x)).detach().numpy(), y, atol=1e-3)


def test_track_running_stats_false_uses_batch_stats_in_eval(rng):
    bn = nn.BatchNorm1d(3, track_running_stats=False, affine=False).eval()
    x = rng.standard_normal((6, 3))
    np.testing.assert_allclose(bn(tg.tensor(x)).detach().numpy(), ref_norm(x, (0,), 1e-5)[0], atol=1e-10)
    assert list(bn.state_dict()) == []


def test_state_dict_keys_match_pytorch():
    assert list(nn.BatchNorm1d(3).state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert list(nn.LayerNorm(4).state_dict()) == ["weight", "bias"]
    assert list(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    assert list(nn.GroupNorm(2, 4).state_dict()) == ["weight", "bias"]
    assert list(nn.InstanceNorm1d(3).state_dict()) == []
    assert list(nn.InstanceNorm1d(3, affine=True, track_running_stats=True).state_dict()) == \
        ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    from tinygrad_bn.models import SimpleNetBN

    keys = list(SimpleNetBN().state_dict())
    assert "layers.1.running_var" in keys and "layers.4.num_batches_tracked" in keys


def test_instance_norm_running_stats(rng):
    inorm = nn.InstanceNorm1d(2, momentum=0.5, track_running_stats=True)
    x = rng.standard_normal((3, 2, 8)) + 2
    inorm(tg.tensor(x))
    np.testing.assert_allclose(inorm.running_mean.numpy(), 0.5 * x.mean(2).mean(0), rtol=1e-6)
    np.testing.assert_allclose(inorm.running_var.numpy(), 0.5 + 0.5 * x.var(2, ddof=1).mean(0), rtol=1e-6)
    inorm.eval()
    y = inorm(tg.tensor(x)).detach().numpy()
    rm, rv = inorm.running_mean.numpy(), inorm.running_var.numpy()
    np.testing.assert_allclose(y, (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5), atol=1e-10)


def test_layer_and_group_norm_modules(rng):
    x = rng.standard_normal((4, 6, 5))
    np.testing.assert_allclose(nn.LayerNorm((6, 5))(tg.tensor(x)).detach().numpy(), ref_norm(x, (1, 2), 1e-5)[0], atol=1e-10)
    gn = nn.GroupNorm(3, 6)(tg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(gn, ref_norm(x.reshape(4, 3, -1), (2,), 1e-5)[0].reshape(x.shape), atol=1e-10)
    inn = nn.InstanceNorm1d(6)(tg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(inn, ref_norm(x, (2,), 1e-5)[0], atol=1e-10)
    assert nn.InstanceNorm2d(6)(tg.tensor(x.reshape(4, 6, 5, 1).repeat(2, 3))).shape == (4, 6, 5, 2)


# ------------------------------------------------------------------ errors


def test_one_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel when training, got input size \(1, 4\)"):
        nn.BatchNorm1d(4)(tg.zeros(1, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm2d(4)(tg.zeros(1, 4, 1, 1))


def test_errors_are_clear_and_leave_state_alone():
    bn = nn.BatchNorm1d(4)
    state = {k: v.numpy().copy() for k, v in bn.state_dict().items()}
    with pytest.raises(ValueError, match="expected 4 channels.*has 3"):
        bn(tg.zeros(5, 3))
    with pytest.raises(ValueError, match="expected 2D or 3D input, got 4D"):
        bn(tg.zeros(5, 4, 2, 2))
    with pytest.raises(ValueError, match="expected 4D input, got 2D"):
        nn.BatchNorm2d(4)(tg.zeros(5, 4))
    with pytest.raises(TypeError, match="floating point"):
        bn(tg.zeros(5, 4, dtype=tg.int64))
    with pytest.raises(ValueError, match="more than 1 value"):
        bn(tg.zeros(1, 4))
    for k, v in bn.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), state[k])
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="divisible"):
        F.group_norm(tg.zeros(2, 6), 4)
    with pytest.raises(ValueError, match="expected input"):
        nn.GroupNorm(2, 6)(tg.zeros(2, 4))
    with pytest.raises(ValueError, match="normalized_shape"):
        nn.LayerNorm(5)(tg.zeros(3, 4))
    with pytest.raises(ValueError, match="weight has shape"):
        F.layer_norm(tg.zeros(3, 4), (4,), weight=tg.ones(3))
    with pytest.raises(ValueError, match="empty input"):
        nn.LayerNorm(4)(tg.zeros(0, 4))
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=2.0)
    with pytest.raises(ValueError, match="num_features"):
        nn.BatchNorm1d(0)


def test_simplenet_bn_trains_on_bundled_digits():
    from tinygrad_bn.train import train

    model, hist = train("simplenet-bn", epochs=2, seed=0, log=lambda s: None, progress=False)
    assert hist[-1]["test_acc"] > 0.88
    assert model.layers[1].num_batches_tracked.item() == 2 * 63


def test_batch_norm_with_one_running_buffer_refuses_and_changes_nothing(rng):
    x = tg.tensor(rng.standard_normal((8, 3)).astype(np.float32))
    rm, rv = tg.zeros(3), tg.ones(3)
    for args in ((rm, None), (None, rv)):
        with pytest.raises(ValueError, match="pass both running buffers"):
            F.batch_norm(x, *args, training=True)
    np.testing.assert_array_equal(rm.numpy(), [0, 0, 0])
    np.testing.assert_array_equal(rv.numpy(), [1, 1, 1])


def test_a_batch_norm_state_dict_without_num_batches_tracked_loads(rng):
    bn = nn.BatchNorm1d(3)
    bn(tg.tensor(rng.standard_normal((8, 3)).astype(np.float32)))
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    fresh = nn.BatchNorm1d(3)
    fresh.num_batches_tracked.fill_(5)
    result = fresh.load_state_dict(state)
    assert result.missing_keys == [] and fresh.num_batches_tracked.item() == 0  # filled in, as PyTorch
    np.testing.assert_array_equal(fresh.running_mean.numpy(), bn.running_mean.numpy())
    del state["running_var"]
    with pytest.raises(RuntimeError, match="missing keys: \\['running_var'\\]"):
        nn.BatchNorm1d(3).load_state_dict(state)


@pytest.mark.parametrize("layer", [nn.Linear(2, 3), nn.BatchNorm1d(2), nn.LayerNorm(2), nn.GroupNorm(1, 2)],
                         ids=["Linear", "BatchNorm1d", "LayerNorm", "GroupNorm"])
@pytest.mark.parametrize("bad", [[[1.0, 2.0]], None, np.ones((2, 2))], ids=["list", "None", "ndarray"])
def test_a_non_tensor_input_is_a_type_error_naming_the_layer(layer, bad):
    with pytest.raises(TypeError, match="(must be|expected) a Tensor"):
        layer(bad)


@pytest.mark.parametrize("make", [lambda e: nn.BatchNorm1d(2, eps=e), lambda e: nn.LayerNorm(2, eps=e),
                                  lambda e: nn.GroupNorm(1, 2, eps=e)], ids=["BatchNorm1d", "LayerNorm", "GroupNorm"])
@pytest.mark.parametrize("eps", [0, -1.0, float("nan"), "1e-5"])
def test_eps_must_be_a_positive_number(make, eps):
    with pytest.raises((ValueError, TypeError), match=r"eps must be (> 0|a finite number|a number)"):
        make(eps)


def test_numpy_errors_inside_an_op_name_the_op():
    with pytest.raises(ValueError, match=r"^Add: operands could not be broadcast"):
        tg.ones(2, 3) + tg.ones(4)


@pytest.mark.parametrize("make", [lambda: nn.BatchNorm1d(3), lambda: nn.LayerNorm(3), lambda: nn.GroupNorm(1, 3)],
                         ids=["BatchNorm1d", "LayerNorm", "GroupNorm"])
def test_float16_layers_compute_in_float32_and_return_float16(rng, make):
    x64 = rng.standard_normal((6, 3))
    w = tg.tensor(rng.standard_normal((6, 3)).astype(np.float16))
    half, single = make().to(tg.float16), make()
    xh = tg.tensor(x64.astype(np.float16), requires_grad=True)
    xs = tg.tensor(x64.astype(np.float16).astype(np.float32), requires_grad=True)
    yh, ys = half(xh), single(xs)
    assert yh.dtype == np.float16
    np.testing.assert_allclose(yh.detach().numpy(), ys.detach().numpy(), atol=2e-3)
    (yh * w).sum().backward()
    (ys * w.float()).sum().backward()
    assert xh.grad.dtype == np.float16 and half.weight.grad.dtype == np.float16
    np.testing.assert_allclose(xh.grad.numpy(), xs.grad.numpy(), atol=5e-3)


def test_big_endian_arrays_become_native_tensors():
    x = tg.tensor(np.arange(6, dtype=">f4").reshape(3, 2))
    assert x.dtype == np.float32 and x._data.dtype.isnative
    assert nn.BatchNorm1d(2)(x).dtype == np.float32
    with pytest.raises(TypeError, match="byte order"):
        tg.from_numpy(np.ones(2, dtype=">f4"))
