"""The normalization gradients as composite ops, for recorded backward passes.

The fused backward kernels (``backend.kernels``) return plain arrays: fast, but
nothing can differentiate through them. When a norm's backward runs on the
recording backend (``create_graph=True``), it computes the same gradients with
the formulas below instead, written against the backend contract: every step
is then a recorded op, so the result can be differentiated again, to any
order, and on any device. The statistics are recomputed from x (they depend
on it) in float64, as the kernels compute them; running statistics (eval mode)
are constants.

For the normalized axes A with n elements, x_hat = (x - mean) * invstd and
gy = g * weight, the gradients are
    dx = invstd * (gy - mean_A(gy) - x_hat * mean_A(gy * x_hat))   (batch statistics)
    dx = invstd * gy                                                 (running statistics)
    dweight = sum(g * x_hat), dbias = sum(g) over the axes weight does not have.
"""


def _stats(be, x, axes, eps):
    """(x - mean, invstd) of x over axes, kept as broadcastable shapes."""
    centered = be.sub(x, be.mean(x, axis=axes, keepdims=True))
    var = be.mean(be.mul(centered, centered), axis=axes, keepdims=True)
    return centered, be.pow(be.add(var, eps), -0.5)


def _dx_batch_stats(be, gy, x_hat, invstd, axes):
    mean_gy = be.mean(gy, axis=axes, keepdims=True)
    mean_gy_xhat = be.mean(be.mul(gy, x_hat), axis=axes, keepdims=True)
    return be.mul(invstd, be.sub(be.sub(gy, mean_gy), be.mul(x_hat, mean_gy_xhat)))


def _in_float64(be, *values):
    return tuple(None if v is None else be.cast(v, "float64") for v in values)


def batch_norm(be, x, g, weight, training, eps, running_mean, running_invstd):
    """(dx, dweight, dbias) of batch norm over x (N, C, *); ``running_*`` are the
    eval-mode statistics (per channel, constants)."""
    dtype = x.dtype
    x, g, weight = _in_float64(be, x, g, weight)
    channels = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        centered, invstd = _stats(be, x, axes, eps)
    else:
        centered = be.sub(x, be.reshape(running_mean, shape))
        invstd = be.reshape(running_invstd, shape)
    x_hat = be.mul(centered, invstd)
    gy = g if weight is None else be.mul(g, be.reshape(weight, shape))
    dx = _dx_batch_stats(be, gy, x_hat, invstd, axes) if training else be.mul(gy, invstd)
    return be.cast(dx, dtype), be.sum(be.mul(g, x_hat), axis=axes), be.sum(g, axis=axes)


def layer_norm(be, x, g, weight, normalized_ndim, eps):
    """(dx, dweight, dbias) of layer norm over the last ``normalized_ndim`` dims."""
    dtype = x.dtype
    x, g, weight = _in_float64(be, x, g, weight)
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    lead = tuple(range(x.ndim - normalized_ndim))
    centered, invstd = _stats(be, x, axes, eps)
    x_hat = be.mul(centered, invstd)
    gy = g if weight is None else be.mul(g, weight)
    dx = _dx_batch_stats(be, gy, x_hat, invstd, axes)
    return be.cast(dx, dtype), be.sum(be.mul(g, x_hat), axis=lead), be.sum(g, axis=lead)


def group_norm(be, x, g, weight, num_groups, eps):
    """(dx, dweight, dbias) of group norm of x (N, C, *) in ``num_groups`` groups
    of channels; weight and bias are per channel."""
    dtype, shape = x.dtype, x.shape
    x, g, weight = _in_float64(be, x, g, weight)
    n, channels = shape[0], shape[1]
    per_channel = (1, channels) + (1,) * (len(shape) - 2)
    grouped = (n, num_groups, -1)
    centered, invstd = _stats(be, be.reshape(x, grouped), (2,), eps)
    x_hat = be.mul(centered, invstd)
    gy = g if weight is None else be.mul(g, be.reshape(weight, per_channel))
    dx = be.reshape(_dx_batch_stats(be, be.reshape(gy, grouped), x_hat, invstd, (2,)), shape)
    x_hat = be.reshape(x_hat, shape)
    axes = (0,) + tuple(range(2, len(shape)))
    return be.cast(dx, dtype), be.sum(be.mul(g, x_hat), axis=axes), be.sum(g, axis=axes)
