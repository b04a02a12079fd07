"""Data-parallel training steps per second on 1 and 2 MPI processes, and the
time each step spends in all-reduces.

    python benchmarks/bench_distributed.py [--steps 60] [--rounds 3] [--procs 1 2] [--threads one default both]

Each cell starts ``mpiexec -n P`` fresh and times ``steps`` training steps of
SimpleNetBN (SyncBatchNorm, DistributedDataParallel, SGD with momentum) at a
global batch B (B / P samples per process) after a few warm-up steps, with
NUMBA_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1 in every process ("one": P
processes use P cores) or with no thread variables ("default"); the table gives the median over ``rounds`` of steps per second and
of the all-reduce milliseconds per step (gradient buckets plus SyncBatchNorm's
statistics), measured on rank 0. The processes of a round run back to back, so
a burst of load on a shared machine hits them alike.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def worker(batch, steps, warmup=5):
    import numpy as np

    import tinygrad_bn as tg
    import tinygrad_bn.distributed as dist
    from tinygrad_bn import nn, optim
    from tinygrad_bn.distributed import buckets, syncbn
    from tinygrad_bn.models import SimpleNetBN

    rank = dist.init()
    world = dist.world_size()
    spent = [0.0]

    def timed(fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0
        return wrapper
    buckets.average_in_buckets = timed(buckets.average_in_buckets)
    syncbn._allreduce = timed(syncbn._allreduce)

    tg.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(nn.SyncBatchNorm.convert_sync_batchnorm(SimpleNetBN()))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(rank)
    local = batch // world
    x = tg.tensor(rng.standard_normal((local, 784)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, local))
    loss_fn = nn.CrossEntropyLoss()
    for i in range(warmup + steps):
        if i == warmup:
            dist.barrier()
            spent[0] = 0.0
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
    seconds = time.perf_counter() - t0
    if rank == 0:
        print(json.dumps({"steps_per_s": steps / seconds, "allreduce_ms": 1e3 * spent[0] / steps}))


def cell(procs, batch, steps, threads):
    env = dict(os.environ)
    for name in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env.pop(name, None)
        if threads == "one":
            env[name] = "1"
    mpiexec = Path(sys.executable).parent / "mpiexec"
    run = subprocess.run([str(mpiexec) if mpiexec.exists() else "mpiexec", "-n", str(procs), sys.executable,
                          str(HERE), "--worker", "--batch", str(batch), "--steps", str(steps)],
                         capture_output=True, text=True, env=env, timeout=600)
    if run.returncode:
        raise SystemExit(run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=60)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    p.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    p.add_argument("--threads", choices=["one", "default", "both"], default="both")
    p.add_argument("--worker", action="store_true")
    p.add_argument("--batch", type=int, default=64)
    args = p.parse_args()
    if args.worker:
        return worker(args.batch, args.steps)
    settings = ["one", "default"] if args.threads == "both" else [args.threads]
    results = {}
    for _ in range(args.rounds):
        for batch in args.batches:
            for threads in settings:
                for procs in args.procs:
                    results.setdefault((batch, threads, procs), []).append(cell(procs, batch, args.steps, threads))
    print(f"SimpleNetBN, SyncBatchNorm + DDP, {args.steps} steps, median of {args.rounds} rounds")
    print(f"{'global batch':>12} {'threads':>8} {'processes':>9} {'steps/s':>9} {'vs 1 proc':>9} "
          f"{'all-reduce ms/step':>19}")
    for batch in args.batches:
        for threads in settings:
            base = statistics.median(r["steps_per_s"] for r in results[(batch, threads, args.procs[0])])
            for procs in args.procs:
                rs = results[(batch, threads, procs)]
                sps = statistics.median(r["steps_per_s"] for r in rs)
                ms = statistics.median(r["allreduce_ms"] for r in rs)
                print(f"{batch:>12} {threads:>8} {procs:>9} {sps:>9.1f} {sps / base:>8.2f}x {ms:>19.3f}")


if __name__ == "__main__":
    main()
