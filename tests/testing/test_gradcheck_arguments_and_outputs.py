"""gradcheck, gradgradcheck and check_grads: their refusals name the function, the
argument, what it got and what it expects; their defaults are PyTorch's
(eps=1e-6, atol=1e-5, rtol=1e-3); every output and every input takes part (several
outputs, an output that does not require grad, an input the function ignores, constants
of any dtype and plain numbers beside the checked inputs, a size-0 input); a failure
names the input, its shape and the element; the seed picks the random draws; and
gradgradcheck checks the first derivatives as functions of grad_outputs too."""
import inspect
import re

import numpy as np
import pytest
from test_gradcheck_inputs_and_strategies import _DetachedSquare

import tinygrad_bn as tg
from tinygrad_bn.testing import GradcheckError, check_grads, gradcheck, gradgradcheck

BOTH_MODES = pytest.mark.parametrize("fast_mode", [False, True])


def _x(values=(0.5, -1.0, 2.0)):
    return tg.tensor(list(values), dtype=tg.float64, requires_grad=True)


# ------------------------------------------------------------------ refusals
def test_gradcheck_refuses_inputs_that_need_no_grad():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64)
    with pytest.raises(ValueError, match=r"^gradcheck: no input requires grad; create the inputs with "
                                         r"requires_grad=True"):
        gradcheck(lambda t: t * 2, (x, 3.0))


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_gradcheck_refuses_a_low_precision_input_that_requires_grad_naming_it(dtype):
    """Only the inputs that require grad must be float64: the error names the other one by its position."""
    a = _x()
    b = tg.tensor([1.0, 2.0, 3.0], dtype=getattr(tg, dtype), requires_grad=True)
    with pytest.raises(TypeError, match=rf"^gradcheck: input 1 is {dtype}; central differences need float64"):
        gradcheck(lambda u, v: u * v, (a, b))


@BOTH_MODES
def test_constants_of_any_dtype_and_plain_numbers_pass_through_unchecked(fast_mode):
    x = _x()
    c32 = tg.tensor([1.5, 2.0, -0.5], dtype=tg.float32)
    assert gradcheck(lambda t, c, k: (t * c.double()) * k, (x, c32, 3.0), fast_mode=fast_mode)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize("returned", [None, 2.0, (), [np.ones(3)]], ids=["None", "float", "empty", "array"])
def test_fn_must_return_tensors(check, returned):
    name = check.__name__
    got = type(returned).__name__
    with pytest.raises(TypeError, match=rf"^{name}: fn must return a Tensor or a tuple of Tensors, got {got}$"):
        check(lambda t: returned, (_x(),))


def test_fn_must_return_tensors_at_the_shifted_inputs_too():
    calls = []

    def first_call_only(t):
        calls.append(1)
        return t * t if len(calls) == 1 else t.detach().numpy()

    with pytest.raises(TypeError, match=r"^gradcheck: fn must return a Tensor or a tuple of Tensors, got ndarray$"):
        gradcheck(first_call_only, (_x(),))


def test_gradgradcheck_wants_one_grad_output_per_differentiable_output():
    """Outputs that do not require grad take no grad_output: one is right for (constant, x*x), two are too many."""
    x = _x()

    def f(t):
        return tg.ones(3, dtype=tg.float64), t * t

    v = tg.tensor([1.0, -2.0, 0.5], dtype=tg.float64)
    assert gradgradcheck(f, (x,), grad_outputs=(v,))
    with pytest.raises(ValueError, match=r"^gradgradcheck: got 2 grad_outputs for 1 differentiable outputs; "
                                         r"expected one per output that requires grad$"):
        gradgradcheck(f, (x,), grad_outputs=(v, v))
    with pytest.raises(ValueError, match=r"^gradgradcheck: got 1 grad_outputs for 2 differentiable outputs"):
        gradgradcheck(lambda t: (t * t, t * t * t), (x,), grad_outputs=v)


@pytest.mark.parametrize("order", [0, 3, "2", True])
def test_check_grads_refuses_an_order_other_than_1_or_2(order):
    with pytest.raises(ValueError, match=rf"^check_grads: order must be 1 or 2, got {order!r}$"):
        check_grads(lambda t: t * t, (_x(),), order=order)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
