"""weight-init: does batch norm make training insensitive to the scale of the
initial weights (cs231n's experiment)? A 5 x 100 ReLU MLP with every weight
drawn from N(0, scale^2), scales 1e-4 .. 1, with and without BN."""
import math

import numpy as np

from .. import nn
from ..grad_mode import no_grad
from .common import (Progress, counted, figures, finite_mean, mlp, paired_verdict, percent, save_figure, train_run,
                     verdict_by_id)

TITLE = "Weight-init scale with and without BN (5 x 100 ReLU MLP)"
SCALES = [1e-4, 1e-3, 1e-2, 1e-1, 1.0]
WIDTHS = [784, 100, 100, 100, 100, 100, 10]
DEFAULT_EPOCHS = 3


def _net(bn, scale):
    def make():
        model = mlp(WIDTHS, "relu", "batch" if bn else None)
        with no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0.0, scale)
                    nn.init.zeros_(m.bias)
        return model
    return make


GOOD = 0.8  # "trains at this scale": held-out accuracy at least this after the last epoch
LR, MOMENTUM = 0.05, 0.9
CHANCE_BAND = 0.11  # below this a run has not learned (ten balanced classes: chance is 10%)


# ------------------------------------------------------------ the measures
def worst_over_scales(accs):
    """A net's worst held-out accuracy over the init scales (one seed): a net
    that trains at no scale scores chance, one that trains at all of them its
    weakest scale. A diverged run counts as chance (train_run's final_acc)."""
    a = np.array([np.nan if v is None else v for v in accs], float)
    return float(np.nanmin(a)) if np.isfinite(a).any() else float("nan")


def scales_reaching(accs, bar=GOOD):
    """How many of the scales reach held-out accuracy ``bar``."""
    return int(sum(1 for v in accs if v is not None and math.isfinite(v) and v >= bar))


def run(out, *, seeds, epochs, progress, quick):
    scales = SCALES[::2] if quick else SCALES  # quick: every other scale, both ends kept
    runs = []
    bar = Progress(len(scales) * 2 * seeds, "weight-init", progress)
    for bn in (False, True):
        for scale in scales:
            for seed in range(seeds):
                r = train_run(_net(bn, scale), seed, epochs, lr=LR, momentum=MOMENTUM)
                runs.append({"bn": bn, "scale": scale, "seed": seed, "loss": r["loss"], "acc": r["acc"],
                             "final_acc": r["final_acc"], "diverged": r["diverged"], "setup": r["setup"]})
                bar.tick(f"{'BN' if bn else 'plain'} scale {scale:g}")
    seconds = bar.close()

    def accs(bn, seed):
        return [r["final_acc"] for r in runs if r["bn"] == bn and r["seed"] == seed]

    verdicts = [paired_verdict("BN raises the worst held-out accuracy over the init scales",
                               [worst_over_scales(accs(True, s)) for s in range(seeds)],
                               [worst_over_scales(accs(False, s)) for s in range(seeds)],
                               accuracy=True, unit="accuracy"),
                paired_verdict(f"BN reaches {GOOD:.0%} at more of the {len(scales)} init scales",
                               [scales_reaching(accs(True, s)) for s in range(seeds)],
                               [scales_reaching(accs(False, s)) for s in range(seeds)], unit="scales"),
                paired_verdict(f"at init std {scales[0]:g}: BN trains, plain does not",
                               [r["final_acc"] for r in runs if r["bn"] and r["scale"] == scales[0]],
                               [r["final_acc"] for r in runs if not r["bn"] and r["scale"] == scales[0]],
                               accuracy=True, unit="accuracy")]
    for v, vid in zip(verdicts, ("worst", "count", "smallest")):
        v["id"] = vid
    per_seed = {("bn" if bn else "plain"): {
        "worst_accuracy": [worst_over_scales(accs(bn, s)) for s in range(seeds)],
        "scales_reaching_good": [scales_reaching(accs(bn, s)) for s in range(seeds)]} for bn in (False, True)}
    diverged = {("bn" if bn else "plain"): {
        str(sc): sum(r["diverged"] for r in runs if r["bn"] == bn and r["scale"] == sc) for sc in scales}
        for bn in (False, True)}
    design = {"scales": scales, "widths": WIDTHS, "init": "every Linear weight ~ N(0, scale^2), biases 0",
              "norm": "BatchNorm1d after each hidden Linear (BN) or none (plain)",
              "optimizer": f"SGD lr {LR}, SGD momentum {MOMENTUM}, batch 64", "epochs": epochs, "seeds": seeds,
              "pairing": "the plain and BN net with the same seed see the same data order",
              "measures": {"worst_accuracy": "per seed, the lowest held-out accuracy over the scales (diverged = 10%)",
                           "scales_reaching_good": f"per seed, how many scales reach {GOOD:.0%}",
                           "diverged": "runs whose loss became NaN or Inf (final accuracy counted as 10%)"}}
    results = {"scales": scales, "widths": WIDTHS, "good_accuracy": GOOD, "design": design, "runs": runs,
               "per_seed": per_seed, "diverged_runs": diverged, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, scales, epochs, seeds)
    return results


