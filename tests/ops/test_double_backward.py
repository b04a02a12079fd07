"""gradgradcheck of every op on drawn shapes in float64: each op's backward,
recorded under create_graph, differentiated again against central differences
(of the gradients, as functions of the inputs and of the incoming gradient).

Drawn cases use gradcheck's fast mode (random directional derivatives); the
fixed small cases at the end check every element."""
import numpy as np
import pytest
from conftest import away_from
from hypothesis import assume, given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradgradcheck
from tinygrad_bn.testing import strategies as tst

FAST = dict(fast_mode=True, n_directions=3)


def t(a):
    return tg.tensor(a, dtype=tg.float64, requires_grad=True)


UNARY = {
    "exp": (lambda x: x.exp(), None),
    "log": (lambda x: x.log(), "positive"),
    "sqrt": (lambda x: x.sqrt(), "positive"),
    "abs": (lambda x: x.abs() * x, [0.0]),  # |x| alone is piecewise linear: second derivative 0
    "tanh": (lambda x: x.tanh(), None),
    "sigmoid": (lambda x: x.sigmoid(), None),
    "relu": (lambda x: x.relu() * x, [0.0]),
    "leaky_relu": (lambda x: x.leaky_relu(0.2) * x, [0.0]),
    "gelu": (lambda x: x.gelu(), None),
    "gelu_tanh": (lambda x: x.gelu("tanh"), None),
    "clip": (lambda x: x.clip(-0.5, 0.7) * x, [-0.5, 0.7]),
    "neg": (lambda x: -x * x, None),
    "pow_scalar": (lambda x: x ** 3, None),
    "rpow": (lambda x: 2.0 ** x, None),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=tst.arrays(np.float64, tst.shapes(max_dims=3, max_side=3)))
def test_unary(name, x):
    fn, domain = UNARY[name]
    if domain == "positive":
        x = np.abs(x) + 0.5
    elif domain is not None:
        assume(away_from(x, domain))
    assert gradgradcheck(fn, t(x), **FAST)


