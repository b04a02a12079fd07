"""small-batch: does batch norm fail at tiny batches where layer and group
norm do not? SimpleNet's widths with no norm, BN, LN or GN (4 groups) after
each hidden Linear, batch sizes 2 .. 64, the learning rate scaled with the
batch size (0.05 at 64), the same number of epochs for each."""
import numpy as np

from .common import Progress, figures, paired_verdict, mlp, save_figure, train_run

TITLE = "Small batches: BN vs LN vs GN vs none"
BATCHES = [2, 4, 8, 16, 32, 64]
NORMS = {"none": None, "batch": "batch", "layer": "layer", "group": "group"}
WIDTHS = [784, 64, 128, 10]
DEFAULT_EPOCHS = 2


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):
    batches = [4, 64] if quick else BATCHES
    runs = []
    bar = Progress(len(batches) * len(NORMS) * seeds, "small-batch", progress)
    for norm, kind in NORMS.items():
        for batch in batches:
            for seed in range(seeds):
                r = train_run(lambda: mlp(WIDTHS, "relu", kind), seed, epochs, batch_size=batch,
                              lr=0.05 * batch / 64, momentum=0.9)
                runs.append({"norm": norm, "batch": batch, "seed": seed, "loss": r["loss"], "acc": r["acc"],
                             "final_acc": r["final_acc"], "diverged": r["diverged"]})
                bar.tick(f"{norm} batch {batch}")
    seconds = bar.close()

    def finals(norm, batch):
        return [r["final_acc"] for r in runs if r["norm"] == norm and r["batch"] == batch]

    small, large = min(batches), max(batches)
    verdicts = [paired_verdict(f"BN at batch {small} trails BN at batch {large}", finals("batch", large),
                            finals("batch", small))]
    for other in ("layer", "group"):
        verdicts.append(paired_verdict(f"at batch {small}, {other} norm beats batch norm", finals(other, small),
                                    finals("batch", small)))
    verdicts.append(paired_verdict(f"at batch {large}, batch norm beats no norm", finals("batch", large),
                                finals("none", large)))
    table = {norm: {str(b): {"mean": float(np.mean(finals(norm, b))), "std": float(np.std(finals(norm, b)))}
                    for b in batches} for norm in NORMS}
    results = {"batches": batches, "accuracy": table, "runs": runs, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, batches)
    return results


@figures
def _plot(plt, out, runs, batches):
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    colors = {"none": "tab:gray", "batch": "tab:blue", "layer": "tab:orange", "group": "tab:green"}
    for norm in NORMS:
        acc = np.array([[r["final_acc"] for r in runs if r["norm"] == norm and r["batch"] == b] for b in batches])
        ax.errorbar(batches, acc.mean(1), yerr=acc.std(1), fmt="o-", color=colors[norm], capsize=3,
                    label={"none": "no norm", "batch": "BatchNorm", "layer": "LayerNorm",
                           "group": "GroupNorm (4 groups)"}[norm])
    ax.set_xscale("log", base=2)
    ax.set_xticks(batches)
    ax.set_xticklabels([str(b) for b in batches])
    ax.set_xlabel("batch size (lr = 0.05 x batch / 64)")
    ax.set_ylabel("held-out accuracy (eval mode)")
    ax.set_title("ReLU MLP 784-64-128-10, mean and std over seeds")
    ax.legend()
    return [save_figure(fig, out, "small-batch.png")]
