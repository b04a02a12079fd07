"""tinygrad_bn.distributed without an MPI job: the ranks are threads of this
process meeting in a stand-in communicator (each all-reduce sums the ranks'
buffers, gathers and broadcasts exchange them), so these run in a second.

- SyncBatchNorm against BatchNorm on the concatenated global batch: each rank's
  output, input gradient and running statistics are its rows of the one-process
  ones (first order and a create_graph gradient penalty); dgamma and dbeta are
  each rank's own sums (DDP averages them later).
- The collectives: sum and mean in place, the agreement check that names the
  first difference, broadcast from the source rank, waiting and the timeout.
- The sampler's epoch and rank checks and the hooks that abort the job."""
import threading
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.distributed as dist


class _Done:
    def Test(self):
        return True


class ThreadRanks:
    """A communicator of ``size`` ranks, one per thread: Iallreduce sums the ranks' buffers in place."""

    def __init__(self, size):
        self.size, self.local = size, threading.local()
        self.barrier = threading.Barrier(size, timeout=30)
        self.slots = [None] * size

    def Get_rank(self):
        return self.local.rank

    def Get_size(self):
        return self.size

    def _exchange(self, value):
        """Every rank's ``value``, in rank order, on every rank."""
        self.slots[self.Get_rank()] = value
        self.barrier.wait()
        everyone = list(self.slots)
        self.barrier.wait()
        return everyone

    def Iallreduce(self, _in_place, buf, op=None):
        buf[...] = np.sum(self._exchange(buf.copy()), axis=0)
        return _Done()

    def Iallgather(self, mine, gathered):
        gathered[...] = np.stack(self._exchange(mine.copy()))
        return _Done()

    def allgather(self, obj):
        return self._exchange(obj)

    def Ibcast(self, buf, root):
        buf[...] = self._exchange(buf.copy())[root]
        return _Done()

    def Ibarrier(self):
        self._exchange(None)
        return _Done()


