"""The double backward of batch and layer norm, fused: the second-order pass
of a Hessian-vector product or a gradient penalty through a norm.

``ops/norm_grad.py`` holds the math (its module docstring) and the composite
form of it, written in backend ops, which runs where these kernels do not: on
"cuda", for group norm, for SyncBatchNorm and in a recorded pass (create_graph
again, third order). Here the same closed form runs in two sweeps per group
instead of some forty array ops: at SimpleNetBN's (64, 64) the composite took
about 100 us a call, mostly NumPy's per-call cost.

For one group of M elements (a channel of batch norm, a row of layer norm),
with its statistics from the forward pass (mean, s = invstd; float64),
x_hat = (x - mean) * s, gy = g * weight, bg = beta * g and what reaches the
first-order outputs a (dx), beta (dweight), gamma (dbias):
    sweep 1: the sums of gy, gy*x_hat, a, a*x_hat, a*gy, bg, bg*x_hat
    sweep 2: P(u) = u - mean(u) - x_hat * mean(u * x_hat) from those sums and
        d/dx      = -(s^2 / M) (x_hat S(a, P(gy)) + S(gy, x_hat) P(a) + S(a, x_hat) P(gy)) + s P(bg)
        d/dg      = s * weight * P(a) + beta * x_hat + gamma
        d/dweight = sum over the parameter's elements of s * g * P(a)
with S(a, P(gy)) = S(a, gy) - mean(gy) S(a) - mean(gy x_hat) S(a, x_hat). Eval-mode
batch norm (running statistics, constants) has P = I and no first term.
Sums are float64; outputs are in x's dtype; dweight float64.
"""
import numpy as np
from numba import njit

from ..arrays import affine_or_default, flat
from . import pool
from ._common import JIT, chunks, claim_pool, num_threads, parallel_rows, release_pool, run_rows

_SUMS = 7  # gy, gy*x_hat, a, a*x_hat, a*gy, bg, bg*x_hat


# ------------------------------------------------ batch norm: x as (N, C, L), groups are channels
# (N, C) inputs get kernels of their own over row slices: a loop over the
# channels of a row is the one LLVM vectorizes; L = 1 in the 3-D loops did not.

@njit(**JIT)
def _bn_sums2d(x, g, a, w, b, mean, invstd, part, r0, r1):
    """Sweep 1 over rows r0..r1: the seven sums per channel, into part (7, C)."""
    p0, p1, p2, p3, p4, p5, p6 = part[0], part[1], part[2], part[3], part[4], part[5], part[6]
    for n in range(r0, r1):
        xr, gr, ar = x[n], g[n], a[n]
        for ch in range(x.shape[1]):
            h = (np.float64(xr[ch]) - mean[ch]) * invstd[ch]
            gv = np.float64(gr[ch])
            av = np.float64(ar[ch])
            gy = gv * w[ch]
            bg = b[ch] * gv
            p0[ch] += gy
            p1[ch] += gy * h
            p2[ch] += av
            p3[ch] += av * h
            p4[ch] += av * gy
            p5[ch] += bg
            p6[ch] += bg * h


@njit(**JIT)
def _bn_sums3d(x, g, a, w, b, mean, invstd, part, r0, r1):
    """As _bn_sums2d for (N, C, L): each (n, c) run of L values sums in registers first."""
    _, C, L = x.shape
    for n in range(r0, r1):
        for ch in range(C):
            mu, s, wv, bv = mean[ch], invstd[ch], w[ch], b[ch]
            xr, gr, ar = x[n, ch], g[n, ch], a[n, ch]
            s0 = s1 = s2 = s3 = s4 = s5 = s6 = 0.0
            for i in range(L):
                h = (np.float64(xr[i]) - mu) * s
                gv = np.float64(gr[i])
                av = np.float64(ar[i])
                gy = gv * wv
                bg = bv * gv
                s0 += gy
                s1 += gy * h
                s2 += av
                s3 += av * h
                s4 += av * gy
                s5 += bg
                s6 += bg * h
            part[0, ch] += s0
            part[1, ch] += s1
            part[2, ch] += s2
            part[3, ch] += s3
            part[4, ch] += s4
            part[5, ch] += s5
            part[6, ch] += s6


