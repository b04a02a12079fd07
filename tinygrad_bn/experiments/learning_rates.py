"""learning-rates: does batch norm let SimpleNet train at much larger learning
rates (the 2015 paper's BN-x5 / BN-x30)? Both nets over a 1000x grid, with
and without momentum; a run whose loss becomes NaN or Inf is marked diverged."""
import numpy as np

from ..models import SimpleNet, SimpleNetBN
from .common import Progress, figures, paired_verdict, save_figure, train_run

TITLE = "Learning rates: how far up does each net still train?"
RATES = [0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
MOMENTA = [0.0, 0.9]
NETS = {"plain": SimpleNet, "bn": SimpleNetBN}
DEFAULT_EPOCHS = 3
GOOD = 0.85  # "still trains": held-out accuracy at least this after the last epoch


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):
    rates = RATES[::3] if quick else RATES
    runs = []
    bar = Progress(len(rates) * len(MOMENTA) * len(NETS) * seeds, "learning-rates", progress)
    for momentum in MOMENTA:
        for net, cls in NETS.items():
            for lr in rates:
                for seed in range(seeds):
                    r = train_run(cls, seed, epochs, lr=lr, momentum=momentum)
                    runs.append({"net": net, "momentum": momentum, "lr": lr, "seed": seed, "loss": r["loss"],
                                 "acc": r["acc"], "final_acc": r["final_acc"], "diverged": r["diverged"]})
                    bar.tick(f"{net} lr {lr} m {momentum}")
    seconds = bar.close()

    def largest_good_lr(net, momentum, seed):
        good = [r["lr"] for r in runs if r["net"] == net and r["momentum"] == momentum and r["seed"] == seed
                and r["final_acc"] >= GOOD and not r["diverged"]]
        return max(good) if good else min(rates) / 10

    verdicts = []
    for momentum in MOMENTA:
        bn = [np.log10(largest_good_lr("bn", momentum, s)) for s in range(seeds)]
        plain = [np.log10(largest_good_lr("plain", momentum, s)) for s in range(seeds)]
        verdicts.append(paired_verdict(f"momentum {momentum}: BN trains at larger rates (log10 lr reaching "
                                    f"{GOOD:.0%})", bn, plain, unit="decades"))
    for momentum in MOMENTA:
        top = max(rates)
        verdicts.append(paired_verdict(f"momentum {momentum}: at lr {top}, BN beats plain",
                                    [r["final_acc"] for r in runs if r["net"] == "bn" and r["lr"] == top
                                     and r["momentum"] == momentum],
                                    [r["final_acc"] for r in runs if r["net"] == "plain" and r["lr"] == top
                                     and r["momentum"] == momentum]))
    results = {"rates": rates, "momenta": MOMENTA, "good_accuracy": GOOD, "runs": runs, "verdicts": verdicts,
               "run_seconds": seconds}
    results["plots"] = _plot(out, runs, rates)
    return results


@figures
def _plot(plt, out, runs, rates):
    fig, axes = plt.subplots(1, len(MOMENTA), figsize=(9, 3.8), sharey=True)
    for ax, momentum in zip(axes, MOMENTA):
        for net, color in (("plain", "tab:gray"), ("bn", "tab:blue")):
            acc = np.array([[r["final_acc"] for r in runs if r["net"] == net and r["momentum"] == momentum
                             and r["lr"] == lr] for lr in rates])
            div = np.array([[r["diverged"] for r in runs if r["net"] == net and r["momentum"] == momentum
                             and r["lr"] == lr] for lr in rates])
            label = "SimpleNetBN" if net == "bn" else "SimpleNet"
            ax.plot(rates, acc.mean(1), "o-", color=color, label=label)
            ax.fill_between(rates, acc.min(1), acc.max(1), color=color, alpha=0.2)
            for lr, d in zip(rates, div.any(1)):
                if d:
                    ax.plot([lr], [0.1], "x", color=color, markersize=9)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (SGD)")
        ax.set_title(f"momentum {momentum}")
        ax.axhline(0.1, color="black", lw=0.5, ls=":")
    axes[0].set_ylabel("held-out accuracy after training")
    axes[0].plot([], [], "x", color="black", label="diverged (NaN loss)")
    axes[0].legend(loc="lower left")
    return [save_figure(fig, out, "learning-rates.png")]
