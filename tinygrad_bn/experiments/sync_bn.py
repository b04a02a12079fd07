"""sync-bn: is SyncBatchNorm the remedy for small per-process batches? The
"curse of batch norm" article names it: under data parallelism each process
normalizes its own few samples unless the statistics are synchronized.

Under ``mpiexec -n P`` every process trains on its shard of the training
digits (``DistributedSampler``, seeded, ``set_epoch`` each epoch) at a
per-process batch b, with gradients averaged by ``DistributedDataParallel``:

  bn       BatchNorm on each process's own b samples (plain DDP)
  syncbn   SyncBatchNorm: statistics over the global batch of P x b samples
  gn       GroupNorm (4 groups), which needs no batch at all
  global   one process at the global batch P x b with BatchNorm (the reference)

The MLP is 784-64-128-10 with ReLU, SGD with momentum 0.9 and lr 0.05 x
global batch / 64 (as small-batch scales it). Runs with the same seed start
from the same weights (``manual_seed(seed)`` before building) and draw the
same global batches in the same order: the reference's sampler is the
one-process ``DistributedSampler`` with the same seed, and its step k takes
exactly the samples the P processes take together at their step k. So
SyncBN + DDP and the reference take the same steps in exact arithmetic; the
runs record how far apart their weights are after the first step and at the
end (float32 rounding is all that separates them).

Launch: inside an MPI job of two or more processes the job is used (rank 0
returns the results; the other ranks write nothing). Run as one process (the
runner, ``experiment all``, the tests) it starts itself under ``mpiexec -n 2``
(``TINYGRAD_BN_SYNC_BN_PROCESSES`` to change that; ``--quick`` always uses 2)
and loads what rank 0 wrote. Without mpi4py or mpiexec it says so and returns
results marked skipped."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from .common import (
    CHANCE,
    Progress,
    _plain,
    accuracy,
    counted,
    data,
    figures,
    join_words,
    mlp,
    paired_verdict,
    save_figure,
    training_setup,
)

TITLE = "SyncBN: small per-process batches under data parallelism"
DEFAULT_EPOCHS = 1
WIDTHS = [784, 64, 128, 10]
GROUPS = 4
PER_PROCESS = [2, 4]
QUICK_PER_PROCESS = [4]
QUICK_DIGITS = 1000  # --quick trains on the first 1000 training digits (125 steps at a global batch of 8)
BASE_LR, BASE_BATCH, MOMENTUM = 0.05, 64, 0.9
PROCESSES_ENV = "TINYGRAD_BN_SYNC_BN_PROCESSES"
DEFAULT_PROCESSES = 2
QUICK_PROCESSES = 2
VARIANTS = {"bn": "BatchNorm per process (DDP)", "syncbn": "SyncBatchNorm (DDP)",
            "gn": f"GroupNorm, {GROUPS} groups (DDP)", "global": "one process, BatchNorm at the global batch"}
DISTRIBUTED = ("bn", "syncbn", "gn")
NEEDS_MPI = ("sync-bn needs MPI: pip install 'tinygrad_bn[mpi]' and run "
             "mpiexec -n 4 tinygrad-bn experiment sync-bn")


def training_digits(quick):
    return QUICK_DIGITS if quick else len(data()[0])


def lr_for(global_batch):
    return BASE_LR * global_batch / BASE_BATCH


def design(world, seeds, epochs, quick):
    batches = QUICK_PER_PROCESS if quick else PER_PROCESS
    known = world is not None  # (unknown in a job that could not start)
    return {"world_size": world, "per_process_batches": batches,
            "global_batches": [world * b for b in batches] if known else None,
            "seeds": seeds, "epochs": epochs, "widths": WIDTHS, "activation": "relu", "group_norm_groups": GROUPS,
            "variants": VARIANTS, "optimizer": "SGD", "momentum": MOMENTUM,
            "lr_rule": f"{BASE_LR} x global batch / {BASE_BATCH}",
            "lr": {str(world * b): lr_for(world * b) for b in batches} if known else None,
            "sampler": "DistributedSampler(seed=seed, shuffle=True, drop_last=True), set_epoch(epoch) for epochs "
                       "1..E; the reference: the same sampler with num_replicas=1, so its step k takes the "
                       "samples all processes take at their step k",
            "pairing": "same seed = same initial weights (manual_seed(seed) before building; DDP copies rank 0's) "
                       "and the same global batches in the same order",
            "evaluation": "held-out accuracy of rank 0's replica in eval mode (per-process BN: running statistics "
                          "of rank 0's own batches)",
            "training_digits": training_digits(quick), "held_out_digits": len(data()[2]),
            "default_processes": DEFAULT_PROCESSES, "processes_env": PROCESSES_ENV}


# ------------------------------------------------------------------ the launch
def run(out, *, seeds, epochs, progress, quick):
    from .. import distributed as dist

    if dist.is_initialized() or dist._launched_rank() is not None:
        try:
            dist.init()
        except RuntimeError as exc:  # launched by mpiexec but mpi4py is missing
            return _skipped(str(exc), None, seeds, epochs, quick)
        if dist.world_size() >= 2:
            found = _distributed(seeds, epochs, quick, progress)
            if dist.rank() != 0:
                return _other_rank(found)
            found["design"]["launch"] = f"inside the caller's MPI job of {dist.world_size()} processes"
            return _assemble(out, found)
    found = _launch(seeds, epochs, quick, progress)
    if found.get("skipped"):
        return found
    return _assemble(out, found)


def _other_rank(found):
    """A rank other than 0 has done its share: rank 0 writes the results. The
    runner writes whatever ``run`` returns, so until it skips results marked
    ``written_by_rank_0`` this rank ends its process here (exit status 0)."""
    from .. import experiments as runner

    if getattr(runner, "RANK_ZERO_WRITES", False):
        return {**found, "written_by_rank_0": True, "verdicts": [], "plots": []}
    sys.stdout.flush()
    raise SystemExit(0)


def _skipped(reason, world, seeds, epochs, quick):
    print(f"{NEEDS_MPI} ({reason})")
    return {"skipped": reason, "design": design(world, seeds, epochs, quick), "runs": [], "verdicts": [],
            "plots": []}


def _mpiexec():
    """(path to mpiexec, "") or (None, why not)."""
    if importlib.util.find_spec("mpi4py") is None:
        return None, "mpi4py is not installed"
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    exe = beside if os.path.exists(beside) else shutil.which("mpiexec")
    if exe is None:
        return None, "no mpiexec beside the Python executable or on PATH"
    return exe, ""


def processes(quick):
    if quick:
        return QUICK_PROCESSES
    value = os.environ.get(PROCESSES_ENV, str(DEFAULT_PROCESSES))
    if not value.isdigit() or int(value) < 2:
        raise ValueError(f"sync-bn: {PROCESSES_ENV} must be a whole number of processes >= 2, got {value!r}")
    return int(value)


def _launch(seeds, epochs, quick, progress):
    """This experiment under ``mpiexec -n P`` as a subprocess; rank 0's results."""
    world = processes(quick)
    exe, why = _mpiexec()
    if exe is None:
        return _skipped(why, world, seeds, epochs, quick)
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    # the job imports this tinygrad_bn; a launcher's variables (when this process is an MPI
    # singleton itself) would make the inner mpiexec's processes join the outer job
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "PMIX_", "OMPI_", "HYDRA_", "MPIR_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory(prefix="sync-bn-") as folder:
        path = os.path.join(folder, "rank0.json")
        cmd = [exe, "-n", str(world), sys.executable, "-m", "tinygrad_bn.experiments.sync_bn", path,
               "--seeds", str(seeds), "--epochs", str(epochs)] + ["--quick"] * quick + ["--progress"] * progress
        try:  # with a progress bar the job's stderr is this process's (the bar, and any error, show there)
            job = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False,
                                 stderr=None if progress else subprocess.PIPE)
        except OSError as exc:
            return _skipped(f"mpiexec could not start: {exc}", world, seeds, epochs, quick)
        found = None
        if os.path.exists(path):
            with open(path) as f:
                found = json.load(f)
    tail = (job.stderr or "").strip()[-2000:]
    if job.returncode == 0 and found is not None and found.get("state") == "done":
        found["design"]["launch"] = f"started by the runner as mpiexec -n {world} python -m {__name__}"
        return found
    if found is None:  # no rank joined the job: MPI itself cannot run here
        return _skipped(f"mpiexec -n {world} could not start a job (exit status {job.returncode})"
                        + (f": {tail[-300:]}" if tail else ""), world, seeds, epochs, quick)
    raise RuntimeError(f"sync-bn: the job under mpiexec -n {world} failed (exit status {job.returncode})"
                       + (f":\n{tail}" if tail else "; its ranks' errors are above"))


