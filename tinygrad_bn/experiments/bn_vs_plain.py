"""bn-vs-plain: does batch norm make SimpleNet converge faster, and does it keep
the distribution of the first layer's pre-activations steadier over training
(the "internal covariate shift" the 2015 paper set out to reduce)?

Two settings: the CLI's baseline (standardized pixels, SGD lr 0.05 with SGD
momentum 0.9) and the articles' (raw [0, 1] pixels, plain SGD lr 0.01).

The shift is measured where the claim puts it: on the first Linear's output,
which in SimpleNetBN is the input of its first BatchNorm (before normalization).
After BN the values are normalized by construction; their scale is kept in
the JSON too, labelled, but no verdict rests on it."""

import numpy as np

from ..creation import from_numpy
from ..grad_mode import no_grad
from ..models import SimpleNet, SimpleNetBN
from .common import Progress, counted, data, figures, finite_mean, paired_verdict, save_figure, train_run, verdict_by_id

TITLE = "BN vs plain: convergence and pre-activation scale"
SETTINGS = {"baseline": {"pixels": "standardized", "lr": 0.05, "momentum": 0.9},
            "article": {"pixels": "raw", "lr": 0.01, "momentum": 0.0}}
NETS = {"plain": SimpleNet, "bn": SimpleNetBN}
NET_NAMES = {"plain": "SimpleNet", "bn": "SimpleNetBN"}
DEFAULT_EPOCHS = 10
SAMPLE = 512  # held-out digits the first layer's outputs are recorded on
HIST_BINS = 60


def setting_label(setting):
    cfg = SETTINGS[setting]
    pixels = "standardized pixels" if cfg["pixels"] == "standardized" else "raw [0, 1] pixels"
    momentum = f"SGD momentum {cfg['momentum']:g}" if cfg["momentum"] else "no momentum"
    return f"{pixels}, SGD lr {cfg['lr']:g}, {momentum}"


# ------------------------------------------------------------ the measures
def scale_drift(stds):
    """How far a scale moves over training: max / min of the per-epoch stds
    given (epochs 1..N; NaN/None entries, from a diverged run, are skipped).
    1 means it never moved; NaN when fewer than one finite positive value."""
    s = np.array([np.nan if v is None else v for v in stds], float)
    s = s[np.isfinite(s) & (s > 0)]
    return float(s.max() / s.min()) if s.size else float("nan")


def _recorder(pixels, sample=SAMPLE):
    """``on_epoch`` for train_run: on the first ``sample`` held-out digits, in
    eval mode, the first Linear's output (pre-BN in SimpleNetBN) and, for
    SimpleNetBN, the first BatchNorm's output, per epoch (0: before training)."""
    x = from_numpy(data(pixels)[2][:sample])
    pre, post = {}, {}

    def on_epoch(model, epoch):
        was = model.training
        model.eval()
        try:
            with no_grad():
                h = model.layers[0](x)
                pre[epoch] = h.numpy().reshape(-1).copy()
                if isinstance(model, SimpleNetBN):
                    post[epoch] = model.layers[1](h).numpy().reshape(-1).copy()
        finally:
            model.train(was)
    return pre, post, on_epoch


