"""landscape: does batch norm make the loss landscape smoother along the path
that training takes? Santurkar et al. 2018 ("How does batch normalization help
optimization?", section 3.1, Fig. 4) say it does, and measure it like this: at
a training step, take the gradient g = grad L(w_t) on that step's batch and
walk along it, w_t - eta g, for a sweep of step sizes eta. Along the walk they
record

* the variation of the loss: max - min of L(w_t - eta g) over the sweep;
* the gradient predictiveness: how far the gradient moves,
  ||grad L(w_t) - grad L(w_t - eta g)|| (here its largest value over the sweep);
* the "effective" beta-smoothness: the largest
  ||grad L(w_t) - grad L(w_t - eta g)|| / ||eta g|| over the sweep, the
  gradient's Lipschitz constant along the step.

Smaller is smoother for all three. SimpleNet and SimpleNetBN train in
bn-vs-plain's two settings; every ``PROBE_EVERY`` steps the probe runs on the
batch the next training step will use, in train mode (BN normalizes with that
batch's statistics, as in training and in the article). The probe leaves
training untouched: the parameters and the BN running buffers
(``num_batches_tracked`` too) are restored bit for bit, and it draws nothing
from any random generator (the batch comes from a second loader with the
training loader's seed)."""
import math

import numpy as np

from ..creation import from_numpy
from ..data import DataLoader, TensorDataset
from ..engine_grad import grad
from ..grad_mode import enable_grad, no_grad
from ..nn import CrossEntropyLoss
from .bn_vs_plain import NETS, SETTINGS
from .common import Progress, counted, data, figures, join_words, paired_verdict, save_figure, train_run

