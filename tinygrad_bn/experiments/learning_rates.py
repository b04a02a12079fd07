"""learning-rates: does batch norm let SimpleNet train at much larger learning
rates (the 2015 paper's BN-x5 / BN-x30)? Both nets over a 1000x grid of SGD
learning rates, without momentum and with SGD momentum 0.9; a run whose loss
becomes NaN or Inf is marked diverged (and counted as 10%, chance)."""
import math

import numpy as np

from ..models import SimpleNet, SimpleNetBN
from .common import (Progress, counted, figures, finite_mean, paired_verdict, percent, save_figure, train_run,
                     verdict_by_id)

TITLE = "Learning rates: how far up does each net still train?"
RATES = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
MOMENTA = [0.0, 0.9]
NETS = {"plain": SimpleNet, "bn": SimpleNetBN}
NET_NAMES = {"plain": "SimpleNet", "bn": "SimpleNetBN"}
DEFAULT_EPOCHS = 3
GOOD = 0.85  # "still trains": held-out accuracy at least this after the last epoch


def momentum_label(momentum):
    return f"SGD momentum {momentum:g}" if momentum else "no momentum"


# ------------------------------------------------------------ the measures
def largest_good_rate(rates, accs, diverged, good=GOOD):
    """The largest learning rate whose run reached ``good`` held-out accuracy
    without diverging; a net reaching it at no rate scores a tenth of the
    smallest rate (one decade below the grid, a bound rather than a value)."""
    ok = [lr for lr, a, d in zip(rates, accs, diverged)
          if not d and a is not None and math.isfinite(a) and a >= good]
    return max(ok) if ok else min(rates) / 10


def _trains(run, good=GOOD):
    """1.0 if the run reached ``good`` held-out accuracy without diverging, else 0.0."""
    return float(not run["diverged"] and run["final_acc"] is not None and run["final_acc"] >= good)


def run(out, *, seeds, epochs, progress, quick):
    rates = RATES[::3] if quick else RATES
    runs = []
    bar = Progress(len(rates) * len(MOMENTA) * len(NETS) * seeds, "learning-rates", progress)
    for momentum in MOMENTA:
        for net, cls in NETS.items():
            for lr in rates:
                for seed in range(seeds):
                    r = train_run(cls, seed, epochs, lr=lr, momentum=momentum)
                    runs.append({"net": net, "momentum": momentum, "lr": lr, "seed": seed, "loss": r["loss"],
                                 "acc": r["acc"], "final_acc": r["final_acc"], "diverged": r["diverged"],
                                 "setup": r["setup"]})
                    bar.tick(f"{net} lr {lr} m {momentum}")
    seconds = bar.close()

    def cell(net, momentum, seed):
        rs = sorted((r for r in runs if r["net"] == net and r["momentum"] == momentum and r["seed"] == seed),
                    key=lambda r: r["lr"])
        return largest_good_rate([r["lr"] for r in rs], [r["final_acc"] for r in rs], [r["diverged"] for r in rs])

    largest = {f"{net}/{m:g}": [cell(net, m, s) for s in range(seeds)] for net in NETS for m in MOMENTA}
    verdicts = []
    for momentum in MOMENTA:
        v = paired_verdict(f"{momentum_label(momentum)}: BN trains at larger rates (log10 lr reaching {GOOD:.0%})",
                           np.log10(largest[f"bn/{momentum:g}"]).tolist(),
                           np.log10(largest[f"plain/{momentum:g}"]).tolist(), unit="decades")
        v["id"] = f"largest/{momentum:g}"
        verdicts.append(v)
    top = max(rates)
    for momentum in MOMENTA:
        # "still trains" as the rate verdict counts it: reaches GOOD without diverging (1) or not (0), per seed.
        # (Held-out accuracies of two nets that both fail there, 10-20%, say how badly each fails, not the claim.)
        v = paired_verdict(f"{momentum_label(momentum)}: at lr {top:g}, BN still reaches {GOOD:.0%}, plain not",
                           [_trains(r) for r in runs if r["net"] == "bn" and r["lr"] == top
                            and r["momentum"] == momentum],
                           [_trains(r) for r in runs if r["net"] == "plain" and r["lr"] == top
                            and r["momentum"] == momentum], unit="share of seeds")
        v["id"] = f"top/{momentum:g}"
        verdicts.append(v)
    diverged = {f"{net}/{m:g}": {f"{lr:g}": sum(r["diverged"] for r in runs if r["net"] == net and r["momentum"] == m
                                               and r["lr"] == lr) for lr in rates} for net in NETS for m in MOMENTA}
    design = {"rates": rates, "momenta": MOMENTA, "nets": NET_NAMES, "optimizer": "SGD, batch 64",
              "momentum": "SGD (heavy-ball) momentum, 0 = none", "epochs": epochs, "seeds": seeds,
              "pairing": "SimpleNet and SimpleNetBN with the same seed see the same data order",
              "measures": {"still_trains_at_top": f"per seed, 1 if the run at the top rate reaches {GOOD:.0%} without "
                                                  "diverging, else 0",
                           "largest_good_lr": f"per seed, the largest rate reaching {GOOD:.0%} held-out accuracy "
                                              "without diverging (a tenth of the smallest rate if none)",
                           "diverged": "runs whose loss became NaN or Inf; their final accuracy counts as 10%"}}
    results = {"rates": rates, "momenta": MOMENTA, "good_accuracy": GOOD, "design": design, "runs": runs,
               "largest_good_lr": largest, "diverged_runs": diverged, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, rates, epochs, seeds)
    return results


