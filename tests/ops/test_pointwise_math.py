"""Pointwise math beyond arithmetic (tensor_math.py, ops/pointwise.py): values
against float64 references written independently of the code under test, first
and second derivatives by central differences, and PyTorch's choices (dtype
promotion, zero gradients of rounding, values at poles, argument order)."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(20261203)


def _trapezoid_bessel(order, x):
    """I_n(x) = (1/pi) * integral_0^pi exp(x cos t) cos(n t) dt; the trapezoid rule is
    exact to rounding for this periodic integrand with a few hundred points."""
    t = np.linspace(0.0, np.pi, 401)
    w = np.full(t.size, 1.0)
    w[[0, -1]] = 0.5
    values = np.exp(np.multiply.outer(x, np.cos(t))) * np.cos(order * t)
    return (values * w).sum(-1) * (t[1] - t[0]) / np.pi


def _vectorized(f):
    return lambda x: np.vectorize(f, otypes=[float])(x)


# name -> (float64 reference, low, high): inputs are drawn on [low, high]
UNARY = {
    "sin": (np.sin, -3, 3), "cos": (np.cos, -3, 3), "tan": (np.tan, -1.2, 1.2),
    "asin": (np.arcsin, -0.9, 0.9), "acos": (np.arccos, -0.9, 0.9), "atan": (np.arctan, -3, 3),
    "sinh": (np.sinh, -3, 3), "cosh": (np.cosh, -3, 3), "asinh": (np.arcsinh, -3, 3),
    "acosh": (np.arccosh, 1.2, 4), "atanh": (np.arctanh, -0.9, 0.9),
    "expm1": (np.expm1, -2, 2), "log1p": (np.log1p, -0.8, 3), "exp2": (np.exp2, -3, 3),
    "erf": (_vectorized(math.erf), -2, 2), "erfc": (_vectorized(math.erfc), -2, 4),
    "lgamma": (_vectorized(math.lgamma), 0.2, 8), "i0": (lambda x: _trapezoid_bessel(0, x), -6, 6),
    "sinc": (np.sinc, -2, 2), "logit": (lambda p: np.log(p / (1 - p)), 0.1, 0.9),
    "rsqrt": (lambda x: 1 / np.sqrt(x), 0.3, 3), "reciprocal": (lambda x: 1 / x, 0.3, 3),
    "square": (np.square, -3, 3), "frac": (lambda x: x - np.trunc(x), -3, 3),
    "deg2rad": (np.deg2rad, -200, 200), "rad2deg": (np.rad2deg, -3, 3),
}
# erfinv and digamma have no closed-form reference: checked through their inverse and derivative below
SMOOTH_UNARY = sorted(UNARY) + ["erfinv", "digamma"]
DOMAIN = {**{name: (lo, hi) for name, (_, lo, hi) in UNARY.items()}, "erfinv": (-0.9, 0.9), "digamma": (0.3, 6)}

# name -> (float64 reference, operand domains)
BINARY = {
    "atan2": (np.arctan2, (-3, 3), (-3, 3)), "hypot": (np.hypot, (-3, 3), (0.5, 3)),
    "logaddexp": (np.logaddexp, (-5, 5), (-5, 5)), "logaddexp2": (np.logaddexp2, (-5, 5), (-5, 5)),
    "fmod": (np.fmod, (-5, 5), (0.7, 1.9)), "remainder": (np.remainder, (-5, 5), (0.7, 1.9)),
    "copysign": (np.copysign, (0.5, 3), (-3, 3)), "xlogy": (lambda x, y: x * np.log(y), (-2, 2), (0.3, 3)),
    "ldexp": (lambda x, e: x * 2.0 ** e, (-2, 2), (-3, 3)), "fmax": (np.fmax, (-2, 2), (-2, 2)),
    "fmin": (np.fmin, (-2, 2), (-2, 2)), "float_power": (np.float_power, (0.5, 2), (-2, 2)),
}


def _f64(values):
    return tg.tensor(values, dtype=tg.float64)


def _draw(lo, hi, shape=(3, 4)):
    return RNG.uniform(lo, hi, shape)


def _away_from_integers(x, margin=0.05):
    return np.where(np.abs(x - np.round(x)) < margin, x + 2 * margin, x)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_match_a_float64_reference(name):
    ref, lo, hi = UNARY[name]
    x = _draw(lo, hi)
    got = getattr(tg.tensor(x), name)()
    assert got.dtype == np.float64 and got.shape == x.shape
    np.testing.assert_allclose(got.numpy(), ref(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(getattr(tg, name)(tg.tensor(x)).numpy(), ref(x), rtol=1e-13, atol=1e-15)
    x32 = getattr(tg.tensor(x.astype(np.float32)), name)()
    assert x32.dtype == np.float32
    np.testing.assert_allclose(x32.numpy(), ref(x.astype(np.float32).astype(np.float64)), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("name", SMOOTH_UNARY)
def test_unary_first_and_second_derivatives(name):
    lo, hi = DOMAIN[name]
    # random points, and the small integers of the domain: a derivative formula's special cases
    # (I1'(0) = 1/2, sinc at 0) sit at exact values a random draw never meets
    integers = [k for k in range(-3, 4) if lo < k < hi] if name != "frac" else []
    x = tg.tensor(np.concatenate([_draw(lo, hi, (6,)), integers]), requires_grad=True)
    f = (lambda a: getattr(a, name)()) if name != "frac" else (lambda a: a.frac())
    if name == "frac":
        x = tg.tensor(_away_from_integers(x.detach().numpy()), requires_grad=True)
    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_match_a_float64_reference(name):
    ref, da, db = BINARY[name]
    a, b = _draw(*da), _draw(*db)
    got = getattr(tg.tensor(a), name)(tg.tensor(b))
    np.testing.assert_allclose(got.numpy(), ref(a, b), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(getattr(tg, name)(tg.tensor(a), tg.tensor(b)).numpy(), ref(a, b), rtol=1e-13,
                               atol=1e-15)
    # a Python number as the other operand, and broadcasting of a row
    np.testing.assert_allclose(getattr(tg.tensor(a), name)(b[0, 0]).numpy(), ref(a, b[0, 0]), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(getattr(tg.tensor(a), name)(tg.tensor(b[0])).numpy(), ref(a, b[0]), rtol=1e-13,
                               atol=1e-15)


@pytest.mark.parametrize("name", sorted(set(BINARY) - {"fmax", "fmin"}))
def test_binary_first_and_second_derivatives(name):
    _, da, db = BINARY[name]
    a = _draw(*da, (2, 3))
    b = _draw(*db, (2, 3))
    if name in ("fmod", "remainder"):  # away from the jumps, where a / b is whole
        a = _away_from_integers(a / b) * b
    ta, tb = tg.tensor(a, requires_grad=True), tg.tensor(b, requires_grad=True)
    def f(x, y):
        return getattr(x, name)(y)
    assert gradcheck(f, (ta, tb))
    assert gradgradcheck(f, (ta, tb))
    # a broadcast operand gets its gradient summed back to its shape
    tb_row = tg.tensor(b[0], requires_grad=True)
    assert gradcheck(f, (ta, tb_row))


def test_fmax_and_fmin_send_the_gradient_to_the_operand_picked_ignoring_nan():
    a = tg.tensor([1.0, 2.0, np.nan, 3.0, np.nan], requires_grad=True)
    b = tg.tensor([2.0, 2.0, 1.0, np.nan, np.nan], requires_grad=True)
    out = a.fmax(b)
    np.testing.assert_array_equal(out.detach().numpy(), [2.0, 2.0, 1.0, 3.0, np.nan])
    out.backward(tg.tensor([10.0, 20.0, 30.0, 40.0, 50.0]))
    # ties go to the first operand; NaN loses to a number; both NaN: the first
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 20.0, 0.0, 40.0, 50.0])
    np.testing.assert_array_equal(b.grad.numpy(), [10.0, 0.0, 30.0, 0.0, 0.0])
    lo = a.fmin(b)
    np.testing.assert_array_equal(lo.detach().numpy(), [1.0, 2.0, 1.0, 3.0, np.nan])


def test_special_functions_have_their_known_values_and_identities():
    gamma = 0.57721566490153286061
    psi = _f64([1.0, 0.5, 2.5, 10.0, -0.5, -2.5]).digamma().numpy()
    expected = [-gamma, -gamma - 2 * math.log(2), 2 - gamma - 2 * math.log(2) + 2 / 3,
                sum(1 / k for k in range(1, 10)) - gamma]
    np.testing.assert_allclose(psi[:4], expected, rtol=1e-14)
    # reflection psi(1 - x) - psi(x) = pi cot(pi x), at x = -0.5 and -2.5
    np.testing.assert_allclose(_f64([1.5, 3.5]).digamma().numpy() - psi[4:], np.pi / np.tan(np.pi * np.array([-0.5, -2.5])),
                               rtol=1e-13, atol=1e-14)
    zeta3 = 1.2020569031595942854
    pg = [tg.polygamma(1, _f64(1.0)).item(), tg.polygamma(2, _f64(1.0)).item(),
          _f64(0.5).polygamma(3).item(), tg.polygamma(0, _f64(1.0)).item()]
    np.testing.assert_allclose(pg, [np.pi ** 2 / 6, -2 * zeta3, np.pi ** 4, -gamma], rtol=1e-13)
    y = np.linspace(-0.999, 0.999, 41)
    np.testing.assert_allclose(np.vectorize(math.erf)(tg.tensor(y).erfinv().numpy()), y, rtol=1e-14, atol=1e-16)
    # in the tails, where erf(x) - y cancels: erfc(|x|) = 1 - |y| to float64's precision
    tails = np.array([1e-3, 1e-8, 1e-12, 1e-15, 1e-300])
    for sign in (1.0, -1.0):
        x = tg.tensor(sign * (1.0 - tails)).erfinv().numpy()
        exact = 1.0 - (1.0 - tails)  # the 1 - |y| the input really holds
        np.testing.assert_allclose(np.vectorize(math.erfc)(np.abs(x)), exact, rtol=1e-13)
        assert (np.sign(x) == sign).all()
    x = np.array([-30.0, -4.5, -0.3, 0.0, 0.7, 12.0, 40.0])
    np.testing.assert_allclose(tg.tensor(x).i0().numpy(), _trapezoid_bessel(0, x), rtol=1e-13)
    # past float64's range: I0 is even (+inf on both sides), its derivative I1 odd (-inf below, +inf above)
    far = tg.tensor([-800.0, -721.0, 721.0, 800.0], dtype=tg.float64, requires_grad=True)
    i0 = far.i0()
    i0.backward(tg.ones(4, dtype=tg.float64))
    np.testing.assert_array_equal(i0.detach().numpy(), [np.inf] * 4)
    np.testing.assert_array_equal(far.grad.numpy(), [-np.inf, -np.inf, np.inf, np.inf])
    # igamma: P(1, x) = 1 - e^-x, P(1/2, x) = erf(sqrt x), P(a + 1, x) = P(a, x) - x^a e^-x / Gamma(a + 1)
    xs = np.array([0.1, 0.9, 2.0, 7.5, 30.0])
    np.testing.assert_allclose(tg.igamma(tg.tensor(np.ones(5)), tg.tensor(xs)).numpy(), -np.expm1(-xs), rtol=1e-13)
    np.testing.assert_allclose(tg.tensor(np.full(5, 0.5)).igamma(tg.tensor(xs)).numpy(),
                               np.vectorize(math.erf)(np.sqrt(xs)), rtol=1e-13)
    a = np.array([0.7, 2.3, 5.0, 11.5, 3.0])
    lower = tg.tensor(a).igamma(tg.tensor(xs)).numpy()
    step = xs ** a * np.exp(-xs) / np.vectorize(math.gamma)(a + 1)
    np.testing.assert_allclose(tg.tensor(a + 1).igamma(tg.tensor(xs)).numpy(), lower - step, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tg.tensor(a).igammac(tg.tensor(xs)).numpy(), 1 - lower, rtol=1e-12, atol=1e-15)
    # at x = 0, P = 0 and Q = 1 for every a > 0, quietly (no log(0) on the way: PyTorch warns of nothing)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a0 = tg.tensor([1e-3, 0.5, 2.0, 7.0])
        np.testing.assert_array_equal(tg.igamma(a0, tg.zeros(4, dtype=tg.float64)).numpy(), np.zeros(4))
        np.testing.assert_array_equal(tg.igammac(a0, tg.zeros(4, dtype=tg.float64)).numpy(), np.ones(4))
    # x = 1 (and 0.5, 1.5) beside the special case at 0: Q(n, x) = e^-x sum_{k<n} x^k / k! for whole n
    for x1 in (0.5, 1.0, 1.5):
        want = [math.exp(-x1) * sum(x1 ** k / math.factorial(k) for k in range(n)) for n in (1, 2, 3, 6)]
        a_whole = tg.tensor([1.0, 2.0, 3.0, 6.0], dtype=tg.float64)
        got = tg.igammac(a_whole, tg.full((4,), x1, dtype=tg.float64)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12)
    # the upper tail against closed forms independent of our continued fraction (x >= a + 1 takes it):
    # Q(1/2, x) = erfc(sqrt x), and for whole a, Q(a, x) = e^-x sum_{k<a} x^k / k!
    far = np.array([1.6, 2.5, 5.0, 11.0, 30.0, 80.0])
    np.testing.assert_allclose(tg.tensor(np.full(6, 0.5)).igammac(tg.tensor(far)).numpy(),
                               np.vectorize(math.erfc)(np.sqrt(far)), rtol=1e-13)
    for whole in (2, 3, 6):
        far_a = far[far >= whole + 1]
        want = np.exp(-far_a) * sum(far_a ** k / math.factorial(k) for k in range(whole))
        np.testing.assert_allclose(tg.tensor(np.full(far_a.size, float(whole))).igammac(tg.tensor(far_a)).numpy(),
                                   want, rtol=1e-13)
    assert gradcheck(lambda t: tg.igamma(tg.tensor(a), t), (tg.tensor(xs, requires_grad=True),))
    assert gradcheck(lambda t: tg.igammac(tg.tensor(a), t), (tg.tensor(xs, requires_grad=True),))


def test_special_functions_at_poles_and_edges_follow_pytorch():
    psi = tg.tensor([0.0, -0.0, -1.0, -3.0, np.inf]).digamma().numpy()
    np.testing.assert_array_equal(psi, [-np.inf, np.inf, np.nan, np.nan, np.inf])
    np.testing.assert_array_equal(tg.tensor([0.0, -1.0, -2.0]).lgamma().numpy(), [np.inf] * 3)
    np.testing.assert_array_equal(tg.tensor([1.0, -1.0, 1.5, 0.0]).erfinv().numpy(), [np.inf, -np.inf, np.nan, 0.0])
    np.testing.assert_array_equal(tg.polygamma(1, tg.tensor([0.0, -2.0])).numpy(), [np.inf, np.inf])
    np.testing.assert_array_equal(tg.igamma(tg.tensor([0.0, 1.0, 0.0]), tg.tensor([0.0, 0.0, 1.0])).numpy(),
                                  [np.nan, 0.0, 1.0])
    # outside the domain (a < 0 or x < 0, either side of the series / fraction split at x = a + 1) or NaN: NaN
    a = tg.tensor([-0.5, -0.5, 0.5, 3.0, -1.0, np.nan, 1.0])
    x = tg.tensor([2.0, 0.2, -1.0, -0.5, -1.0, 1.0, np.nan])
    for f in (tg.igamma, tg.igammac):
        assert np.isnan(f(a, x).numpy()).all(), f.__name__
    # an incomplete gamma's derivative in a is not implemented, as in PyTorch
    a = tg.tensor([1.5], dtype=tg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="igamma: the derivative with respect to its first argument"):
        tg.igamma(a, tg.tensor([2.0], dtype=tg.float64)).backward(tg.ones(1, dtype=tg.float64))


# (a, x, P, Q) at the edges, in PyTorch's (SciPy's) order of checks: a negative argument
# gives NaN, then a = 0, then x = 0, then an infinite a, then an infinite x; a NaN that
# reaches none of these gives NaN
IGAMMA_EDGES = [
    (0.0, 0.0, np.nan, np.nan), (0.0, 2.0, 1.0, 0.0), (0.0, np.inf, 1.0, 0.0), (0.0, np.nan, np.nan, np.nan),
    (2.0, 0.0, 0.0, 1.0), (np.inf, 0.0, 0.0, 1.0), (np.nan, 0.0, 0.0, 1.0),
    (np.inf, 3.0, 0.0, 1.0), (np.inf, 1e300, 0.0, 1.0), (np.inf, np.nan, 0.0, 1.0), (np.inf, np.inf, np.nan, np.nan),
    (2.0, np.inf, 1.0, 0.0), (np.nan, np.inf, 1.0, 0.0), (1e300, np.inf, 1.0, 0.0),
    (np.nan, 1.0, np.nan, np.nan), (1.0, np.nan, np.nan, np.nan), (-1.0, 0.0, np.nan, np.nan),
    (np.inf, -1.0, np.nan, np.nan), (0.0, -1.0, np.nan, np.nan)]


def test_incomplete_gamma_edges_follow_pytorch():
    a, x, p, q = (np.array(c) for c in zip(*IGAMMA_EDGES))
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(tg.igamma(tg.tensor(a), tg.tensor(x)).numpy(), p)
        np.testing.assert_array_equal(tg.igammac(tg.tensor(a), tg.tensor(x)).numpy(), q)


def _e1(x):
    """The exponential integral E1(x) = -gamma - log x - sum_k (-x)^k / (k k!), for x < 2."""
    return -0.5772156649015329 - math.log(x) - sum((-x) ** k / (k * math.factorial(k)) for k in range(1, 40))


def test_upper_incomplete_gamma_keeps_its_digits_for_tiny_a():
    """For a near 0, Q(a, x) = Gamma(a, x) / Gamma(a) tends to a E1(x): far below 1 - P's
    resolution. It stays positive and relatively exact, and P + Q = 1."""
    for a_small in (1e-300, 1e-20, 1e-10):
        x = np.array([1e-3, 0.1, 0.5, 1.0, 1.09])
        q = tg.igammac(tg.tensor(np.full(5, a_small)), tg.tensor(x)).numpy()
        np.testing.assert_allclose(q / a_small, [_e1(v) for v in x], rtol=1e-9 if a_small == 1e-10 else 5e-15)
    # a between 1e-3 and 0.5 beside x up to 1.1: against P + Q = 1 and Q's a -> 0 limit's first correction
    a = np.array([1e-3, 1e-2, 0.05, 0.2, 0.49])
    for x1 in (0.01, 0.3, 1.0):
        p = tg.igamma(tg.tensor(a), tg.tensor(np.full(5, x1))).numpy()
        q = tg.igammac(tg.tensor(a), tg.tensor(np.full(5, x1))).numpy()
        assert (q > 0).all()
        np.testing.assert_allclose(p + q, 1.0, rtol=2e-15, atol=0)
    # Q(1/2, x) = erfc(sqrt x) holds for small x too (this branch too)
    small = np.array([1e-12, 1e-4, 0.05, 0.6, 1.05])
    np.testing.assert_allclose(tg.tensor(np.full(5, 0.49999999999999994)).igammac(tg.tensor(small)).numpy(),
                               np.vectorize(math.erfc)(np.sqrt(small)), rtol=1e-12)


def _bernoulli(n):
    """The Bernoulli numbers B_0..B_n exactly (Akiyama-Tanigawa), B_1 = +1/2."""
    from fractions import Fraction
    out, row = [], []
    for m in range(n + 1):
        row.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        out.append(row[0])
    return out


def test_the_series_tables_of_the_special_functions_hold_the_numbers_they_name():
    """The Bernoulli table B_2k / (2k)! and the zeta(2)..zeta(18) table, each
    against its exact rational value (zeta by Euler-Maclaurin at N = 20 with
    eight Bernoulli terms: error below 1e-20), to within one ulp."""
    from fractions import Fraction

    from kernels.cpu import special
    b = _bernoulli(2 * len(special._B2K_OVER_FACT) + 2)
    want = [b[2 * k] / math.factorial(2 * k) for k in range(1, len(special._B2K_OVER_FACT) + 1)]
    assert list(special._B2K_OVER_FACT) == [float(w) for w in want]  # each a correctly rounded division

    def zeta(s, n=20):
        total = sum(Fraction(1, j ** s) for j in range(1, n)) + Fraction(1, (s - 1) * n ** (s - 1)) + \
            Fraction(1, 2 * n ** s)
        rising = Fraction(s)  # s (s + 1) ... (s + 2k - 2)
        for k in range(1, 9):
            total += b[2 * k] / math.factorial(2 * k) * rising / n ** (s + 2 * k - 1)
            rising *= (s + 2 * k - 1) * (s + 2 * k)
        return total

    for s, got in zip(range(2, 19), special._ZETA_2_TO_18):
        assert abs(Fraction(float(got)) - zeta(s)) <= Fraction(math.ulp(float(got))), s


def _temme_p(a, x):
    """P(a, x) by the first two terms of Temme's uniform expansion (DLMF 8.12):
    Q = erfc(eta sqrt(a / 2)) / 2 + exp(-a eta^2 / 2) / sqrt(2 pi a) (c0(eta) + c1(eta) / a),
    with d = x / a - 1, eta^2 / 2 = d - log(1 + d) (summed as a series: the two cancel),
    c0 = 1 / d - 1 / eta and c1 = 1 / eta^3 - 1 / d^3 - 1 / d^2 - 1 / (12 d). The next
    term is below 1e-16 of P for a >= 1e6 and |d| <= 3 / sqrt(a)."""
    d = (x - a) / a
    half_eta2 = sum((-d) ** k / k for k in range(2, 40))
    eta = math.copysign(math.sqrt(2.0 * half_eta2), d)
    c0 = 1.0 / d - 1.0 / eta
    c1 = 1.0 / eta ** 3 - 1.0 / d ** 3 - 1.0 / d ** 2 - 1.0 / (12.0 * d)
    q = 0.5 * math.erfc(eta * math.sqrt(a / 2.0)) + \
        math.exp(-a * half_eta2) / math.sqrt(2.0 * math.pi * a) * (c0 + c1 / a)
    return 1.0 - q


@pytest.mark.parametrize("a", [1e6, 1e8, 1e10])
def test_incomplete_gamma_of_a_large_a_near_its_mean(a):
    """Near x = a, past a of about 1e5, the series and fraction need a number of terms
    growing as sqrt(a), and a log x - x - log Gamma(a) cancels from about a log a: P
    stays near Temme's expansion: its rounding grows as sqrt(a) eps, with the terms summed."""
    z = np.array([-3.0, -1.0, 0.5, 2.0])
    x = a + z * math.sqrt(a)
    p = tg.igamma(tg.tensor(np.full(4, a)), tg.tensor(x)).numpy()
    q = tg.igammac(tg.tensor(np.full(4, a)), tg.tensor(x)).numpy()
    want = np.array([_temme_p(a, v) for v in x])
    rtol = 1e-13 + 5e-17 * math.sqrt(a)
    np.testing.assert_allclose(p, want, rtol=rtol)
    np.testing.assert_allclose(q, 1.0 - want, rtol=rtol)
    # at x = a exactly: P = 1/2 + 1 / (3 sqrt(2 pi a)) + 1 / (540 a sqrt(2 pi a)) (c0(0) = -1/3, c1(0) = -1/540)
    middle = tg.igamma(tg.tensor([a], dtype=tg.float64), tg.tensor([a], dtype=tg.float64)).item()
    root = math.sqrt(2.0 * math.pi * a)
    assert middle == pytest.approx(0.5 + 1.0 / (3.0 * root) + 1.0 / (540.0 * a * root), rel=rtol)


