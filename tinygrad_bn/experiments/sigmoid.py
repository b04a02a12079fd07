"""sigmoid: do sigmoid networks train with batch norm where they stall without
it? A 2-hidden-layer (SimpleNet's widths) and a 4-hidden-layer sigmoid MLP,
with and without BN, plain SGD at a few learning rates."""
import numpy as np

from .common import Progress, figures, paired_verdict, mlp, save_figure, train_run

TITLE = "Sigmoid nets with and without BN"
DEPTHS = {"2 hidden": [784, 64, 128, 10], "4 hidden": [784, 64, 64, 64, 64, 10]}
RATES = [0.01, 0.1, 0.5]
DEFAULT_EPOCHS = 5


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):
    rates = RATES[1:2] if quick else RATES
    runs = []
    bar = Progress(len(DEPTHS) * 2 * len(rates) * seeds, "sigmoid", progress)
    for depth, widths in DEPTHS.items():
        for bn in (False, True):
            for lr in rates:
                for seed in range(seeds):
                    r = train_run(lambda: mlp(widths, "sigmoid", "batch" if bn else None), seed, epochs, lr=lr,
                                  momentum=0.0)
                    runs.append({"depth": depth, "bn": bn, "lr": lr, "seed": seed, "loss": r["loss"],
                                 "acc": r["acc"], "final_acc": r["final_acc"], "diverged": r["diverged"]})
                    bar.tick(f"{depth} {'BN' if bn else 'plain'} lr {lr}")
    seconds = bar.close()

    def best(depth, bn, seed):  # each net at its best learning rate, per seed
        return max(r["final_acc"] for r in runs if r["depth"] == depth and r["bn"] == bn and r["seed"] == seed)

    verdicts = [paired_verdict(f"{depth} sigmoid: BN reaches higher accuracy (best lr each)",
                            [best(depth, True, s) for s in range(seeds)],
                            [best(depth, False, s) for s in range(seeds)]) for depth in DEPTHS]
    lr = rates[0]
    verdicts += [paired_verdict(f"{depth} sigmoid at lr {lr}: BN trains where plain stalls",
                             [r["final_acc"] for r in runs if r["depth"] == depth and r["bn"] and r["lr"] == lr],
                             [r["final_acc"] for r in runs if r["depth"] == depth and not r["bn"] and r["lr"] == lr])
                 for depth in DEPTHS]
    results = {"rates": rates, "depths": DEPTHS, "runs": runs, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, rates, epochs)
    return results


@figures
def _plot(plt, out, runs, rates, epochs):
    fig, axes = plt.subplots(1, len(DEPTHS), figsize=(9, 3.8), sharey=True)
    x = np.arange(1, epochs + 1)
    for ax, depth in zip(axes, DEPTHS):
        for bn, style in ((False, "--"), (True, "-")):
            for lr, color in zip(rates, ("tab:orange", "tab:green", "tab:purple")):
                acc = np.array([r["acc"] for r in runs if r["depth"] == depth and r["bn"] == bn and r["lr"] == lr])
                ax.plot(x, np.nanmean(acc, 0), style, color=color, label=f"{'BN' if bn else 'plain'}, lr {lr}")
        ax.set_title(f"sigmoid MLP, {depth} layer{'s' if depth[0] != '1' else ''}")
        ax.set_xlabel("epoch")
        ax.axhline(0.1, color="black", lw=0.5, ls=":")
    axes[0].set_ylabel("held-out accuracy (mean over seeds)")
    axes[-1].legend(ncol=2, loc="center right")
    return [save_figure(fig, out, "sigmoid.png")]
