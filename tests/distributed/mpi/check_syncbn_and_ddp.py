"""Run under mpiexec -n N (by tests/distributed/test_distributed.py): SyncBatchNorm and
DistributedDataParallel against one process on the whole batch, in float64.
Rank 0 prints one line of JSON with the largest differences; any failed check
raises, and the excepthook of distributed.init aborts the job."""
import json
import sys

import numpy as np

import tinygrad_bn as tg
import tinygrad_bn.distributed as dist
from tinygrad_bn import nn, optim
from tinygrad_bn.models import SimpleNetBN

rank = dist.init()
world = dist.world_size()
results = {"world": world}


def shard(n, k):
    """Uneven shards on purpose: rank k gets rows bounds[k]:bounds[k+1]."""
    bounds = [n * i // world + (i > 0) * (i % 2) for i in range(world)] + [n]
    return bounds[k], bounds[k + 1]


# ---- SyncBatchNorm on uneven shards against BatchNorm on the concatenated batch
rng = np.random.default_rng(0)
for shape, affine in [((23, 5), True), ((17, 4, 6), True), ((19, 3), False)]:
    x = rng.standard_normal(shape) * 3 + 1
    w_out = rng.standard_normal(shape)
    lo, hi = shard(shape[0], rank)
    ref = nn.BatchNorm1d(shape[1], affine=affine).double()
    sync = nn.SyncBatchNorm(shape[1], affine=affine).double()
    for layer in (ref, sync) if affine else ():
        layer.weight.data = tg.tensor(np.linspace(0.5, 1.5, shape[1]))
        layer.bias.data = tg.tensor(np.linspace(-1, 1, shape[1]))
    xr = tg.tensor(x, requires_grad=True)
    yr = ref(xr)
    (yr * tg.tensor(w_out)).sum().backward()
    xs = tg.tensor(x[lo:hi], requires_grad=True)
    ys = sync(xs)
    (ys * tg.tensor(w_out[lo:hi])).sum().backward()
    diffs = {
        "y": np.abs(ys.detach().numpy() - yr.detach().numpy()[lo:hi]).max() if hi > lo else 0.0,
        "dx": np.abs(xs.grad.numpy() - xr.grad.numpy()[lo:hi]).max() if hi > lo else 0.0,
        "running_mean": np.abs(sync.running_mean.numpy() - ref.running_mean.numpy()).max(),
        "running_var": np.abs(sync.running_var.numpy() - ref.running_var.numpy()).max(),
    }
    if affine:
        gw, gb = sync.weight.grad.numpy().copy(), sync.bias.grad.numpy().copy()
        dist.all_reduce(gw)
        dist.all_reduce(gb)
        diffs["dweight"] = np.abs(gw - ref.weight.grad.numpy()).max()
        diffs["dbias"] = np.abs(gb - ref.bias.grad.numpy()).max()
    worst = np.array([max(diffs.values())])
    dist.all_reduce(worst)  # (a sum over ranks of each rank's worst: an upper bound)
    results[f"syncbn {shape}{'' if affine else ' no affine'}"] = float(worst[0])
    assert worst[0] < 1e-10, (shape, diffs)

# ---- second order: a Hessian-vector product through SyncBatchNorm (create_graph) against
# BatchNorm on the concatenated batch. The total of the ranks' losses is the one process's loss.
for shape in [(23, 5), (17, 4, 6)]:
    x = rng.standard_normal(shape) * 2 - 1
    w_out, v = rng.standard_normal(shape), rng.standard_normal(shape)
    lo, hi = shard(shape[0], rank)
    ref = nn.BatchNorm1d(shape[1]).double()
    sync = nn.SyncBatchNorm(shape[1]).double()
    for layer in (ref, sync):
        layer.weight.data = tg.tensor(np.linspace(0.5, 1.5, shape[1]))

    def hvp(layer, rows):
        xt = tg.tensor(x[rows], requires_grad=True)
        loss = (layer(xt) * tg.tensor(w_out[rows])).tanh().sum()  # curved: a Hessian that is not 0
        gx, gw = tg.grad(loss, [xt, layer.weight], create_graph=True)
        dot = (gx * tg.tensor(v[rows])).sum() + gw.sum()
        hx, hw, hb = tg.grad(dot, [xt, layer.weight, layer.bias])
        return gx.detach().numpy(), hx.numpy(), hw.numpy().copy(), hb.numpy().copy()

    gx_r, hx_r, hw_r, hb_r = hvp(ref, slice(None))
    gx_s, hx_s, hw_s, hb_s = hvp(sync, slice(lo, hi))
    dist.all_reduce(hw_s)  # parameter gradients are this rank's part, as in the first order
    dist.all_reduce(hb_s)
    worst = np.array([max(np.abs(gx_s - gx_r[lo:hi]).max() if hi > lo else 0.0,
                          np.abs(hx_s - hx_r[lo:hi]).max() if hi > lo else 0.0,
                          np.abs(hw_s - hw_r).max(), np.abs(hb_s - hb_r).max())])
    dist.all_reduce(worst)
    results[f"syncbn hvp {shape}"] = float(worst[0])
    assert worst[0] < 1e-10, (shape, worst)

# ---- DDP + SyncBatchNorm for k steps against one process on the global batch
steps, per_rank = 4, 8
data_rng = np.random.default_rng(1)
batches = [(data_rng.standard_normal((per_rank * world, 784)), data_rng.integers(0, 10, per_rank * world))
           for _ in range(steps)]


def train(model, opt, local):
    loss_fn = nn.CrossEntropyLoss()
    for xb, yb in batches:
        if local:
            xb, yb = xb[rank * per_rank:(rank + 1) * per_rank], yb[rank * per_rank:(rank + 1) * per_rank]
        opt.zero_grad()
        loss_fn(model(tg.tensor(xb)), tg.tensor(yb)).backward()
        opt.step()


tg.manual_seed(rank)  # different initial weights per rank: DDP must copy rank 0's
ddp_model = nn.parallel.DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(SimpleNetBN().double()))
train(ddp_model, optim.SGD(ddp_model.parameters(), lr=0.1, momentum=0.9), local=True)
tg.manual_seed(0)
single = SimpleNetBN().double()
train(single, optim.SGD(single.parameters(), lr=0.1, momentum=0.9), local=False)
worst = max(np.abs(a.numpy() - b.numpy()).max()
            for a, b in zip(ddp_model.module.state_dict().values(), single.state_dict().values()))
results["ddp+syncbn weights after 4 steps"] = float(worst)
assert worst < 1e-10, worst

# ---- the sampler gives each rank a disjoint shard covering the data
sampler = dist.DistributedSampler(list(range(10)), shuffle=True, seed=3)
sampler.set_epoch(2)
mine = np.array(list(sampler))
everyone = np.zeros(len(mine) * world, dtype=np.int64)
dist._comm("test").Allgather(mine, everyone)
assert set(everyone.tolist()) == set(range(10)) and len(everyone) == sampler.total_size
results["sampler"] = "ok"

# ---- broadcast copies rank 0's tensor by default (PyTorch's dist.broadcast takes src; ours defaults
# to 0), and any rank's with src
t = tg.tensor([10.0 + rank])
dist.broadcast(t)
from_last = dist.broadcast(tg.tensor([10.0 + rank]), src=world - 1)
assert t.numpy().tolist() == [10.0] and from_last.numpy().tolist() == [10.0 + world - 1], (t, from_last)
results["broadcast"] = "ok"

if rank == 0:
    print(json.dumps(results))
sys.stdout.flush()
