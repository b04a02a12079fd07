"""tinygrad_bn.distributions beyond Normal, Bernoulli and Categorical: Uniform,
Exponential, Laplace, Cauchy, LogNormal, HalfNormal, HalfCauchy, Gumbel, Gamma,
Chi2, Beta, Dirichlet, StudentT, Poisson, Geometric, Binomial, OneHotCategorical,
Multinomial, Independent, and kl_divergence / register_kl.

Each is checked against float64 formulas written here (math.lgamma, math.erf
and a digamma of our own), against torch.distributions when PyTorch is
installed, by the moments and cdf of many draws (within 5 standard errors), by
reproducibility under manual_seed, by gradcheck of rsample, log_prob, entropy
and KL, against Monte-Carlo KL estimates, and by every refusal."""
import math
import statistics
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import distributions
from tinygrad_bn.distributions import (
    Bernoulli,
    Beta,
    Binomial,
    Categorical,
    Cauchy,
    Chi2,
    Dirichlet,
    Distribution,
    Exponential,
    Gamma,
    Geometric,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    Independent,
    Laplace,
    LogNormal,
    Multinomial,
    Normal,
    OneHotCategorical,
    Poisson,
    StudentT,
    Uniform,
    constraints,
    kl,
    kl_divergence,
    register_kl,
)
from tinygrad_bn.testing import gradcheck

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")

EULER = 0.57721566490153286060
N_DRAWS = 20000


def t64(a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def vec(f):
    """A float64 function of numbers made elementwise over broadcast arrays."""
    return lambda *args: np.vectorize(f, otypes=[np.float64])(*args)


def digamma(x):
    """psi(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series (error < 1e-13)."""
    acc = 0.0
    while x < 10:
        acc -= 1 / x
        x += 1
    f = 1 / (x * x)
    return acc + math.log(x) - 0.5 / x - f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f / 132))))


def lbeta(a, b):
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def within(draws, mean, se, k=5.0):
    return abs(float(np.mean(draws)) - mean) <= k * se + 1e-12


# ------------------------------------------------------------------ the float64 formulas

LOC = np.array([-1.0, 0.5, 2.0])
SCALE = np.array([0.5, 2.0, 1.0])
REALS = np.array([[-0.7, 1.5, 2.2], [0.3, -3.0, 5.0]])
POSITIVES = np.array([[0.2, 1.5, 4.0], [3.0, 0.05, 0.9]])
UNIT = np.array([[0.2, 0.55, 0.9], [0.75, 0.05, 0.4]])
PROBS_Q = np.array([0.1, 0.35, 0.8])  # levels for icdf


def normal_lp(x, m, s):
    return -((x - m) ** 2) / (2 * s * s) - math.log(s) - 0.5 * math.log(2 * math.pi)


def laplace_cdf(x, m, b):
    return 0.5 * math.exp((x - m) / b) if x < m else 1 - 0.5 * math.exp(-(x - m) / b)


def gamma_cdf(x, a, r):
    """P(a, r x) for the concentrations used here: whole a by the finite sum, a = 1/2 by erf."""
    y = r * x
    if a == 0.5:
        return math.erf(math.sqrt(y))
    assert a == int(a)
    return 1 - math.exp(-y) * sum(y ** j / math.factorial(j) for j in range(int(a)))


def student_lp(x, df, m, s):
    z = (x - m) / s
    return (math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi) - math.log(s)
            - (df + 1) / 2 * math.log1p(z * z / df))


def student_entropy(df, s):
    return ((df + 1) / 2 * (digamma((df + 1) / 2) - digamma(df / 2)) + math.log(math.sqrt(df)) + lbeta(df / 2, 0.5)
            + math.log(s))


GAMMA_A, GAMMA_R = np.array([0.5, 1.0, 3.0]), np.array([2.0, 1.0, 0.5])
BETA_A, BETA_B = np.array([0.5, 2.0, 3.0]), np.array([0.7, 1.0, 5.0])
DF = np.array([0.8, 1.5, 5.0])

