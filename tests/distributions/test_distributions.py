"""tinygrad_bn.distributions: Normal, Bernoulli and Categorical against float64
formulas written here (and torch.distributions when PyTorch is installed), their
draws' moments, reproducibility under manual_seed, gradients by gradcheck and
gradgradcheck, and every refusal."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import distributions
from tinygrad_bn.distributions import (
    Bernoulli,
    Categorical,
    Distribution,
    Normal,
    constraints,
)
from tinygrad_bn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def within(draws, mean, se, k=5.0):
    """|mean of draws - mean| within k standard errors."""
    return abs(float(np.mean(draws)) - mean) <= k * se


# ------------------------------------------------------------------ the package


def test_the_package_exports_the_distributions():
    assert {"Bernoulli", "Categorical", "Distribution", "Normal", "constraints", "kl_divergence"} <= set(distributions.__all__)
    assert all(hasattr(distributions, name) for name in distributions.__all__)
    assert all(issubclass(c, Distribution) for c in (Normal, Bernoulli, Categorical))
    assert Normal.has_rsample and not Bernoulli.has_rsample and not Categorical.has_rsample


# ------------------------------------------------------------------ Normal

LOC = np.array([-1.0, 0.5, 2.0])
SCALE = np.array([[0.5], [2.0]])
VALUE = np.array([[0.3, -1.2, 2.5], [4.0, 0.0, -3.0]])


def normal_log_prob(x, loc, scale):
    return -((x - loc) ** 2) / (2 * scale ** 2) - np.log(scale) - 0.5 * np.log(2 * np.pi)


def test_normal_log_prob_entropy_cdf_and_moments_are_the_formulas():
    d = Normal(t64(LOC), t64(SCALE))
    assert d.batch_shape == (2, 3) and d.event_shape == () and isinstance(d.batch_shape, tg.Size)
    np.testing.assert_allclose(d.log_prob(t64(VALUE)).numpy(), normal_log_prob(VALUE, LOC, SCALE), rtol=1e-13)
    entropy = 0.5 + 0.5 * np.log(2 * np.pi) + np.log(SCALE) + 0 * LOC
    np.testing.assert_allclose(d.entropy().numpy(), entropy, rtol=1e-13)
    cdf = np.vectorize(lambda x, m, s: 0.5 * (1 + math.erf((x - m) / (s * math.sqrt(2)))))(VALUE, LOC, SCALE)
    np.testing.assert_allclose(d.cdf(t64(VALUE)).numpy(), cdf, rtol=1e-12)
    np.testing.assert_array_equal(d.mean.numpy(), np.broadcast_to(LOC, (2, 3)))
    np.testing.assert_array_equal(d.mode.numpy(), np.broadcast_to(LOC, (2, 3)))
    np.testing.assert_array_equal(d.stddev.numpy(), np.broadcast_to(SCALE, (2, 3)))
    np.testing.assert_allclose(d.variance.numpy(), np.broadcast_to(SCALE ** 2, (2, 3)))
    assert d.log_prob(t64(VALUE)).dtype == np.float64


def test_normal_of_numbers_is_float32_and_numbers_follow_a_tensor_parameter():
    d = Normal(0.0, 1.0)
    assert d.batch_shape == () and d.loc.dtype == np.float32 and d.sample().shape == ()
    assert d.log_prob(tg.tensor(0.0)).item() == pytest.approx(-0.5 * math.log(2 * math.pi), rel=1e-6)
    d = Normal(t64([1.0, 2.0]), 3.0)
    assert d.scale.dtype == np.float64 and d.scale.shape == (2,) and d.batch_shape == (2,)


@needs_torch
def test_normal_agrees_with_torch():
    ours = Normal(t64(LOC), t64(SCALE))
    theirs = torch.distributions.Normal(torch.tensor(LOC), torch.tensor(SCALE))
    x = torch.tensor(VALUE)
    for a, b in [(ours.log_prob(t64(VALUE)), theirs.log_prob(x)), (ours.entropy(), theirs.entropy()),
                 (ours.cdf(t64(VALUE)), theirs.cdf(x)), (ours.variance, theirs.variance)]:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)


def test_normal_draws_have_its_mean_and_variance_and_carry_no_gradient():
    tg.manual_seed(0)
    loc = t64([-1.0, 2.0], requires_grad=True)
    scale = t64([0.5, 3.0], requires_grad=True)
    n = 20000
    x = Normal(loc, scale).sample((n,))
    assert x.shape == (n, 2) and not x.requires_grad and x.grad_fn is None
    x = x.numpy()
    for j, (m, s) in enumerate([(-1.0, 0.5), (2.0, 3.0)]):
        assert within(x[:, j], m, s / math.sqrt(n))
        # the sample variance has standard error about s^2 sqrt(2 / n)
        assert abs(x[:, j].var() - s * s) <= 5 * s * s * math.sqrt(2 / n)
    assert abs(np.corrcoef(x[:, 0], x[:, 1])[0, 1]) < 5 / math.sqrt(n)  # independent draws


def test_normal_draws_are_reproducible_under_manual_seed():
    d = Normal(tg.zeros(3), tg.ones(3))
    tg.manual_seed(7)
    a = d.sample((4,)).numpy()
    r = d.rsample((4,)).detach().numpy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(d.sample((4,)).numpy(), a)
    np.testing.assert_array_equal(d.rsample((4,)).detach().numpy(), r)
    assert not np.array_equal(a, r)  # the stream moves on


def test_rsample_is_loc_plus_eps_times_scale_with_gradients_to_both():
    loc = t64([0.3, -0.7], requires_grad=True)
    scale = t64([1.5, 0.2], requires_grad=True)
    tg.manual_seed(3)
    x = Normal(loc, scale).rsample((5,))
    assert x.requires_grad and x.shape == (5, 2)
    eps = (x.detach().numpy() - loc.detach().numpy()) / scale.detach().numpy()
    w = np.random.default_rng(0).standard_normal((5, 2))
    (x * t64(w)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), w.sum(0), rtol=1e-12)
    np.testing.assert_allclose(scale.grad.numpy(), (w * eps).sum(0), rtol=1e-12)

    def reseeded(loc, scale):
        tg.manual_seed(3)  # the same eps on every call gradcheck makes
        return Normal(loc, scale).rsample((5,))

    assert gradcheck(reseeded, (loc, scale))
    assert gradgradcheck(reseeded, (loc, scale))


def test_normal_log_prob_entropy_and_cdf_gradients():
    loc = t64(LOC, requires_grad=True)
    scale = t64(SCALE, requires_grad=True)
    value = t64(VALUE, requires_grad=True)
    assert gradcheck(lambda m, s, v: Normal(m, s).log_prob(v), (loc, scale, value))
    assert gradgradcheck(lambda m, s, v: Normal(m, s).log_prob(v), (loc, scale, value))
    assert gradcheck(lambda m, s: Normal(m, s).entropy(), (loc, scale))
    assert gradcheck(lambda m, s, v: Normal(m, s).cdf(v), (loc, scale, value))
    # the score of loc is (x - loc) / scale^2: checked against the formula, not only by differences
    m = t64(LOC, requires_grad=True)
    w = np.random.default_rng(1).standard_normal((2, 3))
    (Normal(m, t64(SCALE)).log_prob(t64(VALUE)) * t64(w)).sum().backward()
    np.testing.assert_allclose(m.grad.numpy(), (w * (VALUE - LOC) / SCALE ** 2).sum(0), rtol=1e-12)


def test_normal_expand_and_repr():
    d = Normal(t64([0.0, 1.0]), 2.0).expand((3, 2))
    assert d.batch_shape == (3, 2) and d.sample().shape == (3, 2)
    np.testing.assert_allclose(d.log_prob(t64(np.zeros((3, 2)))).numpy(),
                               normal_log_prob(np.zeros((3, 2)), np.array([0.0, 1.0]), 2.0), rtol=1e-13)
    assert repr(Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(Normal(tg.zeros(2), 1.0)) == "Normal(loc: Size([2]), scale: Size([2]))"
    with pytest.raises(RuntimeError, match="Normal.expand: cannot expand batch_shape \\(2,\\) to \\(3,\\)"):
        Normal(tg.zeros(2), 1.0).expand((3,))


@pytest.mark.parametrize("scale, shown", [(-1.0, "-1.0"), (0.0, "0.0")])
def test_normal_refuses_a_scale_that_is_not_positive(scale, shown):
    with pytest.raises(ValueError, match=f"Normal: expected parameter scale .* to be positive .*e.g. {shown}.*"
                                         "pass a positive scale"):
        Normal(tg.zeros(2), tg.tensor([1.0, scale]))


def test_normal_refuses_bad_parameters_and_values():
    with pytest.raises(ValueError, match="Normal: expected parameter loc .* real numbers \\(not NaN\\)"):
        Normal(float("nan"), 1.0)
    with pytest.raises(TypeError, match="Normal: loc must be a floating point tensor, got dtype int64.*float"):
        Normal(tg.tensor([1, 2]), 1.0)
    with pytest.raises(TypeError, match="Normal: scale must be a Tensor or a number, got str"):
        Normal(0.0, "1")
    with pytest.raises(RuntimeError, match="Normal: shapes \\(2,\\), \\(3,\\) do not broadcast"):
        Normal(tg.zeros(2), tg.ones(3))
    d = Normal(tg.zeros(3), 1.0)
    with pytest.raises(ValueError, match="Normal.log_prob: the value must be a Tensor, got float"):
        d.log_prob(0.5)
    with pytest.raises(ValueError, match="Normal.log_prob: a value of shape \\(2,\\) does not broadcast with "
                                         "batch_shape \\+ event_shape \\(3,\\)"):
        d.log_prob(tg.zeros(2))
    with pytest.raises(ValueError, match="Normal.log_prob: expected a value in the support \\(real numbers \\(not NaN\\)\\)"):
        d.log_prob(tg.tensor([0.0, float("nan"), 1.0]))
    with pytest.raises(ValueError, match="Normal.cdf: the value must be a Tensor, got list"):
        d.cdf([0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="Normal.sample: sample_shape must be a tuple of non-negative ints such as "
                                        "\\(100,\\).*got int 100"):
        d.sample(100)
    with pytest.raises(ValueError, match="validate_args must be True, False or None, got 'yes'"):
        Normal(0.0, 1.0, validate_args="yes")


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_without_validation_a_bad_scale_gives_nan_as_in_pytorch():
    d = Normal(0.0, -1.0, validate_args=False)
    assert math.isnan(d.log_prob(tg.tensor(0.0)).item())
    assert d.log_prob(0.5).shape == ()  # numbers are taken without validation, as PyTorch
    c = Categorical(probs=tg.tensor([0.25, 0.75]), validate_args=False)
    assert c.log_prob(1).item() == pytest.approx(math.log(0.75), rel=1e-6)
    try:
        Distribution.set_default_validate_args(False)
        assert math.isnan(Normal(0.0, -1.0).log_prob(tg.tensor(0.0)).item())
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError, match="set_default_validate_args: expected True or False, got 2"):
        Distribution.set_default_validate_args(2)


# ------------------------------------------------------------------ Bernoulli

P = np.array([0.1, 0.5, 0.93, 0.0, 1.0])
X = np.array([1.0, 0.0, 1.0, 0.0, 1.0])


def bernoulli_log_prob(x, p):
    with np.errstate(divide="ignore"):
        return np.where(x == 1, np.log(p), np.log1p(-p))


def test_bernoulli_from_probs_and_from_logits_is_the_formula():
    p = P[:3]
    logits = np.log(p) - np.log1p(-p)
    for d in (Bernoulli(probs=t64(p)), Bernoulli(logits=t64(logits))):
        assert d.batch_shape == (3,) and d.event_shape == ()
        np.testing.assert_allclose(d.probs.numpy(), p, rtol=1e-12)
        np.testing.assert_allclose(d.logits.numpy(), logits, rtol=1e-12)
        np.testing.assert_allclose(d.log_prob(t64(X[:3])).numpy(), bernoulli_log_prob(X[:3], p), rtol=1e-12)
        np.testing.assert_allclose(d.entropy().numpy(), -(p * np.log(p) + (1 - p) * np.log1p(-p)), rtol=1e-12)
        np.testing.assert_allclose(d.mean.numpy(), p, rtol=1e-12)
        np.testing.assert_allclose(d.variance.numpy(), p * (1 - p), rtol=1e-12)


def test_bernoulli_at_probabilities_0_and_1_clamps_as_pytorch():
    d = Bernoulli(probs=t64(P))
    eps = np.finfo(np.float64).eps
    clamped = np.clip(P, eps, 1 - eps)
    np.testing.assert_allclose(d.logits.numpy(), np.log(clamped) - np.log1p(-clamped), rtol=1e-9)
    lp = d.log_prob(t64(X)).numpy()
    assert np.isfinite(lp).all()
    assert lp[3] == pytest.approx(0.0, abs=1e-12) and lp[4] == pytest.approx(0.0, abs=1e-12)


def test_bernoulli_log_prob_is_stable_for_large_logits():
    logits = t64([-800.0, -40.0, 40.0, 800.0], requires_grad=True)
    lp = Bernoulli(logits=logits).log_prob(t64([1.0, 1.0, 0.0, 0.0]))
    np.testing.assert_allclose(lp.detach().numpy(), [-800.0, -40.0, -40.0, -800.0], rtol=1e-12)
    w = t64([0.5, -1.0, 2.0, 1.5])
    (lp * w).sum().backward()
    # d/dlogit of x*l - softplus(l) is x - sigmoid(l)
    sig = 0.5 * (1 + np.tanh(np.array([-800.0, -40.0, 40.0, 800.0]) / 2))
    np.testing.assert_allclose(logits.grad.numpy(), np.array([0.5, -1.0, 2.0, 1.5]) * (np.array([1, 1, 0, 0]) - sig),
                               rtol=1e-12)


def test_bernoulli_log_prob_of_integer_and_bool_outcomes_is_the_float_outcomes():
    """0/1 as int64 or bool give the float outcomes' log-probabilities in the
    parameter's dtype (PyTorch refuses them: a documented difference)."""
    for dtype in (np.float32, np.float64):
        b = Bernoulli(probs=tg.tensor(np.array([0.3, 0.8, 0.5], dtype)))
        want = b.log_prob(tg.tensor(np.array([1.0, 0.0, 1.0], dtype)))
        for outcomes in (np.array([1, 0, 1]), np.array([True, False, True])):
            got = b.log_prob(tg.tensor(outcomes))
            assert got.dtype == dtype
            np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_allclose(want.numpy(), np.log([0.3, 0.2, 0.5]), rtol=1e-12)


