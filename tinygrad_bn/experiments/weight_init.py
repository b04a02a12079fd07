"""weight-init: does batch norm make training insensitive to the scale of the
initial weights (cs231n's experiment)? A 5 x 100 ReLU MLP with every weight
drawn from N(0, scale^2), scales 1e-4 .. 1, with and without BN."""
import numpy as np

from .. import nn
from ..grad_mode import no_grad
from .common import Progress, figures, paired_verdict, mlp, save_figure, train_run

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


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):
    scales = SCALES[::2] if quick else SCALES
    runs = []
    bar = Progress(len(scales) * 2 * seeds, "weight-init", progress)
    for bn in (False, True):
        for scale in scales:
            for seed in range(seeds):
                r = train_run(_net(bn, scale), seed, epochs, lr=0.05, momentum=0.9)
                runs.append({"bn": bn, "scale": scale, "seed": seed, "loss": r["loss"], "acc": r["acc"],
                             "final_acc": r["final_acc"], "diverged": r["diverged"]})
                bar.tick(f"{'BN' if bn else 'plain'} scale {scale:g}")
    seconds = bar.close()

    def range_over_scales(bn, seed):  # best minus worst final accuracy across scales
        accs = [r["final_acc"] for r in runs if r["bn"] == bn and r["seed"] == seed]
        return max(accs) - min(accs)

    verdicts = [paired_verdict("BN narrows the accuracy range across init scales",
                            [range_over_scales(True, s) for s in range(seeds)],
                            [range_over_scales(False, s) for s in range(seeds)], higher_is_better=False),
                paired_verdict(f"at scale {scales[0]:g}: BN trains, plain does not",
                            [r["final_acc"] for r in runs if r["bn"] and r["scale"] == scales[0]],
                            [r["final_acc"] for r in runs if not r["bn"] and r["scale"] == scales[0]])]
    results = {"scales": scales, "widths": WIDTHS, "runs": runs, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, scales)
    return results


@figures
def _plot(plt, out, runs, scales):
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for bn, color in ((False, "tab:gray"), (True, "tab:blue")):
        acc = np.array([[r["final_acc"] for r in runs if r["bn"] == bn and r["scale"] == s] for s in scales])
        ax.plot(scales, acc.mean(1), "o-", color=color, label="with BN" if bn else "without BN")
        ax.fill_between(scales, acc.min(1), acc.max(1), color=color, alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("std of the initial weights")
    ax.set_ylabel("held-out accuracy after training")
    ax.set_title("5 x 100 ReLU MLP, SGD 0.05 + momentum")
    ax.axhline(0.1, color="black", lw=0.5, ls=":")
    ax.legend()
    return [save_figure(fig, out, "weight-init.png")]
