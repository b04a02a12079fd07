"""Cost of recording: a SimpleNetBN training step with no Tape open, and with a
Tape capturing it (with and without activation statistics); per-op overhead;
and the memory one Tape holds when it stays open over many steps (a new input
batch each step: the Tape keeps shapes and statistics, not the arrays).

    python benchmarks/bench_tape.py [--steps 200] [--repeats 7] [--open-steps 2000]
"""
import argparse
import statistics
import time
import tracemalloc

import numpy as np

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.models import SimpleNetBN


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--open-steps", type=int, default=2000)
    args = ap.parse_args()
    tg.manual_seed(0)
    rng = np.random.default_rng(0)
    x = tg.tensor(rng.standard_normal((args.batch, 784)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, args.batch))
    model = SimpleNetBN()
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step(mode):
        opt.zero_grad()
        if mode == "off":
            loss = loss_fn(model(x), y)
        else:
            with tg.Tape(activation_stats=(mode == "on+stats")) as tape:
                loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    modes = ["off", "on", "on+stats"]
    for m in modes:
        for _ in range(20):
            step(m)
    with tg.Tape() as tape:
        loss_fn(model(x), y)
    n_ops = len(tape)
    times = {m: [] for m in modes}
    for _ in range(args.repeats):
        for m in modes:
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step(m)
            times[m].append((time.perf_counter() - t0) / args.steps)
    base = statistics.median(times["off"])
    print(f"SimpleNetBN training step, batch {args.batch}, {n_ops} ops recorded per step; "
          f"median of {args.repeats} rounds of {args.steps} steps")
    print(f"{'capture':>10} {'step (us)':>10} {'overhead (us)':>14} {'per op (us)':>12}")
    for m in modes:
        med = statistics.median(times[m]) * 1e6
        extra = med - base * 1e6
        print(f"{m:>10} {med:>10.1f} {extra:>14.1f} {extra / n_ops:>12.1f}")

    # memory: one Tape open over many steps, each on a fresh batch
    batches = [tg.tensor(rng.standard_normal((args.batch, 784)).astype(np.float32)) for _ in range(2)]
    tracemalloc.start()
    with tg.Tape() as tape:
        start = tracemalloc.get_traced_memory()[0]
        for i in range(args.open_steps):
            opt.zero_grad()
            xb = tg.tensor(batches[i % 2].numpy().copy())  # a new array each step, as a loader gives
            loss_fn(model(xb), y).backward()
            opt.step()
        grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    batch_bytes = args.batch * 784 * 4
    print(f"\nTape open over {args.open_steps} steps ({len(tape)} records): +{grown / 2**20:.1f} MB, "
          f"{grown / len(tape):.0f} bytes per record; the batches it saw total "
          f"{args.open_steps * batch_bytes / 2**20:.0f} MB and none is kept")


if __name__ == "__main__":
    main()
