"""Group normalization of x (N, C, *) with G groups, and instance normalization
(G = C). x is viewed as (N * G, C / G, L): each row is one group of one sample,
contiguous in memory, with statistics per row and gamma, beta per channel;
(N, C) input (L = 1) has loops of its own that walk each row once.

Rows are split into one chunk per thread; backward per row:

    g      = dy * gamma[c]
    dx     = invstd * (g - mean(g) - x_hat * mean(g * x_hat))
    dgamma = sum over n, L of dy * x_hat,   dbeta = sum over n, L of dy

with dgamma and dbeta in one float64 partial row per chunk, summed in chunk order.
Statistics use float64 shifted sums (shift: the row's first element).
"""
import numpy as np
from numba import njit

from .. import checks
from ..arrays import affine_or_default, flat
from ..checks import NUMPY_ARRAYS
from . import pool
from ._common import JIT, parallel_rows, run_rows
from .layernorm import row_moments


@njit(**JIT)
def _forward_rows(x, groups, gamma, beta, eps, y, mean, invstd, r0, r1):
    _, per_group, length = x.shape
    count = per_group * length
    for r in range(r0, r1):
        xr, yr = x[r], y[r]
        k = xr[0, 0]
        s1 = 0.0
        s2 = 0.0
        for i in range(per_group):
            for l in range(length):
                p = np.float64(xr[i, l] - k)
                s1 += p
                s2 += p * p
        m = s1 / count
        inv = 1.0 / np.sqrt(max(s2 / count - m * m, 0.0) + eps)
        mean[r] = k + m
        invstd[r] = inv
        d = xr.dtype.type(m)
        c0 = (r % groups) * per_group
        for i in range(per_group):
            sc = xr.dtype.type(inv * gamma[c0 + i])
            b = xr.dtype.type(beta[c0 + i])
            for l in range(length):
                yr[i, l] = ((xr[i, l] - k) - d) * sc + b


@njit(**JIT)
def _backward_rows(x, dy, groups, mean, invstd, gamma, dx, pg, pb, r0, r1):
    _, per_group, length = x.shape
    count = per_group * length
    for r in range(r0, r1):
        xr, gr, dr = x[r], dy[r], dx[r]
        k = xr.dtype.type(mean[r])
        d = xr.dtype.type(mean[r] - k)
        iv = xr.dtype.type(invstd[r])
        c0 = (r % groups) * per_group
        sg = 0.0
        sgx = 0.0
        for i in range(per_group):
            gm = xr.dtype.type(gamma[c0 + i])
            t_dy = 0.0
            t_dyx = 0.0
            for l in range(length):
                xh = ((xr[i, l] - k) - d) * iv
                t_dy += np.float64(gr[i, l])
                t_dyx += np.float64(gr[i, l] * xh)
            pg[c0 + i] += t_dyx
            pb[c0 + i] += t_dy
            sg += t_dy * gamma[c0 + i]
            sgx += t_dyx * gamma[c0 + i]
        mg = xr.dtype.type(sg / count)
        mgx = xr.dtype.type(sgx / count)
        for i in range(per_group):
            gm = xr.dtype.type(gamma[c0 + i])
            for l in range(length):
                xh = ((xr[i, l] - k) - d) * iv
                dr[i, l] = iv * (gr[i, l] * gm - mg - xh * mgx)


# ------------------------------------------------------------ one value per channel (L = 1)
# GroupNorm over (N, C) features: a row is C / G channels of one value each. The
# general loops above would run an inner loop of length 1 per channel; these walk
# the row once, so the compiler vectorizes them. Same arithmetic, same results.
# A flat row's statistics are layer norm's (row_moments). The general loops keep
# their own: summed row by row of L values they round in another order.


@njit(**JIT)
def _forward_flat(x, groups, gamma, beta, eps, y, mean, invstd, r0, r1):
    width = x.shape[1]
    for r in range(r0, r1):
        xr, yr = x[r], y[r]
        k, m, inv = row_moments(xr, eps)
        mean[r] = k + m
        invstd[r] = inv
        d = xr.dtype.type(m)
        c0 = (r % groups) * width
        for j in range(width):
            yr[j] = ((xr[j] - k) - d) * xr.dtype.type(inv * gamma[c0 + j]) + xr.dtype.type(beta[c0 + j])


