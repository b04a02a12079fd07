"""DistributedDataParallel: one model replica per MPI rank, gradients averaged."""
from .. import engine
from .module import Module

BUCKET_BYTES = 1 << 20  # gradients are averaged in flat buckets of about this size


class DistributedDataParallel(Module):
    """Wraps ``module`` for data-parallel training (PyTorch's name and use):
    parameters and buffers are copied from rank 0 when wrapped, and after each
    ``backward`` the gradients this pass produced are averaged over the ranks,
    small ones packed together into buckets of about 1 MB per all-reduce.
    Gradients accumulate across passes as usual (``.grad`` keeps what it held
    plus the average of this pass). Every rank must run the same number of
    backward passes; a parameter that got no gradient on some rank counts as
    zero there. CPU tensors only."""

    def __init__(self, module):
        super().__init__()
        from .. import distributed

        self.module = module
        self.world = distributed.world_size()
        for t in list(module.parameters()) + [b for b in module.buffers()]:
            distributed.broadcast(t, src=0)
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._seen = {}
        for p in self._params:
            if p.device != "cpu":
                raise ValueError("DistributedDataParallel: the model has a parameter on "
                                 f"{p.device!r}; data-parallel training here runs on the CPU")
            p.register_hook(self._hook_for(p))

    def _hook_for(self, p):
        def hook(grad):
            if not self._seen:
                engine.queue_callback(self._average)
            self._seen[id(p)] = grad.numpy().copy()  # this pass's own contribution
        return hook

    def _average(self):
        from ..distributed.buckets import average_in_buckets

        seen, self._seen = self._seen, {}
        average_in_buckets(self._params, seen, BUCKET_BYTES)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
