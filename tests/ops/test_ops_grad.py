"""Every op's gradient against central differences in float64, on several
shapes including broadcasting, through a random projection of the output."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import GradcheckError, gradcheck
from conftest import leaf

BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5,), ())]


@pytest.mark.parametrize("sa,sb", BINARY_SHAPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "maximum", "minimum"])
def test_binary_ops(rng, op, sa, sb):
    positive = op in ("div", "pow")
    a, b = leaf(rng, *sa, positive=positive), leaf(rng, *sb, positive=positive)
    fns = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
        "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
        "maximum": tg.maximum, "minimum": tg.minimum,
    }
    assert gradcheck(fns[op], (a, b))


@pytest.mark.parametrize("fn", [
    lambda x: 2.5 + x, lambda x: x + 2.5, lambda x: 3 - x, lambda x: x - 3, lambda x: 2 * x,
    lambda x: x / 4, lambda x: 2 / x, lambda x: x ** 3, lambda x: x ** 0.5, lambda x: 2 ** x, lambda x: -x,
], ids=["radd", "add", "rsub", "sub", "rmul", "div", "rdiv", "pow3", "sqrt_pow", "rpow", "neg"])
def test_scalar_on_either_side(rng, fn):
    assert gradcheck(fn, leaf(rng, 3, 4, positive=True))


@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu",
                                  "leaky_relu", "gelu", "gelu_tanh", "clip"])
def test_unary_ops(rng, name, shape):
    positive = name in ("log", "sqrt")
    x = leaf(rng, *shape, positive=positive)
    if name in ("abs", "relu", "leaky_relu", "clip"):
        # keep away from the kink, where central differences are meaningless
        x._data[np.abs(x._data) < 1e-3] = 0.5
        x._data[np.abs(np.abs(x._data) - 0.5) < 1e-3] = 0.7
    fns = {
        "gelu_tanh": lambda t: t.gelu("tanh"),
        "clip": lambda t: t.clip(-0.5, 0.5),
        "leaky_relu": lambda t: t.leaky_relu(0.1),
    }
    assert gradcheck(fns.get(name, lambda t: getattr(t, name)()), x)


@pytest.mark.parametrize("sa,slo,shi", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((4,), (2, 4), ()),
                                        ((3, 4), (3, 4), None), ((3, 4), None, (4,))])
@pytest.mark.parametrize("name", ["clamp", "clip"])
def test_clamp_with_tensor_bounds(rng, name, sa, slo, shi):
    """Each bound gets the gradient where it is picked, summed back to its shape. The input lies
    in three bands (below min, between, above max) at least 0.2 from every bound: no kinks."""
    def band(shape, centre, width=0.2):
        return centre - width / 2 + width * rng.random(shape)

    a = tg.tensor(np.resize([-0.9, 0.0, 0.9], sa) + band(sa, 0.0), requires_grad=True)
    lo = None if slo is None else tg.tensor(band(slo, -0.5), requires_grad=True)
    hi = None if shi is None else tg.tensor(band(shi, 0.5), requires_grad=True)
    bounds = [t for t in (lo, hi) if t is not None]

    def fn(a, *bs):
        it = iter(bs)
        return getattr(tg, name)(a, next(it) if lo is not None else None, next(it) if hi is not None else None)
    assert gradcheck(fn, (a, *bounds))
    fn(a, *bounds).sum().backward()
    for t in bounds:
        assert t.grad is not None and t.grad.shape == t.shape and t.grad.numpy().sum() > 0


@pytest.mark.parametrize("kw", [{}, {"dim": 0}, {"dim": 1}, {"dim": (0, 2)}, {"dim": -1, "keepdim": True},
                                {"axis": 1, "keepdims": True}])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "var", "std"])
def test_reductions(rng, name, kw):
    x = leaf(rng, 3, 4, 5)
    assert gradcheck(lambda t: getattr(t, name)(**kw), x)


def test_var_correction_and_max_with_dim(rng):
    x = leaf(rng, 4, 6)
    assert gradcheck(lambda t: t.var(1, correction=0), x)
    assert gradcheck(lambda t: t.max(dim=1).values, x)
    assert gradcheck(lambda t: t.min(dim=0, keepdim=True).values, x)


def test_max_ties_share_gradient():
    x = tg.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 0.5])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(rng, name, dim):
    assert gradcheck(lambda t: getattr(t, name)(dim), leaf(rng, 3, 5))


def test_log_softmax_is_stable_for_large_logits():
    x = tg.tensor([[1000.0, 0.0, -1000.0]], requires_grad=True)
    out = x.log_softmax(-1)
    assert np.isfinite(out.detach().numpy()).all()
    np.testing.assert_allclose(out.detach().numpy()[0, 0], 0.0, atol=1e-6)
    sm = x.softmax(-1).detach().numpy()
    np.testing.assert_allclose(sm.sum(), 1.0, rtol=1e-6)
    (out * tg.tensor([[0.3, 0.5, 0.2]])).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("sa,sb", [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 2)), ((3, 4), (4, 2)),
                                   ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(rng, sa, sb):
    assert gradcheck(lambda a, b: a @ b, (leaf(rng, *sa), leaf(rng, *sb)))


def test_linear_op(rng):
    x, w, b = leaf(rng, 5, 3), leaf(rng, 4, 3), leaf(rng, 4)
    assert gradcheck(tg.nn.functional.linear, (x, w, b))
    assert gradcheck(tg.nn.functional.linear, (leaf(rng, 2, 5, 3), w))


def test_shape_ops(rng):
    x = leaf(rng, 2, 3, 4)
    assert gradcheck(lambda t: t.reshape(6, 4), x)
    assert gradcheck(lambda t: t.reshape(-1), x)
    assert gradcheck(lambda t: t.transpose(0, 2), x)
    assert gradcheck(lambda t: t.permute(1, 2, 0), x)
    assert gradcheck(lambda t: t.flatten(1), x)
    assert gradcheck(lambda t: t.unsqueeze(1).squeeze(1), x)
    assert gradcheck(lambda t: t.T, x)
    y = leaf(rng, 3, 1)
    assert gradcheck(lambda t: t.expand(3, 4), y)
    assert gradcheck(lambda t: t.expand(2, -1, 5), y)


@pytest.mark.parametrize("index", [1, -1, slice(1, 3), (slice(None), 2), (0, slice(None, None, 2)),
                                   np.array([0, 2, 2]), (np.array([0, 1]), np.array([3, 3])),
                                   (Ellipsis, 1), (None, 1)], ids=str)
def test_indexing(rng, index):
    assert gradcheck(lambda t: t[index], leaf(rng, 3, 4))


def test_indexing_with_tensor_and_repeats_accumulates():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[tg.tensor([0, 0, 2])].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 0, 1])


def test_cat_stack_where(rng):
    a, b = leaf(rng, 2, 3), leaf(rng, 2, 5)
    assert gradcheck(lambda a, b: tg.cat([a, b], dim=1), (a, b))
    c, d = leaf(rng, 2, 3), leaf(rng, 2, 3)
    assert gradcheck(lambda a, b: tg.stack([a, b], dim=1), (a, c))
    cond = tg.tensor(rng.standard_normal((2, 3)) > 0)
    assert gradcheck(lambda a, b: tg.where(cond, a, b), (c, d))
    assert gradcheck(lambda a, b: tg.where(cond, a, b), (c, leaf(rng, 3)))


def test_cast_and_clone(rng):
    x = leaf(rng, 3)
    assert gradcheck(lambda t: t.clone() * 2, x)
    y = x.float() * 2
    assert y.dtype == np.float32
    (y * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [2, 4, 6])


def test_comparisons_have_no_grad(rng):
    x = leaf(rng, 3)
    for r in (x > 0, x < 0, x >= 0, x <= 0, x == x, x != 0):
        assert not r.requires_grad and r.dtype == np.bool_


def test_losses(rng):
    logits = leaf(rng, 6, 4)
    target = tg.tensor([0, 3, 1, 2, 2, -100])
    for red in ("mean", "sum", "none"):
        assert gradcheck(lambda t: tg.nn.functional.cross_entropy(t, target, reduction=red), logits)
        assert gradcheck(lambda t: tg.nn.functional.nll_loss(t.log_softmax(1), target, reduction=red), logits)
        assert gradcheck(lambda t: tg.nn.functional.mse_loss(t, tg.zeros(6, 4, dtype=tg.float64), red), logits)


def test_gradcheck_catches_a_wrong_backward(rng):
    class BadSquare(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x  # should be 2 * g * x

    with pytest.raises(GradcheckError, match="input 0.*analytic.*numeric.*relative error"):
        gradcheck(BadSquare.apply, leaf(rng, 3))
    with pytest.raises(GradcheckError, match="fast mode"):
        gradcheck(BadSquare.apply, leaf(rng, 3), fast_mode=True)
    assert gradcheck(BadSquare.apply, leaf(rng, 3), raise_exception=False) is False


def test_gradcheck_requires_float64(rng):
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda t: t * 2, leaf(rng, 3, dtype=np.float32))


def test_std_of_a_constant_has_a_zero_gradient_as_in_pytorch():
    x = tg.tensor([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]], requires_grad=True)
    (x.std(1) * tg.tensor([1.0, 2.0])).sum().backward()
    g = x.grad.numpy()
    np.testing.assert_array_equal(g[1], [0.0, 0.0, 0.0])  # sqrt's chain rule gave 0 * inf = NaN
    row = np.array([1.0, 2.0, 4.0])
    np.testing.assert_allclose(g[0], (row - row.mean()) / (2 * row.std(ddof=1)), rtol=1e-6)  # d std / dx
    assert tg.tensor([5.0]).std().isnan().item()  # one value, correction 1: NaN, as in PyTorch


def test_x_to_the_power_zero_has_a_zero_gradient_at_zero():
    x = tg.tensor([0.0, 2.0], requires_grad=True)
    (x ** 0 * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    y = tg.tensor([0.0, 2.0], requires_grad=True)
    (y ** tg.tensor([0.0, 3.0]) * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 36.0])  # 3 * 3 * 2^2


@pytest.mark.parametrize("correction", [2, 3])
def test_var_and_std_without_degrees_of_freedom_are_pytorchs_and_differentiate(correction):
    """n - correction <= 0: PyTorch divides by max(0, n - correction), so inf where the values
    differ and NaN where they are all equal; the gradient is there in the input's shape (var's
    2 (x - mean) / 0 keeps the sign of x - mean; std's is NaN), not an error."""
    import warnings
    rows = np.array([[2.0, 3.0], [1.0, 1.0]])
    for fn in ("var", "std"):
        x = tg.tensor(rows, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = getattr(x, fn)(1, correction=correction)
            (out * tg.tensor([1.0, 2.0])).sum().backward()
        np.testing.assert_array_equal(out.detach().numpy(), [np.inf, np.nan])
        assert x.grad.shape == (2, 2)
        if fn == "var":
            np.testing.assert_array_equal(x.grad.numpy(), [[-np.inf, np.inf], [np.nan, np.nan]])
        else:
            assert np.isnan(x.grad.numpy()).all()


def test_var_and_std_take_pytorchs_older_positional_forms():
    """var(unbiased) and var(dim, unbiased, keepdim), as PyTorch still takes them, mean
    what the keyword forms mean; unbiased given twice or not a bool is refused."""
    rows = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 9.0]])
    x = tg.tensor(rows)
    for fn in ("var", "std"):
        f = getattr(x, fn)
        np.testing.assert_array_equal(f(False).numpy(), f(correction=0).numpy())
        np.testing.assert_array_equal(f(True).numpy(), f(correction=1).numpy())
        np.testing.assert_array_equal(f(0, False).numpy(), f(0, correction=0).numpy())
        np.testing.assert_array_equal(f(1, True, True).numpy(), f(1, correction=1, keepdim=True).numpy())
        assert f(1, False, True).shape == (2, 1)
        np.testing.assert_allclose(x.var(0, False).numpy(), rows.var(0))
        with pytest.raises(TypeError, match=rf"{fn}: unbiased must be a bool, got int 1"):
            f(0, 1)
        with pytest.raises(TypeError, match=rf"{fn}: takes \(dim, unbiased, keepdim\) by position, and unbiased once"):
            f(0, True, unbiased=False)
        with pytest.raises(TypeError, match=rf"{fn}: after unbiased=False nothing more goes by position"):
            f(False, 1)