@pytest.mark.parametrize(("option", "value", "error", "wanted"), [
    ("n_directions", 0, ValueError, "must be >= 1, got 0"),  # fast mode would compare nothing and pass
    ("n_directions", 2.0, TypeError, "must be an int, got float 2.0"),
    ("eps", 0.0, ValueError, "must be > 0.0, got 0.0"),
    ("eps", float("nan"), ValueError, "must be a finite number, got nan"),
    ("atol", -1e-5, ValueError, "must be >= 0.0, got -1e-05"),
    ("rtol", "1e-3", TypeError, "must be a number, got str '1e-3'"),
])
def test_a_step_tolerance_or_direction_count_out_of_range_is_refused_by_name(check, option, value, error, wanted):
    """A check that cannot fail is worse than none: no directions, a zero step or a
    negative tolerance are refused before fn runs, naming the check and the option."""
    called = []
    with pytest.raises(error, match=rf"^{check.__name__}: {option} {re.escape(wanted)}$"):
        check(lambda t: called.append(1) or t * t, (_x(),), fast_mode=True, **{option: value})
    assert called == []


# ------------------------------------------------------------------ defaults
def test_the_defaults_are_pytorchs():
    """torch.autograd.gradcheck(eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, fast_mode=False);
    gradgradcheck the same, with grad_outputs=None."""
    for check in (gradcheck, gradgradcheck):
        p = inspect.signature(check).parameters
        assert (p["eps"].default, p["atol"].default, p["rtol"].default) == (1e-6, 1e-5, 1e-3)
        assert p["fast_mode"].default is False and p["raise_exception"].default is True
        assert p["seed"].default == 0 and p["n_directions"].default == 4
    assert inspect.signature(gradgradcheck).parameters["grad_outputs"].default is None
    assert inspect.signature(check_grads).parameters["order"].default == 1


def _scaled(scale, backward):
    """y = scale * x, with ``backward(g)`` as its gradient (right or deliberately off)."""

    class Scaled(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return backward(g)

    return Scaled.apply


def _off_by(absolute):
    """y = x (constant gradient 1 * projection) with backward g + absolute: a fixed absolute error."""
    return _scaled(1.0, lambda g: g + absolute)


def _relatively_off(delta):
    """y = 100 x with backward g * 100 (1 + delta): a relative error of delta, far above atol."""
    return _scaled(100.0, lambda g: g * (100.0 * (1 + delta)))


def _zero_off(absolute):
    """y = 0 x with backward 0 g + absolute: an absolute error on a zero gradient, where rtol adds nothing."""
    return _scaled(0.0, lambda g: g * 0.0 + absolute)


@BOTH_MODES
def test_the_default_tolerances_at_work(fast_mode):
    """|analytic - numeric| <= 1e-5 + 1e-3 * |numeric|: a relative error of 5e-4 passes and one of
    2e-3 fails; on a zero gradient an absolute error of 5e-6 passes and one of 5e-5 fails."""
    assert gradcheck(_relatively_off(5e-4), _x(), fast_mode=fast_mode)
    assert not gradcheck(_relatively_off(2e-3), _x(), fast_mode=fast_mode, raise_exception=False)
    x1 = tg.tensor([0.7], dtype=tg.float64, requires_grad=True)
    assert gradcheck(_zero_off(5e-6), x1, fast_mode=fast_mode)
    assert not gradcheck(_zero_off(5e-5), x1, fast_mode=fast_mode, raise_exception=False)


# ------------------------------------------------------------------ every output and input
class _Pair(tg.autograd.Function):
    """(x * x, 3 x) with the right backward for both outputs."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return 2 * g1 * x + 3 * g2


@BOTH_MODES
@pytest.mark.parametrize("fn", [_Pair.apply, lambda t: (t * t, t.sin(), t.exp())], ids=["Function", "tuple"])
def test_a_right_backward_through_several_outputs_passes(fn, fast_mode):
    """Every output counts, each with its own weight, in the analytic and in the numeric side alike."""
    assert gradcheck(fn, _x(), fast_mode=fast_mode)
    assert gradgradcheck(fn, _x(), fast_mode=fast_mode)


class _PairWrongFirst(_Pair):
    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        return 3 * g1 * x + 3 * g2


@BOTH_MODES
def test_a_wrong_gradient_through_the_first_of_two_outputs_fails(fast_mode):
    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(_PairWrongFirst.apply, _x(), fast_mode=fast_mode)


@BOTH_MODES
def test_an_output_that_needs_no_grad_must_not_depend_on_the_input(fast_mode):
    """Its analytic gradient is zero: a constant output passes, a detached function of x fails (as in PyTorch)."""
    assert gradcheck(lambda t: tg.ones(3, dtype=tg.float64), _x(), fast_mode=fast_mode)
    assert not gradcheck(lambda t: (t * 2).detach(), _x(), fast_mode=fast_mode, raise_exception=False)


@BOTH_MODES
def test_an_input_the_function_ignores_has_a_zero_gradient(fast_mode):
    x, unused = _x(), _x((1.0, 2.0))
    assert gradcheck(lambda a, b: a.tanh(), (x, unused), fast_mode=fast_mode)
    assert gradcheck(lambda a, b: a.tanh(), (unused, x), fast_mode=fast_mode)


@BOTH_MODES
def test_a_size_0_input_has_nothing_to_compare(fast_mode):
    empty = tg.tensor(np.zeros((0, 3)), dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda e, t: (e * 2, t * t), (empty, _x()), fast_mode=fast_mode)


# ------------------------------------------------------------------ where a failure is
def _wrong_at(bad_index):
    """y = a * c with c's element at ``bad_index`` given a wrong gradient (2 c) in backward."""

    class WrongAt(tg.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 1.5

        @staticmethod
        def backward(ctx, g):
            scale = np.full(g.shape, 1.5)
            scale[bad_index] = 3.0
            return g * tg.tensor(scale, dtype=tg.float64)

    return WrongAt.apply


@pytest.mark.parametrize("bad_index", [(0, 0), (1, 2), (0, 1)])
def test_the_error_names_the_input_its_shape_and_the_element(bad_index):
    """The input by its position among all the arguments, constants included."""
    a = tg.tensor(np.arange(6.0).reshape(2, 3) / 7, dtype=tg.float64, requires_grad=True)
    b = tg.tensor(np.arange(6.0).reshape(2, 3) / 5 - 0.4, dtype=tg.float64, requires_grad=True)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda k, u, v: u.sin() * k + _wrong_at(bad_index)(v), (2.0, a, b))
    err = info.value
    assert err.input_index == 2 and err.index == bad_index
    assert err.analytic == pytest.approx(2 * err.numeric, rel=1e-6)
    assert str(err).startswith(f"gradcheck failed for input 2 (shape (2, 3)) at index {bad_index}: "
                               f"analytic {err.analytic:.6g}, numeric {err.numeric:.6g}")


def test_the_fast_mode_error_names_the_input_its_shape_and_the_direction():
    """The input by its position among all the arguments, constants included."""
    a = tg.tensor(np.arange(6.0).reshape(2, 3) / 7, dtype=tg.float64, requires_grad=True)
    b = tg.tensor(np.arange(6.0).reshape(2, 3) / 5 - 0.4, dtype=tg.float64, requires_grad=True)
    c = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda k, u, v: (u * k).sin() + _off_by(1.0)(v), (c, a, b), fast_mode=True)
    err = info.value
    assert err.input_index == 2 and err.index == "direction 0"
    assert str(err).startswith("gradcheck (fast mode) failed for input 2 (shape (2, 3)) along random direction 0: "
                               f"analytic {err.analytic:.6g}, numeric {err.numeric:.6g}")


