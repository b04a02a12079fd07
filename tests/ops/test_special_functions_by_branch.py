"""The special functions of kernels/cpu/special.py against mpmath, point by point, in
every branch each takes (reflection, the recurrence up to its shift, the series below a
threshold, the asymptotic expansion or continued fraction above it) and on both sides of
each threshold, with bounds in ulps a little above the error each point has: a changed
coefficient or threshold moves a result by more. float32 results are the float64 ones
rounded once, and the special values (poles, infinities, NaN, the ends of the domain)
follow PyTorch.

Each table row is (arguments..., mpmath's value at 40 digits rounded to float64, the
bound in ulps of that value)."""
import math
import warnings

import numpy as np
import pytest

from kernels.cpu import special

DIGAMMA = [
    (-4503599627370495.5, 36.04365338911715, 3),
    (-100000.25, 14.654525618536063, 4),
    (-100.25, 7.754238959208646, 4),
    (-2.00000001, 100000001.5305314, 3),
    (-15.5, 2.7727513716226233, 3),
    (-2.5, 1.103156640645243, 5),
    (-0.3, 2.113309779635399, 4),
    (-1e-08, 99999999.42278431, 4),
    (1e-300, -9.999999999999999e+299, 3),
    (1e-08, -100000000.57721564, 4),
    (0.5, -1.9635100260214235, 5),
    (0.999, -0.5788618021086455, 6),
    (0.99999999, -0.5772156813508738, 7),
    (1.0, -0.5772156649015329, 9),
    (1.5, 0.03648997397857652, 87),
    (2.0, 0.42278433509846713, 26),
    (3.0, 0.9227843350984671, 4),
    (15.5, 2.7082352425903653, 3),
    (15.999999999999998, 2.7410133283274605, 3),
    (16.0, 2.7410133283274605, 4),
    (16.000000000000004, 2.7410133283274605, 3),
    (17.5, 2.8333574322286843, 3),
    (100.0, 4.600161852738087, 4),
    (1000000.0, 13.815510057964191, 4),
    (1000000000000000.0, 34.538776394910684, 3),
    (1e+300, 690.7755278982137, 3),
]
POLYGAMMA = [
    (1, -2.5, 9.539246644989124, 4),
    (2, -0.3, 67.63908119988317, 4),
    (3, -15.5, 194.8176947371882, 5),
    (1, 1e-08, 1.0000000000000002e+16, 4),
    (1, 0.5, 4.934802200544679, 4),
    (2, 1.5, -0.82879664423432, 4),
    (1, 17.999999999999996, 0.057127325790782627, 4),
    (1, 18.0, 0.05712732579078261, 3),
    (3, 19.999999999999996, 0.00026937422133963907, 5),
    (3, 20.0, 0.0002693742213396389, 3),
    (4, 21.0, -3.3905977726396666e-05, 4),
    (2, 100.0, -0.00010100499983335, 4),
    (5, 10000.0, 2.4006000599999993e-19, 4),
    (1, 100000000.0, 1.000000005e-08, 3),
    (7, 2.0, 20.54987523763947, 5),
    (0, 2.5, 0.7031566406452432, 4),
]
ERFINV = [
    (1e-300, 8.86226925452758e-301, 3),
    (1e-10, 8.862269254527581e-11, 3),
    (0.1, 0.08885599049425769, 3),
    (0.5, 0.4769362762044699, 3),
    (0.5000000000000001, 0.47693627620447, 3),
    (-0.7, -0.7328690779592167, 3),
    (0.9, 1.1630871536766743, 3),
    (0.99, 1.8213863677184494, 4),
    (0.9966, 2.071150939906553, 3),
    (0.99663, 2.073098071740635, 3),
    (0.999, 2.3267537655135246, 3),
    (0.999999, 3.458910737275499, 3),
    (-0.99999999, -4.052237243268763, 3),
    (0.9999999999, 4.572824958544925, 3),
    (0.9999999999999999, 5.8635847487551676, 3),
    (-0.9999999999999998, -5.805018683193453, 3),
]
I0 = [
    (1e-300, 1.0, 3),
    (1e-05, 1.000000000025, 3),
    (0.5, 1.0634833707413236, 3),
    (1.0, 1.2660658777520084, 4),
    (-3.7, 8.738617524169397, 4),
    (10.0, 2815.7166284662544, 4),
    (-30.0, 781672297823.9775, 3),
    (100.0, 1.0737517071310738e+42, 5),
    (500.0, 2.504809476570078e+215, 11),
    (713.0, 6.705128263670996e+307, 25),
]
I1 = [
    (1e-300, 5e-301, 3),
    (1e-05, 5.0000000000625004e-06, 3),
    (0.5, 0.2578943053908963, 4),
    (1.0, 0.565159103992485, 3),
    (-3.7, -7.435745796535337, 3),
    (10.0, 2670.9883037012546, 4),
    (-30.0, -768532038938.957, 3),
    (100.0, 1.0683693903381625e+42, 6),
    (500.0, 2.5023034121761e+215, 3),
    (713.0, 6.700424559186402e+307, 24),
]
GAMMAINC = [
    (0.3, 0.2, 0.6575067242697218, 3),
    (0.3, 1.0999999999999999, 0.9269949550874125, 4),
    (0.3, 1.1, 0.9269949550874125, 6),
    (0.05, 0.5, 0.971317371244164, 4),
    (0.09999999999999999, 0.5, 0.9414024458901336, 4),
    (0.1, 0.5, 0.9414024458901336, 6),
    (0.4999999999999999, 0.8, 0.7940967892679317, 5),
    (0.5, 0.8, 0.7940967892679317, 3),
    (2.5, 3.4999999999999996, 0.7793596920632891, 6),
    (2.5, 3.5, 0.7793596920632893, 4),
    (2.5, 0.01, 2.987601531906594e-06, 22),
    (2.5, 40.0, 0.9999999999999991, 3),
    (9.999999999999998, 9.0, 0.41259175566805883, 34),
    (10.0, 9.0, 0.4125917556680586, 6),
    (10.0, 10.5, 0.6028674006491893, 4),
    (10.0, 10.999999999999998, 0.6594893575343388, 3),
    (10.0, 11.0, 0.6594893575343389, 4),
    (20.0, 17.5, 0.30546576566618533, 4),
    (20.0, 18.0, 0.34908387201929825, 4),
    (20.0, 21.999999999999996, 0.693972979437825, 4),
    (20.0, 22.0, 0.6939729794378253, 5),
    (50.0, 5.0, 2.1810592140784887e-32, 261),
    (50.0, 150.0, 1.0, 3),
    (1000.0, 1000.0, 0.5042052441802155, 6),
    (1000.0, 1200.0, 0.9999999987118394, 3),
    (0.001, 3.0, 0.9999869268601987, 3),
    (0.001, 0.001, 0.9936876467088603, 9),
    (0.7, 1.05, 0.7749089568777723, 4),
    (10000.0, 9900.0, 0.15865119219356466, 5),
    (0.2, 1e-200, 1.0891244210583308e-40, 111),
    (0.3, 2.0, 0.977974019172853, 3),
    (0.1, 2.05, 0.9946938854744234, 3),
    (0.001, 1.5, 0.999899847040343, 3),
]
GAMMAINCC = [
    (0.3, 0.2, 0.34249327573027827, 4),
    (0.3, 1.0999999999999999, 0.07300504491258751, 9),
    (0.3, 1.1, 0.07300504491258748, 29),
    (0.05, 0.5, 0.02868262875583602, 5),
    (0.09999999999999999, 0.5, 0.05859755410986647, 3),
    (0.1, 0.5, 0.05859755410986648, 10),
    (0.4999999999999999, 0.8, 0.20590321073206824, 4),
    (0.5, 0.8, 0.2059032107320683, 3),
    (2.5, 3.4999999999999996, 0.22064030793671086, 17),
    (2.5, 3.5, 0.2206403079367108, 5),
    (2.5, 0.01, 0.999997012398468, 3),
    (2.5, 40.0, 8.391825114831611e-16, 19),
    (9.999999999999998, 9.0, 0.5874082443319412, 19),
    (10.0, 9.0, 0.5874082443319414, 4),
    (10.0, 10.5, 0.39713259935081063, 4),
    (10.0, 10.999999999999998, 0.34051064246566126, 4),
    (10.0, 11.0, 0.34051064246566104, 5),
    (20.0, 17.5, 0.6945342343338147, 4),
    (20.0, 18.0, 0.6509161279807018, 4),
    (20.0, 21.999999999999996, 0.306027020562175, 4),
    (20.0, 22.0, 0.30602702056217473, 9),
    (50.0, 5.0, 1.0, 3),
    (50.0, 150.0, 7.412100857322876e-22, 29),
    (1000.0, 1000.0, 0.4957947558197845, 10),
    (1000.0, 1200.0, 1.2881606086281433e-09, 129),
    (0.001, 3.0, 1.3073139801213742e-05, 14),
    (0.001, 0.001, 0.00631235329113971, 4),
    (0.7, 1.05, 0.22509104312222775, 9),
    (10000.0, 9900.0, 0.8413488078064354, 3),
    (0.2, 1e-200, 1.0, 3),
    (0.3, 2.0, 0.022025980827147015, 15),
    (0.1, 2.05, 0.005306114525576575, 11),
    (0.001, 1.5, 0.00010015295965701439, 27),
]
LGAMMA1P = [
    (1e-300, -5.772156649015329e-301, 3),
    (-1e-10, 5.7721566498377955e-11, 3),
    (1e-10, -5.7721566481928616e-11, 3),
    (0.05, -0.02685307250226017, 3),
    (-0.05, 0.0309687952379729, 3),
    (0.09999999999999999, -0.04987244125983972, 4),
    (-0.09999999999999999, 0.06637623973474296, 3),
    (0.1, -0.04987244125983973, 9),
    (-0.1, 0.06637623973474298, 4),
    (0.3, -0.10817480950786047, 3),
    (-0.3, 0.2608672465316665, 5),
]
LOG1PMX = [
    (1e-10, -4.999999999666667e-21, 3),
    (-1e-08, -5.000000033333334e-17, 3),
    (0.05, -0.001209835830567997, 4),
    (-0.05, -0.0012932943875505335, 3),
    (0.09999999999999999, -0.004689820195675139, 3),
    (-0.09999999999999999, -0.0053605156578263, 4),
    (0.1, -0.00468982019567514, 3),
    (-0.1, -0.005360515657826302, 5),
    (0.5, -0.09453489189183562, 3),
    (-0.5, -0.19314718055994531, 4),
]
LOG_PREFIX = [
    (9.999999999999998, 9.0, 0.1704182932807243, 144),
    (10.0, 9.0, 0.17041829328072422, 3),
    (10.0, 10.5, 0.21192509155330727, 3),
    (10.0, 12.0, 0.04723901779853349, 31),
    (30.0, 3.0, -41.298670307124716, 5),
    (100000.0, 100300.0, 4.388421345794989, 3),
    (2.5, 0.01, -11.807608335443147, 4),
]


