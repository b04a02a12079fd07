"""Training-step time under each thread setting, quiet and under background
load, beside PyTorch under the same conditions.

    python benchmarks/bench_threads.py [--steps 40] [--seconds 0.5] [--rounds 5] [--load 4]
                                       [--batches 64 256 1024 4096] [--conditions quiet loaded] [--quick]

Each cell is a median step time (SimpleNet or SimpleNetBN, SGD with momentum,
forward + backward + step + loss.item(); at least ``steps`` steps and
``seconds`` of them) in a fresh process started with that setting, so
thread pools start as a user's program would; the table shows the median
over ``rounds`` such processes, the settings taking turns within each round
so that a burst of load on this shared machine hits them alike:

  default      no thread variables (tinygrad_bn's defaults)
  1 thread     NUMBA_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
  numba 1      NUMBA_NUM_THREADS=1 (BLAS on every core)
  blas 1       OPENBLAS_NUM_THREADS=1 (Numba on every core)
  spinning     OMP_WAIT_POLICY=ACTIVE (idle OpenMP threads spin: the old default)

"loaded" runs the same with ``--load`` busy processes in the background (each
stops by itself after the run's time budget, and all are stopped at the end).
Under load a small batch's cell is bimodal: a process whose steps the scheduler
keeps preempting takes about 3x as long (SimpleNet at batch 256: 1.6-2.7 ms or
5.5-6.6 ms, in every setting), so five rounds can put any setting's median in
the slow mode; ``--conditions loaded --rounds 15`` settles those rows.
PyTorch (when installed) runs at its default threads and at one thread; the
last columns compare our default with the best of our settings and with
PyTorch's better setting.
"""
import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time

SETTINGS = {
    "default": {},
    "1 thread": {"NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
    "numba 1": {"NUMBA_NUM_THREADS": "1"},
    "blas 1": {"OPENBLAS_NUM_THREADS": "1"},
    "spinning": {"OMP_WAIT_POLICY": "ACTIVE"},
}
TORCH_SETTINGS = {"torch": {}, "torch 1": {"TORCH_THREADS": "1"}}
THREAD_VARS = ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY",
               "GOMP_SPINCOUNT", "MKL_NUM_THREADS")


# ------------------------------------------------------------------ one measurement (child)


def _step(framework, model_name, batch):
    """A step that reads its loss (the one host read of a real training step)."""
    import numpy as np

    from mlp_steps import ours_step, torch_step
    if framework == "torch" and os.environ.get("TORCH_THREADS"):
        import torch
        torch.set_num_threads(int(os.environ["TORCH_THREADS"]))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, batch)
    step = (ours_step if framework == "ours" else torch_step)(model_name, x, y)
    return lambda: step().item()


def child(framework, model_name, batches, steps, seconds):
    """Median step time per batch, over at least ``steps`` steps and ``seconds``
    of stepping: at batch 64 a step takes well under a millisecond, and 40 steps
    alone would fit inside one burst of another process's work."""
    result = {}
    for batch in batches:
        step = _step(framework, model_name, batch)
        for _ in range(10):
            step()
        times = []
        start = time.perf_counter()
        while len(times) < steps or time.perf_counter() - start < seconds:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        result[batch] = statistics.median(times)
    print(json.dumps(result))


# ------------------------------------------------------------------ the table (parent)


def _busy(deadline):
    x = 0
    while time.time() < deadline:
        x += 1


def measure(framework, env_extra, model_name, batches, steps, seconds):
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    env.update(env_extra)
    cmd = [sys.executable, os.path.abspath(__file__), "--child", framework, model_name, str(steps),
           str(seconds), *map(str, batches)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    if out.returncode:
        raise RuntimeError(f"{framework} {env_extra}: {out.stderr[-2000:]}")
    return {int(k): v for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=0.5, help="least stepping time per cell")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--load", type=int, default=4, help="busy background processes in the loaded run")
    ap.add_argument("--batches", type=int, nargs="+", default=[64, 256, 1024, 4096])
    ap.add_argument("--quick", action="store_true", help="batch 64 and 256, SimpleNetBN only, 20 steps")
    ap.add_argument("--conditions", nargs="+", choices=["quiet", "loaded"], default=["quiet", "loaded"],
                    help="which conditions to run (a loaded row whose steps are now and then preempted takes "
                         "more rounds to settle than a quiet one)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        framework, model_name, steps, seconds, *batches = args.child
        return child(framework, model_name, [int(b) for b in batches], int(steps), float(seconds))
    models = ["simplenet-bn"] if args.quick else ["simplenet", "simplenet-bn"]
    batches = [64, 256] if args.quick else args.batches
    steps, seconds = (20, 0.1) if args.quick else (args.steps, args.seconds)
    try:
        import importlib.util
        have_torch = importlib.util.find_spec("torch") is not None
    except ImportError:
        have_torch = False
    settings = dict(SETTINGS, **(TORCH_SETTINGS if have_torch else {}))
    print(f"{os.cpu_count()} cores; median step time in ms, one fresh process per cell; "
          + ("PyTorch beside us" if have_torch else "PyTorch not installed"))
    names = list(settings)
    head = f"{'condition':<8} {'model':<13} {'batch':>5} " + " ".join(f"{n:>9}" for n in names)
    head += f" {'def/best':>8}" + (f" {'def/torch':>9}" if have_torch else "")
    print(head)
    print("-" * len(head))
    for condition in args.conditions:
        workers = []
        if condition == "loaded":
            deadline = time.time() + 1800
            workers = [multiprocessing.Process(target=_busy, args=(deadline,), daemon=True)
                       for _ in range(args.load)]
            for w in workers:
                w.start()
        try:
            for model_name in models:
                runs = {name: [] for name in settings}
                for _ in range(1 if args.quick else args.rounds):
                    for name, env in settings.items():
                        framework = "torch" if name.startswith("torch") else "ours"
                        runs[name].append(measure(framework, env, model_name, batches, steps, seconds))
                for batch in batches:
                    row = {n: statistics.median(r[batch] for r in runs[n]) * 1e3 for n in names}
                    ours = [row[n] for n in SETTINGS]
                    line = f"{condition:<8} {model_name:<13} {batch:>5} " + " ".join(f"{row[n]:>9.2f}" for n in names)
                    line += f" {row['default'] / min(ours):>8.2f}"
                    if have_torch:
                        line += f" {row['default'] / min(row['torch'], row['torch 1']):>9.2f}"
                    print(line, flush=True)
        finally:
            for w in workers:
                w.terminate()
            for w in workers:
                w.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
