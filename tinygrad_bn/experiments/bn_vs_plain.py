"""bn-vs-plain: does batch norm make SimpleNet converge faster and keep the
first layer's pre-activations at a stable scale?

Two settings: the CLI's baseline (standardized pixels, SGD lr 0.05 with
momentum 0.9) and the articles' (raw [0, 1] pixels, plain SGD lr 0.01)."""
import numpy as np

from ..creation import from_numpy
from ..grad_mode import no_grad
from ..models import SimpleNet, SimpleNetBN
from .common import Progress, data, figures, paired_verdict, save_figure, train_run

TITLE = "BN vs plain: convergence and pre-activation scale"
SETTINGS = {"baseline": dict(pixels="standardized", lr=0.05, momentum=0.9),
            "article": dict(pixels="raw", lr=0.01, momentum=0.0)}
NETS = {"plain": SimpleNet, "bn": SimpleNetBN}
DEFAULT_EPOCHS = 10


def _first_pre_activations(pixels, sample=512):
    """A recorder of the input to the first ReLU (the first Linear's output, after
    batch norm in the BN net) on held-out digits, per epoch."""
    x = from_numpy(data(pixels)[2][:sample])
    seen = {}

    def on_epoch(model, epoch):
        was = model.training
        model.eval()
        with no_grad():
            h = model.layers[0](x)
            if isinstance(model, SimpleNetBN):
                h = model.layers[1](h)
        model.train(was)
        seen[epoch] = h.numpy().reshape(-1).copy()
    return seen, on_epoch


def run(out, seeds=3, epochs=DEFAULT_EPOCHS, progress=True, quick=False):  # (no smaller grid)
    runs = []
    bar = Progress(len(SETTINGS) * len(NETS) * seeds, "bn-vs-plain", progress)
    histograms = {}
    for setting, cfg in SETTINGS.items():
        for net, cls in NETS.items():
            for seed in range(seeds):
                seen, on_epoch = _first_pre_activations(cfg["pixels"])
                r = train_run(cls, seed, epochs, on_epoch=on_epoch, **cfg)
                std = [float(seen[e].std()) for e in sorted(seen)]
                runs.append({"setting": setting, "net": net, "seed": seed, "loss": r["loss"], "acc": r["acc"],
                             "diverged": r["diverged"], "pre_activation_std": std})
                if seed == 0:
                    picks = sorted({1, max(1, epochs // 2), epochs} & set(seen))  # (epoch 0: untrained running stats)
                    histograms[(setting, net)] = {e: seen[e] for e in picks}
                bar.tick(f"{setting} {net} seed {seed}")
    seconds = bar.close()

    def pick(setting, net, key, index):
        return [r[key][index] for r in runs if r["setting"] == setting and r["net"] == net]

    def std_drift(setting, net):
        # how far the pre-activation scale moves over training: max/min of its std over epochs 1..N
        return [max(r["pre_activation_std"][1:]) / min(r["pre_activation_std"][1:])
                for r in runs if r["setting"] == setting and r["net"] == net]

    verdicts = []
    for setting in SETTINGS:
        verdicts.append(paired_verdict(f"{setting}: BN lowers the epoch-1 training loss",
                                    pick(setting, "bn", "loss", 0), pick(setting, "plain", "loss", 0),
                                    higher_is_better=False))
        verdicts.append(paired_verdict(f"{setting}: BN raises held-out accuracy after epoch 1",
                                    pick(setting, "bn", "acc", 0), pick(setting, "plain", "acc", 0)))
        verdicts.append(paired_verdict(f"{setting}: BN raises final held-out accuracy",
                                    pick(setting, "bn", "acc", -1), pick(setting, "plain", "acc", -1)))
        verdicts.append(paired_verdict(f"{setting}: BN keeps the pre-activation scale steadier",
                                    std_drift(setting, "bn"), std_drift(setting, "plain"), higher_is_better=False))
    results = {"settings": SETTINGS, "runs": runs, "verdicts": verdicts, "run_seconds": seconds,
               "histograms": {f"{s}/{n}": {str(e): np.histogram(v, bins=40)[0].tolist() for e, v in h.items()}
                              for (s, n), h in histograms.items()}}
    results["plots"] = _plot(out, runs, histograms, epochs)
    return results


@figures
def _plot(plt, out, runs, histograms, epochs):
    paths = []
    fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True)
    colors = {"plain": "tab:gray", "bn": "tab:blue"}
    for col, setting in enumerate(SETTINGS):
        for row, key, label in ((0, "loss", "training loss"), (1, "acc", "held-out accuracy")):
            ax = axes[row, col]
            for net in NETS:
                curves = np.array([r[key] for r in runs if r["setting"] == setting and r["net"] == net], float)
                x = np.arange(1, epochs + 1)
                mean, lo, hi = np.nanmean(curves, 0), np.nanmin(curves, 0), np.nanmax(curves, 0)
                ax.plot(x, mean, color=colors[net], label=f"{'SimpleNetBN' if net == 'bn' else 'SimpleNet'}")
                ax.fill_between(x, lo, hi, color=colors[net], alpha=0.2)
            ax.set_ylabel(label)
            if row == 0:
                ax.set_title(f"{setting}: " + ("standardized, SGD 0.05 + momentum" if setting == "baseline"
                                               else "raw pixels, plain SGD 0.01"))
                ax.set_yscale("log")
            else:
                ax.set_xlabel("epoch")
            ax.legend()
    fig.suptitle("BN vs plain (mean over seeds; band: min to max)")
    paths.append(save_figure(fig, out, "bn-vs-plain.png"))

    fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=False)
    for ax, net in zip(axes, NETS):
        h = histograms[("article", net)]
        for e, values in h.items():
            ax.hist(values, bins=60, histtype="step", density=True, label=f"epoch {e}")
        ax.set_title("SimpleNetBN: first layer after BN" if net == "bn" else "SimpleNet: first layer")
        ax.set_xlabel("pre-activation (article setting, held-out)")
        ax.set_ylabel("density")
        ax.legend()
    paths.append(save_figure(fig, out, "bn-vs-plain-histograms.png"))
    return paths