# ------------------------------------------------------------ the README text


def _lr(value, rates):
    return f"below {min(rates):g}" if value < min(rates) else f"{value:g}"


def _count(share, seeds):
    return f"{round(share * seeds)}"




_SHOWS = {"shows": "BN trains at larger rates", "reversed": "the plain net trains at larger rates",
          "within noise": "neither trains at clearly larger rates"}


def summary(results):
    """The README paragraph, every number from ``results`` (as loaded from the JSON)."""
    rates, runs, seeds, good = results["rates"], results["runs"], results["seeds"], results["good_accuracy"]
    top = max(rates)

    def at_top(net, m):
        return [r["final_acc"] for r in runs if r["net"] == net and r["momentum"] == m and r["lr"] == top]
    epochs = results["epochs"]
    out = [(f"Each run trained {counted(epochs, 'epoch')}; a net's usable range ends at the largest rate "
            f"where it still reaches {good:.0%} held-out accuracy.")]
    for m in results["momenta"]:
        largest = {net: float(np.median(results["largest_good_lr"][f"{net}/{m:g}"])) for net in ("plain", "bn")}
        v, t = verdict_by_id(results, f"largest/{m:g}"), verdict_by_id(results, f"top/{m:g}")
        div = {net: [f"{n}/{seeds} at lr {lr}" for lr, n in results["diverged_runs"][f"{net}/{m:g}"].items() if n]
               for net in ("plain", "bn")}
        div_text = "; ".join(f"{NET_NAMES[net]} {', '.join(d)}" for net, d in div.items() if d)
        out.append(
            f"{f'With SGD momentum {m:g}' if m else 'Without momentum'} "
            f"{_SHOWS.get(v['outcome'], 'there is no verdict')} (median largest rate "
            f"{_lr(largest['bn'], rates)} with BN, {_lr(largest['plain'], rates)} without, "
            f"{v['mean_diff']:+.2f} decades on average); at lr {top:g} SimpleNetBN reaches {good:.0%} in "
            f"{_count(t['better_mean'], seeds)} of {seeds} seeds and SimpleNet in {_count(t['worse_mean'], seeds)}, "
            f"ending at {percent(finite_mean(at_top('bn', m)))} and {percent(finite_mean(at_top('plain', m)))} "
            "held-out accuracy. "
            + (f"Diverged: {div_text}." if div_text else "No run diverged."))
    return " ".join(out)


# ------------------------------------------------------------ the plot
@figures
def _plot(plt, out, runs, rates, epochs, seeds):
    fig, axes = plt.subplots(1, len(MOMENTA), figsize=(10, 4.8), sharey=True)
    strip = {"plain": -0.06, "bn": -0.15}  # where each net's diverged runs are counted, below the accuracies
    for ax, momentum in zip(axes, MOMENTA):
        ax.axhspan(-0.2, -0.015, color="0.92", zorder=0)
        ax.text(0.02, -0.105, "diverged\nruns", transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=9, color="0.3")
        for net, color, dx in (("plain", "tab:gray", 0.9), ("bn", "tab:blue", 1.1)):
            cells = [[r for r in runs if r["net"] == net and r["momentum"] == momentum and r["lr"] == lr]
                     for lr in rates]
            acc = np.array([[r["final_acc"] for r in c] for c in cells], float)
            div = np.array([[r["diverged"] for r in c] for c in cells])
            ax.plot(rates, acc.mean(1), "-", color=color, lw=2, label=NET_NAMES[net])
            ax.fill_between(rates, acc.min(1), acc.max(1), color=color, alpha=0.2)
            for lr, a, d in zip(rates, acc, div):  # every seed that did not diverge, beside the line
                ax.plot(np.full(int((~d).sum()), lr * dx), a[~d], "o", color=color, ms=4, alpha=0.8)
                if d.any():  # the diverged ones: counted in the strip
                    ax.plot([lr], [strip[net]], "X", color=color, ms=10, mec="black", mew=0.6)
                    ax.annotate(f"{int(d.sum())}/{len(d)}", (lr, strip[net]), xytext=(8, 0), textcoords="offset points",
                                ha="left", va="center", color=color, fontsize=10, fontweight="bold")
        ax.set_xscale("log")
        ax.set_ylim(-0.2, 1)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_xlabel("learning rate (SGD)")
        ax.set_title(f"{momentum_label(momentum)}, {epochs} epochs", fontsize=11)
        ax.axhline(0.1, color="black", lw=0.5, ls=":")
    axes[0].set_ylabel("held-out accuracy after training\n(diverged runs count as 10%)")
    axes[0].plot([], [], "X", color="white", mec="black", mew=0.6, ms=10, label="diverged: k of n seeds")
    axes[0].legend(loc="lower left", bbox_to_anchor=(0.2, 0.17))  # clear of the curves in the grid's middle
    fig.suptitle(f"SimpleNet vs SimpleNetBN (dots: seeds; line: mean; band: min to max over {seeds} seeds)",
                 fontsize=12)
    return [save_figure(fig, out, "learning-rates.png")]
