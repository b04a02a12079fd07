"""A training step eager and compiled (``tg.compile``), beside PyTorch's eager
step and, when JAX is installed, JAX's jitted step, measured side by side.

    python benchmarks/bench_compile.py [--steps 200] [--repeats 5] [--batches 16 64 256 1024 4096]
    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \
      taskset -c 0 python benchmarks/bench_compile.py    # one core each (PyTorch takes OPENBLAS_NUM_THREADS)

XLA's CPU runtime runs a large product on a pool of its own whatever
``XLA_FLAGS`` says (``--xla_cpu_multi_thread_eigen=false`` left JAX's step at
batch 4096 using 1.8 cores), so one core for every contender takes
``taskset``. The "cores" column gives each contender's CPU time over its wall
time (eager/compiled/torch/jax), so a contender that used more than it was
meant to shows.

The step is SimpleNet or SimpleNetBN (benchmarks/mlp_steps.py): zero_grad,
forward, cross entropy, backward, SGD with momentum, returning the loss (not
read: a host read is the caller's choice). Each figure is the median over
``repeats`` rounds of the mean step time of ``steps`` steps; the contenders
take turns within each round, so load on this shared machine hits them alike.
"trace" is the time of the compiled step's first three calls (eager runs under
the tracer, then code generation) beyond three eager steps.

``--lines`` prints instead where a compiled step's time goes: each line of its
replay (the generated Python, see ``step.describe()``) timed over ``steps``
replays, the costliest first (timing every line adds about 0.1 us a line).

``--startup`` measures instead what compiling costs a fresh process: each
process makes the step and calls it until its first replay (the calls before
are traced eager steps), once with an empty cache of fused runs
(``TINYGRAD_BN_CACHE`` a new folder: "cold", every run compiled) and once with
the cache that run left ("warm", every run loaded); a third process makes the
same number of plain eager steps. Each figure is a whole process's wall time,
start-up and imports included, the median over ``repeats`` rounds; "compile"
is the step's own code generation and Numba time (``step.describe()``).
"""
import argparse
import os
import statistics
import time

import numpy as np

try:  # before tinygrad_bn, so PyTorch's OpenMP keeps its own default wait policy
    import torch
except ImportError:
    torch = None
try:
    import jax
    import jax.numpy as jnp
except ImportError:
    jax = None

import tinygrad_bn as tg  # noqa: E402
from mlp_steps import ours_step, torch_step  # noqa: E402


def jax_step(model_name, x, y):
    """The same model and update as a jitted JAX function (state in, state out).

    SimpleNetBN's batch norm does what ``nn.BatchNorm1d`` does in training mode:
    an affine transform with its own weight and bias (trained with the rest)
    and the running mean and unbiased variance updated with momentum 0.1, so
    each contender's step does the same work."""
    rng = np.random.default_rng(0)
    sizes = [(784, 64), (64, 128), (128, 10)]
    params = [(jnp.asarray(rng.uniform(-1, 1, s).astype(np.float32) / np.sqrt(s[0])),
               jnp.zeros(s[1], jnp.float32)) for s in sizes]
    bn = model_name != "simplenet"
    if bn:  # (weight, bias) of each BatchNorm1d
        params += [(jnp.ones(s[1], jnp.float32), jnp.zeros(s[1], jnp.float32)) for s in sizes[:2]]
    running = [(jnp.zeros(s[1], jnp.float32), jnp.ones(s[1], jnp.float32)) for s in sizes[:2]] if bn else []

    def loss_fn(params, x, y):
        h, stats = x, []
        for i, (w, b) in enumerate(params[:3]):
            h = h @ w + b
            if i < 2:
                if bn:
                    g, beta = params[3 + i]
                    m, v = h.mean(0), h.var(0)
                    h = (h - m) / jnp.sqrt(v + 1e-5) * g + beta
                    stats.append((m, v * (h.shape[0] / (h.shape[0] - 1))))
                h = jax.nn.relu(h)
        logp = jax.nn.log_softmax(h)
        return -jnp.take_along_axis(logp, y[:, None], 1).mean(), stats

    @jax.jit
    def step(params, bufs, running, x, y):
        (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, x, y)
        bufs = jax.tree_util.tree_map(lambda b, g: 0.9 * b + g, bufs, grads)
        params = jax.tree_util.tree_map(lambda p, b: p - 0.01 * b, params, bufs)
        running = [(0.9 * rm + 0.1 * jax.lax.stop_gradient(m), 0.9 * rv + 0.1 * jax.lax.stop_gradient(v))
                   for (rm, rv), (m, v) in zip(running, stats)]
        return params, bufs, running, loss

    state = {"p": params, "b": jax.tree_util.tree_map(jnp.zeros_like, params), "r": running}
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def run():
        state["p"], state["b"], state["r"], loss = step(state["p"], state["b"], state["r"], xj, yj)
        return loss
    return run, lambda: jax.block_until_ready(state["p"])


