"""The less travelled paths of tinygrad_bn.distributions: what the Distribution
base class says for statistics a subclass leaves out, the example a failed
support check gives when the constraint returns one answer for the whole value,
the constraints' reprs, entropy and support of empty batches (Poisson,
Binomial), parameters of two float dtypes, values of another dtype given to
Gamma.log_prob, param_shape, and the parameters an Independent reports.
Expected numbers are closed forms or PyTorch's, written out here."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.distributions import (
    Bernoulli,
    Binomial,
    Distribution,
    Gamma,
    Geometric,
    Independent,
    Normal,
    Poisson,
    constraints,
)
from tinygrad_bn.distributions.kl import _Match
from tinygrad_bn.testing import gradcheck


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


# ------------------------------------------------------------------ what the base class leaves out


class Bare(Distribution):
    """A subclass that defines nothing: every statistic is the base class's refusal."""


@pytest.mark.parametrize("read, says", [
    (lambda d: d.mean, "Bare has no mean here"),
    (lambda d: d.mode, "Bare has no mode here"),
    (lambda d: d.variance, "Bare has no variance here"),
    (lambda d: d.stddev, "Bare has no variance here"),  # the square root of the variance
    (lambda d: d.entropy(), r"Bare\.entropy is not implemented"),
    (lambda d: d.perplexity(), r"Bare\.entropy is not implemented"),  # exp(entropy)
    (lambda d: d.log_prob(tg.zeros(1)), r"Bare\.log_prob is not implemented"),
    (lambda d: d.arg_constraints, "Bare does not define arg_constraints"),
])
def test_the_base_class_names_the_subclass_that_left_a_statistic_out(read, says):
    # PyTorch raises NotImplementedError for each (with an empty message)
    with pytest.raises(NotImplementedError, match=says):
        read(Bare())


def test_a_constraint_without_a_check_refuses_to_check():
    class Anything(constraints.Constraint):
        pass

    # PyTorch's Constraint.check raises NotImplementedError too
    with pytest.raises(NotImplementedError):
        Anything().check(tg.zeros(2))
    assert str(Anything()) == "valid values" and repr(Anything()) == "Anything()"


# ------------------------------------------------------------------ a support checked as a whole


class _SumAtMostOne(constraints.Constraint):
    """Values summing to at most 1: one answer (0-d) for the whole value, not one per element."""

    text = "values summing to at most 1"

    def check(self, value):
        return value.detach().sum() <= 1