@needs_torch
def test_bernoulli_agrees_with_torch():
    for kwargs in ({"probs": P}, {"logits": np.array([-3.0, 0.0, 0.7, 12.0, -0.2])}):
        ours = Bernoulli(**{k: t64(v) for k, v in kwargs.items()})
        theirs = torch.distributions.Bernoulli(**{k: torch.tensor(v) for k, v in kwargs.items()})
        for a, b in [(ours.log_prob(t64(X)), theirs.log_prob(torch.tensor(X))), (ours.entropy(), theirs.entropy()),
                     (ours.probs, theirs.probs), (ours.logits, theirs.logits)]:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


def test_bernoulli_draws_are_0_or_1_with_frequency_probs_and_reproducible():
    tg.manual_seed(1)
    n = 20000
    d = Bernoulli(probs=tg.tensor([0.2, 0.5, 0.9, 0.0, 1.0]))
    x = d.sample((n,))
    assert x.shape == (n, 5) and x.dtype == np.float32 and not x.requires_grad
    x = x.numpy()
    assert set(np.unique(x)) <= {0.0, 1.0}
    for j, p in enumerate([0.2, 0.5, 0.9]):
        assert within(x[:, j], p, math.sqrt(p * (1 - p) / n))
    assert (x[:, 3] == 0).all() and (x[:, 4] == 1).all()
    tg.manual_seed(1)
    np.testing.assert_array_equal(d.sample((n,)).numpy(), x)