def _ulps(got, want):
    return abs(got - want) / np.spacing(abs(want)) if want != 0.0 else abs(got) / np.spacing(0.0)


def _check(name, rows, f):
    for *args, want, bound in rows:
        got = float(f(*args))
        assert _ulps(got, want) <= bound, (name, args, got, want, _ulps(got, want))


def _one(ufunc):
    return lambda *args: ufunc(*(np.array([v]) for v in args))[0]


def test_digamma_in_every_branch():
    """Reflection below 0 (with tan's period taken out of pi x first, as PyTorch, so that
    far from 0 the angle stays exact: at -100000.25 pi x would put 1e-11 into it), the
    recurrence up to 16, the asymptotic series from 16 on."""
    with np.errstate(over="ignore"):  # 1 / x^2 at x = 1e300
        _check("digamma", DIGAMMA, _one(special.digamma))


def test_digamma_near_its_positive_root_keeps_an_absolute_error_of_a_few_ulps_of_one():
    """At psi's root 1.46163..., where the sum of the recurrence and the asymptotic series
    cancels to nothing, the error stays below 1e-15 absolute (mpmath's values)."""
    for x, want in [(1.4616321449683618, -5.221454580919643e-16), (1.4616321449683622, -9.241265521729427e-17),
                    (1.4616321449683625, 1.2245374622004068e-16)]:
        assert abs(special.digamma(np.array([x]))[0] - want) <= 1e-15, x


