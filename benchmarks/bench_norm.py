"""Batch, layer, group and RMS norm and batch renorm, forward + backward, float32 and float64: our
fused Numba kernels against the machine's streaming bandwidth, a textbook NumPy
implementation and (when installed) PyTorch's CPU kernels, side by side.

    python benchmarks/bench_norm.py [--repeats 7] [--dtypes float32 float64] [--baseline DIR]
    NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_norm.py   # one thread

``--norms`` picks the rows (e.g. ``--norms layer rms``; ``--norms batch renorm``
puts batch renorm, r_max=3 and d_max=5 from running statistics that leave r and d
unclipped, beside batch norm: PyTorch has no batch renorm, its columns are empty). ``--baseline DIR`` adds the kernels of another checkout (DIR/kernels, e.g. from
``git worktree add DIR HEAD~3``) as one more contender, "base", timed in the
same rounds as ours: a before/after comparison that load on a shared machine
cannot skew, as it could two runs one after the other.

"stream" is a parallel Numba triad a = b + s*c with x and dy as b and c,
run twice into two outputs the size of x, measured in the same rounds (6
tensor sizes moved over the 4 arrays the kernels touch: x, dy, y and dx, so
that the share of the working set the machine's L3 keeps is the kernels';
with one output, 3 arrays of (4096, 1024) float32 fit the 32 MB L3 better
than the kernels' 4 and the triad ran up to 1.6x faster in some rounds). "ceiling" is the time the
kernels' passes over memory take at that bandwidth: batch norm 8 passes of x's
size (forward: read x twice, write y; backward: read x and dy twice, write
dx), batch renorm 8 as batch norm, layer, group and RMS norm 5 (a row or group is read again from cache);
"%ceil" is the ceiling over our time.
Every figure is the median of ``repeats`` rounds; within a round the
contenders run one after another, so load on the machine hits all alike. Each
contender runs again and again for ``WARM_S`` before its timed call: that lets
the previous contender's thread pool (PyTorch's OpenMP threads spin after a
parallel region) go quiet, brings its own data back into cache, and brings
both cores back to speed. A core left idle, even for 30 ms of a one-threaded
contender (the NumPy textbook), runs the next tens of milliseconds slowly: with
one warm-up call instead, RMS norm at (4096, 1024) float32 took 3.5-3.9 ms
after 30 ms of one-thread work and 6.9 ms after 30 ms of sleep against 2.0 ms
in steady state, and the triad 1.34 and 2.55 ms against 0.95 ms; the triad,
timed right after our kernels had warmed the cores, was hit less, so "%ceil"
came out 60% where steady state gives 79%.
"""
import argparse
import importlib
import importlib.util
import pathlib
import statistics
import sys
import time

import numba
import numpy as np
from numba import njit, prange


CASES = [("(64, 64)", (64, 64)), ("(256, 1024)", (256, 1024)), ("(4096, 1024)", (4096, 1024)),
         ("(4096, 4096)", (4096, 4096)), ("(64, 64, 56, 56)", (64, 64, 56, 56))]
EPS = 1e-5
PASSES = {"batch": 8, "layer": 5, "group": 5, "rms": 5, "renorm": 8}
R_MAX, D_MAX = 3.0, 5.0
WARM_S = 0.05  # each contender's warm-up per round (see the module docstring)
NORMS = tuple(PASSES)
MODULES = {"batch": "batchnorm", "layer": "layernorm", "group": "groupnorm", "rms": "rmsnorm",
           "renorm": "batchrenorm"}
# this checkout's kernel modules by norm name (a baseline checkout's come from load_baseline)
OURS = {kind: importlib.import_module(f"kernels.cpu.{module}") for kind, module in MODULES.items()}


def groups_for(channels):
    return 32 if channels % 32 == 0 else 1


@njit(parallel=True, cache=True)
def _triad(a, b, c, s):
    for i in prange(a.size):
        a[i] = b[i] + s * c[i]


