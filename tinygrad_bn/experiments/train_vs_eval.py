"""train-vs-eval: do training and inference disagree? SimpleNetBN trained with
BN momentum 0.1, 0.01 and cumulative (None), and the same net with batch
renormalization (Ioffe 2017, BN momentum 0.1), then evaluated on held-out
digits with its running statistics, with population statistics recomputed
over the training set, and in train mode (the forward pass training used: batch
statistics for BN, batch statistics pulled towards the running ones by r and d
for renorm) on test batches of 1000, 64 (the training batch) and 8; and in eval
mode at batch 1, which must match the running statistics.

The helpers here (``population_statistics``, ``batch_statistics_accuracy``,
``renorm_mlp``, ...) are small-batch's diagnostics too."""
import copy
import itertools

import numpy as np

from .. import nn
from ..creation import from_numpy
from ..grad_mode import no_grad
from ..models import SimpleNetBN
from ..tensor_base import write_in_place
from .common import (Progress, accuracy, data, figures, finite_mean, paired_verdict, percent, points, save_figure,
                     train_run, verdict_by_id)

TITLE = "Train vs eval: running, population and batch statistics, and batch renorm"
WIDTHS = [784, 64, 128, 10]  # SimpleNetBN's
MODELS = {  # label: (norm, BN momentum)
    "BN 0.1": ("batch", 0.1),
    "BN 0.01": ("batch", 0.01),
    "BN cumulative": ("batch", None),
    "renorm 0.1": ("renorm", 0.1),
}
VARIANTS = ["running", "population", "train mode 1000", "train mode 64", "train mode 8"]
CHECK = "eval at batch 1"
BATCH_SIZE, LR, SGD_MOMENTUM = 64, 0.05, 0.9
DEFAULT_EPOCHS = 3

# Batch renormalization as the paper runs it: r_max 3 and d_max 5, reached after
# a warm-up. The paper's schedule (start at 5k steps, d_max full at 25k, r_max
# at 40k) is far longer than these runs, so it is scaled to each run's steps:
# plain batch norm for the first 5%, then both limits grow linearly, d_max
# reaching 5 at 20% of the run and r_max reaching 3 at 30%.
RENORM_R_MAX, RENORM_D_MAX = 3.0, 5.0
RENORM_WARMUP_FRACTIONS = (0.05, 0.25, 0.15)  # start, r_max ramp, d_max ramp, as fractions of the run's steps
NORM_TYPES = (nn.BatchNorm1d, nn.BatchRenorm1d)


# ------------------------------------------------------------ models
def renorm_warmup(total_steps):
    """``BatchRenorm1d``'s ``warmup=(start, r_ramp, d_ramp)`` for a run of ``total_steps`` steps."""
    start, r_ramp, d_ramp = RENORM_WARMUP_FRACTIONS
    return round(start * total_steps), max(1, round(r_ramp * total_steps)), max(1, round(d_ramp * total_steps))


def renorm_mlp(widths, warmup):
    """``mlp(widths, "relu", "batch")`` with ``BatchRenorm1d(r_max=3, d_max=5,
    warmup=warmup)`` in place of each BatchNorm1d. The Linear layers are built
    in the same order, so after the same seed they start from the same weights
    as ``mlp``'s (and SimpleNetBN's, for SimpleNetBN's widths)."""
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(nn.Linear(a, b))
        if i == len(widths) - 2:
            break
        layers += [nn.BatchRenorm1d(b, r_max=RENORM_R_MAX, d_max=RENORM_D_MAX, warmup=warmup), nn.ReLU()]
    return nn.Sequential(*layers)


def norm_layers(model):
    """The batch norm and batch renorm layers of ``model``, in order."""
    return [m for m in model.modules() if isinstance(m, NORM_TYPES)]


def _sequence(model):
    """The layers of a Sequential net (``mlp``'s) or of one with a ``layers`` Sequential (SimpleNetBN)."""
    if isinstance(model, nn.Sequential):
        return list(model)
    layers = getattr(model, "layers", None)
    if isinstance(layers, nn.Sequential):
        return list(layers)
    raise TypeError(f"population_statistics: expected a Sequential net or one with a .layers Sequential, got "
                    f"{type(model).__name__}")