# name -> (make(*params), params, value, {quantity: float64 reference}); params are float64 arrays
CONTINUOUS = {
    "Uniform": (Uniform, (np.array([-1.0, 0.5, 2.0]), np.array([0.5, 3.0, 2.5])),
                np.array([[-0.5, 1.0, 2.1], [0.0, 2.9, 2.4]]), {
        "log_prob": lambda x, lo, hi: -np.log(hi - lo) + 0 * x,
        "entropy": lambda lo, hi: np.log(hi - lo),
        "mean": lambda lo, hi: (lo + hi) / 2,
        "variance": lambda lo, hi: (hi - lo) ** 2 / 12,
        "cdf": lambda x, lo, hi: (x - lo) / (hi - lo),
        "icdf": lambda q, lo, hi: lo + q * (hi - lo),
    }),
    "Exponential": (Exponential, (np.array([0.5, 1.0, 3.0]),), np.array([[0.1, 2.0, 0.0], [5.0, 0.3, 1.2]]), {
        "log_prob": lambda x, r: np.log(r) - r * x,
        "entropy": lambda r: 1 - np.log(r),
        "mean": lambda r: 1 / r,
        "variance": lambda r: r ** -2.0,
        "mode": lambda r: 0 * r,
        "cdf": lambda x, r: -np.expm1(-r * x),
        "icdf": lambda q, r: -np.log1p(-q) / r,
    }),
    "Laplace": (Laplace, (LOC, SCALE), REALS, {
        "log_prob": lambda x, m, b: -np.log(2 * b) - np.abs(x - m) / b,
        "entropy": lambda m, b: 1 + np.log(2 * b) + 0 * m,
        "mean": lambda m, b: m + 0 * b,
        "variance": lambda m, b: 2 * b * b + 0 * m,
        "cdf": vec(laplace_cdf),
        "icdf": vec(lambda q, m, b: m + b * math.log(2 * q) if q < 0.5 else m - b * math.log(2 - 2 * q)),
    }),
    "Cauchy": (Cauchy, (LOC, SCALE), REALS, {
        "log_prob": lambda x, m, b: -np.log(np.pi * b * (1 + ((x - m) / b) ** 2)),
        "entropy": lambda m, b: np.log(4 * np.pi * b) + 0 * m,
        "mean": lambda m, b: np.full(np.broadcast(m, b).shape, np.nan),
        "variance": lambda m, b: np.full(np.broadcast(m, b).shape, np.inf),
        "mode": lambda m, b: m + 0 * b,
        "cdf": vec(lambda x, m, b: math.atan((x - m) / b) / math.pi + 0.5),
        "icdf": vec(lambda q, m, b: m + b * math.tan(math.pi * (q - 0.5))),
    }),
    "LogNormal": (LogNormal, (LOC, SCALE), POSITIVES, {
        "log_prob": vec(lambda x, m, s: normal_lp(math.log(x), m, s) - math.log(x)),
        "entropy": lambda m, s: m + 0.5 + np.log(s * np.sqrt(2 * np.pi)),
        "mean": lambda m, s: np.exp(m + s * s / 2),
        "variance": lambda m, s: np.expm1(s * s) * np.exp(2 * m + s * s),
        "mode": lambda m, s: np.exp(m - s * s),
        "cdf": vec(lambda x, m, s: 0.5 * (1 + math.erf((math.log(x) - m) / (s * math.sqrt(2))))),
    }),
    "HalfNormal": (HalfNormal, (SCALE,), POSITIVES, {
        "log_prob": vec(lambda x, s: math.log(2) + normal_lp(x, 0.0, s)),
        "entropy": lambda s: 0.5 * np.log(np.pi * s * s / 2) + 0.5,
        "mean": lambda s: s * np.sqrt(2 / np.pi),
        "variance": lambda s: s * s * (1 - 2 / np.pi),
        "mode": lambda s: 0 * s,
        "cdf": vec(lambda x, s: math.erf(x / (s * math.sqrt(2)))),
    }),
    "HalfCauchy": (HalfCauchy, (SCALE,), POSITIVES, {
        "log_prob": lambda x, s: np.log(2 / (np.pi * s * (1 + (x / s) ** 2))),
        "entropy": lambda s: np.log(2 * np.pi * s),
        "mean": lambda s: np.full(s.shape, np.inf),
        "variance": lambda s: np.full(s.shape, np.inf),
        "mode": lambda s: 0 * s,
        "cdf": lambda x, s: 2 / np.pi * np.arctan(x / s),
        "icdf": lambda q, s: s * np.tan(np.pi * q / 2),
    }),
    "Gumbel": (Gumbel, (LOC, SCALE), REALS, {
        "log_prob": lambda x, m, b: -np.log(b) - (x - m) / b - np.exp(-(x - m) / b),
        "entropy": lambda m, b: np.log(b) + EULER + 1 + 0 * m,
        "mean": lambda m, b: m + b * EULER,
        "variance": lambda m, b: np.pi ** 2 * b * b / 6 + 0 * m,
        "mode": lambda m, b: m + 0 * b,
        "cdf": lambda x, m, b: np.exp(-np.exp(-(x - m) / b)),
        "icdf": lambda q, m, b: m - b * np.log(-np.log(q)),
    }),
    "Gamma": (Gamma, (GAMMA_A, GAMMA_R), POSITIVES, {
        "log_prob": vec(lambda x, a, r: a * math.log(r) + (a - 1) * math.log(x) - r * x - math.lgamma(a)),
        "entropy": vec(lambda a, r: a - math.log(r) + math.lgamma(a) + (1 - a) * digamma(a)),
        "mean": lambda a, r: a / r,
        "variance": lambda a, r: a / r ** 2,
        "mode": lambda a, r: np.maximum((a - 1) / r, 0),
        "cdf": vec(gamma_cdf),
    }),
    "Chi2": (Chi2, (np.array([1.0, 2.0, 6.0]),), POSITIVES, {
        "log_prob": vec(lambda x, k: (k / 2 - 1) * math.log(x) - x / 2 - k / 2 * math.log(2) - math.lgamma(k / 2)),
        "entropy": vec(lambda k: k / 2 + math.log(2) + math.lgamma(k / 2) + (1 - k / 2) * digamma(k / 2)),
        "mean": lambda k: k,
        "variance": lambda k: 2 * k,
        "cdf": vec(lambda x, k: gamma_cdf(x, k / 2, 0.5)),
    }),
    "Beta": (Beta, (BETA_A, BETA_B), UNIT, {
        "log_prob": vec(lambda x, a, b: (a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - lbeta(a, b)),
        "entropy": vec(lambda a, b: lbeta(a, b) - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                       + (a + b - 2) * digamma(a + b)),
        "mean": lambda a, b: a / (a + b),
        "variance": lambda a, b: a * b / ((a + b) ** 2 * (a + b + 1)),
        "mode": lambda a, b: np.array([1.0, 1.0, 2 / 6]),  # a < 1 <= b: PyTorch's vertex 1; b = 1: 1; (a-1)/(a+b-2)
    }),
    "StudentT": (StudentT, (DF, LOC, SCALE), REALS, {
        "log_prob": vec(student_lp),
        "entropy": vec(lambda df, m, s: student_entropy(df, s)),
        "mean": lambda df, m, s: np.where(df <= 1, np.nan, m),
        "variance": lambda df, m, s: np.where(df > 2, s * s * df / np.where(df > 2, df - 2, 1),
                                              np.where(df > 1, np.inf, np.nan)),
        "mode": lambda df, m, s: m + 0 * df,
    }),
}


@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_continuous_log_prob_entropy_moments_and_cdf_are_the_formulas(name):
    cls, params, value, ref = CONTINUOUS[name]
    d = cls(*(t64(p) for p in params))
    shape = np.broadcast(*params).shape
    assert d.batch_shape == shape and d.event_shape == () and isinstance(d.batch_shape, tg.Size)
    lp = d.log_prob(t64(value))
    assert lp.shape == value.shape and lp.dtype == np.float64
    np.testing.assert_allclose(lp.numpy(), ref["log_prob"](value, *params), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(d.entropy().numpy(), np.broadcast_to(ref["entropy"](*params), shape), rtol=1e-12)
    np.testing.assert_allclose(d.perplexity().numpy(), np.exp(ref["entropy"](*params)), rtol=1e-12)
    for quantity in ("mean", "variance", "mode"):
        if quantity in ref:
            got = getattr(d, quantity).numpy()
            np.testing.assert_allclose(got, np.broadcast_to(ref[quantity](*params), shape), rtol=1e-12,
                                       err_msg=quantity)
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(d.stddev.numpy(), np.sqrt(d.variance.numpy()), rtol=1e-12)
    if "cdf" in ref:
        np.testing.assert_allclose(d.cdf(t64(value)).numpy(), ref["cdf"](value, *params), rtol=1e-11, atol=1e-14)
    if "icdf" in ref:
        q = PROBS_Q[:, None] * np.ones(shape)
        np.testing.assert_allclose(d.icdf(t64(q)).numpy(), ref["icdf"](q, *params), rtol=1e-11)
    if "cdf" in ref and name not in ("Gamma", "Chi2"):  # icdf inverts cdf (Gamma has no icdf, as PyTorch)
        q = PROBS_Q[:, None] * np.ones(shape)
        np.testing.assert_allclose(d.cdf(d.icdf(t64(q))).numpy(), q, rtol=1e-10)


@needs_torch
@pytest.mark.parametrize("name", list(CONTINUOUS))
def test_continuous_agree_with_torch(name):
    cls, params, value, ref = CONTINUOUS[name]
    ours = cls(*(t64(p) for p in params))
    theirs = getattr(torch.distributions, name)(*(torch.tensor(p) for p in params))
    x = torch.tensor(value)
    pairs = [(ours.log_prob(t64(value)), theirs.log_prob(x)), (ours.entropy(), theirs.entropy()),
             (ours.mean, theirs.mean), (ours.variance, theirs.variance), (ours.mode, theirs.mode)]
    if "cdf" in ref:
        pairs.append((ours.cdf(t64(value)), theirs.cdf(x)))
    if "icdf" in ref or name in ("LogNormal", "HalfNormal"):
        q = np.broadcast_to(PROBS_Q[:, None], (3, *ours.batch_shape))
        pairs.append((ours.icdf(t64(q)), theirs.icdf(torch.tensor(q))))
    for i, (a, b) in enumerate(pairs):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12, err_msg=str(i))
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert ours.has_rsample == (theirs.has_rsample and name not in ("Gamma", "Chi2", "Beta", "StudentT"))


def test_uniform_log_prob_outside_and_at_the_ends():
    d = Uniform(t64([0.0]), t64([2.0]), validate_args=False)
    got = d.log_prob(t64([-0.1, 0.0, 1.0, 2.0, 2.5])).numpy()
    np.testing.assert_array_equal(got, [-np.inf, -math.log(2), -math.log(2), -np.inf, -np.inf])  # [low, high)
    np.testing.assert_array_equal(d.cdf(t64([-1.0, 3.0])).numpy(), [0.0, 1.0])
    assert np.isnan(Uniform(0.0, 1.0).mode.item())
    # in the closed support, high itself passes validation, with log_prob -inf, as PyTorch
    assert Uniform(0.0, 1.0).log_prob(tg.tensor(1.0)).item() == -np.inf


def test_normal_icdf_is_the_inverse_of_its_cdf():
    levels = np.array([0.001, 0.1, 0.35, 0.5, 0.8, 0.999])[:, None] * np.ones(3)
    d = Normal(t64(LOC), t64(SCALE))
    got = d.icdf(t64(levels))
    assert got.shape == (6, 3) and got.dtype == np.float64
    # the float64 quantile of N(loc, scale), and back through our cdf
    expect = vec(lambda q, m, s: statistics.NormalDist(m, s).inv_cdf(q))(levels, LOC, SCALE)
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d.cdf(got).numpy(), levels, rtol=1e-12)
    # the ends are -inf and inf, as PyTorch's
    np.testing.assert_array_equal(Normal(0.0, 1.0).icdf(t64([0.0, 1.0])).numpy(), [-np.inf, np.inf])
    loc, scale, q = t64(LOC, True), t64(SCALE, True), t64(levels[1:-1], True)
    assert gradcheck(lambda m, s, v: Normal(m, s).icdf(v), (loc, scale, q))
    if torch is not None:
        theirs = torch.distributions.Normal(torch.tensor(LOC), torch.tensor(SCALE)).icdf(torch.tensor(levels))
        np.testing.assert_allclose(got.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


# a value outside each bounded support (batch shape (2,))
OUTSIDE = {"Uniform": -2.0, "Exponential": -1.0, "LogNormal": -1.0, "HalfNormal": -1.0, "HalfCauchy": -1.0,
           "Gamma": -1.0, "Chi2": -1.0, "Beta": 1.5, "Poisson": -1.0, "Geometric": -1.0, "Binomial": 13.0}


@pytest.mark.parametrize("name", sorted(OUTSIDE))
def test_validation_is_on_by_default_and_refuses_values_outside_the_support(name):
    d = sampled()[name]
    with pytest.raises(ValueError, match=f"{name}.log_prob: expected a value in the support"):
        d.log_prob(t64([OUTSIDE[name]] * 2))
    if name in ("HalfNormal", "HalfCauchy", "Exponential", "Uniform"):
        with pytest.raises(ValueError, match=f"{name}.cdf: expected a value in the support"):
            d.cdf(t64([OUTSIDE[name]] * 2))


def test_a_refused_value_is_named_by_its_count_and_the_first_one():
    d = Exponential(t64([1.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"2 of the values are not \(e\.g\. -2\.0\)"):
        d.log_prob(t64([0.5, -2.0, -3.0]))


def test_half_distributions_give_minus_inf_below_zero_without_validation():
    for d in (HalfNormal(1.0, validate_args=False), HalfCauchy(1.0, validate_args=False)):
        assert d.log_prob(tg.tensor(-0.5)).item() == -np.inf
        assert d.log_prob(tg.tensor(0.5)).item() > -np.inf
    # base_dist: the distribution transformed, as PyTorch's TransformedDistribution attribute
    assert isinstance(HalfNormal(2.0).base_dist, Normal) and HalfNormal(2.0).base_dist.loc.item() == 0.0
    assert isinstance(HalfCauchy(2.0).base_dist, Cauchy) and HalfCauchy(2.0).base_dist.scale.item() == 2.0
    base = LogNormal(t64([0.5]), t64([2.0])).base_dist
    assert isinstance(base, Normal) and base.loc.item() == 0.5 and base.scale.item() == 2.0


def test_gamma_cdf_is_the_regularized_incomplete_gamma_and_differentiable_in_rate():
    rate = t64([2.0, 1.0, 0.5], requires_grad=True)
    x = t64([0.3, 1.7, 4.0], requires_grad=True)
    assert gradcheck(lambda r, v: Gamma(t64(GAMMA_A), r).cdf(v), (rate, x))
    # d/dx P(a, r x) is the density
    x = t64([0.3, 1.7, 4.0], requires_grad=True)
    d = Gamma(t64(GAMMA_A), t64(GAMMA_R))
    d.cdf(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.exp(d.log_prob(x.detach()).numpy()), rtol=1e-9)


# ------------------------------------------------------------------ discrete families

RATE = np.array([0.5, 3.0, 12.0])
COUNTS = np.array([[0.0, 2.0, 15.0], [1.0, 0.0, 9.0]])
GEO_P = np.array([0.2, 0.5, 1.0])
GEO_K = np.array([[0.0, 3.0, 0.0], [5.0, 1.0, 0.0]])
BIN_N, BIN_P = np.array([5.0, 10.0, 3.0]), np.array([0.3, 0.5, 0.9])
BIN_K = np.array([[0.0, 3.0, 3.0], [5.0, 10.0, 1.0]])


def poisson_lp(k, r):
    return k * math.log(r) - r - math.lgamma(k + 1)


def poisson_entropy(r):
    return -sum(math.exp(poisson_lp(k, r)) * poisson_lp(k, r) for k in range(int(r * 10 + 60)))


def binom_lp(k, n, p):
    lc = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
    return lc + (k * math.log(p) if k else 0.0) + ((n - k) * math.log1p(-p) if n - k else 0.0)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")  # log(0) on the way to -inf
def test_poisson_is_the_formula():
    d = Poisson(t64(RATE))
    assert d.batch_shape == (3,) and d.support is constraints.nonnegative_integer
    np.testing.assert_allclose(d.log_prob(t64(COUNTS)).numpy(), vec(poisson_lp)(COUNTS, RATE), rtol=1e-12)
    np.testing.assert_allclose(d.entropy().numpy(), [poisson_entropy(r) for r in RATE], rtol=1e-11)
    np.testing.assert_array_equal(d.mean.numpy(), RATE)
    np.testing.assert_array_equal(d.variance.numpy(), RATE)
    np.testing.assert_array_equal(d.mode.numpy(), np.floor(RATE))
    # a rate of 0: the count 0 has probability 1, entropy 0; integer counts are taken
    z = Poisson(t64([0.0, 0.0]))
    np.testing.assert_array_equal(z.log_prob(t64([0.0, 1.0])).numpy(), [0.0, -np.inf])
    assert z.entropy().numpy().tolist() == [0.0, 0.0]
    assert Poisson(t64([2.0])).log_prob(tg.tensor([3])).dtype == np.float64
    # a large rate: the entropy approaches log(2 pi e rate) / 2
    big = Poisson(t64([1e4])).entropy().item()
    assert big == pytest.approx(0.5 * math.log(2 * math.pi * math.e * 1e4) - 1 / (12 * 1e4), rel=1e-8)


def test_geometric_from_probs_and_logits_is_the_formula():
    p = GEO_P[:2]
    logits = np.log(p) - np.log1p(-p)
    for d in (Geometric(probs=t64(p)), Geometric(logits=t64(logits))):
        k = GEO_K[:, :2]
        np.testing.assert_allclose(d.log_prob(t64(k)).numpy(), k * np.log1p(-p) + np.log(p), rtol=1e-12)
        np.testing.assert_allclose(d.entropy().numpy(), (-(1 - p) * np.log1p(-p) - p * np.log(p)) / p, rtol=1e-12)
        np.testing.assert_allclose(d.mean.numpy(), (1 - p) / p, rtol=1e-12)
        np.testing.assert_allclose(d.variance.numpy(), (1 - p) / p ** 2, rtol=1e-12)
        np.testing.assert_array_equal(d.mode.numpy(), [0.0, 0.0])
    one = Geometric(probs=t64([1.0]))  # success at once: 0 failures with probability 1
    np.testing.assert_array_equal(one.log_prob(t64([0.0])).numpy(), [0.0])
    assert not Geometric.has_enumerate_support


def test_binomial_is_the_formula_and_enumerates_its_support():
    for d in (Binomial(t64(BIN_N), probs=t64(BIN_P)),
              Binomial(t64(BIN_N), logits=t64(np.log(BIN_P) - np.log1p(-BIN_P)))):
        assert d.batch_shape == (3,)
        np.testing.assert_allclose(d.log_prob(t64(BIN_K)).numpy(), vec(binom_lp)(BIN_K, BIN_N, BIN_P), rtol=1e-11)
        np.testing.assert_allclose(d.mean.numpy(), BIN_N * BIN_P, rtol=1e-12)
        np.testing.assert_allclose(d.variance.numpy(), BIN_N * BIN_P * (1 - BIN_P), rtol=1e-12)
        np.testing.assert_array_equal(d.mode.numpy(), np.minimum(np.floor((BIN_N + 1) * BIN_P), BIN_N))
    d = Binomial(6, probs=t64(BIN_P))
    support = d.enumerate_support()
    assert support.shape == (7, 3) and d.enumerate_support(expand=False).shape == (7, 1)
    np.testing.assert_array_equal(support.numpy()[:, 1], np.arange(7))
    entropy = [-sum(math.exp(binom_lp(k, 6, p)) * binom_lp(k, 6, p) for k in range(7)) for p in BIN_P]
    np.testing.assert_allclose(d.entropy().numpy(), entropy, rtol=1e-12)
    # total_count as an int tensor takes the probabilities' dtype; probs of 0 and 1 stay finite where possible
    e = Binomial(tg.tensor([4, 4]), probs=t64([0.0, 1.0]))
    assert e.total_count.dtype == np.float64
    np.testing.assert_allclose(e.log_prob(t64([0.0, 4.0])).numpy(), [0.0, 0.0], atol=1e-12)
    # draws with a different total_count per distribution have their means and stay within 0 .. n
    tg.manual_seed(4)
    n = 5000
    x = Binomial(t64([[5.0], [40.0]]), probs=t64([0.3, 0.9])).sample((n,)).numpy()
    assert x.shape == (n, 2, 2) and (x >= 0).all() and (x[:, 0] <= 5).all() and (x == np.round(x)).all()
    for i, count in enumerate((5.0, 40.0)):
        for j, p in enumerate((0.3, 0.9)):
            assert within(x[:, i, j], count * p, math.sqrt(count * p * (1 - p) / n))


W = np.array([[1.0, 2.0, 3.0, 4.0], [0.5, 0.0, 0.25, 0.25]])
LOGITS = np.array([[0.3, -1.0, 2.0, 0.0], [5.0, -4.0, 0.5, 0.5]])
ONE_HOTS = np.array([[[0, 0, 1, 0], [1, 0, 0, 0]], [[0, 0, 0, 1], [0, 0, 1, 0]]], dtype=np.float64)


def test_one_hot_categorical_is_the_formula():
    p = W / W.sum(-1, keepdims=True)
    d = OneHotCategorical(probs=t64(W))
    assert d.batch_shape == (2,) and d.event_shape == (4,) and d.param_shape == (2, 4)
    lp = d.log_prob(t64(ONE_HOTS)).numpy()
    idx = ONE_HOTS.argmax(-1)
    np.testing.assert_allclose(lp, np.log(p[np.arange(2), idx]), rtol=1e-13)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(d.entropy().numpy(), -np.where(p > 0, p * np.log(p), 0).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), p, rtol=1e-13)
    np.testing.assert_allclose(d.variance.numpy(), p * (1 - p), rtol=1e-13)
    np.testing.assert_array_equal(d.mode.numpy(), [[0, 0, 0, 1], [1, 0, 0, 0]])
    support = d.enumerate_support()
    assert support.shape == (4, 2, 4) and d.enumerate_support(expand=False).shape == (4, 1, 4)
    np.testing.assert_array_equal(support.numpy()[:, 0], np.eye(4))
    # log_prob over the enumerated support sums to 1
    np.testing.assert_allclose(np.exp(d.log_prob(support).numpy()).sum(0), [1.0, 1.0], rtol=1e-13)
    e = OneHotCategorical(logits=t64(LOGITS))
    np.testing.assert_allclose(e.logits.numpy(), LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True)), rtol=1e-12)