def time_round(step, steps, sync=None):
    """Mean wall time of one step over ``steps`` steps, and the process's CPU
    time over that wall time (the cores the step kept busy)."""
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    if sync is not None:
        sync()
    wall = time.perf_counter() - t0
    return wall / steps, (time.process_time() - c0) / wall


def line_times(compiled, steps, show=25):
    """Print the costliest lines of ``compiled``'s replay (one key), each timed
    over ``steps`` replays, with what each line calls: the median of each line's
    times (a burst of load on this shared machine moves a mean, not a median)."""
    (entry,) = compiled._entries.values()
    lines = entry.source.split("\n")
    timed = [lines[0], "    _t0 = _clock()"]
    for i, line in enumerate(lines[1:], 1):
        timed.append(line)
        if not line.strip().startswith("return"):
            timed.append(f"    _t1 = _clock(); _spent[{i}].append(_t1 - _t0); _t0 = _t1")
    spent = [[] for _ in lines]
    ns = dict(entry.replay.__globals__, _clock=time.perf_counter, _spent=spent)
    exec(compile("\n".join(timed), "<timed replay>", "exec"), ns)  # noqa: S102  (our own generated source)
    plain, entry.replay = entry.replay, ns["replay"]
    try:
        for _ in range(steps):
            compiled()
    finally:
        entry.replay = plain
    median = [statistics.median(t) * 1e6 if t else 0.0 for t in spent]
    print(f"replay, every line timed: {sum(median):.1f} us a step in medians over {steps} steps (timing adds "
          f"about 0.1 us a line); the {show} costliest lines:")
    names = {k: getattr(v, "__qualname__", getattr(v, "__name__", "")) for k, v in ns.items()}
    for i in sorted(range(len(lines)), key=lambda i: -median[i])[:show]:
        called = lines[i].split("=")[-1].strip().split("(")[0]
        print(f"{median[i]:8.2f} us  {lines[i].strip()[:70]:<70}  {names.get(called, '')}")


_STARTUP_CHILD = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import numpy as np
import tinygrad_bn as tg
from mlp_steps import ours_step
t1 = time.perf_counter()
model_name, batch, mode, calls = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
rng = np.random.default_rng(0)
step = ours_step(model_name, rng.standard_normal((batch, 784)).astype(np.float32), rng.integers(0, 10, batch))
compile_s = 0.0
if mode == "compiled":
    step, calls = tg.compile(step), 0
    while calls < 10:
        step()
        calls += 1
        (entry,) = step._entries.values()
        if entry.replays:
            break
    else:
        sys.exit("no replay after 10 calls")
    compile_s = entry.compile_seconds
else:
    for _ in range(calls):
        step()