def test_bernoulli_gradients_of_log_prob_and_entropy():
    logits = t64([-2.0, 0.0, 0.4, 3.0], requires_grad=True)  # 0 exactly: softplus's kink-free middle
    value = t64([1.0, 0.0, 0.0, 1.0])
    assert gradcheck(lambda l: Bernoulli(logits=l).log_prob(value), logits)
    assert gradgradcheck(lambda l: Bernoulli(logits=l).log_prob(value), logits)
    assert gradcheck(lambda l: Bernoulli(logits=l).entropy(), logits)
    assert gradgradcheck(lambda l: Bernoulli(logits=l).entropy(), logits)
    probs = t64([0.2, 0.5, 0.7], requires_grad=True)
    assert gradcheck(lambda p: Bernoulli(probs=p).log_prob(t64([1.0, 0.0, 1.0])), probs)
    assert gradgradcheck(lambda p: Bernoulli(probs=p).entropy(), probs)
    # d log p(x) / dp is x/p - (1-x)/(1-p)
    p = t64([0.2, 0.5, 0.7], requires_grad=True)
    w = np.array([1.0, -2.0, 0.5])
    (Bernoulli(probs=p).log_prob(t64([1.0, 0.0, 1.0])) * t64(w)).sum().backward()
    pv, xv = np.array([0.2, 0.5, 0.7]), np.array([1.0, 0.0, 1.0])
    np.testing.assert_allclose(p.grad.numpy(), w * (xv / pv - (1 - xv) / (1 - pv)), rtol=1e-9)


