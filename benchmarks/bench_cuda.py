"""The CUDA normalization kernels on a GPU: time, effective bandwidth and the
share of the card's copy bandwidth, beside PyTorch's CUDA kernels when PyTorch
with CUDA is installed; then SimpleNetBN training steps per second on the GPU,
ours and PyTorch's.

    python benchmarks/bench_cuda.py [--repeats 20]
    NUMBA_ENABLE_CUDASIM=1 python benchmarks/bench_cuda.py --smoke   # the script itself, tiny, no GPU

Times are medians of ``repeats`` runs measured with CUDA events around each
call (``cupyx.profiler.benchmark``), after warm-up runs that compile and load
the kernels. Effective bandwidth counts the passes over a tensor of x's size
that the textbook kernels need: batch norm forward 3 (read x for statistics,
read x, write y), backward 5 (read x, dy; read x, dy, write dx); layer norm
forward 2, backward 3 (a row is read again from cache). "copy" is the card's
device-to-device copy bandwidth (read + write), measured first; "% copy" is
our effective bandwidth over it.
"""
import argparse
import statistics
import sys
import time

import numpy as np

import tinygrad_bn as tg
from kernels.cuda import _common as kc
from kernels.cuda import batchnorm, layernorm

SHAPES = [(4096, 1024), (4096, 4096), (16384, 1024), (64, 64, 56, 56)]
SMOKE_SHAPES = [(37, 10), (3, 4, 5, 5)]
EPS = 1e-5
WARMUP = [3]  # runs before timing (0 with --smoke)
PASSES = {("batch", "forward"): 3, ("batch", "backward"): 5, ("layer", "forward"): 2, ("layer", "backward"): 3}


def median_seconds(fn, repeats):
    """Median GPU time of ``fn()`` (CUDA events), or wall time in the simulator."""
    warmup = WARMUP[0]
    if kc.simulator():
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)
    from cupyx.profiler import benchmark
    result = benchmark(fn, n_repeat=repeats, n_warmup=warmup)
    return float(np.median(result.gpu_times[0]))


def copy_bandwidth(xp, repeats):
    """Bytes per second of a 256 MiB device-to-device copy (read + write)."""
    n = (1 << 26) if not kc.simulator() else (1 << 12)
    src = xp.ones(n, np.float32)
    dst = xp.empty_like(src)
    seconds = median_seconds(lambda: xp.copyto(dst, src), repeats)
    return 2 * src.nbytes / seconds


def ours(kind, direction, x, dy, w, b):
    """A function that runs one of our kernels (its inputs prepared outside)."""
    nd = x.ndim - 1
    if kind == "batch":
        y, mean, var, invstd = batchnorm.forward_train(x, w, b, EPS)
        if direction == "forward":
            return lambda: batchnorm.forward_train(x, w, b, EPS)
        return lambda: batchnorm.backward(x, dy, mean, invstd, w, True)
    wl, bl = w, b
    y, mean, invstd = layernorm.forward(x, wl, bl, EPS, nd)
    if direction == "forward":
        return lambda: layernorm.forward(x, wl, bl, EPS, nd)
    return lambda: layernorm.backward(x, dy, mean, invstd, wl, nd)


def theirs(torch, kind, direction, x, dy, w, b):
    """The same with PyTorch's CUDA kernels, on the same memory (DLPack)."""
    tx, tdy = torch.from_dlpack(x), torch.from_dlpack(dy)
    tw, tb = torch.from_dlpack(w), torch.from_dlpack(b)
    aten = torch.ops.aten
    if kind == "batch":
        c = x.shape[1]
        rm, rv = torch.zeros(c, device="cuda"), torch.ones(c, device="cuda")
        _, mean, invstd = aten.native_batch_norm(tx, tw, tb, rm, rv, True, 0.1, EPS)
        if direction == "forward":
            return lambda: aten.native_batch_norm(tx, tw, tb, rm, rv, True, 0.1, EPS)
        return lambda: aten.native_batch_norm_backward(tdy, tx, tw, rm, rv, mean, invstd, True, EPS,
                                                       [True, True, True])
    shape = list(x.shape[1:])
    _, mean, rstd = aten.native_layer_norm(tx, shape, tw, tb, EPS)
    if direction == "forward":
        return lambda: aten.native_layer_norm(tx, shape, tw, tb, EPS)
    return lambda: aten.native_layer_norm_backward(tdy, tx, shape, mean, rstd, tw, tb, [True, True, True])


