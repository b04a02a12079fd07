"""Special functions NumPy lacks (it has no lgamma, digamma, erfinv, ...), as
compiled ufuncs over float32 and float64. Each computes in float64 and rounds
once to the argument's dtype, so float32 results are correctly rounded values
of a float64 computation. On a GPU CuPy's ``cupyx.scipy.special`` gives the
same functions; the simulator uses these.

Imported on first use (by the backend's ``math``), not with the
kernel package: nine ufuncs would add to every import's time.
"""
import math

import numpy as np
from numba import njit, vectorize

_F1 = ["float32(float32)", "float64(float64)"]
_F2 = ["float32(float32, float32)", "float64(float64, float64)"]

# Bernoulli numbers B_2k / (2k)! for the Euler-Maclaurin tail of the Hurwitz zeta function
_B2K_OVER_FACT = np.array([1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160,
                           -691 / 1307674368000, 1 / 74724249600, -3617 / 10670622842880000])
# the recurrences below move x up to this before the asymptotic series (error < 1e-16 past it)
_SHIFT_TO = 16.0


@njit(cache=True, nogil=True)
def _digamma(x):
    x = np.float64(x)
    if math.isnan(x) or x == -math.inf:
        return math.nan
    if x == math.inf:
        return math.inf
    if x <= 0.0 and x == math.floor(x):
        # as PyTorch: the limit from 0's own side at +-0 (-inf at +0, +inf at -0), NaN at the negative integers
        return -math.copysign(math.inf, x) if x == 0.0 else math.nan
    result = 0.0
    if x < 0.0:
        # reflection: psi(1 - x) - psi(x) = pi / tan(pi x), so the recurrence runs on a positive argument;
        # tan's period is taken out first (x - trunc(x) is exact), as PyTorch does: pi x itself would
        # carry an error of about |x| ulps into the angle (a relative 3e-12 at x = -100000.25)
        result = -math.pi / math.tan(math.pi * (x - np.trunc(x)))
        x = 1.0 - x
    while x < _SHIFT_TO:  # psi(x) = psi(x + 1) - 1 / x
        result -= 1.0 / x
        x += 1.0
    inv2 = 1.0 / (x * x)
    # psi(x) ~ log x - 1/(2x) - sum_k B_2k / (2k x^2k)
    tail = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132)))))
    return result + math.log(x) - 0.5 / x - tail


@njit(cache=True, nogil=True)
def _hurwitz_zeta(s, q):
    """sum_{k>=0} (q + k)^-s for s > 1 and q not a non-positive integer."""
    total = 0.0
    while q < _SHIFT_TO + s:  # the asymptotic tail needs q well past s
        total += q ** -s
        q += 1.0
    # Euler-Maclaurin: q^(1-s)/(s-1) + q^-s/2 + sum_j B_2j/(2j)! * s(s+1)...(s+2j-2) q^(-s-2j+1)
    total += q ** (1.0 - s) / (s - 1.0) + 0.5 * q ** -s
    rising = s  # s (s+1) ... (s+2j-2)
    power = q ** (-s - 1.0)
    for j in range(_B2K_OVER_FACT.size):
        total += _B2K_OVER_FACT[j] * rising * power
        rising *= (s + 2 * j + 1.0) * (s + 2 * j + 2.0)
        power /= q * q
    return total


@njit(cache=True, nogil=True)
def _polygamma(n, x):
    if n == 0:
        return _digamma(x)
    x = np.float64(x)
    if math.isnan(x):
        return math.nan
    if x <= 0.0 and x == math.floor(x):
        # poles: +inf for odd n; for even n the sides differ and PyTorch gives the right-hand limit, -inf
        return math.inf if n % 2 == 1 else -math.inf
    if x == math.inf:
        return 0.0
    # psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x)
    sign = 1.0 if n % 2 == 1 else -1.0
    return sign * math.gamma(n + 1.0) * _hurwitz_zeta(n + 1.0, x)


