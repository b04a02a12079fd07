"""Where the host's time goes in a CUDA normalization call: on a GPU, a call
whose kernels finish sooner than Python can launch them costs its host time.

    python benchmarks/profile_cuda_launch.py [--calls 200]

Prints, for batch and layer norm forward and backward at (4096, 1024): the
host time per call (no waiting for the GPU inside the loop) and the time per
call with the GPU's work included; the cost of the launch pieces (wrapping a
CuPy array for Numba, launching an empty kernel through Numba's dispatcher
with CuPy arrays and with pre-wrapped arrays); and the functions with the most
own time under cProfile for a batch norm forward loop and for SimpleNetBN
training steps at batch 64.
"""
import argparse
import cProfile
import pstats
import sys
import time

import numpy as np

import kernels.cuda._common as kc
from kernels.cuda import batchnorm, layernorm

EPS = 1e-5


def per_call(fn, calls, sync):
    for _ in range(5):
        fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    host = (time.perf_counter() - t0) / calls
    sync()
    total = (time.perf_counter() - t0) / calls
    return host, total


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args(argv)
    if kc.simulator():
        sys.exit("profile_cuda_launch.py times launches on a GPU; the simulator has none")
    import cupy as cp
    from numba import cuda
    sync = cp.cuda.get_current_stream().synchronize
    rng = np.random.default_rng(0)
    x = cp.asarray(rng.standard_normal((4096, 1024), dtype=np.float32))
    dy = cp.asarray(rng.standard_normal((4096, 1024), dtype=np.float32))
    w = cp.asarray(rng.standard_normal(1024, dtype=np.float32))
    b = cp.asarray(rng.standard_normal(1024, dtype=np.float32))
    _, mean, _, invstd = batchnorm.forward_train(x, w, b, EPS)
    _, lmean, linvstd = layernorm.forward(x, w, b, EPS, 1)
    calls = {
        "batch forward": lambda: batchnorm.forward_train(x, w, b, EPS),
        "batch backward": lambda: batchnorm.backward(x, dy, mean, invstd, w, True),
        "layer forward": lambda: layernorm.forward(x, w, b, EPS, 1),
        "layer backward": lambda: layernorm.backward(x, dy, lmean, linvstd, w, 1),
    }
    print(f"{'call at (4096, 1024)':<24} {'host us':>9} {'with GPU us':>12}")
    for name, fn in calls.items():
        host, total = per_call(fn, args.calls, sync)
        print(f"{name:<24} {host * 1e6:>9.1f} {total * 1e6:>12.1f}", flush=True)

    @cuda.jit
    def empty(a, b, c, d, e, f, n):
        pass

    arrays = [x, dy, w, b, mean, invstd]
    wrapped = [cuda.as_cuda_array(a, sync=False) for a in arrays]
    stream = kc._current_stream()
    empty[1, 32, stream](*wrapped, 7)
    pieces = {
        "as_cuda_array, one array": lambda: cuda.as_cuda_array(x, sync=False),
        "empty kernel, CuPy args": lambda: kc.launch(empty, 1, 32, *arrays, 7),
        "empty kernel, wrapped": lambda: empty[1, 32, stream](*wrapped, 7),
        "cupy.empty(4096)": lambda: cp.empty(4096, np.float64),
        "cupy elementwise x + 1": lambda: x + 1,
    }
    print(f"\n{'piece':<28} {'host us':>9}")
    for name, fn in pieces.items():
        host, _ = per_call(fn, args.calls, sync)
        print(f"{name:<28} {host * 1e6:>9.1f}", flush=True)

    prof = cProfile.Profile()
    fn = calls["batch forward"]
    prof.enable()
    for _ in range(50):
        fn()
    sync()
    prof.disable()
    print("\ncProfile, 50 batch norm forward calls, by own time:")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(22)

    from mlp_steps import ours_step
    xb = rng.standard_normal((64, 784), dtype=np.float32)
    yb = rng.integers(0, 10, 64)
    step = ours_step("simplenet-bn", xb, yb, "cuda")
    for _ in range(5):
        step().item()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(50):
        step().item()
    prof.disable()
    print(f"\ncProfile, 50 SimpleNetBN training steps at batch 64 ({(time.perf_counter() - t0) / 50 * 1e3:.2f} ms "
          "a step under the profiler), by own time:")
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