def all_count_vectors(n, k):
    if k == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in all_count_vectors(n - first, k - 1):
            yield (first, *rest)


def multinomial_lp(x, p):
    return (math.lgamma(sum(x) + 1) - sum(math.lgamma(c + 1) for c in x)
            + sum(c * math.log(q) for c, q in zip(x, p) if c))


def test_multinomial_without_validation_computes_with_bad_probs_instead_of_raising():
    """validate_args=False is a promise the caller made: its entropy (through the
    binomial marginals) is NaN for NaN probs, not a validation error from inside."""
    from tinygrad_bn.distributions import Multinomial
    m = Multinomial(3, probs=tg.tensor([0.5, float("nan"), 0.5]), validate_args=False)
    assert np.isnan(m.entropy().numpy()).all()


def test_multinomial_is_the_formula_with_its_entropy_summed_over_every_count_vector():
    p = W / W.sum(-1, keepdims=True)
    d = Multinomial(5, probs=t64(W))
    assert d.batch_shape == (2,) and d.event_shape == (4,) and d.total_count == 5
    x = np.array([[1.0, 1.0, 2.0, 1.0], [3.0, 0.0, 1.0, 1.0]])
    np.testing.assert_allclose(d.log_prob(t64(x)).numpy(), [multinomial_lp(r, q) for r, q in zip(x, p)], rtol=1e-12)
    entropy = [-sum(math.exp(multinomial_lp(v, q)) * multinomial_lp(v, q) for v in all_count_vectors(5, 4)
                    if all(c == 0 or pk > 0 for c, pk in zip(v, q))) for q in p]
    np.testing.assert_allclose(d.entropy().numpy(), entropy, rtol=1e-11)
    np.testing.assert_allclose(d.mean.numpy(), 5 * p, rtol=1e-13)
    np.testing.assert_allclose(d.variance.numpy(), 5 * p * (1 - p), rtol=1e-13)
    # a category of probability 0 counted 0 times adds nothing (not NaN); log_prob takes any total
    assert math.isfinite(d.log_prob(t64([[1.0, 0.0, 0.0, 0.0]])).numpy()[1])
    assert Multinomial(0, probs=t64([0.5, 0.5])).entropy().item() == 0.0


def test_independent_sums_log_prob_and_entropy_over_the_reinterpreted_dims():
    loc, scale = np.array([[0.0, 1.0, -1.0], [2.0, 0.5, 0.0]]), np.array([1.0, 2.0, 0.5])
    base = Normal(t64(loc), t64(scale))
    d = Independent(base, 1)
    assert d.batch_shape == (2,) and d.event_shape == (3,) and d.has_rsample
    x = np.array([0.3, -0.2, 1.0])
    np.testing.assert_allclose(d.log_prob(t64(x)).numpy(), vec(normal_lp)(x, loc, scale).sum(-1), rtol=1e-13)
    entropy = (0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale)).sum()
    np.testing.assert_allclose(d.entropy().numpy(), [entropy, entropy], rtol=1e-13)
    np.testing.assert_array_equal(d.mean.numpy(), loc)
    np.testing.assert_allclose(d.variance.numpy(), np.broadcast_to(scale ** 2, (2, 3)))
    both = Independent(base, 2)
    assert both.batch_shape == () and both.event_shape == (2, 3)
    assert both.log_prob(t64(np.zeros((2, 3)))).shape == ()
    assert Independent(base, 0).batch_shape == (2, 3)
    assert d.sample((4,)).shape == (4, 2, 3) and d.rsample().shape == (2, 3)
    assert repr(d) == "Independent(Normal(loc: Size([2, 3]), scale: Size([2, 3])), 1)"
    assert isinstance(d.support, constraints.Constraint) and d.support.event_dim == 1
    # enumeration: the base's when nothing is reinterpreted, none otherwise (as PyTorch)
    b = Bernoulli(probs=t64([0.3, 0.6]))
    assert Independent(b, 0).has_enumerate_support and not Independent(b, 1).has_enumerate_support
    assert Independent(b, 0).enumerate_support().shape == (2, 2)
    ohc = Independent(OneHotCategorical(probs=t64(W)), 1)
    assert ohc.event_shape == (2, 4) and ohc.log_prob(t64(ONE_HOTS)).shape == (2,)



@pytest.mark.parametrize("sample_dims", [(), (5,), (4, 5)])
@pytest.mark.parametrize("reinterpreted", [0, 1, 2, 3])
def test_independent_sums_exactly_the_rightmost_dims_for_values_of_any_rank(sample_dims, reinterpreted):
    """Values with sample dims in front of the batch (2, 3, 2): the log_prob is
    the base's summed over the last ``reinterpreted`` dims, whatever the rank."""
    rng = np.random.default_rng(3)
    loc, scale = rng.standard_normal((2, 3, 2)), rng.uniform(0.5, 2.0, (2, 3, 2))
    d = Independent(Normal(t64(loc), t64(scale)), reinterpreted)
    x = rng.standard_normal(sample_dims + (2, 3, 2))
    per_element = vec(normal_lp)(x, loc, scale)
    want = per_element.sum(axis=tuple(range(per_element.ndim - reinterpreted, per_element.ndim)))
    got = d.log_prob(t64(x)).numpy()
    assert got.shape == sample_dims + (2, 3, 2)[:3 - reinterpreted]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    entropy = (0.5 + 0.5 * np.log(2 * np.pi) + np.log(scale)).sum(axis=tuple(range(3 - reinterpreted, 3)))
    np.testing.assert_allclose(d.entropy().numpy(), entropy, rtol=1e-12)

@needs_torch
def test_discrete_and_multivariate_agree_with_torch():
    td = torch.distributions
    T = torch.tensor
    cases = [
        (Poisson(t64(RATE)), td.Poisson(T(RATE)), COUNTS, False),
        (Geometric(probs=t64(GEO_P)), td.Geometric(probs=T(GEO_P)), GEO_K, True),
        (Geometric(logits=t64([-2.0, 0.0, 3.0])), td.Geometric(logits=T(np.array([-2.0, 0.0, 3.0]))), GEO_K, True),
        (Binomial(t64(BIN_N), probs=t64(BIN_P)), td.Binomial(T(BIN_N), probs=T(BIN_P)), BIN_K, False),
        (Binomial(6, logits=t64([-1.0, 0.2, 3.0])), td.Binomial(6, logits=T(np.array([-1.0, 0.2, 3.0]))),
         BIN_K.clip(0, 6), True),
        (OneHotCategorical(probs=t64(W)), td.OneHotCategorical(probs=T(W)), ONE_HOTS, True),
        (OneHotCategorical(logits=t64(LOGITS)), td.OneHotCategorical(logits=T(LOGITS)), ONE_HOTS, True),
        (Multinomial(5, probs=t64(W)), td.Multinomial(5, probs=T(W)), np.array([[1.0, 1, 2, 1], [3, 0, 1, 1]]), True),
        (Dirichlet(t64([[0.5, 2.0, 1.0], [3.0, 0.7, 0.2]])), td.Dirichlet(T(np.array([[0.5, 2.0, 1.0], [3.0, 0.7, 0.2]]))),
         np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]]), True),
        (Independent(Laplace(t64(LOC), t64(SCALE)), 1), td.Independent(td.Laplace(T(LOC), T(SCALE)), 1), REALS, True),
    ]
    for i, (ours, theirs, value, with_entropy) in enumerate(cases):
        pairs = [(ours.log_prob(t64(value)), theirs.log_prob(T(value))), (ours.mean, theirs.mean),
                 (ours.variance, theirs.variance)]
        if not isinstance(ours, Multinomial):
            pairs.append((ours.mode, theirs.mode))
        if with_entropy:
            pairs.append((ours.entropy(), theirs.entropy()))
        if ours.has_enumerate_support and with_entropy:  # (with one total_count for a Binomial)
            pairs.append((ours.enumerate_support(), theirs.enumerate_support()))
        for j, (a, b) in enumerate(pairs):
            # PyTorch's Multinomial entropy takes lgamma(n + 1) in float32: 1e-7 off
            rtol = 1e-6 if isinstance(ours, Multinomial) else 1e-10
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=1e-12,
                                       err_msg=f"case {i}, pair {j}")
        assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
        assert tuple(ours.event_shape) == tuple(theirs.event_shape)