def test_float32_special_functions_are_the_float64_values_rounded():
    x = _draw(0.2, 8, (50,))
    for name in ("lgamma", "digamma", "i0", "erfc"):
        x32 = x.astype(np.float32)
        got = getattr(tg.tensor(x32), name)().numpy()
        want = getattr(tg.tensor(x32.astype(np.float64)), name)().numpy().astype(np.float32)
        np.testing.assert_array_equal(got, want, err_msg=name)
    assert tg.tensor([0.5], dtype=tg.float16).lgamma().dtype == np.float16


def test_integers_become_float32_for_float_functions_and_stay_integers_when_rounded():
    i = tg.tensor([1, 2, -3])
    assert i.sin().dtype == np.float32 and tg.exp2(i).dtype == np.float32
    np.testing.assert_allclose(i.sin().numpy(), np.sin([1.0, 2.0, -3.0]).astype(np.float32))
    for name in ("floor", "ceil", "trunc", "round"):
        out = getattr(i, name)()
        assert out.dtype == np.int64 and out.tolist() == [1, 2, -3]
    assert i.atan2(tg.tensor([1, 1, 1])).dtype == np.float32


@pytest.mark.parametrize("decimals", [1.0, 1.5, "2", None, True, np.float64(2.0)])
def test_round_takes_whole_numbers_of_decimals_only(decimals):
    """PyTorch's round(decimals=) is an int: a float (even a whole one), a string, None or a
    bool is a TypeError naming the argument, never 10 ** 1.5 silently."""
    x = tg.tensor([1.2345, -2.5])
    with pytest.raises(TypeError, match="round: decimals must be an int"):
        x.round(decimals=decimals)
    np.testing.assert_allclose(x.round(decimals=np.int64(2)).numpy(), [1.23, -2.5], rtol=1e-6)  # NumPy ints are ints
    np.testing.assert_allclose(x.round(decimals=-1).numpy(), [0.0, -0.0], atol=0)


