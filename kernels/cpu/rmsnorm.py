"""RMS normalization over the trailing dims: x viewed as (M, D), one row per
sample, one statistic per row, gamma per column (no beta, no mean):

    rstd   = 1 / sqrt(mean(x^2) + eps),   x_hat = x * rstd,   y = x_hat * gamma

Laid out as layer norm (kernels/cpu/layernorm.py): rows split into one
contiguous chunk per thread (the chunk bounds are computed by the caller from
the thread count), each row read from memory once per sweep and again from
cache for its output loop (the forward's output loop of row r is also the
sweep of row r + 1). Backward per row, with g = dy * gamma:

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


@njit(**JIT)
def _forward_rows(x, gamma, eps, y, rstd, r0, r1):
    """Rows r0..r1, software-pipelined: the loop that writes row r's output also
    sums the squares of row r + 1. Memory then serves reads and writes at once,
    as in a triad, where a sweep that only reads and a loop that only writes
    took turns: 0.7-0.8x the time at (4096, 4096) and (64, 200704) float32.

    Every row's sum comes out of the one loop below, so a row's statistic has
    the same bits whichever chunk it falls in (the chunks follow the thread
    count). The pass before the first row writes a placeholder into that
    row's output (overwritten on the next pass); the last pass sums its own
    row again and drops the sum."""
    if r0 >= r1:  # no rows: the placeholder pass below would write outside y
        return
    width = x.shape[1]
    ty = x.dtype.type
    inv = 0.0
    for r in range(r0 - 1, r1):
        written = max(r, r0)
        summed = min(r + 1, r1 - 1)
        xr, yr, xn = x[written], y[written], x[summed]
        iv = ty(inv)
        s2 = 0.0
        for j in range(width):
            p = np.float64(xn[j])
            s2 += p * p
            yr[j] = xr[j] * iv * gamma[j]
        if r + 1 < r1:
            inv = 1.0 / np.sqrt(s2 / width + eps)
            rstd[r + 1] = inv


# Rows whose dgamma partial (float64) and x and dy rows take at most this many
# bytes go one at a time: the partial row stays in L1 and two input streams
# beat eight (at (4096, 1024) float32, 0.67-0.76x the four-row form's time;
# at 1536 columns, or 1024 in float64, 1.1-1.2x, so wider rows go four at a time).
ONE_ROW_BYTES = 16384


@njit(**JIT)
def _backward_rows(x, dy, rstd, gamma, dx, pg, unused, r0, r1):
    """dx of rows r0..r1, and their dy * x_hat summed into pg (``unused``: the
    second partial row _common.run_rows hands every row kernel).

    rstd is known from the forward, so dgamma's sums need nothing from this
    sweep: they are taken in the same loop as each row's sum(g * x), and the
    second loop writes dx alone (with dgamma's sums in a loop of their own the
    kernel took 1.2-1.4x as long: it is bound by its arithmetic as much as by
    memory)."""
    width = x.shape[1]
    ty = x.dtype.type
    r = r0
    if width * (8 + 2 * x.itemsize) > ONE_ROW_BYTES:
        # Four rows at a time, as layer norm's backward: dgamma's float64 column sums
        # are then loaded and stored once per four rows instead of once per row.
        while r + 4 <= r1:
            x0, x1, x2, x3 = x[r], x[r + 1], x[r + 2], x[r + 3]
            g0, g1, g2, g3 = dy[r], dy[r + 1], dy[r + 2], dy[r + 3]
            i0, i1, i2, i3 = rstd[r], rstd[r + 1], rstd[r + 2], rstd[r + 3]
            v0, v1, v2, v3 = ty(i0), ty(i1), ty(i2), ty(i3)
            # sum(g * x) of the four rows, with g = dy * gamma, and dgamma += dy * x_hat
            a0 = a1 = a2 = a3 = 0.0
            for j in range(width):
                p0, p1, p2, p3 = g0[j] * x0[j], g1[j] * x1[j], g2[j] * x2[j], g3[j] * x3[j]
                gm = gamma[j]
                a0 += np.float64(p0 * gm)
                a1 += np.float64(p1 * gm)
                a2 += np.float64(p2 * gm)
                a3 += np.float64(p3 * gm)
                pg[j] += np.float64((p0 * v0 + p1 * v1) + (p2 * v2 + p3 * v3))
            _dx_row(x0, g0, dx[r], gamma, v0, ty(i0 * i0 * i0 * a0 / width))
            _dx_row(x1, g1, dx[r + 1], gamma, v1, ty(i1 * i1 * i1 * a1 / width))
            _dx_row(x2, g2, dx[r + 2], gamma, v2, ty(i2 * i2 * i2 * a2 / width))
            _dx_row(x3, g3, dx[r + 3], gamma, v3, ty(i3 * i3 * i3 * a3 / width))
            r += 4
    # One row at a time: every row of a narrow input, the last rows of a wide one.
    while r < r1:
        xr, gr = x[r], dy[r]
        i = rstd[r]
        v = ty(i)
        a = 0.0
        for j in range(width):
            p = gr[j] * xr[j]
            a += np.float64(p * gamma[j])
            pg[j] += np.float64(p * v)
        _dx_row(xr, gr, dx[r], gamma, v, ty(i * i * i * a / width))
        r += 1


@njit(**JIT)
def _dx_row(xr, gr, dr, gamma, v, c):
    """dx of one row: rstd * dy * gamma - x * (rstd^3 * mean(g * x))."""
    for j in range(xr.shape[0]):
        dr[j] = v * (gr[j] * gamma[j]) - xr[j] * c


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
                         (xr, dyr, flat(rstd, np.float64), gamma, dx), partial_width=width,
                         partial_rows=1)
    return dx.reshape(x.shape), dgamma.reshape(x.shape[x.ndim - normalized_ndim:])
