"""gradients: do gradients vanish in deep sigmoid nets without batch norm? A
4-hidden-layer MLP (64 wide), ReLU and sigmoid, with and without BN, plain
SGD (lr 0.1, no momentum); every 10 steps the step runs on a Tape and
``Tape.grad_flow()`` gives each weight's gradient norm."""
import numpy as np

from .common import Progress, counted, figures, mlp, paired_verdict, save_figure, train_run

TITLE = "Per-layer gradient norms from the tape"
WIDTHS = [784, 64, 64, 64, 64, 10]
CONFIGS = [("relu", False), ("relu", True), ("sigmoid", False), ("sigmoid", True)]
DEFAULT_EPOCHS = 2
EVERY = 10
LR, MOMENTUM = 0.1, 0.0


# ------------------------------------------------------------ the measure
def first_over_last_decades(norms):
    """log10 of the median over the recorded steps of |grad W_first| / |grad
    W_last|: ``norms`` is steps x layers. Negative: the first layer's gradient
    is smaller (vanishing towards the input)."""
    n = np.asarray(norms, float)
    return float(np.log10(np.median(n[:, 0] / n[:, -1])))


def run(out, *, seeds, epochs, progress, quick):  # (no smaller grid)
    runs = []
    bar = Progress(len(CONFIGS) * seeds, "gradients", progress)
    for activation, bn in CONFIGS:
        for seed in range(seeds):
            steps, norms = [], []

            def on_tape(step, tape, steps=steps, norms=norms):
                weights = [f for f in tape.grad_flow() if len(f["shape"]) == 2]  # the Linear weights
                steps.append(step)
                norms.append([f["norm"] for f in weights])
            r = train_run(lambda activation=activation, bn=bn: mlp(WIDTHS, activation, "batch" if bn else None), seed,
                          epochs, lr=LR,
                          momentum=MOMENTUM, tape_every=EVERY, on_tape=on_tape)
            runs.append({"activation": activation, "bn": bn, "seed": seed, "steps": steps,
                         "weight_grad_norms": norms, "first_over_last_decades": first_over_last_decades(norms),
                         "final_acc": r["final_acc"], "diverged": r["diverged"], "setup": r["setup"]})
            bar.tick(f"{activation} {'BN' if bn else 'plain'} seed {seed}")
    seconds = bar.close()

    def decades(activation, bn):
        return [r["first_over_last_decades"] for r in runs if r["activation"] == activation and r["bn"] == bn]

    verdicts = []
    for act in ("sigmoid", "relu"):
        v = paired_verdict(f"{act}: BN raises the first layer's gradient relative to the last's",
                           decades(act, True), decades(act, False), unit="decades")
        v["id"] = f"{act}/ratio"
        verdicts.append(v)
    design = {"widths": WIDTHS, "configs": [{"activation": a, "bn": b} for a, b in CONFIGS],
              "optimizer": f"SGD lr {LR}, no momentum, batch 64", "epochs": epochs, "seeds": seeds, "every": EVERY,
              "pairing": "the plain and BN net with the same seed see the same data order",
              "measure": "per run, log10 of the median over the recorded steps of |grad W1| / |grad W5| "
                         "(the Linear weights' gradient norms from Tape.grad_flow())"}
    results = {"widths": WIDTHS, "every": EVERY, "design": design, "runs": runs, "verdicts": verdicts,
               "run_seconds": seconds,
               "first_over_last_decades": {f"{a}/{'bn' if b else 'plain'}": decades(a, b) for a, b in CONFIGS}}
    results["plots"] = _plot(out, runs, epochs, seeds)
    return results


# ------------------------------------------------------------ the README text
_SAYS = {"shows": "BN raises the first layer's gradient relative to the last's",
         "reversed": "BN lowers the first layer's gradient relative to the last's",
         "within noise": "BN makes no clear difference to the first layer's gradient relative to the last's"}
NAMES = {"sigmoid": "sigmoid", "relu": "ReLU"}


def summary(results):
    """The README paragraph, every number from ``results`` (as loaded from the JSON)."""
    d = results["first_over_last_decades"]
    med = {k: float(np.median([x for x in v if x is not None])) for k, v in d.items()}
    acc = {}
    for r in results["runs"]:
        acc.setdefault(f"{r['activation']}/{'bn' if r['bn'] else 'plain'}", []).append(r["final_acc"])
    epochs = results["epochs"]
    out = [(f"Over {counted(epochs, 'epoch')} of SGD (lr {LR:g}, no momentum), the first Linear's weight "
            f"gradient norm sits {med['sigmoid/plain']:+.1f} decades from the last one's in the sigmoid net without "
            f"BN (a factor of {10 ** abs(med['sigmoid/plain']):.0f}) and {med['sigmoid/bn']:+.1f} with it, and "
            f"{med['relu/plain']:+.1f} without and {med['relu/bn']:+.1f} with in the ReLU net (log10 of the median "
            f"ratio over a run's steps, median over {results['seeds']} seeds).")]
    said = {act: _SAYS.get(next(v for v in results["verdicts"] if v.get("id") == f"{act}/ratio")["outcome"])
            for act in NAMES}
    if said["sigmoid"] == said["relu"] and said["relu"] is not None:
        out.append(f"In both nets {said['relu']}.")
    else:
        text = "; ".join(f"in the {NAMES[act]} net {said[act] or 'there is no verdict (quick run)'}" for act in NAMES)
        out.append(text[0].upper() + text[1:] + ".")
    out.append(f"The sigmoid nets end at {100 * np.mean(acc['sigmoid/plain']):.1f}% held-out accuracy without BN "
               f"and {100 * np.mean(acc['sigmoid/bn']):.1f}% with it.")
    return " ".join(out)


# ------------------------------------------------------------ the plot
@figures
def _plot(plt, out, runs, epochs, seeds):
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharey=True, sharex=True)
    layers = len(WIDTHS) - 1
    colors = [plt.cm.viridis(i / (layers - 1) * 0.9) for i in range(layers)]
    for ax, (activation, bn) in zip(axes.T.flat, CONFIGS):
        rs = [r for r in runs if r["activation"] == activation and r["bn"] == bn]
        length = min(len(r["steps"]) for r in rs)  # (all the same unless a run diverged)
        steps = rs[0]["steps"][:length]
        n = np.array([r["weight_grad_norms"][:length] for r in rs], float)  # seeds x steps x layers
        for layer in range(layers):
            logs = np.log10(n[:, :, layer])
            ax.plot(steps, 10 ** logs.mean(0), color=colors[layer], lw=1.8, label=f"Linear {layer + 1}")
            ax.fill_between(steps, 10 ** logs.min(0), 10 ** logs.max(0), color=colors[layer], alpha=0.2)
        ax.set_yscale("log")
        ax.set_title(f"{activation}, {'with' if bn else 'without'} BN", fontsize=11)
    for ax in axes[1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("|grad W|")
    axes[1, 0].legend(ncol=3, loc="lower right", fontsize=10, handlelength=1.2,
                      columnspacing=1.0)  # ReLU with BN: its norms stay near 1, the bottom of the panel is empty
    fig.suptitle(f"4 x 64 MLP, SGD lr {LR:g}, no momentum, {epochs} epochs: weight-gradient norms\n"
                 f"(line: geometric mean; band: min to max over {seeds} seeds)")
    return [save_figure(fig, out, "gradients.png")]
