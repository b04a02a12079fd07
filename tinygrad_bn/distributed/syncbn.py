"""SyncBatchNorm's op: batch norm whose statistics are those of the global
batch, all ranks' samples together. The local parts run on the backend's batch
norm kernels (the CPU ones); what crosses ranks is a few numbers per channel:

forward   count, count * mean and the local M2 (sum of squared deviations,
          from the kernels' float64 shifted sums), combined exactly by Chan's
          rule: M2 = sum(M2_k + n_k * (mean_k - mean)^2); the first all-reduce
          also carries one flag per rank (1 at this rank's index), so a rank
          that is not in it is named (below);
backward  sum(dy) and sum(dy * x_hat) per channel; recorded (create_graph),
          one op whose backward is the norms' double backward with its group
          sums over all ranks.
dgamma and dbeta are this rank's sums, as in PyTorch (DistributedDataParallel
then averages them like any parameter gradient)."""
from ..function import Function
from ..ops.norm_grad import Layout, double_backward
from . import _comm, all_reduce_host


def _allreduce(be, values):
    """The sum over ranks of a small float64 array of this device (through host memory)."""
    return be.asarray(all_reduce_host("SyncBatchNorm", be.to_numpy(values)))


class SyncBatchNormOp(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        if ctx.backend.name != "cpu":
            raise ValueError("SyncBatchNorm: runs on CPU tensors; its collectives go through host memory")
        be = ctx.backend
        channels = x.shape[1]
        n_local = x.size // channels
        _, mean_k, var_k, _ = be.kernels.batch_norm_train(x, None, None, eps)  # local float64 statistics
        world = _comm("SyncBatchNorm").Get_size()
        counts = _allreduce(be, be.concatenate([_joined(be, world), be.full((1,), n_local, "float64"),
                                                be.mul(mean_k, n_local)], 0))
        _check_every_rank_joined(be.to_numpy(counts)[:world])
        n = float(be.to_numpy(counts)[world])
        mean = be.div(be.getitem(counts, slice(world + 1, None)), n)
        spread = be.pow(be.sub(mean_k, mean), 2)
        m2 = _allreduce(be, be.add(be.mul(var_k, n_local), be.mul(spread, n_local)))
        var = be.div(m2, n)
        invstd = be.div(1.0, be.sqrt(be.add(var, eps)))
        w = be.full((channels,), 1.0, "float64") if weight is None else weight
        b = be.full((channels,), 0.0, "float64") if bias is None else bias
        y, _ = be.kernels.batch_norm_eval(x, w, b, mean, var, eps)  # (x - mean) * invstd * w + b, global stats
        ctx.save_for_backward(x, weight)
        ctx.mean, ctx.invstd, ctx.n, ctx.eps = mean, invstd, n, eps
        unbiased = be.mul(var, n / max(n - 1, 1))  # for running_var, as BatchNorm's
        ctx.mark_non_differentiable(mean, unbiased)
        return y, mean, unbiased

    @staticmethod
    def backward(ctx, g, gmean, gvar):
        x, weight = ctx.saved_tensors
        be = ctx.backend
        if be.records:  # create_graph: one recorded op, whose backward is the double backward
            out = SyncNormBackward.apply(x, g, weight, ctx.mean, ctx.invstd, ctx.n, ctx.eps)
            dx, dgamma, dbeta = (out, None, None) if weight is None else out
            return dx, dgamma, dbeta, None
        dx, dgamma, dbeta = _first_order(be, x, g, weight, ctx.mean, ctx.invstd, ctx.n)
        return (dx, None if weight is None else be.cast(dgamma, weight.dtype),
                None if weight is None else be.cast(dbeta, weight.dtype), None)


def _joined(be, world):
    """This rank's flags for the first all-reduce: 1 at its own index, 0 elsewhere."""
    flags = be.zeros((world,), "float64")
    be.setitem(flags, _comm("SyncBatchNorm").Get_rank(), 1.0)
    return flags


def _check_every_rank_joined(flags):
    """After the sum every flag is exactly 1 when every rank ran this all-reduce. A rank
    whose SyncBatchNorm is in eval mode runs none (it normalizes with its running
    statistics, as PyTorch's does) and goes on to its next collective, which MPI may
    pair with this one (MPICH does: a barrier or a gradient all-reduce completes it
    with no flag or a stray value in that rank's place); raise before any of the
    sums is used or written, naming the ranks in each mode. A rank that never
    reaches another collective is caught by the collective timeout instead."""
    if (flags == 1.0).all():
        return
    me = _comm("SyncBatchNorm").Get_rank()
    training = [r for r, f in enumerate(flags) if f == 1.0 or r == me]
    others = [r for r in range(len(flags)) if r not in training]
    raise RuntimeError(
        f"SyncBatchNorm: the ranks disagree on training and eval mode: {_ranks(training)} in training mode "
        f"reached the all-reduce of the batch statistics but {_ranks(others)} did not join it (in eval mode, "
        f"which runs no collective, or at another collective); this is rank {me} of {len(flags)}; "
        "call model.train() or model.eval() on every rank alike")


def _ranks(ranks):
    return ("rank " if len(ranks) == 1 else "ranks ") + ", ".join(map(str, ranks))


def _first_order(be, x, g, weight, mean, invstd, n):
    """(dx, local dgamma, local dbeta) with the global batch's statistics."""
    channels = x.shape[1]
    w = be.full((channels,), 1.0, "float64") if weight is None else be.cast(weight, "float64")
    # eval-mode backward gives dx = w * invstd * dy and the local sums we need
    dx_eval, dgamma, dbeta = be.kernels.batch_norm_backward(x, g, mean, invstd, w, False)
    sums = _allreduce(be, be.concatenate([dbeta, dgamma], 0))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    sum_dy = be.reshape(be.getitem(sums, slice(0, channels)), shape)
    sum_dy_xhat = be.reshape(be.getitem(sums, slice(channels, None)), shape)
    xhat = be.mul(be.sub(x, be.reshape(mean, shape)), be.reshape(invstd, shape))
    scale = be.reshape(be.mul(w, invstd), shape)
    dx = be.sub(dx_eval, be.div(be.mul(scale, be.add(sum_dy, be.mul(xhat, sum_dy_xhat))), n))
    return be.cast(dx, x.dtype), dgamma, dbeta


class SyncNormBackward(Function):
    """SyncBatchNorm's gradients as one recorded op (a create_graph pass): the
    first-order computation above, and as backward the norms' closed-form
    double backward (ops/norm_grad.py) with every group sum taken over all
    ranks. dgamma and dbeta stay this rank's sums, as in the first order."""

    @staticmethod
    def forward(ctx, x, g, weight, mean, invstd, n, eps):
        be = ctx.backend
        dx, dgamma, dbeta = _first_order(be, x, g, weight, mean, invstd, n)
        ctx.save_for_backward(x, g, weight)
        ctx.layout, ctx.eps = GlobalBatchLayout(x.shape, n), eps
        if weight is None:
            return dx
        return dx, be.cast(dgamma, weight.dtype), be.cast(dbeta, weight.dtype)

    @staticmethod
    def backward(ctx, a, beta=None, gamma=None):
        x, g, weight = ctx.saved_tensors
        nx, ng, nw = ctx.needs_input_grad[:3]
        dx, dg, dweight = double_backward(ctx.backend, ctx.layout, ctx.eps, None, x, g, weight, a, beta, gamma,
                                          nx, ng, nw)
        return dx, dg, dweight, None, None, None, None


class GlobalBatchLayout(Layout):
    """Batch norm's layout whose groups (channels) span every rank's rows."""

    def __init__(self, shape, n):
        super().__init__("batch", shape)
        self.count = int(n)

    def total(self, be, u):
        return _summed_over_ranks(be, be.sum(u, axis=self.axes, keepdims=True))


class AllReduceSum(Function):
    """The sum over ranks as a recorded op: each rank's loss depends on the
    sum, so the gradient of the total loss in a rank's part is the sum over
    ranks of the gradients (an all-reduce again)."""

    @staticmethod
    def forward(ctx, values):
        return _allreduce(ctx.backend, values)

    @staticmethod
    def backward(ctx, g):
        return _summed_over_ranks(ctx.backend, g)


def _summed_over_ranks(be, values):
    """The sum over ranks of ``values``: an array, or on the recording backend a recorded op."""
    return AllReduceSum.apply(values) if be.records else _allreduce(be, values)