def test_bernoulli_mode_support_and_expand():
    d = Bernoulli(probs=tg.tensor([0.2, 0.5, 0.8]))
    np.testing.assert_array_equal(d.mode.numpy(), [0.0, np.nan, 1.0])
    np.testing.assert_array_equal(d.enumerate_support().numpy(), [[0, 0, 0], [1, 1, 1]])
    assert d.enumerate_support(expand=False).shape == (2, 1)
    e = Bernoulli(logits=tg.zeros(1)).expand((4,))
    assert e.batch_shape == (4,) and e.sample().shape == (4,) and e.probs.shape == (4,)
    assert repr(Bernoulli(probs=0.3)).startswith("Bernoulli(probs: 0.3")


def test_bernoulli_refuses_bad_arguments():
    with pytest.raises(ValueError, match="Bernoulli: expected exactly one of probs or logits, got neither"):
        Bernoulli()
    with pytest.raises(ValueError, match="Bernoulli: expected exactly one of probs or logits, got both"):
        Bernoulli(probs=0.5, logits=0.0)
    with pytest.raises(ValueError, match="Bernoulli: expected parameter probs .* in \\[0.0, 1.0\\], but "
                                         "1 of its 3 values are not \\(e.g. 1.5\\); pass logits"):
        Bernoulli(probs=tg.tensor([0.5, 1.5, 0.2]))
    with pytest.raises(ValueError, match="expected parameter probs .*e.g. -0.25"):
        Bernoulli(probs=-0.25)
    with pytest.raises(ValueError, match="Bernoulli: expected parameter logits .*\\(not NaN\\)"):
        Bernoulli(logits=tg.tensor([float("nan")]))
    with pytest.raises(ValueError, match="Bernoulli.log_prob: expected a value in the support \\(0 or 1\\).*0.5"):
        Bernoulli(probs=tg.tensor([0.5, 0.5])).log_prob(tg.tensor([1.0, 0.5]))


