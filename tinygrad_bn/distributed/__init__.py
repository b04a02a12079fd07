"""Data-parallel training over MPI (mpi4py): one process per rank, started by
``mpiexec -n N python script.py``; the ``mpi`` extra installs mpi4py and an MPI.

    import tinygrad_bn.distributed as dist
    dist.init()
    model = nn.parallel.DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(model))
    loader = DataLoader(data, batch_size=32, sampler=dist.DistributedSampler(data))

Collectives work on CPU tensors and NumPy arrays, in place, as PyTorch's
``torch.distributed`` does on its tensors. An exception on one rank aborts the
whole job (after printing which rank failed), so the others never wait forever
in a collective.
"""
import hashlib
import math
import os
import sys
import time

import numpy as np

from ..tensor_base import TensorBase, array_of, backend_of, bump_version

_COMM = None
_OPS = ("sum", "mean")

# How long a rank waits in a collective for the others before it raises (and so
# ends the job): a rank that never joins (another code path, a layer in eval
# mode, a failed rank) would otherwise hang every other one.
COLLECTIVE_TIMEOUT = float(os.environ.get("TINYGRAD_BN_COLLECTIVE_TIMEOUT", "300"))


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise RuntimeError("distributed: mpi4py is not installed; pip install 'tinygrad_bn[mpi]' (mpi4py and an "
                           "MPI runtime), then start the script with mpiexec -n 2 python script.py") from None
    return MPI


def init():
    """Join the MPI job (every process calls it once, before any collective).
    Returns the rank. Installs an excepthook that aborts the job when this rank
    raises, so the other ranks exit instead of hanging."""
    global _COMM
    if _COMM is None:
        MPI = _mpi()
        _COMM = MPI.COMM_WORLD
        previous = _previous_hook if sys.excepthook is _abort_before_init else sys.excepthook

        def abort_the_job(kind, value, tb):
            previous(kind, value, tb)
            sys.stderr.write(f"distributed: rank {_COMM.Get_rank()} of {_COMM.Get_size()} failed with "
                             f"{kind.__name__}; aborting the other ranks\n")
            sys.stderr.flush()
            # give mpiexec a moment to pass the message on: aborting tears the job down at
            # once, and output still in transit can be lost with it
            time.sleep(0.2)
            _COMM.Abort(1)
        sys.excepthook = abort_the_job
    return _COMM.Get_rank()


def is_initialized():
    return _COMM is not None


def _launched_rank():
    """This process's rank when mpiexec started it (from the launcher's environment), else None."""
    for var in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return None


def _abort_before_init(kind, value, tb):
    """A rank that fails before init(): say which, and end the job (the others may already
    wait in a collective)."""
    _previous_hook(kind, value, tb)
    sys.stderr.write(f"distributed: rank {_launched_rank()} failed with {kind.__name__} before init(); "
                     "aborting the other ranks\n")
    sys.stderr.flush()
    time.sleep(0.2)
    _mpi().COMM_WORLD.Abort(1)


# launched by mpiexec: a failure even before init() ends the whole job
_previous_hook = sys.excepthook
if _launched_rank() is not None:
    sys.excepthook = _abort_before_init


def _wait(request, who):
    """Wait for a nonblocking collective; past COLLECTIVE_TIMEOUT raise, naming the op."""
    # Poll without sleeping for the first 2 ms (a collective between ranks that
    # arrive together completes in well under that), then sleep in steps that
    # double from 10 us to at most 1 ms: a longer cap (it was 10 ms) made every
    # all-reduce that missed the first polls cost 10-15 ms, several times the
    # step it synchronized, while 1 ms of sleeping still leaves the core to the
    # other ranks that share it.
    start = time.monotonic()
    while time.monotonic() - start < 0.002:
        if request.Test():
            return
    deadline = start + COLLECTIVE_TIMEOUT
    pause = 1e-5
    while not request.Test():
        if time.monotonic() > deadline:
            comm = _comm(who)
            raise RuntimeError(
                f"{who}: rank {comm.Get_rank()} of {comm.Get_size()} waited {COLLECTIVE_TIMEOUT:g} s for the "
                "other ranks to join this collective; every rank must make the same collective calls in the same "
                "order (the same model, the same number of backward passes, every SyncBatchNorm in training "
                "mode on all ranks or on none)")
        time.sleep(pause)
        pause = min(pause * 2, 0.001)


def sum_in_place(who, buf):
    """The sum over ranks of the contiguous host array ``buf``, written into it."""
    comm = _comm(who)
    _wait(comm.Iallreduce(_mpi().IN_PLACE, buf, op=_mpi().SUM), who)


