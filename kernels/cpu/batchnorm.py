"""Batch normalization: statistics per channel over every axis but the channel axis.

Inputs are viewed as (N, C) or (N, C, L), L the product of the spatial dims.
Each direction is two parallel sweeps over row chunks of x (one chunk per
thread, rows contiguous in memory):

forward   1. per-chunk partial sums of (x - k) and (x - k)^2 per channel
          2. y = ((x - k) - d) * gamma * invstd + beta
backward  1. per-chunk partial sums of dy and dy * ((x - k) - d) per channel
          2. dx = gamma * invstd * (dy - mean(dy) - x_hat * mean(dy * x_hat))

(the simplified closed form of Ioffe & Szegedy, 2015), with dgamma = sum(dy * x_hat)
and dbeta = sum(dy) from sweep 1. k is a per-channel value of the data (x[0, c]
forward, the float-rounded mean backward) and d = mean - k, small: (x - k) is
exact in float32 even for data with mean 1e4 and std 1, so nothing cancels.
Partials are float64 and are summed in chunk order.
"""
import numpy as np
from numba import njit

from .. import checks
from ..arrays import affine_or_default, flat
from ..checks import NUMPY_ARRAYS
from . import pool
from ._common import JIT, START, parallel_rows, run_rows

# --------------------------------------------------------------------- (N, C)


@njit(**JIT)
def _stats2d(a, b, ka, kb, db, s1, s2, r0, r1):
    """s1 += sum over rows r0:r1 of (a - ka);  s2 += sum of (a - ka) * ((b - kb) - db).
    Four rows at a time in the input dtype, then into the float64 sums."""
    width = a.shape[1]
    n = r0
    while n + 4 <= r1:
        a0, a1, a2, a3 = a[n], a[n + 1], a[n + 2], a[n + 3]
        b0, b1, b2, b3 = b[n], b[n + 1], b[n + 2], b[n + 3]
        for j in range(width):
            p = a0[j] - ka[j]
            q = a1[j] - ka[j]
            r = a2[j] - ka[j]
            t = a3[j] - ka[j]
            s1[j] += np.float64((p + q) + (r + t))
            s2[j] += np.float64((p * ((b0[j] - kb[j]) - db[j]) + q * ((b1[j] - kb[j]) - db[j]))
                                + (r * ((b2[j] - kb[j]) - db[j]) + t * ((b3[j] - kb[j]) - db[j])))
        n += 4
    while n < r1:
        a0, b0 = a[n], b[n]
        for j in range(width):
            p = a0[j] - ka[j]
            s1[j] += np.float64(p)
            s2[j] += np.float64(p * ((b0[j] - kb[j]) - db[j]))
        n += 1


@njit(**JIT)
def _normalize2d(x, y, k, d, scale, beta, r0, r1):
    """y = ((x - k) - d) * scale + beta, rows r0:r1."""
    width = x.shape[1]
    for n in range(r0, r1):
        xr, yr = x[n], y[n]
        for j in range(width):
            yr[j] = ((xr[j] - k[j]) - d[j]) * scale[j] + beta[j]


@njit(**JIT)
def _grad2d(x, dy, dx, k, d, scale, mdy, coef, r0, r1):
    """dx = scale * (dy - mdy - ((x - k) - d) * coef), rows r0:r1."""
    width = x.shape[1]
    for n in range(r0, r1):
        xr, gr, dr = x[n], dy[n], dx[n]
        for j in range(width):
            dr[j] = scale[j] * (gr[j] - mdy[j] - ((xr[j] - k[j]) - d[j]) * coef[j])


_stats2d_par = parallel_rows(_stats2d, partials=True)
_normalize2d_par = parallel_rows(_normalize2d)
_grad2d_par = parallel_rows(_grad2d)


# ------------------------------------------------------------------ (N, C, L)


@njit(**JIT)
def _stats3d(a, b, ka, kb, db, s1, s2, r0, r1):
    _, channels, length = a.shape
    for n in range(r0, r1):
        for c in range(channels):
            ar, br = a[n, c], b[n, c]
            k1, k2, d2 = ka[c], kb[c], db[c]
            t1 = 0.0
            t2 = 0.0
            for i in range(length):
                p = np.float64(ar[i] - k1)
                t1 += p
                t2 += p * np.float64((br[i] - k2) - d2)
            s1[c] += t1
            s2[c] += t2