TITLE = "Landscape: loss and gradient along the gradient step (Santurkar et al. 2018)"
DEFAULT_EPOCHS = 5
BATCH_SIZE = 64  # train_run's default: the probes use the same batches
PROBE_EVERY = 10  # steps between probes (the first at step 0)
# eta / lr: a log grid of half octaves from a quarter of the learning rate to
# 8 times it (with momentum 0.9 the optimizer's own steps reach about 10 lr),
# 2^(k/2) / 4 made of a correctly rounded sqrt and exact powers of two, so every
# machine has the same grid (np.geomspace's last bits follow the CPU's SIMD code)
ETA_OVER_LR = tuple(math.ldexp(math.sqrt(2.0) if k % 2 else 1.0, k // 2 - 2) for k in range(11))
QUICK = {"settings": ["baseline"], "probe_every": 20, "eta_over_lr": ETA_OVER_LR[::5]}
MEASURES = {  # key -> (what it is, the verdict's claim)
    "loss_range": ("max - min over the sweep of L(w_t - eta g): the variation of the loss along the gradient",
                   "BN narrows the range of the loss along the gradient"),
    "grad_change": (("max over the sweep of ||g - grad L(w_t - eta g)||: how far the gradient moves (smaller: "
                     "the gradient predicts the gradient a step away better)"),
                    "BN makes the gradient more predictive"),
    "beta": (("max over the sweep of ||g - grad L(w_t - eta g)|| / ||eta g||: the effective beta-smoothness, the "
              "gradient's Lipschitz constant along the step"), "BN lowers the effective beta-smoothness"),
}
LABELS = {"plain": "SimpleNet", "bn": "SimpleNetBN"}
COLORS = {"plain": "tab:gray", "bn": "tab:blue"}


# ------------------------------------------------------------ the probe
def _norm(arrays):
    # (not np.vdot: BLAS's dot was a thousand times slower on the shared 2-core machine)
    return math.sqrt(sum(float(np.square(a).sum()) for a in arrays))


def along_gradient(params, loss_and_grad, etas):
    """Walk from the parameters' current values ``w`` along their gradient:
    ``loss_and_grad()`` returns the loss (a float) and the gradients (float64
    NumPy arrays, one per parameter) at the parameters' current values; the
    parameters are set to ``w - eta g`` for each ``eta`` and restored bit for
    bit afterwards. Returns ``loss`` and ``grad_norm`` at ``w`` and, per eta,
    ``losses`` and ``grad_changes`` (||g - grad L(w - eta g)||); a point where
    the loss cannot be computed (batch norm refuses non-finite input) is NaN."""
    saved = [p.detach().numpy().copy() for p in params]
    loss0, g = loss_and_grad()
    losses, changes = [], []
    try:
        for eta in etas:
            with no_grad():
                for p, w, gi in zip(params, saved, g):
                    p.copy_(from_numpy((w.astype(np.float64) - eta * gi).astype(w.dtype)))
            try:
                loss, g_eta = loss_and_grad()
            except ValueError:
                loss, g_eta = float("nan"), [np.full_like(gi, np.nan) for gi in g]
            losses.append(loss)
            changes.append(_norm([a - b for a, b in zip(g, g_eta)]))
    finally:
        with no_grad():
            for p, w in zip(params, saved):
                p.copy_(from_numpy(w))
    return {"loss": loss0, "grad_norm": _norm(g), "etas": list(etas), "losses": losses, "grad_changes": changes}


def measures(walk):
    """The three numbers of a walk (NaN when a point of it is not finite)."""
    losses, changes = np.array(walk["losses"], float), np.array(walk["grad_changes"], float)
    steps = np.array(walk["etas"], float) * walk["grad_norm"]  # ||eta g||
    with np.errstate(all="ignore"):
        ratio = changes / steps
    return {"loss_range": float(losses.max() - losses.min()), "grad_change": float(changes.max()),
            "beta": float(ratio.max())}


def probe(model, x, y, etas, loss_fn=None):
    """``along_gradient`` for ``model``'s loss on ``(x, y)`` in train mode, with
    respect to all its parameters; its running buffers and mode are left as
    they were. Returns the walk with its ``measures``."""
    loss_fn = CrossEntropyLoss() if loss_fn is None else loss_fn
    params = list(model.parameters())
    buffers = [(b, b.numpy().copy()) for _, b in model.named_buffers()]
    was_training = model.training
    model.train()

    def loss_and_grad():
        with enable_grad():
            loss = loss_fn(model(x), y)
            grads = grad(loss, params)
        return loss.item(), [gi.numpy().astype(np.float64) for gi in grads]

    try:
        with np.errstate(all="ignore"):
            walk = along_gradient(params, loss_and_grad, etas)
    finally:
        with no_grad():  # every forward above moved the BN running statistics
            for buffer, saved in buffers:
                buffer.copy_(from_numpy(saved))
        model.train(was_training)
    return {**walk, **measures(walk)}


def training_batches(seed, batch_size, pixels):
    """The batches ``train_run(..., seed, batch_size=batch_size, pixels=pixels)``
    trains on, in order, epoch after epoch: a loader of its own, built as
    train_run builds its loader (the same seed, so the same order)."""
    x_train, y_train = data(pixels)[:2]
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True, seed=seed,
                        drop_last=True)
    while True:
        yield from loader


# ------------------------------------------------------------ the experiment
def probe_steps(epochs, train_size, every, batch_size=BATCH_SIZE):
    """The steps probed: 0, every, 2 every, ... before the last step."""
    return list(range(0, epochs * (train_size // batch_size), every))


def _probed_run(cls, seed, epochs, cfg, every, etas):
    steps = set(probe_steps(epochs, len(data(cfg["pixels"])[0]), every))
    batches = training_batches(seed, BATCH_SIZE, cfg["pixels"])
    position = [0, None]  # the index of the next batch, the last one drawn
    seen = {}

    def batch(index):  # train_run's batch number ``index`` (0: the first step's)
        while position[0] <= index:
            position[1] = next(batches)
            position[0] += 1
        return position[1]

    def record(model, step):  # after ``step`` steps: the next step trains on batch ``step``
        if step in steps and step not in seen:
            seen[step] = probe(model, *batch(step), etas)

    r = train_run(cls, seed, epochs, batch_size=BATCH_SIZE,
                  on_epoch=lambda model, epoch: record(model, 0) if epoch == 0 else None,
                  on_step=lambda model, step, loss: record(model, step), **cfg)
    order = sorted(steps)
    missing = {"loss": float("nan"), "grad_norm": float("nan"), "losses": [float("nan")] * len(etas),
               "grad_changes": [float("nan")] * len(etas), **dict.fromkeys(MEASURES, float("nan"))}  # past a divergence
    curves = {key: [seen.get(s, missing)[key] for s in order] for key in missing}
    return r, order, curves


def _design(settings, every, multipliers):
    return {"nets": {net: LABELS[net] for net in NETS},
            "settings": {s: SETTINGS[s] for s in settings},
            "eta_over_lr": list(multipliers),
            "etas": {s: [SETTINGS[s]["lr"] * m for m in multipliers] for s in settings},
            "probe_every": every, "eta_steps": len(multipliers),
            "probe_batch": f"the batch the next training step uses ({BATCH_SIZE} digits), the loss in train mode "
                           "(BN with that batch's statistics); gradients with respect to all parameters",
            "measures": {key: what for key, (what, _) in MEASURES.items()},
            "per_seed_value": "the median over a run's probes (every probe from step 0) of the measure; the "
                              "verdicts compare its log10 (decades), paired by seed; lower is smoother",
            "restored": "parameters and BN running buffers (num_batches_tracked too) restored bit for bit after "
                        "each probe; no random draws"}


def log_decades(values):
    """log10 of each value, NaN for a value that is 0, negative or NaN (a measure that
    vanished or was not measured has no place on a log scale: left out, not -inf)."""
    with np.errstate(all="ignore"):
        return [float(np.log10(v)) if v > 0 else float("nan") for v in values]


def _geometric_mean(values):
    """The geometric mean over seeds of per-seed medians: 10 ** the mean of their decades (a
    verdict's side mean), NaN when none counts."""
    logs = log_decades(values)
    return float(10 ** np.nanmean(logs)) if np.isfinite(logs).any() else float("nan")


def run(out, *, seeds, epochs, progress, quick):
    settings = QUICK["settings"] if quick else list(SETTINGS)
    every = QUICK["probe_every"] if quick else PROBE_EVERY
    multipliers = QUICK["eta_over_lr"] if quick else ETA_OVER_LR
    runs = []
    bar = Progress(len(settings) * len(NETS) * seeds, "landscape", progress)
    for setting in settings:
        cfg = SETTINGS[setting]
        etas = [cfg["lr"] * m for m in multipliers]
        for net, cls in NETS.items():
            for seed in range(seeds):
                r, steps, curves = _probed_run(cls, seed, epochs, cfg, every, etas)
                setup = {**r["setup"], "probe_every": every, "eta_over_lr": list(multipliers), "etas": etas,
                         "probe_batch": "the next training step's batch, train mode"}
                runs.append({"setting": setting, "net": net, "seed": seed, "setup": setup, "loss": r["loss"],
                             "acc": r["acc"], "final_acc": r["final_acc"], "diverged": r["diverged"],
                             "probe_steps": steps, "probe_loss": curves["loss"], "grad_norm": curves["grad_norm"],
                             **{key: curves[key] for key in MEASURES},
                             "sweep_losses": curves["losses"], "sweep_grad_changes": curves["grad_changes"]})
                bar.tick(f"{setting} {net} seed {seed}")
    seconds = bar.close()

    def per_seed(setting, net, key):
        # a run's median over its probes (NaN past a divergence is left out)
        values = []
        for r in runs:
            if r["setting"] == setting and r["net"] == net:
                v = np.array(r[key], float)
                v = v[np.isfinite(v)]
                values.append(float(np.median(v)) if v.size else float("nan"))
        return values

    verdicts, medians, typical = [], {}, {}
    for setting in settings:
        medians[setting], typical[setting] = {}, {}
        for key in (*MEASURES, "grad_norm", "probe_loss"):
            medians[setting][key] = {net: per_seed(setting, net, key) for net in NETS}
            typical[setting][key] = {net: _geometric_mean(medians[setting][key][net]) for net in NETS}
        for key, (_, claim) in MEASURES.items():
            v = paired_verdict(f"{setting}: {claim}", log_decades(medians[setting][key]["bn"]),
                               log_decades(medians[setting][key]["plain"]), higher_is_better=False, unit="decades")
            v["id"] = f"{setting}/{key}"
            verdicts.append(v)
    results = {"design": _design(settings, every, multipliers), "settings": {s: SETTINGS[s] for s in settings},
               "probe_every": every, "eta_over_lr": list(multipliers), "runs": runs,
               "per_seed_median": medians, "typical": typical, "verdicts": verdicts, "run_seconds": seconds}
    results["plots"] = _plot(out, runs, settings, every, multipliers, seeds)
    return results


# ------------------------------------------------------------ the plot
ROWS = (("loss_range", "loss range over the sweep"), ("grad_change", "max ||g - g(w - eta g)||"),
        ("beta", "effective beta-smoothness"), ("grad_norm", "||g|| (context)"))


def _setting_title(setting, multipliers):
    cfg = SETTINGS[setting]
    pixels = "standardized" if cfg["pixels"] == "standardized" else "raw pixels"
    return (f"{setting}: {pixels}, SGD lr {cfg['lr']:g}, momentum {cfg['momentum']:g},\nbatch {BATCH_SIZE}; "
            f"eta = lr x {multipliers[0]:g}..{multipliers[-1]:g} ({len(multipliers)} log steps)")


@figures
def _plot(plt, out, runs, settings, every, multipliers, seeds):
    fig, axes = plt.subplots(len(ROWS), len(settings), figsize=(max(7, 1 + 5 * len(settings)), 11), squeeze=False,
                             sharex=True, sharey="row")
    for col, setting in enumerate(settings):
        for row, (key, ylabel) in enumerate(ROWS):
            ax = axes[row, col]
            for net in NETS:
                mine = [r for r in runs if r["setting"] == setting and r["net"] == net]
                steps = mine[0]["probe_steps"]
                v = np.array([r[key] for r in mine], float)
                v[~(v > 0)] = np.nan  # (log axis; NaN past a divergence)
                with np.errstate(all="ignore"), _quiet():
                    mean = np.exp(np.nanmean(np.log(v), 0))
                    lo, hi = np.nanmin(v, 0), np.nanmax(v, 0)
                final = np.array([r["loss"][-1] for r in mine], float)
                final = final[np.isfinite(final)]
                label = LABELS[net] + (f" (final training loss {np.exp(np.log(final).mean()):.2g})" if final.size
                                       else " (diverged)")
                ax.plot(steps, mean, color=COLORS[net], lw=1.5, label=label)
                ax.fill_between(steps, lo, hi, color=COLORS[net], alpha=0.25, lw=0)
            ax.set_yscale("log")
            if col == 0:
                ax.set_ylabel(ylabel)
            if row == 0:
                ax.set_title(_setting_title(setting, multipliers))
                ax.legend(loc="best")
            if row == len(ROWS) - 1:
                ax.set_xlabel(f"training step (probe every {every})")
    for ax in axes.flat:  # (after every row's data: its limits are shared)
        _log_ticks(plt, ax)
    fig.suptitle(f"Along the gradient g of each probed step's batch, w - eta g (line: geometric mean over "
                 f"{counted(seeds, 'seed')}; band: min to max)")
    return [save_figure(fig, out, "landscape.png")]


def _log_ticks(plt, ax):
    """Plain numbers on a log axis: 1-2-5 ticks when it spans little, decades otherwise."""
    low, high = ax.get_ylim()
    subs = (1.0, 2.0, 5.0) if high / low < 300 else (1.0,)
    ax.yaxis.set_major_locator(plt.LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(plt.NullFormatter())


class _quiet:
    """Silence NumPy's all-NaN-slice warnings (a column past a divergence)."""

    def __enter__(self):
        import warnings
        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._catch.__exit__(*exc)


# ------------------------------------------------------------ the README paragraph
def _num(v, digits=2):
    """A number as the summary prints it (``n/a`` for a null)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "n/a"
    return f"{v:.{digits}g}"


_WORDS = {"loss_range": ("narrowed the loss range", "widened the loss range", "the loss range"),
          "grad_change": ("made the gradient more predictive", "made the gradient less predictive",
                          "how far the gradient moved"),
          "beta": ("lowered the effective beta-smoothness", "raised the effective beta-smoothness",
                   "the effective beta-smoothness")}


def _phrase(verdict, key, typical):
    yes, no, what = _WORDS[key]
    numbers = f"{_num(typical['bn'])} with BN vs {_num(typical['plain'])} without"
    if verdict["outcome"] not in ("shows", "reversed", "within noise"):  # a quick run
        return f"{what} was {numbers}"
    text = {"shows": yes, "reversed": no, "within noise": f"made no clear difference to {what}"}[verdict["outcome"]]
    return f"{text} ({numbers})"



def summary(results):
    """Two Markdown paragraphs for the README, every number read from
    ``results`` (as loaded back from the JSON: NaN as None, string keys) and
    every outcome word from its verdicts."""
    design = results["design"]
    mult = design["eta_over_lr"]
    settings = list(design["settings"])
    verdicts = {v["claim"]: v for v in results["verdicts"]}
    first = [(f"SimpleNet and SimpleNetBN trained in bn-vs-plain's {join_words(settings)} setting{'s' * (len(settings) > 1)}; every {design['probe_every']} "
             f"steps we took the gradient g of the next step's batch (in train mode) and evaluated w - eta g for "
             f"{design['eta_steps']} step sizes from {_num(mult[0])} to {_num(mult[-1])} times the learning rate, "
             f"recording the range of the loss, the largest change of the gradient and the effective "
             f"beta-smoothness (the largest change of g over ||eta g||), each summarized by its median over a "
             f"run's probes (the numbers quoted are geometric means over seeds of those medians).")]
    for setting in settings:
        cfg, typical = design["settings"][setting], results["typical"][setting]
        parts = [_phrase(verdicts[f"{setting}: {claim}"], key, typical[key]) for key, (_, claim) in MEASURES.items()]
        quick = any(verdicts[f"{setting}: {claim}"]["outcome"] not in ("shows", "reversed", "within noise")
                    for _, claim in MEASURES.values())
        first.append(f"In the {setting} setting (lr {_num(cfg['lr'])}, momentum {_num(cfg['momentum'])}) "
                     + (f"a quick run gives no verdict: {parts[0]}, {parts[1]}, and {parts[2]}." if quick else
                        f"BN {parts[0]}, {parts[1]}, and {parts[2]}."))
    beta = {s: verdicts[f"{s}: {MEASURES['beta'][1]}"]["outcome"] for s in settings}
    norms = "; ".join(f"{_num(results['typical'][s]['grad_norm']['bn'])} with BN vs "
                      f"{_num(results['typical'][s]['grad_norm']['plain'])} without in the {s} setting"
                      for s in settings)
    second = [f"The size of the gradient scales the first two measures but not beta: its median norm was {norms}."]
    shows = [s for s in settings if beta[s] == "shows"]
    reversed_ = [s for s in settings if beta[s] == "reversed"]
    if reversed_:
        losses = "; ".join(f"{_num(results['typical'][s]['probe_loss']['plain'])} without BN vs "
                           f"{_num(results['typical'][s]['probe_loss']['bn'])} with it in the {s} setting"
                           for s in reversed_)
        second.append(f"Where BN raised beta ({join_words(reversed_)}), the nets were compared step by step at "
                      f"different places of training, the median loss on the probed batches being {losses}"
                      + (f", so the smoother landscape Santurkar et al. report shows here only in the {join_words(shows)} "
                         f"setting." if shows else ", so the smoother landscape Santurkar et al. report does not "
                                                   "show here."))
    elif shows and len(shows) == len(settings):
        second.append("Beta, the measure that does not grow with the gradient, was lower with BN in every "
                      "setting: the smoother landscape Santurkar et al. report, measured along the path training takes.")
    elif shows:
        second.append(f"Beta was lower with BN in the {join_words(shows)} setting only; elsewhere the difference was "
                      "within the seeds' noise.")
    elif all(o == "within noise" for o in beta.values()):
        second.append("Beta, the measure that does not grow with the gradient, did not differ beyond the seeds' "
                      "noise, so the smoother landscape Santurkar et al. report does not show here.")
    else:
        second.append("This quick run gives no verdict on beta.")
    return " ".join(first) + "\n\n" + " ".join(second)