print(json.dumps({"imports": t1 - t0, "calls": calls, "compile": compile_s}))
"""


def _startup_process(model_name, batch, mode, calls, cache):
    """(wall time of a fresh process, what it reports) for one startup child."""
    import json
    import subprocess
    import sys

    env = dict(os.environ, TINYGRAD_BN_CACHE=cache)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _STARTUP_CHILD, os.path.dirname(os.path.abspath(__file__)),
                          model_name, str(batch), mode, str(calls)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        raise RuntimeError(f"--startup child ({model_name}, batch {batch}, {mode}) failed:\n{out.stderr[-2000:]}")
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def startup_times(models, batches, repeats):
    """Print, per model and batch, fresh processes' wall times to the first replay
    (cold and warm cache of fused runs) against the same number of eager steps."""
    import tempfile

    print(f"fresh processes to the first replayed step; medians of {repeats} rounds; CPUs this process may use: "
          f"{len(os.sched_getaffinity(0))} of {os.cpu_count()}")
    header = (f"{'model':<13} {'batch':>6} {'calls':>6} {'eager (s)':>10} {'cold (s)':>10} {'warm (s)':>10} "
              f"{'warm-eager':>11} {'compile cold':>13} {'compile warm':>13} {'imports':>8}")
    print(header)
    print("-" * len(header))
    for model_name, batch in [(m, b) for m in models for b in batches]:
        with tempfile.TemporaryDirectory() as scratch:  # the kernels' own cache (replay's too), loaded or made
            _startup_process(model_name, batch, "compiled", 0, scratch)
        rows = {k: [] for k in ("eager", "cold", "warm", "compile cold", "compile warm", "imports")}
        calls = None
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as cache:
                wall, got = _startup_process(model_name, batch, "compiled", 0, cache)
                rows["cold"].append(wall)
                rows["compile cold"].append(got["compile"])
                calls = got["calls"]
                wall, got = _startup_process(model_name, batch, "compiled", 0, cache)
                rows["warm"].append(wall)
                rows["compile warm"].append(got["compile"])
                wall, got = _startup_process(model_name, batch, "eager", calls, cache)
                rows["eager"].append(wall)
                rows["imports"].append(got["imports"])
        med = {k: statistics.median(v) for k, v in rows.items()}
        print(f"{model_name:<13} {batch:>6} {calls:>6} {med['eager']:>10.2f} {med['cold']:>10.2f} "
              f"{med['warm']:>10.2f} {med['warm'] - med['eager']:>11.2f} {med['compile cold']:>13.2f} "
              f"{med['compile warm']:>13.2f} {med['imports']:>8.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 64, 256, 1024, 4096])
    ap.add_argument("--models", nargs="+", default=["simplenet", "simplenet-bn"])
    ap.add_argument("--lines", action="store_true", help="time each line of the compiled step's replay instead")
    ap.add_argument("--startup", action="store_true",
                    help="time fresh processes to their first replay, cold and warm cache, against eager")
    args = ap.parse_args()
    if args.startup:
        startup_times(args.models, args.batches, args.repeats)
        return
    if args.lines:
        rng = np.random.default_rng(0)
        for model_name, batch in [(m, b) for m in args.models for b in args.batches]:
            x = rng.standard_normal((batch, 784)).astype(np.float32)
            compiled = tg.compile(ours_step(model_name, x, rng.integers(0, 10, batch)))
            for _ in range(20):
                compiled()
            print(f"\n{model_name}, batch {batch}")
            line_times(compiled, args.steps)
        return

    rng = np.random.default_rng(0)
    x = rng.standard_normal((max(args.batches), 784)).astype(np.float32)
    y = rng.integers(0, 10, max(args.batches)).astype(np.int64)
    if torch is not None and os.environ.get("OPENBLAS_NUM_THREADS"):
        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
    print(f"training step, float32; tinygrad_bn threads: {tg.get_num_threads()}; "
          f"PyTorch: {torch.__version__ + ' (' + str(torch.get_num_threads()) + ' threads)' if torch else 'absent'}; "
          f"JAX: {jax.__version__ if jax else 'absent'}; CPUs this process may use: "
          f"{len(os.sched_getaffinity(0))} of {os.cpu_count()}")
    names = ["eager", "compiled"] + (["torch"] if torch else []) + (["jax jit"] if jax else [])
    header = (f"{'model':<13} {'batch':>6} " + "".join(f"{n + ' (us)':>15}" for n in names)
              + f"{'compiled/eager':>16}" + (f"{'compiled/torch':>16}" if torch else "")
              + (f"{'compiled/jax':>14}" if jax else "") + f"{'trace (ms)':>12}  cores")
    print(header)
    print("-" * len(header))
    for model_name, batch in [(m, b) for m in args.models for b in args.batches]:
        xb, yb = x[:batch], y[:batch]
        eager = ours_step(model_name, xb, yb)
        plain = ours_step(model_name, xb, yb)
        plain()  # kernels loaded and caches warm, so "trace" is what tracing itself costs
        t0 = time.perf_counter()
        for _ in range(3):
            plain()
        t_eager3 = time.perf_counter() - t0
        compiled = tg.compile(ours_step(model_name, xb, yb))
        t0 = time.perf_counter()
        for _ in range(3):
            compiled()
        trace_ms = (time.perf_counter() - t0 - t_eager3) * 1e3
        contenders = {"eager": (eager, None), "compiled": (compiled, None)}
        if torch:
            contenders["torch"] = (torch_step(model_name, xb, yb), None)
        if jax:
            contenders["jax jit"] = jax_step(model_name, xb, yb)
        for fn, _ in contenders.values():
            for _ in range(20):  # warm up: JIT, allocator, BLAS threads
                fn()
        times = {n: [] for n in contenders}
        cores = {n: [] for n in contenders}
        for _ in range(args.repeats):
            for n, (fn, sync) in contenders.items():
                step_s, busy = time_round(fn, args.steps, sync)
                times[n].append(step_s)
                cores[n].append(busy)
        med = {n: statistics.median(t) * 1e6 for n, t in times.items()}
        row = f"{model_name:<13} {batch:>6} " + "".join(f"{med[n]:>15.1f}" for n in names)
        row += f"{med['compiled'] / med['eager']:>16.2f}"
        if torch:
            row += f"{med['compiled'] / med['torch']:>16.2f}"
        if jax:
            row += f"{med['compiled'] / med['jax jit']:>14.2f}"
        print(row + f"{trace_ms:>12.1f}  " + "/".join(f"{statistics.median(cores[n]):.1f}" for n in names),
              flush=True)


if __name__ == "__main__":
    main()