@njit(**JIT)
def _normalize3d(x, y, k, d, scale, beta, r0, r1):
    _, channels, length = x.shape
    for n in range(r0, r1):
        for c in range(channels):
            xr, yr = x[n, c], y[n, c]
            kc, dc, sc, bc = k[c], d[c], scale[c], beta[c]
            for i in range(length):
                yr[i] = ((xr[i] - kc) - dc) * sc + bc


@njit(**JIT)
def _grad3d(x, dy, dx, k, d, scale, mdy, coef, r0, r1):
    _, channels, length = x.shape
    for n in range(r0, r1):
        for c in range(channels):
            xr, gr, dr = x[n, c], dy[n, c], dx[n, c]
            kc, dc, sc, mc, cf = k[c], d[c], scale[c], mdy[c], coef[c]
            for i in range(length):
                dr[i] = sc * (gr[i] - mc - ((xr[i] - kc) - dc) * cf)


_stats3d_par = parallel_rows(_stats3d, partials=True)
_normalize3d_par = parallel_rows(_normalize3d)
_grad3d_par = parallel_rows(_grad3d)


# ------------------------------------------------------------------ drivers


def _view(x):
    """x as a C-contiguous (N, C) or (N, C, L) array."""
    x = np.ascontiguousarray(x)
    return x if x.ndim == 2 else x.reshape(x.shape[0], x.shape[1], -1)


_KERNELS = {
    # ndim: (stats, normalize, grad) as (parallel, serial) pairs
    2: ((_stats2d_par, _stats2d), (_normalize2d_par, _normalize2d), (_grad2d_par, _grad2d)),
    3: ((_stats3d_par, _stats3d), (_normalize3d_par, _normalize3d), (_grad3d_par, _grad3d)),
}


def _run(which, xv, *args):
    """Run kernel ``which`` (0 stats, 1 normalize, 2 grad) over row chunks of xv;
    the stats kernel returns the per-channel sums."""
    par, ser = _KERNELS[xv.ndim][which]
    return run_rows(par, ser, xv.shape[0], xv.size, args, xv.shape[1] if which == 0 else None)


def _first_per_channel(xv):
    return xv[0].copy() if xv.ndim == 2 else xv[0, :, 0].copy()


def forward_train(x, weight, bias, eps):
    """Training-mode batch norm of x (N, C, *). Returns y (shape and dtype of x)
    and, per channel in float64, the batch mean, the biased batch variance and
    the inverse std 1 / sqrt(var + eps)."""
    checks.batch_norm_train(x, weight, bias, NUMPY_ARRAYS)
    xv = _view(x)
    channels = xv.shape[1]
    count = xv.size // channels
    gamma, beta = affine_or_default(weight, bias, channels, np)
    if xv.nbytes < pool.MIN_BYTES:  # one compiled call (see "small inputs" below)
        y, mean, var, invstd = _forward_train_small(xv, gamma, beta, float(eps))
        return y.reshape(x.shape), mean, var, invstd
    dt = xv.dtype
    k = _first_per_channel(xv)
    s1, s2 = _run(0, xv, xv, xv, k, k, np.zeros(channels, dt))
    m = s1 / count  # mean of (x - k)
    with np.errstate(invalid="ignore"):  # NaN/Inf input: the caller checks the statistics
        var = np.maximum(s2 / count - m * m, 0.0)
    invstd = 1.0 / np.sqrt(var + eps)
    y = pool.empty_like(xv)
    _run(1, xv, xv, y, k, m.astype(dt), (gamma * invstd).astype(dt), beta.astype(dt))
    return y.reshape(x.shape), k + m, var, invstd


def forward_eval(x, weight, bias, running_mean, running_var, eps):
    """Inference-mode batch norm from running statistics: one affine map per
    channel. Returns y and the inverse std used (float64)."""
    checks.batch_norm_eval(x, weight, bias, running_mean, running_var, NUMPY_ARRAYS)
    xv = _view(x)
    channels = xv.shape[1]
    gamma, beta = affine_or_default(weight, bias, channels, np)
    dt = xv.dtype
    rm = flat(running_mean, np.float64)
    invstd = 1.0 / np.sqrt(flat(running_var, np.float64) + eps)
    k = rm.astype(dt)
    y = pool.empty_like(xv)
    _run(1, xv, xv, y, k, (rm - k).astype(dt), (gamma * invstd).astype(dt), beta.astype(dt))
    return y.reshape(x.shape), invstd


