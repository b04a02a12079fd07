"""RMS normalization over the trailing dims: x viewed as (M, D), one row per
sample, one statistic per row, gamma per column (no beta, no mean):

    rstd   = 1 / sqrt(mean(x^2) + eps),   x_hat = x * rstd,   y = x_hat * gamma

Laid out as layer norm (kernels/cpu/layernorm.py): rows split into one
contiguous chunk per thread (the chunk bounds are computed by the caller from
the thread count), each row read from memory once per sweep and again from
cache for its output loop. Backward per row, with g = dy * gamma:

    dx     = rstd * (g - x_hat * mean(g * x_hat)) = rstd * g - x * (rstd^3 * mean(g * x))
    dgamma = sum over rows of dy * x_hat

The sums of squares and of g * x are float64 for float32 input too (a square
cannot cancel, so no shift is needed: float32 data of mean 1e4 loses nothing);
dgamma goes into one float64 partial row per chunk, summed in chunk order, so
results repeat exactly at a fixed thread count.
"""
import math

import numpy as np
from numba import njit

from .. import checks
from ..arrays import flat
from ..checks import NUMPY_ARRAYS
from . import pool
from ._common import JIT, parallel_rows, run_rows


# Four rows of x and dy in blocks of this many columns take 64 KiB in float64
# (32 KiB in float32): they stay in L2 between the dx and the dgamma loops.
COLUMN_BLOCK = 1024


@njit(**JIT)
def _forward_rows(x, gamma, eps, y, rstd, r0, r1):
    width = x.shape[1]
    for r in range(r0, r1):
        xr, yr = x[r], y[r]
        s2 = 0.0
        for j in range(width):
            p = np.float64(xr[j])
            s2 += p * p
        inv = 1.0 / np.sqrt(s2 / width + eps)
        rstd[r] = inv
        iv = xr.dtype.type(inv)
        for j in range(width):
            yr[j] = xr[j] * iv * gamma[j]


@njit(**JIT)
def _backward_rows(x, dy, rstd, gamma, dx, pg, unused, r0, r1):
    """dx of rows r0..r1, and their dy * x_hat summed into pg (``unused``: the
    second partial row _common.run_rows hands every row kernel)."""
    width = x.shape[1]
    ty = x.dtype.type
    r = r0
    # Four rows at a time, as layer norm's backward: dgamma's float64 column sums
    # are then loaded and stored once per four rows instead of once per row.
    while r + 4 <= r1:
        x0, x1, x2, x3 = x[r], x[r + 1], x[r + 2], x[r + 3]
        g0, g1, g2, g3 = dy[r], dy[r + 1], dy[r + 2], dy[r + 3]
        d0, d1, d2, d3 = dx[r], dx[r + 1], dx[r + 2], dx[r + 3]
        i0, i1, i2, i3 = rstd[r], rstd[r + 1], rstd[r + 2], rstd[r + 3]
        # sum(g * x) of the four rows in one sweep
        a0 = a1 = a2 = a3 = 0.0
        for j in range(width):
            gm = gamma[j]
            a0 += np.float64(g0[j] * gm) * np.float64(x0[j])
            a1 += np.float64(g1[j] * gm) * np.float64(x1[j])
            a2 += np.float64(g2[j] * gm) * np.float64(x2[j])
            a3 += np.float64(g3[j] * gm) * np.float64(x3[j])
        v0, v1, v2, v3 = ty(i0), ty(i1), ty(i2), ty(i3)
        c0, c1 = ty(i0 * i0 * i0 * a0 / width), ty(i1 * i1 * i1 * a1 / width)
        c2, c3 = ty(i2 * i2 * i2 * a2 / width), ty(i3 * i3 * i3 * a3 / width)
        # Column blocks: dx and dgamma's sums of a block read x and dy from cache,
        # not memory, when the four rows are too wide for it (one block otherwise).
        for j0 in range(0, width, COLUMN_BLOCK):
            j1 = min(j0 + COLUMN_BLOCK, width)
            gb = gamma[j0:j1]
            _dx_row(x0[j0:j1], g0[j0:j1], d0[j0:j1], gb, v0, c0)
            _dx_row(x1[j0:j1], g1[j0:j1], d1[j0:j1], gb, v1, c1)
            _dx_row(x2[j0:j1], g2[j0:j1], d2[j0:j1], gb, v2, c2)
            _dx_row(x3[j0:j1], g3[j0:j1], d3[j0:j1], gb, v3, c3)
            _accumulate4(x0[j0:j1], x1[j0:j1], x2[j0:j1], x3[j0:j1], g0[j0:j1], g1[j0:j1], g2[j0:j1],
                         g3[j0:j1], v0, v1, v2, v3, pg[j0:j1])
        r += 4
    while r < r1:
        xr, gr, dr = x[r], dy[r], dx[r]
        i = rstd[r]
        a = 0.0
        for j in range(width):
            a += np.float64(gr[j] * gamma[j]) * np.float64(xr[j])
        v, c = ty(i), ty(i * i * i * a / width)
        for j0 in range(0, width, COLUMN_BLOCK):
            j1 = min(j0 + COLUMN_BLOCK, width)
            _dx_row(xr[j0:j1], gr[j0:j1], dr[j0:j1], gamma[j0:j1], v, c)
            for j in range(j0, j1):
                pg[j] += np.float64(gr[j] * (xr[j] * v))
        r += 1


