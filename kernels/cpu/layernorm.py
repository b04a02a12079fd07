"""Layer normalization over the trailing dims: x viewed as (M, D), one row per
sample, statistics per row, gamma and beta per column.

Rows are split into one contiguous chunk per thread. A row (D elements) stays
in L1/L2 between its reduction and its output loop, so each sweep reads x (and
dy) from memory about once. Backward per row:

    g      = dy * gamma
    dx     = invstd * (g - mean(g) - x_hat * mean(g * x_hat))
    dgamma = sum over rows of dy * x_hat,   dbeta = sum over rows of dy

dgamma and dbeta go into one float64 partial row per chunk, summed in chunk order.
Statistics use float64 shifted sums (shift: the row's first element).
"""
import math

import numpy as np
from numba import njit

from .. import checks
from ..arrays import affine_or_default, flat
from ..checks import NUMPY_ARRAYS
from . import pool
from ._common import JIT, parallel_rows, run_rows


# inline="always": Numba pastes the body into each caller before compiling it,
# so a caller runs the loop it had written out before; as an LLVM call it was
# not inlined (too large once vectorised), and group norm's rows of 32 values
# paid a call each.
@njit(inline="always", **JIT)
def row_moments(xr, eps):
    """(k, mean of xr - k, 1 / sqrt(var + eps)) of one row, k its first value,
    from float64 sums of (xr - k) and (xr - k)^2. Group norm's (N, C) rows use
    it too (kernels/cache_stamp.py keeps its callers' cached code current)."""
    width = xr.shape[0]
    k = xr[0]
    s1 = 0.0
    s2 = 0.0
    for j in range(width):
        p = np.float64(xr[j] - k)
        s1 += p
        s2 += p * p
    m, inv = moments_of_sums(s1, s2, width, eps)
    return k, m, inv


@njit(inline="always", **JIT)
def moments_of_sums(s1, s2, width, eps):
    """(mean - k, 1 / sqrt(var + eps)) from the float64 sums of (x - k) and (x - k)^2."""
    m = s1 / width
    inv = 1.0 / np.sqrt(max(s2 / width - m * m, 0.0) + eps)
    return m, inv


@njit(**JIT)
def _forward_rows(x, gamma, beta, eps, y, mean, invstd, r0, r1):
    """Rows r0..r1, software-pipelined as RMS norm's forward (kernels/cpu/rmsnorm.py):
    the loop that writes row r's output also takes the shifted sums of row
    r + 1, so memory serves reads and writes at once. Every row's sums come
    out of this one loop, whichever chunk the row falls in; the pass before
    the first row writes a placeholder into that row's output (overwritten on
    the next pass), and the last pass sums its own row again and drops it."""
    if r0 >= r1:  # no rows: the placeholder pass would write outside y
        return
    width = x.shape[1]
    ty = x.dtype.type
    k = ty(0.0)
    d = ty(0.0)
    iv = ty(0.0)
    for r in range(r0 - 1, r1):
        written = max(r, r0)
        summed = min(r + 1, r1 - 1)
        xr, yr, xn = x[written], y[written], x[summed]
        kn = xn[0]
        s1 = 0.0
        s2 = 0.0
        for j in range(width):
            p = np.float64(xn[j] - kn)
            s1 += p
            s2 += p * p
            yr[j] = ((xr[j] - k) - d) * iv * gamma[j] + beta[j]
        if r + 1 < r1:
            shifted_mean, inv = moments_of_sums(s1, s2, width, eps)
            mean[r + 1] = kn + shifted_mean
            invstd[r + 1] = inv
            k, d, iv = kn, ty(shifted_mean), ty(inv)


@njit(**JIT)
def _row_grad_stats(xr, gr, gamma, k, d, iv):
    """mean(g) and mean(g * x_hat) of one row, g = dy * gamma."""
    width = xr.shape[0]
    sg = 0.0
    sgx = 0.0
    for j in range(width):
        g = gr[j] * gamma[j]
        sg += np.float64(g)
        sgx += np.float64(g * (((xr[j] - k) - d) * iv))
    return xr.dtype.type(sg / width), xr.dtype.type(sgx / width)