def test_dirichlet_and_beta_are_the_formulas():
    a = np.array([[0.5, 2.0, 1.0], [3.0, 0.7, 0.2], [0.3, 0.5, 0.9]])
    x = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3], [0.1, 0.1, 0.8]])
    d = Dirichlet(t64(a))
    assert d.batch_shape == (3,) and d.event_shape == (3,)
    a0 = a.sum(-1)
    lp = ((a - 1) * np.log(x)).sum(-1) + vec(math.lgamma)(a0) - vec(math.lgamma)(a).sum(-1)
    np.testing.assert_allclose(d.log_prob(t64(x)).numpy(), lp, rtol=1e-12)
    psi = vec(digamma)
    entropy = vec(math.lgamma)(a).sum(-1) - vec(math.lgamma)(a0) + (a0 - 3) * psi(a0) - ((a - 1) * psi(a)).sum(-1)
    np.testing.assert_allclose(d.entropy().numpy(), entropy, rtol=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), a / a0[:, None], rtol=1e-13)
    np.testing.assert_allclose(d.variance.numpy(), a * (a0[:, None] - a) / (a0[:, None] ** 2 * (a0[:, None] + 1)),
                               rtol=1e-13)
    # the mode: (a - 1)+ normalized; every a < 1 gives PyTorch's first vertex
    np.testing.assert_allclose(d.mode.numpy(), [[0, 1, 0], [1, 0, 0], [1, 0, 0]], atol=1e-15)
    # of any batch rank, the vertex along the last dim (PyTorch's values)
    np.testing.assert_allclose(Dirichlet(t64([0.5, 0.3, 0.2])).mode.numpy(), [1, 0, 0], atol=1e-15)
    deep = Dirichlet(t64([[[0.5, 0.3, 0.2], [2.0, 3.0, 1.0]], [[0.1, 0.1, 0.1], [1.5, 1.5, 3.0]]]))
    np.testing.assert_allclose(deep.mode.numpy(), [[[1, 0, 0], [1 / 3, 2 / 3, 0]], [[1, 0, 0], [1 / 6, 1 / 6, 2 / 3]]],
                               rtol=1e-14, atol=1e-15)
    c = deep.concentration.numpy()
    c0 = c.sum(-1, keepdims=True)
    np.testing.assert_allclose(deep.mean.numpy(), c / c0, rtol=1e-14)
    np.testing.assert_allclose(deep.variance.numpy(), c * (c0 - c) / (c0 ** 2 * (c0 + 1)), rtol=1e-13)
    np.testing.assert_allclose(Dirichlet(t64([0.5, 1.5])).mean.numpy(), [0.25, 0.75], rtol=1e-15)
    # a concentration of exactly 1 is not below 1: no vertex, and 0 / 0 as in PyTorch (NaN)
    assert np.isnan(Dirichlet(t64([1.0, 0.5, 0.2])).mode.numpy()).all()
    # Beta(a, b) is Dirichlet([a, b]) at (x, 1 - x)
    b = Beta(t64(BETA_A), t64(BETA_B))
    two = Dirichlet(t64(np.stack([BETA_A, BETA_B], -1)))
    np.testing.assert_allclose(b.log_prob(t64(UNIT)).numpy(),
                               two.log_prob(t64(np.stack([UNIT, 1 - UNIT], -1))).numpy(), rtol=1e-13)
    np.testing.assert_array_equal(b.concentration1.numpy(), BETA_A)
    np.testing.assert_array_equal(b.concentration0.numpy(), BETA_B)
    assert Beta(2.0, 3.0).batch_shape == () and Beta(2.0, 3.0).concentration1.dtype == np.float32


# ------------------------------------------------------------------ draws


def cdf_agrees(draws, cdf_values, points):
    """The fraction of draws <= each point is cdf within 5 standard errors."""
    n = draws.shape[0]
    for j, c in enumerate(points):
        f = cdf_values[j]
        below = (draws <= c).mean(0)
        se = np.sqrt(f * (1 - f) / n) + 1e-12
        assert (np.abs(below - f) <= 5 * se).all(), (c, below, f)


# name -> (the distribution, True when the mean and variance are finite with finite fourth moments)
def sampled():
    return {
        "Uniform": Uniform(t64([-1.0, 0.5]), t64([0.5, 3.0])),
        "Exponential": Exponential(t64([0.5, 3.0])),
        "Laplace": Laplace(t64([-1.0, 2.0]), t64([0.5, 2.0])),
        "Cauchy": Cauchy(t64([-1.0, 2.0]), t64([0.5, 2.0])),
        "LogNormal": LogNormal(t64([-1.0, 0.5]), t64([0.5, 0.3])),
        "HalfNormal": HalfNormal(t64([0.5, 2.0])),
        "HalfCauchy": HalfCauchy(t64([0.5, 2.0])),
        "Gumbel": Gumbel(t64([-1.0, 2.0]), t64([0.5, 2.0])),
        "Gamma": Gamma(t64([0.5, 3.0]), t64([2.0, 0.5])),
        "Chi2": Chi2(t64([1.0, 6.0])),
        "Beta": Beta(t64([0.5, 3.0]), t64([0.7, 5.0])),
        "StudentT": StudentT(t64([6.0, 9.0]), t64([-1.0, 2.0]), t64([0.5, 2.0])),
        "Poisson": Poisson(t64([0.5, 12.0])),
        "Geometric": Geometric(probs=t64([0.2, 0.7])),
        "Binomial": Binomial(t64([12.0, 12.0]), probs=t64([0.3, 0.9])),
    }


HEAVY = {"Cauchy", "HalfCauchy"}


@pytest.mark.parametrize("name", list(sampled()))
def test_draws_have_the_mean_variance_and_cdf_and_no_gradient(name):
    d = sampled()[name]
    tg.manual_seed(5)
    x = d.sample((N_DRAWS,))
    assert x.shape == (N_DRAWS, 2) and not x.requires_grad and x.dtype == np.float64
    x = x.numpy()
    assert d.support.check(t64(x)).numpy().all()
    if name not in HEAVY:
        mean, var = d.mean.numpy(), d.variance.numpy()
        for j in range(2):
            assert within(x[:, j], mean[j], math.sqrt(var[j] / N_DRAWS)), (j, x[:, j].mean(), mean[j])
            # the sample variance's standard error, from the draws' own fourth moment
            dev2 = (x[:, j] - x[:, j].mean()) ** 2
            assert within(dev2, var[j], dev2.std() / math.sqrt(N_DRAWS)), (j, dev2.mean(), var[j])
    if name in ("Poisson", "Geometric", "Binomial"):
        assert (x == np.round(x)).all()
        for k in range(3):  # the frequency of each small count is its probability
            p = np.exp(d.log_prob(t64(np.full(2, float(k)))).numpy())
            assert all(within(x[:, j] == k, p[j], math.sqrt(p[j] * (1 - p[j]) / N_DRAWS)) for j in range(2))
    else:
        try:
            quartiles = [d.icdf(t64([q, q])).numpy() for q in (0.25, 0.5, 0.75)]
        except NotImplementedError:
            quartiles = [np.quantile(x, q, axis=0) * 1.01 for q in (0.25, 0.5, 0.75)]
        try:
            cdfs = [d.cdf(t64(c)).numpy() for c in quartiles]
        except NotImplementedError:
            return
        cdf_agrees(x, cdfs, quartiles)


@pytest.mark.parametrize("name", list(sampled()))
def test_draws_are_reproducible_under_manual_seed(name):
    d = sampled()[name]
    tg.manual_seed(9)
    a = d.sample((7,)).numpy()
    b = d.sample((7,)).numpy()
    tg.manual_seed(9)
    np.testing.assert_array_equal(d.sample((7,)).numpy(), a)
    assert not np.array_equal(a, b) or name in ("Geometric", "Binomial", "Poisson")  # the stream moves on
    assert d.sample().shape == (2,) and d.sample((2, 3)).shape == (2, 3, 2)


def test_multivariate_draws_have_their_means_and_sum_where_they_should():
    tg.manual_seed(6)
    n = 5000
    p = W / W.sum(-1, keepdims=True)
    x = OneHotCategorical(probs=t64(W)).sample((n,))
    assert x.shape == (n, 2, 4) and x.dtype == np.float64
    x = x.numpy()
    assert ((x == 0) | (x == 1)).all() and (x.sum(-1) == 1).all()
    for b in range(2):
        for k in range(4):
            assert within(x[:, b, k], p[b, k], math.sqrt(p[b, k] * (1 - p[b, k]) / n))
    m = Multinomial(7, probs=t64(W)).sample((n,))
    assert m.shape == (n, 2, 4)
    m = m.numpy()
    assert (m.sum(-1) == 7).all() and (m[:, 1, 1] == 0).all()
    for b in range(2):
        for k in range(4):
            assert within(m[:, b, k], 7 * p[b, k], math.sqrt(7 * p[b, k] * (1 - p[b, k]) / n))
    a = np.array([[0.5, 2.0, 1.0], [3.0, 0.7, 0.2]])
    dir_ = Dirichlet(t64(a))
    y = dir_.sample((n,)).numpy()
    assert y.shape == (n, 2, 3) and np.allclose(y.sum(-1), 1.0) and (y > 0).all()
    mean, var = dir_.mean.numpy(), dir_.variance.numpy()
    for b in range(2):
        for k in range(3):
            assert within(y[:, b, k], mean[b, k], math.sqrt(var[b, k] / n))
    tg.manual_seed(6)
    assert Multinomial(3, logits=t64([0.0, 1.0])).sample((4,)).shape == (4, 2)
    assert Multinomial(0, probs=t64([0.5, 0.5])).sample((3,)).numpy().tolist() == [[0, 0]] * 3


def test_gamma_draws_for_tiny_concentrations_stay_positive():
    tg.manual_seed(1)
    x = Gamma(t64([1e-3, 0.05]), 1.0).sample((1000,)).numpy()
    assert (x > 0).all() and np.isfinite(x).all()
    x32 = Gamma(tg.tensor([1e-4]), 1.0).sample((100,))
    assert x32.dtype == np.float32 and (x32.numpy() >= np.finfo(np.float32).tiny).all()


# ------------------------------------------------------------------ gradients

RSAMPLED = {
    "Uniform": (Uniform, ([-1.0, 0.5], [0.5, 3.0])),
    "Exponential": (Exponential, ([0.5, 3.0],)),
    "Laplace": (Laplace, ([-1.0, 2.0], [0.5, 2.0])),
    "Cauchy": (Cauchy, ([-1.0, 2.0], [0.5, 2.0])),
    "LogNormal": (LogNormal, ([-1.0, 0.5], [0.5, 0.3])),
    "HalfNormal": (HalfNormal, ([0.5, 2.0],)),
    "HalfCauchy": (HalfCauchy, ([0.5, 2.0],)),
    "Gumbel": (Gumbel, ([-1.0, 2.0], [0.5, 2.0])),
}


@pytest.mark.parametrize("name", list(RSAMPLED))
def test_rsample_is_reparameterized_and_gradchecks(name):
    cls, params = RSAMPLED[name]
    assert cls.has_rsample
    leaves = [t64(p, requires_grad=True) for p in params]

    def reseeded(*ps):
        tg.manual_seed(3)  # the same noise on every call gradcheck makes
        return cls(*ps).rsample((4,))

    x = reseeded(*leaves)
    assert x.requires_grad and x.shape == (4, 2)
    tg.manual_seed(3)
    np.testing.assert_array_equal(cls(*leaves).sample((4,)).numpy(), x.detach().numpy())  # sample: same draw
    assert gradcheck(reseeded, tuple(leaves))


