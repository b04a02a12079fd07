"""Time per training step of SimpleNet (784-64-ReLU-128-ReLU-10) and
SimpleNetBN (BatchNorm1d after each hidden Linear), SGD with momentum, cross
entropy, at batch 64, 256 and 1024; and the same models in PyTorch when it is
installed, measured side by side in the same process.

    python benchmarks/bench_train.py [--steps 300] [--repeats 7] [--batches 64 256 1024]

Each figure is the median over ``repeats`` rounds of the mean step time of
``steps`` steps; rounds of the two frameworks alternate so load on the machine
hits both alike.
"""
import argparse
import statistics
import time

import numpy as np

try:  # before tinygrad_bn, so PyTorch's OpenMP keeps its own default wait policy
    import torch
except ImportError:
    torch = None

import tinygrad_bn as tg  # noqa: E402
from mlp_steps import ours_step, torch_step  # noqa: E402


def time_round(step, steps):
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024])
    ap.add_argument("--models", nargs="+", default=["simplenet", "simplenet-bn"])
    args = ap.parse_args()

    rng = np.random.default_rng(0)
    x = rng.standard_normal((max(args.batches), 784)).astype(np.float32)
    y = rng.integers(0, 10, max(args.batches)).astype(np.int64)
    if torch is not None:
        torch_version = torch.__version__
        threads = torch.get_num_threads()
    print("training step (forward, cross entropy, backward, SGD momentum), float32; "
          f"tinygrad_bn threads: {tg.get_num_threads()}")
    if torch is None:
        print("PyTorch is not installed: showing tinygrad_bn only (pip install torch==2.13.0 to compare)")
    else:
        print(f"PyTorch {torch_version} with {threads} threads, in the same process")
    header = f"{'model':<13} {'batch':>6} {'tinygrad_bn (us)':>17} {'PyTorch (us)':>13} {'ours / torch':>13}"
    print(header)
    print("-" * len(header))
    for model_name, batch in [(m, b) for m in args.models for b in args.batches]:
        ours = ours_step(model_name, x[:batch], y[:batch])
        theirs = torch_step(model_name, x[:batch], y[:batch]) if torch is not None else None
        for _ in range(30):  # warm up: JIT, allocator, BLAS threads
            ours()
            if theirs:
                theirs()
        t_ours, t_torch = [], []
        for _ in range(args.repeats):
            t_ours.append(time_round(ours, args.steps))
            if theirs:
                t_torch.append(time_round(theirs, args.steps))
        mo = statistics.median(t_ours) * 1e6
        if theirs:
            mt = statistics.median(t_torch) * 1e6
            print(f"{model_name:<13} {batch:>6} {mo:>17.1f} {mt:>13.1f} {mo / mt:>13.2f}", flush=True)
        else:
            print(f"{model_name:<13} {batch:>6} {mo:>17.1f} {'-':>13} {'-':>13}", flush=True)


if __name__ == "__main__":
    main()