@njit(**JIT)
def _backward_flat(x, dy, groups, mean, invstd, gamma, dx, pg, pb, r0, r1):
    width = x.shape[1]
    for r in range(r0, r1):
        xr, gr, dr = x[r], dy[r], dx[r]
        k = xr.dtype.type(mean[r])
        d = xr.dtype.type(mean[r] - k)
        iv = xr.dtype.type(invstd[r])
        c0 = (r % groups) * width
        sg = 0.0
        sgx = 0.0
        for j in range(width):
            g = gr[j]
            t_dy = np.float64(g)
            t_dyx = np.float64(g * (((xr[j] - k) - d) * iv))
            pg[c0 + j] += t_dyx
            pb[c0 + j] += t_dy
            sg += t_dy * gamma[c0 + j]
            sgx += t_dyx * gamma[c0 + j]
        mg = xr.dtype.type(sg / width)
        mgx = xr.dtype.type(sgx / width)
        for j in range(width):
            xh = ((xr[j] - k) - d) * iv
            dr[j] = iv * (gr[j] * xr.dtype.type(gamma[c0 + j]) - mg - xh * mgx)


_forward_flat_par = parallel_rows(_forward_flat)
_backward_flat_par = parallel_rows(_backward_flat, partials=True)
_forward_rows_par = parallel_rows(_forward_rows)
_backward_rows_par = parallel_rows(_backward_rows, partials=True)


def _view(x, groups):
    """(N * G, C / G) when there is one value per channel, else (N * G, C / G, L)."""
    x = np.ascontiguousarray(x)
    n, c = x.shape[0], x.shape[1]
    if x.size == n * c:
        return x.reshape(n * groups, c // groups)
    return x.reshape(n * groups, c // groups, -1)


def _kernels(xv):
    """(forward parallel, forward serial, backward parallel, backward serial)."""
    if xv.ndim == 2:
        return _forward_flat_par, _forward_flat, _backward_flat_par, _backward_flat
    return _forward_rows_par, _forward_rows, _backward_rows_par, _backward_rows


def forward(x, num_groups, weight, bias, eps):
    """Group norm of x (N, C, *). Returns y (shape and dtype of x), and mean and
    invstd per (sample, group) (float64, shape (N, G))."""
    checks.group_norm(x, num_groups, weight, bias, NUMPY_ARRAYS)
    xv = _view(x, num_groups)
    channels = x.shape[1]
    gamma, beta = affine_or_default(weight, bias, channels, np)
    y = pool.empty_like(xv)
    rows = xv.shape[0]
    mean = np.empty(rows)
    invstd = np.empty(rows)
    fpar, fser, _, _ = _kernels(xv)
    run_rows(fpar, fser, rows, xv.size, (xv, num_groups, gamma, beta, float(eps), y, mean, invstd))
    shape = (x.shape[0], num_groups)
    return y.reshape(x.shape), mean.reshape(shape), invstd.reshape(shape)


def backward(x, dy, num_groups, mean, invstd, weight):
    """Gradients of group norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, per channel)."""
    checks.group_norm_backward(x, dy, num_groups, mean, invstd, weight, NUMPY_ARRAYS)
    xv = _view(x, num_groups)
    dyv = np.ascontiguousarray(dy, dtype=xv.dtype).reshape(xv.shape)
    channels = x.shape[1]
    gamma, _ = affine_or_default(weight, None, channels, np)
    rows = xv.shape[0]
    mean = flat(mean, np.float64)
    invstd = flat(invstd, np.float64)
    dx = pool.empty_like(xv)
    _, _, bpar, bser = _kernels(xv)
    dgamma, dbeta = run_rows(bpar, bser, rows, xv.size,
                             (xv, dyv, num_groups, mean, invstd, gamma, dx), partial_width=channels)
    return dx.reshape(x.shape), dgamma, dbeta
