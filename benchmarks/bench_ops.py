"""Python overhead per op: microseconds for one (4, 4) float32 add, relu and
matmul, without grad, recorded on the tape, and forward + backward; beside NumPy
alone (the array math with no framework around it) and PyTorch when installed.

    python benchmarks/bench_ops.py [--iters 2000] [--repeats 7]

At this size the array math is well under a microsecond, so the table measures
what the framework adds per op. One thread everywhere (set before NumPy, Numba
and PyTorch load), every figure the median over ``repeats`` rounds, and the
contenders interleaved within each round so load on the machine hits all alike.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import tinygrad_bn as tg  # noqa: E402

OPS = {
    "add": (lambda a, b: a + b, np.add),
    "relu": (lambda a, b: a.relu(), lambda a, b: np.maximum(a, 0)),
    "matmul": (lambda a, b: a @ b, np.matmul),
}
MODES = ("no grad", "recorded", "fwd+bwd")


def framework_case(fn, make, ones, mode, a_np, b_np):
    """A call of ``fn`` on two (4, 4) tensors built by ``make(array, requires_grad)``:
    forward only, or forward and backward with fresh leaf gradients each time."""
    needs = mode != "no grad"
    a, b = make(a_np, needs), make(b_np, needs)
    if mode == "fwd+bwd":
        def run():
            a.grad = b.grad = None
            fn(a, b).backward(ones)
    else:
        def run():
            fn(a, b)
    return run


def ours(op, mode, a_np, b_np):
    return framework_case(OPS[op][0], lambda x, rg: tg.tensor(x, requires_grad=rg), tg.ones(4, 4),
                          mode, a_np, b_np)


def torch_case(op, mode, a_np, b_np):
    import torch

    fn = {"add": lambda a, b: a + b, "relu": lambda a, b: torch.relu(a), "matmul": lambda a, b: a @ b}[op]
    return framework_case(fn, lambda x, rg: torch.tensor(x, requires_grad=rg), torch.ones(4, 4),
                          mode, a_np, b_np)


def numpy_case(op, a_np, b_np):
    fn = OPS[op][1]

    def run():
        fn(a_np, b_np)
    return run


def time_us(run, iters):
    t0 = time.perf_counter()
    for _ in range(iters):
        run()
    return (time.perf_counter() - t0) / iters * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iters", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
        have_torch = True
    except ImportError:
        have_torch = False
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((4, 4)).astype(np.float32)
    b_np = rng.standard_normal((4, 4)).astype(np.float32)

    cases = {}
    for op in OPS:
        for mode in MODES:
            cases[(op, mode, "ours")] = ours(op, mode, a_np, b_np)
            if have_torch:
                cases[(op, mode, "torch")] = torch_case(op, mode, a_np, b_np)
        cases[(op, "no grad", "numpy")] = numpy_case(op, a_np, b_np)
    times = {k: [] for k in cases}
    for run in cases.values():  # warm up: compile, allocate, fill caches
        time_us(run, 200)
    for _ in range(args.repeats):
        for key, run in cases.items():
            times[key].append(time_us(run, args.iters))
    med = {k: statistics.median(v) for k, v in times.items()}

    print(f"(4, 4) float32, one thread, median of {args.repeats} rounds of {args.iters} calls, µs per call")
    head = f"{'op':<7} {'mode':<9} {'NumPy':>7} {'ours':>7} {'PyTorch':>8} {'ours/torch':>11}"
    print(head)
    print("-" * len(head))
    for op in OPS:
        for mode in MODES:
            npy = med.get((op, mode, "numpy"))
            mine = med[(op, mode, "ours")]
            theirs = med.get((op, mode, "torch"))
            print(f"{op:<7} {mode:<9} {'-' if npy is None else f'{npy:.2f}':>7} {mine:>7.2f} "
                  f"{'-' if theirs is None else f'{theirs:.2f}':>8} "
                  f"{'-' if theirs is None else f'{mine / theirs:.2f}':>11}")
    if not have_torch:
        print("PyTorch is not installed: pip install torch==2.13.0 to compare")


if __name__ == "__main__":
    main()