def test_rounding_has_a_zero_gradient_and_rounds_half_to_even():
    x = tg.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 1.2345], dtype=tg.float64, requires_grad=True)
    np.testing.assert_array_equal(x.round().detach().numpy(), [-2.0, -2.0, -0.0, 0.0, 2.0, 2.0, 1.0])
    np.testing.assert_allclose(x.round(decimals=2).detach().numpy()[-1], 1.23)
    weights = tg.tensor(RNG.standard_normal(7))
    for name in ("floor", "ceil", "trunc", "round", "sign"):
        x.grad = None
        (getattr(x, name)() * weights).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(7), err_msg=name)
    np.testing.assert_array_equal(x.detach().frac().numpy(), x.detach().numpy() - np.trunc(x.detach().numpy()))


def test_sinc_derivatives_at_0_up_to_the_fourth_are_sincs_own():
    """sinc(x) = 1 - (pi x)^2 / 6 + (pi x)^4 / 120 - ...: at 0 its derivatives are 0,
    -pi^2 / 3, 0 and pi^4 / 5 (PyTorch's second derivative there is NaN)."""
    x = tg.tensor(0.0, dtype=tg.float64, requires_grad=True)
    d = x.sinc()
    got = []
    for _ in range(4):
        (d,) = tg.autograd.grad(d, x, create_graph=True)
        got.append(d.item())
    np.testing.assert_allclose(got, [0.0, -math.pi ** 2 / 3, 0.0, math.pi ** 4 / 5], rtol=1e-14, atol=1e-14)


