"""Batch normalization on the GPU: statistics per channel over every axis but
the channel axis. Same signatures, argument checks and results as
``kernels/cpu/batchnorm``.

x is viewed as (N, C) or (N, C, L). Per channel it is a column reduction:

(N, C)     blocks of ``bn_channels`` channels by ``threads / bn_channels`` rows;
           the threads of a warp read one coalesced row segment. Row groups
           (grid y) split the rows when there are enough to fill the card.
(N, C, L)  one channel per block column; a block's threads walk the channel's
           N * L values (contiguous runs of L) in a grid-stride loop over row
           groups (grid y).

Each direction is three kernels: per-row-group float64 partial sums (shifted,
as on the CPU), a per-channel kernel that sums the partials in group order and
makes the per-channel coefficients, and an elementwise pass. When one row group
suffices (the small-MLP case, (N, C) with few rows), one fused kernel does all
three: its block owns its channels' whole columns.

forward   sums of (x - k) and (x - k)^2;   y = ((x - k) - d) * gamma * invstd + beta
backward  sums of dy and dy * ((x - k) - d);
          dx = gamma * invstd * (dy - mean(dy) - x_hat * mean(dy * x_hat))

with k a value of the data per channel (forward x[0, c], backward the rounded
mean) and d = mean - k, as in kernels/cpu/batchnorm.py.
"""
import math

import numpy as np
from numba import cuda, float64

from .. import checks
from ..arrays import affine_or_default, array_module, flat
from ..checks import DEVICE_ARRAYS
from ._common import (LAUNCH, MAX_THREADS, block_sum2, cdiv, kernel, launch, launch_elementwise, launch_per_item,
                      layout, like, moments, pow2_at_most)

# rows of the per-channel coefficient table (coefs, shape (5, C), input dtype)
K, D, SCALE, SHIFT, MDY, COEF = 0, 1, 2, 3, 3, 4

# ------------------------------------------------------------ per-thread sums


@cuda.jit(device=True, inline="always")
def _column_sums(a, ka, b, kb, db, c, C, n0, nstep, N):
    """Sums over rows n0, n0 + nstep, ... < N of column c of (N, C) arrays a, b:
    (a - ka) and (a - ka) * ((b - kb) - db), each term in the input dtype, summed
    in float64."""
    s1 = 0.0
    s2 = 0.0
    for n in range(n0, N, nstep):
        i = n * C + c
        p = a[i] - ka
        s1 += float64(p)
        s2 += float64(p * ((b[i] - kb) - db))
    return s1, s2


@cuda.jit(device=True, inline="always")
def _plane_sums(a, ka, b, kb, db, c, C, L, e0, estep, total):
    """The same over values e0, e0 + estep, ... < total = N * L of channel c of
    (N, C, L) arrays (value e is row e // L, position e % L)."""
    s1 = 0.0
    s2 = 0.0
    for e in range(e0, total, estep):
        n = e // L
        i = (n * C + c) * L + (e - n * L)
        p = a[i] - ka
        s1 += float64(p)
        s2 += float64(p * ((b[i] - kb) - db))
    return s1, s2


# ------------------------------------------------------------ partial sums


@kernel("X X X X X I I F")
def _sums_columns(a, ka, b, kb, db, N, C, part):
    """part[g, 0|1, c]: row group g's sums (see _column_sums) for (N, C) inputs."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    g, groups = cuda.blockIdx.y, cuda.gridDim.y
    c = cuda.blockIdx.x * width + tx
    s1 = 0.0
    s2 = 0.0
    if c < C:
        s1, s2 = _column_sums(a, ka[c], b, kb[c], db[c], c, C, g * height + ty, groups * height, N)
    s1, s2 = block_sum2(s1, s2, sh1, sh2, ty * width + tx, ty, height, width)
    if ty == 0 and c < C:
        part[(g * 2) * C + c] = s1
        part[(g * 2 + 1) * C + c] = s2


@kernel("X X X X X I I I F")
def _sums_planes(a, ka, b, kb, db, N, C, L, part):
    """part[g, 0|1, c]: row group g's sums (see _plane_sums) for (N, C, L) inputs."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    t, threads = cuda.threadIdx.x, cuda.blockDim.x
    c, g, groups = cuda.blockIdx.x, cuda.blockIdx.y, cuda.gridDim.y
    s1, s2 = _plane_sums(a, ka[c], b, kb[c], db[c], c, C, L, g * threads + t, groups * threads, N * L)
    s1, s2 = block_sum2(s1, s2, sh1, sh2, t, t, threads, 1)
    if t == 0:
        part[(g * 2) * C + c] = s1
        part[(g * 2 + 1) * C + c] = s2


