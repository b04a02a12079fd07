"""Normalization ops. Forward and backward are single fused kernels of the
tensor's backend (``backend.kernels``: ``kernels/cpu`` on the CPU, ``kernels/cuda`` on "cuda"); each op saves x and gamma plus
the per-group statistics (mean and inverse std in float64; RMS norm's inverse root mean square), nothing else.
Batch and group norm also return their statistics as outputs that carry no
gradient, for the running statistics."""
from ..function import Function
from . import norm_grad


def _check_finite(be, op, *stats):
    """Statistics of data with NaN or Inf are NaN or Inf: checking them (a few
    numbers per group) finds bad input without another pass over x. On a GPU
    the check is queued and raises at the next host read (see check_finite)."""
    be.check_finite(
        f"{op}: the input contains NaN or Inf, so its statistics are not finite (expected finite values); "
        "find where they come from (tinygrad_bn.detect_anomaly() names the op) "
        "or clean the input (e.g. with tinygrad_bn.where(x.isfinite(), x, 0))",
        *stats)


def _param_grad(be, g, like, needed):
    if not needed or like is None:
        return None
    if g.shape != like.shape:
        g = be.reshape(g, like.shape)
    return be.cast(g, like.dtype)


class BatchNorm(Function):
    """y = (x - mean) * invstd * gamma + beta per channel of x (N, C, *).

    ``training``: normalize with the batch's statistics and return
    ``(y, mean, biased var)`` (float64 statistics, no gradient); otherwise use
    ``running_mean``/``running_var`` and return y alone.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, eps):
        be = ctx.backend
        if training:
            y, mean, var, invstd = be.kernels.batch_norm_train(x, weight, bias, eps)
            _check_finite(be, "batch_norm", mean, var)
            ctx.mark_non_differentiable(mean, var)
            out = (y, mean, var)
        else:
            y, invstd = be.kernels.batch_norm_eval(x, weight, bias, running_mean, running_var, eps)
            mean = be.copy(be.cast(running_mean, "float64"))  # running stats change later
            out = y
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.training = mean, invstd, training
        ctx.kernel = be.kernels.KERNEL_MODULES["batch_norm"]
        ctx.params = {"eps": eps, "training": training, "affine": weight is not None}
        return out

    @staticmethod
    def backward(ctx, g, *statistics_grads):
        x, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        be = ctx.backend
        if be.records:  # create_graph: one recorded op, differentiable again (see norm_grad)
            dx, dw, db = norm_grad.record(be, "batch", x, g, weight, ctx.params["eps"], ctx.mean, ctx.invstd,
                                          training=ctx.training)
        else:
            dx, dw, db = be.kernels.batch_norm_backward(x, g, ctx.mean, ctx.invstd, weight, ctx.training)
        return (dx if nx else None, _param_grad(be, dw, weight, nw), _param_grad(be, db, weight, nb),
                None, None, None, None)


class BatchRenorm(Function):
    """Training-mode batch renormalization (Ioffe, 2017) of x (N, C, *):
    y = (x_hat * r + d) * gamma + beta with the batch's x_hat and, per channel,
    r = clip(sigma_B / sigma, 1 / r_max, r_max), d = clip((mean_B - running_mean) / sigma, -d_max, d_max)
    from the running statistics (sigma = sqrt(running_var + eps)). r and d are
    constants of the backward (stop gradient). Returns ``(y, mean, biased var, r, d)``,
    the last four float64 per channel without gradient. Eval mode is BatchNorm's."""

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, eps, r_max, d_max):
        be = ctx.backend
        y, mean, var, invstd, r, d = be.kernels.batch_renorm_train(x, weight, bias, running_mean, running_var, eps,
                                                                   r_max, d_max)
        _check_finite(be, "batch_renorm", mean, var)
        ctx.mark_non_differentiable(mean, var, r, d)
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.r, ctx.d = mean, invstd, r, d
        ctx.kernel = be.kernels.KERNEL_MODULES["batch_renorm"]
        ctx.params = {"eps": eps, "r_max": r_max, "d_max": d_max, "affine": weight is not None}
        return y, mean, var, r, d

    @staticmethod
    def backward(ctx, g, *statistics_grads):
        x, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        be = ctx.backend
        if be.records:
            # create_graph: batch norm's recorded NormBackward with weight * r (r, d constants), then
            # dweight = r * sum(g * x_hat) + d * sum(g): differentiable again through NormBackward's double backward
            r = be.cast(ctx.r, x.dtype)
            scaled = r if weight is None else be.mul(weight, r)
            dx, dxhat, db = norm_grad.record(be, "batch", x, g, scaled, ctx.params["eps"], ctx.mean, ctx.invstd)
            dw = be.add(be.mul(dxhat, r), be.mul(db, be.cast(ctx.d, x.dtype)))
        else:
            dx, dw, db = be.kernels.batch_renorm_backward(x, g, ctx.mean, ctx.invstd, ctx.r, ctx.d, weight)
        return (dx if nx else None, _param_grad(be, dw, weight, nw), _param_grad(be, db, weight, nb),
                None, None, None, None, None)