def test_sinc_logit_and_xlogy_at_their_special_points():
    z = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    out = z.sinc()
    np.testing.assert_allclose(out.detach().numpy(), [1.0, 0.0], atol=1e-16)
    out.backward(tg.tensor([1.0, 1.0], dtype=tg.float64))
    np.testing.assert_allclose(z.grad.numpy(), [0.0, -1.0], atol=1e-15)  # d sinc at 1 = (cos(pi) pi - 0) / pi
    p = tg.tensor([0.0, 0.3, 1.0])
    np.testing.assert_allclose(p.logit(eps=0.1).numpy(), np.log(np.array([0.1, 0.3, 0.9]) / [0.9, 0.7, 0.1]),
                               rtol=1e-6)
    x = tg.tensor([0.0, 0.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([0.0, np.nan, 3.0], dtype=tg.float64, requires_grad=True)
    out = tg.xlogy(x, y)
    np.testing.assert_array_equal(out.detach().numpy()[:2], [0.0, np.nan])
    out.backward(tg.tensor([1.0, 0.0, 1.0], dtype=tg.float64))
    # as PyTorch: d/dx is xlogy(x != 0, y), so 0 at x = 0; d/dy is x / y, which here is 0 at x = 0
    # (PyTorch's 0 / 0 gives NaN at y = 0 too: the one place the two differ)
    np.testing.assert_allclose(x.grad.numpy()[[0, 2]], [0.0, np.log(3.0)])
    np.testing.assert_allclose(y.grad.numpy()[[0, 2]], [0.0, 2.0 / 3.0])


def test_arithmetic_forms_with_alpha_value_weight_and_rounding_mode():
    a, b, c = (_draw(-2, 2) for _ in range(3))
    ta, tb, tc = tg.tensor(a), tg.tensor(b), tg.tensor(c)
    np.testing.assert_allclose(ta.add(tb, alpha=3).numpy(), a + 3 * b)
    np.testing.assert_allclose(tg.sub(ta, tb, alpha=0.5).numpy(), a - 0.5 * b)
    np.testing.assert_allclose(ta.rsub(tb).numpy(), b - a)
    np.testing.assert_allclose(tg.addcmul(ta, tb, tc, value=-2).numpy(), a - 2 * b * c)
    np.testing.assert_allclose(ta.addcdiv(tb, tc, value=0.5).numpy(), a + 0.5 * b / c)
    np.testing.assert_allclose(tg.lerp(ta, tb, 0.25).numpy(), a + 0.25 * (b - a))
    np.testing.assert_allclose(ta.lerp(tb, tc).numpy(), a + c * (b - a))
    np.testing.assert_allclose(tg.multiply(ta, tb).numpy(), a * b)
    np.testing.assert_allclose(tg.divide(ta, tb, rounding_mode="floor").numpy(), np.floor(a / b))
    np.testing.assert_allclose(ta.div(tb, rounding_mode="trunc").numpy(), np.trunc(a / b))
    np.testing.assert_allclose(tg.floor_divide(ta, tb).numpy(), np.floor(a / b))
    np.testing.assert_allclose(tg.true_divide(ta, 4).numpy(), a / 4)
    ints = tg.tensor([7, -7, 7, -7, 6])
    other = tg.tensor([2, 2, -2, -2, 3])
    assert ints.div(other, rounding_mode="trunc").tolist() == [3, -3, -3, 3, 2]
    assert ints.div(other, rounding_mode="floor").tolist() == [3, -4, -4, 3, 2]
    assert (ints % 3).tolist() == [1, 2, 1, 2, 0] and ints.fmod(3).tolist() == [1, -1, 1, -1, 0]
    with pytest.raises(ValueError, match="rounding_mode must be None, 'trunc' or 'floor', got 'round'"):
        ta.div(tb, rounding_mode="round")
    for f in (lambda x, y, z: x.addcmul(y, z, value=0.3), lambda x, y, z: x.addcdiv(y, z + 3),
              lambda x, y, z: x.lerp(y, z)):
        xs = [tg.tensor(_draw(-1, 1, (2, 3)), requires_grad=True) for _ in range(3)]
        assert gradcheck(f, tuple(xs))


@pytest.mark.parametrize("bias", [-1e-9, 1e-9])
def test_frexp_is_exact_where_log2_rounds_across_a_power_of_two(monkeypatch, bias):
    """frexp takes its exponent from log2, which a less exact log2 (a GPU's) may round to
    just below or above a whole number at a power of two: the one-step correction after
    it still gives 0.5 <= |mantissa| < 1 and mantissa * 2 ** exponent == x exactly."""
    original = tg.Tensor.log2
    monkeypatch.setattr(tg.Tensor, "log2", lambda t: original(t) + bias)
    x = np.array([1.0, 2.0, 8.0, 0.25, -4.0, 3.0, 1024.0, 2.0 ** -20, 5e-324 * 2 ** 10])
    mantissa, exponent = tg.tensor(x).frexp()
    want_m, want_e = np.frexp(x)
    np.testing.assert_array_equal(mantissa.numpy(), want_m)
    np.testing.assert_array_equal(exponent.numpy(), want_e)


def test_nan_to_num_frexp_mvlgamma_and_heaviside():
    x = np.array([np.nan, np.inf, -np.inf, 1.5, -0.0], dtype=np.float32)
    np.testing.assert_array_equal(tg.nan_to_num(tg.tensor(x)).numpy(), np.nan_to_num(x))
    np.testing.assert_array_equal(tg.tensor(x).nan_to_num(1.0, 2.0, -3.0).numpy(), [1.0, 2.0, -3.0, 1.5, -0.0])
    for dtype in (np.float16, np.float64):  # infinities become the dtype's largest finite values
        np.testing.assert_array_equal(tg.tensor(x.astype(dtype)).nan_to_num().numpy(), np.nan_to_num(x.astype(dtype)))
    t = tg.tensor(x.astype(np.float64), requires_grad=True)
    t.nan_to_num().backward(tg.ones(5, dtype=tg.float64))
    np.testing.assert_array_equal(t.grad.numpy(), [0.0, 0.0, 0.0, 1.0, 1.0])
    values = np.array([0.0, 1.0, -3.5, 1e-300, 6e300, 0.75, np.inf, np.nan, 2.0 ** 52, 5e-324])
    mantissa, exponent = tg.tensor(values).frexp()
    want_m, want_e = np.frexp(values)
    np.testing.assert_array_equal(mantissa.numpy(), want_m)
    np.testing.assert_array_equal(exponent.numpy()[np.isfinite(values)], want_e[np.isfinite(values)])
    assert exponent.dtype == np.int32
    p = _draw(2.0, 5.0, (4,))
    want = [sum(math.lgamma(v - i / 2) for i in range(3)) + 3 * 2 / 4 * math.log(math.pi) for v in p]
    np.testing.assert_allclose(tg.tensor(p).mvlgamma(3).numpy(), want, rtol=1e-13)
    with pytest.raises(ValueError, match=r"mvlgamma: all elements must be greater than \(p-1\)/2 = 1.0"):
        tg.tensor([0.5, 3.0]).mvlgamma(3)
    h = tg.heaviside(tg.tensor([-1.0, 0.0, 2.0]), tg.tensor([0.5]))
    assert h.tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(tg.nextafter(tg.tensor([1.0], dtype=tg.float64), tg.tensor([2.0], dtype=tg.float64)).numpy(),
                                  np.nextafter(1.0, 2.0))


def test_comparisons_tests_and_logical_ops():
    a = np.array([1.0, np.nan, np.inf, -np.inf, 2.0, 1e-9])
    b = np.array([1.0 + 1e-7, np.nan, np.inf, np.inf, 2.5, 0.0])
    ta, tb = tg.tensor(a), tg.tensor(b)
    np.testing.assert_array_equal(ta.isclose(tb).numpy(), np.isclose(a, b))
    np.testing.assert_array_equal(tg.isclose(ta, tb, equal_nan=True).numpy(), np.isclose(a, b, equal_nan=True))
    np.testing.assert_array_equal(tg.isclose(ta, tb, rtol=0, atol=0).numpy(), np.isclose(a, b, rtol=0, atol=0))
    for number in (1.0, float("inf"), float("nan"), 2):  # a Python number as the other operand (PyTorch wants a Tensor)
        np.testing.assert_array_equal(ta.isclose(number, equal_nan=True).numpy(),
                                      np.isclose(a, number, equal_nan=True), err_msg=str(number))
    np.testing.assert_array_equal(ta.isinf().numpy(), np.isinf(a))
    np.testing.assert_array_equal(tg.isposinf(ta).numpy(), np.isposinf(a))
    np.testing.assert_array_equal(tg.isneginf(ta).numpy(), np.isneginf(a))
    assert tg.isreal(ta).numpy().all() and not tg.tensor([1, 2]).isinf().numpy().any()
    for name, ref in (("gt", np.greater), ("ge", np.greater_equal), ("lt", np.less), ("le", np.less_equal),
                      ("ne", np.not_equal), ("eq", np.equal), ("greater", np.greater), ("less_equal", np.less_equal),
                      ("not_equal", np.not_equal)):
        np.testing.assert_array_equal(getattr(ta, name)(tb).numpy(), ref(a, b), err_msg=name)
    np.testing.assert_array_equal(tg.gt(ta, 1.5).numpy(), a > 1.5)
    p, q = np.array([True, True, False, False]), np.array([True, False, True, False])
    tp, tq = tg.tensor(p), tg.tensor(q)
    np.testing.assert_array_equal((tp & tq).numpy(), p & q)
    np.testing.assert_array_equal((tp | tq).numpy(), p | q)
    np.testing.assert_array_equal((tp ^ tq).numpy(), p ^ q)
    np.testing.assert_array_equal((~tp).numpy(), ~p)
    np.testing.assert_array_equal(tg.logical_xor(tg.tensor([0.0, 2.0]), tg.tensor([1.0, 3.0])).numpy(), [True, False])
    i, j = np.array([12, -5, 7]), np.array([10, 3, -1])
    np.testing.assert_array_equal(tg.bitwise_and(tg.tensor(i), tg.tensor(j)).numpy(), i & j)
    np.testing.assert_array_equal((tg.tensor(i) | tg.tensor(j)).numpy(), i | j)
    np.testing.assert_array_equal(tg.tensor(i).bitwise_not().numpy(), ~i)
    np.testing.assert_array_equal((~tg.tensor(i)).numpy(), ~i)  # the operator: bitwise on integers
    np.testing.assert_array_equal((~tg.tensor([True, False])).numpy(), [False, True])  # logical on bools
    with pytest.raises(TypeError, match="bitwise_and: expected integer or bool operands, got float32"):
        tg.ones(2).bitwise_and(tg.ones(2))
    assert np.signbit(tg.tensor([-0.0, 0.0, -1.0]).signbit().numpy()).tolist() == [False] * 3
    assert tg.tensor([-0.0, 0.0, -1.0]).signbit().tolist() == [True, False, True]


def test_reductions_against_numpy():
    x = _draw(-2, 2, (3, 4))
    t = tg.tensor(x)
    np.testing.assert_allclose(t.prod().numpy(), np.prod(x), rtol=1e-13)
    np.testing.assert_allclose(tg.prod(t, 1, keepdim=True).numpy(), np.prod(x, 1, keepdims=True), rtol=1e-13)
    big = x * 400
    np.testing.assert_allclose(tg.tensor(big).logsumexp(1).numpy(), np.log(np.exp(big - big.max(1, keepdims=True)).sum(1))
                               + big.max(1), rtol=1e-13)
    assert np.isfinite(tg.tensor(big).logsumexp((0, 1)).numpy())
    assert tg.tensor([-np.inf, -np.inf]).logsumexp(0).item() == -np.inf
    with_nan = x.copy()
    with_nan[0, 1] = with_nan[2, 3] = np.nan
    np.testing.assert_allclose(tg.tensor(with_nan).nansum(0).numpy(), np.nansum(with_nan, 0), rtol=1e-13)
    np.testing.assert_allclose(tg.nanmean(tg.tensor(with_nan), 1).numpy(), np.nanmean(with_nan, 1), rtol=1e-13)
    std, mean = tg.std_mean(t, 0)
    np.testing.assert_allclose(std.numpy(), x.std(0, ddof=1), rtol=1e-13)
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-13)
    var, _ = t.var_mean(1, correction=0, keepdim=True)
    np.testing.assert_allclose(var.numpy(), x.var(1, keepdims=True), rtol=1e-13)
    mm = t.aminmax(dim=1)
    np.testing.assert_array_equal(mm.min.numpy(), x.min(1))
    np.testing.assert_array_equal(mm.max.numpy(), x.max(1))
    assert tg.count_nonzero(tg.tensor([[0.0, 1.0], [2.0, 0.0]]), dim=0).tolist() == [1, 1]
    y = _draw(-2, 2, (3, 4))
    for p in (1, 2, 3, float("inf")):
        want = np.abs(x - y).max() if p == float("inf") else (np.abs(x - y) ** p).sum() ** (1 / p)
        np.testing.assert_allclose(tg.dist(t, tg.tensor(y), p).numpy(), want, rtol=1e-13)


def test_prod_gradient_is_the_product_of_the_others_with_zeros_too():
    x = np.array([[2.0, 0.0, 3.0, -1.5], [0.0, 4.0, 0.0, 5.0], [1.5, -2.0, 0.5, 3.0]])
    t = tg.tensor(x, requires_grad=True)
    weights = RNG.standard_normal(3)
    (t.prod(1) * tg.tensor(weights)).sum().backward()
    want = np.array([[weights[r] * np.prod(np.delete(x[r], c)) for c in range(4)] for r in range(3)])
    np.testing.assert_array_equal(t.grad.numpy(), want)
    v = tg.tensor(_draw(0.5, 1.5, (2, 3)), requires_grad=True)
    assert gradcheck(lambda a: a.prod(0), (v,)) and gradgradcheck(lambda a: a.prod(), (v,))
    assert gradcheck(lambda a: a.logsumexp(1), (v,)) and gradgradcheck(lambda a: a.logsumexp(1), (v,))
    assert gradcheck(lambda a: a.nansum(1) * a.nanmean(0).sum(), (v,))


def test_logsumexp_gradient_is_the_softmax():
    x = tg.tensor(_draw(-300, 300, (2, 5)), requires_grad=True)
    g = tg.tensor(RNG.standard_normal(2))
    (x.logsumexp(1) * g).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), x.detach().softmax(1).numpy() * g.numpy()[:, None], rtol=1e-12,
                               atol=1e-300)


