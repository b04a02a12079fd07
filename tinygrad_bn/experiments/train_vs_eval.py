"""train-vs-eval: do training and inference disagree? SimpleNetBN trained with
BN momentum 0.1, 0.01 and cumulative (None), then evaluated on held-out
digits with its running statistics, with population statistics recomputed
over the training set, and with batch statistics at inference (batch 1000 and
8); and in eval mode at batch 1, which must match the running statistics."""
import numpy as np

from .. import nn
from ..creation import from_numpy
from ..grad_mode import no_grad
from ..models import SimpleNetBN
from .common import Progress, accuracy, data, figures, paired_verdict, save_figure, train_run

TITLE = "Train vs eval: running, population and batch statistics"
MOMENTA = {"0.1": 0.1, "0.01": 0.01, "cumulative": None}
VARIANTS = ["running", "population", "batch stats 1000", "batch stats 8", "eval at batch 1"]
DEFAULT_EPOCHS = 3


def _bn_layers(model):
    return [m for m in model.modules() if isinstance(m, nn.BatchNorm1d)]


def _batch_stat_accuracy(model, x, y, batch):
    """Accuracy with each batch normalized by its own statistics (train mode;
    the running buffers move, so this runs after the running-stat evaluation)."""
    correct = 0
    model.train()
    with no_grad():
        for s in range(0, len(x) - batch + 1, batch):
            correct += int((model(from_numpy(x[s:s + batch])).argmax(1).numpy() == y[s:s + batch]).sum())
    return correct / (len(x) // batch * batch)


def _population_accuracy(model, x_train, x, y):
    """Recompute every BN layer's statistics over the training set (a cumulative
    average over batches of 500, as PyTorch's precise-BN recipes do), then evaluate."""
    for bn in _bn_layers(model):
        bn.momentum = None
        bn.reset_running_stats()
    model.train()
    with no_grad():
        for s in range(0, len(x_train) - 499, 500):
            model(from_numpy(x_train[s:s + 500]))
    return accuracy(model, x, y)


def _eval_at_batch_1(model, x, y):
    n = len(x)
    model.eval()
    with no_grad():
        one = np.array([int(model(from_numpy(x[i:i + 1])).argmax(1).item()) for i in range(n)])
        full = model(from_numpy(x[:n])).argmax(1).numpy()
    return float((one == y[:n]).mean()), bool((one == full).all())


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):  # (no smaller grid)
    x_train, _, x_test, y_test = data()
    runs = []
    bar = Progress(len(MOMENTA) * seeds, "train-vs-eval", progress)
    for label, momentum in MOMENTA.items():
        def make(momentum=momentum):
            model = SimpleNetBN()
            for bn in _bn_layers(model):
                bn.momentum = momentum
            return model
        for seed in range(seeds):
            r = train_run(make, seed, epochs, evaluate=False)
            model = r["model"]
            acc = {"running": accuracy(model, x_test, y_test)}
            acc["eval at batch 1"], same = _eval_at_batch_1(model, x_test, y_test)
            acc["batch stats 1000"] = _batch_stat_accuracy(model, x_test, y_test, 1000)
            acc["batch stats 8"] = _batch_stat_accuracy(model, x_test, y_test, 8)
            acc["population"] = _population_accuracy(model, x_train, x_test, y_test)
            runs.append({"momentum": label, "seed": seed, "accuracy": acc, "eval_batch_1_matches_full_batch": same,
                         "train_loss": r["loss"]})
            bar.tick(f"momentum {label} seed {seed}")
    seconds = bar.close()

    def accs(momentum, variant):
        return [r["accuracy"][variant] for r in runs if r["momentum"] == momentum]

    verdicts = [paired_verdict(f"momentum {m}: population statistics beat the running ones", accs(m, "population"),
                            accs(m, "running")) for m in MOMENTA]
    verdicts.append(paired_verdict("momentum 0.1: running statistics beat batch statistics at batch 8",
                                accs("0.1", "running"), accs("0.1", "batch stats 8")))
    results = {"variants": VARIANTS, "runs": runs, "verdicts": verdicts, "run_seconds": seconds,
               "eval_batch_1_matches": all(r["eval_batch_1_matches_full_batch"] for r in runs)}
    results["plots"] = _plot(out, runs)
    return results


@figures
def _plot(plt, out, runs):
    fig, ax = plt.subplots(figsize=(8, 4.8))
    width = 0.8 / len(VARIANTS)
    colors = ["tab:blue", "tab:green", "tab:orange", "tab:red", "tab:purple"]
    for i, (variant, color) in enumerate(zip(VARIANTS, colors)):
        means = [np.mean([r["accuracy"][variant] for r in runs if r["momentum"] == m]) for m in MOMENTA]
        stds = [np.std([r["accuracy"][variant] for r in runs if r["momentum"] == m]) for m in MOMENTA]
        ax.bar(np.arange(len(MOMENTA)) + (i - (len(VARIANTS) - 1) / 2) * width, means, width, yerr=stds,
               color=color, label=variant, capsize=2)
    ax.set_xticks(np.arange(len(MOMENTA)))
    ax.set_xticklabels([f"momentum {m}" for m in MOMENTA])
    ax.set_ylabel("held-out accuracy")
    lo = min(min(r["accuracy"].values()) for r in runs)
    ax.set_ylim(max(0.0, lo - 0.05), 1.0)
    ax.set_title("SimpleNetBN: which statistics at inference")
    ax.legend(ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    return [save_figure(fig, out, "train-vs-eval.png")]