BINARY = {
    "add": lambda a, b: (a + b) * a, "sub": lambda a, b: (a - b) * b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "maximum": lambda a, b: tg.maximum(a, b) * a, "minimum": lambda a, b: tg.minimum(a, b) * b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_with_broadcasting(name, data):
    sa, sb = data.draw(tst.broadcastable_shapes(2, max_dims=3, max_side=3))
    a = data.draw(tst.arrays(np.float64, sa))
    b = data.draw(tst.arrays(np.float64, sb))
    if name == "div":
        b = np.sign(b) * (np.abs(b) + 0.5) + (b == 0)
    if name == "pow":  # at an exponent of exactly 0 the base's gradient is masked to 0 (PyTorch's rule), a kink
        a = np.abs(a) + 0.5
        assume(away_from(np.asarray(b), [0.0]))
    if name in ("maximum", "minimum"):
        assume(np.abs(np.subtract(a, b)).min() > 1e-3 if np.size(a - b) else True)
    assert gradgradcheck(BINARY[name], (t(a), t(b)), **FAST)


REDUCTIONS = {
    "sum": lambda x, d: (x * x).sum(d),
    "mean": lambda x, d: (x * x).mean(d, keepdim=True),
    "var": lambda x, d: x.var(d),
    "std": lambda x, d: x.std(d),
    "amax": lambda x, d: x.amax(d) * x.amax(d),
    "softmax": lambda x, d: x.softmax(d),
    "log_softmax": lambda x, d: x.log_softmax(d),
    "norm": lambda x, d: x.norm(2, dim=d),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions_along_a_drawn_dim(name, data):
    shape = data.draw(tst.shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    x = data.draw(tst.arrays(np.float64, shape))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    if name == "amax":  # ties share the gradient: keep the largest apart
        srt = np.sort(np.moveaxis(x, dim, -1), axis=-1)
        assume(np.all(srt[..., -1] - srt[..., -2] > 1e-3))
    if name in ("std", "norm"):
        assume(np.all(np.std(x, axis=dim) > 1e-2))
    assert gradgradcheck(lambda a: REDUCTIONS[name](a, dim), t(x), **FAST)


@given(data=st.data())
def test_matmul_of_drawn_ranks(data):
    n, k, m = (data.draw(st.integers(1, 3)) for _ in range(3))
    batch = data.draw(st.sampled_from([(), (2,)]))
    left = data.draw(st.sampled_from([(k,), batch + (n, k)]))
    right = data.draw(st.sampled_from([(k,), batch + (k, m)]))
    a = data.draw(tst.arrays(np.float64, left))
    b = data.draw(tst.arrays(np.float64, right))
    assert gradgradcheck(lambda x, y: (x @ y) * 1.0 if (x @ y).ndim else (x @ y) ** 2, (t(a), t(b)), **FAST)


@given(data=st.data())
def test_linear(data):
    n, i, o = (data.draw(st.integers(1, 3)) for _ in range(3))
    x, w, b = (data.draw(tst.arrays(np.float64, s)) for s in ((n, i), (o, i), (o,)))
    assert gradgradcheck(lambda a, W, c: F.linear(a, W, c).tanh(), (t(x), t(w), t(b)), **FAST)


MOVEMENT = {
    "reshape": lambda x: (x * x).reshape(-1),
    "permute": lambda x: (x * x).permute(*reversed(range(x.ndim))),
    "expand": lambda x: (x * x).unsqueeze(0).expand(2, *x.shape),
    "getitem_slice": lambda x: (x * x)[::2],
    "getitem_repeats": lambda x: (x * x)[[0, 0, -1]],
    "cat": lambda x: tg.cat([x * x, x], 0),
    "stack": lambda x: tg.stack([x * x, x.exp()], -1),
    "where": lambda x: tg.where(x > 0, x * x, x.exp()),
    "setitem": lambda x: _set_first(x),
}


def _set_first(x):
    y = x * 1.0
    y[0] = x[-1] * x[-1]
    return y * x


@pytest.mark.parametrize("name", sorted(MOVEMENT))
@given(x=tst.arrays(np.float64, tst.shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
def test_movement_and_indexing(name, x):
    if name == "where":
        assume(away_from(x, [0.0]))
    assert gradgradcheck(MOVEMENT[name], t(x), **FAST)


LOSSES = ("cross_entropy", "nll_loss", "mse_loss")


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(data=st.data())
def test_losses(loss, reduction, data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(2, 4))
    x = data.draw(tst.arrays(np.float64, (n, c)))
    target = tg.tensor(np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n))))
    if loss == "cross_entropy":
        def fn(a): return F.cross_entropy(a, target, reduction=reduction)
    elif loss == "nll_loss":
        def fn(a): return F.nll_loss(a.log_softmax(1), target, reduction=reduction)
    else:
        other = tg.tensor(np.linspace(-1, 1, n * c).reshape(n, c))
        def fn(a): return F.mse_loss(a.tanh(), other, reduction=reduction)
    assert gradgradcheck(fn, t(x), **FAST)


def test_a_cast_passes_recorded_gradients_through_in_each_dtype():
    x = tg.tensor([0.5, -1.25], dtype=tg.float64, requires_grad=True)
    y = x.float()
    (g,) = tg.grad((y * y * y).sum(), x, create_graph=True)  # 3 x^2, float64 again
    assert g.dtype == np.float64 and g.requires_grad
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy(), rtol=1e-6)


def test_the_norm_has_pytorchs_zero_gradient_at_zero_in_every_order():
    z = tg.zeros(2, 3, dtype=tg.float64, requires_grad=True)
    (g,) = tg.grad(z.norm(dim=1).sum(), z, create_graph=True)
    assert g.detach().tolist() == [[0.0] * 3] * 2
    x = tg.tensor([[3.0, 4.0]], dtype=tg.float64, requires_grad=True)
    (g,) = tg.grad(x.norm(dim=1).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[0.6, 0.8]])
    assert x.norm(1).item() == 7.0 and x.norm(float("inf")).item() == 4.0 and tg.norm(x).item() == 5.0
    assert x.norm(3).item() == pytest.approx(91 ** (1 / 3)) and x.norm(0).item() == 2.0
    assert x.norm(float("-inf")).item() == 3.0
    with pytest.raises(ValueError, match="norm: p must be a number or 'fro', got 'nuc'"):
        x.norm("nuc")