def test_in_place_forms_are_recorded_like_the_out_of_place_ones():
    x = tg.tensor(_draw(-1, 1, (2, 3)), requires_grad=True)
    y = x * 1.0
    y.sin_()
    g = tg.tensor(RNG.standard_normal((2, 3)))
    (y * g).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()) * g.numpy(), rtol=1e-14)
    values = _draw(0.5, 3, (3,))
    z = tg.tensor(values)
    assert z.lgamma_().exp_() is z  # Gamma(x), in place, through two calls
    np.testing.assert_allclose(z.numpy(), np.vectorize(math.gamma)(values), rtol=1e-13)
    assert tg.tensor([0.25]).arctan2_(tg.tensor([1.0])).item() == pytest.approx(math.atan(0.25))
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad is being changed in place"):
        x.cos_()
    with pytest.raises(RuntimeError, match="sin_: the result is floating point and cannot be stored in place in a "
                                           "tensor of dtype int64"):
        tg.tensor([1, 2]).sin_()


def test_complex_style_functions_on_real_tensors():
    x = tg.tensor([-2.0, 0.0, 3.0])
    assert tg.real(x) is x and x.conj() is x and tg.conj_physical(x) is x and not x.is_complex()
    assert x.angle().tolist() == [np.float32(math.pi), 0.0, 0.0]
    assert tg.tensor([-0.0, np.nan]).angle().numpy()[0] == 0.0 and np.isnan(tg.angle(tg.tensor([np.nan])).item())
    t = tg.tensor([-2.0, 3.0], dtype=tg.float64, requires_grad=True)
    t.angle().backward(tg.ones(2, dtype=tg.float64))
    assert t.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="imag: not implemented for tensors with non-complex dtypes"):
        x.imag  # noqa: B018
    assert x.is_floating_point() and not tg.tensor([1]).is_floating_point()


