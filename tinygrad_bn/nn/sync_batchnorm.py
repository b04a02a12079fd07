"""SyncBatchNorm: batch norm over the global batch of a data-parallel job."""
from . import functional as F
from .normalization import _BatchNorm
from ..tensor_base import array_of


class SyncBatchNorm(_BatchNorm):
    """Batch norm whose training statistics are those of all ranks' samples
    together (PyTorch's ``nn.SyncBatchNorm``): the remedy for small per-process
    batches. Takes (N, C, *) input. In eval mode, or outside an MPI job
    (``tinygrad_bn.distributed.init()`` not called), it is BatchNorm. Running
    statistics follow PyTorch's rule with the global mean and unbiased variance.
    Every rank must be in the same mode: the ranks in training mode raise,
    naming the others, when one in eval mode (no collective) is not in their
    all-reduce. CPU only: its collectives go through host memory."""

    expected_ndims = (2, 3, 4, 5)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        if process_group is not None:
            raise ValueError(f"SyncBatchNorm: process_group must be None, got {type(process_group).__name__}: the "
                             "statistics are always those of every rank of the MPI job (there are no sub-groups)")
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype,
                         bias=bias)

    def forward(self, x):
        from .. import distributed

        if not (self.training and distributed.is_initialized()):
            return super().forward(x)
        from ..distributed.syncbn import SyncBatchNormOp

        self._check_input(x)
        momentum = self._momentum()
        out, mean, var = SyncBatchNormOp.apply(F._in_kernel_dtype(x), self.weight, self.bias, float(self.eps))
        if self.track_running_stats:
            F._update_running(self.running_mean, array_of(mean), momentum)
            F._update_running(self.running_var, array_of(var), momentum)
        self._count_batch()
        return F._as_input_dtype(out, x)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every BatchNorm layer replaced by a SyncBatchNorm that
        holds the same parameters and buffers (an optimizer built before keeps
        working); returns the new root when ``module`` itself is a BatchNorm.
        ``process_group`` must be None, as in the constructor."""
        if process_group is not None:
            raise ValueError(f"SyncBatchNorm.convert_sync_batchnorm: process_group must be None, got "
                             f"{type(process_group).__name__}: the statistics are always those of every rank of the "
                             "MPI job (there are no sub-groups)")
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats)
            for name in ("weight", "bias"):
                sync._parameters[name] = module._parameters[name]
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                sync._buffers[name] = module._buffers[name]
            sync.train(module.training)
            return sync
        for name, child in list(module._modules.items()):
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child)
        return module