# ------------------------------------------------------------------ Categorical

W = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.0, 0.25, 0.25], [3.0, 3.0, 3.0, 3.0]])  # unnormalized weights
LOGITS = np.array([[0.3, -1.0, 2.0, 0.0], [5.0, -4.0, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]])


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_categorical_normalizes_probs_and_logits_as_pytorch():
    d = Categorical(probs=t64(W))
    p = W / W.sum(-1, keepdims=True)
    assert d.batch_shape == (3,) and d.event_shape == () and d.param_shape == (3, 4)
    np.testing.assert_allclose(d.probs.numpy(), p, rtol=1e-14)
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(d.logits.numpy(), np.log(np.clip(p, eps, 1 - eps)), rtol=1e-14)
    d = Categorical(logits=t64(LOGITS))
    np.testing.assert_allclose(d.logits.numpy(), log_softmax(LOGITS), rtol=1e-13)
    np.testing.assert_allclose(d.probs.numpy(), np.exp(log_softmax(LOGITS)), rtol=1e-13)
    np.testing.assert_allclose(d.probs.numpy().sum(-1), 1.0, rtol=1e-14)


def test_categorical_log_prob_picks_the_log_probability_of_each_index():
    d = Categorical(logits=t64(LOGITS))
    lp = log_softmax(LOGITS)
    value = np.array([[3, 0, 2], [1, 1, 0]])  # (sample, batch)
    np.testing.assert_allclose(d.log_prob(tg.tensor(value)).numpy(), lp[np.arange(3), value], rtol=1e-13)
    # a value of shape (2, 1) broadcasts against the batch (3,)
    got = d.log_prob(tg.tensor([[2], [0]])).numpy()
    np.testing.assert_allclose(got, lp[np.arange(3), np.array([[2], [0]]).repeat(3, 1)], rtol=1e-13)
    one = Categorical(probs=t64([0.2, 0.3, 0.5]))
    np.testing.assert_allclose(one.log_prob(tg.tensor([2, 0, 2])).numpy(), np.log([0.5, 0.2, 0.5]), rtol=1e-13)
    assert one.log_prob(tg.tensor(1)).shape == ()
    # an index stored as a whole float is taken, as in PyTorch
    assert one.log_prob(t64(1.0)).item() == pytest.approx(math.log(0.3), rel=1e-13)


