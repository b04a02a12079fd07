"""Property tests of normalization across drawn shapes, scales and dtypes."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import strategies as tst

KINDS = ["batch", "layer", "group", "instance"]


def expected_var(case, x64):
    xg, axes = case.grouped(x64)
    v = xg.var(axis=axes, keepdims=True)
    return v / (v + case.params["eps"])


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_moments_before_affine(kind, data):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    case = data.draw(tst.normalization_inputs(kind, dtype=dtype, affine=False))
    y = case.call(tg.tensor(case.x)).numpy().astype(np.float64)
    yg, axes = case.grouped(y)
    tol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(yg.mean(axis=axes), 0.0, atol=tol)
    # variance 1 up to eps: var(y) = var(x) / (var(x) + eps)
    np.testing.assert_allclose(yg.var(axis=axes, keepdims=True), expected_var(case, case.x.astype(np.float64)),
                               atol=tol * 10)


@pytest.mark.parametrize("kind", ["batch", "group", "instance"])
@given(data=st.data())
def test_moments_with_affine_per_channel(kind, data):
    case = data.draw(tst.normalization_inputs(kind, affine=True, scale="well"))
    w, b = case.weight, case.bias
    y = case.call(tg.tensor(case.x), tg.tensor(w), tg.tensor(b)).detach().numpy()
    base = case.call(tg.tensor(case.x)).numpy()
    shape = (1, -1) + (1,) * (case.x.ndim - 2)
    np.testing.assert_allclose(y, base * w.reshape(shape) + b.reshape(shape), atol=1e-9)
    if kind == "batch":  # every channel is one group: mean beta, std |gamma| * sqrt(v/(v+eps))
        axes = (0,) + tuple(range(2, y.ndim))
        np.testing.assert_allclose(y.mean(axis=axes), b, atol=1e-8)
        ev = expected_var(case, case.x).reshape(-1)
        np.testing.assert_allclose(y.std(axis=axes), np.abs(w) * np.sqrt(ev), atol=1e-7)


@given(tst.normalization_inputs("layer", affine=True))
def test_layer_norm_affine_moments(case):
    y = case.call(tg.tensor(case.x), tg.tensor(case.weight), tg.tensor(case.bias)).detach().numpy()
    base = case.call(tg.tensor(case.x)).numpy()
    np.testing.assert_allclose(y, base * case.weight + case.bias, atol=1e-9)


@pytest.mark.parametrize("kind", ["batch", "layer"])
@given(data=st.data())
def test_invariant_to_shift_and_positive_scale_per_group(kind, data):
    case = data.draw(tst.normalization_inputs(kind, affine=False))
    case.params["eps"] = 1e-12  # so scaling x does not change var / (var + eps)
    x = case.x
    xg, axes = case.grouped(x)
    group_shape = [1 if a in axes else n for a, n in enumerate(xg.shape)]
    shift = data.draw(st.floats(-100, 100)) + np.arange(np.prod(group_shape)).reshape(group_shape)
    scale = data.draw(st.floats(0.25, 8.0)) * (1 + np.arange(np.prod(group_shape)).reshape(group_shape) % 3)
    moved = (xg * scale + shift).reshape(x.shape)
    a = case.call(tg.tensor(x)).numpy()
    b = case.call(tg.tensor(moved)).numpy()
    np.testing.assert_allclose(a, b, atol=1e-6)


@given(tst.normalization_inputs("layer", affine=False), st.integers(0, 1000))
def test_layer_norm_sample_does_not_depend_on_others(case, seed):
    x = case.x
    if x.shape[0] < 2:
        x = np.concatenate([x, x[::-1] * 2 + 1])
    other = x.copy()
    other[1:] = np.random.default_rng(seed).standard_normal(other[1:].shape) * 5
    y1 = case.call(tg.tensor(x)).numpy()[0]
    y2 = case.call(tg.tensor(other)).numpy()[0]
    # to rounding, not bit for bit: a CI run once saw one ulp of difference on a (2, 4) float64
    # input. The kernel reads no other row for a row's statistics or output, and a dependence on
    # the others (random, 5x the scale) would move y by far more than 4 ulps.
    np.testing.assert_allclose(y1, y2, rtol=4 * np.finfo(y1.dtype).eps, atol=4 * np.finfo(y1.dtype).eps)


@given(tst.normalization_inputs("batch", affine=True), st.floats(0.1, 10))
def test_batch_norm_eval_is_affine_per_channel(case, spread):
    C = case.x.shape[1]
    bn = nn.BatchNorm1d(C) if case.x.ndim <= 3 else nn.BatchNorm2d(C) if case.x.ndim == 4 else None
    if bn is None:
        return
    bn.double()
    bn.load_state_dict({"weight": case.weight, "bias": case.bias, "running_mean": np.linspace(-1, 1, C),
                        "running_var": np.linspace(0.5, 2, C) * spread, "num_batches_tracked": np.array(3)})
    bn.eval()
    x1 = case.x
    x2 = case.x[::-1].copy() * 3 - 1
    y1 = bn(tg.tensor(x1)).detach().numpy()
    y2 = bn(tg.tensor(x2)).detach().numpy()
    slope = case.weight / np.sqrt(bn.running_var.numpy() + bn.eps)
    shape = (1, -1) + (1,) * (x1.ndim - 2)
    np.testing.assert_allclose(y1 - y2, slope.reshape(shape) * (x1 - x2), atol=1e-9)


@given(tst.normalization_inputs("batch", affine=True), st.integers(0, 2**31 - 1))
def test_batch_norm_gradient_identities(case, seed):
    # with eps > 0, sum(x_hat^2) = N var / (var + eps), and dx is orthogonal to
    # x_hat only up to eps; a negligible eps makes the identity exact
    case.params["eps"] = 1e-12
    x = tg.tensor(case.x, requires_grad=True)
    w = tg.tensor(case.weight, requires_grad=True)
    b = tg.tensor(case.bias, requires_grad=True)
    dy = np.random.default_rng(seed).standard_normal(case.x.shape)
    y = case.call(x, w, b)
    y.backward(tg.tensor(dy))
    axes = (0,) + tuple(range(2, case.x.ndim))
    xh = F.batch_norm(tg.tensor(case.x), None, None, training=True, eps=case.params["eps"]).numpy()
    dx = x.grad.numpy()
    scale = np.abs(dy).sum() + 1
    np.testing.assert_allclose(dx.sum(axis=axes), 0.0, atol=1e-9 * scale)
    np.testing.assert_allclose((dx * xh).sum(axis=axes), 0.0, atol=1e-9 * scale * 10)
    np.testing.assert_allclose(w.grad.numpy(), (dy * xh).sum(axis=axes), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(b.grad.numpy(), dy.sum(axis=axes), rtol=1e-9, atol=1e-9)


def composed(case, x, w, b):
    """The same normalization built from primitive tensor ops."""
    eps = case.params["eps"]
    if case.kind == "batch":
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
    elif case.kind == "layer":
        axes = tuple(range(x.ndim - len(case.params["normalized_shape"]), x.ndim))
        shape = case.params["normalized_shape"]
    else:
        groups = case.params["num_groups"] if case.kind == "group" else x.shape[1]
        xg = x.reshape(x.shape[0], groups, -1)
        mean = xg.mean(2, keepdim=True)
        var = xg.var(2, correction=0, keepdim=True)
        y = ((xg - mean) / (var + eps).sqrt()).reshape(*x.shape)
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return y if w is None else y * w.reshape(*shape) + b.reshape(*shape)
    mean = x.mean(axes, keepdim=True)
    var = x.var(axes, correction=0, keepdim=True)
    y = (x - mean) / (var + eps).sqrt()
    return y if w is None else y * w.reshape(*shape) + b.reshape(*shape)


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_fused_kernels_match_composed_primitive_ops(kind, data):
    case = data.draw(tst.normalization_inputs(kind, scale="well"))
    seed = data.draw(st.integers(0, 2**31 - 1))
    projection = tg.tensor(np.random.default_rng(seed).standard_normal(case.x.shape))
    leaves = [tg.tensor(case.x, requires_grad=True)]
    if case.weight is not None:
        leaves += [tg.tensor(case.weight, requires_grad=True), tg.tensor(case.bias, requires_grad=True)]
    fused = case.call(*leaves)
    ref = composed(case, *leaves, *([None, None] if len(leaves) == 1 else []))
    np.testing.assert_allclose(fused.detach().numpy(), ref.detach().numpy(), atol=1e-9)
    g_fused = tg.grad((fused * projection).sum(), leaves)
    g_ref = tg.grad((ref * projection).sum(), leaves)
    for a, b in zip(g_fused, g_ref):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-8)


@given(st.integers(1, 5), st.sampled_from([0.1, 0.5, None]), st.integers(0, 2**31 - 1), st.integers(2, 6))
def test_running_statistics_follow_the_momentum_formula(steps, momentum, seed, batch):
    rng = np.random.default_rng(seed)
    bn = nn.BatchNorm1d(3, momentum=momentum).double()
    rm, rv = np.zeros(3), np.ones(3)
    for k in range(1, steps + 1):
        x = rng.standard_normal((batch, 3)) * rng.uniform(0.5, 3) + rng.uniform(-5, 5)
        bn(tg.tensor(x))
        m = 1.0 / k if momentum is None else momentum
        rm = (1 - m) * rm + m * x.mean(0)
        rv = (1 - m) * rv + m * x.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), rm, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), rv, rtol=1e-10, atol=1e-12)
    assert bn.num_batches_tracked.item() == steps


@given(out_features=st.integers(1, 6), in_features=st.integers(1, 7), dim=st.sampled_from([0, 1, None]),
       seed=st.integers(0, 2**16))
def test_weight_norm_gives_weights_of_norm_g_in_the_direction_of_v(out_features, in_features, dim, seed):
    from tinygrad_bn.nn.utils import parametrizations
    rng = np.random.default_rng(seed)
    layer = nn.Linear(in_features, out_features).to(tg.float64)
    with tg.no_grad():
        layer.weight.copy_(tg.tensor(rng.standard_normal((out_features, in_features)) + 0.1))
    parametrizations.weight_norm(layer, dim=dim)
    g = layer.parametrizations.weight.original0.detach().numpy()
    v = layer.parametrizations.weight.original1.detach().numpy()
    w = layer.weight.detach().numpy()
    axes = None if dim is None else tuple(a for a in range(2) if a != dim)
    np.testing.assert_allclose(np.sqrt((w * w).sum(axis=axes, keepdims=dim is not None)), np.abs(g), rtol=1e-12)
    np.testing.assert_allclose(w * np.sqrt((v * v).sum(axis=axes, keepdims=dim is not None)), v * g, rtol=1e-12,
                               atol=1e-14)