def test_pointwise_functions_run_on_the_tape_by_name():
    x = tg.tensor([0.3, 0.6], requires_grad=True)
    with tg.Tape() as tape:
        (x.sin() + x.atan2(x + 1) + x.lgamma()).sum().backward()
    names = [e.op for e in tape.entries]
    assert {"Sin", "Arctan2", "Lgamma"} <= set(names), names


# The functions without a gradient (ops/pointwise.py's NO_GRADIENT_FUNCTIONS) keep their own
# result dtype, as PyTorch's: bools from a float input are not cast to the input's float dtype.
NO_GRADIENT_DTYPES = [
    ("signbit", lambda a, b, i: tg.signbit(a), "bool"),
    ("logical_or", lambda a, b, i: tg.logical_or(a, b), "bool"),
    ("logical_xor", lambda a, b, i: tg.logical_xor(a, b), "bool"),
    ("floor_divide", lambda a, b, i: tg.floor_divide(a, b + 1), "float32"),
    ("invert", lambda a, b, i: tg.bitwise_not(i), "int32"),
    ("bitwise_and", lambda a, b, i: tg.bitwise_and(i, i), "int32"),
    ("bitwise_or", lambda a, b, i: tg.bitwise_or(i, i), "int32"),
    ("bitwise_xor", lambda a, b, i: tg.bitwise_xor(i, i), "int32"),
]