class LayerNorm(Function):
    """Normalize over the last ``normalized_ndim`` dims; gamma and beta have that shape."""

    @staticmethod
    def forward(ctx, x, weight, bias, normalized_ndim, eps):
        be = ctx.backend
        y, mean, invstd = be.kernels.layer_norm(x, weight, bias, eps, normalized_ndim)
        _check_finite(be, "layer_norm", mean, invstd)
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.ndim = mean, invstd, normalized_ndim
        ctx.kernel = be.kernels.KERNEL_MODULES["layer_norm"]
        ctx.params = {"eps": eps, "normalized_shape": tuple(x.shape[x.ndim - normalized_ndim:]),
                      "affine": weight is not None}
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        be = ctx.backend
        if be.records:
            dx, dw, db = norm_grad.record(be, "layer", x, g, weight, ctx.params["eps"], ctx.mean, ctx.invstd,
                                          normalized_ndim=ctx.ndim)
        else:
            dx, dw, db = be.kernels.layer_norm_backward(x, g, ctx.mean, ctx.invstd, weight, ctx.ndim)
        return dx if nx else None, _param_grad(be, dw, weight, nw), _param_grad(be, db, weight, nb), None, None


class RMSNorm(Function):
    """y = x * rstd * gamma over the last ``normalized_ndim`` dims, rstd = 1 / sqrt(mean(x^2) + eps)
    per row (float64); gamma has the normalized dims' shape, or is None. Saves x, gamma and rstd."""

    @staticmethod
    def forward(ctx, x, weight, normalized_ndim, eps):
        be = ctx.backend
        y, rstd = be.kernels.rms_norm(x, weight, eps, normalized_ndim)
        # rstd is NaN where a row holds a NaN and 0 where it holds an Inf (or its squares overflow float64)
        be.check(be.logical_not(be.less(0.0, rstd)), ValueError, _RMS_NOT_FINITE)
        ctx.save_for_backward(x, weight)
        ctx.rstd, ctx.ndim = rstd, normalized_ndim
        ctx.kernel = be.kernels.KERNEL_MODULES["rms_norm"]
        ctx.params = {"eps": eps, "normalized_shape": tuple(x.shape[x.ndim - normalized_ndim:]),
                      "affine": weight is not None}
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        nx, nw = ctx.needs_input_grad[:2]
        be = ctx.backend
        if be.records:  # create_graph: one recorded NormBackward, its double backward the composite form
            dx, dw = norm_grad.record(be, "rms", x, g, weight, ctx.params["eps"], None, ctx.rstd,
                                      normalized_ndim=ctx.ndim)
        else:
            dx, dw = be.kernels.rms_norm_backward(x, g, ctx.rstd, weight, ctx.ndim)
        return dx if nx else None, _param_grad(be, dw, weight, nw), None, None


_RMS_NOT_FINITE = (
    "rms_norm: the input contains NaN or Inf (or values whose squares overflow float64), so its statistics are "
    "not finite (expected finite values); find where they come from (tinygrad_bn.detect_anomaly() names the op) "
    "or clean the input (e.g. with tinygrad_bn.where(x.isfinite(), x, 0))")


class GroupNorm(Function):
    """Normalize each of ``num_groups`` channel groups of each sample of x (N, C, *);
    gamma and beta are per channel. Instance norm is num_groups = C. Returns
    ``(y, mean, invstd)``, the statistics per (sample, group) without gradient."""

    @staticmethod
    def forward(ctx, x, weight, bias, num_groups, eps, who="group_norm"):
        be = ctx.backend
        y, mean, invstd = be.kernels.group_norm(x, num_groups, weight, bias, eps)
        _check_finite(be, who, mean, invstd)  # (instance_norm runs here too, and says so)
        ctx.mark_non_differentiable(mean, invstd)
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.groups = mean, invstd, num_groups
        ctx.kernel = be.kernels.KERNEL_MODULES["group_norm"]
        ctx.params = {"eps": eps, "num_groups": num_groups, "affine": weight is not None}
        return y, mean, invstd

    @staticmethod
    def backward(ctx, g, gmean, ginvstd):
        x, weight = ctx.saved_tensors
        nx, nw, nb = ctx.needs_input_grad[:3]
        be = ctx.backend
        if be.records:
            dx, dw, db = norm_grad.record(be, "group", x, g, weight, ctx.params["eps"], ctx.mean, ctx.invstd,
                                          num_groups=ctx.groups)
        else:
            dx, dw, db = be.kernels.group_norm_backward(x, g, ctx.groups, ctx.mean, ctx.invstd, weight)
        return (dx if nx else None, _param_grad(be, dw, weight, nw), _param_grad(be, db, weight, nb), None, None,
                None)
