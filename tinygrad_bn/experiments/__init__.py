"""The batch-norm experiments: each reruns a claim from the normalization
articles on the bundled digits, prints a verdict table, and writes PNG plots
and a JSON of every number to ``out``.

    tinygrad-bn experiment bn-vs-plain --out results/ --seeds 3
    python -m tinygrad_bn.experiments small-batch --quick
"""
import importlib
import os
import sys
import time

from .common import counted, discard_pending, environment, verdict_table, withhold_verdicts, write_results

EXPERIMENTS = {
    "bn-vs-plain": "bn_vs_plain",
    "learning-rates": "learning_rates",
    "sigmoid": "sigmoid",
    "weight-init": "weight_init",
    "small-batch": "small_batch",
    "train-vs-eval": "train_vs_eval",
    "gradients": "gradients",
    "sharpness": "sharpness",
    "landscape": "landscape",
    "sync-bn": "sync_bn",
}
QUICK_EPOCHS = 1
QUICK_SEEDS = 2
DEFAULT_SEEDS = 5
# Inside an MPI job (sync-bn) every rank runs the experiment; rank 0 alone writes
# the files and prints the table, the others get results marked written_by_rank_0.
RANK_ZERO_WRITES = True


def module(name):
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment: unknown experiment {name!r}; choose one of {', '.join(EXPERIMENTS)} or all")
    return importlib.import_module(f"{__name__}.{EXPERIMENTS[name]}")


def run(name, out="results", seeds=DEFAULT_SEEDS, epochs=None, quick=False, progress=True, log=print):
    """Run one experiment (or ``"all"``); returns its results (a list for all).
    ``quick`` runs a small version (1 epoch, 2 seeds, fewer settings) for
    tests; its verdicts are withheld ("quick run: no verdict")."""
    if name == "all":
        return [run(n, out, seeds, epochs, quick, progress, log) for n in EXPERIMENTS]
    mod = module(name)
    if quick:
        seeds, epochs = min(seeds, QUICK_SEEDS), QUICK_EPOCHS if epochs is None else epochs
    epochs = mod.DEFAULT_EPOCHS if epochs is None else epochs
    os.makedirs(out, exist_ok=True)
    start = time.perf_counter()
    try:
        results = {"experiment": name, "title": mod.TITLE, "seeds": seeds, "epochs": epochs, "quick": quick,
                   "environment": environment(),
                   **mod.run(out, seeds=seeds, epochs=epochs, progress=progress, quick=quick)}
    except BaseException:
        discard_pending()  # plots of a run that produced no results: the old files stay
        raise
    if results.get("written_by_rank_0"):
        return results
    if quick:
        withhold_verdicts(results["verdicts"])
    results["seconds"] = time.perf_counter() - start
    json_path = write_results(out, name, results)
    log(f"\n{mod.TITLE} ({counted(seeds, 'seed')}, {counted(epochs, 'epoch')}, "
        f"{results['seconds']:.0f} s)")
    log(verdict_table(results["verdicts"]))
    log(f"wrote {json_path}" + "".join(f", {p}" for p in results.get("plots", [])))
    return results


def main(argv=None):
    import argparse

    p = argparse.ArgumentParser(prog="python -m tinygrad_bn.experiments")
    add_arguments(p)
    args = p.parse_args(argv)
    run(args.name, args.out, args.seeds, args.epochs, args.quick, not args.no_progress)
    return 0


def add_arguments(p):
    p.add_argument("name", choices=list(EXPERIMENTS) + ["all"], help="which experiment (or all)")
    p.add_argument("--out", default="results", help="folder for the JSON and PNG files (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                   help="seeds per setting; runs with the same seed are paired (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=None, help="epochs per run (default: the experiment's)")
    p.add_argument("--quick", action="store_true", help="a small version that runs in seconds (for tests)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


if __name__ == "__main__":
    sys.exit(main())