def test_dropout_with_its_mask_fixed_by_the_seed():
    x = t(np.random.default_rng(0).standard_normal((4, 5)))

    def fn(a):
        tg.manual_seed(3)  # the same mask at every evaluation
        return F.dropout(a * a, p=0.4, training=True)

    assert gradgradcheck(fn, x)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@given(data=st.data())
def test_normalization_in_training(kind, data):
    case = data.draw(tst.normalization_inputs(kind, scale="well", max_side=3))
    args = [t(case.x)] + ([t(case.weight), t(case.bias)] if case.weight is not None else [])
    assert gradgradcheck(lambda *a: case.call(*a), tuple(args), **FAST)


@given(data=st.data())
def test_batch_norm_in_eval_mode(data):
    case = data.draw(tst.normalization_inputs("batch", scale="well", affine=True, max_side=3))
    c = case.x.shape[1]
    mean = tg.tensor(np.linspace(-0.5, 0.5, c))
    var = tg.tensor(np.linspace(0.5, 2.0, c))
    # eval-mode batch norm is affine in x: multiply by x so its second derivative is not zero
    fn = lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=False) * x  # noqa: E731
    assert gradgradcheck(fn, (t(case.x), t(case.weight), t(case.bias)), **FAST)


def test_the_layers_in_train_and_eval_mode_element_by_element():
    rng = np.random.default_rng(7)
    x = t(rng.standard_normal((4, 3, 2)))
    for layer in (tg.nn.BatchNorm1d(3), tg.nn.LayerNorm([3, 2]), tg.nn.GroupNorm(3, 3), tg.nn.InstanceNorm1d(3, affine=True)):
        layer = layer.double()
        for p in layer.parameters():
            p.data.copy_(tg.tensor(rng.uniform(0.5, 1.5, p.shape)))
        layer.train()
        assert gradgradcheck(lambda a: layer(a) * a, x), type(layer).__name__
        if isinstance(layer, tg.nn.BatchNorm1d):
            layer(x.detach())  # running statistics that are not 0 and 1
            layer.eval()
            assert gradgradcheck(lambda a: layer(a) * a, x), "BatchNorm1d eval"


def test_third_derivatives_of_the_norms_by_a_second_gradgradcheck():
    """Composite norm gradients are differentiable again: check d3 through gradgradcheck of a gradient."""
    rng = np.random.default_rng(8)
    x = t(rng.standard_normal((4, 3)))
    w = tg.tensor(rng.standard_normal((4, 3)))
    for norm in (lambda a: F.batch_norm(a, None, None, training=True), lambda a: F.layer_norm(a, (3,))):
        def gradient(a):
            (g,) = tg.grad((norm(a) * w).sum(), a, create_graph=True)
            return g
        assert gradgradcheck(gradient, x, **FAST)


def test_the_norms_double_backward_in_float32_agrees_with_float64():
    rng = np.random.default_rng(9)
    x64, w, v = (rng.standard_normal((64, 32)) for _ in range(3))
    x64 = x64 * 3 + 50  # far from zero: the statistics are recomputed, not differenced
    results = []
    for dtype in (tg.float32, tg.float64):
        for norm in (lambda a: F.batch_norm(a, None, None, training=True), lambda a: F.layer_norm(a, (32,))):
            x = tg.tensor(x64, dtype=dtype, requires_grad=True)
            (g,) = tg.grad((norm(x) * tg.tensor(w, dtype=dtype)).tanh().sum(), x, create_graph=True)
            (h,) = tg.grad((g * tg.tensor(v, dtype=dtype)).sum(), x)
            results.append(h.numpy().astype(np.float64))
    for h32, h64 in zip(results[:2], results[2:]):
        np.testing.assert_allclose(h32, h64, rtol=2e-3, atol=2e-3 * np.abs(h64).max())
