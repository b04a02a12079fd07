"""Batch renormalization (Ioffe, 2017) on the GPU. Same signatures, argument
checks and results as ``kernels/cpu/batchrenorm``, whose docstring has the math.

Forward: batch norm's per-row-group float64 partial sums (kernels/cuda/
batchnorm.py, shared-memory tree sums), then one per-channel kernel that sums
them in group order and makes the statistics, r, d and the coefficients
scale = gamma * invstd * r, shift = gamma * d + beta, then batch norm's
elementwise pass. (Batch norm's single-kernel path for (N, C) inputs with few
rows is not used: r and d need the running statistics between the sums and
the pass, which that kernel does not read.) Backward: batch norm's with
gamma * r, and dgamma = r * sum(dy * x_hat) + d * sum(dy) per channel.
"""
import math

import numpy as np
from numba import cuda

from .. import checks
from ..arrays import affine_or_default, array_module, flat
from ..checks import DEVICE_ARRAYS
from . import batchnorm
from ._common import kernel, launch_elementwise, launch_per_item, layout, moments
from .batchnorm import SCALE, SHIFT, D, K


@kernel("F I X I E E E F F F F F F F F F X")
def _renorm_coefs(part, groups, k, count, eps, r_max, d_max, gamma, beta, running_mean, running_var,
                  mean, var, invstd, r, d, coefs):
    """Sum the partials in group order; batch mean, var, invstd, r and d (float64)
    and the coefficients k, d, scale, shift (input dtype) per channel."""
    C = k.size
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        s1, s2 = batchnorm._summed_partials(part, groups, C, c)
        m, v, inv = moments(s1, s2, count, eps)
        mu = k[c] + m
        mean[c] = mu
        var[c] = v
        invstd[c] = inv
        running_std = math.sqrt(running_var[c] + eps)
        rc = min(max(math.sqrt(v + eps) / running_std, 1.0 / r_max), r_max)
        dc = min(max((mu - running_mean[c]) / running_std, -d_max), d_max)
        if math.isnan(v) or math.isnan(mu):  # NaN input: NaN statistics, as on the CPU (min/max would drop them)
            rc = v + mu
            dc = v + mu
        r[c] = rc
        d[c] = dc
        coefs[K * C + c] = k[c]
        coefs[D * C + c] = m
        coefs[SCALE * C + c] = gamma[c] * inv * rc
        coefs[SHIFT * C + c] = gamma[c] * dc + beta[c]


def forward_train(x, weight, bias, running_mean, running_var, eps, r_max, d_max):
    """Training-mode batch renorm of x (N, C, *). Returns y (shape and dtype of
    x) and, per channel in float64, the batch mean, the biased batch variance,
    the inverse std 1 / sqrt(var + eps), r and d."""
    checks.batch_renorm_train(x, weight, bias, running_mean, running_var, r_max, d_max, DEVICE_ARRAYS)
    xp = array_module(x)
    N, C, L = layout(x.shape)
    xf = flat(x)
    gamma, beta = affine_or_default(weight, bias, C, xp)
    y = xp.empty_like(xf)
    mean, var, invstd, r, d = (xp.empty(C) for _ in range(5))
    k = xp.ascontiguousarray(xf.reshape(N, C, L)[0, :, 0])
    part, groups = batchnorm._sums(xf, k, xf, k, xp.zeros(C, x.dtype), N, C, L, xp)
    coefs = xp.empty(5 * C, x.dtype)
    launch_per_item(_renorm_coefs, C, part, groups, k, N * L, float(eps), float(r_max), float(d_max), gamma, beta,
                    flat(running_mean, np.float64), flat(running_var, np.float64), mean, var, invstd, r, d, coefs)
    launch_elementwise(batchnorm._normalize, xf.size, xf, coefs, C, L, y)
    return y.reshape(x.shape), mean, var, invstd, r, d


def backward(x, dy, mean, invstd, r, d, weight):
    """Gradients of training-mode batch renorm with r and d constant: dx (shape
    and dtype of x), dgamma and dbeta (float64, per channel)."""
    checks.batch_renorm_backward(x, dy, mean, invstd, r, d, weight, DEVICE_ARRAYS)
    xp = array_module(x)
    C = x.shape[1]
    r = flat(r, np.float64)
    d = flat(d, np.float64)
    gamma, _ = affine_or_default(weight, None, C, xp)
    dx, dxhat, dbeta = batchnorm.backward(x, dy, mean, invstd, gamma * r, True)
    return dx, r * dxhat + d * dbeta, dbeta
