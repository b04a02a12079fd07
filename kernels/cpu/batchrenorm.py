"""Batch renormalization (Ioffe, 2017): batch norm whose output is corrected
towards the running statistics by per-channel constants r and d.

Per channel, with the batch mean mu_B and std sigma_B = sqrt(var_B + eps)
(biased variance) and the running std sigma = sqrt(running_var + eps):

    r = clip(sigma_B / sigma, 1 / r_max, r_max)
    d = clip((mu_B - running_mean) / sigma, -d_max, d_max)
    y = (x_hat * r + d) * gamma + beta,      x_hat = (x - mu_B) / sigma_B

r and d are constants in the backward (stop gradient), so

    dx     = r * gamma / sigma_B * (dy - mean(dy) - x_hat * mean(dy * x_hat))
    dgamma = sum(dy * (x_hat * r + d)) = r * sum(dy * x_hat) + d * sum(dy)
    dbeta  = sum(dy)

which is batch norm's with gamma * r for gamma. So both directions run batch
norm's parallel sweeps (kernels/cpu/batchnorm.py: float64 shifted partial sums
per thread chunk, the thread count passed in), with other per-channel
coefficients: forward, the statistics sweep, then r and d per channel, then the
normalizing sweep with scale = gamma * invstd * r and shift = gamma * d + beta
(the same two sweeps as batch norm, nothing extra per element); backward, batch
norm's backward with gamma * r, then dgamma from its two sums. With r_max = 1
and d_max = 0 (r = 1, d = 0) every coefficient equals batch norm's, so the
results are batch norm's to the bit.
"""
import numpy as np
from numba import njit

from .. import checks
from ..arrays import affine_or_default, flat
from ..checks import NUMPY_ARRAYS
from . import batchnorm, pool
from ._common import START
from .batchnorm import _normalize2d, _normalize3d


def renorm_coefficients(mean, var, running_mean, running_var, eps, r_max, d_max):
    """(r, d) per channel in float64 (NumPy or CuPy arrays alike)."""
    running_std = np.sqrt(running_var + eps)  # (CuPy arrays take NumPy's ufuncs)
    with np.errstate(invalid="ignore"):  # NaN statistics: the op raises on them
        r = np.minimum(np.maximum(np.sqrt(var + eps) / running_std, 1.0 / r_max), r_max)
        d = np.minimum(np.maximum((mean - running_mean) / running_std, -d_max), d_max)
    return r, d


def forward_train(x, weight, bias, running_mean, running_var, eps, r_max, d_max):
    """Training-mode batch renorm of x (N, C, *). Returns y (shape and dtype of
    x) and, per channel in float64, the batch mean, the biased batch variance,
    the inverse std 1 / sqrt(var + eps), r and d."""
    checks.batch_renorm_train(x, weight, bias, running_mean, running_var, r_max, d_max, NUMPY_ARRAYS)
    xv = batchnorm._view(x)
    channels = xv.shape[1]
    count = xv.size // channels
    gamma, beta = affine_or_default(weight, bias, channels, np)
    rm = flat(running_mean, np.float64)
    rv = flat(running_var, np.float64)
    if xv.nbytes < pool.MIN_BYTES:  # one compiled call, as batch norm's small inputs
        y, mean, var, invstd, r, d = _forward_train_small(xv, gamma, beta, rm, rv, float(eps), float(r_max),
                                                          float(d_max))
        return y.reshape(x.shape), mean, var, invstd, r, d
    dt = xv.dtype
    k = batchnorm._first_per_channel(xv)
    s1, s2 = batchnorm._run(0, xv, xv, xv, k, k, np.zeros(channels, dt))
    m = s1 / count  # mean of (x - k)
    with np.errstate(invalid="ignore"):
        var = np.maximum(s2 / count - m * m, 0.0)
    invstd = 1.0 / np.sqrt(var + eps)
    mean = k + m
    r, d = renorm_coefficients(mean, var, rm, rv, eps, r_max, d_max)
    y = pool.empty_like(xv)
    batchnorm._run(1, xv, xv, y, k, m.astype(dt), (gamma * invstd * r).astype(dt), (gamma * d + beta).astype(dt))
    return y.reshape(x.shape), mean, var, invstd, r, d


def backward(x, dy, mean, invstd, r, d, weight):
    """Gradients of training-mode batch renorm with r and d constant: dx (shape
    and dtype of x), dgamma and dbeta (float64, per channel)."""
    checks.batch_renorm_backward(x, dy, mean, invstd, r, d, weight, NUMPY_ARRAYS)
    channels = x.shape[1]
    r = flat(r, np.float64)
    d = flat(d, np.float64)
    gamma, _ = affine_or_default(weight, None, channels, np)
    dx, dxhat, dbeta = batchnorm.backward(x, dy, mean, invstd, gamma * r, True)
    return dx, r * dxhat + d * dbeta, dbeta


@njit(cache=True, nogil=True)
def _forward_train_small(xv, gamma, beta, rm, rv, eps, r_max, d_max):
    # batch norm's _forward_train_small with the renorm coefficients, rounded alike
    k, m, var = batchnorm.small_stats(xv)
    invstd = 1.0 / np.sqrt(var + eps)
    mean = k + m
    running_std = np.sqrt(rv + eps)
    r = np.minimum(np.maximum(np.sqrt(var + eps) / running_std, 1.0 / r_max), r_max)
    d = np.minimum(np.maximum((mean - rm) / running_std, -d_max), d_max)
    y = np.empty_like(xv)
    dm, scale, b = m.astype(xv.dtype), (gamma * invstd * r).astype(xv.dtype), (gamma * d + beta).astype(xv.dtype)
    if xv.ndim == 2:
        _normalize2d(xv, y, k, dm, scale, b, START, xv.shape[0])
    else:
        _normalize3d(xv, y, k, dm, scale, b, START, xv.shape[0])
    return y, mean, var, invstd, r, d