@njit(**JIT)
def _bn_outputs2d(x, g, a, w, b, c, mean, invstd, coef, training, dx, dg, dw, r0, r1):
    """Sweep 2 over rows r0..r1: dx and dg, and dweight's partial sums into dw (C,)."""
    c0, c1, c2, c3, c5, c6 = coef[0], coef[1], coef[2], coef[3], coef[5], coef[6]
    c7, c8, c9, c10 = coef[7], coef[8], coef[9], coef[10]
    for n in range(r0, r1):
        xr, gr, ar, dxr, dgr = x[n], g[n], a[n], dx[n], dg[n]
        if training:
            for ch in range(x.shape[1]):
                s = invstd[ch]
                h = (np.float64(xr[ch]) - mean[ch]) * s
                gv = np.float64(gr[ch])
                pa = np.float64(ar[ch]) - c2[ch] - h * c3[ch]
                pgy = gv * w[ch] - c0[ch] - h * c1[ch]
                pbg = b[ch] * gv - c5[ch] - h * c6[ch]
                dxr[ch] = c7[ch] * (h * c8[ch] + c9[ch] * pa + c10[ch] * pgy) + s * pbg
                dgr[ch] = s * w[ch] * pa + b[ch] * h + c[ch]
                dw[ch] += s * gv * pa
        else:
            for ch in range(x.shape[1]):
                s = invstd[ch]
                h = (np.float64(xr[ch]) - mean[ch]) * s
                gv = np.float64(gr[ch])
                pa = np.float64(ar[ch])
                dxr[ch] = s * b[ch] * gv
                dgr[ch] = s * w[ch] * pa + b[ch] * h + c[ch]
                dw[ch] += s * gv * pa


@njit(**JIT)
def _bn_outputs3d(x, g, a, w, b, c, mean, invstd, coef, training, dx, dg, dw, r0, r1):
    """As _bn_outputs2d for (N, C, L)."""
    _, C, L = x.shape
    for n in range(r0, r1):
        for ch in range(C):
            mu, s, wv, bv, cv = mean[ch], invstd[ch], w[ch], b[ch], c[ch]
            m0, m1, m2, m3, m5, m6 = coef[0, ch], coef[1, ch], coef[2, ch], coef[3, ch], coef[5, ch], coef[6, ch]
            k, a_pgy, gy_h, a_h = coef[7, ch], coef[8, ch], coef[9, ch], coef[10, ch]
            xr, gr, ar, dxr, dgr = x[n, ch], g[n, ch], a[n, ch], dx[n, ch], dg[n, ch]
            acc = 0.0
            for i in range(L):
                h = (np.float64(xr[i]) - mu) * s
                gv = np.float64(gr[i])
                if training:
                    pa = np.float64(ar[i]) - m2 - h * m3
                    pgy = gv * wv - m0 - h * m1
                    pbg = bv * gv - m5 - h * m6
                    dxr[i] = k * (h * a_pgy + gy_h * pa + a_h * pgy) + s * pbg
                else:
                    pa = np.float64(ar[i])
                    dxr[i] = s * bv * gv
                dgr[i] = s * wv * pa + bv * h + cv
                acc += s * gv * pa
            dw[ch] += acc


_bn_sums2d_par, _bn_sums3d_par = parallel_rows(_bn_sums2d, block=True), parallel_rows(_bn_sums3d, block=True)
_bn_outputs2d_par = parallel_rows(_bn_outputs2d, block=True)
_bn_outputs3d_par = parallel_rows(_bn_outputs3d, block=True)
_BN = {2: (_bn_sums2d, _bn_outputs2d, _bn_sums2d_par, _bn_outputs2d_par),
       3: (_bn_sums3d, _bn_outputs3d, _bn_sums3d_par, _bn_outputs3d_par)}


@njit(**JIT)
def _coefficients(sums, invstd, count):
    """The per-group constants of sweep 2 from the seven sums (7, G): rows 0-6
    the means (row 4 unused), 7: -s^2/M, 8: S(a, P(gy)), 9: S(gy, x_hat), 10: S(a, x_hat)."""
    coef = np.empty((11, sums.shape[1]))
    for j in range(sums.shape[1]):
        for k in range(_SUMS):
            coef[k, j] = sums[k, j] / count
        coef[7, j] = -invstd[j] * invstd[j] / count
        coef[8, j] = sums[4, j] - coef[0, j] * sums[2, j] - coef[1, j] * sums[3, j]
        coef[9, j] = sums[1, j]
        coef[10, j] = sums[3, j]
    return coef


def _sweeps(sums, outputs, sums_par, outputs_par, rows, numel, sum_args, out_args, width, invstd, count,
            training):
    """Both sweeps over ``rows`` (one chunk per thread, or all on this thread
    when small; eval mode needs no sums), partial sums added in chunk order.
    Returns dweight (width,)."""
    if not claim_pool(numel, rows):
        part = np.zeros((_SUMS, width))
        if training:
            sums(*sum_args, part, 0, rows)
        dw = np.zeros(width)
        outputs(*out_args(_coefficients(part, invstd, float(count))), dw, 0, rows)
        return dw
    try:
        bounds = chunks(rows, num_threads())
        part = np.zeros((len(bounds) - 1, _SUMS, width))
        if training:
            sums_par(*sum_args, part, bounds)
        coef = _coefficients(part.sum(axis=0), invstd, float(count))
        dw = np.zeros((len(bounds) - 1, width))
        outputs_par(*out_args(coef), dw, bounds)
    finally:
        release_pool()
    return dw.sum(axis=0)


