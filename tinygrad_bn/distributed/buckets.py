"""Averaging a pass's gradients across ranks in a few large all-reduces."""
import numpy as np

from ..grad_mode import no_grad
from ..tensor import Tensor
from . import _comm, sum_in_place


def average_in_buckets(params, contributions, bucket_bytes):
    """For each parameter, replace this pass's contribution ``g`` (by id, a host
    array; missing means zero) in ``p.grad`` with its mean over the ranks.
    Parameters go into flat float64 buckets in a fixed order, the same on every
    rank, so the all-reduces line up."""
    comm = _comm("DistributedDataParallel")
    world = comm.Get_size()
    bucket, size = [], 0
    for p in params:
        bucket.append(p)
        size += p.numel() * 8
        if size >= bucket_bytes:
            _reduce_bucket(comm, world, bucket, contributions)
            bucket, size = [], 0
    if bucket:
        _reduce_bucket(comm, world, bucket, contributions)


def _reduce_bucket(comm, world, bucket, contributions):
    flat = np.zeros(sum(p.numel() for p in bucket))
    offsets, at = [], 0
    for p in bucket:
        g = contributions.get(id(p))
        if g is not None:
            flat[at:at + g.size] = g.reshape(-1)
        offsets.append(at)
        at += p.numel()
    sum_in_place("DistributedDataParallel", flat)
    flat /= world
    with no_grad():
        for p, at in zip(bucket, offsets):
            mean = flat[at:at + p.numel()].reshape(p.shape)
            mine = contributions.get(id(p))
            delta = mean if mine is None else mean - mine
            if p.grad is None:
                p.grad = Tensor(mean.astype(p.dtype))
            else:
                p.grad.add_(Tensor(delta.astype(p.dtype)))
