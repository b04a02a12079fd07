"""Run under mpiexec -n 2 with one scenario name: ranks that disagree, each of
which must end with a clear error on the ranks (or, for the last three, give
the one-process result); never hang. Rank 0 prints "ok <scenario>" when a
scenario that must pass passed."""
import sys

import numpy as np

import tinygrad_bn as tg
import tinygrad_bn.distributed as dist
from tinygrad_bn import nn

scenario = sys.argv[1]
if scenario == "fail_before_init":
    if dist._launched_rank() == 1:
        raise RuntimeError("planted failure before init on rank 1")
    dist.init()
    dist.all_reduce(np.ones(3))
    print("rank 0 passed the all-reduce: the job did not abort")
    sys.exit(0)

rank = dist.init()
tg.manual_seed(0)

if scenario == "ddp_extra_layer":
    layers = [nn.Linear(4, 3)] + ([nn.Linear(3, 3)] if rank == 1 else [])
    nn.parallel.DistributedDataParallel(nn.Sequential(*layers))
elif scenario == "ddp_transposed":
    nn.parallel.DistributedDataParallel(nn.Linear(4, 3) if rank == 0 else nn.Linear(3, 4))
elif scenario == "all_reduce_shapes":
    dist.all_reduce(np.ones((2, 3)) if rank == 0 else np.ones((3, 2)))
elif scenario in ("syncbn_train_and_eval", "syncbn_eval_and_train"):
    layer = nn.SyncBatchNorm(3)
    if rank == (1 if scenario == "syncbn_train_and_eval" else 0):
        layer.eval()
    layer(tg.randn(4, 3))
    dist.barrier()  # (the rank in eval mode may pass it: MPI pairs it with the other's all-reduce)
elif scenario == "syncbn_eval_rank_goes_on_to_backward":
    # the rank in eval mode reaches DDP's gradient all-reduce while the other is in SyncBatchNorm's
    model = nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(4, 3), nn.SyncBatchNorm(3)))
    if rank == 1:
        model.eval()
    model(tg.randn(6, 4)).sum().backward()
elif scenario == "all_reduce_int_mean":
    values = np.arange(3)
    try:
        dist.all_reduce(values, op="mean")
    except TypeError:
        assert values.tolist() == [0, 1, 2], values  # refused before anything was written
        if rank == 0:
            print("ok all_reduce_int_mean")
elif scenario == "ddp_weight_used_twice":
    w_np = np.array([[0.5, -1.0], [2.0, 0.25]])
    x = np.arange(8.0).reshape(4, 2) / 4 - 0.5
    model = nn.parallel.DistributedDataParallel(nn.Linear(2, 2, bias=False).double())
    model.module.weight.data = tg.tensor(w_np)
    xs = tg.tensor(x[rank * 2:(rank + 1) * 2])
    (model(model(xs)) ** 2).sum().backward()  # the weight is used twice in one pass
    single = nn.Linear(2, 2, bias=False).double()
    single.weight.data = tg.tensor(w_np)
    (single(single(tg.tensor(x))) ** 2).sum().backward()
    got, want = model.module.weight.grad.numpy(), single.weight.grad.numpy() / 2  # DDP averages over 2 ranks
    assert np.allclose(got, want, atol=1e-12), (got, want)
    if rank == 0:
        print("ok ddp_weight_used_twice")
elif scenario == "ddp_after_a_failed_backward":
    model = nn.parallel.DistributedDataParallel(nn.Linear(2, 1).double())
    boom = model.module.bias.register_hook(lambda g: (_ for _ in ()).throw(RuntimeError("planted")))
    try:
        (model(tg.tensor(np.ones((2, 2)) * (rank + 1))) ** 2).sum().backward()
    except RuntimeError:
        pass
    boom.remove()
    model.module.weight.grad = model.module.bias.grad = None
    (model(tg.tensor(np.ones((2, 2)) * (rank + 1))) ** 2).sum().backward()
    grads = np.concatenate([model.module.weight.grad.numpy().ravel(), model.module.bias.grad.numpy()])
    everyone = grads.copy()
    dist.all_reduce(everyone)
    assert np.allclose(everyone / 2, grads), "the ranks' gradients differ: this pass was not averaged"
    if rank == 0:
        print("ok ddp_after_a_failed_backward")
else:
    raise SystemExit(f"unknown scenario {scenario!r}")
