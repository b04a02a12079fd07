"""Activations, distances and helpers of nn / nn.functional beyond ReLU and friends:
values against float64 formulas written here, PyTorch's gradients at the kinks
(written out, not taken from torch), gradients by central differences, double
backward, in-place forms, modules, argument errors, and agreement with PyTorch
when it is installed."""
import math
import warnings

import numpy as np
import pytest
from conftest import away_from

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck, gradgradcheck

ALPHA = 1.6732632423543772848170429916717  # SELU's constants (Klambauer et al.)
SCALE = 1.0507009873554804934193349852946


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def numpy_of(t):
    return t.detach().cpu().numpy()


def _elu(x, a=1.0):
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


# name -> (functional form, module, float64 reference, kinks (gradients are checked away from them))
ACTIVATIONS = {
    "elu": (lambda x: F.elu(x), nn.ELU(), _elu, [0.0]),
    "elu_alpha": (lambda x: F.elu(x, alpha=0.5), nn.ELU(alpha=0.5), lambda x: _elu(x, 0.5), [0.0]),
    "selu": (F.selu, nn.SELU(), lambda x: SCALE * _elu(x, ALPHA), [0.0]),
    "celu": (lambda x: F.celu(x, alpha=2.0), nn.CELU(alpha=2.0),
             lambda x: np.where(x > 0, x, 2.0 * np.expm1(np.minimum(x, 0) / 2.0)), [0.0]),
    "silu": (F.silu, nn.SiLU(), lambda x: x / (1 + np.exp(-x)), []),
    "mish": (F.mish, nn.Mish(), lambda x: x * np.tanh(np.logaddexp(0.0, x)), []),
    "softplus": (F.softplus, nn.Softplus(), _softplus, [20.0]),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=3.0), nn.Softplus(beta=2.0, threshold=3.0),
                      lambda x: _softplus(x, 2.0, 3.0), [1.5]),
    "softsign": (F.softsign, nn.Softsign(), lambda x: x / (1 + np.abs(x)), []),
    "hardtanh": (F.hardtanh, nn.Hardtanh(), lambda x: np.clip(x, -1, 1), [-1.0, 1.0]),
    "hardtanh_range": (lambda x: F.hardtanh(x, -2.0, 0.5), nn.Hardtanh(-2.0, 0.5), lambda x: np.clip(x, -2, 0.5),
                       [-2.0, 0.5]),
    "relu6": (F.relu6, nn.ReLU6(), lambda x: np.clip(x, 0, 6), [0.0, 6.0]),
    "hardsigmoid": (F.hardsigmoid, nn.Hardsigmoid(), lambda x: np.clip(x / 6 + 0.5, 0, 1), [-3.0, 3.0]),
    "hardswish": (F.hardswish, nn.Hardswish(), lambda x: x * np.clip(x + 3, 0, 6) / 6, [-3.0, 3.0]),
    "logsigmoid": (F.logsigmoid, nn.LogSigmoid(), lambda x: -np.logaddexp(0.0, -x), []),
    "tanhshrink": (F.tanhshrink, nn.Tanhshrink(), lambda x: x - np.tanh(x), []),
    "softshrink": (F.softshrink, nn.Softshrink(), lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), [-0.5, 0.5]),
    "softshrink_1": (lambda x: F.softshrink(x, 1.0), nn.Softshrink(1.0),
                     lambda x: np.sign(x) * np.maximum(np.abs(x) - 1, 0), [-1.0, 1.0]),
    "hardshrink": (F.hardshrink, nn.Hardshrink(), lambda x: np.where(np.abs(x) > 0.5, x, 0), [-0.5, 0.5]),
    "threshold": (lambda x: F.threshold(x, 0.3, -2.0), nn.Threshold(0.3, -2.0), lambda x: np.where(x > 0.3, x, -2.0),
                  [0.3]),
    "rrelu_eval": (lambda x: F.rrelu(x), nn.RReLU().eval(),
                   lambda x: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2), [0.0]),
    "prelu": (lambda x: F.prelu(x, t64([0.25])), nn.PReLU().double(), lambda x: np.where(x > 0, x, 0.25 * x), [0.0]),
}

# PyTorch's derivative at each kink (its backward kernels' choice of side), and elsewhere by the formula
KINK_GRADS = [
    (lambda x: F.elu(x, alpha=0.5), 0.0, 0.5),
    (F.selu, 0.0, SCALE * ALPHA),
    (lambda x: F.celu(x, alpha=2.0), 0.0, 1.0),
    (F.hardtanh, -1.0, 0.0), (F.hardtanh, 1.0, 0.0), (F.hardtanh, 0.999, 1.0),
    (F.relu6, 0.0, 0.0), (F.relu6, 6.0, 0.0), (F.relu6, 5.0, 1.0),
    (F.hardsigmoid, -3.0, 0.0), (F.hardsigmoid, 3.0, 0.0), (F.hardsigmoid, 0.0, 1 / 6),
    (F.hardswish, -3.0, 0.0), (F.hardswish, 3.0, 1.0), (F.hardswish, 1.5, 1.5 / 3 + 0.5),
    (F.softshrink, 0.5, 0.0), (F.softshrink, -0.5, 0.0),
    (F.hardshrink, 0.5, 0.0), (F.hardshrink, -0.5, 0.0), (F.hardshrink, 0.5001, 1.0),
    (lambda x: F.threshold(x, 0.3, -2.0), 0.3, 0.0),
    (lambda x: F.softplus(x, beta=2.0, threshold=3.0), 1.5, 1 / (1 + math.exp(-3.0))),  # not above: log branch
    (lambda x: F.prelu(x, t64([0.25])), 0.0, 0.25),
    (lambda x: F.rrelu(x), 0.0, (1 / 8 + 1 / 3) / 2),
    (F.softsign, 0.0, 1.0),
]


