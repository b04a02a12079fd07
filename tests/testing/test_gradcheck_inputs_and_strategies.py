"""The testing tools' own guarantees: gradcheck, gradgradcheck and check_grads
leave every input exactly as it was in every mode (element by element or fast,
passing, failing with an exception or with False, and when fn itself raises at a
shifted input), and the Hypothesis strategies do draw each case they document
(with and without weight and bias, well and badly scaled data, each eps, group
count and normalized_shape length), so a test built on them meets every case."""
import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import GradcheckError, check_grads, gradcheck, gradgradcheck
from tinygrad_bn.testing import strategies as tst


class _HalfSquare(tg.autograd.Function):
    """y = x * x with backward g * x: half the true gradient."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x


class _DetachedSquare(tg.autograd.Function):
    """y = x * x with the right backward, computed from a detached x: its second derivative is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * x.detach()


class _DoubleWithTripleGradient(tg.autograd.Function):
    """y = 2 x with backward 3 g: a wrong gradient that does not depend on x, so its own
    derivatives (0 in x, 3 in g) are consistent and gradgradcheck alone passes it."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return 3 * g


def _inputs():
    rng = np.random.default_rng(11)
    x = tg.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    w = tg.tensor(np.ascontiguousarray(rng.standard_normal((4, 2)).T).T, requires_grad=True)  # Fortran order
    c = tg.tensor(rng.standard_normal(4))  # a constant: not checked, and not to be touched either
    return x, w, c


def _good(x, w, c):
    return ((x * c) @ w).tanh()


def _raising_at(call):
    """fn that raises on its ``call``-th evaluation (2: at x + eps, 3: at x - eps)."""
    calls = [0]

    def fn(x, w, c):
        calls[0] += 1
        if calls[0] == call:
            raise FloatingPointError("fn failed at a shifted input")
        return _good(x, w, c)
    return fn


def _half_square(x, w, c):
    return _HalfSquare.apply(x) @ w + c.sum()


def _detached_square(x, w, c):
    return _DetachedSquare.apply(x) @ w


def _wrong_linear(x, w, c):
    return _DoubleWithTripleGradient.apply(x) + (w * w).sum()


OUTCOMES = {  # name -> (checker, a function making fn, what the check must do)
    "gradcheck passes": (gradcheck, lambda: _good, True),
    "gradcheck raises": (gradcheck, lambda: _half_square, GradcheckError),
    "gradcheck returns False": (lambda *a, **k: gradcheck(*a, raise_exception=False, **k), lambda: _half_square,
                                False),
    "fn raises at x + eps": (gradcheck, lambda: _raising_at(2), FloatingPointError),
    "fn raises at x - eps": (gradcheck, lambda: _raising_at(3), FloatingPointError),
    "gradgradcheck passes": (gradgradcheck, lambda: _good, True),
    "gradgradcheck raises": (gradgradcheck, lambda: _detached_square, GradcheckError),
    "check_grads order 2 passes": (lambda *a, **k: check_grads(*a, order=2, **k), lambda: _good, True),
    "gradgradcheck passes a wrong but consistent gradient": (gradgradcheck, lambda: _wrong_linear, True),
    "check_grads order 2 returns False on a wrong gradient": (
        lambda *a, **k: check_grads(*a, order=2, raise_exception=False, **k), lambda: _wrong_linear, False),
    "check_grads order 2 raises on a lost second derivative": (
        lambda *a, **k: check_grads(*a, order=2, **k), lambda: _detached_square, GradcheckError),
}


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("outcome", list(OUTCOMES))
def test_every_check_leaves_its_inputs_exactly_as_they_were(outcome, fast_mode):
    checker, make_fn, want = OUTCOMES[outcome]
    inputs = _inputs()
    before = [t.detach().numpy().copy() for t in inputs]
    if isinstance(want, type):
        with pytest.raises(want):
            checker(make_fn(), inputs, fast_mode=fast_mode)
    else:
        assert checker(make_fn(), inputs, fast_mode=fast_mode) is want
    for t, b in zip(inputs, before):
        got = t.detach().numpy()
        np.testing.assert_array_equal(got, b)
        assert np.array_equal(np.signbit(got), np.signbit(b))  # not even -0.0 for 0.0


# ------------------------------------------------------------------ strategies' power
FIND = settings(max_examples=400, database=None)


def found(strategy, condition):
    """An example of ``strategy`` meeting ``condition`` (Hypothesis's find raises if none turns up)."""
    return find(strategy, condition, settings=FIND)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
def test_normalization_inputs_draw_with_and_without_weight_and_bias_when_affine_is_none(kind):
    with_affine = found(tst.normalization_inputs(kind), lambda c: c.weight is not None)
    pshape = with_affine.params["normalized_shape"] if kind == "layer" else (with_affine.x.shape[1],)
    assert with_affine.weight.shape == with_affine.bias.shape == pshape
    without = found(tst.normalization_inputs(kind), lambda c: c.weight is None)
    assert without.bias is None


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@given(data=st.data())
def test_affine_true_and_false_are_kept(kind, data):
    on = data.draw(tst.normalization_inputs(kind, affine=True))
    off = data.draw(tst.normalization_inputs(kind, affine=False))
    assert on.weight is not None and on.bias is not None and off.weight is None and off.bias is None
    out = on.call(tg.tensor(on.x), tg.tensor(on.weight), tg.tensor(on.bias))  # the op takes them
    assert out.shape == on.x.shape


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_well_scaled_normalization_inputs_alternate_around_zero_by_half_to_one_and_a_half(kind, data):
    """The promise that bounds each group's variance away from 0: a +-1 pattern
    plus noise of at most 0.5, so every value is 0.5 to 1.5 from zero, and both
    signs are in each group of two or more values."""
    case = data.draw(tst.normalization_inputs(kind, scale="well"))
    x = np.abs(case.x.astype(float))
    assert ((x >= 0.5 - 1e-12) & (x <= 1.5 + 1e-12)).all(), case.x
    grouped, axes = case.grouped(case.x.astype(float))
    assert (grouped > 0).any(axis=axes).all() and (grouped < 0).any(axis=axes).all()


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
def test_normalization_inputs_draw_each_scale_eps_and_rank(kind):
    strategy = tst.normalization_inputs(kind)
    found(strategy, lambda c: abs(c.x.mean()) > 100)  # riding on a large offset
    found(strategy, lambda c: abs(c.x).max() < 10)  # well scaled
    for eps in (1e-5, 1e-3):
        found(strategy, lambda c, eps=eps: c.params["eps"] == eps)
    for ndim in range(3 if kind == "instance" else 2, 5):
        found(strategy, lambda c, ndim=ndim: c.x.ndim == ndim)


def _group_stds(case):
    grouped, axes = case.grouped(case.x.astype(np.float64))
    return grouped.std(axis=axes)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
def test_badly_scaled_normalization_inputs_draw_narrow_and_wide_spreads_on_their_offset(kind):
    """scale="bad" puts each group's values on a large offset with a spread of 0.1, 1 or 10:
    a narrow spread on a big offset is where a one-pass variance loses its digits."""
    bad = tst.normalization_inputs(kind, scale="bad")
    narrow = found(bad, lambda c: _group_stds(c).max() < 0.3)
    assert abs(narrow.x).min() > 200
    found(bad, lambda c: _group_stds(c).min() > 3)


def test_group_and_layer_inputs_draw_each_grouping():
    group = tst.normalization_inputs("group")
    found(group, lambda c: c.params["num_groups"] == 1 and c.x.shape[1] > 1)
    found(group, lambda c: c.params["num_groups"] == c.x.shape[1] >= 3)  # instance-like: one channel per group
    found(group, lambda c: 1 < c.params["num_groups"] < c.x.shape[1])
    layer = tst.normalization_inputs("layer")
    found(layer, lambda c: len(c.params["normalized_shape"]) == 1)
    found(layer, lambda c: len(c.params["normalized_shape"]) >= 2)


def test_arrays_and_tensors_draw_each_scale():
    found(tst.arrays(scale="any"), lambda a: abs(a).min() >= 900)
    found(tst.arrays(scale="any"), lambda a: abs(a).max() <= 2)
    found(tst.tensors(scale="any"), lambda t: abs(t.detach().numpy()).min() >= 900)


@pytest.mark.parametrize("offset", [1e4, -1e4, 1e3, -1e3])
def test_badly_scaled_arrays_sit_on_each_documented_offset(offset):
    """scale="bad" is offset + spread * u, u in [-2, 2], on an offset of +-1e4 or +-1e3 exactly:
    a draw with the narrow spread (0.01) lies within 0.02 of it."""
    bad = tst.arrays(np.float64, (16,), scale="bad")
    found(bad, lambda a: abs(a.mean() - offset) < 0.03 and np.ptp(a) < 0.05)


def test_gradgradcheck_of_a_function_that_ignores_an_input():
    """An input the function does not use has zero derivatives, not an error (PyTorch's
    gradgradcheck passes allow_unused=True to its first derivatives too)."""
    x = tg.tensor([0.5, -1.0, 2.0], dtype=tg.float64, requires_grad=True)
    unused = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    assert gradgradcheck(lambda a, b: a * a * a, (x, unused))
    assert gradgradcheck(lambda a, b: (a * a).sum() * a, (x, unused), fast_mode=True)


def test_gradgradcheck_takes_one_tensor_as_grad_outputs():
    x = tg.tensor([[0.5, -1.0], [2.0, 1.5]], dtype=tg.float64, requires_grad=True)
    v = tg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=tg.float64)
    assert gradgradcheck(lambda a: a ** 3, (x,), grad_outputs=v)
    assert gradgradcheck(lambda a: a ** 3, (x,), grad_outputs=(v,))


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_normalization_inputs_keep_the_drawn_rank_but_for_a_group_of_one_value(kind, data):
    """Ranks 2 (3 for instance norm) to 4 and sides up to max_side, as drawn (a side
    of 1 raised to 2 where batch, instance or layer norm would see one value); only a
    group norm input whose every group would hold one value gets a fifth, trailing
    axis of 2, and then channels and trailing sides were all ones per group."""
    case = data.draw(tst.normalization_inputs(kind, max_side=3))
    shape = case.x.shape
    assert 2 <= len(shape) <= (5 if kind == "group" else 4) and max(shape) <= 3, shape
    if len(shape) == 5:
        assert shape[-1] == 2 and shape[1] == case.params["num_groups"] and shape[2:4] == (1, 1), shape
