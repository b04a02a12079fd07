"""gradients: do gradients vanish in deep sigmoid nets without batch norm? A
4-hidden-layer MLP (64 wide), ReLU and sigmoid, with and without BN, plain
SGD; every 10 steps the step runs on a Tape and ``Tape.grad_flow()`` gives
each weight's gradient norm."""
import numpy as np

from .common import Progress, figures, paired_verdict, mlp, save_figure, train_run

TITLE = "Per-layer gradient norms from the tape"
WIDTHS = [784, 64, 64, 64, 64, 10]
CONFIGS = [("relu", False), ("relu", True), ("sigmoid", False), ("sigmoid", True)]
DEFAULT_EPOCHS = 2
EVERY = 10


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):  # (no smaller grid)
    runs = []
    bar = Progress(len(CONFIGS) * seeds, "gradients", progress)
    for activation, bn in CONFIGS:
        for seed in range(seeds):
            steps, norms = [], []

            def on_tape(step, tape):
                weights = [f for f in tape.grad_flow() if len(f["shape"]) == 2]  # the Linear weights
                steps.append(step)
                norms.append([f["norm"] for f in weights])
            r = train_run(lambda: mlp(WIDTHS, activation, "batch" if bn else None), seed, epochs, lr=0.1,
                          momentum=0.0, tape_every=EVERY, on_tape=on_tape)
            runs.append({"activation": activation, "bn": bn, "seed": seed, "steps": steps,
                         "weight_grad_norms": norms, "final_acc": r["final_acc"], "diverged": r["diverged"]})
            bar.tick(f"{activation} {'BN' if bn else 'plain'} seed {seed}")
    seconds = bar.close()

    def first_over_last(activation, bn):
        # median over the recorded steps of |grad W1| / |grad W_last|, in decades
        out = []
        for r in runs:
            if r["activation"] == activation and r["bn"] == bn:
                n = np.array(r["weight_grad_norms"], float)
                out.append(float(np.log10(np.median(n[:, 0] / n[:, -1]))))
        return out

    verdicts = [paired_verdict(f"{act}: BN raises the first layer's gradient relative to the last's",
                            first_over_last(act, True), first_over_last(act, False), unit="decades")
                for act in ("sigmoid", "relu")]
    results = {"widths": WIDTHS, "every": EVERY, "runs": runs, "verdicts": verdicts, "run_seconds": seconds,
               "first_over_last_decades": {f"{a}/{'bn' if b else 'plain'}": first_over_last(a, b) for a, b in CONFIGS}}
    results["plots"] = _plot(out, runs)
    return results


@figures
def _plot(plt, out, runs):
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharey=True, sharex=True)
    for ax, (activation, bn) in zip(axes.T.flat, CONFIGS):
        r = next(r for r in runs if r["activation"] == activation and r["bn"] == bn and r["seed"] == 0)
        n = np.array(r["weight_grad_norms"], float)
        for layer in range(n.shape[1]):
            ax.plot(r["steps"], n[:, layer], label=f"Linear {layer + 1}", color=plt.cm.viridis(layer / n.shape[1]))
        ax.set_yscale("log")
        ax.set_title(f"{activation}, {'with' if bn else 'without'} BN")
    for ax in axes[1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("|grad W| (seed 0)")
    axes[0, 1].legend(ncol=2)
    return [save_figure(fig, out, "gradients.png")]
