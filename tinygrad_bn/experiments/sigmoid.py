"""sigmoid: do sigmoid networks train with batch norm where they stall without
it? A 2-hidden-layer (SimpleNet's widths) and a 4-hidden-layer sigmoid MLP,
with and without BN, plain SGD (no momentum).

Deep sigmoid nets without BN can sit at chance for many epochs and then start
learning, so a short run cannot tell "does not train" from "trains slowly":
the runs are long (30 epochs) and the measure is how many epochs each net needs
to reach 50% and 80% held-out accuracy, beside the accuracy at the end. The
held-out accuracy is taken every quarter epoch until a run has reached the
highest mark (a net that gets there within the first epoch or two is told apart
from one a little slower), and at every epoch's end as always. To fit
the time, the grid is three (depth, rate) cells: the 2-hidden net at a small
and a large rate, and the 4-hidden net at the large one (at lr 0.1 and 0.5 the
plain 4-hidden net barely leaves chance in 30 epochs)."""
import math

import numpy as np

from .common import (Progress, accuracy, counted, data, figures, mlp, paired_verdict, save_figure, train_run,
                     verdict_by_id)

TITLE = "Sigmoid nets with and without BN"
DEPTHS = {"2 hidden": [784, 64, 128, 10], "4 hidden": [784, 64, 64, 64, 64, 10]}
GRID = [("2 hidden", 0.1), ("2 hidden", 1.0), ("4 hidden", 1.0)]  # (depth, SGD lr)
QUICK_GRID = [("4 hidden", 1.0)]
MARKS = (0.5, 0.8)  # held-out accuracies whose first epoch is recorded
DEFAULT_EPOCHS = 30
EVALS_PER_EPOCH = 4  # held-out accuracy every quarter epoch until the highest mark is reached
BATCH_SIZE = 64  # train_run's


# ------------------------------------------------------------ the measures
def epochs_to(acc, mark, at=None):
    """The first time, in epochs, at which held-out accuracy is at least
    ``mark``, or None if none of ``acc`` reaches it. ``acc``: the accuracies
    (NaN/None where a run diverged) measured at the epochs ``at`` (default
    1, 2, ...: one per epoch; 0.25, 0.5, ... for quarter epochs)."""
    at = range(1, len(acc) + 1) if at is None else at
    for epoch, a in zip(at, acc):
        if a is not None and math.isfinite(a) and a >= mark:
            return epoch
    return None


def _fine_curve(steps_per_epoch, marks=MARKS, per_epoch=EVALS_PER_EPOCH):
    """``on_step`` for train_run: held-out accuracy every 1/``per_epoch``
    epoch until it reaches the highest of ``marks``; returns (at, acc, on_step)
    with ``at`` in epochs. Evaluation is in eval mode without gradients, so the
    training run is the same as without it."""
    _, _, x_test, y_test = data("standardized")
    points = {round(q * steps_per_epoch / per_epoch): q for q in range(1, per_epoch + 1)}
    at, acc = [], []

    def on_step(model, step, loss):
        if acc and acc[-1] >= max(marks):
            return
        epoch, within = divmod(step - 1, steps_per_epoch)
        q = points.get(within + 1)
        if q is not None:
            at.append(epoch + q / per_epoch)
            acc.append(accuracy(model, x_test, y_test))
    return at, acc, on_step


def censored(epoch, epochs):
    """``epochs_to`` for a verdict: a net that never reached the mark within
    ``epochs`` epochs counts as ``epochs + 1`` (a lower bound on its true
    number, so a gap over it is a lower bound too)."""
    return epochs + 1 if epoch is None else epoch


def _key(mark):
    return f"{round(100 * mark)}"