def histogram_epochs(epochs):
    """The epochs whose pre-BN values the histograms show: the first, the middle and the last."""
    return sorted({1, max(1, epochs // 2), epochs})


def run(out, *, seeds, epochs, progress, quick):  # (no smaller grid)
    runs = []
    bar = Progress(len(SETTINGS) * len(NETS) * seeds, "bn-vs-plain", progress)
    samples = {}  # (setting, net) -> {epoch: values}, seed 0, for the histograms
    picks = histogram_epochs(epochs)
    for setting, cfg in SETTINGS.items():
        for net, cls in NETS.items():
            for seed in range(seeds):
                pre, post, on_epoch = _recorder(cfg["pixels"])
                r = train_run(cls, seed, epochs, on_epoch=on_epoch, **cfg)
                pre_std = [float(pre[e].std()) for e in sorted(pre)]
                record = {"setting": setting, "net": net, "seed": seed, "loss": r["loss"], "acc": r["acc"],
                          "final_acc": r["final_acc"], "diverged": r["diverged"], "setup": r["setup"],
                          "first_linear_std": pre_std,  # epochs 0..N; pre-BN in SimpleNetBN
                          "first_linear_drift": scale_drift(pre_std[1:])}
                if post:
                    post_std = [float(post[e].std()) for e in sorted(post)]
                    record["after_bn_std"] = post_std  # after the first BatchNorm (eval mode): normal by construction
                    record["after_bn_drift"] = scale_drift(post_std[1:])
                runs.append(record)
                if seed == 0:
                    samples[(setting, net)] = {e: pre[e] for e in picks if e in pre}
                bar.tick(f"{setting} {net} seed {seed}")
    seconds = bar.close()

    def pick(setting, net, key, index=None):
        rs = [r for r in runs if r["setting"] == setting and r["net"] == net]
        return [r[key] if index is None else r[key][index] for r in rs]

    verdicts = []
    for setting in SETTINGS:
        for vid, claim, key, index, kw in (
                ("loss1", "BN lowers the epoch-1 training loss", "loss", 0, {"higher_is_better": False}),
                ("acc1", "BN raises held-out accuracy after epoch 1", "acc", 0, {"accuracy": True, "unit": "accuracy"}),
                ("final", f"BN raises held-out accuracy after epoch {epochs}", "final_acc", None,
                 {"accuracy": True, "unit": "accuracy"}),
                ("drift", "first Linear's std (pre-BN) drifts less (max/min)",
                 "first_linear_drift", None, {"higher_is_better": False, "unit": "x"})):
            v = paired_verdict(f"{setting}: {claim}", pick(setting, "bn", key, index),
                               pick(setting, "plain", key, index), **kw)
            v["id"] = f"{setting}/{vid}"
            verdicts.append(v)

    histograms = {}
    for setting in SETTINGS:
        values = np.concatenate([v for net in NETS for v in samples[(setting, net)].values()])
        lo, hi = values.min(), values.max()
        edges = np.linspace(lo, hi, HIST_BINS + 1)
        for net in NETS:
            histograms[f"{setting}/{net}"] = {
                "seed": 0, "values": "first Linear output (pre-BN in SimpleNetBN), eval mode", "edges": edges.tolist(),
                "counts": {str(e): np.histogram(v, bins=edges)[0].tolist() for e, v in samples[(setting, net)].items()}}
    design = {
        "settings": {s: {**cfg, "label": setting_label(s)} for s, cfg in SETTINGS.items()},
        "nets": NET_NAMES, "epochs": epochs, "seeds": seeds,
        "pairing": "SimpleNet and SimpleNetBN with the same seed see the same data order",
        "drift_measure": (f"std of the first Linear's output on the first {SAMPLE} held-out digits (eval mode), "
                          "after each epoch; drift = max / min over epochs 1..N. In SimpleNetBN this is the input "
                          "of the first BatchNorm (pre-normalization): the verdict uses it. 'after_bn_std' (the "
                          "BatchNorm's output, normalized by construction) is recorded for reference only."),
        "histograms": f"seed 0, epochs {picks}, first Linear output (pre-BN), bins shared per setting",
    }
    results = {"settings": SETTINGS, "design": design, "runs": runs, "verdicts": verdicts, "run_seconds": seconds,
               "histograms": histograms}
    results["plots"] = _plot(out, runs, histograms, epochs, seeds)
    return results


# ------------------------------------------------------------ the README text


_AHEAD = {"shows": "SimpleNetBN is ahead", "reversed": "SimpleNet is ahead", "within noise": "neither is clearly ahead"}
_STEADIER = {"shows": "steadier in SimpleNetBN", "reversed": "steadier in SimpleNet",
             "within noise": "not clearly steadier in either net"}


def _say(table, v):
    return table.get(v["outcome"], "no verdict: quick run")




def summary(results):
    """The README paragraph, every number from ``results`` (as loaded from the JSON)."""
    epochs, seeds = results["epochs"], results["seeds"]
    labels = {s: d["label"] for s, d in results["design"]["settings"].items()}
    out = []
    a, b = verdict_by_id(results, "article/final"), verdict_by_id(results, "baseline/final")
    a1, b1 = verdict_by_id(results, "article/acc1"), verdict_by_id(results, "baseline/acc1")
    out.append(
        f"In the articles' setting ({labels['article']}) {_say(_AHEAD, a)} after {counted(epochs, 'epoch')}: "
        f"{100 * a['better_mean']:.1f}% held-out accuracy with BN against {100 * a['worse_mean']:.1f}% without, "
        f"after a gap of {100 * a1['mean_diff']:+.1f} points at epoch 1.")
    out.append(
        f"In the baseline ({labels['baseline']}) {_say(_AHEAD, b)}: {100 * b['better_mean']:.1f}% against "
        f"{100 * b['worse_mean']:.1f}% at the end ({100 * b['mean_diff']:+.1f} points, where the articles' setting "
        f"has {100 * a['mean_diff']:+.1f}), {100 * b1['mean_diff']:+.1f} points at epoch 1.")
    da, db = verdict_by_id(results, "article/drift"), verdict_by_id(results, "baseline/drift")
    after = {s: finite_mean([r.get("after_bn_drift") for r in results["runs"] if r["setting"] == s and r["net"] == "bn"])
             for s in labels}
    out.append(
        f"The std of the first Linear's output (before the BatchNorm in SimpleNetBN) is {_say(_STEADIER, da)} in the "
        f"articles' setting, moving by a factor of {da['better_mean']:.2f} over epochs 1-{epochs} against "
        f"{da['worse_mean']:.2f} (max/min, mean over {seeds} seeds), and {_say(_STEADIER, db)} in the baseline, "
        f"{db['better_mean']:.2f} against {db['worse_mean']:.2f}; after the BatchNorm it moves by "
        f"{after['article']:.2f} and {after['baseline']:.2f}, as normalization makes it.")
    first = {s: {n: finite_mean([r["first_linear_std"][1] / r["first_linear_std"][0] for r in results["runs"]
                           if r["setting"] == s and r["net"] == n and r["first_linear_std"][0]])
                 for n in ("plain", "bn")} for s in labels}
    out.append(
        f"The first epoch, left out of that ratio, multiplies it by {first['baseline']['plain']:.2f} in SimpleNet "
        f"and {first['baseline']['bn']:.2f} in SimpleNetBN in the baseline ({first['article']['plain']:.2f} and "
        f"{first['article']['bn']:.2f} in the articles' setting)" + (
            ": BN does not hold back that first jump." if first["baseline"]["bn"] >= 0.9 * first["baseline"]["plain"]
            else "."))
    return " ".join(out)


# ------------------------------------------------------------ the plots
COLORS = {"plain": "tab:gray", "bn": "tab:blue"}


@figures
def _plot(plt, out, runs, histograms, epochs, seeds):
    paths = []
    x = np.arange(1, epochs + 1)
    fig, axes = plt.subplots(3, 2, figsize=(9, 9.5), sharex=True, sharey="row")
    for col, setting in enumerate(SETTINGS):
        for row, key, label in ((0, "loss", "training loss"), (1, "acc", "held-out accuracy")):
            ax = axes[row, col]
            for net in NETS:
                curves = np.array([r[key] for r in runs if r["setting"] == setting and r["net"] == net], float)
                ax.plot(x, np.nanmean(curves, 0), color=COLORS[net], label=NET_NAMES[net])
                ax.fill_between(x, np.nanmin(curves, 0), np.nanmax(curves, 0), color=COLORS[net], alpha=0.25)
            if row == 0:
                ax.set_yscale("log")
                ax.set_title(f"{setting}:\n{setting_label(setting)}", fontsize=11)
            if col == 0:
                ax.set_ylabel(label)
        ax = axes[2, col]
        bn = np.array([r["acc"] for r in runs if r["setting"] == setting and r["net"] == "bn"], float)
        plain = np.array([r["acc"] for r in runs if r["setting"] == setting and r["net"] == "plain"], float)
        gap = 100 * (bn - plain)  # aligned by seed
        for g in gap:
            ax.plot(x, g, color="tab:blue", lw=0.8, alpha=0.5)
        ax.plot(x, np.nanmean(gap, 0), color="tab:blue", lw=2.2, label="mean")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("epoch")
        if col == 0:
            ax.set_ylabel("accuracy gap, BN - plain\n(points; thin: per seed)")
    axes[0, 0].legend(loc="upper right")
    fig.suptitle(f"BN vs plain, {epochs} epochs, {seeds} seeds (line: mean; band: min to max over seeds)")
    paths.append(save_figure(fig, out, "bn-vs-plain.png"))

    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter
    fig, axes = plt.subplots(2, 2, figsize=(9, 7.5), sharex="row", sharey="row")
    for col, setting in enumerate(SETTINGS):  # top: the measured drift, every seed
        ax = axes[0, col]
        for net in NETS:
            for r in (r for r in runs if r["setting"] == setting and r["net"] == net):
                s = np.array(r["first_linear_std"][1:], float)
                ax.plot(x, s / s[0], color=COLORS[net], lw=1,
                        label=f"{NET_NAMES[net]}{' (pre-BN)' if net == 'bn' else ''}" if r["seed"] == 0 else None)
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(FixedLocator([1, 1.5, 2, 3, 4]))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_locator(NullLocator())
        ax.set_title(f"{setting}: first Linear's output std", fontsize=11)
        ax.set_xlabel("epoch")
    axes[0, 0].set_ylabel("std / std after epoch 1\n(one line per seed)")
    axes[0, 0].legend(loc="upper left")
    colors = ("tab:orange", "tab:green", "tab:purple")
    for col, net in enumerate(NETS):  # bottom: seed 0's distributions, article setting
        ax = axes[1, col]
        h = histograms[f"article/{net}"]
        edges = np.array(h["edges"])
        for (e, counts), color in zip(h["counts"].items(), colors):
            counts = np.array(counts, float)
            ax.stairs(counts / (counts.sum() * np.diff(edges)), edges, color=color, lw=1.5, label=f"epoch {e}")
        ax.set_title(f"{NET_NAMES[net]}: first Linear{' (pre-BN)' if net == 'bn' else ''}\narticle setting, seed 0",
                     fontsize=11)
        ax.set_xlabel("value on held-out digits")
    axes[1, 0].set_ylabel("density")
    axes[1, 1].legend(loc="upper right")
    fig.suptitle(f"Pre-activation scale over {epochs} epochs (before BN in SimpleNetBN)")
    paths.append(save_figure(fig, out, "bn-vs-plain-histograms.png"))
    return paths