def _worker(argv=None):
    """``python -m tinygrad_bn.experiments.sync_bn RESULT.json``, started by ``_launch`` under mpiexec."""
    import argparse

    from .. import distributed as dist

    p = argparse.ArgumentParser(prog="python -m tinygrad_bn.experiments.sync_bn")
    p.add_argument("result")
    p.add_argument("--seeds", type=int, required=True)
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--progress", action="store_true")
    args = p.parse_args(argv)
    rank = dist.init()
    if rank == 0:  # joined: from here a failure is the experiment's, not MPI's
        _write_json(args.result, {"state": "started"})
    found = _distributed(args.seeds, args.epochs, args.quick, args.progress)
    if rank == 0:
        _write_json(args.result, {**found, "state": "done"})
    return 0


def _write_json(path, doc):
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(_plain(doc), f)
    os.replace(tmp, path)


# ------------------------------------------------------------------ the runs
def _model(seed, variant):
    from ..random import manual_seed

    manual_seed(seed)
    return mlp(WIDTHS, "relu", "group" if variant == "gn" else "batch", GROUPS)


def _weights(model):
    """The model's state as float64 arrays, by name."""
    return {k: v.numpy().astype(np.float64).copy() for k, v in model.state_dict().items()}


def _differences(mine, theirs):
    """The largest absolute difference in the parameters and in the running statistics."""
    def worst(stats):
        return max(float(np.abs(mine[k] - theirs[k]).max()) for k in mine if ("running_" in k) == stats)
    return {"weights": worst(False), "running_stats": worst(True)}