# ------------------------------------------------------------ per-channel coefficients


@cuda.jit(device=True, inline="always")
def _summed_partials(part, groups, C, c):
    """Channel c's two sums over the row groups' partials, in group order."""
    s1 = 0.0
    s2 = 0.0
    for g in range(groups):
        s1 += part[(g * 2) * C + c]
        s2 += part[(g * 2 + 1) * C + c]
    return s1, s2


@kernel("F I X I E F F F F F X")
def _forward_coefs(part, groups, k, count, eps, gamma, beta, mean, var, invstd, coefs):
    """Sum the partials in group order; batch mean, var, invstd (float64) and the
    coefficients k, d, scale, shift (input dtype) per channel."""
    C = k.size
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        s1, s2 = _summed_partials(part, groups, C, c)
        m, v, inv = moments(s1, s2, count, eps)
        mean[c] = k[c] + m
        var[c] = v
        invstd[c] = inv
        coefs[K * C + c] = k[c]
        coefs[D * C + c] = m
        coefs[SCALE * C + c] = gamma[c] * inv
        coefs[SHIFT * C + c] = beta[c]


@kernel("F F E F F F X")
def _eval_coefs(running_mean, running_var, eps, gamma, beta, invstd, coefs):
    """Coefficients of inference mode from the running statistics."""
    C = running_mean.size
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        inv = 1.0 / math.sqrt(running_var[c] + eps)
        invstd[c] = inv
        k = like(coefs, running_mean[c])
        coefs[K * C + c] = k
        coefs[D * C + c] = running_mean[c] - k
        coefs[SCALE * C + c] = gamma[c] * inv
        coefs[SHIFT * C + c] = beta[c]


@kernel("F I F F F I B F F X")
def _backward_coefs(part, groups, mean, invstd, gamma, count, training, dgamma, dbeta, coefs):
    """Sum the partials in group order; dgamma, dbeta (float64) and the
    coefficients scale, mean(dy), coef (input dtype) per channel."""
    C = mean.size
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        sdy, sdyx = _summed_partials(part, groups, C, c)
        inv = invstd[c]
        dbeta[c] = sdy
        dgamma[c] = sdyx * inv
        coefs[SCALE * C + c] = gamma[c] * inv
        if training:
            coefs[MDY * C + c] = sdy / count
            coefs[COEF * C + c] = sdyx * inv * inv / count
        else:
            coefs[MDY * C + c] = 0.0
            coefs[COEF * C + c] = 0.0


# ------------------------------------------------------------ elementwise passes