@pytest.mark.parametrize(("name", "call", "dtype"), NO_GRADIENT_DTYPES, ids=[c[0] for c in NO_GRADIENT_DTYPES])
def test_functions_without_a_gradient_keep_their_own_result_dtype(name, call, dtype):
    from tinygrad_bn.ops.pointwise import NO_GRADIENT_FUNCTIONS
    assert name in NO_GRADIENT_FUNCTIONS
    a, b = tg.tensor([-1.5, 2.0, -0.0]), tg.tensor([0.0, 1.0, 2.0])
    out = call(a, b, tg.tensor([1, 2, 3], dtype=tg.int32))
    assert str(out.dtype) == dtype, (name, out.dtype)


def test_every_function_without_a_gradient_has_its_dtype_checked():
    from tinygrad_bn.ops.pointwise import NO_GRADIENT_FUNCTIONS
    assert sorted(NO_GRADIENT_FUNCTIONS) == sorted(c[0] for c in NO_GRADIENT_DTYPES)


# polygamma(n, x) by mpmath at 40 digits: high orders at x past the recurrence's shift (16) rest
# on the Euler-Maclaurin tail alone, where each Bernoulli term shows
POLYGAMMA_REFERENCE = [(1, 40.0, 0.02531510384129103), (6, 16.0, -8.590996985078728e-06),
                       (10, 20.0, -4.5103770549818434e-08), (15, 40.0, 9.742611593684667e-14),
                       (15, 3.0, 30691.5700708901), (12, 100.0, -4.2363681689608106e-17)]


@pytest.mark.parametrize("n, x, want", POLYGAMMA_REFERENCE)
def test_polygamma_of_high_orders_is_accurate_to_a_few_ulps(n, x, want):
    got = tg.polygamma(n, tg.tensor([x], dtype=tg.float64)).numpy()[0]
    assert abs(got - want) <= 2e-15 * abs(want), (got, want)  # 1.5e-16 here; a wrong Bernoulli term: 1e-14 or more