def _train(variant, seed, per_process, epochs, world, digits, first_weights=None):
    """One run of ``variant``; for the reference (``global``) on this process alone."""
    from .. import distributed as dist
    from .. import nn, optim
    from ..data import DataLoader, TensorDataset

    x_train, y_train, x_test, y_test = data()
    dataset = TensorDataset(x_train[:digits], y_train[:digits])
    global_batch = world * per_process
    model = _model(seed, variant)
    if variant == "global":
        trained, batch = model, global_batch
        sampler = dist.DistributedSampler(dataset, num_replicas=1, rank=0, shuffle=True, seed=seed, drop_last=True)
    else:
        if variant == "syncbn":
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        trained, batch = nn.parallel.DistributedDataParallel(model), per_process
        sampler = dist.DistributedSampler(dataset, shuffle=True, seed=seed, drop_last=True)
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, drop_last=True)
    lr = lr_for(global_batch)
    opt = optim.SGD(trained.parameters(), lr=lr, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    evaluate = variant == "global" or dist.rank() == 0
    losses, accs, steps, after_first = [], [], 0, None
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            sampler.set_epoch(epoch)
            total, count = 0.0, 0
            for xb, yb in loader:
                opt.zero_grad()
                loss = loss_fn(trained(xb), yb)
                # no early stop on a non-finite loss: every process must take every step (the
                # collectives line up); the epoch's loss records it
                loss.backward()
                opt.step()
                steps += 1
                total += loss.item() * len(yb)
                count += len(yb)
                if steps == 1:
                    after_first = _weights(model)
            if variant != "global":
                both = np.array([total, count], dtype=np.float64)
                dist.all_reduce(both)  # the loss over every process's samples
                total, count = float(both[0]), int(both[1])
            losses.append(total / count)
            accs.append(accuracy(model, x_test, y_test) if evaluate else float("nan"))
    seconds = time.perf_counter() - start
    diverged = not np.isfinite(losses[-1])
    record = {"variant": variant, "seed": seed, "per_process_batch": per_process, "global_batch": global_batch,
              "world_size": world, "loss": losses, "acc": accs, "final_acc": CHANCE if diverged else accs[-1],
              "diverged": diverged, "steps": steps, "seconds": seconds, "rank": dist.rank(),
              "setup": training_setup(
                  batch, lr, MOMENTUM, epochs, "standardized", world_size=1 if variant == "global" else world,
                  per_process_batch=global_batch if variant == "global" else per_process, global_batch=global_batch,
                  norm={"bn": "BatchNorm1d", "syncbn": "SyncBatchNorm", "gn": f"GroupNorm({GROUPS}, features)",
                        "global": "BatchNorm1d"}[variant],
                  widths=WIDTHS, activation="relu", training_digits=digits,
                  lr_rule=f"{BASE_LR} x global batch / {BASE_BATCH}",
                  shuffle="DistributedSampler(shuffle=True, seed=seed, drop_last=True" +
                          (", num_replicas=1)" if variant == "global" else ")") + ", set_epoch(epoch)",
                  gradients="one process" if variant == "global" else "averaged over processes by "
                                                                      "DistributedDataParallel",
                  init="mlp after manual_seed(seed)" + ("" if variant == "global" else "; DDP copies rank 0's"))}
    if first_weights is not None:  # the reference beside SyncBN's run with the same seed and batches
        record["max_abs_diff_to_syncbn"] = {"after_step_1": _differences(after_first, first_weights[0]),
                                            "at_end": _differences(_weights(model), first_weights[1])}
    return record, (after_first, _weights(model))


def _distributed(seeds, epochs, quick, progress):
    """Every run, in an MPI job of two or more processes; rank 0 gets them all."""
    from .. import distributed as dist

    rank, world = dist.init(), dist.world_size()
    batches = QUICK_PER_PROCESS if quick else PER_PROCESS
    digits = training_digits(quick)
    references = [(seed, b) for seed in range(seeds) for b in batches]
    # the reference runs are independent: each process takes some, the longest first, to the least loaded
    def steps(job):
        return epochs * (digits // (world * job[1]))
    load, mine = [0] * world, []
    for job in sorted(references, key=steps, reverse=True):
        k = load.index(min(load))
        load[k] += steps(job)
        if k == rank:
            mine.append(job)
    bar = Progress(len(references) * len(DISTRIBUTED) + len(mine), "sync-bn", progress and rank == 0)
    start = time.perf_counter()
    runs, syncbn_weights = [], {}
    for seed in range(seeds):
        for b in batches:
            for variant in DISTRIBUTED:
                record, weights = _train(variant, seed, b, epochs, world, digits)
                runs.append(record)
                if variant == "syncbn":
                    syncbn_weights[(seed, b)] = weights  # the same on every process (DDP)
                bar.tick(f"{variant} b={b} seed {seed}")
    for seed, b in mine:
        record, _ = _train("global", seed, b, epochs, world, digits, syncbn_weights[(seed, b)])
        runs.append(record)
        bar.tick(f"global {world * b} seed {seed}")
    gathered = dist._comm("sync-bn").gather([r for r in runs if r["variant"] == "global"], root=0)
    seconds = time.perf_counter() - start
    bar.close()
    if rank != 0:
        return {"runs": [], "design": design(world, seeds, epochs, quick)}
    references = {(r["seed"], r["per_process_batch"]): r for part in gathered for r in part}
    ordered = []
    for seed in range(seeds):
        for b in batches:
            ordered += [r for r in runs if r["seed"] == seed and r["per_process_batch"] == b
                        and r["variant"] != "global"] + [references[(seed, b)]]
    return {"runs": ordered, "design": design(world, seeds, epochs, quick), "run_seconds": seconds}


# ------------------------------------------------------------------ results
def finals(runs, variant, b):
    """Final held-out accuracies of ``variant`` at per-process batch ``b``, in seed order."""
    chosen = sorted((r for r in runs if r["variant"] == variant and r["per_process_batch"] == b),
                    key=lambda r: r["seed"])
    return [r["final_acc"] for r in chosen]


def verdicts_of(runs, batches, world):
    verdicts = []
    for b in batches:
        g = world * b
        verdicts.append(paired_verdict(f"per-process batch {b} ({world} processes): SyncBN beats per-process BN",
                                       finals(runs, "syncbn", b), finals(runs, "bn", b), unit="accuracy",
                                       accuracy=True))
        verdicts.append(paired_verdict(
            f"per-process batch {b}: SyncBN is within noise of one process at the global batch {g} (an "
            f"equivalence: 'within noise' supports it, and the 95% CI bounds the gap)",
            finals(runs, "syncbn", b), finals(runs, "global", b), unit="accuracy", accuracy=True))
        verdicts.append(paired_verdict(f"per-process batch {b}: GroupNorm beats per-process BN",
                                       finals(runs, "gn", b), finals(runs, "bn", b), unit="accuracy",
                                       accuracy=True))
    return verdicts


def _assemble(out, found):
    runs, d = found["runs"], found["design"]
    batches, world = d["per_process_batches"], d["world_size"]
    table = {v: {str(b): {"mean": float(np.mean(finals(runs, v, b))), "std": float(np.std(finals(runs, v, b)))}
                 for b in batches} for v in VARIANTS}
    results = {"design": d, "runs": runs, "accuracy": table, "verdicts": verdicts_of(runs, batches, world),
               "run_seconds": found.get("run_seconds"),
               "syncbn_vs_global": {str(b): _agreement(runs, b) for b in batches}}
    results["plots"] = _plot(out, runs, d)
    return results


def _agreement(runs, b):
    """How far SyncBN's runs at per-process batch ``b`` are from the one-process runs, over the seeds."""
    diffs = [r["max_abs_diff_to_syncbn"] for r in runs if r["variant"] == "global" and r["per_process_batch"] == b]
    equal = sum(s == g for s, g in zip(finals(runs, "syncbn", b), finals(runs, "global", b)))
    return {"max_abs_weight_diff_after_step_1": max(d["after_step_1"]["weights"] for d in diffs),
            "max_abs_weight_diff_at_end": max(d["at_end"]["weights"] for d in diffs),
            "max_abs_running_stat_diff_at_end": max(d["at_end"]["running_stats"] for d in diffs),
            "seeds_with_equal_accuracy": equal, "seeds": len(diffs)}


@figures
def _plot(plt, out, runs, d):
    batches, world = d["per_process_batches"], d["world_size"]
    colors = {"bn": "tab:blue", "syncbn": "tab:purple", "gn": "tab:green", "global": "tab:gray"}
    labels = {"bn": "BN per process", "syncbn": "SyncBN", "gn": f"GroupNorm ({GROUPS} groups)",
              "global": "1 process, BN at P x b"}
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    width = 0.8 / len(VARIANTS)
    rng = np.random.default_rng(0)  # the dots' horizontal jitter only
    for i, b in enumerate(batches):
        for j, v in enumerate(VARIANTS):
            x = i + (j - (len(VARIANTS) - 1) / 2) * width
            acc = np.array([a for a in finals(runs, v, b) if a is not None], float)
            ax.bar(x, acc.mean() if acc.size else 0.0, width * 0.9, color=colors[v], alpha=0.35,
                   label=labels[v] if i == 0 else None)
            ax.plot(x + rng.uniform(-0.25, 0.25, acc.size) * width, acc, "o", color=colors[v], markersize=4)
            if acc.size:
                ax.text(x, 0.02, f"{100 * acc.mean():.1f}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(batches)))
    ax.set_xticklabels([f"b = {b} per process\n(global {world * b})" for b in batches])
    ax.set_ylim(0, 1)
    ax.set_ylabel("held-out accuracy (eval mode)")
    epochs = d["epochs"]
    ax.set_title(f"mpiexec -n {world}, MLP 784-64-128-10, {counted(epochs, 'epoch')}, SGD momentum "
                 f"{MOMENTUM},\nlr = {BASE_LR} x global batch / {BASE_BATCH}; bars: mean of {d['seeds']} seeds, "
                 "dots: seeds")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, fontsize=9, frameon=False)
    return [save_figure(fig, out, "sync-bn.png")]


def summary(results):
    """The README's paragraph, every number from ``results`` (as loaded from the JSON)."""
    if results.get("skipped"):
        return f"Not run: {results['skipped']}."
    d = results["design"]
    world, batches = d["world_size"], d["per_process_batches"]
    acc, verdicts, gaps = results["accuracy"], results["verdicts"], results["syncbn_vs_global"]
    small = min(batches)

    def pct(variant):
        return f"{100 * acc[variant][str(small)]['mean']:.1f}%"

    def verdict(start):
        return next(v for v in verdicts if v["claim"].startswith(start))

    def points(v):
        return f"{100 * v['mean_diff']:+.1f} points ({v['outcome']}, {v['wins']} of {v['pairs']} seeds)"

    text = [(f"With {world} processes at per-process batches {join_words(batches)} (global "
             f"{join_words([world * b for b in batches])}), BatchNorm on each process's own batch reaches {pct('bn')} "
             f"held-out accuracy at b = {small}, SyncBN {pct('syncbn')}, GroupNorm {pct('gn')} and one process "
             f"at the global batch {pct('global')}.")]
    text.append("SyncBN's gain over per-process BN is " + join_words([
        f"{points(verdict(f'per-process batch {b} ({world} processes): SyncBN beats'))} at b = {b}"
        for b in batches]) + ".")
    first = max(gaps[str(b)]["max_abs_weight_diff_after_step_1"] for b in batches)
    parts = []
    for b in batches:
        same, gap = verdict(f"per-process batch {b}: SyncBN is within noise of"), gaps[str(b)]
        if gap["seeds_with_equal_accuracy"] == same["pairs"]:
            parts.append(f"at b = {b} the two reach the same accuracy on all {same['pairs']} seeds (weights "
                         f"within {gap['max_abs_weight_diff_at_end']:.1g} at the end)")
        else:
            low, high = same["ci95"]
            ci = "no interval" if low is None or high is None else \
                f"95% CI [{100 * low:+.2f}, {100 * high:+.2f}] points"
            parts.append(f"at b = {b} they reach the same accuracy on {gap['seeds_with_equal_accuracy']} of "
                         f"{same['pairs']} seeds, float32 rounding grows until the weights differ by up to "
                         f"{gap['max_abs_weight_diff_at_end']:.2g}, and the accuracy gap is "
                         f"{100 * same['mean_diff']:+.2f} points ({ci}, {same['outcome']})")
    text.append("SyncBN with averaged gradients takes the same steps as one process at the global batch in exact "
                f"arithmetic (their weights differ by at most {first:.1g} after the first step): "
                + "; ".join(parts) + ".")
    gn = verdict(f"per-process batch {small}: GroupNorm beats")
    text.append(f"GroupNorm, which uses no batch statistics, against per-process BN at b = {small}: {points(gn)}.")
    return " ".join(text)



if __name__ == "__main__":
    sys.exit(_worker())