def test_gradcheck_is_also_a_namespace_holding_its_error():
    """``torch.autograd.gradcheck.GradcheckError``: scripts reach the error through the function."""
    assert gradcheck.GradcheckError is GradcheckError and issubclass(GradcheckError, AssertionError)


# ------------------------------------------------------------------ the seed
def _failure(seed, fast_mode):
    with pytest.raises(GradcheckError) as info:
        gradcheck(_off_by(1.0), _x(), seed=seed, fast_mode=fast_mode)
    return info.value.analytic, info.value.numeric


@BOTH_MODES
def test_each_seed_draws_its_own_projection_and_directions(fast_mode):
    """The numeric value compared depends on the random projection (and fast mode's directions):
    the same seed gives the same numbers, each other seed others; seed 0 is the default."""
    seen = {seed: _failure(seed, fast_mode) for seed in (0, 1, 2, 7)}
    values = list(seen.values())
    assert all(values[i] != values[j] for i in range(len(values)) for j in range(i))
    assert _failure(1, fast_mode) == seen[1]
    with pytest.raises(GradcheckError) as info:
        gradcheck(_off_by(1.0), _x(), fast_mode=fast_mode)
    assert (info.value.analytic, info.value.numeric) == seen[0]


# ------------------------------------------------------------------ gradgradcheck's grad_outputs
class _UpstreamDetached(tg.autograd.Function):
    """y = 2 x with backward 2 * g.detach(): the right value, but the gradient's own
    dependence on g (2) is lost."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        return 2 * g.detach()


@BOTH_MODES
def test_gradgradcheck_checks_the_first_derivatives_in_grad_outputs_too(fast_mode):
    """Random grad_outputs require grad, so a backward that cuts its upstream gradient off fails
    (as in PyTorch); grad_outputs given without requires_grad are held fixed, and it passes."""
    x = _x()
    assert gradcheck(_UpstreamDetached.apply, x, fast_mode=fast_mode)
    assert not gradgradcheck(_UpstreamDetached.apply, x, fast_mode=fast_mode, raise_exception=False)
    with pytest.raises(GradcheckError, match="input 1"):
        gradgradcheck(_UpstreamDetached.apply, x, fast_mode=fast_mode)
    fixed = tg.tensor([1.0, -0.5, 2.0], dtype=tg.float64)
    assert gradgradcheck(_UpstreamDetached.apply, x, grad_outputs=fixed, fast_mode=fast_mode)
    assert not gradgradcheck(_UpstreamDetached.apply, x, grad_outputs=fixed.requires_grad_(), fast_mode=fast_mode,
                             raise_exception=False)


def test_check_grads_checks_second_derivatives_only_at_order_2():
    """_DetachedSquare's first derivative is right and its second is lost."""
    x = _x()
    assert check_grads(_DetachedSquare.apply, (x,))
    assert check_grads(_DetachedSquare.apply, (x,), order=1)
    assert not check_grads(_DetachedSquare.apply, (x,), order=2, raise_exception=False)


