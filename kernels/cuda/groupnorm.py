"""Group normalization on the GPU (instance norm is G = C). Same signatures,
argument checks and results as ``kernels/cpu/groupnorm``.

x (N, C, *) is viewed as N * G rows of W = (C / G) * L values (one group of
one sample, contiguous); statistics per row, gamma and beta per channel
(channel of value j of row r: (r % G) * (C / G) + j // L).

forward   the layer-norm row reduction, with gamma and beta per channel.
backward  three kernels:
          1. per (sample, channel) plane of L values, sums of dy and dy * x_hat;
          2. per channel, dgamma and dbeta (sums over samples, in sample order);
             per row, mean(g) and mean(g * x_hat) with g = dy * gamma;
          3. dx = invstd * (g - mean(g) - x_hat * mean(g * x_hat)), elementwise.
"""
import numpy as np
from numba import cuda, float64

from .. import checks
from ..arrays import affine_or_default, array_module, flat
from ..checks import DEVICE_ARRAYS
from ._common import MAX_THREADS, block_sum2, kernel, launch, launch_elementwise, launch_per_item, layout, like
from .layernorm import row_block, row_grid, row_moments


@kernel("X F F E I I I I X F F")
def _forward(x, gamma, beta, eps, R, W, G, L, y, mean, invstd):
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    per_group = W // L
    for r0 in range(cuda.blockIdx.x * height, R, cuda.gridDim.x * height):
        r = r0 + ty
        base = r * W
        k, m, inv = row_moments(x, base, r < R, W, sh1, sh2, eps)
        if r < R:
            if tx == 0:
                mean[r] = k + m
                invstd[r] = inv
            d = like(x, m)
            c0 = (r % G) * per_group
            for j in range(tx, W, width):
                c = c0 + j // L
                y[base + j] = ((x[base + j] - k) - d) * like(x, inv * gamma[c]) + like(x, beta[c])


@kernel("X X F F I I I F")
def _plane_sums(x, dy, mean, invstd, P, L, per_group, sums):
    """sums[p, 0|1] = sum over plane p (L values) of dy and dy * x_hat."""
    sh1 = cuda.shared.array(MAX_THREADS, float64)
    sh2 = cuda.shared.array(MAX_THREADS, float64)
    tx, ty = cuda.threadIdx.x, cuda.threadIdx.y
    width, height = cuda.blockDim.x, cuda.blockDim.y
    for p0 in range(cuda.blockIdx.x * height, P, cuda.gridDim.x * height):
        p = p0 + ty
        sdy = 0.0
        sdyx = 0.0
        if p < P:
            row = p // per_group
            k = like(x, mean[row])
            e = like(x, mean[row] - k)
            iv = like(x, invstd[row])
            base = p * L
            for l in range(tx, L, width):
                g = dy[base + l]
                sdy += float64(g)
                sdyx += float64(g * (((x[base + l] - k) - e) * iv))
        sdy, sdyx = block_sum2(sdy, sdyx, sh1, sh2, ty * width + tx, tx, width, 1)
        if p < P and tx == 0:
            sums[2 * p] = sdy
            sums[2 * p + 1] = sdyx


@kernel("F F I I I I F F F")
def _reduce(sums, gamma, N, C, G, count, dgamma, dbeta, row_coefs):
    """Per channel c < C: dgamma, dbeta summed over samples in order. Per row
    r < N * G: mean(g) and mean(g * x_hat) over the row (float64)."""
    per_group = C // G
    for i in range(cuda.grid(1), max(C, N * G), cuda.gridsize(1)):
        if i < C:
            sdy = 0.0
            sdyx = 0.0
            for n in range(N):
                sdy += sums[2 * (n * C + i)]
                sdyx += sums[2 * (n * C + i) + 1]
            dbeta[i] = sdy
            dgamma[i] = sdyx
        if i < N * G:
            n = i // G
            c0 = (i % G) * per_group
            sg = 0.0
            sgx = 0.0
            for c in range(c0, c0 + per_group):
                sg += sums[2 * (n * C + c)] * gamma[c]
                sgx += sums[2 * (n * C + c) + 1] * gamma[c]
            row_coefs[2 * i] = sg / count
            row_coefs[2 * i + 1] = sgx / count


@kernel("X X F F F F I I I X")
def _input_grad(x, dy, mean, invstd, gamma, row_coefs, W, G, L, dx):
    per_group = W // L
    for i in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        r = i // W
        c = (r % G) * per_group + (i - r * W) // L
        k = like(x, mean[r])
        e = like(x, mean[r] - k)
        iv = like(x, invstd[r])
        h = ((x[i] - k) - e) * iv
        dx[i] = iv * (dy[i] * like(x, gamma[c]) - like(x, row_coefs[2 * r]) - h * like(x, row_coefs[2 * r + 1]))


def forward(x, num_groups, weight, bias, eps):
    """Group norm of x (N, C, *). Returns y (shape and dtype of x), and mean and
    invstd per (sample, group) (float64, shape (N, G))."""
    checks.group_norm(x, num_groups, weight, bias, DEVICE_ARRAYS)
    xp = array_module(x)
    N, C, L = layout(x.shape)
    rows, width = N * num_groups, (C // num_groups) * L
    xf = flat(x)
    gamma, beta = affine_or_default(weight, bias, C, xp)
    y = xp.empty_like(xf)
    mean, invstd = xp.empty(rows), xp.empty(rows)
    block = row_block(width)
    launch(_forward, row_grid(rows, block[1]), block, xf, gamma, beta, float(eps), rows, width, num_groups, L,
           y, mean, invstd)
    return y.reshape(x.shape), mean.reshape(N, num_groups), invstd.reshape(N, num_groups)


def backward(x, dy, num_groups, mean, invstd, weight):
    """Gradients of group norm: dx (shape and dtype of x), dgamma and dbeta
    (float64, per channel)."""
    checks.group_norm_backward(x, dy, num_groups, mean, invstd, weight, DEVICE_ARRAYS)
    xp = array_module(x)
    N, C, L = layout(x.shape)
    per_group = C // num_groups
    rows, width = N * num_groups, per_group * L
    xf = flat(x)
    dyf = flat(dy, x.dtype)
    mean = flat(mean, np.float64)
    invstd = flat(invstd, np.float64)
    gamma, _ = affine_or_default(weight, None, C, xp)
    sums = xp.empty(2 * N * C)
    block = row_block(L)
    launch(_plane_sums, row_grid(N * C, block[1]), block, xf, dyf, mean, invstd, N * C, L, per_group, sums)
    dgamma, dbeta = xp.empty(C), xp.empty(C)
    row_coefs = xp.empty(2 * rows)
    launch_per_item(_reduce, max(C, rows), sums, gamma, N, C, num_groups, width, dgamma, dbeta, row_coefs)
    dx = xp.empty_like(xf)
    launch_elementwise(_input_grad, xf.size, xf, dyf, mean, invstd, gamma, row_coefs, width, num_groups, L, dx)
    return dx.reshape(x.shape), dgamma, dbeta