def agree(who, signature, what):
    """Check that every rank passes the same ``signature`` (a list of strings),
    in one gather of a digest; otherwise raise on every rank, naming the first
    difference from rank 0."""
    comm = _comm(who)
    digest = np.frombuffer(hashlib.sha256(repr(signature).encode()).digest(), dtype=np.uint8).copy()
    gathered = np.empty((comm.Get_size(), digest.size), dtype=np.uint8)
    _wait(comm.Iallgather(digest, gathered), who)
    if (gathered == gathered[0]).all():
        return
    signatures = comm.allgather(signature)  # every rank found the mismatch, so every rank is here
    for k, theirs in enumerate(signatures):
        if theirs != signatures[0]:
            at = next((i for i, (a, b) in enumerate(zip(signatures[0], theirs)) if a != b),
                      min(len(signatures[0]), len(theirs)))
            mine = signatures[0][at] if at < len(signatures[0]) else "nothing"
            other = theirs[at] if at < len(theirs) else "nothing"
            raise ValueError(f"{who}: the ranks disagree on {what}: rank 0 has {mine} where rank {k} has {other}; "
                             f"expected the same on every rank")


def _comm(who):
    if _COMM is None:
        raise RuntimeError(f"{who}: call tinygrad_bn.distributed.init() first (and start the script with "
                           "mpiexec -n N)")
    return _COMM


def all_reduce_host(who, values):
    """The sum over all ranks of a host array (float64), as a new contiguous array."""
    buf = np.array(values, dtype=np.float64, order="C")
    sum_in_place(who, buf)
    return buf


def rank():
    return _comm("rank").Get_rank()


def world_size():
    return _comm("world_size").Get_size()


def _host_buffer(who, t):
    """The contiguous host array behind ``t`` (a CPU tensor or a NumPy array)."""
    if isinstance(t, TensorBase):
        if t.device != "cpu":
            raise ValueError(f"{who}: the tensor is on '{t.device}'; collectives take CPU tensors "
                             "(copy with .cpu(), then back)")
        arr = backend_of(t).to_numpy(array_of(t))
    elif isinstance(t, np.ndarray):
        arr = t
    else:
        raise TypeError(f"{who}: expected a Tensor or a NumPy array, got {type(t).__name__}")
    if not arr.flags.c_contiguous:
        raise ValueError(f"{who}: the buffer must be contiguous; pass t.contiguous() or np.ascontiguousarray")
    return arr


def all_reduce(t, op="sum"):
    """Sum (or average, ``op="mean"``) ``t`` over all ranks, in place; returns ``t``."""
    if op not in _OPS:
        raise ValueError(f"all_reduce: op must be one of {_OPS}, got {op!r}")
    comm = _comm("all_reduce")
    buf = _host_buffer("all_reduce", t)
    # the same shape, dtype and op everywhere, or every rank raises before anything is written
    agree("all_reduce", [f"shape {buf.shape}", f"dtype {buf.dtype}", f"op {op!r}"], "what they reduce")
    if op == "mean" and buf.dtype.kind not in "fc":
        raise TypeError(f"all_reduce: op='mean' needs a floating point tensor, got {buf.dtype}; the mean of "
                        "integers would not fit it (convert first, or use op='sum')")
    sum_in_place("all_reduce", buf)
    if op == "mean":
        buf /= comm.Get_size()
    _bump(t)
    return t


def broadcast(t, src=0):
    """Copy ``t`` from rank ``src`` to every rank, in place; returns ``t``."""
    comm = _comm("broadcast")
    if not 0 <= src < comm.Get_size():
        raise ValueError(f"broadcast: src must be a rank in [0, {comm.Get_size()}), got {src}")
    buf = _host_buffer("broadcast", t)
    agree("broadcast", [f"shape {buf.shape}", f"dtype {buf.dtype}", f"src {src}"], "what they broadcast")
    _wait(comm.Ibcast(buf, root=src), "broadcast")
    _bump(t)
    return t


def barrier():
    _wait(_comm("barrier").Ibarrier(), "barrier")


def _bump(t):
    if isinstance(t, TensorBase):
        bump_version(t)  # written in place, like any other in-place op


class DistributedSampler:
    """Indices of this rank's shard of ``dataset``, as PyTorch's sampler: the
    indices (shuffled with ``seed + epoch`` when ``shuffle``) padded by
    repeating from the start to a multiple of the world size (or cut, with
    ``drop_last``), then every ``num_replicas``-th from ``rank``. Call
    ``set_epoch(epoch)`` each epoch to reshuffle alike on every rank."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        self.num_replicas = world_size() if num_replicas is None else num_replicas
        self.rank = globals()["rank"]() if rank is None else rank
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"DistributedSampler: rank {self.rank} is not in [0, {self.num_replicas}); expected "
                             "a rank below num_replicas")
        self.n = len(dataset)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, seed, drop_last, 0
        if drop_last:
            self.num_samples = self.n // self.num_replicas
        else:
            self.num_samples = math.ceil(self.n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __iter__(self):
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(self.n)
        else:
            order = np.arange(self.n)
        if self.total_size > self.n:
            order = np.concatenate([order, np.resize(order, self.total_size - self.n)])
        return iter(order[: self.total_size][self.rank:: self.num_replicas].tolist())

    def __len__(self):
        return self.num_samples