# ------------------------------------------------------------------ arguments passed on
@BOTH_MODES
def test_eps_is_the_central_difference_step(fast_mode):
    """A central difference of x**3 with step h is 3 x**2 + h**2, of the derivative of x**4 (4 x**3) it is
    12 x**2 + 4 h**2: exact enough at the default step, off by far more than the tolerance at h = 0.3.
    Of a quadratic it is exact at any step, as long as both sides are taken h away."""
    x = _x()
    assert gradcheck(lambda t: t * t - 3 * t, x, eps=0.3, fast_mode=fast_mode)
    assert gradgradcheck(lambda t: t ** 3, x, eps=0.3, fast_mode=fast_mode)
    assert gradcheck(lambda t: t ** 3, x, fast_mode=fast_mode)
    assert not gradcheck(lambda t: t ** 3, x, eps=0.3, fast_mode=fast_mode, raise_exception=False)
    assert gradgradcheck(lambda t: t ** 4, x, fast_mode=fast_mode)
    assert not gradgradcheck(lambda t: t ** 4, x, eps=0.3, fast_mode=fast_mode, raise_exception=False)


@BOTH_MODES
def test_gradgradcheck_passes_its_tolerances_on(fast_mode):
    """_UpstreamDetached's first derivative has analytic 0 against numeric 2 in grad_outputs: within
    atol=100, and within rtol=1.5 of the numeric value, but not within the defaults."""
    x = _x()
    assert not gradgradcheck(_UpstreamDetached.apply, x, fast_mode=fast_mode, raise_exception=False)
    assert gradgradcheck(_UpstreamDetached.apply, x, atol=100.0, rtol=0.0, fast_mode=fast_mode)
    assert gradgradcheck(_UpstreamDetached.apply, x, atol=0.0, rtol=1.5, fast_mode=fast_mode)


def test_gradgradcheck_passes_the_seed_and_fast_mode_on(monkeypatch):
    import sys
    module = sys.modules["tinygrad_bn.testing.gradcheck"]
    seen = []
    real = module.gradcheck

    def spy(fn, inputs, **kw):
        seen.append(kw)
        return real(fn, inputs, **kw)

    monkeypatch.setattr(module, "gradcheck", spy)
    gradgradcheck(lambda t: t * t * t, _x(), seed=5, fast_mode=True, n_directions=2, eps=1e-5)
    assert {k: seen[0][k] for k in ("seed", "fast_mode", "n_directions", "eps")} == \
        {"seed": 5, "fast_mode": True, "n_directions": 2, "eps": 1e-5}


@pytest.mark.parametrize("fast_mode", [False, True])
def test_check_grads_passes_its_keywords_to_the_second_order_check_too(fast_mode):
    """A first derivative right in x but cut off from its upstream gradient passes gradcheck and fails
    gradgradcheck: check_grads(order=2, raise_exception=False) then returns False, not raises."""
    x = _x()
    assert check_grads(_UpstreamDetached.apply, x, order=1, fast_mode=fast_mode)
    assert check_grads(_UpstreamDetached.apply, x, order=2, raise_exception=False, fast_mode=fast_mode) is False
    assert check_grads(_UpstreamDetached.apply, x, order=2, atol=100.0, fast_mode=fast_mode)