def _points(rng, kinks, n=14):
    """Random points with every kink itself and points on both sides of it."""
    x = rng.standard_normal(n) * 3
    extra = [k + d for k in kinks for d in (-0.25, 0.0, 0.25)]
    return np.concatenate([x, extra, [25.0, -25.0]])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_matches_the_formula_in_float64_and_float32(name, rng):
    fn, module, ref, kinks = ACTIVATIONS[name]
    x = _points(rng, kinks)
    out = fn(t64(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    np.testing.assert_allclose(numpy_of(out), ref(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(numpy_of(module(t64(x))), ref(x), rtol=1e-12, atol=1e-14)
    if name != "prelu":  # prelu's weight is float64 here
        # in float32 a kink such as 0.3 is rounded, so the points on it are left out
        x32 = x[[away_from(np.float32(v), kinks, 1e-6) for v in x]].astype(np.float32)
        out32 = fn(tg.tensor(x32))
        assert out32.dtype == np.float32
        np.testing.assert_allclose(numpy_of(out32), ref(x32.astype(np.float64)), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_gradients_match_central_differences_away_from_the_kinks(name, rng):
    fn, _, _, kinks = ACTIVATIONS[name]
    x = rng.standard_normal((3, 4)) * 3
    x = x[np.array([away_from(v, kinks, 0.01) for v in x.ravel()]).reshape(x.shape).all(1)]
    assert x.size and away_from(x, kinks, 0.01)
    assert gradcheck(fn, t64(x, grad=True))


@pytest.mark.parametrize("fn, at, expected", KINK_GRADS)
def test_the_gradient_at_each_kink_is_pytorchs(fn, at, expected):
    x = t64([at], grad=True)
    fn(x).sum().backward()
    assert x.grad.item() == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("fn", [F.elu, F.selu, lambda x: F.celu(x, 0.7), F.silu, F.mish, F.softplus,
                                lambda x: F.softplus(x, beta=0.5), F.logsigmoid, F.softsign, F.tanhshrink,
                                lambda x: F.glu(x, 1), lambda x: F.softmin(x, 1), F.normalize])
def test_double_backward(fn, rng):
    assert gradgradcheck(fn, t64(rng.standard_normal((2, 4)) * 2, grad=True))


@pytest.mark.parametrize("alpha", [0.25, 0.5, 1.0, 3.0])
def test_celu_below_zero_is_alpha_times_expm1_of_x_over_alpha(alpha):
    """celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)) for any alpha, above 1 and below."""
    x = np.array([-4.0, -1.0, -0.3, 0.0, 0.7, 2.0])
    want = np.maximum(0, x) + np.minimum(0, alpha * np.expm1(x / alpha))
    np.testing.assert_allclose(F.celu(t64(x), alpha=alpha).numpy(), want, rtol=1e-14)
    np.testing.assert_allclose(nn.CELU(alpha)(t64(x)).numpy(), want, rtol=1e-14)


def test_the_stable_forms_neither_overflow_nor_lose_the_tail():
    x = t64([-1000.0, -40.0, 0.0, 40.0, 1000.0], grad=True)
    for fn, ref in ((F.softplus, [0.0, math.exp(-40), math.log(2), 40.0, 1000.0]),
                    (F.logsigmoid, [-1000.0, -40.0, -math.log(2), -math.exp(-40), 0.0]),
                    (F.silu, [0.0, -40 * math.exp(-40), 0.0, 40.0, 1000.0]),
                    (F.mish, [0.0, -40 * math.exp(-40), 0.0, 40.0, 1000.0]),
                    (F.elu, [-1.0, math.expm1(-40), 0.0, 40.0, 1000.0])):
        x.grad = None
        out = fn(x)
        np.testing.assert_allclose(numpy_of(out), ref, rtol=1e-12, atol=1e-300)
        out.sum().backward()
        assert np.isfinite(x.grad.numpy()).all(), fn


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_propagates_like_pytorch():
    x = t64([float("nan"), -2.0, 2.0])
    for fn in (F.elu, F.selu, F.softplus, F.hardtanh, F.relu6, F.hardsigmoid, F.hardswish, F.logsigmoid,
               F.softshrink, F.hardshrink, lambda t: F.threshold(t, 0.0, 1.0)):
        out = numpy_of(fn(x))
        assert np.isnan(out[0]) and np.isfinite(out[1:]).all(), fn


# ------------------------------------------------------------------ in place

IN_PLACE = [
    (lambda t: F.elu_(t, 0.5), lambda t: F.elu(t, 0.5)),
    (lambda t: F.elu(t, inplace=True), F.elu),
    (F.selu_, F.selu), (lambda t: F.celu_(t, 2.0), lambda t: F.celu(t, 2.0)),
    (lambda t: F.silu(t, inplace=True), F.silu), (lambda t: F.mish(t, inplace=True), F.mish),
    (lambda t: F.hardtanh_(t, -0.5, 0.5), lambda t: F.hardtanh(t, -0.5, 0.5)),
    (lambda t: F.relu6(t, inplace=True), F.relu6),
    (lambda t: F.hardsigmoid(t, inplace=True), F.hardsigmoid),
    (lambda t: F.hardswish(t, inplace=True), F.hardswish),
    (lambda t: F.threshold_(t, 0.1, 5.0), lambda t: F.threshold(t, 0.1, 5.0)),
    (F.relu_, F.relu), (lambda t: F.leaky_relu_(t, 0.2), lambda t: F.leaky_relu(t, 0.2)),
    (F.rrelu_, F.rrelu),
]


@pytest.mark.parametrize("inplace, outofplace", IN_PLACE)
def test_in_place_forms_overwrite_the_input_and_keep_the_gradient(inplace, outofplace, rng):
    x = rng.standard_normal((3, 4)) * 3
    t = t64(x)
    assert inplace(t) is t
    np.testing.assert_allclose(t.numpy(), numpy_of(outofplace(t64(x))), rtol=1e-15)
    # through a non-leaf, the gradient is the out-of-place op's
    w = rng.standard_normal((3, 4))
    a, b = t64(x, grad=True), t64(x, grad=True)
    y = a * 1.0
    (inplace(y) * t64(w)).sum().backward()
    (outofplace(b * 1.0) * t64(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-14)
    with pytest.raises(RuntimeError, match="leaf"):
        inplace(t64(x, grad=True))


@pytest.mark.parametrize("module", [nn.ELU(inplace=True), nn.SELU(inplace=True), nn.CELU(inplace=True),
                                    nn.SiLU(inplace=True), nn.Mish(inplace=True), nn.Hardtanh(inplace=True),
                                    nn.ReLU6(inplace=True), nn.Hardsigmoid(inplace=True),
                                    nn.Hardswish(inplace=True), nn.Threshold(0.0, 1.0, inplace=True),
                                    nn.RReLU(inplace=True)])
def test_modules_with_inplace_return_their_input(module, rng):
    x = t64(rng.standard_normal(5))
    assert module(x) is x
    # (PyTorch's Hardsigmoid and Hardswish print no inplace=: test_pytorch_reprs.py)
    assert ("inplace=True" in repr(module)) != isinstance(module, (nn.Hardsigmoid, nn.Hardswish))


# ------------------------------------------------------------------ glu, softmin, prelu, rrelu

def test_glu_halves_the_dim(rng):
    x = rng.standard_normal((3, 6, 2))
    for dim in (1, -2):
        out = F.glu(t64(x), dim)
        ref = x[:, :3] / (1 + np.exp(-x[:, 3:]))
        np.testing.assert_allclose(numpy_of(out), ref, rtol=1e-12)
        np.testing.assert_allclose(numpy_of(nn.GLU(dim)(t64(x))), ref, rtol=1e-12)
    assert F.glu(t64(rng.standard_normal((2, 4)))).shape == (2, 2)  # dim=-1 by default
    assert gradcheck(lambda t: F.glu(t, 1), t64(x, grad=True))


def test_softmin_along_a_dim_and_pytorchs_implicit_dim(rng):
    x = rng.standard_normal((2, 3, 4))
    for dim in (0, 1, 2, -1):
        e = np.exp(-x + x.min(dim, keepdims=True))
        np.testing.assert_allclose(numpy_of(F.softmin(t64(x), dim)), e / e.sum(dim, keepdims=True), rtol=1e-12)
    assert gradcheck(lambda t: F.softmin(t, 1), t64(x, grad=True))  # a weighted projection: sums are constant
    for shape, dim in (((5,), 0), ((2, 5), 1), ((2, 3, 4), 0), ((2, 3, 4, 5), 1)):
        x = rng.standard_normal(shape)
        with pytest.warns(UserWarning, match=f"implicit dimension.*Using dim={dim}"):  # the dim it says it uses
            out = F.softmin(t64(x))
        np.testing.assert_allclose(numpy_of(out), numpy_of(F.softmin(t64(x), dim)), rtol=1e-15)
        with pytest.warns(UserWarning, match="implicit dimension"):
            nn.Softmin()(t64(x))
    x32 = tg.tensor(rng.standard_normal((2, 3)).astype(np.float32))
    assert F.softmin(x32, 1, dtype=tg.float64).dtype == np.float64
    assert repr(nn.Softmin(1)) == "Softmin(dim=1)"


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_the_softmax_tensor_methods_need_a_dim_as_in_pytorch(name, rng):
    """Tensor.softmax(dim) has no default in PyTorch (only F.softmax guesses, with a
    warning): a call without one is a TypeError naming dim, not a softmax along some dim."""
    x = t64(rng.standard_normal((3, 4)))
    with pytest.raises(TypeError, match="dim"):
        getattr(x, name)()
    np.testing.assert_array_equal(numpy_of(getattr(x, name)(dim=0)), numpy_of(getattr(F, name)(x, 0)))


def test_prelu_module_learns_one_slope_or_one_per_channel(rng):
    m = nn.PReLU()
    assert m.weight.shape == (1,) and m.weight.requires_grad and np.all(numpy_of(m.weight) == np.float32(0.25))
    assert [n for n, _ in m.named_parameters()] == ["weight"] and repr(m) == "PReLU(num_parameters=1)"
    m = nn.PReLU(3, init=0.1).double()
    x = rng.standard_normal((4, 3, 5))
    w = rng.standard_normal((4, 3, 5))
    out = m(t64(x))
    np.testing.assert_allclose(numpy_of(out), np.where(x > 0, x, float(np.float32(0.1)) * x), rtol=1e-15)
    (out * t64(w)).sum().backward()
    np.testing.assert_allclose(m.weight.grad.numpy(), (np.minimum(x, 0) * w).sum((0, 2)), rtol=1e-12)
    slopes = t64([0.2, -0.3, 0.5], grad=True)
    assert gradcheck(F.prelu, (t64(x[:, :, :2], grad=True), slopes))
    assert gradgradcheck(F.prelu, (t64(x[:1, :, :2] + 0.1, grad=True), slopes))
    # a 1-d input is one channel; a 0-d input takes a single slope
    assert F.prelu(t64([-2.0, 2.0]), t64([0.5])).tolist() == [-1.0, 2.0]
    assert F.prelu(t64(-2.0), t64([0.5])).shape == ()
    with pytest.raises(ValueError, match=r"found 3 parameters and channel size 1 \(dim 1 of input shape \(2,\)\)"):
        F.prelu(t64([-2.0, 2.0]), t64([0.5, 0.2, 0.1]))  # a 1-d input has one channel


def test_rrelu_training_draws_slopes_from_the_device_generator(rng):
    x = -np.abs(rng.standard_normal(20000)) - 0.01
    x[:10] = np.abs(x[:10])
    tg.manual_seed(3)
    a = t64(x, grad=True)
    out = F.rrelu(a, 0.1, 0.3, training=True)
    slopes = numpy_of(out)[10:] / x[10:]
    assert slopes.min() >= 0.1 and slopes.max() < 0.3 and abs(slopes.mean() - 0.2) < 0.005
    assert np.array_equal(numpy_of(out)[:10], x[:10])
    w = rng.standard_normal(x.shape)
    (out * t64(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy()[10:], slopes * w[10:], rtol=1e-12)
    tg.manual_seed(3)
    assert np.array_equal(numpy_of(F.rrelu(t64(x), 0.1, 0.3, training=True)), numpy_of(out))
    m = nn.RReLU(0.1, 0.3)
    assert m.training and not np.array_equal(numpy_of(m(t64(x))), numpy_of(m(t64(x))))
    m.eval()
    np.testing.assert_allclose(numpy_of(m(t64(x))), np.where(x > 0, x, 0.2 * x), rtol=1e-15)
    assert repr(m) == "RReLU(lower=0.1, upper=0.3)"


def test_module_reprs():
    assert repr(nn.ELU(alpha=0.5)) == "ELU(alpha=0.5)"
    assert repr(nn.Hardtanh(-2.0, 2.0)) == "Hardtanh(min_val=-2.0, max_val=2.0)"
    assert repr(nn.ReLU6()) == "ReLU6()" and repr(nn.Softshrink(0.3)) == "Softshrink(0.3)"
    assert repr(nn.Hardshrink()) == "Hardshrink(0.5)" and repr(nn.Softplus()) == "Softplus(beta=1.0, threshold=20.0)"
    assert repr(nn.Threshold(0.1, 20)) == "Threshold(threshold=0.1, value=20)" and repr(nn.GLU()) == "GLU(dim=-1)"
    assert repr(nn.Unflatten(1, (2, 3))) == "Unflatten(dim=1, unflattened_size=(2, 3))"
    assert repr(nn.Bilinear(2, 3, 4)) == "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"
    with pytest.warns(FutureWarning, match="min_value"):
        assert nn.Hardtanh(min_value=-3.0).min_val == -3.0


def test_an_mlp_with_the_new_activations_trains(rng):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.SiLU(), nn.Linear(16, 16), nn.PReLU(16), nn.Linear(16, 16),
                          nn.Hardswish(), nn.Linear(16, 1))
    x = tg.tensor(rng.standard_normal((64, 4)).astype(np.float32))
    y = (x[:, :1] * 2 - x[:, 1:2]).detach()
    opt = tg.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(60):
        opt.zero_grad()
        loss = F.smooth_l1_loss(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.2 * first


# ------------------------------------------------------------------ distances and helpers

def test_normalize(rng):
    x = rng.standard_normal((3, 4, 2))
    x[1, :, 0] = 0.0  # a zero vector: divided by eps, its gradient finite
    for p, dim in ((2, 1), (1, -1), (3, 0)):
        n = (np.abs(x) ** p).sum(dim, keepdims=True) ** (1 / p)
        np.testing.assert_allclose(numpy_of(F.normalize(t64(x), p, dim)), x / np.maximum(n, 1e-12), rtol=1e-12)
    a = t64(x, grad=True)
    out = F.normalize(a)
    (out * t64(rng.standard_normal(x.shape))).sum().backward()
    assert np.isfinite(a.grad.numpy()).all()
    y = x.copy()
    y[1, :, 0] = 1.0
    assert gradcheck(lambda t: F.normalize(t, 2, 1), t64(y, grad=True))


def test_cosine_similarity(rng):
    x1, x2 = rng.standard_normal((2, 4, 5))
    ref = (x1 * x2).sum(1) / (np.linalg.norm(x1, axis=1) * np.linalg.norm(x2, axis=1))
    np.testing.assert_allclose(numpy_of(F.cosine_similarity(t64(x1), t64(x2))), ref, rtol=1e-12)
    np.testing.assert_allclose(numpy_of(nn.CosineSimilarity(dim=1)(t64(x1), t64(x2))), ref, rtol=1e-12)
    # eps clamps a norm from below: 0 is taken, a negative one is refused
    assert nn.CosineSimilarity(eps=0.0).eps == 0.0
    with pytest.raises(ValueError, match=r"CosineSimilarity: eps must be >= 0.0, got -0.5"):
        nn.CosineSimilarity(eps=-0.5)
    with pytest.raises(ValueError, match=r"cosine_similarity: eps must be >= 0.0, got -0.5"):
        F.cosine_similarity(t64(x1), t64(x2), eps=-0.5)
    np.testing.assert_allclose(numpy_of(F.cosine_similarity(t64(x1), t64(x2), eps=0.0)), ref, rtol=1e-12)
    # broadcast first, along the reduced dim too, as PyTorch
    x3 = rng.standard_normal((4, 1))
    ref = (x3 * x2).sum(1) / (np.sqrt(5) * np.abs(x3[:, 0]) * np.linalg.norm(x2, axis=1))
    np.testing.assert_allclose(numpy_of(F.cosine_similarity(t64(x3), t64(x2))), ref, rtol=1e-12)
    # a zero vector: its norm is clamped at eps, and the result is 0
    z = x1.copy()
    z[0] = 0
    assert numpy_of(F.cosine_similarity(t64(z), t64(x2)))[0] == 0.0
    assert gradcheck(F.cosine_similarity, (t64(x1, grad=True), t64(x2, grad=True)))
    assert gradgradcheck(lambda a, b: F.cosine_similarity(a, b, dim=-1), (t64(x1[:2], grad=True), t64(x2[:2], grad=True)))


@pytest.mark.parametrize("swap", [False, True])
def test_distances_broadcast_an_operand_of_fewer_dims_either_side(rng, swap):
    """A (3,) operand against a (2, 3) one counts as (1, 3), in either place, as in PyTorch."""
    a, b = rng.standard_normal(3), rng.standard_normal((2, 3))
    x1, x2 = (b, a) if swap else (a, b)
    cos = (a * b).sum(-1) / (np.linalg.norm(a) * np.linalg.norm(b, axis=-1))
    np.testing.assert_allclose(numpy_of(F.cosine_similarity(t64(x1), t64(x2), dim=-1)), cos, rtol=1e-12)
    d = np.linalg.norm(x1 - x2 + 1e-6, axis=-1)
    np.testing.assert_allclose(numpy_of(F.pairwise_distance(t64(x1), t64(x2))), d, rtol=1e-12)


def test_pairwise_distance_and_pdist(rng):
    x1, x2 = rng.standard_normal((2, 4, 3))
    for p in (2, 1, 3.0, float("inf")):
        d = x1 - x2 + 1e-6
        ref = np.abs(d).max(-1) if p == float("inf") else (np.abs(d) ** p).sum(-1) ** (1 / p)
        np.testing.assert_allclose(numpy_of(F.pairwise_distance(t64(x1), t64(x2), p)), ref, rtol=1e-12)
        np.testing.assert_allclose(numpy_of(nn.PairwiseDistance(p)(t64(x1), t64(x2))), ref, rtol=1e-12)
    assert F.pairwise_distance(t64(x1), t64(x2), keepdim=True).shape == (4, 1)
    assert nn.PairwiseDistance(keepdim=True)(t64(x1), t64(x2)).shape == (4, 1)
    assert gradcheck(lambda a, b: F.pairwise_distance(a, b, 3.0), (t64(x1, grad=True), t64(x2, grad=True)))
    x = rng.standard_normal((5, 3))
    for p in (2, 1, 0.5, float("inf")):
        ref = [np.linalg.norm(x[i] - x[j], ord=p) for i in range(5) for j in range(i + 1, 5)]
        np.testing.assert_allclose(numpy_of(F.pdist(t64(x), p)), ref, rtol=1e-12)
    assert F.pdist(t64(x[:1])).shape == (0,)
    assert gradcheck(F.pdist, t64(x, grad=True))
    # equal rows: distance 0, gradient 0 rather than NaN (PyTorch's choice for p = 2)
    same = np.stack([x[0], x[0], x[1]])
    a = t64(same, grad=True)
    F.pdist(a).sum().backward()
    assert np.isfinite(a.grad.numpy()).all()


def test_one_hot(rng):
    idx = np.array([[0, 3], [2, 2]])
    out = F.one_hot(tg.tensor(idx))
    assert out.dtype == np.int64 and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[idx])
    assert F.one_hot(tg.tensor(idx), num_classes=6).shape == (2, 2, 6)
    assert F.one_hot(tg.tensor(np.zeros(0, dtype=np.int64)), 3).shape == (0, 3)


def test_bilinear_and_its_module(rng):
    x1, x2 = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 5))
    w, b = rng.standard_normal((6, 4, 5)), rng.standard_normal(6)
    ref = np.einsum("...i,oij,...j->...o", x1, w, x2) + b
    np.testing.assert_allclose(numpy_of(F.bilinear(t64(x1), t64(x2), t64(w), t64(b))), ref, rtol=1e-12)
    np.testing.assert_allclose(numpy_of(F.bilinear(t64(x1[0, 0]), t64(x2[0, 0]), t64(w))), ref[0, 0] - b, rtol=1e-12)
    args = (t64(x1[0], grad=True), t64(x2[0], grad=True), t64(w[:2], grad=True), t64(b[:2], grad=True))
    assert gradcheck(F.bilinear, args)
    assert gradgradcheck(F.bilinear, args)
    tg.manual_seed(0)
    m = nn.Bilinear(40, 5, 30)
    bound = 1 / math.sqrt(40)
    assert m.weight.shape == (30, 40, 5) and m.bias.shape == (30,)
    weight, bias = numpy_of(m.weight), numpy_of(m.bias)
    # U(-bound, bound), as PyTorch: both ends reached, centred on 0
    assert np.abs(weight).max() <= bound and weight.min() < -0.9 * bound and weight.max() > 0.9 * bound
    assert abs(weight.mean()) < 5 * bound / math.sqrt(3 * weight.size)
    assert np.abs(bias).max() <= bound and bias.min() < 0 < bias.max()
    assert nn.Bilinear(2, 3, 4, bias=False).bias is None
    y = m(tg.randn(7, 40), tg.randn(7, 5))
    assert y.shape == (7, 30) and y.dtype == np.float32


def test_unflatten(rng):
    x = t64(rng.standard_normal((2, 12, 3)), grad=True)
    assert nn.Unflatten(1, (3, 4))(x).shape == (2, 3, 4, 3)
    assert nn.Unflatten(-2, [2, -1, 2])(x).shape == (2, 2, 3, 2, 3)
    np.testing.assert_array_equal(numpy_of(nn.Unflatten(1, (3, 4))(x)), numpy_of(x).reshape(2, 3, 4, 3))
    nn.Sequential(nn.Flatten(), nn.Unflatten(1, (12, 3)))(x).sum().backward()
    assert x.grad.shape == (2, 12, 3)


# ------------------------------------------------------------------ errors

x43 = tg.randn(4, 3)
ERRORS = [
    (lambda: F.elu([1.0, 2.0]), TypeError, "elu: input must be a Tensor"),
    (lambda: F.elu(tg.tensor([1, 2])), TypeError, "elu: input must be floating point"),
    (lambda: F.elu(x43, alpha="1"), TypeError, "elu: alpha must be a number"),
    (lambda: F.celu(x43, alpha=0.0), ValueError, "celu: alpha cannot be 0"),
    (lambda: nn.CELU(alpha=0.0), ValueError, "CELU: alpha cannot be 0"),
    (lambda: F.softplus(x43, beta=0), ValueError, "softplus: beta must be non-zero"),
    (lambda: nn.Softplus(beta=0), ValueError, "Softplus: beta must be non-zero"),
    (lambda: F.hardtanh(x43, 1.0, -1.0), ValueError, "hardtanh: min_val cannot be greater than max_val"),
    (lambda: nn.Hardtanh(1.0, -1.0), ValueError, "Hardtanh: min_val cannot be greater than max_val"),
    (lambda: F.softshrink(x43, -0.5), ValueError, "softshrink: lambd must be >= 0"),
    (lambda: nn.Softshrink(-0.5), ValueError, "Softshrink: lambd must be >= 0"),
    (lambda: F.threshold(x43, "a", 0.0), TypeError, "threshold: threshold must be a number"),
    (lambda: F.rrelu(x43, 0.5, 0.1, training=True), ValueError, "rrelu: lower bound should be less"),
    (lambda: nn.RReLU(0.5, 0.1), ValueError, "RReLU: lower bound should be less"),
    (lambda: F.glu(tg.randn(3, 5), 1), ValueError, "glu: halving dimension must be even, but dimension 1 is size 5"),
    (lambda: F.glu(tg.tensor(1.0)), ValueError, "glu: got a 0-dim input"),
    (lambda: F.glu(x43, 2), IndexError, "glu: dim 2 is out of range"),
    (lambda: F.softmin(x43, dim=3), IndexError, "dim 3 is out of range"),
    (lambda: F.softmin(x43, 1, dtype=tg.int64), TypeError, "softmin: dtype must be a floating point type"),
    (lambda: F.prelu(x43, tg.ones(2)), ValueError, "prelu: mismatch of parameter numbers and input channel size"),
    (lambda: F.prelu(x43, tg.ones(3, 1)), ValueError, "prelu: expected weight to be a scalar or 1-d"),
    (lambda: F.prelu(tg.tensor(1.0), tg.ones(2)), ValueError, "prelu: a 0-dim input takes a single slope, got a "
                                                              "weight of 2"),
    (lambda: F.prelu(x43, [0.25]), TypeError, "prelu: weight must be a Tensor"),
    (lambda: nn.PReLU(0), ValueError, "PReLU: num_parameters must be >= 1"),
    (lambda: nn.PReLU(2, dtype=tg.int64), TypeError, "PReLU: dtype must be a floating point type"),
    (lambda: F.normalize(x43, out=tg.zeros(4, 3)), NotImplementedError, "normalize: out= is not supported"),
    (lambda: F.normalize(x43, p="fro2"), TypeError, "normalize: p must be a number"),
    (lambda: F.cosine_similarity(x43, tg.randn(4, 2)), ValueError, "cosine_similarity: x1 of shape"),
    (lambda: F.pairwise_distance(x43, tg.randn(2, 3)), ValueError, "pairwise_distance: x1 of shape"),
    (lambda: F.pdist(tg.randn(2, 3, 4)), ValueError, "pdist: only supports 2-d tensors"),
    (lambda: F.pdist(x43, -1.0), ValueError, "pdist: only non-negative p values"),
    (lambda: F.one_hot(tg.tensor([1.0])), TypeError, "one_hot: expected an integer tensor"),
    (lambda: F.one_hot(tg.tensor([-1, 2])), ValueError, "one_hot: class values must be non-negative"),
    (lambda: F.one_hot(tg.tensor([1, 2]), 2), ValueError, "one_hot: class values must be smaller than num_classes=2"),
    (lambda: F.one_hot(tg.tensor(np.zeros(0, dtype=np.int64))), ValueError, "one_hot: can not infer"),
    (lambda: F.one_hot(tg.tensor([1]), -2), ValueError, "one_hot: num_classes must be >= -1"),
    (lambda: F.bilinear(x43, tg.randn(4, 2), tg.randn(5, 3, 3)), ValueError, "bilinear: input2 has 2 features"),
    (lambda: F.bilinear(x43, tg.randn(3, 3), tg.randn(5, 3, 3)), ValueError, "bilinear: input batch dimensions"),
    (lambda: F.bilinear(tg.randn(2, 4, 3), tg.randn(2, 5, 3), tg.randn(5, 3, 3)), ValueError,
     r"bilinear: input batch dimensions do not match: got \(2, 4\) and \(2, 5\)"),
    (lambda: F.bilinear(x43, x43, tg.randn(5, 3)), ValueError, "bilinear: weight must be 3-d"),
    (lambda: F.bilinear(x43, x43, tg.randn(5, 3, 3), tg.randn(4)), ValueError, r"bilinear: bias must have shape \(5,\)"),
    (lambda: nn.Bilinear(0, 2, 3), ValueError, "Bilinear: in1_features must be >= 1"),
    (lambda: nn.Unflatten(1, "ab"), TypeError, "Unflatten: unflattened_size must be a tuple or list"),
    (lambda: nn.Unflatten(1, (2, -1, -1)), ValueError, "at most one -1"),
    (lambda: nn.Unflatten(1, (-2, 6)), ValueError, r"sizes >= 0 and at most one -1, got \(-2, 6\)"),
    (lambda: nn.Unflatten(1, (2, 2))(x43), ValueError, "Unflatten: sizes"),
    # sizes whose product divides the dim but is not it: refused here, not by reshape
    (lambda: nn.Unflatten(1, (2, 2))(tg.randn(4, 8)), ValueError,
     r"Unflatten: sizes \(2, 2\) don't multiply up to the size 8 of dim 1"),
]


def test_threshold_takes_infinite_thresholds_and_values_as_pytorch():
    """F.threshold(x, -inf, v) replaces nothing; (x, inf, v) replaces every element; the
    replacing value may be infinite too, in the function and the module alike."""
    x = tg.tensor([30.0, 1.0, -3.0], dtype=tg.float64)
    np.testing.assert_array_equal(F.threshold(x, float("-inf"), 7.0).numpy(), x.numpy())
    np.testing.assert_array_equal(F.threshold(x, float("inf"), 7.0).numpy(), [7.0, 7.0, 7.0])
    np.testing.assert_array_equal(nn.Threshold(float("inf"), -1.0)(x).numpy(), [-1.0, -1.0, -1.0])
    inf = float("inf")
    for value in (inf, -inf):
        np.testing.assert_array_equal(F.threshold(x, 0.0, value).numpy(), [30.0, 1.0, value])
        np.testing.assert_array_equal(nn.Threshold(0.0, value)(x).numpy(), [30.0, 1.0, value])


def test_hardtanh_takes_infinite_bounds_as_pytorch():
    x = tg.tensor([-5.0, 0.0, 5.0], dtype=tg.float64)
    np.testing.assert_array_equal(F.hardtanh(x, min_val=float("-inf")).numpy(), [-5.0, 0.0, 1.0])
    np.testing.assert_array_equal(F.hardtanh(x, -1.0, float("inf")).numpy(), [-1.0, 0.0, 5.0])
    np.testing.assert_array_equal(nn.Hardtanh(float("-inf"), float("inf"))(x).numpy(), [-5.0, 0.0, 5.0])


def test_softplus_takes_an_infinite_threshold():
    """threshold=inf never switches to the identity, as PyTorch: log(1 + exp(x)) everywhere."""
    x = tg.tensor([30.0, 1.0, -3.0], dtype=tg.float64)
    want = np.log1p(np.exp(x.numpy()))
    np.testing.assert_allclose(nn.Softplus(threshold=float("inf"))(x).numpy(), want, rtol=1e-15)
    np.testing.assert_allclose(F.softplus(x, threshold=float("inf")).numpy(), want, rtol=1e-15)


@pytest.mark.parametrize("call, error, match", ERRORS)
def test_bad_arguments_are_refused_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------ PyTorch

TORCH_CASES = [
    ("elu", {}), ("elu", {"alpha": 0.5}), ("elu", {"alpha": -0.5}), ("selu", {}), ("celu", {"alpha": 2.0}),
    ("celu", {"alpha": -1.0}), ("silu", {}), ("mish", {}), ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 5.0}), ("softplus", {"beta": -1.0}), ("softsign", {}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 3.0}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}),
    ("logsigmoid", {}), ("tanhshrink", {}), ("softshrink", {}), ("softshrink", {"lambd": 1.0}), ("hardshrink", {}),
    ("hardshrink", {"lambd": -0.5}), ("threshold", {"threshold": 0.5, "value": -7.0}), ("rrelu", {}),
]
KINKY = np.array([-25.0, -6.0, -3.5, -3.0, -2.0, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 1.5, 2.5, 3.0, 6.0, 7.0,
                  20.0, 25.0, 30.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name, kwargs", TORCH_CASES)
def test_values_and_gradients_match_pytorch_at_and_off_the_kinks(name, kwargs, dtype):
    torch = pytest.importorskip("torch")
    x = KINKY.astype(dtype)
    w = np.linspace(-1, 2, x.size).astype(dtype)
    a = tg.tensor(x, requires_grad=True)
    out = getattr(F, name)(a, **kwargs)
    (out * tg.tensor(w)).sum().backward()
    b = torch.tensor(x, requires_grad=True)
    ref = getattr(torch.nn.functional, name)(b, **kwargs)
    (ref * torch.tensor(w)).sum().backward()
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    np.testing.assert_allclose(numpy_of(out), ref.detach().numpy(), **tol)
    # PyTorch's hardsigmoid backward multiplies by a float32 1/6 even in float64
    grad_tol = {"rtol": 1e-7, "atol": 1e-14} if dtype == np.float64 else tol
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), **grad_tol)