def _like_x(u, x):
    if u is None:
        return np.zeros_like(x)
    return np.ascontiguousarray(u, dtype=x.dtype).reshape(x.shape)


def batch_norm_double_backward(x, g, weight, a, beta, gamma, mean, invstd, training):
    """d/dx, d/dg (shaped like x, x's dtype) and d/dweight (float64 (C,), None
    without weight) of <a, dx> + <beta, dweight> + <gamma, dbias>, where
    (dx, dweight, dbias) is batch norm's backward at (x, g). ``mean``/``invstd``:
    the batch's statistics (training) or the running ones. None for a, beta or
    gamma means zeros."""
    xv = np.ascontiguousarray(x)
    xv = xv.reshape(x.shape[0], x.shape[1], -1) if x.ndim > 2 else xv
    gv, av = _like_x(g, xv), _like_x(a, xv)
    C = xv.shape[1]
    w, b = affine_or_default(weight, beta, C, np)  # ones and zeros where None, float64
    c = affine_or_default(None, gamma, C, np)[1]
    mean, invstd = flat(mean, np.float64), flat(invstd, np.float64)
    dx, dg = pool.empty_like(xv), pool.empty_like(xv)
    count = xv.size // C
    dw = _sweeps(*_BN[xv.ndim], xv.shape[0], xv.size, (xv, gv, av, w, b, mean, invstd),
                 lambda coef: (xv, gv, av, w, b, c, mean, invstd, coef, bool(training), dx, dg),
                 C, invstd, count, bool(training))
    return dx.reshape(x.shape), dg.reshape(x.shape), (None if weight is None else dw)


# ------------------------------------------------ layer norm: x as (rows, W), groups are rows

@njit(**JIT)
def _ln_rows(x, g, a, w, b, c, mean, invstd, dx, dg, dw, unused, r0, r1):
    """Both sweeps, row by row: a row is one group; dweight's partial sums into dw (W,)."""
    W = x.shape[1]
    for r in range(r0, r1):
        mu, s = mean[r], invstd[r]
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = 0.0
        for j in range(W):
            h = (np.float64(x[r, j]) - mu) * s
            gv = np.float64(g[r, j])
            av = np.float64(a[r, j])
            gy = gv * w[j]
            bg = b[j] * gv
            s0 += gy
            s1 += gy * h
            s2 += av
            s3 += av * h
            s4 += av * gy
            s5 += bg
            s6 += bg * h
        m0, m1, m2, m3, m5, m6 = s0 / W, s1 / W, s2 / W, s3 / W, s5 / W, s6 / W
        a_pgy = s4 - m0 * s2 - m1 * s3
        k = -s * s / W
        for j in range(W):
            h = (np.float64(x[r, j]) - mu) * s
            gv = np.float64(g[r, j])
            pa = np.float64(a[r, j]) - m2 - h * m3
            pgy = gv * w[j] - m0 - h * m1
            pbg = b[j] * gv - m5 - h * m6
            dx[r, j] = k * (h * a_pgy + s1 * pa + s3 * pgy) + s * pbg
            dg[r, j] = s * w[j] * pa + b[j] * h + c[j]
            dw[j] += s * gv * pa


_ln_rows_par = parallel_rows(_ln_rows, partials=True)


def layer_norm_double_backward(x, g, weight, a, beta, gamma, mean, invstd, normalized_ndim):
    """As ``batch_norm_double_backward`` for layer norm over the last
    ``normalized_ndim`` dims; d/dweight is float64, shaped like the normalized dims."""
    shape = x.shape[x.ndim - normalized_ndim:]
    x2 = np.ascontiguousarray(x).reshape(-1, int(np.prod(shape)))
    g2, a2 = _like_x(g, x2), _like_x(a, x2)
    rows, W = x2.shape
    w, b = affine_or_default(weight, beta, W, np)  # ones and zeros where None, float64
    c = affine_or_default(None, gamma, W, np)[1]
    mean, invstd = flat(mean, np.float64), flat(invstd, np.float64)
    dx, dg = pool.empty_like(x2), pool.empty_like(x2)
    dw, _ = run_rows(_ln_rows_par, _ln_rows, rows, x2.size, (x2, g2, a2, w, b, c, mean, invstd, dx, dg),
                     partial_width=W)
    return dx.reshape(x.shape), dg.reshape(x.shape), (None if weight is None else dw.reshape(shape))
