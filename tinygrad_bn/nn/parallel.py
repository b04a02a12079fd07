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
        # the same parameters and buffers on every rank (one gather), or every rank raises: a model
        # that differs would hang the broadcasts below or reduce mismatched gradients
        signature = [f"parameter {n!r} {tuple(p.shape)} {p.dtype}" for n, p in module.named_parameters()]
        signature += [f"buffer {n!r} {tuple(b.shape)} {b.dtype}" for n, b in module.named_buffers()]
        distributed.agree("DistributedDataParallel", signature, "the model")
        for t in list(module.parameters()) + [b for b in module.buffers()]:
            distributed.broadcast(t, src=0)
        self._params = [p for p in module.parameters() if p.requires_grad]
        self._seen = {}
        self._pass = None  # the backward call whose contributions _seen holds
        for p in self._params:
            if p.device != "cpu":
                raise ValueError("DistributedDataParallel: the model has a parameter on "
                                 f"'{p.device}'; data-parallel training here runs on the CPU")
            p.register_hook(self._hook_for(p))

    def _hook_for(self, p):
        def hook(grad):
            current = engine.current_backward()
            if current is None:
                return  # grad(): nothing goes into .grad, so there is nothing to average
            if current is not self._pass:  # a new backward call: what an earlier, failed one left is dropped
                self._pass, self._seen = current, {}
                engine.queue_callback(self._average)
            # this pass's own contribution (a leaf's hook sees the sum of its uses)
            self._seen[id(p)] = grad.detach().numpy().copy()
        return hook

    def _average(self):
        from ..distributed.buckets import average_in_buckets

        seen, self._seen, self._pass = self._seen, {}, None
        average_in_buckets(self._params, seen, BUCKET_BYTES)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