@njit(cache=True, nogil=True)
def _erfinv(y):
    y = np.float64(y)
    if math.isnan(y) or y < -1.0 or y > 1.0:
        return math.nan
    if y == 1.0:
        return math.inf
    if y == -1.0:
        return -math.inf
    # Giles (2010), "Approximating the erfinv function": single precision, then Newton on erf in float64
    w = -math.log((1.0 - y) * (1.0 + y))
    if w < 5.0:
        w -= 2.5
        p = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941):
            p = c + p * w
    else:
        w = math.sqrt(w) - 3.0
        p = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682):
            p = c + p * w
    x = p * y
    two_over_sqrt_pi = 2.0 / math.sqrt(math.pi)
    if abs(y) <= 0.5:
        for _ in range(3):  # quadratic convergence: three steps reach float64 from single precision
            err = math.erf(x) - y
            x -= err / (two_over_sqrt_pi * math.exp(-x * x))
        return x
    # in the tails erf(x) - y cancels: solve erfc(|x|) = 1 - |y| instead (1 - |y| is exact here)
    # Newton on log(erfc(a)) - log(t), whose relative error stays small where erfc is tiny
    t = 1.0 - abs(y)
    log_t = math.log(t)
    a = abs(x)
    for _ in range(6):
        e = math.erfc(a)
        a += (math.log(e) - log_t) * e / (two_over_sqrt_pi * math.exp(-a * a))
    return a if y > 0 else -a


@njit(cache=True, nogil=True)
def _bessel_i(order, x):
    """Modified Bessel function I_0 or I_1 by its power series (all terms positive: no
    cancellation; about |x| terms)."""
    x = np.float64(x)
    if math.isnan(x):
        return math.nan
    half = 0.5 * abs(x)
    if half > 360.0:  # past e^709 / sqrt(2 pi x): overflow, as float64's exp
        return math.inf if order == 0 or x > 0 else -math.inf
    q = half * half
    term = 1.0 if order == 0 else half
    total = term
    k = 1.0
    while True:
        term *= q / (k * (k + order))
        total += term
        if term <= 1e-17 * total:  # <=: at x = 0, I_1's terms and total are all 0 (a < test never ends)
            break
        k += 1.0
    return total if order == 0 or x >= 0 else -total


# zeta(2), ..., zeta(18): the Taylor coefficients of log Gamma(1 + a) at a = 0
_ZETA_2_TO_18 = np.array([1.6449340668482264, 1.2020569031595942, 1.0823232337111381, 1.03692775514337,
                          1.0173430619844492, 1.008349277381923, 1.0040773561979444, 1.0020083928260821,
                          1.000994575127818, 1.0004941886041194, 1.000246086553308, 1.0001227133475785,
                          1.0000612481350588, 1.000030588236307, 1.0000152822594086, 1.0000076371976379,
                          1.000003817293265])
_EULER_GAMMA = 0.5772156649015329


@njit(cache=True, nogil=True)
def _lgamma1p(a):
    """log Gamma(1 + a), accurate for tiny a too (where 1 + a rounds to 1 and
    ``lgamma(1 + a)`` would give 0): its Taylor series below 0.1."""
    if abs(a) >= 0.1:
        return math.lgamma(1.0 + a)
    total = 0.0
    power = -a  # (-a)^k after the k-th step
    for k in range(2, 19):  # 0.1^18 / 18 is below float64's resolution of the sum
        power *= -a
        total += _ZETA_2_TO_18[k - 2] * power / k
    return -_EULER_GAMMA * a + total


@njit(cache=True, nogil=True)
def _log1pmx(t):
    """log(1 + t) - t without the cancellation of the two near t = 0."""
    if abs(t) >= 0.1:
        return math.log1p(t) - t
    total = 0.0
    power = t  # -(-t)^k after the k-th step: -t^2 / 2 + t^3 / 3 - ...
    for k in range(2, 20):
        power *= -t
        total += power / k
    return total


@njit(cache=True, nogil=True)
def _gammainc_log_prefix(a, x):
    """log(x^a e^-x / Gamma(a)). For large a its three terms are each about a log a and
    cancel to about log a, so past a = 10 it is a (log(1 + t) - t) + log(a / 2 pi) / 2
    - (Stirling's correction), with t = x / a - 1, where nothing large cancels."""
    if a < 10.0:
        return a * math.log(x) - x - math.lgamma(a)
    r = 1.0 / (a * a)  # the series' next term at a = 10 is 3e-17
    stirling = (1.0 / 12.0 - r * (1.0 / 360.0 - r * (1.0 / 1260.0 - r * (1.0 / 1680.0 - r * (
        1.0 / 1188.0 - r * (691.0 / 360360.0 - r / 156.0)))))) / a
    return a * _log1pmx((x - a) / a) + 0.5 * math.log(a / (2.0 * math.pi)) - stirling


@njit(cache=True, nogil=True)
def _gammainc_iterations(a):
    """Enough terms for the series and the continued fraction: past a of about 10^5
    both need a number that grows as sqrt(a) (the terms fall as exp(-n^2 / 2a))."""
    return 10000 + int(20.0 * math.sqrt(a))