@pytest.fixture
def ranks(monkeypatch):
    """run(size, fn): fn(rank) on ``size`` threads joined by a ThreadRanks communicator; their results."""
    monkeypatch.setattr(dist, "_mpi", lambda: SimpleNamespace(IN_PLACE=None, SUM=None))

    def run(size, fn):
        comm = ThreadRanks(size)
        monkeypatch.setattr(dist, "_COMM", comm)
        results, errors = [None] * size, []

        def body(r):
            comm.local.rank = r
            try:
                results[r] = fn(r)
            except BaseException as e:  # noqa: BLE001 -- reported below
                errors.append(e)
                comm.barrier.abort()

        threads = [threading.Thread(target=body, args=(r,)) for r in range(size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if errors:
            raise errors[0]
        return results

    return run


def _problem(shape, seed):
    rng = np.random.default_rng(seed)
    c = shape[1]
    scale = np.array([1.0, 4.0, 0.3, 2.0, 1.5][:c]).reshape((1, c) + (1,) * (len(shape) - 2))
    shift = np.array([0.5, -3.0, 10.0, 0.0, 1.0][:c]).reshape(scale.shape)
    x = rng.standard_normal(shape) * scale + shift
    dy = rng.standard_normal(shape)
    weight, bias = rng.uniform(0.5, 2.0, c), rng.standard_normal(c)
    return x, dy, weight, bias


def _layer(cls, c, affine, weight, bias):
    layer = cls(c, affine=affine, momentum=0.3, dtype=tg.float64)
    if affine:
        layer.weight.data = tg.tensor(weight.copy())
        layer.bias.data = tg.tensor(bias.copy())
    return layer


def _run_one(cls, c, affine, weight, bias, x, dy):
    layer = _layer(cls, c, affine, weight, bias)
    xt = tg.tensor(x, requires_grad=True)
    y = layer(xt)
    (y * tg.tensor(dy)).sum().backward()
    grads = (layer.weight.grad.numpy(), layer.bias.grad.numpy()) if affine else (None, None)
    return (y.detach().numpy(), xt.grad.numpy(), *grads, layer.running_mean.numpy(), layer.running_var.numpy())


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("size, shape", [(2, (10, 3)), (3, (12, 2, 5)), (2, (7, 3, 2, 2))])
def test_each_rank_gets_its_rows_of_batchnorm_on_the_global_batch(ranks, affine, size, shape):
    """Forward, running statistics and input gradient of each rank are those of one
    BatchNorm over all ranks' samples; dgamma and dbeta are each rank's own sums."""
    x, dy, weight, bias = _problem(shape, seed=size * 10 + len(shape))
    edges = [0, 3, shape[0]] if size == 2 else [0, 2, 7, shape[0]]  # unequal shards
    c = shape[1]
    ref_y, ref_dx, _, _, ref_mean, ref_var = _run_one(tg.nn.BatchNorm1d if len(shape) < 4 else tg.nn.BatchNorm2d,
                                                      c, affine, weight, bias, x, dy)

    def rank(r):
        lo, hi = edges[r], edges[r + 1]
        return _run_one(tg.nn.SyncBatchNorm, c, affine, weight, bias, x[lo:hi], dy[lo:hi])

    out = ranks(size, rank)
    axes = (0,) + tuple(range(2, len(shape)))
    for r, (y, dx, dgamma, dbeta, mean, var) in enumerate(out):
        lo, hi = edges[r], edges[r + 1]
        np.testing.assert_allclose(y, ref_y[lo:hi], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, ref_dx[lo:hi], rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(mean, ref_mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(var, ref_var, rtol=1e-12)
        if affine:
            m = x.mean(axis=axes, keepdims=True)
            xhat = (x - m) / np.sqrt(x.var(axis=axes, keepdims=True) + 1e-5)
            np.testing.assert_allclose(dbeta, dy[lo:hi].sum(axis=axes), rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(dgamma, (dy * xhat)[lo:hi].sum(axis=axes), rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("affine", [True, False])
def test_double_backward_sums_over_ranks_as_on_the_global_batch(ranks, affine):
    """A gradient penalty through SyncBatchNorm (create_graph): the gradient of the
    ranks' summed penalty in each rank's input (and, summed over ranks, in the weight)
    is that of the one-process penalty on the concatenated batch."""
    shape, size, edges = (9, 3, 2), 3, [0, 2, 5, 9]
    x, dy, weight, bias = _problem(shape, seed=5)

    def penalty(layer, xs, dys):
        xt = tg.tensor(xs, requires_grad=True)
        y = layer(xt)
        params = [xt] + ([layer.weight] if affine else [])
        (gx,) = tg.autograd.grad((y * tg.tensor(dys)).sum(), [xt], create_graph=True)
        grads = tg.autograd.grad((gx * gx).sum(), params)
        return [g.numpy() for g in grads]

    ref = penalty(_layer(tg.nn.BatchNorm1d, 3, affine, weight, bias), x, dy)
    out = ranks(size, lambda r: penalty(_layer(tg.nn.SyncBatchNorm, 3, affine, weight, bias),
                                        x[edges[r]:edges[r + 1]], dy[edges[r]:edges[r + 1]]))
    np.testing.assert_allclose(np.concatenate([o[0] for o in out]), ref[0], rtol=1e-8, atol=1e-10)
    if affine:
        np.testing.assert_allclose(np.sum([o[1] for o in out], axis=0), ref[1], rtol=1e-8, atol=1e-10)


def test_a_rank_missing_from_the_statistics_all_reduce_is_named(ranks, monkeypatch):
    """When a rank's flag is absent from the first all-reduce (it ran another
    collective), the ranks in training mode raise before using the sums, naming it."""
    from tinygrad_bn.distributed import syncbn

    real = syncbn._joined

    def rank_one_absent(be, world):
        flags = real(be, world)
        return be.zeros((world,), "float64") if dist._COMM.Get_rank() == 1 else flags

    monkeypatch.setattr(syncbn, "_joined", rank_one_absent)
    x = np.random.default_rng(0).standard_normal((4, 2))
    layers = [tg.nn.SyncBatchNorm(2, dtype=tg.float64) for _ in range(2)]

    def rank(r):
        with pytest.raises(RuntimeError, match="the ranks disagree on training and eval mode") as info:
            layers[r](tg.tensor(x))
        return str(info.value)

    messages = ranks(2, rank)
    assert "rank 0 in training mode" in messages[0] and "rank 1 did not join" in messages[0]
    for layer in layers:  # raised before the running statistics were written
        np.testing.assert_array_equal(layer.running_mean.numpy(), 0.0)
        np.testing.assert_array_equal(layer.running_var.numpy(), 1.0)


# ------------------------------------------------------------------ collectives


@pytest.mark.parametrize("size", [2, 3])
def test_all_reduce_sums_or_averages_every_ranks_tensor_in_place(ranks, size):
    """all_reduce writes the sum (op="mean": the sum / world size) of the ranks'
    tensors into each one, returns it, and counts as an in-place write of it."""
    parts = [np.arange(6.0).reshape(2, 3) * (r + 1) - r for r in range(size)]

    def rank(r):
        t = tg.tensor(parts[r].copy())
        v = t._version
        assert dist.all_reduce(t) is t
        s, sum_bumped = t.numpy().copy(), t._version > v
        m = dist.all_reduce(tg.tensor(parts[r].copy()), op="mean").numpy()
        a = parts[r].astype(np.int64)
        dist.all_reduce(a)  # NumPy arrays too, ints summed exactly
        return s, sum_bumped, m, a, dist.rank(), dist.world_size()

    for r, (s, bumped, m, a, me, world) in enumerate(ranks(size, rank)):
        np.testing.assert_allclose(s, sum(parts), rtol=1e-15)
        np.testing.assert_allclose(m, sum(parts) / size, rtol=1e-15)
        np.testing.assert_array_equal(a, sum(p.astype(np.int64) for p in parts))
        assert bumped and (me, world) == (r, size)


def test_the_mean_of_integers_is_refused_on_every_rank(ranks):
    def rank(r):
        with pytest.raises(TypeError, match="op='mean' needs a floating point"):
            dist.all_reduce(np.ones(3, np.int64), op="mean")
        with pytest.raises(ValueError, match="op must be one of"):
            dist.all_reduce(np.ones(3), op="max")

    ranks(2, rank)


@pytest.mark.parametrize("what, mine, theirs", [
    ("shape", np.ones(3), np.ones(4)),
    ("dtype", np.ones(3), np.ones(3, np.float32)),
])
def test_ranks_that_reduce_different_buffers_all_raise_naming_the_first_difference(ranks, what, mine, theirs):
    """A shape or dtype that differs between ranks raises on every rank before anything
    is written, naming rank 0's value and the other rank's."""
    bufs = [mine.copy(), mine.copy(), theirs.copy()]

    def rank(r):
        with pytest.raises(ValueError, match="the ranks disagree on what they reduce") as info:
            dist.all_reduce(bufs[r])
        return str(info.value)

    for msg in ranks(3, rank):
        assert f"rank 0 has {what} " in msg and "where rank 2 has" in msg
        assert f"{what} {getattr(theirs, what)}" in msg and f"{what} {getattr(mine, what)}" in msg
    for b, orig in zip(bufs, (mine, mine, theirs)):
        np.testing.assert_array_equal(b, orig)


def test_agree_names_a_missing_entry_as_nothing(ranks):
    """A rank whose signature is shorter has "nothing" where the others have an entry."""
    sigs = [["a", "b"], ["a"]]

    def rank(r):
        with pytest.raises(ValueError) as info:
            dist.agree("test", sigs[r], "the things")
        return str(info.value)

    for msg in ranks(2, rank):
        assert "the ranks disagree on the things: rank 0 has b where rank 1 has nothing" in msg


@pytest.mark.parametrize("src", [0, 2])
def test_broadcast_copies_the_source_ranks_tensor_into_every_rank(ranks, src):
    def rank(r):
        t = tg.tensor(np.full(4, float(r + 10)))
        v = t._version
        assert dist.broadcast(t, src=src) is t
        dist.barrier()
        return t.numpy(), t._version > v

    for values, bumped in ranks(3, rank):
        np.testing.assert_array_equal(values, np.full(4, src + 10.0))
        assert bumped


def test_broadcast_from_a_rank_outside_the_world_is_refused(ranks):
    def rank(r):
        for bad in (-1, 2):
            with pytest.raises(ValueError, match=r"src must be a rank in \[0, 2\)"):
                dist.broadcast(np.ones(2), src=bad)

    ranks(2, rank)


class _Never:
    def Test(self):
        return False


class _ReadyAfter:
    """A request that completes on its ``n``-th Test(), or once ``seconds`` have passed."""

    def __init__(self, n=None, seconds=None):
        self.n, self.tests, self.start, self.seconds = n, 0, dist.time.monotonic(), seconds

    def Test(self):
        self.tests += 1
        if self.seconds is not None:
            return dist.time.monotonic() - self.start > self.seconds
        return self.tests >= self.n


@pytest.mark.parametrize("request_", [_ReadyAfter(n=1), _ReadyAfter(n=3), _ReadyAfter(seconds=0.02)],
                         ids=["at-once", "third-poll", "after-the-busy-polls"])
def test_a_collective_waits_until_its_request_completes(monkeypatch, request_):
    """_wait returns once the request completes, however many polls (and sleeps
    between them) that takes, well within the timeout, and polls no further."""
    monkeypatch.setattr(dist, "COLLECTIVE_TIMEOUT", 60.0)
    request_.start = dist.time.monotonic()
    dist._wait(request_, "test")
    if request_.n is not None:
        assert request_.tests == request_.n


def test_a_collective_that_never_completes_raises_after_the_timeout(monkeypatch):
    comm = ThreadRanks(2)
    comm.local.rank = 1
    monkeypatch.setattr(dist, "_COMM", comm)
    monkeypatch.setattr(dist, "COLLECTIVE_TIMEOUT", 0.01)
    with pytest.raises(RuntimeError, match="all_reduce: rank 1 of 2 waited 0.01 s for the other ranks"):
        dist._wait(_Never(), "all_reduce")


# ------------------------------------------------------------------ the sampler and the failure hooks


@pytest.mark.parametrize("bad_rank", [-1, 3, 4])
def test_the_sampler_refuses_a_rank_outside_the_replicas(bad_rank):
    with pytest.raises(ValueError, match=rf"rank {bad_rank} is not in \[0, 3\)"):
        dist.DistributedSampler(list(range(10)), num_replicas=3, rank=bad_rank)


class _AbortRecorder:
    def __init__(self, rank=1, size=2):
        self.codes, self.rank, self.size = [], rank, size

    def Abort(self, code):
        self.codes.append(code)

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return self.size


@pytest.mark.parametrize("var", ["PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"])
def test_a_rank_failing_before_init_reports_itself_and_aborts_with_code_1(monkeypatch, capsys, var):
    """Before init(), an uncaught exception on a launched rank prints the usual
    traceback (the previous hook), names the rank from the launcher's environment
    and aborts the job with exit code 1."""
    for v in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        monkeypatch.delenv(v, raising=False)
    monkeypatch.setenv(var, "3")
    world = _AbortRecorder()
    seen = []
    monkeypatch.setattr(dist, "_mpi", lambda: SimpleNamespace(COMM_WORLD=world))
    monkeypatch.setattr(dist, "_previous_hook", lambda *a: seen.append(a[0]))
    monkeypatch.setattr(dist.time, "sleep", lambda s: None)
    dist._abort_before_init(KeyError, KeyError("x"), None)
    assert seen == [KeyError] and world.codes == [1]
    assert "distributed: rank 3 failed with KeyError before init(); aborting the other ranks" in capsys.readouterr().err


def test_no_launcher_rank_without_a_numeric_environment_variable(monkeypatch):
    for v in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"):
        monkeypatch.delenv(v, raising=False)
    assert dist._launched_rank() is None
    monkeypatch.setenv("PMIX_RANK", "x1")
    assert dist._launched_rank() is None
    monkeypatch.setenv("OMPI_COMM_WORLD_RANK", "0")
    assert dist._launched_rank() == 0


def test_init_installs_a_hook_that_reports_the_rank_and_aborts_with_code_1(monkeypatch, capsys):
    import sys

    comm = _AbortRecorder(rank=1, size=4)
    seen = []
    monkeypatch.setattr(dist, "_COMM", None)
    monkeypatch.setattr(dist, "_mpi", lambda: SimpleNamespace(COMM_WORLD=comm))
    monkeypatch.setattr(sys, "excepthook", lambda *a: seen.append(a[0]))
    monkeypatch.setattr(dist.time, "sleep", lambda s: None)
    assert dist.init() == 1 and dist.is_initialized()
    assert dist.init() == 1  # a second call keeps the same communicator and hook
    sys.excepthook(ZeroDivisionError, ZeroDivisionError(), None)
    assert seen == [ZeroDivisionError] and comm.codes == [1]
    assert "distributed: rank 1 of 4 failed with ZeroDivisionError; aborting the other ranks" in capsys.readouterr().err


def test_collectives_take_contiguous_cpu_tensors_and_arrays_only(ranks):
    """all_reduce and broadcast write into the buffer itself, so they refuse a
    non-contiguous array and anything that is not a tensor or an array, unchanged."""
    def rank(r):
        strided = np.arange(8.0)[::2]
        for op in (dist.all_reduce, dist.broadcast):
            with pytest.raises(ValueError, match="the buffer must be contiguous"):
                op(strided)
            with pytest.raises(TypeError, match="expected a Tensor or a NumPy array, got list"):
                op([1.0, 2.0])
        np.testing.assert_array_equal(strided, [0.0, 2.0, 4.0, 6.0])
        t = tg.tensor(np.ones((2, 3)))
        return dist.all_reduce(t.contiguous()).numpy()

    for out in ranks(2, rank):
        np.testing.assert_array_equal(out, np.full((2, 3), 2.0))


def test_the_sampler_starts_at_epoch_0_and_shuffles_with_seed_plus_epoch():
    """Before any set_epoch the sampler is at epoch 0: its order is that of set_epoch(0),
    the permutation of NumPy's default_rng(seed + epoch) dealt out rank by rank."""
    n, replicas, seed = 11, 3, 7
    for rank in range(replicas):
        fresh = dist.DistributedSampler(list(range(n)), num_replicas=replicas, rank=rank, seed=seed)
        first = list(fresh)
        fresh.set_epoch(0)
        assert list(fresh) == first
        for epoch in (0, 1, 5):
            fresh.set_epoch(epoch)
            order = np.random.default_rng(seed + epoch).permutation(n)
            padded = np.concatenate([order, order[:replicas * 4 - n]])
            assert list(fresh) == padded[rank::replicas].tolist()


def test_a_job_of_one_rank_reduces_and_broadcasts_to_itself(ranks):
    """With one rank the sum, the mean and the broadcast leave every buffer as it was."""
    def rank(r):
        a, b, c = np.arange(4.0), tg.tensor(np.arange(3.0)), np.arange(5.0)
        dist.all_reduce(a)
        dist.all_reduce(b, op="mean")
        dist.broadcast(c)
        return a, b.numpy(), c

    (a, b, c), = ranks(1, rank)
    np.testing.assert_array_equal(a, np.arange(4.0))
    np.testing.assert_array_equal(b, np.arange(3.0))
    np.testing.assert_array_equal(c, np.arange(5.0))


def test_ddp_averages_each_pass_and_counts_a_parameter_a_rank_did_not_use_as_zero(ranks):
    """Two passes of DistributedDataParallel on 2 ranks. In the first, rank 1 does
    not use the second layer, so its .grad stays None there until the average
    (this pass's mean over the ranks, rank 1's part zero) sets it; in the second
    pass every rank uses both layers, and .grad accumulates: it holds the first
    average plus the second, on every rank alike."""
    size = 2
    rng = np.random.default_rng(7)
    xs = [[rng.standard_normal((4, 3)) for _ in range(2)] for _ in range(size)]
    w1, w2 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))

    def local_grads(x, both):
        """This rank's gradients of one pass, eagerly and alone (no averaging)."""
        a, b = tg.tensor(w1, requires_grad=True), tg.tensor(w2, requires_grad=True)
        h = tg.tensor(x) @ a
        (((h @ b) if both else h) ** 2).sum().backward()
        return a.grad.numpy(), (b.grad.numpy() if both else np.zeros_like(w2))

    def body(r):
        model = tg.nn.Module()
        model.a, model.b = tg.nn.Parameter(tg.tensor(w1)), tg.nn.Parameter(tg.tensor(w2))
        ddp = tg.nn.parallel.DistributedDataParallel(model)
        seen = []
        for step, x in enumerate(xs[r]):
            both = r == 0 or step == 1
            h = tg.tensor(x) @ ddp.module.a
            (((h @ ddp.module.b) if both else h) ** 2).sum().backward()
            seen.append((model.a.grad.numpy().copy(), model.b.grad.numpy().copy()))
        return seen

    got = ranks(size, body)
    first = [local_grads(xs[r][0], r == 0) for r in range(size)]
    second = [local_grads(xs[r][1], True) for r in range(size)]
    for p in range(2):
        mean1 = (first[0][p] + first[1][p]) / size
        mean2 = (second[0][p] + second[1][p]) / size
        for r in range(size):
            np.testing.assert_allclose(got[r][0][p], mean1, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(got[r][1][p], mean1 + mean2, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bucket_bytes, buckets", [
    (40, [5, 4]),  # 3 + 2 values are 40 bytes: that bucket is full, the 4 left go in the last
    (42, [9]),  # 40 bytes are not 42: all nine in one
    (25, [5, 4]),  # 3 values are 24 bytes, not 25
    (17, [3, 6]),  # each bucket counted from empty: 3 values fill one, 2 do not
    (8, [3, 2, 4]),  # every parameter fills a bucket of its own
    (1 << 20, [9]),
])
def test_gradients_go_in_float64_buckets_of_bucket_bytes_in_parameter_order(ranks, monkeypatch, bucket_bytes,
                                                                             buckets):
    """average_in_buckets packs the parameters in their order into flat float64 buffers
    (8 bytes a value), closing one as soon as it holds bucket_bytes; each parameter's
    .grad then holds the mean over the ranks in place of this rank's contribution (set,
    in the parameter's dtype, where .grad was None; a missing contribution is zero)."""
    from tinygrad_bn.distributed import buckets as bucketing
    reduced = []
    original = bucketing.sum_in_place

    def counting(who, buf):
        if dist.rank() == 0:
            reduced.append((who, buf.dtype, buf.size))
        original(who, buf)

    monkeypatch.setattr(bucketing, "sum_in_place", counting)
    size = 2
    contribution = {0: [np.array([1.0, 2.0, 3.0]), np.array([4.0, -4.0]), np.array([[1.0, 0.0], [2.0, 8.0]])],
                    1: [np.array([3.0, 6.0, 9.0]), None, np.array([[-1.0, 2.0], [0.0, 0.5]])]}
    earlier = np.array([[10.0, 20.0], [30.0, 40.0]])  # what .grad held before this pass

    def body(r):
        params = [tg.nn.Parameter(tg.zeros(3)), tg.nn.Parameter(tg.zeros(2, dtype=tg.float64)),
                  tg.nn.Parameter(tg.zeros(2, 2))]
        mine = contribution[r]
        params[1].grad = tg.tensor(np.array([0.5, 0.5]) + (mine[1] if mine[1] is not None else 0.0))
        params[2].grad = tg.tensor((earlier + mine[2]).astype(np.float32))
        seen = {id(p): g for p, g in zip(params, mine) if g is not None}
        bucketing.average_in_buckets(params, seen, bucket_bytes)
        return [(p.grad.dtype, p.grad.numpy()) for p in params]

    results = ranks(size, body)
    assert reduced == [("DistributedDataParallel", np.float64, n) for n in buckets]
    for grads in results:
        (d0, g0), (d1, g1), (d2, g2) = grads
        assert (d0, d1, d2) == (tg.float32, tg.float64, tg.float32)
        np.testing.assert_array_equal(g0, [2.0, 4.0, 6.0])
        np.testing.assert_array_equal(g1, [0.5 + 2.0, 0.5 - 2.0])
        np.testing.assert_array_equal(g2, earlier + [[0.0, 1.0], [1.0, 4.25]])
