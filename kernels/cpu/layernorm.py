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
import numpy as np
from numba import njit, prange

from ._common import JIT, PJIT, affine_or_default, chunks, num_threads, use_parallel


@njit(**JIT)
def _forward_rows(x, gamma, beta, eps, y, mean, invstd, r0, r1):
    width = x.shape[1]
    for r in range(r0, r1):
        xr, yr = x[r], y[r]
        k = xr[0]
        s1 = 0.0
        s2 = 0.0
        for j in range(width):
            p = np.float64(xr[j] - k)
            s1 += p
            s2 += p * p
        m = s1 / width
        inv = 1.0 / np.sqrt(max(s2 / width - m * m, 0.0) + eps)
        mean[r] = k + m
        invstd[r] = inv
        d = xr.dtype.type(m)
        iv = xr.dtype.type(inv)
        for j in range(width):
            yr[j] = ((xr[j] - k) - d) * iv * gamma[j] + beta[j]


@njit(**JIT)
def _backward_rows(x, dy, mean, invstd, gamma, dx, pg, pb, r0, r1):
    width = x.shape[1]
    for r in range(r0, r1):
        xr, gr, dr = x[r], dy[r], dx[r]
        k = xr.dtype.type(mean[r])
        d = xr.dtype.type(mean[r] - k)
        iv = xr.dtype.type(invstd[r])
        sg = 0.0
        sgx = 0.0
        for j in range(width):
            xh = ((xr[j] - k) - d) * iv
            g = gr[j] * gamma[j]
            sg += np.float64(g)
            sgx += np.float64(g * xh)
            pg[j] += np.float64(gr[j] * xh)
            pb[j] += np.float64(gr[j])
        mg = xr.dtype.type(sg / width)
        mgx = xr.dtype.type(sgx / width)
        for j in range(width):
            xh = ((xr[j] - k) - d) * iv
            dr[j] = iv * (gr[j] * gamma[j] - mg - xh * mgx)


@njit(**PJIT)
def _forward_par(x, gamma, beta, eps, y, mean, invstd, bounds):
    for t in prange(len(bounds) - 1):
        _forward_rows(x, gamma, beta, eps, y, mean, invstd, bounds[t], bounds[t + 1])


@njit(**PJIT)
def _backward_par(x, dy, mean, invstd, gamma, dx, part, bounds):
    for t in prange(len(bounds) - 1):
        _backward_rows(x, dy, mean, invstd, gamma, dx, part[t, 0], part[t, 1], bounds[t], bounds[t + 1])


def _rows(x, normalized_ndim):
    x = np.ascontiguousarray(x)
    lead = x.shape[: x.ndim - normalized_ndim]
    return x.reshape(int(np.prod(lead, dtype=np.int64)), -1), lead


def forward(x, weight, bias, eps, normalized_ndim):
    """Layer norm of x over its last ``normalized_ndim`` dims. Returns y (shape
    and dtype of x), mean and invstd per row (float64, shape of the leading dims)."""
    xr, lead = _rows(x, normalized_ndim)
    rows, width = xr.shape
    gamma, beta = affine_or_default(weight, bias, width)
    gamma, beta = gamma.astype(xr.dtype), beta.astype(xr.dtype)
    y = np.empty_like(xr)
    mean = np.empty(rows)
    invstd = np.empty(rows)
    if use_parallel(xr.size) and rows > 1:
        _forward_par(xr, gamma, beta, float(eps), y, mean, invstd, chunks(rows, num_threads()))
    else:
        _forward_rows(xr, gamma, beta, float(eps), y, mean, invstd, 0, rows)
    return y.reshape(x.shape), mean.reshape(lead), invstd.reshape(lead)


def backward(x, dy, mean, invstd, weight, normalized_ndim):
    """Gradients of layer norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, shape of the normalized dims)."""
    xr, _ = _rows(x, normalized_ndim)
    rows, width = xr.shape
    dyr = np.ascontiguousarray(dy, dtype=xr.dtype).reshape(xr.shape)
    gamma, _ = affine_or_default(weight, None, width)
    gamma = gamma.astype(xr.dtype)
    mean = np.ascontiguousarray(mean, dtype=np.float64).reshape(rows)
    invstd = np.ascontiguousarray(invstd, dtype=np.float64).reshape(rows)
    dx = np.empty_like(xr)
    parallel = use_parallel(xr.size) and rows > 1
    bounds = chunks(rows, num_threads() if parallel else 1)
    part = np.zeros((len(bounds) - 1, 2, width))
    if parallel:
        _backward_par(xr, dyr, mean, invstd, gamma, dx, part, bounds)
    else:
        _backward_rows(xr, dyr, mean, invstd, gamma, dx, part[0, 0], part[0, 1], 0, rows)
    total = part.sum(axis=0)
    shape = x.shape[x.ndim - normalized_ndim:]
    return dx.reshape(x.shape), total[0].reshape(shape), total[1].reshape(shape)