def kernel_table(xp, torch, shapes, repeats, copy_bw):
    cols = f"{'kernel':<9} {'shape':<18} {'dir':<8} {'ours us':>9} {'GB/s':>7} {'% copy':>7}"
    if torch is not None:
        cols += f" {'torch us':>9} {'GB/s':>7} {'ours/torch':>10}"
    print(cols)
    print("-" * len(cols))
    rng = np.random.default_rng(0)
    for shape in shapes:
        x = xp.asarray(rng.standard_normal(shape, dtype=np.float32))
        dy = xp.asarray(rng.standard_normal(shape, dtype=np.float32))
        for kind in ("batch", "layer"):
            params = x.shape[1] if kind == "batch" else x.shape[1:]
            w = xp.asarray(rng.standard_normal(params, dtype=np.float32))
            b = xp.asarray(rng.standard_normal(params, dtype=np.float32))
            for direction in ("forward", "backward"):
                moved = PASSES[kind, direction] * x.nbytes
                t = median_seconds(ours(kind, direction, x, dy, w, b), repeats)
                gbs = moved / t / 1e9
                line = (f"{kind:<9} {str(shape):<18} {direction:<8} {t * 1e6:>9.1f} {gbs:>7.0f} "
                        f"{100 * moved / t / copy_bw:>6.0f}%")
                if torch is not None:
                    tt = median_seconds(theirs(torch, kind, direction, x, dy, w, b), repeats)
                    line += f" {tt * 1e6:>9.1f} {moved / tt / 1e9:>7.0f} {t / tt:>10.2f}"
                print(line, flush=True)


def train_steps_per_second(device, batch, steps, torch=None):
    from mlp_steps import ours_step, torch_step
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch)
    step = (ours_step if torch is None else torch_step)("simplenet-bn", x, y, device)
    for _ in range(WARMUP[0] + 2):
        step().item()
    t0 = time.perf_counter()
    for _ in range(steps):
        step().item()  # the one host read of a training step, as in a real loop
    return steps / (time.perf_counter() - t0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--smoke", action="store_true", help="tiny shapes: check the script (simulator)")
    args = ap.parse_args(argv)
    if not tg.cuda.is_available():
        print("no CUDA device: this benchmark needs an NVIDIA GPU with tinygrad-bn[cuda] installed "
              "(or NUMBA_ENABLE_CUDASIM=1 with --smoke to check the script)")
        return 2
    simulated = tg.cuda.is_simulated()
    if simulated and not args.smoke:
        print("the simulator times Python threads, not a GPU: pass --smoke to check the script only")
        return 2
    xp = tg.backends.get_backend("cuda").xp
    shapes, repeats, steps = (SMOKE_SHAPES, 1, 2) if args.smoke else (SHAPES, args.repeats, args.steps)
    if args.smoke:
        WARMUP[0] = 0
    torch = None
    if not simulated:
        try:
            import torch as _torch
            torch = _torch if _torch.cuda.is_available() else None
        except ImportError:
            pass
    print(f"device: {tg.cuda.get_device_name()}; PyTorch: "
          + (f"{torch.__version__}" if torch is not None else "not installed with CUDA (ours only)"))
    copy_bw = copy_bandwidth(xp, repeats)
    print(f"copy bandwidth: {copy_bw / 1e9:.0f} GB/s (read + write, device to device)\n")
    kernel_table(xp, torch, shapes, repeats, copy_bw)
    print("\nSimpleNetBN training steps per second (forward, backward, SGD step, loss.item()):")
    print(f"{'batch':>6} {'ours':>9} " + (f"{'torch':>9} {'ours/torch':>10}" if torch is not None else ""))
    for batch in ((8,) if args.smoke else (64, 256, 4096)):
        mine = train_steps_per_second("cuda", batch, steps)
        line = f"{batch:>6} {mine:>9.0f} "
        if torch is not None:
            other = train_steps_per_second("cuda", batch, steps, torch)
            line += f"{other:>9.0f} {other / mine:>10.2f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