def test_categorical_entropy_mode_and_the_nan_moments():
    d = Categorical(probs=t64(W))
    p = W / W.sum(-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    np.testing.assert_allclose(d.entropy().numpy(), -plogp.sum(-1), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(d.mode.numpy(), [3, 0, 0])
    assert d.mean.shape == (3,) and np.isnan(d.mean.numpy()).all() and np.isnan(d.variance.numpy()).all()
    # a logit of -inf is a category of probability 0: it adds 0, not NaN
    e = Categorical(logits=t64([0.0, -np.inf, 0.0])).entropy()
    assert e.item() == pytest.approx(math.log(2), rel=1e-13)


@needs_torch
def test_categorical_agrees_with_torch():
    value = np.array([[3, 0, 2], [1, 1, 0]])
    for kwargs in ({"probs": W}, {"logits": LOGITS}):
        ours = Categorical(**{k: t64(v) for k, v in kwargs.items()})
        theirs = torch.distributions.Categorical(**{k: torch.tensor(v) for k, v in kwargs.items()})
        pairs = [(ours.log_prob(tg.tensor(value)), theirs.log_prob(torch.tensor(value))),
                 (ours.entropy(), theirs.entropy()), (ours.probs, theirs.probs), (ours.logits, theirs.logits)]
        for a, b in pairs:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(ours.enumerate_support().numpy(), theirs.enumerate_support().numpy())


def test_categorical_draws_have_the_category_frequencies_1d_and_batched():
    tg.manual_seed(2)
    n = 20000
    p1 = np.array([0.1, 0.2, 0.3, 0.4])
    x = Categorical(probs=tg.tensor(p1.astype(np.float32))).sample((n,))
    assert x.shape == (n,) and x.dtype == np.int64 and not x.requires_grad
    for k, pk in enumerate(p1):
        assert within(x.numpy() == k, pk, math.sqrt(pk * (1 - pk) / n))
    batched = Categorical(logits=t64(LOGITS))
    x = batched.sample((n,)).numpy()
    assert x.shape == (n, 3) and x.min() >= 0 and x.max() <= 3
    probs = np.exp(log_softmax(LOGITS))
    for row in range(3):
        for k in range(4):
            pk = probs[row, k]
            assert within(x[:, row] == k, pk, math.sqrt(pk * (1 - pk) / n) + 1e-12)
    assert batched.sample().shape == (3,)
    assert batched.sample((2, 5)).shape == (2, 5, 3)
    assert Categorical(probs=tg.ones(4)).sample().shape == ()
    assert batched.sample((0,)).shape == (0, 3)


def test_categorical_draws_are_reproducible_under_manual_seed():
    d = Categorical(probs=tg.tensor([[0.3, 0.7], [0.6, 0.4]]))
    tg.manual_seed(11)
    a = d.sample((50,)).numpy()
    tg.manual_seed(11)
    np.testing.assert_array_equal(d.sample((50,)).numpy(), a)


def test_categorical_gradients_of_log_prob_and_entropy():
    value = tg.tensor([[3, 0, 2], [1, 1, 0]])
    logits = t64(LOGITS, requires_grad=True)
    assert gradcheck(lambda z: Categorical(logits=z).log_prob(value), logits)
    assert gradgradcheck(lambda z: Categorical(logits=z).log_prob(value), logits)
    assert gradcheck(lambda z: Categorical(logits=z).entropy(), logits)
    assert gradgradcheck(lambda z: Categorical(logits=z).entropy(), logits)
    probs = t64(W[[0, 2]], requires_grad=True)  # no zero: probs are clamped there
    assert gradcheck(lambda p: Categorical(probs=p).log_prob(tg.tensor([2, 1])), probs)
    assert gradcheck(lambda p: Categorical(probs=p).entropy(), probs)
    # d log softmax(z)_k / dz = onehot(k) - softmax(z), summed over the draws
    z = t64(LOGITS, requires_grad=True)
    wts = np.random.default_rng(2).standard_normal((2, 3))
    (Categorical(logits=z).log_prob(value) * t64(wts)).sum().backward()
    soft = np.exp(log_softmax(LOGITS))
    expected = np.zeros_like(LOGITS)
    for s in range(2):
        for b in range(3):
            expected[b] += wts[s, b] * (np.eye(4)[value.numpy()[s, b]] - soft[b])
    np.testing.assert_allclose(z.grad.numpy(), expected, rtol=1e-12, atol=1e-14)


def test_categorical_enumerate_support_and_expand():
    d = Categorical(probs=tg.ones(2, 3))
    np.testing.assert_array_equal(d.enumerate_support().numpy(), [[0, 0], [1, 1], [2, 2]])
    assert d.enumerate_support(expand=False).shape == (3, 1)
    e = Categorical(logits=tg.zeros(1, 3)).expand((4,))
    assert e.batch_shape == (4,) and e.sample((2,)).shape == (2, 4) and e.logits.shape == (4, 3)


def test_categorical_refuses_bad_arguments():
    with pytest.raises(ValueError, match="Categorical: expected exactly one of probs or logits, got neither"):
        Categorical()
    with pytest.raises(ValueError, match="Categorical: expected exactly one of probs or logits, got both"):
        Categorical(probs=tg.ones(2), logits=tg.zeros(2))
    with pytest.raises(ValueError, match="Categorical: expected parameter probs .* finite and non-negative .*"
                                         "e.g. -0.5.*pass logits"):
        Categorical(probs=tg.tensor([0.5, -0.5, 1.0]))
    with pytest.raises(ValueError, match="Categorical: expected parameter probs \\(its sums over the last dim\\).*"
                                         "positive.*at least one category of positive weight"):
        Categorical(probs=tg.tensor([[0.5, 0.5], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="Categorical: expected parameter logits .*\\(not NaN or \\+inf\\).*e.g. inf"):
        Categorical(logits=tg.tensor([0.0, float("inf")]))
    with pytest.raises(ValueError, match="Categorical: probs must have at least one dim .*got a 0-d tensor"):
        Categorical(probs=tg.tensor(1.0))
    with pytest.raises(TypeError, match="Categorical: probs must be a Tensor, got float"):
        Categorical(probs=0.5)
    d = Categorical(probs=tg.ones(2, 3))
    with pytest.raises(ValueError, match="Categorical.log_prob: expected a value in the support \\(whole numbers "
                                         "0 .. 2\\).*e.g. 3"):
        d.log_prob(tg.tensor([3, 0]))
    with pytest.raises(ValueError, match="support .*e.g. -1"):
        d.log_prob(tg.tensor([-1, 0]))
    with pytest.raises(ValueError, match="support .*e.g. 1.5"):
        d.log_prob(tg.tensor([1.5, 0.0]))
    with pytest.raises(ValueError, match="a value of shape \\(3,\\) does not broadcast with batch_shape \\+ "
                                         "event_shape \\(2,\\)"):
        d.log_prob(tg.tensor([0, 1, 2]))
    with pytest.raises(NotImplementedError, match="Categorical has no reparameterized sampler"):
        d.rsample()


# ------------------------------------------------------------------ another device


def test_distributions_stay_on_their_parameters_device(alt_device):
    loc = tg.tensor([0.0, 1.0], device="alt", requires_grad=True)
    d = Normal(loc, 2.0)
    assert d.scale.device == "alt"
    tg.manual_seed(4)
    x = d.rsample((3,))
    tg.manual_seed(4)
    on_cpu = Normal(tg.tensor([0.0, 1.0]), 2.0).rsample((3,))
    assert x.device == "alt"
    np.testing.assert_array_equal(x.detach().cpu().numpy(), on_cpu.detach().numpy())  # the same seeded stream
    d.log_prob(x.detach()).sum().backward()
    assert loc.grad.device == "alt"
    c = Categorical(logits=tg.zeros(2, 3, device="alt"))
    s = c.sample((4,))
    assert s.device == "alt" and c.log_prob(s).device == "alt" and c.entropy().device == "alt"
    b = Bernoulli(probs=tg.tensor([0.3], device="alt"))
    assert b.sample((2,)).device == "alt" and b.log_prob(tg.tensor([1.0], device="alt")).device == "alt"
    with pytest.raises(RuntimeError, match="Normal.log_prob: expected all tensors on the same device, got alt and "
                                           "cpu"):
        d.log_prob(tg.zeros(2))
    with pytest.raises(RuntimeError, match="Normal: expected all tensors on the same device"):
        Normal(loc, tg.ones(2))


# ------------------------------------------------------------------ constraints


def test_the_constraints_are_pytorchs_sets():
    x = tg.tensor([-np.inf, -1.0, 0.0, 0.5, 1.0, 2.0, np.nan])
    expect = {
        constraints.real: [1, 1, 1, 1, 1, 1, 0],
        constraints.positive: [0, 0, 0, 1, 1, 1, 0],
        constraints.unit_interval: [0, 0, 1, 1, 1, 0, 0],
        constraints.boolean: [0, 0, 1, 0, 1, 0, 0],
        constraints.integer_interval(0, 1): [0, 0, 1, 0, 1, 0, 0],
        constraints.integer_interval(-5, 5): [0, 1, 1, 0, 1, 1, 0],
        constraints.greater_than(0.5): [0, 0, 0, 0, 1, 1, 0],
        constraints.interval(-1.0, 0.5): [0, 1, 1, 1, 0, 0, 0],
    }
    for c, want in expect.items():
        np.testing.assert_array_equal(c.check(x).numpy(), np.array(want, bool), err_msg=repr(c))
    # what a refusal says the value must be: "positive" only for a bound of 0, below or above it the bound
    texts = {0: "positive (> 0)", 0.0: "positive (> 0)", -1.0: "greater than -1.0", -2: "greater than -2",
             0.5: "greater than 0.5"}
    for bound, text in texts.items():
        assert constraints.greater_than(bound).text == text, bound
    rows = tg.tensor([[0.25, 0.75], [0.5, 0.6], [-0.5, 1.5], [np.nan, 1.0]])
    np.testing.assert_array_equal(constraints.simplex.check(rows).numpy(), [True, False, False, False])
    np.testing.assert_array_equal(constraints.real_vector.check(rows).numpy(), [True, True, True, False])
    assert constraints.simplex.event_dim == 1 and constraints.real_vector.event_dim == 1
    assert constraints.boolean.is_discrete and not constraints.real.is_discrete
    if torch is not None:
        for ours, theirs in [(constraints.positive, torch.distributions.constraints.positive),
                             (constraints.unit_interval, torch.distributions.constraints.unit_interval),
                             (constraints.boolean, torch.distributions.constraints.boolean),
                             (constraints.real, torch.distributions.constraints.real)]:
            np.testing.assert_array_equal(ours.check(x).numpy(), theirs.check(torch.tensor(x.numpy())).numpy())


def test_each_distribution_names_its_constraints_and_support():
    assert Normal.arg_constraints == {"loc": constraints.real, "scale": constraints.positive}
    assert Normal(0.0, 1.0).support is constraints.real
    assert Bernoulli(probs=0.5).support is constraints.boolean
    assert Bernoulli.arg_constraints == {"probs": constraints.unit_interval, "logits": constraints.real}
    assert set(Categorical.arg_constraints) == {"probs", "logits"}
    support = Categorical(probs=tg.ones(5)).support
    assert (support.lower_bound, support.upper_bound) == (0, 4) and support.is_discrete
    assert repr(constraints.positive) == "GreaterThan(lower_bound=0.0)"
    with pytest.raises(NotImplementedError, match="Distribution does not define its support"):
        Distribution().support  # noqa: B018


def test_sample_n_is_sample_of_n_with_pytorchs_warning():
    d = Normal(tg.zeros(2), 1.0)
    with pytest.warns(FutureWarning, match="sample_n will be removed"):
        assert d.sample_n(3).shape == (3, 2)
