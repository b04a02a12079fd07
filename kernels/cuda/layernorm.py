"""Layer normalization on the GPU: x viewed as (M, D), statistics per row,
gamma and beta per column. Same signatures, argument checks and results as
``kernels/cpu/layernorm``.

A row reduction: each row belongs to ``width`` threads of a block (the whole
block for long rows; a warp-sized slice, several rows per block, for short
ones), which sum it with a shared-memory tree and then write its output,
re-reading the row from cache. Backward is one pass per row as well:

    g      = dy * gamma
    dx     = invstd * (g - mean(g) - x_hat * mean(g * x_hat))
    dgamma = sum over rows of dy * x_hat,   dbeta = sum over rows of dy

A column of dgamma/dbeta is always touched by the same thread of a row slot,
so each (block, row slot) keeps its own float64 partial row (in cache) and a
second kernel sums those rows in a fixed order: no atomics.
"""
import numpy as np
from numba import cuda, float64

from .. import checks
from ..arrays import affine_or_default, array_module, flat
from ..checks import DEVICE_ARRAYS
from ._common import LAUNCH, MAX_THREADS, block_sum2, cdiv, kernel, launch, like, moments, pow2_at_most, reduce_partials


@cuda.jit(device=True, inline="always")
def row_sums(x, base, k, j0, jstep, width):
    """Sums of (x - k) and (x - k)^2 over x[base + j], j = j0, j0 + jstep, ... < width."""
    s1 = 0.0
    s2 = 0.0
    for j in range(j0, width, jstep):
        p = float64(x[base + j] - k)
        s1 += p
        s2 += p * p
    return s1, s2


@cuda.jit(device=True, inline="always")
def row_moments(x, base, active, width, sh1, sh2, eps):
    """(k, mean of x - k, invstd) of the row of ``width`` values at x[base:],
    k its first value, summed by the threads of this thread's row slot (same
    threadIdx.y). Every thread of the block calls it (it synchronises);
    ``active`` says whether this thread's row exists."""
    tx, ty, per_row = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockDim.x
    k = x[0]
    s1 = 0.0
    s2 = 0.0
    if active:
        k = x[base]
        s1, s2 = row_sums(x, base, k, tx, per_row, width)
    s1, s2 = block_sum2(s1, s2, sh1, sh2, ty * per_row + tx, tx, per_row, 1)
    m, _, inv = moments(s1, s2, width, eps)
    return k, m, inv


@kernel("X X X E I I X F F")
def _forward(x, gamma, beta, eps, M, D, y, mean, invstd):
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    for r0 in range(cuda.blockIdx.x * height, M, cuda.gridDim.x * height):
        r = r0 + ty
        base = r * D
        k, m, inv = row_moments(x, base, r < M, D, sh1, sh2, eps)
        if r < M:
            if tx == 0:
                mean[r] = k + m
                invstd[r] = inv
            d = like(x, m)
            iv = like(x, inv)
            for j in range(tx, D, width):
                y[base + j] = ((x[base + j] - k) - d) * iv * gamma[j] + beta[j]


@kernel("X X F F X I I X F")
def _backward(x, dy, mean, invstd, gamma, M, D, dx, part):
    """dx, and into part[slot, 0|1, :] this row slot's sums of dy * x_hat and dy
    (slot = block * rows per block + row in block)."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    pg = (cuda.blockIdx.x * height + ty) * 2 * D
    pb = pg + D
    for j in range(tx, D, width):
        part[pg + j] = 0.0
        part[pb + j] = 0.0
    for r0 in range(cuda.blockIdx.x * height, M, cuda.gridDim.x * height):
        r = r0 + ty
        base = r * D
        k = x[0]
        e = x[0]
        v = x[0]
        sg = 0.0
        sgx = 0.0
        if r < M:
            k = like(x, mean[r])
            e = like(x, mean[r] - k)
            v = like(x, invstd[r])
            for j in range(tx, D, width):
                g = dy[base + j] * gamma[j]
                sg += float64(g)
                sgx += float64(g * (((x[base + j] - k) - e) * v))
        sg, sgx = block_sum2(sg, sgx, sh1, sh2, ty * width + tx, tx, width, 1)
        if r < M:
            mg = like(x, sg / D)
            mgx = like(x, sgx / D)
            for j in range(tx, D, width):
                h = ((x[base + j] - k) - e) * v
                gr = dy[base + j]
                dx[base + j] = v * (gr * gamma[j] - mg - h * mgx)
                part[pg + j] += float64(gr * h)
                part[pb + j] += float64(gr)


def row_block(width):
    """(threads per row, rows per block) for rows of ``width`` values: the whole
    block on a long row, a warp-sized slice (or less) on short rows."""
    threads = pow2_at_most(LAUNCH.threads)
    per_row = min(threads, max(LAUNCH.row_threads, pow2_at_most(max(1, width // 4))))
    return per_row, threads // per_row


def row_grid(rows, rows_per_block):
    return max(1, min(cdiv(rows, rows_per_block), LAUNCH.target_blocks()))


def _rows(x, normalized_ndim):
    lead = x.shape[: x.ndim - normalized_ndim]
    rows = int(np.prod(lead, dtype=np.int64))
    return flat(x), rows, x.size // rows, lead


def forward(x, weight, bias, eps, normalized_ndim):
    """Layer norm of x over its last ``normalized_ndim`` dims. Returns y (shape
    and dtype of x), mean and invstd per row (float64, shape of the leading dims)."""
    checks.layer_norm(x, weight, bias, normalized_ndim, DEVICE_ARRAYS)
    xp = array_module(x)
    xf, rows, width, lead = _rows(x, normalized_ndim)
    gamma, beta = affine_or_default(weight, bias, width, xp, x.dtype)
    y = xp.empty_like(xf)
    mean, invstd = xp.empty(rows), xp.empty(rows)
    block = row_block(width)
    launch(_forward, row_grid(rows, block[1]), block, xf, gamma, beta, float(eps), rows, width, y, mean, invstd)
    return y.reshape(x.shape), mean.reshape(lead), invstd.reshape(lead)


def backward(x, dy, mean, invstd, weight, normalized_ndim):
    """Gradients of layer norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, shape of the normalized dims)."""
    checks.layer_norm_backward(x, dy, mean, invstd, weight, normalized_ndim, DEVICE_ARRAYS)
    xp = array_module(x)
    xf, rows, width, _ = _rows(x, normalized_ndim)
    dyf = flat(dy, x.dtype)
    gamma, _ = affine_or_default(weight, None, width, xp, x.dtype)
    dx = xp.empty_like(xf)
    block = row_block(width)
    grid = row_grid(rows, block[1])
    slots = grid * block[1]
    part = xp.empty(slots * 2 * width)
    launch(_backward, grid, block, xf, dyf, flat(mean, np.float64), flat(invstd, np.float64), gamma,
           rows, width, dx, part)
    sums = xp.empty(2 * width)
    reduce_partials(part, slots, 2 * width, sums)
    shape = x.shape[x.ndim - normalized_ndim:]
    return dx.reshape(x.shape), sums[:width].reshape(shape), sums[width:].reshape(shape)