def test_rsample_gradients_are_the_inverse_cdf_derivatives():
    # Exponential: x = e / rate, so dx/drate = -x / rate
    rate = t64([0.5, 3.0], requires_grad=True)
    tg.manual_seed(2)
    x = Exponential(rate).rsample((5,))
    x.sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), (-x.detach().numpy() / rate.detach().numpy()).sum(0), rtol=1e-12)
    # Uniform: x = low + u (high - low): dx/dhigh = u, dx/dlow = 1 - u
    low, high = t64([0.0], requires_grad=True), t64([2.0], requires_grad=True)
    tg.manual_seed(2)
    x = Uniform(low, high).rsample((3,))
    x.sum().backward()
    u = x.detach().numpy() / 2
    np.testing.assert_allclose(high.grad.numpy(), u.sum(0), rtol=1e-12)
    np.testing.assert_allclose(low.grad.numpy(), (1 - u).sum(0), rtol=1e-12)


GRAD_CASES = {
    "Uniform": (lambda lo, hi: Uniform(lo, hi), ([-1.0, 0.5], [0.5, 3.0]), [0.0, 1.0]),
    "Exponential": (Exponential, ([0.5, 3.0],), [0.3, 1.5]),
    "Laplace": (Laplace, ([-1.0, 2.0], [0.5, 2.0]), [0.3, 1.5]),
    "Cauchy": (Cauchy, ([-1.0, 2.0], [0.5, 2.0]), [0.3, 1.5]),
    "LogNormal": (LogNormal, ([-1.0, 0.5], [0.5, 0.3]), [0.3, 1.5]),
    "HalfNormal": (HalfNormal, ([0.5, 2.0],), [0.3, 1.5]),
    "HalfCauchy": (HalfCauchy, ([0.5, 2.0],), [0.3, 1.5]),
    "Gumbel": (Gumbel, ([-1.0, 2.0], [0.5, 2.0]), [0.3, 1.5]),
    "Gamma": (Gamma, ([0.5, 3.0], [2.0, 0.5]), [0.3, 1.5]),
    "Chi2": (Chi2, ([1.5, 6.0],), [0.3, 1.5]),
    "Beta": (Beta, ([0.5, 3.0], [0.7, 5.0]), [0.3, 0.6]),
    "StudentT": (StudentT, ([0.8, 6.0], [-1.0, 2.0], [0.5, 2.0]), [0.3, 1.5]),
    "Poisson": (Poisson, ([0.5, 12.0],), [0.0, 9.0]),
    "Geometric": (lambda p: Geometric(probs=p), ([0.2, 0.7],), [0.0, 3.0]),
    "GeometricLogits": (lambda z: Geometric(logits=z), ([-1.0, 2.0],), [0.0, 3.0]),
    "Binomial": (lambda p: Binomial(t64([12.0, 12.0]), probs=p), ([0.3, 0.9],), [2.0, 11.0]),
    "BinomialLogits": (lambda z: Binomial(7, logits=z), ([-1.0, 2.0],), [2.0, 7.0]),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_log_prob_and_entropy_gradients(name):
    make, params, value = GRAD_CASES[name]
    leaves = tuple(t64(p, requires_grad=True) for p in params)
    assert gradcheck(lambda *ps: make(*ps).log_prob(t64(value)), leaves)
    if name != "Uniform":  # its entropy is log(high - low): checked by the next line anyway
        assert gradcheck(lambda *ps: make(*ps).entropy(), leaves)
    else:
        assert gradcheck(lambda *ps: make(*ps).entropy(), leaves)


def test_multivariate_log_prob_and_entropy_gradients():
    z = t64(LOGITS, requires_grad=True)
    assert gradcheck(lambda t: OneHotCategorical(logits=t).log_prob(t64(ONE_HOTS)), z)
    assert gradcheck(lambda t: OneHotCategorical(logits=t).entropy(), z)
    assert gradcheck(lambda t: Multinomial(4, logits=t).log_prob(t64([[1.0, 0.0, 2.0, 1.0]])), z)
    assert gradcheck(lambda t: Multinomial(4, logits=t).entropy(), z)
    a = t64([[0.5, 2.0, 1.0], [3.0, 0.7, 0.2]], requires_grad=True)
    x = t64([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    assert gradcheck(lambda t: Dirichlet(t).log_prob(x), a)
    assert gradcheck(lambda t: Dirichlet(t).entropy(), a)
    loc = t64([[0.0, 1.0], [2.0, -1.0]], requires_grad=True)
    assert gradcheck(lambda m: Independent(Normal(m, 2.0), 1).log_prob(t64([0.5, 0.5])), loc)
    # d log p / d rate of a Poisson is k / rate - 1: against the formula
    rate = t64(RATE, requires_grad=True)
    Poisson(rate).log_prob(t64(COUNTS)).sum().backward()
    np.testing.assert_allclose(rate.grad.numpy(), (COUNTS / RATE - 1).sum(0), rtol=1e-12)


# ------------------------------------------------------------------ expand, repr, devices


@pytest.mark.parametrize("name", list(sampled()))
def test_expand_keeps_the_distribution(name):
    d = sampled()[name]
    e = d.expand((3, 2))
    assert type(e) is type(d) and e.batch_shape == (3, 2) and e.sample().shape == (3, 2)
    np.testing.assert_allclose(e.mean.numpy() if name not in HEAVY else e.mode.numpy(),
                               np.broadcast_to((d.mean if name not in HEAVY else d.mode).numpy(), (3, 2)))
    np.testing.assert_allclose(e.entropy().numpy(), np.broadcast_to(d.entropy().numpy(), (3, 2)), rtol=1e-13)
    with pytest.raises(RuntimeError, match=f"{name}.expand: cannot expand batch_shape \\(2,\\) to \\(3,\\)"):
        d.expand((3,))


def test_expand_of_the_vector_distributions():
    for d in (OneHotCategorical(probs=t64(W[:1])), Multinomial(3, probs=t64(W[:1])),
              Dirichlet(t64([[0.5, 2.0, 1.0]]))):
        e = d.expand((4,))
        assert e.batch_shape == (4,) and e.event_shape == d.event_shape and e.sample((2,)).shape == (2, 4, d.event_shape[0])
    i = Independent(Normal(t64([[0.0, 1.0]]), 1.0), 1).expand((5,))
    assert i.batch_shape == (5,) and i.event_shape == (2,) and i.base_dist.batch_shape == (5, 2)


def test_reprs_name_the_parameters():
    assert repr(Uniform(0.0, 1.0)) == "Uniform(low: 0.0, high: 1.0)"
    assert repr(Chi2(2.0)) == "Chi2(df: 2.0)"
    assert repr(Beta(1.0, 2.0)) == "Beta(concentration1: 1.0, concentration0: 2.0)"
    assert repr(Multinomial(3, probs=tg.ones(3))) == "Multinomial(total_count: 3, probs: Size([3]))"
    assert repr(StudentT(3.0)) == "StudentT(df: 3.0, loc: 0.0, scale: 1.0)"
    assert repr(Binomial(3, tg.tensor([0.5, 0.2]))).startswith("Binomial(total_count: Size([2])")


def test_draws_and_densities_stay_on_the_parameters_device(alt_device):
    a = tg.tensor([0.5, 3.0], device="alt", requires_grad=True)
    for d in (Gamma(a, 1.0), Beta(a, 2.0), Exponential(a), Poisson(a), Binomial(5, probs=a / 4),
              Geometric(probs=a / 4), Dirichlet(a), StudentT(a), Laplace(a, 1.0)):
        x = d.sample((3,))
        assert x.device == "alt", type(d).__name__
        assert d.log_prob(x).device == "alt" and d.entropy().device == "alt"
    d = LogNormal(a, 1.0)
    d.rsample((2,)).sum().backward()
    assert a.grad.device == "alt"
    o = OneHotCategorical(logits=tg.zeros(2, 3, device="alt"))
    assert o.sample().device == "alt" and Multinomial(2, logits=tg.zeros(3, device="alt")).sample().device == "alt"
    with pytest.raises(RuntimeError, match="Gamma.log_prob: expected all tensors on the same device"):
        Gamma(a, 1.0).log_prob(tg.ones(2))


# ------------------------------------------------------------------ KL divergence


def kl_cases():
    """(p, q, the closed form in float64 written here)."""
    m1, s1, m2, s2 = np.array([0.0, 1.0]), np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([2.0, 0.5])
    normal_kl = np.log(s2 / s1) + (s1 ** 2 + (m1 - m2) ** 2) / (2 * s2 ** 2) - 0.5
    r1, r2 = np.array([0.5, 2.0]), np.array([1.5, 0.1])
    a1, b1, a2, b2 = np.array([0.5, 3.0]), np.array([1.0, 2.0]), np.array([1.5, 0.3]), np.array([2.0, 0.5])
    psi = vec(digamma)
    lg = vec(math.lgamma)
    gamma_kl = ((a1 - a2) * psi(a1) - lg(a1) + lg(a2) + a2 * (np.log(b1) - np.log(b2)) + a1 * (b2 - b1) / b1)
    beta_kl = (lg(a2) + lg(b2) - lg(a2 + b2) - lg(a1) - lg(b1) + lg(a1 + b1) + (a1 - a2) * psi(a1)
               + (b1 - b2) * psi(b1) + (a2 - a1 + b2 - b1) * psi(a1 + b1))
    d = np.abs(m1 - m2)
    laplace_kl = np.log(s2 / s1) + d / s2 + s1 / s2 * np.exp(-d / s1) - 1
    p1, p2 = np.array([0.3, 0.9]), np.array([0.6, 0.2])
    bern_kl = p1 * np.log(p1 / p2) + (1 - p1) * np.log((1 - p1) / (1 - p2))
    c1, c2 = W[0] / W[0].sum(), np.array([0.1, 0.2, 0.3, 0.4])[::-1]
    return {
        "Normal": (Normal(t64(m1), t64(s1)), Normal(t64(m2), t64(s2)), normal_kl),
        "Bernoulli": (Bernoulli(probs=t64(p1)), Bernoulli(probs=t64(p2)), bern_kl),
        "Categorical": (Categorical(probs=t64(c1)), Categorical(probs=t64(c2)), np.sum(c1 * np.log(c1 / c2))),
        "OneHotCategorical": (OneHotCategorical(probs=t64(c1)), OneHotCategorical(probs=t64(c2)),
                              np.sum(c1 * np.log(c1 / c2))),
        "Uniform": (Uniform(t64([0.0, -1.0]), t64([1.0, 1.0])), Uniform(t64([-1.0, -2.0]), t64([2.0, 4.0])),
                    np.log(np.array([3.0, 6.0]) / np.array([1.0, 2.0]))),
        "Exponential": (Exponential(t64(r1)), Exponential(t64(r2)), np.log(r1 / r2) + r2 / r1 - 1),
        "Laplace": (Laplace(t64(m1), t64(s1)), Laplace(t64(m2), t64(s2)), laplace_kl),
        "Poisson": (Poisson(t64(r1)), Poisson(t64(r2)), r1 * np.log(r1 / r2) - r1 + r2),
        "Gamma": (Gamma(t64(a1), t64(b1)), Gamma(t64(a2), t64(b2)), gamma_kl),
        "Beta": (Beta(t64(a1), t64(b1)), Beta(t64(a2), t64(b2)), beta_kl),
        "Independent": (Independent(Normal(t64(m1), t64(s1)), 1), Independent(Normal(t64(m2), t64(s2)), 1),
                        normal_kl.sum()),
        "Geometric": (Geometric(probs=t64(p1)), Geometric(probs=t64(p2)),
                      np.log(p1 / p2) + (1 - p1) / p1 * np.log((1 - p1) / (1 - p2))),
        "LogNormal": (LogNormal(t64(m1), t64(s1)), LogNormal(t64(m2), t64(s2)), normal_kl),
        "HalfNormal": (HalfNormal(t64(s1)), HalfNormal(t64(s2)), np.log(s2 / s1) + s1 ** 2 / (2 * s2 ** 2) - 0.5),
        "Cauchy": (Cauchy(t64(m1), t64(s1)), Cauchy(t64(m2), t64(s2)),
                   np.log(((s1 + s2) ** 2 + (m1 - m2) ** 2) / (4 * s1 * s2))),
        "Gumbel": (Gumbel(t64(m1), t64(s1)), Gumbel(t64(m2), t64(s2)),
                   np.log(s2 / s1) + EULER * (s1 / s2 - 1) + np.exp((m2 - m1) / s2) * vec(math.gamma)(s1 / s2 + 1)
                   - 1 + (m1 - m2) / s2),
        "Binomial": (Binomial(5, probs=t64(p1)), Binomial(5, probs=t64(p2)), 5 * bern_kl),
        "Dirichlet": (Dirichlet(t64(np.stack([a1, b1], -1))), Dirichlet(t64(np.stack([a2, b2], -1))), beta_kl),
    }


@pytest.mark.parametrize("name", list(kl_cases()))
def test_kl_is_the_closed_form(name):
    p, q, expected = kl_cases()[name]
    got = kl_divergence(p, q)
    assert got.shape == tuple(p.batch_shape)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    assert kl.kl_divergence(p, q).numpy().tolist() == got.numpy().tolist()
    np.testing.assert_allclose(kl_divergence(p, p).numpy(), 0.0, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("name", list(kl_cases()))
def test_kl_agrees_with_torch(name):
    p, q, _ = kl_cases()[name]

    def theirs(d):
        td = torch.distributions
        if isinstance(d, Independent):
            return td.Independent(theirs(d.base_dist), d.reinterpreted_batch_ndims)
        if isinstance(d, (Bernoulli, Categorical, OneHotCategorical, Geometric)):
            return getattr(td, type(d).__name__)(probs=torch.tensor(d.probs.numpy()))
        if isinstance(d, Binomial):
            return td.Binomial(torch.tensor(d.total_count.numpy()), probs=torch.tensor(d.probs.numpy()))
        names = {"Normal": ("loc", "scale"), "LogNormal": ("loc", "scale"), "Laplace": ("loc", "scale"),
                 "Cauchy": ("loc", "scale"), "Gumbel": ("loc", "scale"), "HalfNormal": ("scale",),
                 "Uniform": ("low", "high"), "Exponential": ("rate",), "Poisson": ("rate",),
                 "Gamma": ("concentration", "rate"), "Beta": ("concentration1", "concentration0"),
                 "Dirichlet": ("concentration",)}[type(d).__name__]
        return getattr(td, type(d).__name__)(*(torch.tensor(getattr(d, n).numpy()) for n in names))

    np.testing.assert_allclose(kl_divergence(p, q).numpy(), torch.distributions.kl_divergence(theirs(p), theirs(q)),
                               rtol=1e-10)


MONTE_CARLO = ["Normal", "Uniform", "Exponential", "Laplace", "Poisson", "Gamma", "Beta", "Geometric", "Binomial",
               "Bernoulli", "Categorical", "OneHotCategorical", "Independent", "LogNormal", "Gumbel"]


@pytest.mark.parametrize("name", MONTE_CARLO)
def test_kl_agrees_with_a_monte_carlo_estimate(name):
    p, q, _ = kl_cases()[name]
    tg.manual_seed(8)
    x = p.sample((N_DRAWS,))
    ratio = (p.log_prob(x) - q.log_prob(x)).numpy()
    expected = kl_divergence(p, q).numpy()
    se = ratio.std(0) / math.sqrt(N_DRAWS)
    assert (np.abs(ratio.mean(0) - expected) <= 5 * se + 1e-9).all(), (ratio.mean(0), expected, se)


def test_bernoulli_kl_at_every_pair_of_boundary_and_inner_probabilities():
    """p and q each 0, 0.3 or 1 (PyTorch's values): 0 log 0 counts 0, a support q lacks is inf."""
    grid = [0.0, 0.3, 1.0]
    p, q = np.meshgrid(grid, grid, indexing="ij")
    want = [[0.0, -math.log(0.7), np.inf], [np.inf, 0.0, np.inf], [np.inf, -math.log(0.3), 0.0]]
    got = kl_divergence(Bernoulli(probs=t64(p.ravel())), Bernoulli(probs=t64(q.ravel()))).numpy().reshape(3, 3)
    np.testing.assert_allclose(got, want, rtol=1e-14)


def test_kl_gives_inf_and_zero_where_the_supports_say_so():
    np.testing.assert_allclose(
        kl_divergence(Bernoulli(probs=t64([0.0, 0.3, 1.0, 0.5])), Bernoulli(probs=t64([0.2, 0.0, 0.7, 1.0]))).numpy(),
        [-math.log(0.8), np.inf, -math.log(0.7), np.inf], rtol=1e-14)
    assert kl_divergence(Categorical(probs=t64([0.5, 0.5, 0.0])), Categorical(probs=t64([0.5, 0.0, 0.5]))).item() == np.inf
    assert kl_divergence(Categorical(probs=t64([1.0, 0.0])), Categorical(probs=t64([0.5, 0.5]))).item() == pytest.approx(
        math.log(2), rel=1e-12)
    # a category neither has adds nothing (0 log 0/0 counts 0, as PyTorch's)
    assert kl_divergence(Categorical(probs=t64([0.5, 0.5, 0.0])), Categorical(probs=t64([0.25, 0.75, 0.0]))).item() == \
        pytest.approx(0.5 * math.log(2) + 0.5 * math.log(0.5 / 0.75), rel=1e-12)
    # q must cover p's interval
    got = kl_divergence(Uniform(t64([0.0, 0.0]), t64([1.0, 1.0])), Uniform(t64([0.5, -1.0]), t64([2.0, 0.5]))).numpy()
    np.testing.assert_array_equal(got, [np.inf, np.inf])
    assert kl_divergence(Poisson(t64([0.0])), Poisson(t64([2.5]))).item() == pytest.approx(2.5, rel=1e-14)
    assert kl_divergence(Binomial(6, probs=t64([0.3])), Binomial(5, probs=t64([0.3]))).item() == np.inf


def test_kl_broadcasts_the_batches_and_is_differentiable():
    m = t64([[0.0], [1.0]], requires_grad=True)
    s = t64([0.5, 2.0, 1.0], requires_grad=True)
    out = kl_divergence(Normal(m, 1.0), Normal(0.0, s))
    assert out.shape == (2, 3)
    assert gradcheck(lambda a, b: kl_divergence(Normal(a, 1.0), Normal(0.0, b)), (m, s))
    a, b = t64([0.5, 3.0], requires_grad=True), t64([1.0, 2.0], requires_grad=True)
    assert gradcheck(lambda x, y: kl_divergence(Gamma(x, y), Gamma(t64([1.5, 0.3]), 2.0)), (a, b))
    assert gradcheck(lambda x, y: kl_divergence(Beta(x, y), Beta(2.0, t64([0.5, 4.0]))), (a, b))
    assert gradcheck(lambda x: kl_divergence(Laplace(x, 1.0), Laplace(0.0, 2.0)), (a,))
    z = t64(LOGITS, requires_grad=True)
    assert gradcheck(lambda t: kl_divergence(OneHotCategorical(logits=t), OneHotCategorical(probs=t64(W + 0.1))), z)
    assert gradcheck(lambda t: kl_divergence(Poisson(t), Poisson(t64([1.0, 2.0]))), (a,))


def test_kl_of_a_subclass_uses_the_parents_pair():
    # Chi2 is a Gamma: Gamma-Gamma applies, as in PyTorch
    got = kl_divergence(Chi2(t64([3.0])), Gamma(t64([2.0]), t64([1.0]))).item()
    assert got == pytest.approx(kl_divergence(Gamma(t64([1.5]), t64([0.5])), Gamma(t64([2.0]), t64([1.0]))).item(),
                                rel=1e-14)


@pytest.fixture
def clean_registry():
    saved = dict(kl._KL_REGISTRY)
    yield
    kl._KL_REGISTRY.clear()
    kl._KL_REGISTRY.update(saved)
    kl._KL_MEMOIZE.clear()


def test_register_kl_dispatches_on_the_most_specific_pair(clean_registry):
    class MyNormal(Normal):
        pass

    class MyOtherNormal(MyNormal):
        pass

    p, q = MyNormal(0.0, 1.0), Normal(1.0, 1.0)
    plain = kl_divergence(p, q).item()
    assert plain == pytest.approx(0.5, rel=1e-6)  # Normal-Normal applies to a subclass

    @register_kl(MyNormal, Normal)
    def _mine(a, b):
        return tg.tensor(123.0)

    assert _mine.__name__ == "_mine"  # the decorator returns the function
    assert kl_divergence(p, q).item() == 123.0
    assert kl_divergence(MyOtherNormal(0.0, 1.0), q).item() == 123.0  # the closest registered ancestor
    assert kl_divergence(q, p).item() == pytest.approx(0.5, rel=1e-6)  # (Normal, MyNormal): Normal-Normal

    register_kl(MyOtherNormal, MyOtherNormal)(lambda a, b: tg.tensor(7.0))
    assert kl_divergence(MyOtherNormal(0.0, 1.0), MyOtherNormal(0.0, 1.0)).item() == 7.0
    assert kl_divergence(MyOtherNormal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 123.0


def test_register_kl_warns_when_two_pairs_tie(clean_registry):
    class A(Normal):
        pass

    register_kl(A, Normal)(lambda a, b: tg.tensor(1.0))
    register_kl(Normal, A)(lambda a, b: tg.tensor(2.0))
    with pytest.warns(RuntimeWarning, match="Ambiguous kl_divergence\\(A, A\\).*register_kl\\(A, A\\)"):
        assert kl_divergence(A(0.0, 1.0), A(0.0, 1.0)).item() == 1.0  # the more specific p wins
    register_kl(A, A)(lambda a, b: tg.tensor(3.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kl_divergence(A(0.0, 1.0), A(0.0, 1.0)).item() == 3.0


def test_kl_refusals():
    with pytest.raises(NotImplementedError, match="kl_divergence: no KL\\(p \\|\\| q\\) is registered for p of type "
                                                  "Normal and q of type Exponential; for p a Normal, q must be one of: "
                                                  "Normal \\(or register one with "
                                                  "@register_kl\\(Normal, Exponential\\)\\)"):
        kl_divergence(Normal(0.0, 1.0), Exponential(1.0))
    with pytest.raises(TypeError, match="kl_divergence: q must be a Distribution, got Tensor"):
        kl_divergence(Normal(0.0, 1.0), tg.zeros(1))
    with pytest.raises(TypeError, match="register_kl: type_p must be a Distribution subclass \\(e.g. Normal\\), got"):
        register_kl(int, Normal)
    with pytest.raises(TypeError, match="register_kl: type_q must be a Distribution subclass"):
        register_kl(Normal, Normal(0.0, 1.0))
    with pytest.raises(TypeError, match="register_kl\\(Normal, Normal\\): expected a function fn\\(p, q\\), got int"):
        register_kl(Normal, Normal)(3)
    with pytest.raises(NotImplementedError, match="p reinterprets 1 batch dims and q 0"):
        kl_divergence(Independent(Normal(tg.zeros(2), 1.0), 1), Independent(Normal(tg.zeros(2), 1.0), 0))
    with pytest.raises(NotImplementedError, match="q.total_count > p.total_count is not implemented"):
        kl_divergence(Binomial(3, probs=tg.tensor([0.5])), Binomial(4, probs=tg.tensor([0.5])))


# ------------------------------------------------------------------ constraints, support, package


def test_the_package_exports_the_new_names():
    for name in ("Uniform", "Exponential", "Laplace", "Cauchy", "LogNormal", "HalfNormal", "HalfCauchy", "Gumbel",
                 "Poisson", "Geometric", "Binomial", "OneHotCategorical", "Independent", "Multinomial", "Gamma",
                 "Chi2", "Beta", "Dirichlet", "StudentT", "kl_divergence", "register_kl", "kl"):
        assert name in distributions.__all__ and hasattr(distributions, name)
    assert distributions.kl.register_kl is register_kl and distributions.kl.kl_divergence is kl_divergence
    assert issubclass(Chi2, Gamma) and all(issubclass(getattr(distributions, n), Distribution)
                                           for n in distributions.__all__ if n[0].isupper())


def test_the_new_constraints():
    x = tg.tensor([-1.0, 0.0, 0.5, 1.0, 2.0, np.inf, np.nan])
    expect = {
        constraints.nonnegative: [0, 1, 1, 1, 1, 1, 0],
        constraints.nonnegative_integer: [0, 1, 0, 1, 1, 0, 0],
        constraints.positive_integer: [0, 0, 0, 1, 1, 0, 0],
        constraints.greater_than_eq(1.0): [0, 0, 0, 1, 1, 1, 0],
        constraints.less_than(1.0): [1, 1, 1, 0, 0, 0, 0],
    }
    for c, want in expect.items():
        np.testing.assert_array_equal(c.check(x).numpy(), np.array(want, bool), err_msg=repr(c))
    rows = tg.tensor([[0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    np.testing.assert_array_equal(constraints.one_hot.check(rows).numpy(), [True, False, False, False])
    counts = tg.tensor([[1.0, 2.0], [3.0, 1.0], [-1.0, 2.0]])
    np.testing.assert_array_equal(constraints.multinomial(3).check(counts).numpy(), [True, False, False])
    # tensor bounds, as a distribution's support
    between = constraints.interval(tg.tensor([0.0, 1.0]), tg.tensor([1.0, 3.0]), text="in [low, high]")
    np.testing.assert_array_equal(between.check(tg.tensor([0.5, 0.5])).numpy(), [True, False])
    assert str(between) == "in [low, high]" and str(constraints.nonnegative) == "non-negative (>= 0)"
    assert constraints.one_hot.event_dim == 1 and constraints.one_hot.is_discrete
    assert repr(constraints.nonnegative_integer) == "IntegerGreaterThan(lower_bound=0)"
    if torch is not None:
        tc = torch.distributions.constraints
        for ours, theirs in [(constraints.nonnegative, tc.nonnegative),
                             (constraints.nonnegative_integer, tc.nonnegative_integer),
                             (constraints.positive_integer, tc.positive_integer)]:
            np.testing.assert_array_equal(ours.check(x).numpy(), theirs.check(torch.tensor(x.numpy())).numpy())


def test_supports_and_arg_constraints_are_pytorchs():
    assert Exponential(1.0).support is constraints.nonnegative
    assert Gamma(1.0, 1.0).support is constraints.nonnegative
    assert LogNormal(0.0, 1.0).support is constraints.positive
    assert Beta(1.0, 1.0).support is constraints.unit_interval
    assert Dirichlet(tg.ones(3)).support is constraints.simplex
    assert OneHotCategorical(probs=tg.ones(3)).support is constraints.one_hot
    assert Poisson(1.0).support is constraints.nonnegative_integer
    s = Binomial(5, probs=tg.tensor([0.5])).support
    assert s.is_discrete and s.check(tg.tensor([0.0, 5.0, 6.0, 2.5])).numpy().tolist() == [True, True, False, False]
    assert Multinomial(4, probs=tg.ones(2)).support.upper_bound == 4
    assert set(Uniform(0.0, 1.0).arg_constraints) == {"low", "high"}
    assert Chi2.arg_constraints == {"df": constraints.positive}
    assert set(StudentT.arg_constraints) == {"df", "loc", "scale"}
    assert Independent.arg_constraints == {}


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize("make, message", [
    (lambda: Uniform(tg.tensor([0.0, 2.0]), tg.tensor([1.0, 1.0])),
     ("Uniform: expected parameter low \\(a tensor of shape \\(2,\\)\\) to be less than high, but 1 of its 2 values "
     "are not \\(e.g. 2.0\\); give each low below its high")),
    (lambda: Uniform(float("nan"), 1.0), "Uniform: expected parameter low .* less than high"),
    (lambda: Exponential(tg.tensor([1.0, 0.0])), ("Exponential: expected parameter rate .* positive \\(> 0\\).*"
                                                 "e.g. 0.0.*pass a positive rate")),
    (lambda: Laplace(0.0, -1.0), "Laplace: expected parameter scale .* positive .*e.g. -1.0"),
    (lambda: Cauchy(float("nan"), 1.0), "Cauchy: expected parameter loc .* real numbers \\(not NaN\\)"),
    (lambda: LogNormal(0.0, 0.0), "LogNormal: expected parameter scale .* positive"),
    (lambda: HalfNormal(-2.0), "HalfNormal: expected parameter scale .* positive .*e.g. -2.0"),
    (lambda: HalfCauchy(tg.tensor([1.0, -1.0])), "HalfCauchy: expected parameter scale .*1 of its 2 values"),
    (lambda: Gumbel(0.0, 0.0), "Gumbel: expected parameter scale .* positive"),
    (lambda: Poisson(-0.5), "Poisson: expected parameter rate .* non-negative \\(>= 0\\).*e.g. -0.5"),
    (lambda: Geometric(probs=0.0), ("Geometric: expected parameter probs .* positive \\(a success probability of 0 "
                                   "never stops\\)")),
    (lambda: Geometric(probs=1.5), "Geometric: expected parameter probs .* in \\[0.0, 1.0\\]"),
    (lambda: Geometric(), "Geometric: expected exactly one of probs or logits, got neither"),
    (lambda: Geometric(probs=0.5, logits=0.0), "Geometric: expected exactly one of probs or logits, got both"),
    (lambda: Binomial(2.5, probs=0.5), ("Binomial: expected parameter total_count .* whole numbers >= 0.*e.g. 2.5.*"
                                       "number of trials")),
    (lambda: Binomial(-1, probs=0.5), "Binomial: expected parameter total_count .*e.g. -1.0"),
    (lambda: Binomial(3, probs=tg.tensor([0.5, 1.2])), "Binomial: expected parameter probs .* in \\[0.0, 1.0\\]"),
    (lambda: Binomial(3), "Binomial: expected exactly one of probs or logits, got neither"),
    (lambda: OneHotCategorical(probs=tg.tensor([0.5, -0.5])), ("OneHotCategorical: expected parameter probs .* "
                                                               "finite and non-negative")),
    (lambda: OneHotCategorical(logits=tg.tensor([0.0, float("nan")])), ("OneHotCategorical: expected parameter "
                                                                        "logits")),
    (lambda: OneHotCategorical(probs=tg.tensor(1.0)), "OneHotCategorical: probs must have at least one dim"),
    (lambda: OneHotCategorical(), "OneHotCategorical: expected exactly one of probs or logits, got neither"),
    (lambda: Multinomial(3, probs=tg.tensor([[0.0, 0.0]])), ("Multinomial: expected parameter probs \\(its sums over "
                                                             "the last dim\\).*positive")),
    (lambda: Multinomial(-1, probs=tg.ones(2)), ("Multinomial: total_count must be >= 0 \\(the number of draws\\), "
                                                "got -1")),
    (lambda: Independent(Normal(tg.zeros(2), 1.0), 2), ("Independent: expected reinterpreted_batch_ndims <= the number "
                                                       "of batch dims of the base distribution \\(1, batch_shape "
                                                       "\\(2,\\)\\), got 2")),
    (lambda: Independent(Normal(tg.zeros(2), 1.0), -1), ("Independent: reinterpreted_batch_ndims must be an int >= 0, "
                                                        "got -1")),
    (lambda: Gamma(tg.tensor([1.0, 0.0]), 1.0), ("Gamma: expected parameter concentration .* positive .*pass a "
                                                "positive shape")),
    (lambda: Gamma(1.0, -1.0), "Gamma: expected parameter rate .* positive"),
    (lambda: Chi2(0.0), "Chi2: expected parameter df .* positive .*degrees of freedom"),
    (lambda: Beta(0.0, 1.0), "Beta: expected parameter concentration1 .* positive"),
    (lambda: Beta(1.0, tg.tensor([1.0, -2.0])), "Beta: expected parameter concentration0 .*e.g. -2.0"),
    (lambda: Dirichlet(tg.tensor([1.0, 0.0])), "Dirichlet: expected parameter concentration .* positive .*e.g. 0.0"),
    (lambda: Dirichlet(tg.tensor(1.0)), "Dirichlet: concentration must have at least one dim"),
    (lambda: StudentT(-1.0), "StudentT: expected parameter df .* positive"),
    (lambda: StudentT(3.0, 0.0, 0.0), "StudentT: expected parameter scale .* positive"),
])
def test_bad_parameters_are_refused_with_the_distribution_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make, message", [
    (lambda: Exponential("1"), "Exponential: rate must be a Tensor or a number, got str"),
    (lambda: Gamma(tg.tensor([1, 2]), 1.0), "Gamma: concentration must be a floating point tensor, got dtype int64"),
    (lambda: Dirichlet([1.0, 2.0]), "Dirichlet: concentration must be a Tensor, got list"),
    (lambda: OneHotCategorical(probs=[0.5, 0.5]), "OneHotCategorical: probs must be a Tensor, got list"),
    (lambda: Multinomial(2.0, probs=tg.ones(2)), "Multinomial: total_count must be an int, got float 2.0"),
    (lambda: Independent(tg.zeros(2), 1), "Independent: base_distribution must be a Distribution, got Tensor"),
])
def test_wrong_types_are_refused(make, message):
    with pytest.raises(TypeError, match=message):
        make()


@pytest.mark.parametrize("make, value, message", [
    (lambda: Uniform(tg.zeros(2), tg.ones(2)), tg.tensor([0.5, 1.5]),
     ("Uniform.log_prob: expected a value in the support \\(in \\[low, high\\]\\), but 1 of the values are not "
     "\\(e.g. 1.5\\)")),
    (lambda: Exponential(1.0), tg.tensor(-1.0), "Exponential.log_prob: .*support \\(non-negative \\(>= 0\\)\\).*-1.0"),
    (lambda: LogNormal(0.0, 1.0), tg.tensor([1.0, 0.0]), "LogNormal.log_prob: .*support \\(positive \\(> 0\\)\\).*0.0"),
    (lambda: HalfNormal(1.0), tg.tensor(-0.1), "HalfNormal.log_prob: .*support"),
    (lambda: HalfCauchy(1.0), tg.tensor(-0.1), "HalfCauchy.log_prob: .*support"),
    (lambda: Gamma(1.0, 1.0), tg.tensor(-2.0), "Gamma.log_prob: .*non-negative.*-2.0"),
    (lambda: Beta(1.0, 1.0), tg.tensor(1.5), "Beta.log_prob: .*in \\[0.0, 1.0\\].*1.5"),
    (lambda: Poisson(1.0), tg.tensor([1.0, 2.5]), "Poisson.log_prob: .*whole numbers >= 0.*2.5"),
    (lambda: Poisson(1.0), tg.tensor([-1.0]), "Poisson.log_prob: .*whole numbers >= 0.*-1.0"),
    (lambda: Geometric(probs=0.5), tg.tensor(0.5), "Geometric.log_prob: .*whole numbers >= 0.*0.5"),
    (lambda: Binomial(3, probs=tg.tensor([0.5])), tg.tensor([4.0]), "Binomial.log_prob: .*whole numbers 0 .. 3.0.*4.0"),
    (lambda: Binomial(tg.tensor([3.0, 5.0]), probs=0.5), tg.tensor([4.0, 4.0]),
     "Binomial.log_prob: .*whole numbers 0 .. total_count\\).*1 of the values are not \\(e.g. 4.0\\)"),
    (lambda: OneHotCategorical(probs=tg.ones(3)), tg.tensor([1.0, 1.0, 0.0]),
     ("OneHotCategorical.log_prob: expected a value in the support \\(one-hot vectors .*\\), but 1 of the values are "
     "not \\(e.g. \\[1.0, 1.0, 0.0\\]\\)")),
    (lambda: OneHotCategorical(probs=tg.ones(3)), tg.tensor([1.0, 0.0]),
     "OneHotCategorical.log_prob: the value's last dims \\(2,\\) must be the event_shape \\(3,\\)"),
    (lambda: Multinomial(3, probs=tg.ones(2)), tg.tensor([2.0, 2.0]), "Multinomial.log_prob: .*summing to at most 3"),
    (lambda: Multinomial(3, probs=tg.ones(2)), tg.tensor([-1.0, 2.0]), "Multinomial.log_prob: .*counts >= 0"),
    (lambda: Dirichlet(tg.ones(3)), tg.tensor([0.5, 0.6, 0.1]), "Dirichlet.log_prob: .*sum to 1.*\\[0.5, 0.6"),
    (lambda: Independent(Exponential(tg.ones(2)), 1), tg.tensor([1.0, -1.0]),
     "Independent.log_prob: expected a value in the support \\(vectors of non-negative"),
    (lambda: StudentT(3.0), tg.tensor(float("nan")), "StudentT.log_prob: .*not NaN"),
    (lambda: Laplace(0.0, 1.0), 0.5, "Laplace.log_prob: the value must be a Tensor, got float"),
])
def test_values_outside_the_support_are_refused(make, value, message):
    with pytest.raises(ValueError, match=message):
        make().log_prob(value)


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_cdf_values_are_checked_and_unchecked_without_validation():
    with pytest.raises(ValueError, match="Exponential.cdf: expected a value in the support"):
        Exponential(1.0).cdf(tg.tensor(-1.0))
    with pytest.raises(ValueError, match="Gumbel.cdf: the value must be a Tensor, got list"):
        Gumbel(0.0, 1.0).cdf([0.0])
    assert Exponential(1.0, validate_args=False).cdf(tg.tensor(-1.0)).item() < 0  # the formula, as PyTorch
    assert math.isnan(Exponential(-1.0, validate_args=False).entropy().item())


def test_what_is_not_implemented_says_so():
    with pytest.raises(NotImplementedError, match="Gamma.rsample: reparameterized gamma draws .* not implemented"):
        Gamma(1.0, 1.0).rsample()
    with pytest.raises(NotImplementedError, match="Chi2.rsample: reparameterized gamma draws"):
        Chi2(1.0).rsample()
    for d in (Beta(1.0, 1.0), Dirichlet(tg.ones(2)), StudentT(3.0)):
        with pytest.raises(NotImplementedError, match=f"{type(d).__name__}.rsample: reparameterized .* use sample"):
            d.rsample()
        assert not d.has_rsample
    for d in (Poisson(1.0), Geometric(probs=0.5), Binomial(3, probs=0.5), OneHotCategorical(probs=tg.ones(2)),
              Multinomial(2, probs=tg.ones(2))):
        with pytest.raises(NotImplementedError, match=f"{type(d).__name__} has no reparameterized sampler"):
            d.rsample()
    with pytest.raises(NotImplementedError, match="Gamma.icdf is not implemented"):
        Gamma(1.0, 1.0).icdf(tg.tensor(0.5))
    with pytest.raises(NotImplementedError, match="Binomial.entropy: total_count differs across the batch \\(from 3 "
                                                  "to 5\\)"):
        Binomial(tg.tensor([3.0, 5.0]), probs=0.5).entropy()
    with pytest.raises(NotImplementedError, match="Binomial.enumerate_support: total_count differs"):
        Binomial(tg.tensor([3.0, 5.0]), probs=0.5).enumerate_support()
    with pytest.raises(NotImplementedError, match="Independent.enumerate_support: enumerating the cartesian product"):
        Independent(Bernoulli(probs=tg.ones(2) / 2), 1).enumerate_support()
    with pytest.raises(NotImplementedError, match="Multinomial: a tensor total_count .* not supported"):
        Multinomial(tg.tensor(3), probs=tg.ones(2))
    with pytest.raises(NotImplementedError, match="Geometric.enumerate_support is not implemented"):
        Geometric(probs=0.5).enumerate_support()


# (event_dim, is_discrete) of every constraint, as PyTorch 2.13 gives them: a distribution
# built on one reads its event_dim to shape log_prob and support checks
CONSTRAINT_KINDS = {
    "real": (constraints.real, 0, False), "positive": (constraints.positive, 0, False),
    "nonnegative": (constraints.nonnegative, 0, False),
    "nonnegative_integer": (constraints.nonnegative_integer, 0, True),
    "positive_integer": (constraints.positive_integer, 0, True), "one_hot": (constraints.one_hot, 1, True),
    "unit_interval": (constraints.unit_interval, 0, False), "boolean": (constraints.boolean, 0, True),
    "simplex": (constraints.simplex, 1, False), "real_vector": (constraints.real_vector, 1, False),
    "greater_than": (constraints.greater_than(1.0), 0, False),
    "greater_than_eq": (constraints.greater_than_eq(1.0), 0, False),
    "less_than": (constraints.less_than(1.0), 0, False), "interval": (constraints.interval(0.0, 1.0), 0, False),
    "integer_interval": (constraints.integer_interval(0, 3), 0, True),
    "independent": (constraints.independent(constraints.real, 2), 2, False),
    "multinomial": (constraints.multinomial(3), 1, True),
}


@pytest.mark.parametrize("name", sorted(CONSTRAINT_KINDS))
def test_every_constraint_has_pytorchs_event_dim_and_discreteness(name):
    c, event_dim, discrete = CONSTRAINT_KINDS[name]
    assert (c.event_dim, c.is_discrete) == (event_dim, discrete)
    # a check reduces exactly its event dims: a batch of 2 x 3 events gives 2 x 3 answers
    value = tg.zeros(2, 3, *([4] * event_dim))
    assert tuple(c.check(value).shape) == (2, 3)


# each discrete or [0, 1] distribution with float32 or float64 parameters, and a value of its support
# each discrete or [0, 1] distribution, made from a module of distributions (ours or
# torch.distributions) and a tensor maker of the parameters' dtype, and a value of its support
_LOG_PROB_DTYPE_CASES = {
    "Bernoulli": (lambda M, f: M.Bernoulli(probs=f([0.3])), [1.0]),
    "Beta": (lambda M, f: M.Beta(f([2.0]), f([3.0])), [0.5]),
    "Binomial": (lambda M, f: M.Binomial(5, probs=f([0.3])), [2.0]),
    "Geometric": (lambda M, f: M.Geometric(probs=f([0.3])), [2.0]),
    "Multinomial": (lambda M, f: M.Multinomial(3, probs=f([0.2, 0.8])), [1.0, 2.0]),
    "Poisson": (lambda M, f: M.Poisson(f([2.0])), [1.0]),
}


def _ours(name, param):
    make, _ = _LOG_PROB_DTYPE_CASES[name]
    return make(distributions, lambda v: tg.tensor(v, dtype=getattr(tg, param)))


@needs_torch
@pytest.mark.parametrize("name", sorted(_LOG_PROB_DTYPE_CASES))
def test_log_prob_dtypes_and_values_are_pytorchs(name):
    make, value = _LOG_PROB_DTYPE_CASES[name]
    for param in ("float32", "float64"):
        theirs_dist = make(torch.distributions, lambda v, p=param: torch.tensor(v, dtype=getattr(torch, p)))
        for given in ("float32", "float64"):
            ours = _ours(name, param).log_prob(tg.tensor(value, dtype=getattr(tg, given)))
            theirs = theirs_dist.log_prob(torch.tensor(value, dtype=getattr(torch, given)))
            assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (param, given)
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(_LOG_PROB_DTYPE_CASES))
def test_log_prob_of_a_value_in_another_float_dtype_is_in_pytorchs_dtype(name):
    """As PyTorch: a float64 value of float32 parameters gives float64 log-probabilities
    (the two dtypes' promotion; Bernoulli: the value's dtype, as its binary cross
    entropy), and integer counts take the parameters' dtype. The numbers are the
    float64 ones to float32 rounding."""
    _, value = _LOG_PROB_DTYPE_CASES[name]
    want = _ours(name, "float64").log_prob(tg.tensor(value, dtype=tg.float64)).numpy()
    for param, given, result in (("float32", "float64", "float64"), ("float64", "float32",
                                                                      "float32" if name == "Bernoulli" else "float64"),
                                 ("float32", "float32", "float32")):
        got = _ours(name, param).log_prob(tg.tensor(value, dtype=getattr(tg, given)))
        assert str(got.dtype) == result, (param, given, got.dtype)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    if name != "Beta":  # counts (and 0/1) as integers
        got = _ours(name, "float32").log_prob(tg.tensor([int(v) for v in value]))
        assert str(got.dtype) == "float32"
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_probs_and_logits_convert_as_pytorchs_helpers_by_default_and_for_binary():
    """distributions.utils' converters (PyTorch's names and defaults): log-probabilities and
    softmax over the last dim unless ``is_binary``, then log-odds and the sigmoid; each
    inverts the other."""
    from tinygrad_bn.distributions.utils import logits_to_probs, probs_to_logits
    p = tg.tensor([[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]], dtype=tg.float64)
    np.testing.assert_allclose(probs_to_logits(p).numpy(), np.log(p.numpy()), rtol=1e-15)
    np.testing.assert_allclose(probs_to_logits(p, is_binary=True).numpy(), np.log(p.numpy() / (1 - p.numpy())),
                               rtol=1e-14)
    np.testing.assert_allclose(logits_to_probs(probs_to_logits(p)).numpy(), p.numpy(), rtol=1e-14)
    np.testing.assert_allclose(logits_to_probs(probs_to_logits(p, True), True).numpy(), p.numpy(), rtol=1e-14)


def test_samples_at_a_certain_outcome_are_that_outcome():
    """Where a parameter leaves one outcome (a probability of 0 or 1, a rate of 0),
    every draw is it: the edge the samplers guard against log(0) and divisions by 0."""
    tg.manual_seed(0)
    draws = {
        "Geometric": (Geometric(probs=t64([1.0, 0.5])).sample((200,)), 0.0),  # success at once: no failure
        "Bernoulli 1": (Bernoulli(probs=t64([1.0, 0.5])).sample((200,)), 1.0),
        "Bernoulli 0": (Bernoulli(probs=t64([0.0, 0.5])).sample((200,)), 0.0),
        "Binomial 1": (Binomial(6, probs=t64([1.0, 0.5])).sample((200,)), 6.0),
        "Binomial 0": (Binomial(6, probs=t64([0.0, 0.5])).sample((200,)), 0.0),
        "Poisson": (Poisson(t64([0.0, 2.0])).sample((200,)), 0.0),
    }
    for name, (x, certain) in draws.items():
        x = x.numpy()
        assert (x[:, 0] == certain).all(), name
        assert len(np.unique(x[:, 1])) > 1, name  # the other column is random: the draws are real draws
    np.testing.assert_array_equal(Categorical(probs=t64([0.0, 0.0, 1.0])).sample((50,)).numpy(), [2] * 50)