def load_baseline(root):
    """The kernel modules of the kernels package in ``root`` by norm name ("batch",
    "layer", ...), imported beside this checkout's as the package
    ``kernels_baseline``; a norm that checkout predates is left out."""
    init = pathlib.Path(root, "kernels", "__init__.py")
    spec = importlib.util.spec_from_file_location("kernels_baseline", init,
                                                  submodule_search_locations=[str(init.parent)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["kernels_baseline"] = package
    spec.loader.exec_module(package)
    return {kind: importlib.import_module(f"kernels_baseline.cpu.{module}")
            for kind, module in MODULES.items() if (init.parent / "cpu" / f"{module}.py").exists()}


def ours(kind, x, dy, g, b, modules=None):
    """Forward and backward of ``kind`` with this checkout's kernels, or with
    ``modules`` (a baseline's, by norm name)."""
    module = (modules or OURS)[kind]
    if kind == "rms":  # over every dim but the first, with a weight, as layer norm here
        nd = x.ndim - 1
        y, rstd = module.forward(x, g, EPS, nd)
        return module.backward(x, dy, rstd, g, nd)
    if kind == "renorm":  # running statistics near the batch's: r and d unclipped
        channels = x.shape[1]
        y, mean, var, invstd, r, d = module.forward_train(x, g, b, np.full(channels, 0.1),
                                                          np.full(channels, 0.8), EPS, R_MAX, D_MAX)
        return module.backward(x, dy, mean, invstd, r, d, g)
    if kind == "batch":
        y, mean, var, invstd = module.forward_train(x, g, b, EPS)
        return module.backward(x, dy, mean, invstd, g, True)
    if kind == "group":
        groups = groups_for(x.shape[1])
        y, mean, invstd = module.forward(x, groups, g, b, EPS)
        return module.backward(x, dy, groups, mean, invstd, g)
    nd = x.ndim - 1
    y, mean, invstd = module.forward(x, g, b, EPS, nd)
    return module.backward(x, dy, mean, invstd, g, nd)


def textbook(kind, x, dy, g, b):
    """What a user writes with NumPy: np.mean/np.var forward, closed-form backward."""
    if kind == "rms":
        axes = tuple(range(1, x.ndim))
        n = x[0].size
        rstd = 1.0 / np.sqrt(np.mean(x * x, axis=axes, keepdims=True) + EPS)
        xhat = x * rstd
        y = xhat * g  # (the forward output)
        gy = dy * g
        dx = rstd * (gy - xhat * (gy * xhat).sum(axis=axes, keepdims=True) / n)
        return dx, (dy * xhat).sum(axis=0)
    if kind == "renorm":
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        mean = np.mean(x, axis=axes, keepdims=True)
        std = np.sqrt(np.var(x, axis=axes, keepdims=True) + EPS)
        running_std = np.sqrt(0.8 + EPS)
        r = np.clip(std / running_std, 1 / R_MAX, R_MAX)
        d = np.clip((mean - 0.1) / running_std, -D_MAX, D_MAX)
        xhat = (x - mean) / std
        y = (xhat * r + d) * g.reshape(shape) + b.reshape(shape)  # (the forward output)
        gx = dy * (g.reshape(shape) * r)
        dx = (gx - gx.mean(axis=axes, keepdims=True) - xhat * (gx * xhat).mean(axis=axes, keepdims=True)) / std
        return dx, (dy * (xhat * r + d)).sum(axis=axes), dy.sum(axis=axes)
    if kind == "batch":
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        g, b = g.reshape(shape), b.reshape(shape)
    else:
        axes = tuple(range(1, x.ndim))
    n = x.size // np.prod([x.shape[a] for a in range(x.ndim) if a not in axes])
    mean = np.mean(x, axis=axes, keepdims=True)
    var = np.var(x, axis=axes, keepdims=True)
    invstd = 1.0 / np.sqrt(var + EPS)
    xhat = (x - mean) * invstd
    y = xhat * g + b  # noqa: F841  (the forward output)
    if kind == "batch":
        dbeta = dy.sum(axis=axes)
        dgamma = (dy * xhat).sum(axis=axes)
        dx = g * invstd / n * (n * dy - dbeta.reshape(g.shape) - xhat * dgamma.reshape(g.shape))
    else:
        gy = dy * g
        dx = invstd / n * (n * gy - gy.sum(axis=axes, keepdims=True) - xhat * (gy * xhat).sum(axis=axes, keepdims=True))
        lead = (0,)
        dgamma, dbeta = (dy * xhat).sum(axis=lead), dy.sum(axis=lead)
    return dx, dgamma, dbeta


def make_torch(kind, x, dy):
    import torch

    if kind == "renorm":  # PyTorch has no batch renorm
        return None
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    dyt = torch.from_numpy(dy.copy())
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    if kind == "rms":  # torch.nn.functional.rms_norm with a weight, eps as ours
        weight = torch.ones(x.shape[1:], dtype=dtype, requires_grad=True)

        def run_rms():
            xt.grad = weight.grad = None
            torch.nn.functional.rms_norm(xt, x.shape[1:], weight, EPS).backward(dyt)

        return run_rms
    if kind == "batch":
        layer = torch.nn.BatchNorm1d(x.shape[1]) if x.ndim <= 3 else torch.nn.BatchNorm2d(x.shape[1])
    elif kind == "group":
        layer = torch.nn.GroupNorm(groups_for(x.shape[1]), x.shape[1])
    else:
        layer = torch.nn.LayerNorm(x.shape[1:])
    layer = layer.to(dtype)

    def run():
        xt.grad = None
        layer.zero_grad()
        layer(xt).backward(dyt)

    return run


def median_ms(samples):
    return statistics.median(samples) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--cases", nargs="*", type=int, help="indices into the case list")
    ap.add_argument("--dtypes", nargs="+", default=["float32", "float64"])
    ap.add_argument("--norms", nargs="+", choices=NORMS, default=list(NORMS))
    ap.add_argument("--baseline", metavar="DIR", help="also time the kernels of the checkout in DIR")
    args = ap.parse_args()
    baseline = load_baseline(args.baseline) if args.baseline else None
    try:
        import torch

        torch.set_num_threads(numba.get_num_threads())
    except ImportError:
        torch = None
    print(f"forward+backward, {numba.get_num_threads()} threads; median of {args.repeats} rounds")
    if torch is None:
        print("PyTorch not installed: its columns are empty (pip install torch==2.13.0 to compare)")
    else:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    header = (f"{'shape':>17} {'dtype':>7} {'norm':>5} | {'ours ms':>8} {'ceiling':>8} {'%ceil':>6} "
              f"{'GB/s':>6} {'stream':>7} | {'numpy ms':>9} {'x ours':>7} | {'torch ms':>9} {'x ours':>7}"
              + (f" | {'base ms':>8} {'x ours':>7}" if baseline else ""))
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    if any(not 0 <= i < len(CASES) for i in args.cases or ()):
        ap.error(f"--cases takes indices 0 to {len(CASES) - 1} into the shapes "
                 f"{', '.join(label for label, _ in CASES)}; got {args.cases}")
    cases = [CASES[i] for i in args.cases] if args.cases else CASES
    for (label, shape), dtype in [(c, d) for c in cases for d in args.dtypes]:
        dt = np.dtype(dtype)
        x = rng.standard_normal(shape).astype(dt)
        dy = rng.standard_normal(shape).astype(dt)
        a, a2 = np.empty(x.size, dt), np.empty(x.size, dt)  # in the place of y and dx
        bflat, cflat = x.reshape(-1), dy.reshape(-1)

        def stream_pair():
            _triad(a, bflat, cflat, dt.type(0.5))
            _triad(a2, bflat, cflat, dt.type(0.5))
        for kind in args.norms:
            pshape = shape[1:] if kind in ("layer", "rms") else (shape[1],)
            g = rng.standard_normal(pshape).astype(dt)
            b = rng.standard_normal(pshape).astype(dt)
            torch_run = make_torch(kind, x, dy) if torch is not None else None
            contenders = {"ours": lambda: ours(kind, x, dy, g, b),
                          "stream": stream_pair}
            if kind != "group":
                contenders["numpy"] = lambda: textbook(kind, x, dy, g, b)
            if torch_run:
                contenders["torch"] = torch_run
            if baseline and kind in baseline:
                contenders["base"] = lambda: ours(kind, x, dy, g, b, baseline)
            for f in contenders.values():  # warm up: compile, fault pages in
                f()
            times = {k: [] for k in contenders}
            for _ in range(args.repeats):
                for k, f in contenders.items():
                    warm_until = time.perf_counter() + WARM_S
                    f()
                    while time.perf_counter() < warm_until:
                        f()
                    t0 = time.perf_counter()
                    f()
                    times[k].append(time.perf_counter() - t0)
            t = {k: median_ms(v) for k, v in times.items()}
            moved = PASSES[kind] * x.nbytes
            eff = moved / (t["ours"] / 1e3) / 1e9
            stream = 6 * x.nbytes / (t["stream"] / 1e3) / 1e9
            ceiling = moved / (stream * 1e9) * 1e3
            torch_cols = f"{t['torch']:>9.2f} {t['torch'] / t['ours']:>7.2f}" if "torch" in t else f"{'-':>9} {'-':>7}"
            numpy_cols = (f"{t['numpy']:>9.2f} {t['numpy'] / t['ours']:>7.1f}" if "numpy" in t
                          else f"{'-':>9} {'-':>7}")
            base_cols = ""
            if baseline:
                base_cols = (f" | {t['base']:>8.3f} {t['base'] / t['ours']:>7.3f}" if "base" in t
                             else f" | {'-':>8} {'-':>7}")
            print(f"{label:>17} {dtype:>7} {kind[:5]:>5} | {t['ours']:>8.2f} {ceiling:>8.2f} "
                  f"{ceiling / t['ours']:>6.0%} {eff:>6.1f} {stream:>7.1f} | {numpy_cols} | {torch_cols}{base_cols}",
                  flush=True)
    print("\nx ours: the other's time divided by ours (above 1: ours is faster).")


if __name__ == "__main__":
    main()
