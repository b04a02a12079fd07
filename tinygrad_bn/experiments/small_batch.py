"""small-batch: does batch norm fail at tiny batches, why, and what fixes it?

SimpleNet's widths (784-64-128-10, ReLU) with no norm, batch norm, batch
renormalization (Ioffe 2017), layer norm, group norm (4 groups) or instance
norm (4 channels) after each hidden Linear, trained at batch sizes 2, 16 and
64 with the learning rate scaled with the batch (0.05 at 64), the same number
of epochs for each. At the smallest batch group norm's group count is swept.

Why BN fails is diagnosed rather than assumed. Each BN and renorm run is
evaluated with its running statistics, with population statistics recomputed
over the training set, with the batch statistics of the whole test set in one
batch, and with batch statistics at its training batch size; and the noise of
batch statistics is measured: the RMS error of a batch's mean and std, in
units of the population std, over batches drawn from the first norm layer's
input over the training set. Each run also records how far every Linear layer
moved from its initial weights."""
import math

import numpy as np

from .. import nn
from .common import (Progress, accuracy, counted, data, figures, mlp, paired_verdict, percent, points, save_figure,
                     train_run, verdict_by_id)
from .train_vs_eval import (RENORM_D_MAX, RENORM_R_MAX, RENORM_WARMUP_FRACTIONS, batch_statistics_accuracy,
                            first_norm_input, population_accuracy, renorm_mlp, renorm_warmup)

TITLE = "Small batches: BN vs renorm, LN, GN, IN and none, and why BN fails"
WIDTHS = [784, 64, 128, 10]  # both hidden widths divide into every group count of the sweep
NORMS = {"none": None, "batch": "batch", "renorm": "renorm", "layer": "layer", "group": "group",
         "instance": "instance"}
LABELS = {"none": "no norm", "batch": "BatchNorm", "renorm": "BatchRenorm", "layer": "LayerNorm",
          "group": "GroupNorm (4 groups)", "instance": "InstanceNorm (4 channels)"}
GROUPS = 4  # group norm's groups and instance norm's channels in the main grid
BATCHES = [2, 16, 64]
GROUP_SWEEP = [1, 4, 32]  # at the smallest batch; 1 = the LayerNorm run, 4 = the main group run
QUICK = {"batches": [32, 64], "group_sweep": [1, 4, 32]}
NOISE_BATCHES = [2, 4, 8, 16, 32, 64, 128]
NOISE_DRAWS = 500
LR_AT_64, SGD_MOMENTUM = 0.05, 0.9
DEFAULT_EPOCHS = 2
EVALUATIONS = ["running", "population", "batch stats 1000", "batch stats at training batch"]


def lr_for(batch):
    return LR_AT_64 * batch / 64


# ------------------------------------------------------------ the noise measure
def batch_noise(features, batch_sizes, draws=NOISE_DRAWS, seed=0):
    """How noisy batch statistics are. ``features``: (N, C), a population of N
    rows. For each ``b`` in ``batch_sizes``, ``draws`` batches of ``b`` rows are
    drawn as a shuffling loader draws them (the rows shuffled, cut into
    consecutive batches, reshuffled when used up). Per channel c with
    population mean mu_c and (biased) std sigma_c:

    - ``mean``: sqrt(E[((batch mean - mu_c) / sigma_c)^2]), about 1/sqrt(b)
      (times sqrt((N - b) / (N - 1)) for draws without replacement);
    - ``std``: sqrt(E[(batch std / sigma_c - 1)^2]), with the batch's biased
      std as batch norm normalizes with; about 1/sqrt(2 b) for Gaussian
      channels at large b, and sqrt(2 - 1/b - 2 E[s]/sigma) at any b.

    Each is averaged over the channels (those with sigma_c > 0). Returns
    ``{"batch_sizes": [...], "mean": [...], "std": [...]}``, lists aligned."""
    x = np.asarray(features, np.float64)
    if x.ndim != 2:
        raise ValueError(f"batch_noise: expected (N, C) features, got shape {x.shape}")
    mu, sigma = x.mean(0), x.std(0)
    keep = sigma > 0
    # standardized (population mean 0, std 1 per channel); float32 for the gathers, as the net computes
    x = ((x[:, keep] - mu[keep]) / sigma[keep]).astype(np.float32)
    rng = np.random.default_rng(seed)
    n = len(x)
    mean_noise, std_noise = [], []
    for b in batch_sizes:
        if not 1 <= b <= n:
            raise ValueError(f"batch_noise: batch size {b} must be between 1 and the {n} rows")
        per, chunks, got = n // b, [], 0
        while got < draws:
            take = min(per, draws - got)
            idx = rng.permutation(n)[:take * b]
            chunks.append(x[idx].reshape(take, b, -1))
            got += take
        batches = np.concatenate(chunks)  # (draws, b, C)
        m, s = batches.mean(1, dtype=np.float64), batches.std(1, dtype=np.float64)
        mean_noise.append(float(np.sqrt((m ** 2).mean(0)).mean()))
        std_noise.append(float(np.sqrt(((s - 1.0) ** 2).mean(0)).mean()))
    return {"batch_sizes": list(batch_sizes), "mean": mean_noise, "std": std_noise}


