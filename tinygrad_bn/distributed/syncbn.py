"""SyncBatchNorm's op: batch norm whose statistics are those of the global
batch, all ranks' samples together. The local parts run on the backend's batch
norm kernels (the CPU ones); what crosses ranks is a few numbers per channel:

forward   count, count * mean and the local M2 (sum of squared deviations,
          from the kernels' float64 shifted sums), combined exactly by Chan's
          rule: M2 = sum(M2_k + n_k * (mean_k - mean)^2);
backward  sum(dy) and sum(dy * x_hat) per channel.
dgamma and dbeta are this rank's sums, as in PyTorch (DistributedDataParallel
then averages them like any parameter gradient)."""
import numpy as np

from ..function import Function
from . import _comm, _mpi


def _allreduce(values):
    buf = np.ascontiguousarray(values, dtype=np.float64)
    _comm("SyncBatchNorm").Allreduce(_mpi().IN_PLACE, buf, op=_mpi().SUM)
    return buf


class SyncBatchNormOp(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        if ctx.backend.name != "cpu":
            raise ValueError("SyncBatchNorm: runs on CPU tensors; its collectives go through host memory")
        channels = x.shape[1]
        n_local = x.size // channels
        be = ctx.backend
        _, mean_k, var_k, _ = be.kernels.batch_norm_train(x, None, None, eps)  # local float64 statistics
        counts = _allreduce(np.concatenate([[n_local], n_local * mean_k]))
        n = counts[0]
        mean = counts[1:] / n
        m2 = _allreduce(n_local * var_k + n_local * (mean_k - mean) ** 2)
        var = m2 / n
        invstd = 1.0 / np.sqrt(var + eps)
        w = np.ones(channels) if weight is None else weight
        b = np.zeros(channels) if bias is None else bias
        y, _ = be.kernels.batch_norm_eval(x, w, b, mean, var, eps)  # (x - mean) * invstd * w + b with the global stats
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.n = mean, invstd, n
        unbiased = var * n / max(n - 1, 1)  # for running_var, as BatchNorm's
        ctx.mark_non_differentiable(mean, unbiased)
        return y, mean, unbiased

    @staticmethod
    def backward(ctx, g, gmean, gvar):
        x, weight = ctx.saved_tensors
        channels = x.shape[1]
        w = np.ones(channels) if weight is None else weight.astype(np.float64)
        # eval-mode backward gives dx = w * invstd * dy and the local sums we need
        dx_eval, dgamma, dbeta = ctx.backend.kernels.batch_norm_backward(x, g, ctx.mean, ctx.invstd, w, False)
        sums = _allreduce(np.concatenate([dbeta, dgamma]))
        sum_dy, sum_dy_xhat = sums[:channels], sums[channels:]
        shape = (1, channels) + (1,) * (x.ndim - 2)
        xhat = (x - ctx.mean.reshape(shape)) * ctx.invstd.reshape(shape)
        scale = (w * ctx.invstd).reshape(shape)
        dx = dx_eval - scale * (sum_dy.reshape(shape) + xhat * sum_dy_xhat.reshape(shape)) / ctx.n
        return (dx.astype(x.dtype), None if weight is None else dgamma.astype(weight.dtype),
                None if weight is None else dbeta.astype(weight.dtype), None)