def test_polygamma_in_every_branch():
    """Negative x, x below and at the Hurwitz zeta's shift (16 + n + 1), far past it,
    and n = 0 (digamma)."""
    _check("polygamma", POLYGAMMA, lambda n, x: special.polygamma(np.array([n]), np.array([x]))[0])


def test_erfinv_in_every_branch():
    """Giles' central and tail polynomials (either side of w = -log(1 - y^2) = 5, at
    y = 0.99662...), each refined by Newton on erf (|y| <= 0.5) or on log erfc (past it)."""
    _check("erfinv", ERFINV, _one(special.erfinv))


def test_bessel_i0_and_i1_by_their_series():
    _check("i0", I0, _one(special.i0))
    _check("i1", I1, _one(special.i1))


def test_incomplete_gamma_in_every_branch():
    """The series (x < a + 1), the continued fraction (x >= a + 1), the small-x form of Q
    (x < 1.1 and a < 0.5), and the log prefix below and from a = 10."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check("gammainc", GAMMAINC, _one(special.gammainc))
        _check("gammaincc", GAMMAINCC, _one(special.gammaincc))


def test_the_helpers_of_the_incomplete_gamma_in_every_branch():
    """log Gamma(1 + a) and log(1 + t) - t by their series below 0.1 and directly from
    0.1 on (on both sides of 0), and the log prefix log(x^a e^-x / Gamma(a)) below
    a = 10 and by Stirling's series from 10 on."""
    _check("_lgamma1p", LGAMMA1P, special._lgamma1p)
    _check("_log1pmx", LOG1PMX, special._log1pmx)
    _check("_gammainc_log_prefix", LOG_PREFIX, special._gammainc_log_prefix)