def gaussian_std_noise(b):
    """The exact ``std`` noise of ``batch_noise`` for Gaussian channels and an
    infinite population: sqrt(E[(s/sigma - 1)^2]) with s the biased std of b draws."""
    expected_s = math.sqrt(2.0 / b) * math.exp(math.lgamma(b / 2) - math.lgamma((b - 1) / 2))
    return math.sqrt((b - 1) / b - 2 * expected_s + 1)


# ------------------------------------------------------------ one run
def _linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _one_run(norm, batch, groups, seed, epochs, x_train, x_test, y_test):
    steps = epochs * (len(x_train) // batch)
    warmup = renorm_warmup(steps) if norm == "renorm" else None
    if norm == "renorm":
        def make():
            return renorm_mlp(WIDTHS, warmup)
    else:
        def make():
            return mlp(WIDTHS, "relu", NORMS[norm], groups or GROUPS)
    initial = []

    def on_epoch(model, epoch):
        if epoch == 0:
            initial.extend(l.weight.detach().numpy().astype(np.float64) for l in _linears(model))

    r = train_run(make, seed, epochs, batch_size=batch, lr=lr_for(batch), momentum=SGD_MOMENTUM, on_epoch=on_epoch)
    model = r["model"]
    with np.errstate(all="ignore"):
        change = [float(np.linalg.norm(l.weight.detach().numpy().astype(np.float64) - w0) / np.linalg.norm(w0))
                  for l, w0 in zip(_linears(model), initial)]
    record = {"norm": norm, "batch": batch, "groups": groups, "seed": seed, "lr": lr_for(batch), "steps": r["steps"],
              "setup": r["setup"], "loss": r["loss"], "acc": r["acc"], "final_acc": r["final_acc"],
              "diverged": r["diverged"], "weight_change": change}
    if norm == "renorm":
        record["renorm"] = {"r_max": RENORM_R_MAX, "d_max": RENORM_D_MAX, "warmup": list(warmup)}
    if norm in ("batch", "renorm"):
        if r["diverged"]:
            record["diagnostics"] = {"accuracy": {e: float("nan") for e in EVALUATIONS}, "noise": None}
        elif norm == "renorm":  # (its first layer's input is like BN's: the noise is measured on the BN nets)
            record["diagnostics"] = {"accuracy": _evaluations(model, batch, x_train, x_test, y_test), "noise": None}
        else:
            record["diagnostics"] = {"accuracy": _evaluations(model, batch, x_train, x_test, y_test),
                                     "noise": batch_noise(first_norm_input(model, x_train), NOISE_BATCHES, seed=seed)}
    return record


def _evaluations(model, batch, x_train, x_test, y_test):
    """The four evaluations of a BN or renorm net (``model`` is left as it was)."""
    return {"running": accuracy(model, x_test, y_test),
            "population": population_accuracy(model, x_train, x_test, y_test),
            "batch stats 1000": batch_statistics_accuracy(model, x_test, y_test, len(x_test)),
            "batch stats at training batch": batch_statistics_accuracy(model, x_test, y_test, batch)}


# ------------------------------------------------------------ the experiment
def run(out, *, seeds, epochs, progress, quick):
    x_train, _, x_test, y_test = data()
    batches = QUICK["batches"] if quick else BATCHES
    sweep = QUICK["group_sweep"] if quick else GROUP_SWEEP
    small, large = min(batches), max(batches)
    jobs = [(norm, b, GROUPS if norm in ("group", "instance") else None) for norm in NORMS for b in batches]
    jobs += [("group", small, g) for g in sweep if g not in (1, GROUPS)]  # 1: the LayerNorm run; 4: in the grid
    runs = []
    bar = Progress(len(jobs) * seeds, "small-batch", progress)
    for norm, b, groups in jobs:
        for seed in range(seeds):
            runs.append(_one_run(norm, b, groups, seed, epochs, x_train, x_test, y_test))
            bar.tick(f"{norm} batch {b}" + (f" groups {groups}" if groups else ""))
    seconds = bar.close()

    def pick(norm, batch, groups=None, what="final_acc"):
        """Per-seed values (in seed order) of the runs of ``norm`` at ``batch`` (group and instance norm: with
        ``groups``, by default the grid's)."""
        if groups is None and norm in ("group", "instance"):
            groups = GROUPS
        rs = sorted((r for r in runs if r["norm"] == norm and r["batch"] == batch and r["groups"] == groups),
                    key=lambda r: r["seed"])
        return [_value(r, what) for r in rs]

    bn_s, bn_l = pick("batch", small), pick("batch", large)
    verdicts = []

    def add(vid, claim, better, worse, **kw):
        kw = {"unit": "accuracy", "accuracy": True, **kw}
        v = paired_verdict(claim, better, worse, **kw)
        v["id"] = vid
        verdicts.append(v)

    add("bn/small-vs-large", f"BN at batch {small} trails BN at batch {large}", bn_l, bn_s)
    add("diag/population", f"at batch {small}, BN with population statistics beats BN with running ones",
        pick("batch", small, what="population"), bn_s)
    add("diag/batch1000", f"at batch {small}, BN with the batch statistics of 1000 test digits beats running ones",
        pick("batch", small, what="batch stats 1000"), bn_s)
    add("diag/population-still-trails", f"at batch {small}, BN with population statistics still trails BN at "
        f"batch {large}", bn_l, pick("batch", small, what="population"))
    add("diag/first-layer-moves", f"at batch {small}, BN's first Linear ends further from its init than LN's "
        "(same lr and steps)", pick("batch", small, what="change0"), pick("layer", small, what="change0"),
        unit="x its initial norm", accuracy=False)
    renorm_s = pick("renorm", small)
    add("renorm/beats-bn", f"at batch {small}, batch renorm beats batch norm", renorm_s, bn_s)
    add("renorm/half-gap", f"at batch {small}, batch renorm closes over half the gap to BN at batch {large}",
        renorm_s, [(a + b) / 2 for a, b in zip(bn_s, bn_l)])
    add("renorm/population", f"at batch {small}, batch renorm with population statistics beats its running ones",
        pick("renorm", small, what="population"), renorm_s)
    for norm in ("layer", "group", "instance"):
        add(f"{norm}/beats-bn", f"at batch {small}, {LABELS[norm]} beats batch norm", pick(norm, small), bn_s)
    add("bn/beats-none", f"at batch {large}, batch norm beats no norm", bn_l, pick("none", large))
    if 32 in sweep:
        add("groups/4-vs-32", f"at batch {small}, group norm with {GROUPS} groups beats 32 groups",
            pick("group", small, GROUPS), pick("group", small, 32))

    table = {norm: {str(b): _stats(pick(norm, b)) for b in batches} for norm in NORMS}
    group_table = {str(g): _stats(_sweep_values(runs, small, g)) for g in sweep}
    diagnostics = {norm: {str(b): {e: _stats(pick(norm, b, what=e)) for e in EVALUATIONS} for b in batches}
                   for norm in ("batch", "renorm")}
    noise = _noise_table(runs, batches)
    design = {
        "widths": WIDTHS, "activation": "ReLU", "norm_position": "after each hidden Linear, before the ReLU",
        "norms": {
            "none": "no normalization",
            "batch": "BatchNorm1d (BN momentum 0.1)",
            "renorm": f"BatchRenorm1d(r_max={RENORM_R_MAX:g}, d_max={RENORM_D_MAX:g}), BN momentum 0.1, with a "
                      "warm-up (see renorm_warmup); built by train_vs_eval.renorm_mlp with the same Linear init",
            "layer": "LayerNorm over the layer's units",
            "group": f"GroupNorm({GROUPS} groups) in the grid; the sweep varies the groups",
            "instance": f"InstanceNorm1d(affine) over the units viewed as {GROUPS} channels of "
                        f"{WIDTHS[1] // GROUPS} (first layer) and {WIDTHS[2] // GROUPS} (second) positions: in an MLP "
                        f"that is group norm with {GROUPS} groups but one scale and shift per channel instead of "
                        "per unit"},
        "batches": batches,
        "batch_grid": ("trimmed from [2, 4, 8, 16, 32, 64] to [2, 16, 64] to fit about 120 s at 5 seeds: a run "
                       "costs about 1/batch (batch 2 takes 2000 steps an epoch)") if not quick else "quick run",
        "lr_rule": f"lr = {LR_AT_64:g} x batch / 64 (linear scaling), SGD momentum {SGD_MOMENTUM:g}, no weight decay",
        "epochs": epochs, "steps": {str(b): epochs * (len(x_train) // b) for b in batches},
        "group_sweep": {"batch": small, "groups": sweep,
                        "units_per_group": {str(g): [WIDTHS[1] // g, WIDTHS[2] // g] for g in sweep},
                        "note": "1 group is the LayerNorm run (GroupNorm(1, C) on an (N, C) input computes "
                                f"LayerNorm(C)); {GROUPS} groups is the grid's group norm run; 2 and 16 groups "
                                "are left out to fit the time budget (a run at batch 2 costs as much as the "
                                "batch 16 and 64 columns together)"},
        "renorm_warmup": {"rule": f"(start, r_max ramp, d_max ramp) = {RENORM_WARMUP_FRACTIONS} of the run's steps: "
                                  f"batch norm until start, then r_max 1 -> {RENORM_R_MAX:g} and d_max 0 -> "
                                  f"{RENORM_D_MAX:g} linearly, so the limits are fully relaxed by 30% of every run "
                                  "(the paper's 5k/40k/25k steps scaled to these runs)",
                          "steps": {str(b): list(renorm_warmup(epochs * (len(x_train) // b))) for b in batches}},
        "evaluations": {
            "running": "eval mode with the running statistics (the runs' final_acc)",
            "population": "eval mode with each norm layer's mean and biased variance over all 4,000 training "
                          "digits, computed layer by layer with the earlier layers already using theirs (on a copy)",
            "batch stats 1000": "train mode, no gradient, on a copy: the whole test set as one batch of 1000, each "
                                "layer normalized by that batch's statistics (renorm layers with r = 1, d = 0)",
            "batch stats at training batch": "the same on consecutive test batches of the training batch size "
                                             "(BN's own training condition; 1000 // b * b digits)"},
        "noise": {"features": "the first norm layer's input (the first Linear's output) over the 4,000 training "
                              "digits, for each BN run's final weights",
                  "batch_sizes": NOISE_BATCHES, "draws": NOISE_DRAWS,
                  "mean": "RMS over draws of (batch mean - population mean) / population std, averaged over the "
                          f"{WIDTHS[1]} channels; theory 1/sqrt(b)",
                  "std": "RMS over draws of (batch std / population std - 1), biased std as BN uses, averaged over "
                         "channels; about 1/sqrt(2b) for Gaussian channels"},
        "weight_change": "||W_end - W_init|| / ||W_init|| for each Linear layer (first to last)",
        "pairing": "runs with the same seed see the same data order and start from the same Linear weights",
    }
    results = {"design": design, "batches": batches, "group_sweep": sweep, "accuracy": table, "groups": group_table,
               "diagnostics": diagnostics, "noise": noise, "runs": runs, "verdicts": verdicts,
               "run_seconds": seconds}
    results["plots"] = _plot(out, runs, batches, sweep, epochs)
    return results


def _value(r, what):
    if what == "final_acc":
        return r["final_acc"]
    if what.startswith("change"):
        return r["weight_change"][int(what[6:])] if r["weight_change"] else float("nan")
    return r["diagnostics"]["accuracy"][what]


def _finite(values):
    return [v for v in values if v is not None and math.isfinite(v)]


def _stats(values):
    vals = _finite(values)
    if not vals:
        return {"mean": None, "min": None, "max": None, "n": 0}
    return {"mean": float(np.mean(vals)), "min": float(np.min(vals)), "max": float(np.max(vals)), "n": len(vals)}


def _sweep_runs(runs, small, groups):
    if groups == 1:
        return [r for r in runs if r["norm"] == "layer" and r["batch"] == small]
    return [r for r in runs if r["norm"] == "group" and r["batch"] == small and r["groups"] == groups]


def _sweep_values(runs, small, groups):
    return [r["final_acc"] for r in sorted(_sweep_runs(runs, small, groups), key=lambda r: r["seed"])]


def _noise_table(runs, batches):
    """Per training batch: the BN nets' noise curves, mean/min/max over seeds at each noise batch size."""
    table = {}
    for b in batches:
        curves = [r["diagnostics"]["noise"] for r in runs if r["norm"] == "batch" and r["batch"] == b
                  and r["diagnostics"]["noise"]]
        if not curves:
            continue
        sizes = curves[0]["batch_sizes"]
        table[str(b)] = {"batch_sizes": sizes, **{k: {"mean": np.mean([c[k] for c in curves], 0).tolist(),
                                                      "min": np.min([c[k] for c in curves], 0).tolist(),
                                                      "max": np.max([c[k] for c in curves], 0).tolist()}
                                                  for k in ("mean", "std")}}
    return table


# ------------------------------------------------------------ the README text






def _seeds(v):
    return f"{v['wins']} of {v['pairs']} seeds, {v['outcome']}"


def summary(results):
    """The README paragraphs, every number from ``results`` (as loaded from the JSON)."""
    batches = results["batches"]
    small, large = min(batches), max(batches)
    acc = results["accuracy"]
    base, pop, b1000, still, moves = (verdict_by_id(results, k) for k in (
        "bn/small-vs-large", "diag/population", "diag/batch1000", "diag/population-still-trails",
        "diag/first-layer-moves"))
    diag = results["diagnostics"]["batch"][str(small)]
    if still["outcome"] == "shows":
        cause = "Better statistics at evaluation do not rescue it"
    elif pop["outcome"] == "shows":
        cause = "Better statistics at evaluation rescue it"
    else:
        cause = "Whether better statistics at evaluation rescue it is within noise"
    first = (f"At batch {small} BatchNorm reaches {percent(base['worse_mean'])} held-out accuracy against "
             f"{percent(base['better_mean'])} at batch {large} ({_seeds(base)}); no norm reaches "
             f"{percent(acc['none'][str(small)]['mean'])} at batch {small}. {cause}: population statistics recomputed "
             f"over the training set give {percent(pop['better_mean'])} ({points(pop['mean_diff'])} points over the running "
             f"statistics, {_seeds(pop)}) and the batch statistics of all 1000 test digits "
             f"{percent(b1000['better_mean'])} ({points(b1000['mean_diff'])} points, {b1000['outcome']}), still "
             f"{points(still['mean_diff']).lstrip('+')} points below BN at batch {large} ({still['outcome']}).")
    noise = results["noise"].get(str(large))
    sizes = noise["batch_sizes"] if noise else []
    if small in sizes and large in sizes:
        i, j = sizes.index(small), sizes.index(large)
        first += (f" {'What differs is training' if still['outcome'] == 'shows' else 'In training'}: over the first layer's units a batch of {small} misses the population "
                  f"mean by {noise['mean']['mean'][i]:.2f} population std (RMS; 1/sqrt({small}) = "
                  f"{1 / math.sqrt(small):.2f}) and the population std by {100 * noise['std']['mean'][i]:.0f}%, "
                  f"against {noise['mean']['mean'][j]:.2f} and {100 * noise['std']['mean'][j]:.0f}% at batch {large}.")
    if small == 2:
        first += (" With two samples each normalized unit is +-1, one bit, and its gradient is zero except where the "
                  "two values nearly coincide and eps makes it large")
    else:
        first += " Every normalized unit carries that noise into the forward pass and the gradient"
    first += (f": BN's first Linear ends {moves['better_mean']:.3g} times its initial norm away from it against "
              f"{moves['worse_mean']:.3g} under LayerNorm at the same lr and steps ({moves['outcome']}), and "
              f"evaluated on test batches of {small}, as it trained, the BN net gets "
              f"{percent(diag['batch stats at training batch']['mean'])}.")

    rb, half = verdict_by_id(results, "renorm/beats-bn"), verdict_by_id(results, "renorm/half-gap")
    gap = base["better_mean"] - base["worse_mean"]
    closed = (rb["better_mean"] - base["worse_mean"]) / gap if gap else float("nan")
    warm = results["design"]["renorm_warmup"]["steps"][str(small)]
    rp = verdict_by_id(results, "renorm/population")
    second = (f"Batch renormalization (r_max 3, d_max 5, fully relaxed from step {warm[0] + max(warm[1], warm[2])} "
              f"of {results['design']['steps'][str(small)]} at batch {small}) reaches {percent(rb['better_mean'])} at "
              f"batch {small}, {points(rb['mean_diff'])} points over BatchNorm ({_seeds(rb)}), closing "
              f"{100 * closed:.0f}% of the gap to BN at batch {large} (over half of it: {half['outcome']}); with "
              f"population statistics instead of its running ones it gets {percent(rp['better_mean'])} "
              f"({points(rp['mean_diff'])} points, {rp['outcome']}). ")
    others = [(n, verdict_by_id(results, f"{n}/beats-bn")) for n in ("layer", "group", "instance")]
    second += (f"At batch {small} " + ", ".join(
        f"{LABELS[n]} reaches {percent(v['better_mean'])} ({v['outcome']} against BN)" for n, v in others)
        + f"; in an MLP, instance norm over {GROUPS} channels is group norm with {GROUPS} groups and one scale and "
          "shift per channel instead of per unit. ")
    groups = results["groups"]
    second += (f"Group norm at batch {small} reaches " + ", ".join(
        f"{percent(groups[str(g)]['mean'])} with {counted(g, 'group')}" + (" (LayerNorm)" if g == 1 else "")
        for g in results["group_sweep"]) + ".")
    g32 = verdict_by_id(results, "groups/4-vs-32")
    if g32 is not None:
        second += (f" With 32 groups, of {WIDTHS[1] // 32} and {WIDTHS[2] // 32} units, it trails {GROUPS} groups by "
                   f"{points(g32['mean_diff']).lstrip('+')} points ({g32['outcome']}): normalizing over two values "
                   "fails within a sample as it does across two samples.")
    return first + "\n\n" + second


# ------------------------------------------------------------ the plots
COLORS = {"none": "tab:gray", "batch": "tab:blue", "renorm": "tab:cyan", "layer": "tab:orange",
          "group": "tab:green", "instance": "tab:purple"}
SHORT = {"none": "none", "batch": "BN", "renorm": "renorm", "layer": "LN", "group": "GN (4)", "instance": "IN (4)"}
EVAL_COLORS = {"running": "tab:blue", "population": "tab:green", "batch stats 1000": "tab:orange",
               "batch stats at training batch": "tab:red"}


def _setup_words(epochs):
    return f"{epochs} epochs, lr = {LR_AT_64:g} x batch / 64, SGD momentum {SGD_MOMENTUM:g}"


def _log2_axis(ax, ticks):
    ax.set_xscale("log", base=2)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()


@figures
def _plot(plt, out, runs, batches, sweep, epochs):
    seeds = len({r["seed"] for r in runs})
    small, large = min(batches), max(batches)
    paths = []

    # accuracy against batch size, every norm
    fig, ax = plt.subplots(figsize=(7, 4.8))
    lowest = 1.0
    for k, norm in enumerate(NORMS):
        cells = [[r for r in runs if r["norm"] == norm and r["batch"] == b and r["groups"] in (None, GROUPS)]
                 for b in batches]
        acc = np.array([[r["final_acc"] for r in c] for c in cells], float)
        diverged = sum(r["diverged"] for c in cells for r in c)
        xs = np.array(batches, float) * 2 ** ((k - 2.5) * 0.03)  # a nudge so the bands stay apart
        ax.plot(xs, np.nanmean(acc, 1), "o-", color=COLORS[norm], ms=4,
                label=LABELS[norm] + (f" ({diverged} diverged, x)" if diverged else ""))
        ax.fill_between(xs, np.nanmin(acc, 1), np.nanmax(acc, 1), color=COLORS[norm], alpha=0.18)
        for c, x in zip(cells, xs):
            bad = [r["final_acc"] for r in c if r["diverged"]]
            ax.plot([x] * len(bad), bad, "x", color="red", ms=8, mew=2)
        lowest = min(lowest, float(np.nanmin(acc)))
    _log2_axis(ax, batches)
    ax.set_ylim(max(0.0, lowest - 0.05), 1.0)
    ax.set_xlabel(f"batch size ({_setup_words(epochs)})")
    ax.set_ylabel("held-out accuracy (eval mode)")
    ax.set_title(f"784-64-128-10 ReLU MLP, norm after each hidden Linear\nline: mean, band: min-max over {seeds} seeds")
    ax.legend(loc="lower right", fontsize=9, ncol=2)
    paths.append(save_figure(fig, out, "small-batch.png"))

    # diagnostics: evaluations of BN, batch-statistics noise, weight movement
    fig, axes = plt.subplots(3, 1, figsize=(7, 11.5))
    ax = axes[0]
    for k, e in enumerate(EVALUATIONS):
        vals = [[r["diagnostics"]["accuracy"][e] for r in runs if r["norm"] == "batch" and r["batch"] == b]
                for b in batches]
        xs = np.array(batches, float) * 2 ** ((k - 1.5) * 0.08)
        ax.plot(xs, [np.nanmean(v) for v in vals], "-", color=EVAL_COLORS[e], label=e)
        for x, v in zip(xs, vals):
            ax.plot([x] * len(v), v, "o", color=EVAL_COLORS[e], ms=4, alpha=0.8)
    _log2_axis(ax, batches)
    ax.set_ylim(0, 1)
    ax.set_xlabel("training batch size")
    ax.set_ylabel("held-out accuracy")
    ax.set_title(f"BatchNorm nets evaluated four ways (dots: {seeds} seeds)\n{_setup_words(epochs)}")
    ax.legend(loc="lower right", fontsize=9)

    ax = axes[1]
    curves = [r["diagnostics"]["noise"] for r in runs if r["norm"] == "batch" and r["batch"] == large
              and r["diagnostics"]["noise"]]
    if curves:
        sizes = np.array(curves[0]["batch_sizes"], float)
        for key, color, label in (("mean", "tab:blue", "batch mean: RMS error / population std"),
                                  ("std", "tab:red", "batch std: RMS of (batch std / population std - 1)")):
            vals = np.array([c[key] for c in curves])
            ax.plot(sizes, vals.mean(0), "o-", color=color, ms=4, label=label)
            ax.fill_between(sizes, vals.min(0), vals.max(0), color=color, alpha=0.25)
        ax.plot(sizes, 1 / np.sqrt(sizes), "k--", lw=1, label="1/sqrt(b)")
        ax.plot(sizes, [gaussian_std_noise(int(b)) for b in sizes], "k:", lw=1.2,
                label="std error for Gaussian units")
        ax.set_yscale("log")
        ax.set_yticks([0.05, 0.1, 0.2, 0.5, 1.0])
        ax.set_yticklabels(["0.05", "0.1", "0.2", "0.5", "1"])
        ax.set_ylim(0.04, 1.0)
        _log2_axis(ax, [int(s) for s in sizes])
    ax.set_xlabel("batch size b the statistics are taken over")
    ax.set_ylabel("error (population std units)")
    ax.set_title(f"Noise of batch statistics: first BN layer's input over the training set\n"
                 f"nets trained with BN at batch {large}; band: min-max over {len(curves)} seeds")
    ax.legend(fontsize=9, loc="lower left")

    ax = axes[2]
    norms = list(NORMS)
    width = 0.8 / len(batches)
    for i, b in enumerate(batches):
        xs = np.arange(len(norms)) + (i - (len(batches) - 1) / 2) * width
        vals = [[r["weight_change"][0] for r in runs if r["norm"] == n and r["batch"] == b
                 and r["groups"] in (None, GROUPS)] for n in norms]
        shade = 0.35 + 0.65 * i / max(1, len(batches) - 1)
        ax.bar(xs, [np.nanmean(v) for v in vals], width, color=plt.cm.Greys(shade), label=f"batch {b}")
        for x, v in zip(xs, vals):
            ax.plot(np.full(len(v), x), v, "o", color="tab:red", ms=3, zorder=3)
    ax.set_xticks(np.arange(len(norms)))
    ax.set_xticklabels([SHORT[n] for n in norms])
    ax.set_ylim(bottom=0)
    ax.set_ylabel("||W - W0|| / ||W0||")
    ax.set_title(f"How far the first Linear's weights W moved from their init W0\n"
                 f"bars: mean, dots: {seeds} seeds; same lr rule and epochs")
    ax.legend(fontsize=9, title="training batch", title_fontsize=9)
    paths.append(save_figure(fig, out, "small-batch-diagnostics.png"))

    # group norm's group count at the smallest batch
    fig, ax = plt.subplots(figsize=(7, 4.6))
    vals = [[r["final_acc"] for r in _sweep_runs(runs, small, g)] for g in sweep]
    ax.plot(sweep, [np.nanmean(v) for v in vals], "o-", color=COLORS["group"], label="GroupNorm (mean)")
    for g, v in zip(sweep, vals):
        ax.plot([g] * len(v), v, "o", color=COLORS["group"], ms=4, alpha=0.6)
    inst = [r["final_acc"] for r in runs if r["norm"] == "instance" and r["batch"] == small]
    ax.plot([GROUPS * 1.08] * len(inst), inst, "s", color=COLORS["instance"], ms=5,
            label=f"InstanceNorm ({GROUPS} channels)")
    for norm, b, style in (("batch", small, "--"), ("renorm", small, ":"), ("batch", large, "-.")):
        v = [r["final_acc"] for r in runs if r["norm"] == norm and r["batch"] == b]
        ax.axhline(np.nanmean(v), color=COLORS[norm], ls=style, lw=1.5, label=f"{LABELS[norm]} at batch {b} (mean)")
    _log2_axis(ax, sweep)
    ax.set_xticklabels([f"{g}\n({WIDTHS[1] // g}/{WIDTHS[2] // g})" for g in sweep])
    ax.set_ylim(0, 1)
    ax.set_xlabel("groups (units per group in the 64- / 128-wide layer); 1 group = LayerNorm")
    ax.set_ylabel("held-out accuracy")
    ax.set_title(f"GroupNorm's group count at batch {small}, dots: {seeds} seeds\n{_setup_words(epochs)}")
    ax.legend(fontsize=9, loc="lower left")
    paths.append(save_figure(fig, out, "small-batch-groups.png"))
    return paths