def run(out, *, seeds, epochs, progress, quick):
    grid = QUICK_GRID if quick else GRID
    runs = []
    bar = Progress(len(grid) * 2 * seeds, "sigmoid", progress)
    for depth, lr in grid:
        widths = DEPTHS[depth]
        for bn in (False, True):
            for seed in range(seeds):
                at, fine, on_step = _fine_curve(len(data("standardized")[0]) // BATCH_SIZE)
                r = train_run(lambda widths=widths, bn=bn: mlp(widths, "sigmoid", "batch" if bn else None), seed,
                              epochs, lr=lr,
                              momentum=0.0, batch_size=BATCH_SIZE, on_step=on_step)
                runs.append({"depth": depth, "bn": bn, "lr": lr, "seed": seed, "loss": r["loss"], "acc": r["acc"],
                             "final_acc": r["final_acc"], "diverged": r["diverged"], "setup": r["setup"],
                             "fine_epochs": at, "fine_acc": fine,  # quarter epochs, up to the highest mark
                             "epochs_to": {_key(m): epochs_to(fine, m, at) for m in MARKS}})
                bar.tick(f"{depth} {'BN' if bn else 'plain'} lr {lr}")
    seconds = bar.close()

    def pick(depth, lr, bn):
        return [r for r in runs if r["depth"] == depth and r["lr"] == lr and r["bn"] == bn]

    verdicts = []
    for depth, lr in grid:
        cell = f"{depth}, lr {lr:g}"
        for mark in MARKS:
            v = paired_verdict(f"{cell}: BN reaches {mark:.0%} in fewer epochs (never: {epochs + 1})",
                               [censored(r["epochs_to"][_key(mark)], epochs) for r in pick(depth, lr, True)],
                               [censored(r["epochs_to"][_key(mark)], epochs) for r in pick(depth, lr, False)],
                               higher_is_better=False, unit="epochs")
            v["id"] = f"{depth}/{lr:g}/to{_key(mark)}"
            verdicts.append(v)
        v = paired_verdict(f"{cell}: BN has higher accuracy after epoch {epochs}",
                           [r["final_acc"] for r in pick(depth, lr, True)],
                           [r["final_acc"] for r in pick(depth, lr, False)], accuracy=True, unit="accuracy")
        v["id"] = f"{depth}/{lr:g}/final"
        verdicts.append(v)
    design = {"grid": [{"depth": d, "widths": DEPTHS[d], "lr": lr} for d, lr in grid],
              "activation": "sigmoid", "norm": "BatchNorm1d after each hidden Linear (BN) or none (plain)",
              "optimizer": "SGD, no momentum, batch 64", "epochs": epochs, "seeds": seeds,
              "pairing": "the plain and BN net with the same seed see the same data order",
              "measures": {"epochs_to": f"the first quarter epoch at which held-out accuracy reaches "
                                        f"{', '.join(f'{m:.0%}' for m in MARKS)} (None if never; measured every "
                                        f"1/{EVALS_PER_EPOCH} epoch until the highest mark is reached); the "
                                        "verdicts count never as epochs + 1",
                           "final_acc": f"held-out accuracy after epoch {epochs}"}}
    results = {"grid": [list(c) for c in grid], "depths": DEPTHS, "marks": list(MARKS), "design": design,
               "runs": runs, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, grid, epochs, seeds)
    return results


# ------------------------------------------------------------ the README text


def _when(runs, mark, epochs):
    """When the runs reach ``mark`` (a key of epochs_to): the median epoch over
    the seeds that did, and how many never did within ``epochs``."""
    reached = [r["epochs_to"][mark] for r in runs if r["epochs_to"][mark] is not None]
    never = len(runs) - len(reached)
    if not reached:
        return f"never reaches {mark}% in {counted(epochs, 'epoch')}"
    text = f"reaches {mark}% after {float(np.median(reached)):g} epochs"
    return text + (f" ({never} of {len(runs)} seeds never)" if never else "")


_SPEED = {"shows": "BN gets to {mark}% sooner", "reversed": "the plain net gets to {mark}% sooner",
          "within noise": "neither gets to {mark}% clearly sooner"}
_FINAL = {"shows": "BN ends higher", "reversed": "the plain net ends higher", "within noise": "they end within noise"}


def summary(results):
    """The README paragraph, every number from ``results`` (as loaded from the JSON)."""
    epochs, runs = results["epochs"], results["runs"]
    marks = [_key(m) for m in results["marks"]]
    out = [(f"Each net trained {counted(epochs, 'epoch')} with SGD without momentum; a net that never "
            f"reached a mark counts as {epochs + 1} epochs in the table, and the times below are medians over seeds.")]
    for depth, lr in results["grid"]:
        cell = [r for r in runs if r["depth"] == depth and r["lr"] == lr]
        bn, plain = [r for r in cell if r["bn"]], [r for r in cell if not r["bn"]]
        final = verdict_by_id(results, f"{depth}/{lr:g}/final")
        late = verdict_by_id(results, f"{depth}/{lr:g}/to{marks[-1]}")
        verdict = (f"{_SPEED.get(late['outcome'], 'no verdict on the time to {mark}%')}; "
                   f"{_FINAL.get(final['outcome'], 'no verdict on the end')}").format(mark=marks[-1])
        out.append(
            f"{depth[0]}-hidden-layer net at lr {lr:g} ({verdict}): without BN it "
            + " and ".join(_when(plain, m, epochs) for m in marks)
            + f", ending at {100 * final['worse_mean']:.1f}%; with BN it "
            + " and ".join(_when(bn, m, epochs) for m in marks)
            + f", ending at {100 * final['better_mean']:.1f}%.")
    return " ".join(out)


# ------------------------------------------------------------ the plot
@figures
def _plot(plt, out, runs, grid, epochs, seeds):
    fig, axes = plt.subplots(1, len(grid), figsize=(3.4 * len(grid) + 0.6, 4.4), sharey=True, squeeze=False)
    x = np.arange(1, epochs + 1)
    for ax, (depth, lr) in zip(axes[0], grid):
        for bn, color in ((False, "tab:gray"), (True, "tab:blue")):
            acc = np.array([r["acc"] for r in runs if r["depth"] == depth and r["lr"] == lr and r["bn"] == bn], float)
            ax.plot(x, np.nanmean(acc, 0), color=color, lw=2, label="with BN" if bn else "without BN")
            ax.fill_between(x, np.nanmin(acc, 0), np.nanmax(acc, 0), color=color, alpha=0.25)
        for m in MARKS:
            ax.axhline(m, color="black", lw=0.6, ls="--")
        ax.axhline(0.1, color="black", lw=0.6, ls=":")
        ax.set_title(f"{depth}, SGD lr {lr:g}", fontsize=11)
        ax.set_xlabel("epoch")
        ax.set_ylim(0, 1)
    axes[0, 0].set_ylabel("held-out accuracy")
    axes[0, 0].legend(loc="lower right", bbox_to_anchor=(1, 0.15))  # below the curves' plateau, above chance
    fig.suptitle(f"Sigmoid MLPs, SGD without momentum, {epochs} epochs\n(line: mean, band: min to max over {seeds} "
                 f"seeds; dashed: {', '.join(f'{m:.0%}' for m in MARKS)}; dotted: chance)")
    return [save_figure(fig, out, "sigmoid.png")]
