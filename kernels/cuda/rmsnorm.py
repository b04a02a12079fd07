"""RMS normalization on the GPU: x viewed as (M, D), rstd per row, gamma per
column. Same signatures, argument checks and results as ``kernels/cpu/rmsnorm``.

Launched as layer norm's row reduction (``kernels/cuda/layernorm``: the same
``row_block``/``row_grid``): each row belongs to ``width`` threads of a block,
which sum it with a shared-memory tree and then write its output, re-reading
the row from cache. With g = dy * gamma and x_hat = x * rstd:

    rstd   = 1 / sqrt(mean(x^2) + eps),   y = x_hat * gamma
    dx     = rstd * g - x * (rstd^3 * mean(g * x))
    dgamma = sum over rows of dy * x_hat

A column of dgamma is always touched by the same thread of a row slot, so each
(block, row slot) keeps its own float64 partial row and a second kernel sums
those rows in a fixed order: no atomics, no warp shuffles.
"""
import math

import numpy as np
from numba import cuda, float64

from .. import checks
from ..arrays import array_module, flat
from ..checks import DEVICE_ARRAYS
from ._common import MAX_THREADS, kernel, launch, like, reduce_partials
from .layernorm import row_block, row_grid


@cuda.jit(device=True, inline="always")
def block_sum(v, sh, me, pos, count):
    """Sum v over a group of ``count`` threads (a power of two) lying next to
    each other in the block: this thread is slot ``me`` of the shared buffer and
    position ``pos`` in its group. Every thread of the block must call it (it
    synchronises); each gets its group's sum."""
    sh[me] = v
    cuda.syncthreads()
    step = count // 2
    while step > 0:
        if pos < step:
            sh[me] += sh[me + step]
        cuda.syncthreads()
        step //= 2
    total = sh[me - pos]
    cuda.syncthreads()  # the buffer is reused by the next call
    return total


@kernel("X X E I I X F")
def _forward(x, gamma, eps, M, D, y, rstd):
    sh = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    for r0 in range(cuda.blockIdx.x * height, M, cuda.gridDim.x * height):
        r = r0 + ty
        base = r * D
        s2 = 0.0
        if r < M:
            for j in range(tx, D, width):
                p = float64(x[base + j])
                s2 += p * p
        s2 = block_sum(s2, sh, ty * width + tx, tx, width)
        if r < M:
            inv = 1.0 / math.sqrt(s2 / D + eps)
            if tx == 0:
                rstd[r] = inv
            iv = like(x, inv)
            for j in range(tx, D, width):
                y[base + j] = x[base + j] * iv * gamma[j]


@kernel("X X F X I I X F")
def _backward(x, dy, rstd, gamma, M, D, dx, part):
    """dx, and into part[slot, :] this row slot's sums of dy * x_hat
    (slot = block * rows per block + row in block)."""
    sh = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    pg = (cuda.blockIdx.x * height + ty) * D
    for j in range(tx, D, width):
        part[pg + j] = 0.0
    for r0 in range(cuda.blockIdx.x * height, M, cuda.gridDim.x * height):
        r = r0 + ty
        base = r * D
        i = 0.0
        a = 0.0
        if r < M:
            i = rstd[r]
            for j in range(tx, D, width):
                a += float64(dy[base + j] * gamma[j]) * float64(x[base + j])
        a = block_sum(a, sh, ty * width + tx, tx, width)
        if r < M:
            v = like(x, i)
            c = like(x, i * i * i * a / D)
            for j in range(tx, D, width):
                xv = x[base + j]
                gr = dy[base + j]
                dx[base + j] = v * (gr * gamma[j]) - xv * c
                part[pg + j] += float64(gr * (xv * v))


def _rows(x, normalized_ndim):
    lead = x.shape[: x.ndim - normalized_ndim]
    rows = int(np.prod(lead, dtype=np.int64))
    return flat(x), rows, x.size // rows, lead


def _gamma(weight, width, xp, dtype):
    return xp.ones(width, dtype) if weight is None else flat(weight, dtype)


def forward(x, weight, eps, normalized_ndim):
    """RMS norm of x over its last ``normalized_ndim`` dims. Returns y (shape and
    dtype of x) and rstd = 1 / sqrt(mean(x^2) + eps) per row (float64, shape of
    the leading dims)."""
    checks.rms_norm(x, weight, normalized_ndim, DEVICE_ARRAYS)
    xp = array_module(x)
    xf, rows, width, lead = _rows(x, normalized_ndim)
    gamma = _gamma(weight, width, xp, x.dtype)
    y = xp.empty_like(xf)
    rstd = xp.empty(rows)
    block = row_block(width)
    launch(_forward, row_grid(rows, block[1]), block, xf, gamma, float(eps), rows, width, y, rstd)
    return y.reshape(x.shape), rstd.reshape(lead)


def backward(x, dy, rstd, weight, normalized_ndim):
    """Gradients of RMS norm: dx (shape and dtype of x) and dgamma (float64,
    shape of the normalized dims)."""
    checks.rms_norm_backward(x, dy, rstd, weight, normalized_ndim, DEVICE_ARRAYS)
    xp = array_module(x)
    xf, rows, width, _ = _rows(x, normalized_ndim)
    dyf = flat(dy, x.dtype)
    gamma = _gamma(weight, width, xp, x.dtype)
    dx = xp.empty_like(xf)
    block = row_block(width)
    grid = row_grid(rows, block[1])
    slots = grid * block[1]
    part = xp.empty(slots * width)
    launch(_backward, grid, block, xf, dyf, flat(rstd, np.float64), gamma, rows, width, dx, part)
    dgamma = xp.empty(width)
    reduce_partials(part, slots, width, dgamma)
    return dx.reshape(x.shape), dgamma.reshape(x.shape[x.ndim - normalized_ndim:])