def _float32_range(rows):
    return [r[0] for r in rows if 1e-30 < abs(r[0]) < 1e30]


POINTS = {"digamma": _float32_range(DIGAMMA), "erfinv": _float32_range(ERFINV), "i0": _float32_range(I0[:7]),
          "i1": _float32_range(I1[:7]), "lgamma": [0.1, 0.5, 2.5, 30.0, -2.5], "erfc": [-1.0, 0.3, 5.0, 20.0]}


@pytest.mark.parametrize("name", sorted(POINTS))
def test_float32_results_are_the_float64_results_rounded(name):
    x = np.array(POINTS[name], dtype=np.float32)
    got = getattr(special, name)(x)
    assert got.dtype == np.float32
    want = getattr(special, name)(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(got, want)


def test_float32_results_of_the_two_argument_functions_are_the_float64_results_rounded():
    a = np.array([r[0] for r in GAMMAINC], dtype=np.float32)
    x = np.array([r[1] for r in GAMMAINC], dtype=np.float32)
    for f in (special.gammainc, special.gammaincc):
        got = f(a, x)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, f(a.astype(np.float64), x.astype(np.float64)).astype(np.float32))
    n = np.array([r[0] for r in POLYGAMMA])
    x = np.array([r[1] for r in POLYGAMMA], dtype=np.float32)
    got = special.polygamma(n, x)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, special.polygamma(n, x.astype(np.float64)).astype(np.float32))


def test_special_values_follow_pytorch():
    """Poles, infinities, NaN and the ends of erfinv's domain (torch 2.13's values, except
    where noted): digamma is NaN at the negative integers and -inf, polygamma of an odd
    order is +inf at a pole and of an even order -inf (the right-hand limit), 0 at +inf;
    erfinv is NaN outside [-1, 1] and keeps the sign of zero; I0 is even and I1 odd, both
    1 and 0 at 0, infinite past float64's range (PyTorch gives NaN at +-inf)."""
    nan, inf = math.nan, math.inf
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(special.digamma(np.array([nan, -inf, inf, 0.0, -0.0, -1.0, -7.0, -1e20])),
                                      [nan, nan, inf, -inf, inf, nan, nan, nan])
        n = np.array([1, 3, 2, 4, 2, 1, 2, 3, 0, 0])
        x = np.array([0.0, -3.0, 0.0, -1.0, -0.0, inf, inf, nan, -1.0, 0.0])
        np.testing.assert_array_equal(special.polygamma(n, x), [inf, inf, -inf, -inf, -inf, 0.0, 0.0, nan, nan, -inf])
        y = np.array([nan, -1.0000000000000002, 1.0000000000000002, -2.0, 2.0, -1.0, 1.0, -0.0, 0.0])
        got = special.erfinv(y)
        np.testing.assert_array_equal(got, [nan, nan, nan, nan, nan, -inf, inf, 0.0, 0.0])
        assert math.copysign(1.0, got[-2]) == -1.0 and math.copysign(1.0, got[-1]) == 1.0
        x = np.array([0.0, -0.0, nan, 720.0, -720.0, 721.0, -721.0, inf, -inf])
        np.testing.assert_array_equal(special.i0(x), [1.0, 1.0, nan, inf, inf, inf, inf, inf, inf])
        np.testing.assert_array_equal(special.i1(x), [0.0, 0.0, nan, inf, -inf, inf, -inf, inf, -inf])
        assert (np.copysign(1.0, special.i1(np.array([0.0, -0.0]))) == 1.0).all()  # +0 at both zeros
    # a = 0: all the mass at 0, so P = 1 and Q = 0 for every x > 0, however small
    x = np.array([1e-300, 0.5, 1.0, 3.0])
    np.testing.assert_array_equal(special.gammainc(np.zeros(4), x), np.ones(4))
    np.testing.assert_array_equal(special.gammaincc(np.zeros(4), x), np.zeros(4))
    for f in (special.i0, special.i1):
        x = np.array([0.3, 2.0, 17.0, 150.0])
        np.testing.assert_array_equal(f(-x), f(x) if f is special.i0 else -f(x))


def test_erfinv_is_odd():
    y = np.array([1e-300, 1e-10, 0.3, 0.5, 0.7, 0.9966, 0.99663, 0.999999, 1 - 2.0 ** -52])
    np.testing.assert_array_equal(special.erfinv(-y), -special.erfinv(y))