@kernel("X X I I X")
def _normalize(x, coefs, C, L, y):
    """y = ((x - k) - d) * scale + shift, channel (i // L) % C."""
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        c = (i // L) % C
        y[i] = ((x[i] - coefs[K * C + c]) - coefs[D * C + c]) * coefs[SCALE * C + c] + coefs[SHIFT * C + c]


@kernel("X X X I I X")
def _input_grad(x, dy, coefs, C, L, dx):
    """dx = scale * (dy - mean(dy) - ((x - k) - d) * coef), channel (i // L) % C."""
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        c = (i // L) % C
        xc = (x[i] - coefs[K * C + c]) - coefs[D * C + c]
        dx[i] = coefs[SCALE * C + c] * (dy[i] - coefs[MDY * C + c] - xc * coefs[COEF * C + c])


# ------------------------------------------------------------ fused (one row group)


@kernel("X F F E I I X F F F")
def _forward_fused(x, gamma, beta, eps, N, C, y, mean, var, invstd):
    """Training forward of (N, C) x when one block's rows cover all of N: each
    block sums its channels' columns, makes their statistics and normalizes
    them, with no second launch."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    for c0 in range(cuda.blockIdx.x * width, C, cuda.gridDim.x * width):
        c = c0 + tx
        k = x[0]
        s1 = 0.0
        s2 = 0.0
        if c < C:
            k = x[c]
            s1, s2 = _column_sums(x, k, x, k, like(x, 0.0), c, C, ty, height, N)
        s1, s2 = block_sum2(s1, s2, sh1, sh2, ty * width + tx, ty, height, width)
        if c < C:
            m, v, inv = moments(s1, s2, N, eps)
            if ty == 0:
                mean[c] = k + m
                var[c] = v
                invstd[c] = inv
            d = like(x, m)
            scale = like(x, gamma[c] * inv)
            shift = like(x, beta[c])
            for n in range(ty, N, height):
                i = n * C + c
                y[i] = ((x[i] - k) - d) * scale + shift


@kernel("X X F F F B I I X F F")
def _backward_fused(x, dy, mean, invstd, gamma, training, N, C, dx, dgamma, dbeta):
    """Backward of (N, C) batch norm in one kernel when one row group suffices."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    for c0 in range(cuda.blockIdx.x * width, C, cuda.gridDim.x * width):
        c = c0 + tx
        k = x[0]
        d = x[0]
        sdy = 0.0
        sdyx = 0.0
        if c < C:
            k = like(x, mean[c])
            d = like(x, mean[c] - k)
            sdy, sdyx = _column_sums(dy, like(x, 0.0), x, k, d, c, C, ty, height, N)
        sdy, sdyx = block_sum2(sdy, sdyx, sh1, sh2, ty * width + tx, ty, height, width)
        if c < C:
            inv = invstd[c]
            if ty == 0:
                dbeta[c] = sdy
                dgamma[c] = sdyx * inv
            scale = like(x, gamma[c] * inv)
            mdy = like(x, 0.0)
            coef = like(x, 0.0)
            if training:
                mdy = like(x, sdy / N)
                coef = like(x, sdyx * inv * inv / N)
            for n in range(ty, N, height):
                i = n * C + c
                dx[i] = scale * (dy[i] - mdy - ((x[i] - k) - d) * coef)


# ------------------------------------------------------------ launch shapes


def _column_blocks(N, C):
    """Block (width, height), column blocks and row groups of the (N, C) kernels."""
    width = min(LAUNCH.bn_channels, LAUNCH.threads)
    height = max(1, LAUNCH.threads // width)
    col_blocks = cdiv(C, width)
    groups = min(cdiv(N, height * LAUNCH.rows_per_thread), max(1, LAUNCH.target_blocks() // col_blocks))
    return (width, height), col_blocks, max(1, groups)


def _plane_groups(N, C, L):
    threads = LAUNCH.threads
    groups = min(cdiv(N * L, threads * LAUNCH.rows_per_thread), max(1, LAUNCH.target_blocks() // C))
    return max(1, groups)


def _sums(a, ka, b, kb, db, N, C, L, xp):
    """Per-row-group partial sums (flat (G, 2, C) float64) and G."""
    if L == 1:
        block, col_blocks, groups = _column_blocks(N, C)
        part = xp.empty(groups * 2 * C)
        launch(_sums_columns, (col_blocks, groups), block, a, ka, b, kb, db, N, C, part)
    else:
        groups = _plane_groups(N, C, L)
        part = xp.empty(groups * 2 * C)
        launch(_sums_planes, (C, groups), pow2_at_most(LAUNCH.threads), a, ka, b, kb, db, N, C, L, part)
    return part, groups


# ------------------------------------------------------------ drivers


def forward_train(x, weight, bias, eps):
    """Training-mode batch norm of x (N, C, *). Returns y (shape and dtype of x)
    and, per channel in float64, the batch mean, the biased batch variance and
    the inverse std 1 / sqrt(var + eps)."""
    checks.batch_norm_train(x, weight, bias, DEVICE_ARRAYS)
    xp = array_module(x)
    N, C, L = layout(x.shape)
    xf = flat(x)
    gamma, beta = affine_or_default(weight, bias, C, xp)
    y = xp.empty_like(xf)
    mean, var, invstd = xp.empty(C), xp.empty(C), xp.empty(C)
    if L == 1:
        block, col_blocks, groups = _column_blocks(N, C)
        if groups == 1:
            launch(_forward_fused, col_blocks, block, xf, gamma, beta, float(eps), N, C, y, mean, var, invstd)
            return y.reshape(x.shape), mean, var, invstd
    k = xp.ascontiguousarray(xf.reshape(N, C, L)[0, :, 0])
    part, groups = _sums(xf, k, xf, k, xp.zeros(C, x.dtype), N, C, L, xp)
    coefs = xp.empty(5 * C, x.dtype)
    launch_per_item(_forward_coefs, C, part, groups, k, N * L, float(eps), gamma, beta, mean, var, invstd, coefs)
    launch_elementwise(_normalize, xf.size, xf, coefs, C, L, y)
    return y.reshape(x.shape), mean, var, invstd


def forward_eval(x, weight, bias, running_mean, running_var, eps):
    """Inference-mode batch norm from running statistics: one affine map per
    channel. Returns y and the inverse std used (float64)."""
    checks.batch_norm_eval(x, weight, bias, running_mean, running_var, DEVICE_ARRAYS)
    xp = array_module(x)
    N, C, L = layout(x.shape)
    xf = flat(x)
    gamma, beta = affine_or_default(weight, bias, C, xp)
    invstd = xp.empty(C)
    coefs = xp.empty(5 * C, x.dtype)
    launch_per_item(_eval_coefs, C, flat(running_mean, np.float64), flat(running_var, np.float64), float(eps),
                 gamma, beta, invstd, coefs)
    y = xp.empty_like(xf)
    launch_elementwise(_normalize, xf.size, xf, coefs, C, L, y)
    return y.reshape(x.shape), invstd


def backward(x, dy, mean, invstd, weight, training=True):
    """Gradients of batch norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, per channel). ``training=False``: the statistics were the running
    ones, so dx = gamma * invstd * dy."""
    checks.batch_norm_backward(x, dy, mean, invstd, weight, DEVICE_ARRAYS)
    xp = array_module(x)
    N, C, L = layout(x.shape)
    xf = flat(x)
    dyf = flat(dy, x.dtype)
    gamma, _ = affine_or_default(weight, None, C, xp)
    mean = flat(mean, np.float64)
    invstd = flat(invstd, np.float64)
    dx = xp.empty_like(xf)
    dgamma, dbeta = xp.empty(C), xp.empty(C)
    if L == 1:
        block, col_blocks, groups = _column_blocks(N, C)
        if groups == 1:
            launch(_backward_fused, col_blocks, block, xf, dyf, mean, invstd, gamma, bool(training), N, C,
                   dx, dgamma, dbeta)
            return dx.reshape(x.shape), dgamma, dbeta
    k = mean.astype(x.dtype)
    d = (mean - k).astype(x.dtype)
    part, groups = _sums(dyf, xp.zeros(C, x.dtype), xf, k, d, N, C, L, xp)
    coefs = xp.empty(5 * C, x.dtype)
    coefs[K * C:(K + 1) * C] = k
    coefs[D * C:(D + 1) * C] = d
    launch_per_item(_backward_coefs, C, part, groups, mean, invstd, gamma, N * L, bool(training), dgamma, dbeta,
                 coefs)
    launch_elementwise(_input_grad, xf.size, xf, dyf, coefs, C, L, dx)
    return dx.reshape(x.shape), dgamma, dbeta