@njit(**JIT)
def _backward_rows(x, dy, mean, invstd, gamma, dx, pg, pb, r0, r1):
    width = x.shape[1]
    ty = x.dtype.type
    r = r0
    # Four rows at a time: the column sums for dgamma and dbeta are then loaded
    # and stored once per four rows instead of once per row.
    while r + 4 <= r1:
        x0, x1, x2, x3 = x[r], x[r + 1], x[r + 2], x[r + 3]
        g0, g1, g2, g3 = dy[r], dy[r + 1], dy[r + 2], dy[r + 3]
        d0, d1, d2, d3 = dx[r], dx[r + 1], dx[r + 2], dx[r + 3]
        k0, k1, k2, k3 = ty(mean[r]), ty(mean[r + 1]), ty(mean[r + 2]), ty(mean[r + 3])
        e0, e1, e2, e3 = ty(mean[r] - k0), ty(mean[r + 1] - k1), ty(mean[r + 2] - k2), ty(mean[r + 3] - k3)
        v0, v1, v2, v3 = ty(invstd[r]), ty(invstd[r + 1]), ty(invstd[r + 2]), ty(invstd[r + 3])
        # mean(g) and mean(g * x_hat) of the four rows in one sweep
        a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = 0.0
        for j in range(width):
            gm = gamma[j]
            q0, q1, q2, q3 = g0[j] * gm, g1[j] * gm, g2[j] * gm, g3[j] * gm
            a0 += np.float64(q0)
            a1 += np.float64(q1)
            a2 += np.float64(q2)
            a3 += np.float64(q3)
            b0 += np.float64(q0 * (((x0[j] - k0) - e0) * v0))
            b1 += np.float64(q1 * (((x1[j] - k1) - e1) * v1))
            b2 += np.float64(q2 * (((x2[j] - k2) - e2) * v2))
            b3 += np.float64(q3 * (((x3[j] - k3) - e3) * v3))
        _dx_row(x0, g0, d0, gamma, k0, e0, v0, ty(a0 / width), ty(b0 / width))
        _dx_row(x1, g1, d1, gamma, k1, e1, v1, ty(a1 / width), ty(b1 / width))
        _dx_row(x2, g2, d2, gamma, k2, e2, v2, ty(a2 / width), ty(b2 / width))
        _dx_row(x3, g3, d3, gamma, k3, e3, v3, ty(a3 / width), ty(b3 / width))
        _accumulate4(x0, x1, x2, x3, g0, g1, g2, g3, k0, k1, k2, k3, e0, e1, e2, e3, v0, v1, v2, v3, pg, pb)
        r += 4
    while r < r1:
        xr, gr, dr = x[r], dy[r], dx[r]
        k = ty(mean[r])
        e = ty(mean[r] - k)
        v = ty(invstd[r])
        m, n = _row_grad_stats(xr, gr, gamma, k, e, v)
        _dx_row(xr, gr, dr, gamma, k, e, v, m, n)
        for j in range(width):
            h = ((xr[j] - k) - e) * v
            pg[j] += np.float64(gr[j] * h)
            pb[j] += np.float64(gr[j])
        r += 1


# The output sweep is split in two loops, each with few arrays: a loop that
# stores into one array and loads from a few vectorises; one that stores into
# six (four dx rows, dgamma, dbeta) and loads from nine did not (LLVM checks
# every pair for overlap at run time and gives up), and ran 1.1-1.6x slower.


@njit(**JIT)
def _dx_row(xr, gr, dr, gamma, k, e, v, m, n):
    """dx of one row: v * (dy * gamma - mean(g) - x_hat * mean(g * x_hat))."""
    for j in range(xr.shape[0]):
        h = ((xr[j] - k) - e) * v
        dr[j] = v * (gr[j] * gamma[j] - m - h * n)


@njit(**JIT)
def _accumulate4(x0, x1, x2, x3, g0, g1, g2, g3, k0, k1, k2, k3, e0, e1, e2, e3, v0, v1, v2, v3, pg, pb):
    """dgamma += dy * x_hat and dbeta += dy over four rows (one load and store
    of the float64 sums per four rows)."""
    for j in range(x0.shape[0]):
        h0 = ((x0[j] - k0) - e0) * v0
        h1 = ((x1[j] - k1) - e1) * v1
        h2 = ((x2[j] - k2) - e2) * v2
        h3 = ((x3[j] - k3) - e3) * v3
        pg[j] += np.float64((g0[j] * h0 + g1[j] * h1) + (g2[j] * h2 + g3[j] * h3))
        pb[j] += np.float64((g0[j] + g1[j]) + (g2[j] + g3[j]))


_forward_rows_par = parallel_rows(_forward_rows)
_backward_rows_par = parallel_rows(_backward_rows, partials=True)


def _rows(x, normalized_ndim):
    """x as a C-contiguous (rows, width) array, and the shape of its leading dims."""
    x = np.ascontiguousarray(x)
    lead = x.shape[: x.ndim - normalized_ndim]
    return x.reshape(math.prod(lead), -1), lead


def forward(x, weight, bias, eps, normalized_ndim):
    """Layer norm of x over its last ``normalized_ndim`` dims. Returns y (shape
    and dtype of x), mean and invstd per row (float64, shape of the leading dims)."""
    checks.layer_norm(x, weight, bias, normalized_ndim, NUMPY_ARRAYS)
    xr, lead = _rows(x, normalized_ndim)
    rows, width = xr.shape
    gamma, beta = affine_or_default(weight, bias, width, np)
    gamma, beta = gamma.astype(xr.dtype), beta.astype(xr.dtype)
    y = pool.empty_like(xr)
    mean = np.empty(rows)
    invstd = np.empty(rows)
    run_rows(_forward_rows_par, _forward_rows, rows, xr.size, (xr, gamma, beta, float(eps), y, mean, invstd))
    return y.reshape(x.shape), mean.reshape(lead), invstd.reshape(lead)


def backward(x, dy, mean, invstd, weight, normalized_ndim):
    """Gradients of layer norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, shape of the normalized dims)."""
    checks.layer_norm_backward(x, dy, mean, invstd, weight, normalized_ndim, NUMPY_ARRAYS)
    xr, _ = _rows(x, normalized_ndim)
    rows, width = xr.shape
    dyr = np.ascontiguousarray(dy, dtype=xr.dtype).reshape(xr.shape)
    gamma, _ = affine_or_default(weight, None, width, np)
    gamma = gamma.astype(xr.dtype)
    mean = flat(mean, np.float64)
    invstd = flat(invstd, np.float64)
    dx = pool.empty_like(xr)
    dgamma, dbeta = run_rows(_backward_rows_par, _backward_rows, rows, xr.size,
                             (xr, dyr, mean, invstd, gamma, dx), partial_width=width)
    shape = x.shape[x.ndim - normalized_ndim:]
    return dx.reshape(x.shape), dgamma.reshape(shape), dbeta.reshape(shape)