def backward(x, dy, mean, invstd, weight, training=True):
    """Gradients of batch norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, per channel). ``mean``/``invstd`` are the statistics the forward
    used: the batch's in training, the running ones (``training=False``) in eval,
    where x_hat does not depend on the batch and dx = gamma * invstd * dy."""
    checks.batch_norm_backward(x, dy, mean, invstd, weight, NUMPY_ARRAYS)
    xv = _view(x)
    dt = xv.dtype
    dyv = np.ascontiguousarray(dy, dtype=dt).reshape(xv.shape)
    channels = xv.shape[1]
    count = xv.size // channels
    gamma, _ = affine_or_default(weight, None, channels, np)
    mean = flat(mean, np.float64)
    invstd = flat(invstd, np.float64)
    if xv.nbytes < pool.MIN_BYTES:  # one compiled call (see "small inputs" below)
        dx, dgamma, dbeta = _backward_small(xv, dyv, mean, invstd, gamma, bool(training))
        return dx.reshape(x.shape), dgamma, dbeta
    k = mean.astype(dt)
    d = (mean - k).astype(dt)
    zero = np.zeros(channels, dt)
    sdy, sdyxc = _run(0, xv, dyv, xv, zero, k, d)
    dbeta = sdy
    dgamma = sdyxc * invstd
    if training:
        mdy = sdy / count
        coef = sdyxc * invstd * invstd / count
    else:
        mdy = np.zeros(channels)
        coef = np.zeros(channels)
    dx = pool.empty_like(xv)
    _run(2, xv, xv, dyv, dx, k, d, (gamma * invstd).astype(dt), mdy.astype(dt), coef.astype(dt))
    return dx.reshape(x.shape), dgamma, dbeta


# ------------------------------------------------- forms for a compiled replay
# A compiled step replays calls whose arguments the trace
# already checked, with the same shapes and dtypes every time: a function's
# ``replay_form(*traced_args)`` returns what replay calls instead. Small inputs
# then go straight to their one compiled call; the Python checks around it cost
# twice the call itself at (16, 64). Layouts may differ between calls, so the
# forms still make their views contiguous.


def _affine_as_is(weight, bias):
    """Whether the kernels may take ``weight`` and ``bias`` as they are: 1-d
    float32 or float64 vectors (or None). Their products with the float64
    statistics are float64 in Numba too, and a float32 value widens exactly, so
    the results are those of the float64 copies the eager path makes, without
    the copies."""
    return all(v is None or (type(v) is np.ndarray and v.ndim == 1 and v.dtype in (np.float32, np.float64))
               for v in (weight, bias))


def _forward_train_replay_form(x, weight, bias, eps):
    traced = _view(x)
    if traced.nbytes >= pool.MIN_BYTES:
        return forward_train
    ones, zeros = affine_or_default(None, None, traced.shape[1], np)  # for a layer without affine
    as_is = _affine_as_is(weight, bias)
    flat2d = x.ndim == 2  # y has x's shape already: no reshape

    def forward_train_replayed(x, weight, bias, eps):
        if as_is:
            gamma = ones if weight is None else weight
            beta = zeros if bias is None else bias
        else:
            gamma = ones if weight is None else weight.astype(np.float64)
            beta = zeros if bias is None else bias.astype(np.float64)
        y, mean, var, invstd = _forward_train_small(_view(x), gamma, beta, float(eps))
        return (y if flat2d else y.reshape(x.shape)), mean, var, invstd
    return forward_train_replayed


