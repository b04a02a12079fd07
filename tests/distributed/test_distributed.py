"""Data-parallel training over MPI: SyncBatchNorm, DistributedDataParallel and
DistributedSampler against one process on the whole batch (mpiexec -n 2 and 3,
float64, 1e-10), a failing rank ending the job instead of hanging, and the
errors and pieces that need no MPI job."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.distributed as dist
from tinygrad_bn.data import DataLoader, TensorDataset

HERE = Path(__file__).resolve().parent
# the processes import this checkout's tinygrad_bn (not another install of it)
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parents[1]), os.environ.get("PYTHONPATH", "")]))


def _mpiexec():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None, "mpi4py is not installed (pip install 'tinygrad_bn[mpi]')"
    exe = Path(sys.executable).parent / "mpiexec"
    exe = str(exe) if exe.exists() else shutil.which("mpiexec")
    if exe is None:
        return None, "no mpiexec on PATH or beside the Python executable"
    probe = subprocess.run([exe, "-n", "2", sys.executable, "-c", "from mpi4py import MPI; MPI.COMM_WORLD.Barrier()"],
                           capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        return None, f"mpiexec -n 2 cannot start here: {probe.stderr.strip()[:200]}"
    return exe, ""


MPIEXEC, WHY_NOT = _mpiexec()
needs_mpi = pytest.mark.skipif(MPIEXEC is None, reason=f"MPI cannot start: {WHY_NOT}")


def _launch(n, script, timeout=240):
    return subprocess.run([MPIEXEC, "-n", str(n), sys.executable, str(HERE / "mpi" / script)],
                          capture_output=True, text=True, timeout=timeout, env=ENV)


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
def test_syncbn_and_ddp_match_one_process_on_the_global_batch(n):
    run = _launch(n, "check_syncbn_and_ddp.py")
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["world"] == n and result["sampler"] == "ok" and result["broadcast"] == "ok"
    assert {"syncbn (23, 5)", "syncbn (17, 4, 6)", "syncbn (19, 3) no affine"} <= set(result)
    for key, worst in result.items():
        if key.startswith(("syncbn", "ddp")):
            assert worst < 1e-10, (key, worst)


_LOADER_SCRIPT = """
import json, sys
import numpy as np
import tinygrad_bn as tg
from tinygrad_bn import distributed as dist
from tinygrad_bn.data import TensorDataset
from tinygrad_bn.models import SimpleNetBN
from tinygrad_bn.train import _distributed_setup
n, batch = int(sys.argv[1]), int(sys.argv[2])
data = TensorDataset(tg.tensor(np.arange(n * 784, dtype=np.float32).reshape(n, 784)), tg.tensor(np.arange(n)))
lines = []
_, _, loader, log, progress = _distributed_setup(SimpleNetBN(), data, batch, 0, lambda *a: lines.append(a), True)
log("after setup")
seen = [yb.numpy().tolist() for _, yb in loader]
with open(f"{sys.argv[3]}/rank{dist.rank()}.json", "w") as f:  # a file each: the ranks' prints interleave
    json.dump({"rank": dist.rank(), "sizes": [len(b) for b in seen], "seen": sorted(sum(seen, [])),
               "logged": len(lines), "progress": progress}, f)
