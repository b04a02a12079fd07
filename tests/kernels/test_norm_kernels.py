"""The CPU normalization kernels (kernels/cpu) against plain float64 NumPy on both paths (one call and chunked), float32 data far from zero, and results that repeat exactly, serial or parallel."""
import numpy as np
import pytest

import tinygrad_bn as tg
from kernels.cpu import batchnorm, groupnorm, layernorm
from tinygrad_bn.nn import functional as F


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
        # the one-call path runs the same arithmetic as the chunked one, compiled into
        # another function: equal to the last bit here, but that is the compiler's choice
        np.testing.assert_allclose(o, s, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("shape", [(16, 64), (6, 5, 7), (4, 3, 5, 2), (300, 40), (1100, 256)])
@pytest.mark.parametrize("affine", [np.float32, np.float64, np.float16, None], ids=["f32", "f64", "f16", "none"])
def test_batch_norm_replay_forms_give_the_functions_own_results(rng, shape, affine):
    """A compiled step calls ``replay_form(*traced_args)`` in place of the function:
    on new values of the traced shapes and dtypes, in any layout, the same bits
    (small inputs skip the checks; large ones keep the function itself). The
    small forms pass float32 and float64 weights to the kernels as they are,
    others as float64 copies, as the functions do."""
    dtype = np.float32
    traced = rng.standard_normal(shape).astype(dtype)
    w = None if affine is None else (np.linspace(0.5, 1.5, shape[1]) + 1 / 3).astype(affine)
    b = None if affine is None else (np.linspace(-1, 1, shape[1]) + 1 / 7).astype(affine)
    _, m0, _, i0 = batchnorm.forward_train(traced, w, b, 1e-5)
    forward = batchnorm.forward_train.replay_form(traced, w, b, 1e-5)
    backward = batchnorm.backward.replay_form(traced, traced, m0, i0, w, True)
    from kernels.cpu import pool
    large = traced.nbytes >= pool.MIN_BYTES
    assert ((forward, backward) == (batchnorm.forward_train, batchnorm.backward)) == large
    for layout in ("C", "F"):
        x = np.asarray(rng.standard_normal(shape) * 3 + 2, dtype, order=layout)
        dy = np.asarray(rng.standard_normal(shape), dtype, order=layout)
        expected = batchnorm.forward_train(x, w, b, 0.1)
        got = forward(x, w, b, 0.1)
        for e, g in zip(expected, got):
            assert e.dtype == g.dtype and e.shape == g.shape
            np.testing.assert_array_equal(e, g)
        for training in (True, False):
            expected = batchnorm.backward(x, dy, got[1], got[3], w, training)
            for e, g in zip(expected, backward(x, dy, got[1], got[3], w, training)):
                assert e.dtype == g.dtype and e.shape == g.shape
                np.testing.assert_array_equal(e, g)


def test_partial_sums_from_the_buffer_cache_start_at_zero(rng):
    """The chunks' float64 partial rows come from the buffer cache, which hands
    back whatever an earlier array left there: each chunk zeroes its own. Every
    cached buffer of the partials' size is filled with NaN first."""
    from kernels.cpu import pool, rmsnorm
    from kernels.cpu._common import chunks, num_threads

    x = rng.standard_normal((6, 40)) + 1.0
    dy = rng.standard_normal((6, 40))
    w = np.linspace(0.5, 1.5, 40)

    def backward_sums():
        _, m, i = layernorm.forward(x, w, w, 1e-5, 1)
        _, r = rmsnorm.forward(x, w, 1e-5, 1)
        return [*layernorm.backward(x, dy, m, i, w, 1)[1:], rmsnorm.backward(x, dy, r, w, 1)[1]]

    serial = _with_serial_below(1 << 40, backward_sums, one_call_below=0)
    parts = len(chunks(x.shape[0], num_threads())) - 1

    def poisoned_then_sums():
        buffers = [pool.empty((parts, 2, x.shape[1]), np.float64) for _ in range(4)]
        for buffer in buffers:
            buffer.fill(np.nan)
        del buffers, buffer  # back to the cache, NaN inside
        return backward_sums()

    parallel = _with_serial_below(0, poisoned_then_sums, one_call_below=0)
    for p, s in zip(parallel, serial):
        np.testing.assert_allclose(p, s, rtol=1e-12, atol=1e-12)


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