def first_norm_input(model, x):
    """The input of the first norm layer (eval mode) for the rows of ``x``, as a NumPy array."""
    h = from_numpy(x)
    with no_grad():
        for layer in _sequence(model):
            if isinstance(layer, NORM_TYPES):
                return h.numpy()
            h = layer(h)
    raise ValueError("first_norm_input: the net has no batch norm layer")


# ------------------------------------------------------------ evaluations
def population_statistics(model, x_train):
    """A copy of ``model`` whose norm layers hold the population statistics of
    the training set: layer by layer, the mean and (biased) variance of the
    layer's input over all of ``x_train``, with the layers before it already
    normalizing by theirs, i.e. exactly the inputs eval mode then sees."""
    model = copy.deepcopy(model)
    model.eval()
    h = from_numpy(np.ascontiguousarray(x_train))
    with no_grad():
        for layer in _sequence(model):
            if isinstance(layer, NORM_TYPES):
                a = h.numpy().astype(np.float64)
                dtype = layer.running_mean.numpy().dtype
                write_in_place(layer.running_mean, "copyto", a.mean(0).astype(dtype))
                write_in_place(layer.running_var, "copyto", a.var(0).astype(dtype))
            h = layer(h)
    return model


def population_accuracy(model, x_train, x, y):
    """Held-out accuracy with population statistics (``model`` is left as it was)."""
    return accuracy(population_statistics(model, x_train), x, y)


def _predict(model, x, batch):
    """Predicted classes in ``model``'s current mode, ``batch`` rows at a time
    (the rows past the last full batch are left out)."""
    preds = []
    with no_grad():
        for s in range(0, len(x) - batch + 1, batch):
            preds.append(model(from_numpy(x[s:s + batch])).argmax(1).numpy())
    return np.concatenate(preds)


def train_mode_predictions(model, x, batch, pure_batch_statistics=False):
    """Predictions of a copy of ``model`` in train mode (no gradient), on
    consecutive batches of ``batch`` rows: each batch normalized as in training
    (the copy's running buffers move; ``model``'s do not). With
    ``pure_batch_statistics`` the renorm layers run as batch norm (r = 1, d = 0)."""
    model = copy.deepcopy(model)
    if pure_batch_statistics:
        for layer in norm_layers(model):
            if isinstance(layer, nn.BatchRenorm1d):
                layer.r_max, layer.d_max, layer.warmup = 1.0, 0.0, None
    model.train()
    return _predict(model, x, batch)


def batch_statistics_accuracy(model, x, y, batch):
    """Held-out accuracy with every norm layer using the statistics of its test
    batch of ``batch`` rows (renorm layers too: r = 1, d = 0)."""
    preds = train_mode_predictions(model, x, batch, pure_batch_statistics=True)
    return float((preds == y[:len(preds)]).mean())


def eval_predictions(model, x, batch=1000):
    model = copy.deepcopy(model)
    model.eval()
    return _predict(model, x, min(batch, len(x)))


def _eval_at_batch_1(model, x, y):
    n = len(x)
    model = copy.deepcopy(model)
    model.eval()
    with no_grad():
        one = np.array([int(model(from_numpy(x[i:i + 1])).argmax(1).item()) for i in range(n)])
        full = model(from_numpy(x[:n])).argmax(1).numpy()
    return float((one == y[:n]).mean()), bool((one == full).all())


# ------------------------------------------------------------ the experiment
def _make(norm, momentum, warmup):
    if norm == "renorm":
        def make():
            model = renorm_mlp(WIDTHS, warmup)
            for layer in norm_layers(model):
                layer.momentum = momentum
            return model
    else:
        def make():
            model = SimpleNetBN()
            for layer in norm_layers(model):
                layer.momentum = momentum
            return model
    return make