"""


@needs_mpi
@pytest.mark.parametrize("n, batch", [(100, 16), (96, 16)])
def test_each_rank_takes_only_full_batches_and_the_same_number_of_steps(n, batch, tmp_path):
    """A distributed epoch gives every rank batch / world samples a step: a last
    partial batch is dropped on every rank (SyncBatchNorm's statistics and DDP's
    averaged gradients assume one batch size), and the ranks step alike."""
    script = tmp_path / "loader.py"
    script.write_text(_LOADER_SCRIPT)
    run = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(script), str(n), str(batch), str(tmp_path)],
                         capture_output=True, text=True, timeout=120, env=ENV)
    assert run.returncode == 0, run.stderr[-2000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    per_rank = batch // 2
    full = (n // 2) // per_rank  # the sampler gives each rank n / 2 samples
    assert [r["rank"] for r in ranks] == [0, 1]
    # rank 0 alone logs and shows progress (its own line and the caller's later ones)
    assert ranks[0]["logged"] == 2 and ranks[0]["progress"] is True
    assert ranks[1]["logged"] == 0 and ranks[1]["progress"] is False
    for r in ranks:
        assert r["sizes"] == [per_rank] * full, r
    # the two ranks' samples are disjoint: together one epoch's worth, less the dropped ones
    both = ranks[0]["seen"] + ranks[1]["seen"]
    assert len(set(both)) == len(both) == 2 * full * per_rank and set(both) <= set(range(n))


# scenario -> what stderr must say (the job ends with an error), or None (it must pass and print "ok")
DISAGREEMENTS = {
    "fail_before_init": "rank 1 failed with RuntimeError before init()",
    "ddp_extra_layer": "DistributedDataParallel: the ranks disagree on the model: rank 0 has nothing where rank 1 "
                       "has parameter '1.weight'",
    "ddp_transposed": "rank 0 has parameter 'weight' (3, 4) float32 where rank 1 has parameter 'weight' (4, 3)",
    "all_reduce_shapes": "all_reduce: the ranks disagree on what they reduce: rank 0 has shape (2, 3) where rank 1 "
                         "has shape (3, 2)",
    "syncbn_train_and_eval": "SyncBatchNorm: the ranks disagree on training and eval mode: rank 0 in training mode "
                             "reached the all-reduce of the batch statistics but rank 1 did not join it",
    "syncbn_eval_and_train": "SyncBatchNorm: the ranks disagree on training and eval mode: rank 1 in training mode "
                             "reached the all-reduce of the batch statistics but rank 0 did not join it",
    "syncbn_eval_rank_goes_on_to_backward": "SyncBatchNorm: the ranks disagree on training and eval mode: rank 0 "
                                            "in training mode",
    "all_reduce_int_mean": None,
    "ddp_weight_used_twice": None,
    "ddp_after_a_failed_backward": None,
}


@needs_mpi
@pytest.mark.parametrize("scenario", sorted(DISAGREEMENTS))
def test_ranks_that_disagree_end_with_an_error_naming_it_never_a_hang(scenario):
    start = time.perf_counter()
    # a short collective timeout, except where the error must come without one (SyncBatchNorm's modes)
    env = dict(ENV, TINYGRAD_BN_COLLECTIVE_TIMEOUT="300" if scenario.startswith("syncbn") else "3")
    run = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(HERE / "mpi" / "check_disagreements.py"), scenario],
                         capture_output=True, text=True, timeout=120, env=env)
    expected = DISAGREEMENTS[scenario]
    if expected is None:
        assert run.returncode == 0 and f"ok {scenario}" in run.stdout, run.stderr[-2000:]
    else:
        assert run.returncode != 0 and expected in run.stderr, run.stderr[-2000:]
        if scenario == "fail_before_init":  # MPI_Abort(1): an uncaught exception's exit status, as without MPI
            assert run.returncode == 1
        assert "did not abort" not in run.stdout
        assert "waited" not in run.stderr  # named, not a timeout
    assert time.perf_counter() - start < (20 if scenario.startswith("syncbn") else 60)


@needs_mpi
def test_a_rank_that_raises_ends_the_job_instead_of_hanging():
    start = time.perf_counter()
    run = _launch(2, "check_a_failing_rank.py", timeout=60)
    assert run.returncode != 0
    assert "distributed: rank 1 of 2 failed with RuntimeError" in run.stderr
    assert "did not abort" not in run.stdout
    assert time.perf_counter() - start < 30


def test_collectives_before_init_and_without_mpi4py_say_what_to_do(monkeypatch):
    if not dist.is_initialized():
        with pytest.raises(RuntimeError, match=r"call tinygrad_bn.distributed.init\(\) first"):
            dist.all_reduce(np.ones(2))
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist, "_COMM", None)
    with pytest.raises(RuntimeError, match=r"pip install 'tinygrad_bn\[mpi\]'.*mpiexec -n 2"):
        dist.init()


def test_the_sampler_shards_pads_and_reshuffles_like_pytorchs():
    data = list(range(10))
    shards = [list(dist.DistributedSampler(data, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]  # padded from the start to 12
    a = dist.DistributedSampler(data, num_replicas=2, rank=0, seed=5)
    b = dist.DistributedSampler(data, num_replicas=2, rank=1, seed=5)
    first = sorted(list(a) + list(b))
    a.set_epoch(1)
    b.set_epoch(1)
    assert first == sorted(list(a) + list(b)) == data and len(a) == 5
    assert list(dist.DistributedSampler(data, num_replicas=3, rank=2, shuffle=False, drop_last=True)) == [2, 5, 8]
    with pytest.raises(ValueError, match="rank 3 is not in"):
        dist.DistributedSampler(data, num_replicas=3, rank=3)


def test_a_loader_takes_a_sampler_but_not_with_shuffle():
    ds = TensorDataset(np.arange(10.0))
    sampler = dist.DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in DataLoader(ds, batch_size=2, sampler=sampler)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]] and len(DataLoader(ds, batch_size=2, sampler=sampler)) == 3
    with pytest.raises(ValueError, match="sampler and shuffle=True cannot go together"):
        DataLoader(ds, batch_size=2, sampler=sampler, shuffle=True)


def test_sync_batchnorm_outside_a_job_is_batchnorm_and_converts_in_place():
    model = tg.nn.Sequential(tg.nn.Linear(4, 3), tg.nn.BatchNorm1d(3), tg.nn.ReLU())
    weight = model[1].weight
    converted = tg.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    assert isinstance(converted[1], tg.nn.SyncBatchNorm) and converted[1].weight is weight
    x = tg.randn(8, 4)
    tg.manual_seed(0)
    ref = tg.nn.BatchNorm1d(3)
    sync = tg.nn.SyncBatchNorm(3)
    np.testing.assert_array_equal(ref(x[:, :3]).detach().numpy(), sync(x[:, :3]).detach().numpy())


@needs_mpi
def test_distributed_training_from_the_cli_reaches_the_single_process_accuracy(tmp_path):
    from tinygrad_bn.models import SimpleNetBN
    from tinygrad_bn.train import evaluate

    exe = Path(sys.executable).parent / "tinygrad-bn"
    cli = [str(exe)] if exe.exists() else [sys.executable, "-m", "tinygrad_bn.cli"]
    ck = tmp_path / "dist.npz"
    run = subprocess.run([MPIEXEC, "-n", "2", *cli, "train", "--distributed", "--model", "simplenet-bn",
                          "--epochs", "3", "--no-progress", "--checkpoint", str(ck)],
                         capture_output=True, text=True, timeout=300, env=ENV)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.count("distributed: 2 processes, 32 samples each per step") == 1  # rank 0 logs alone
    assert run.stdout.count("weights digest") == 1
    model = SimpleNetBN()
    model.load_state_dict(tg.load(ck))  # the unwrapped model's keys: loads into a plain SimpleNetBN
    _, _, x_test, y_test = tg.data.load_mnist_5k(seed=0)
    assert evaluate(model, x_test, y_test) > 0.9
    bad = subprocess.run([MPIEXEC, "-n", "3", *cli, "train", "--distributed", "--epochs", "1", "--batch-size", "64",
                          "--no-progress", "--checkpoint", str(tmp_path / "x.npz")],
                         capture_output=True, text=True, timeout=120, env=ENV)
    assert bad.returncode != 0 and "must be divisible by the 3 processes" in bad.stderr



class _Request:
    """A nonblocking collective that completes when ``done()`` says so."""

    def __init__(self, done):
        self.Test = done


def test_a_collective_is_polled_before_any_sleep_and_never_slept_on_for_long(monkeypatch):
    # Sleeps of up to 10 ms between polls once made every all-reduce that missed the first
    # polls cost 10-15 ms (2 processes ran 11 steps/s where they run 400): a collective that
    # completes within the first polls must cost no sleep at all, and later sleeps stay short.
    sleeps, polls, clock = [], [], iter(range(10 ** 9))
    # a clock that reads 1 us later each time, whatever the load, and sleeps that only record
    monkeypatch.setattr(dist, "time", SimpleNamespace(sleep=sleeps.append, monotonic=lambda: next(clock) * 1e-6))
    dist._wait(_Request(lambda: polls.append(1) or len(polls) >= 50), "all_reduce")
    assert sleeps == []
    spins = []  # polls made before the first sleep

    def after_40_sleeps():
        if not sleeps:
            spins.append(1)
        return len(sleeps) >= 40
    dist._wait(_Request(after_40_sleeps), "all_reduce")
    assert sleeps[0] == 1e-5 and max(sleeps) == 1e-3
    assert sleeps == sorted(sleeps)  # backing off, never jumping back
    # the poll without sleeping lasts 2 ms of the clock (one read per poll), not longer:
    # a collective that misses it must leave the core to the ranks that share it
    assert 1000 <= len(spins) <= 2000, len(spins)


class _TwoRanks:
    """A communicator of two ranks whose rank 1 passed ``theirs``: what agree() gathers."""

    def __init__(self, theirs):
        self.theirs = theirs

    def Get_size(self):
        return 2

    def Iallgather(self, digest, gathered):
        gathered[0] = digest
        gathered[1] = np.frombuffer(hashlib.sha256(repr(self.theirs).encode()).digest(), dtype=np.uint8)
        return _Request(lambda: True)

    def allgather(self, signature):
        return [signature, self.theirs]


@pytest.mark.parametrize("mine, theirs, says", [
    (["a", "b"], ["a", "c"], "rank 0 has b where rank 1 has c"),
    (["a"] * 300, ["a"] * 300 + ["w"], "rank 0 has nothing where rank 1 has w"),  # past the small ints
    (["a"] * 300 + ["w"], ["a"] * 300, "rank 0 has w where rank 1 has nothing"),
])
def test_agree_names_the_first_difference_from_rank_0(monkeypatch, mine, theirs, says):
    monkeypatch.setattr(dist, "_comm", lambda who: _TwoRanks(theirs))
    with pytest.raises(ValueError, match=f"DDP: the ranks disagree on parameters: {says}; expected the same"):
        dist.agree("DDP", mine, "parameters")
    monkeypatch.setattr(dist, "_comm", lambda who: _TwoRanks(mine))
    dist.agree("DDP", mine, "parameters")  # the same: nothing raised