# ------------------------------------------------------------ the README text




_OUTCOME = {"shows": "the claim shows", "within noise": "within noise", "reversed": "the claim is reversed"}


def summary(results):
    """The README paragraph, every number from ``results`` (as loaded from the JSON)."""
    scales, runs, seeds = results["scales"], results["runs"], results["seeds"]
    good = results["good_accuracy"]

    def mean_acc(bn, scale):
        return percent(finite_mean([r["final_acc"] for r in runs if r["bn"] == bn and r["scale"] == scale]))

    worst, count = verdict_by_id(results, "worst"), verdict_by_id(results, "count")
    out = [f"After {counted(results['epochs'], 'epoch')} the mean held-out accuracy at init std "
           + ", ".join(f"{sc:g}" for sc in scales) + " is "
           + ", ".join(mean_acc(False, sc) for sc in scales) + " without BN and "
           + ", ".join(mean_acc(True, sc) for sc in scales) + " with BN."]
    out.append(f"The worst scale of each seed averages {100 * worst['better_mean']:.1f}% with BN against "
               f"{100 * worst['worse_mean']:.1f}% without ({_OUTCOME.get(worst['outcome'], worst['outcome'])}), and "
               f"BN reaches {good:.0%} at {count['better_mean']:.1f} of {len(scales)} scales on average against "
               f"{count['worse_mean']:.1f}.")
    for bn in (False, True):  # runs that neither learned nor diverged
        stuck = [r for r in runs if r["bn"] == bn and not r["diverged"] and r["final_acc"] is not None
                 and r["final_acc"] < CHANCE_BAND]
        if stuck:
            at = sorted({r["scale"] for r in stuck})
            out.append(f"{len(stuck)} of {sum(r['bn'] == bn for r in runs)} runs "
                       f"{'with' if bn else 'without'} BN stay below {CHANCE_BAND:.0%} without diverging "
                       f"(at std {', '.join(f'{sc:g}' for sc in at)}): they have not started learning.")
    div = results["diverged_runs"]
    parts = [f"{n} of {seeds} {'with' if net == 'bn' else 'without'} BN at std {float(sc):g}"
             for net in ("plain", "bn") for sc, n in div[net].items() if n]
    out.append(("Diverged (NaN loss, counted as 10%): " + "; ".join(parts) + ".") if parts
               else "No run diverged.")
    return " ".join(out)


@figures
def _plot(plt, out, runs, scales, epochs, seeds):
    fig, ax = plt.subplots(figsize=(6.5, 4.4))
    for bn, color, dx in ((False, "tab:gray", 0.93), (True, "tab:blue", 1.07)):
        acc = np.array([[r["final_acc"] for r in runs if r["bn"] == bn and r["scale"] == s] for s in scales], float)
        div = np.array([[r["diverged"] for r in runs if r["bn"] == bn and r["scale"] == s] for s in scales])
        ax.plot(scales, acc.mean(1), "-", color=color, lw=2, label="with BN" if bn else "without BN")
        ax.fill_between(scales, acc.min(1), acc.max(1), color=color, alpha=0.2)
        for s, a, d in zip(scales, acc, div):  # every seed: dot if it trained, X if it diverged
            xs = np.full(len(a), s * dx)
            ax.plot(xs[~d], a[~d], "o", color=color, ms=4, alpha=0.8)
            if d.any():
                ax.plot(xs[d], a[d], "X", color="tab:red", ms=9, mec="black", mew=0.6)
                ha = "right" if s == scales[-1] else "left" if s == scales[0] else "center"
                ax.annotate(f"{int(d.sum())}/{len(d)} diverged", (s * dx, 0.1), xytext=(0, 14),
                            textcoords="offset points", ha=ha, color="tab:red", fontsize=10)
    ax.plot([], [], "X", color="tab:red", mec="black", mew=0.6, ms=9, label="diverged (shown at 10%)")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("std of the initial weights")
    ax.set_ylabel(f"held-out accuracy after {epochs} epochs")
    ax.set_title(f"5 x 100 ReLU MLP, SGD lr {LR:g}, SGD momentum {MOMENTUM:g}, {epochs} epochs\n"
                 f"(dots: seeds; line: mean; band: min to max over {seeds} seeds)", fontsize=11)
    ax.axhline(0.1, color="black", lw=0.5, ls=":")
    ax.legend(loc="center left")
    return [save_figure(fig, out, "weight-init.png")]