def run(out, *, seeds, epochs, progress, quick):  # (no smaller grid: it takes seconds)
    x_train, _, x_test, y_test = data()
    steps = epochs * (len(x_train) // BATCH_SIZE)
    warmup = renorm_warmup(steps)
    runs = []
    bar = Progress(len(MODELS) * seeds, "train-vs-eval", progress)
    for label, (norm, momentum) in MODELS.items():
        for seed in range(seeds):
            r = train_run(_make(norm, momentum, warmup), seed, epochs, batch_size=BATCH_SIZE, lr=LR,
                          momentum=SGD_MOMENTUM, evaluate=False)
            model = r["model"]
            record = {"model": label, "norm": norm, "bn_momentum": momentum, "seed": seed, "setup": r["setup"],
                      "diverged": r["diverged"], "train_loss": r["loss"]}
            if norm == "renorm":
                record["renorm"] = {"r_max": RENORM_R_MAX, "d_max": RENORM_D_MAX, "warmup": list(warmup),
                                    "final_r_max": norm_layers(model)[0].current_r_max,
                                    "final_d_max": norm_layers(model)[0].current_d_max}
            if r["diverged"]:  # no train-mode forward on non-finite weights; a result, recorded as such
                record.update(accuracy={v: float("nan") for v in VARIANTS + [CHECK]}, disagreement={},
                              gap_8=float("nan"), eval_batch_1_matches_full_batch=True)
            else:
                acc = {"running": accuracy(model, x_test, y_test),
                       "population": population_accuracy(model, x_train, x_test, y_test)}
                evals = eval_predictions(model, x_test)
                disagreement = {}
                for b in (1000, 64, 8):
                    preds = train_mode_predictions(model, x_test, b)
                    acc[f"train mode {b}"] = float((preds == y_test[:len(preds)]).mean())
                    disagreement[str(b)] = float((preds != evals[:len(preds)]).mean())
                acc[CHECK], same = _eval_at_batch_1(model, x_test, y_test)
                record.update(accuracy=acc, disagreement=disagreement,
                              gap_8=abs(acc["running"] - acc["train mode 8"]), eval_batch_1_matches_full_batch=same)
            runs.append(record)
            bar.tick(f"{label} seed {seed}")
    seconds = bar.close()

    def accs(model, variant):
        return [r["accuracy"][variant] for r in runs if r["model"] == model]

    def field(model, key, sub=None):
        return [(r[key] if sub is None else r[key].get(sub, float("nan"))) for r in runs if r["model"] == model]

    verdicts = []
    for label in ("BN 0.1", "BN 0.01", "BN cumulative"):
        v = paired_verdict(f"BN momentum {label[3:]}: population statistics beat the running ones",
                           accs(label, "population"), accs(label, "running"), unit="accuracy", accuracy=True)
        v["id"] = f"population/{label}"
        verdicts.append(v)
    extra = (
        ("running/batch8", "BN momentum 0.1: running statistics beat batch statistics at batch 8",
         accs("BN 0.1", "running"), accs("BN 0.1", "train mode 8"), {"unit": "accuracy", "accuracy": True}),
        ("renorm/running", "batch renorm's running-statistics accuracy beats BN's (BN momentum 0.1)",
         accs("renorm 0.1", "running"), accs("BN 0.1", "running"), {"unit": "accuracy", "accuracy": True}),
        ("renorm/gap8", "batch renorm's train/eval gap (|running - train mode at batch 8|) is smaller than BN's",
         field("renorm 0.1", "gap_8"), field("BN 0.1", "gap_8"), {"unit": "accuracy", "higher_is_better": False}),
        ("renorm/disagree64", ("batch renorm's train-mode predictions at batch 64 disagree with eval mode "
                               "less often than BN's"), field("renorm 0.1", "disagreement", "64"), field("BN 0.1", "disagreement", "64"),
         {"unit": "fraction of digits", "higher_is_better": False}),
    )
    for vid, claim, better, worse, kw in extra:
        v = paired_verdict(claim, better, worse, **kw)
        v["id"] = vid
        verdicts.append(v)

    design = {
        "nets": {"BN": "SimpleNetBN: 784-64-BN-ReLU-128-BN-ReLU-10",
                 "renorm": f"the same widths {WIDTHS} with BatchRenorm1d(r_max={RENORM_R_MAX:g}, "
                           f"d_max={RENORM_D_MAX:g}) in place of BatchNorm1d; the Linear layers start from the "
                           "same weights as SimpleNetBN's for the same seed"},
        "bn_momentum": {label: m for label, (_, m) in MODELS.items()},
        "bn_momentum_meaning": "the running averages' update rate: running = (1 - m) running + m batch; "
                               "cumulative (None) averages every batch equally",
        "training": f"SGD lr {LR:g}, SGD momentum {SGD_MOMENTUM:g}, batch {BATCH_SIZE}, {epochs} epochs "
                    f"({steps} steps), standardized pixels",
        "renorm_warmup": {"steps": list(warmup), "rule": "(start, r_max ramp, d_max ramp) = "
                          f"{RENORM_WARMUP_FRACTIONS} of the run's steps: batch norm until start, then r_max "
                          f"1 -> {RENORM_R_MAX:g} and d_max 0 -> {RENORM_D_MAX:g} linearly (the paper's schedule, "
                          "5k/40k/25k steps, scaled to this run)"},
        "variants": {
            "running": "eval mode: the running statistics training left",
            "population": "eval mode with each norm layer's mean and biased variance over all 4,000 training "
                          "digits, computed layer by layer (the earlier layers already using theirs)",
            "train mode 1000": "train mode (no gradient, on a copy) on the whole test set as one batch: batch "
                               "statistics for BN; for renorm the batch statistics corrected by r and d towards "
                               "the running ones, as renorm trains",
            "train mode 64": "the same on test batches of 64, the training batch (960 digits)",
            "train mode 8": "the same on test batches of 8",
            CHECK: "eval mode one digit at a time (a check: it must match the running statistics)"},
        "gap_8": "|running - train mode 8| per seed (accuracy)",
        "disagreement": "fraction of test digits whose train-mode prediction at that batch differs from the "
                        "eval-mode (running statistics) prediction",
        "pairing": "runs with the same seed see the same data order and start from the same Linear weights",
    }
    results = {"design": design, "models": list(MODELS), "variants": VARIANTS, "runs": runs, "verdicts": verdicts,
               "run_seconds": seconds,
               "eval_batch_1_matches": all(r["eval_batch_1_matches_full_batch"] for r in runs)}
    results["plots"] = _plot(out, runs, epochs, steps)
    return results


# ------------------------------------------------------------ the README text


def _said(v):
    return {"shows": "shows", "reversed": "reversed", "within noise": "within noise"}.get(v["outcome"], v["outcome"])








def summary(results):
    """The README paragraphs, every number from ``results`` (as loaded from the JSON)."""
    runs = results["runs"]

    def acc(model, variant):
        return finite_mean([r["accuracy"].get(variant) for r in runs if r["model"] == model])

    pops = [verdict_by_id(results, f"population/{m}") for m in ("BN 0.1", "BN 0.01", "BN cumulative")]
    shown = [v for v in pops if v["outcome"] == "shows"]
    b8 = verdict_by_id(results, "running/batch8")
    first = ("Recomputed population statistics change SimpleNetBN's held-out accuracy by "
             + ", ".join(f"{points(v['mean_diff'])} points at BN momentum {m} ({v['wins']} of {v['pairs']} seeds, "
                         f"{_said(v)})" for v, m in zip(pops, ("0.1", "0.01", "cumulative")))
             + f" against the running statistics ({percent(acc('BN 0.1', 'running'))} at BN momentum 0.1); "
             + (f"the claim that population statistics do better holds at {len(shown)} of 3 BN momenta. " if shown
                else "none of the three shows the claimed gain. ")
             + f"Batch statistics at test batch 8 give {percent(acc('BN 0.1', 'train mode 8'))} at BN momentum 0.1 "
             f"({points(b8['mean_diff'])} points for the running statistics, {_said(b8)}), at batch 1000 "
             f"{percent(acc('BN 0.1', 'train mode 1000'))}, and eval mode digit by digit "
             + ("matches the full-batch predictions in every run." if results.get("eval_batch_1_matches")
                else "does NOT match the full-batch predictions in every run."))
    rr, g8, d64 = (verdict_by_id(results, k) for k in ("renorm/running", "renorm/gap8", "renorm/disagree64"))
    renorm = [r for r in runs if r["model"] == "renorm 0.1"]
    warm = renorm[0]["renorm"]["warmup"] if renorm else None
    second = (f"Batch renormalization (r_max {renorm[0]['renorm']['r_max']:g}, d_max "
              f"{renorm[0]['renorm']['d_max']:g}, full from step {warm[0] + max(warm[1], warm[2])} of "
              f"{renorm[0]['setup']['epochs'] * (4000 // renorm[0]['setup']['batch_size'])}) "
              if renorm else "Batch renormalization ") + (
        f"reaches {percent(rr['better_mean'])} with running statistics against BN's {percent(rr['worse_mean'])} "
        f"({points(rr['mean_diff'])} points, {rr['wins']} of {rr['pairs']} seeds, {_said(rr)}). Its train/eval gap at "
        f"test batch 8 is {points(g8['better_mean']).lstrip('+')} points against BN's "
        f"{points(g8['worse_mean']).lstrip('+')} ({_said(g8)}), and in train mode at the training batch of 64 its "
        f"predictions differ from eval mode's on {percent(d64['better_mean'])} of test digits against BN's "
        f"{percent(d64['worse_mean'])} ({_said(d64)}): "
        + ("the paper's smaller train/eval gap shows." if g8["outcome"] == "shows" and d64["outcome"] == "shows"
           else "the paper's smaller train/eval gap shows on one of the two measures." if "shows" in
           (g8["outcome"], d64["outcome"]) else "the paper's smaller train/eval gap does not show here."))
    return first + "\n\n" + second


# ------------------------------------------------------------ the plot
COLORS = {"running": "tab:blue", "population": "tab:green", "train mode 1000": "tab:orange",
          "train mode 64": "tab:red", "train mode 8": "tab:purple"}


@figures
def _plot(plt, out, runs, epochs, steps):
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 8), sharex=True,
                                      gridspec_kw={"height_ratios": [1.1, 1]})
    width = 0.8 / len(VARIANTS)
    models = list(MODELS)
    seeds = len([r for r in runs if r["model"] == models[0]])
    diverged = {m: sum(r["diverged"] for r in runs if r["model"] == m) for m in models}
    for i, variant in enumerate(VARIANTS):
        xs = np.arange(len(models)) + (i - (len(VARIANTS) - 1) / 2) * width
        for ax, relative in ((top, False), (bottom, True)):
            vals = [np.array([r["accuracy"][variant] - (r["accuracy"]["running"] if relative else 0.0)
                              for r in runs if r["model"] == m], float) * (100 if relative else 1) for m in models]
            means = [np.nanmean(v) if np.isfinite(v).any() else np.nan for v in vals]
            if not (relative and variant == "running"):
                ax.bar(xs, means, width, color=COLORS[variant], alpha=0.55,
                       label=variant if not relative else None)
            for x, v in zip(xs, vals):
                if relative and variant == "running":
                    break  # zero by construction
                ax.plot(np.full(len(v), x) + np.linspace(-0.25, 0.25, len(v)) * width, v, "o", ms=3,
                        color="black", alpha=0.8, zorder=3)
    top.set_ylim(0, 1.25)  # room for the legend above the bars
    top.set_yticks(np.linspace(0, 1, 6))
    top.set_ylabel("held-out accuracy")
    top.set_title(f"SimpleNetBN and a renorm twin, {epochs} epochs ({steps} steps)\n"
                  f"SGD lr {LR:g}, SGD momentum {SGD_MOMENTUM:g}, batch {BATCH_SIZE}; dots: {seeds} seeds")
    top.legend(ncol=3, loc="upper center", fontsize=9, frameon=False)
    bottom.axhline(0, color="black", lw=0.8)
    bottom.set_ylabel("minus running statistics\n(accuracy points, per seed)")
    bottom.set_xticks(np.arange(len(models)))
    labels = [f"BN momentum\n{m.split(' ', 1)[1]}" if m.startswith("BN") else "renorm\nBN momentum 0.1"
              for m in models]
    bottom.set_xticklabels([lab + (f"\n({diverged[m]} diverged)" if diverged[m] else "")
                            for lab, m in zip(labels, models)])
    bottom.set_title("each evaluation minus the running-statistics one (same seed)")
    return [save_figure(fig, out, "train-vs-eval.png")]