# As in layer norm, the output sweep is split into loops that each store into
# one array (dx, then dgamma's sums): a loop storing into several did not vectorise.


@njit(**JIT)
def _dx_row(xr, gr, dr, gamma, v, c):
    """dx of one row: rstd * dy * gamma - x * (rstd^3 * mean(g * x))."""
    for j in range(xr.shape[0]):
        dr[j] = v * (gr[j] * gamma[j]) - xr[j] * c


@njit(**JIT)
def _accumulate4(x0, x1, x2, x3, g0, g1, g2, g3, v0, v1, v2, v3, pg):
    """dgamma += dy * x_hat over four rows (one load and store of the float64 sums per four rows)."""
    for j in range(x0.shape[0]):
        pg[j] += np.float64((g0[j] * (x0[j] * v0) + g1[j] * (x1[j] * v1))
                            + (g2[j] * (x2[j] * v2) + g3[j] * (x3[j] * v3)))


_forward_rows_par = parallel_rows(_forward_rows)
_backward_rows_par = parallel_rows(_backward_rows, partials=True)


def _rows(x, normalized_ndim):
    """x as a C-contiguous (rows, width) array, and the shape of its leading dims."""
    x = np.ascontiguousarray(x)
    lead = x.shape[: x.ndim - normalized_ndim]
    return x.reshape(math.prod(lead), -1), lead


def _gamma(weight, width, dtype):
    """weight as a flat vector of x's dtype (ones without affine), so a kernel compiles once per input dtype."""
    return np.ones(width, dtype) if weight is None else flat(weight, dtype)


def forward(x, weight, eps, normalized_ndim):
    """RMS norm of x over its last ``normalized_ndim`` dims. Returns y (shape and
    dtype of x) and rstd = 1 / sqrt(mean(x^2) + eps) per row (float64, shape of
    the leading dims)."""
    checks.rms_norm(x, weight, normalized_ndim, NUMPY_ARRAYS)
    xr, lead = _rows(x, normalized_ndim)
    rows, width = xr.shape
    gamma = _gamma(weight, width, xr.dtype)
    y = pool.empty_like(xr)
    rstd = np.empty(rows)
    run_rows(_forward_rows_par, _forward_rows, rows, xr.size, (xr, gamma, float(eps), y, rstd))
    return y.reshape(x.shape), rstd.reshape(lead)


def backward(x, dy, rstd, weight, normalized_ndim):
    """Gradients of RMS norm: dx (shape and dtype of x) and dgamma (float64,
    shape of the normalized dims)."""
    checks.rms_norm_backward(x, dy, rstd, weight, normalized_ndim, NUMPY_ARRAYS)
    xr, _ = _rows(x, normalized_ndim)
    rows, width = xr.shape
    dyr = np.ascontiguousarray(dy, dtype=xr.dtype).reshape(xr.shape)
    gamma = _gamma(weight, width, xr.dtype)
    dx = pool.empty_like(xr)
    dgamma, _ = run_rows(_backward_rows_par, _backward_rows, rows, xr.size,
                         (xr, dyr, flat(rstd, np.float64), gamma, dx), partial_width=width)
    return dx.reshape(x.shape), dgamma.reshape(x.shape[x.ndim - normalized_ndim:])