def _backward_replay_form(x, dy, mean, invstd, weight, training=True):
    traced = _view(x)
    if traced.nbytes >= pool.MIN_BYTES:
        return backward
    ones, _ = affine_or_default(None, None, traced.shape[1], np)
    # the forward's statistics are float64 vectors already (the dtypes are the trace's every time)
    stats64 = all(v.dtype == np.float64 and v.ndim == 1 for v in (mean, invstd))
    as_is = _affine_as_is(weight, None)
    flat2d = x.ndim == 2 and dy.shape == x.shape and dy.dtype == x.dtype

    def backward_replayed(x, dy, mean, invstd, weight, training=True):
        xv = _view(x)
        dyv = np.ascontiguousarray(dy) if flat2d else np.ascontiguousarray(dy, dtype=xv.dtype).reshape(xv.shape)
        gamma = ones if weight is None else (weight if as_is else weight.astype(np.float64))
        if not stats64:
            mean, invstd = flat(mean, np.float64), flat(invstd, np.float64)
        dx, dgamma, dbeta = _backward_small(xv, dyv, mean, invstd, gamma, bool(training))
        return (dx if flat2d else dx.reshape(x.shape)), dgamma, dbeta
    return backward_replayed


forward_train.replay_form = _forward_train_replay_form
backward.replay_form = _backward_replay_form


# ------------------------------------------------------ small inputs, one call
# Below SERIAL_BELOW elements a direction is one compiled call instead of a
# dozen NumPy calls around two kernels (at (64, 64) those calls cost several
# times the kernels). The scalar steps are written as the drivers above write
# them, and compiled without fast-math, so they round alike: results repeat to
# the bit whichever path runs.


@njit(cache=True, nogil=True)
def small_stats(xv):
    """(shift k, mean - k, biased variance) per channel of a small input, in one
    serial sweep (batch renorm's small path uses it too, so both round alike)."""
    # xv.ndim is a compile-time constant: Numba keeps only the branch that applies
    channels = xv.shape[1]
    count = xv.size // channels
    k = xv[0].copy() if xv.ndim == 2 else xv[0, :, 0].copy()
    s1 = np.zeros(channels)
    s2 = np.zeros(channels)
    zero = np.zeros(channels, xv.dtype)
    if xv.ndim == 2:
        _stats2d(xv, xv, k, k, zero, s1, s2, START, xv.shape[0])
    else:
        _stats3d(xv, xv, k, k, zero, s1, s2, START, xv.shape[0])
    m = s1 / count
    return k, m, np.maximum(s2 / count - m * m, 0.0)


@njit(cache=True, nogil=True)
def _forward_train_small(xv, gamma, beta, eps):
    k, m, var = small_stats(xv)
    invstd = 1.0 / np.sqrt(var + eps)
    y = np.empty_like(xv)
    d, scale, b = m.astype(xv.dtype), (gamma * invstd).astype(xv.dtype), beta.astype(xv.dtype)
    if xv.ndim == 2:
        _normalize2d(xv, y, k, d, scale, b, START, xv.shape[0])
    else:
        _normalize3d(xv, y, k, d, scale, b, START, xv.shape[0])
    return y, k + m, var, invstd


@njit(cache=True, nogil=True)
def _backward_small(xv, dyv, mean, invstd, gamma, training):
    channels = xv.shape[1]
    count = xv.size // channels
    k = mean.astype(xv.dtype)
    d = (mean - k).astype(xv.dtype)
    sdy = np.zeros(channels)
    sdyxc = np.zeros(channels)
    zero = np.zeros(channels, xv.dtype)
    if xv.ndim == 2:
        _stats2d(dyv, xv, zero, k, d, sdy, sdyxc, START, xv.shape[0])
    else:
        _stats3d(dyv, xv, zero, k, d, sdy, sdyxc, START, xv.shape[0])
    dgamma = sdyxc * invstd
    if training:
        mdy = sdy / count
        coef = sdyxc * invstd * invstd / count
    else:
        mdy = np.zeros(channels)
        coef = np.zeros(channels)
    dx = np.empty_like(xv)
    scale, mdy_t, coef_t = (gamma * invstd).astype(xv.dtype), mdy.astype(xv.dtype), coef.astype(xv.dtype)
    if xv.ndim == 2:
        _grad2d(xv, dyv, dx, k, d, scale, mdy_t, coef_t, START, xv.shape[0])
    else:
        _grad3d(xv, dyv, dx, k, d, scale, mdy_t, coef_t, START, xv.shape[0])
    return dx, dgamma, sdy