def test_the_rest_matches_pytorch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional

    def check(ours, theirs, *arrays):
        mine = [t64(a, grad=a.dtype.kind == "f") for a in arrays]
        ref = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        o, r = ours(*mine), theirs(*ref)
        assert o.shape == tuple(r.shape)
        np.testing.assert_allclose(numpy_of(o), r.detach().numpy(), rtol=1e-12, atol=1e-14)
        if r.requires_grad:
            w = rng.standard_normal(o.shape)
            (o * t64(w)).sum().backward()
            (r * torch.tensor(w)).sum().backward()
            for m, t in zip(mine, ref):
                if t.grad is not None:
                    np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-13)

    x = rng.standard_normal((4, 3, 5))
    x[0, 0, 0] = 0.0
    check(F.prelu, tf.prelu, x, np.array([0.25, -0.1, 0.5]))
    check(F.prelu, tf.prelu, x[0, 0], np.array([0.3]))
    check(lambda t: F.glu(t, 1), lambda t: tf.glu(t, 1), rng.standard_normal((4, 6)))
    for d in (0, 1, -1):
        check(lambda t, d=d: F.softmin(t, d), lambda t, d=d: tf.softmin(t, d), x)
    z = x.copy()
    z[1, :, 2] = 0
    check(F.normalize, tf.normalize, z)
    check(lambda t: F.normalize(t, 1, 2), lambda t: tf.normalize(t, 1, 2), x)
    check(F.cosine_similarity, tf.cosine_similarity, z, rng.standard_normal((4, 3, 5)))
    check(lambda a, b: F.cosine_similarity(a, b, 1), lambda a, b: tf.cosine_similarity(a, b, 1), x,
          rng.standard_normal((4, 1, 5)))
    for p in (2, 1, 3, float("inf")):
        check(lambda a, b, p=p: F.pairwise_distance(a, b, p), lambda a, b, p=p: tf.pairwise_distance(a, b, p), x[0],
              rng.standard_normal((3, 5)))
        check(lambda a, p=p: F.pdist(a, p), lambda a, p=p: tf.pdist(a, p), rng.standard_normal((5, 3)))
    check(F.bilinear, tf.bilinear, rng.standard_normal((4, 3)), rng.standard_normal((4, 2)),
          rng.standard_normal((5, 3, 2)), rng.standard_normal(5))
    idx = np.array([[0, 2], [1, 4]])
    np.testing.assert_array_equal(F.one_hot(tg.tensor(idx)).numpy(), tf.one_hot(torch.tensor(idx)).numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shape in ((5,), (4, 5), (2, 3, 4), (2, 3, 4, 5)):
            check(F.softmin, tf.softmin, rng.standard_normal(shape))
    for module, ref in ((nn.Unflatten(1, (3, -1)), torch.nn.Unflatten(1, (3, -1))),
                        (nn.PairwiseDistance(1.0, keepdim=True), torch.nn.PairwiseDistance(1.0, keepdim=True))):
        assert repr(module) == repr(ref)


# ------------------------------------------------------------------ the cuda device

@pytest.mark.cuda_sim
@pytest.mark.gpu
def test_the_cuda_device_gives_the_cpus_values_and_gradients(rng):
    x = rng.standard_normal((4, 6)) * 3
    y = rng.standard_normal((4, 6))
    fns = [F.elu, F.selu, F.silu, F.mish, F.softplus, F.hardtanh, F.relu6, F.hardswish, F.hardsigmoid,
           F.logsigmoid, F.softshrink, F.hardshrink, lambda t: F.glu(t, 1), lambda t: F.softmin(t, 1),
           F.normalize, lambda t: F.cosine_similarity(t, t * 0.5 + 1), lambda t: F.pairwise_distance(t, t + 1),
           F.pdist, lambda t: F.prelu(t, tg.tensor([0.1], dtype=t.dtype, device=t.device))]
    for fn in fns:
        results = []
        for device in ("cpu", "cuda"):
            a = tg.tensor(x, requires_grad=True, device=device)
            out = fn(a)
            (out * tg.tensor(np.resize(y, out.shape), device=device)).sum().backward()
            results.append((out.detach().cpu().numpy(), a.grad.cpu().numpy()))
        np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10, atol=1e-12)
    tg.manual_seed(0)
    out = F.rrelu(tg.tensor(-np.abs(x), device="cuda"), training=True)
    slopes = out.cpu().numpy() / -np.abs(x)
    assert out.device.type == "cuda" and slopes.min() >= 1 / 8 and slopes.max() < 1 / 3
    assert F.one_hot(tg.tensor([0, 2], device="cuda")).device.type == "cuda"