class Capped(Distribution):
    """A user's distribution whose support is checked as a whole, as PyTorch scripts write them."""

    arg_constraints = {"loc": constraints.real}  # noqa: RUF012 -- PyTorch's class attribute
    support = _SumAtMostOne()

    def __init__(self, loc, validate_args=None):
        self.loc = loc
        super().__init__(batch_shape=loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return value - self.loc


def test_a_value_outside_a_whole_value_support_is_shown_by_its_first_element():
    # the check's one answer cannot be lined up with the elements: the first element is the example
    d = Capped(tg.zeros(3))
    with pytest.raises(ValueError, match=r"Capped\.log_prob: expected a value in the support \(values summing to "
                                         r"at most 1\), but 1 of the values are not \(e\.g\. 0\.25\)"):
        d.log_prob(tg.tensor([0.25, 0.5, 0.75]))


def test_a_value_inside_a_whole_value_support_is_taken():
    d = Capped(tg.tensor([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(d.log_prob(tg.tensor([0.25, 0.25, 0.5])).numpy(), [0.25, -0.75, -1.5])


def test_an_element_outside_a_per_element_support_is_shown_as_the_example():
    # the usual path, for contrast: the first bad element, not the first element
    with pytest.raises(ValueError, match=r"Poisson\.log_prob: expected a value in the support \(whole numbers >= "
                                         r"0\), but 1 of the values are not \(e\.g\. 1\.5\)"):
        Poisson(tg.ones(3)).log_prob(tg.tensor([1.0, 1.5, 2.0]))


# ------------------------------------------------------------------ constraints' reprs


def test_an_independent_constraint_shows_its_base_and_the_dims_it_reinterprets():
    # PyTorch's reprs, character for character
    assert repr(constraints.real_vector) == "IndependentConstraint(Real(), 1)"
    wide = constraints.independent(constraints.positive, 2)
    assert repr(wide) == "IndependentConstraint(GreaterThan(lower_bound=0.0), 2)" and wide.event_dim == 2
    # over a base with an event dim of its own, only the reinterpreted dims are shown
    nested = constraints.independent(constraints.simplex, 1)
    assert repr(nested) == "IndependentConstraint(Simplex(), 1)" and nested.event_dim == 2


def test_a_multinomial_constraint_shows_its_upper_bound():
    # PyTorch shows "Multinomial()"; here the bound is shown, as GreaterThan shows its own
    assert repr(constraints.multinomial(5)) == "Multinomial(upper_bound=5)"
    assert repr(constraints.multinomial(12)) == "Multinomial(upper_bound=12)"


# ------------------------------------------------------------------ empty batches


@pytest.mark.parametrize("shape", [(0,), (0, 3), (2, 0)])
def test_poisson_entropy_of_an_empty_batch_is_empty(shape):
    rate = tg.zeros(*shape, requires_grad=True)
    h = Poisson(rate).entropy()
    assert h.shape == shape and h.dtype == rate.dtype
    h.sum().backward()
    assert rate.grad.shape == shape


def test_poisson_entropy_of_a_one_element_batch_is_the_sum_over_counts():
    # -sum_k P(k) log P(k) with P(k) = 2^k e^-2 / k!; PyTorch has no Poisson entropy to compare with
    log_p = [k * math.log(2.0) - 2.0 - math.lgamma(k + 1) for k in range(100)]
    want = -sum(math.exp(lp) * lp for lp in log_p)
    assert want == pytest.approx(1.7048826439329834, rel=1e-14)
    h = Poisson(t64([2.0])).entropy()
    assert h.shape == (1,)
    assert h.item() == pytest.approx(want, rel=1e-12)
    assert gradcheck(lambda r: Poisson(r).entropy(), (t64([2.0], requires_grad=True),))


def test_binomial_of_an_empty_batch_has_the_single_count_0():
    # no total_count to read: the support is {0}, (1,) + batch_shape, and the entropy is empty
    d = Binomial(tg.zeros(0), probs=tg.zeros(0))
    assert d.enumerate_support().shape == (1, 0)
    assert d.enumerate_support(expand=False).shape == (1, 1)
    assert d.enumerate_support(expand=False).tolist() == [[0.0]]
    assert d.entropy().shape == (0,)


def test_binomial_of_one_total_count_enumerates_its_counts():
    # the non-empty side: counts 0 .. 3, and the entropy over them
    d = Binomial(t64([3.0]), probs=t64([0.25]))
    assert d.enumerate_support(expand=False).tolist() == [[0.0], [1.0], [2.0], [3.0]]
    p = np.array([math.comb(3, k) * 0.25 ** k * 0.75 ** (3 - k) for k in range(4)])
    assert d.entropy().item() == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)


# ------------------------------------------------------------------ parameters and values of two dtypes


def test_parameters_of_two_float_dtypes_give_a_float64_log_prob():
    # loc float32, scale float64: PyTorch's log_prob is float64 too, with the gradient in each leaf's dtype
    loc = tg.tensor(0.5, requires_grad=True)
    scale = t64(2.0, requires_grad=True)
    d = Normal(loc, scale)
    lp = d.log_prob(t64(1.25))
    assert lp.dtype == tg.float64
    z = (1.25 - 0.5) / 2.0
    assert lp.item() == pytest.approx(-0.5 * z * z - math.log(2.0) - 0.5 * math.log(2 * math.pi), rel=1e-12)
    lp.backward()
    assert loc.grad.dtype == tg.float32 and scale.grad.dtype == tg.float64
    assert loc.grad.item() == pytest.approx(z / 2.0, rel=1e-6)  # d/dloc = (x - loc) / scale^2
    assert scale.grad.item() == pytest.approx((z * z - 1) / 2.0, rel=1e-12)  # d/dscale = (z^2 - 1) / scale


@pytest.mark.parametrize("value, want", [
    (tg.tensor(1.5, dtype=tg.float64), 2 * math.log(3.0) + math.log(1.5) - 4.5),  # -1.8973, PyTorch's number
    (tg.tensor(1), 2 * math.log(3.0) - 3.0),                                      # -0.8028, PyTorch's number
])
def test_gamma_log_prob_reads_a_value_of_another_dtype_in_the_parameters_dtype(value, want):
    # Gamma(2, 3) in float32: log p(x) = 2 log 3 + log x - 3 x - lgamma(2); PyTorch's result is float32 too
    lp = Gamma(tg.tensor(2.0), tg.tensor(3.0)).log_prob(value)
    assert lp.dtype == tg.float32
    assert lp.item() == pytest.approx(want, rel=1e-6)


def test_gamma_log_prob_of_a_value_of_the_parameters_dtype():
    lp = Gamma(t64(2.0), t64(3.0)).log_prob(t64(1.5))
    assert lp.dtype == tg.float64
    assert lp.item() == pytest.approx(2 * math.log(3.0) + math.log(1.5) - 4.5, rel=1e-12)


# ------------------------------------------------------------------ param_shape


@pytest.mark.parametrize("family", [Bernoulli, Geometric])
@pytest.mark.parametrize("given", ["probs", "logits"])
def test_param_shape_is_the_batch_shape_and_follows_expand(family, given):
    # PyTorch's Bernoulli.param_shape is its parameter's size, (2, 3) here, and (4, 2, 3) once expanded
    value = tg.full((2, 3), 0.3)
    d = family(**{given: value})
    assert tuple(d.param_shape) == (2, 3)
    assert tuple(d.expand((4, 2, 3)).param_shape) == (4, 2, 3)


# ------------------------------------------------------------------ Independent's parameters


def test_independent_reports_its_base_distributions_parameters():
    loc, scale = tg.zeros(2, 3), tg.ones(2, 3)
    d = Independent(Normal(loc, scale), 1)
    names = [name for name, _ in d._params()]
    assert names == ["loc", "scale"]
    assert all(t.shape == (2, 3) for _, t in d._params())


# ------------------------------------------------------------------ kl's dispatch keys


def test_kl_dispatch_keys_hash_as_they_compare():
    # equal pairs of types are one key: they hash alike, so a set holds one
    a, b = _Match(Normal, Normal), _Match(Normal, Normal)
    assert a == b and hash(a) == hash(b)
    assert len({a, b, _Match(Normal, Gamma)}) == 2


def test_a_binomial_with_an_integer_count_and_a_number_for_probs_is_float():
    """total_count an int tensor, probs a Python number: the count becomes the default float
    (PyTorch 2.13 casts the probability to the count's int64 instead, so its mean is 0)."""
    from tinygrad_bn.distributions import Binomial

    d = Binomial(tg.tensor([3, 5]), probs=0.3)
    assert d.total_count.dtype == tg.float32 and d.mean.dtype == tg.float32
    np.testing.assert_allclose(d.mean.numpy(), [0.9, 1.5], rtol=1e-6)
    d64 = Binomial(tg.tensor([3, 5]), probs=tg.tensor([0.5, 0.25], dtype=tg.float64))
    assert d64.total_count.dtype == tg.float64
    np.testing.assert_array_equal(d64.mean.numpy(), [1.5, 1.25])