@njit(cache=True, nogil=True)
def _gammainc_lower(a, x):
    """The regularized lower incomplete gamma function P(a, x) (Numerical Recipes'
    series below a + 1, continued fraction above, for the other side). The special
    values and NaNs follow PyTorch's (SciPy's) order of checks."""
    if x < 0.0 or a < 0.0:
        return math.nan
    if a == 0.0:
        return 1.0 if x > 0.0 else math.nan
    if x == 0.0:
        return 0.0
    if a == math.inf:  # all the mass lies past any finite x
        return math.nan if x == math.inf else 0.0
    if x == math.inf:
        return 1.0
    if math.isnan(a) or math.isnan(x):
        return math.nan
    log_prefix = _gammainc_log_prefix(a, x)
    if x < a + 1.0:
        term = 1.0 / a
        total = term
        n = a
        for _ in range(_gammainc_iterations(a)):
            n += 1.0
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        return total * math.exp(log_prefix)
    return 1.0 - _gammainc_upper_fraction(a, x, log_prefix)


@njit(cache=True, nogil=True)
def _gammainc_upper_fraction(a, x, log_prefix):
    """Q(a, x) by Lentz's continued fraction, for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, _gammainc_iterations(a)):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return math.exp(log_prefix) * h


@njit(cache=True, nogil=True)
def _gammainc_upper_small_x(a, x):
    """Q(a, x) for x < 1.1 and a < 0.5, where P is near 1 and 1 - P would lose Q's
    digits (for a = 1e-10, Q(a, 1) is about 2e-11). From P = x^a / Gamma(a + 1)
    (1 + a sum_{n>=1} (-x)^n / (n! (a + n))):
    Q = -expm1(a log x - log Gamma(1 + a)) - x^a / Gamma(a) sum_{n>=1} (-x)^n / (n! (a + n))."""
    term = 1.0
    total = 0.0
    for n in range(1, 200):
        term *= -x / n
        piece = term / (a + n)
        total += piece
        if abs(piece) <= 1e-17 * abs(total):
            break
    # log(x^a / Gamma(a + 1)) is small; x^a / Gamma(a) is a times its exp (an exp of
    # a log x - log Gamma(a) would lose |log a| ulps: 690 of them at a = 1e-300)
    log_u = a * math.log(x) - _lgamma1p(a)
    return -math.expm1(log_u) - a * math.exp(log_u) * total


@njit(cache=True, nogil=True)
def _gammainc_upper(a, x):
    if x < 0.0 or a < 0.0:
        return math.nan
    if a == 0.0:
        return 0.0 if x > 0.0 else math.nan
    if x == 0.0:
        return 1.0
    if a == math.inf:
        return math.nan if x == math.inf else 1.0
    if x == math.inf:
        return 0.0
    if math.isnan(a) or math.isnan(x):
        return math.nan
    if x < 1.1 and a < 0.5:
        return _gammainc_upper_small_x(a, x)
    if x < a + 1.0:
        return 1.0 - _gammainc_lower(a, x)
    return _gammainc_upper_fraction(a, x, _gammainc_log_prefix(a, x))


@vectorize(_F1, cache=True)
def lgamma(x):
    """log |Gamma(x)|."""
    return math.lgamma(np.float64(x))


@vectorize(_F1, cache=True)
def digamma(x):
    """d/dx log Gamma(x)."""
    return _digamma(x)


@vectorize(["float32(int64, float32)", "float64(int64, float64)"], cache=True)
def polygamma(n, x):
    """The n-th derivative of digamma (n >= 0)."""
    return _polygamma(n, x)


@vectorize(_F1, cache=True)
def erfinv(y):
    """The inverse of erf on (-1, 1)."""
    return _erfinv(y)


@vectorize(_F1, cache=True)
def erfc(x):
    """1 - erf(x), accurate where erf(x) is near 1."""
    return math.erfc(np.float64(x))


@vectorize(_F1, cache=True)
def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    return _bessel_i(0, x)


@vectorize(_F1, cache=True)
def i1(x):
    """The modified Bessel function of the first kind, order 1."""
    return _bessel_i(1, x)


@vectorize(_F2, cache=True)
def gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x)."""
    return _gammainc_lower(np.float64(a), np.float64(x))


@vectorize(_F2, cache=True)
def gammaincc(a, x):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return _gammainc_upper(np.float64(a), np.float64(x))
