"""sharpness: does batch norm smooth the loss landscape? Santurkar et al. 2018
("How does batch normalization help optimization?") and Ghorbani et al. 2019
say it does: with BN the top eigenvalue of the loss's Hessian is smaller.

SimpleNet and SimpleNetBN train in bn-vs-plain's two settings. At checkpoints
(densely early on, then every quarter epoch) the top eigenvalue of the Hessian
of the training loss with respect to all parameters is estimated on a fixed
batch of training digits, by power iteration on Hessian-vector products.

The loss is taken in train mode, so BN normalizes with the statistics of that
batch (of 512 digits, where training batches hold 64), as in training. The measurement leaves training untouched: the BN
running buffers are restored afterwards, and the start vectors come from a
NumPy generator of their own, never from the training generator.

For ReLU nets this is the Hessian of the piecewise-smooth loss: the curvature
within the current pattern of active units, as autodiff (and the articles)
give it. Where a unit switches on or off the gradient jumps, and that adds
nothing here (a finite difference of gradients, even at 1e-5, sees mostly
those jumps)."""
import numpy as np

from ..creation import from_numpy
from ..engine_grad import grad
from ..grad_mode import enable_grad, no_grad
from ..nn import CrossEntropyLoss
from .bn_vs_plain import NETS, SETTINGS
from .common import Progress, data, figures, paired_verdict, save_figure, train_run

TITLE = "Sharpness: top Hessian eigenvalue of the training loss"
DEFAULT_EPOCHS = 5
BATCH_SIZE = 64  # train_run's, for the number of steps per epoch
HESSIAN_BATCH = 512  # the first training digits of the fixed split
ITERATIONS = 100
EARLY_STEPS = (0, 1, 2, 5, 10, 20, 40)  # the first steps move the curvature most
QUICK = {"settings": ["baseline"], "hessian_batch": 256, "iterations": 20}


# ------------------------------------------------------------ the estimator
def hessian_vector_product(loss, params):
    """A function ``v -> H v`` for the Hessian of ``loss`` with respect to
    ``params``; ``v`` and the result are lists of float64 NumPy arrays, one per
    parameter. The gradient graph is recorded once and reused for every product."""
    grads = grad(loss, params, create_graph=True)
    dtypes = [g.detach().numpy().dtype for g in grads]

    def product(vectors):
        directions = [from_numpy(v.astype(dtype)) for v, dtype in zip(vectors, dtypes)]
        return [h.numpy().astype(np.float64) for h in grad(grads, params, grad_outputs=directions, retain_graph=True)]
    return product


def _dot(a, b):
    return float(sum(np.vdot(x, y) for x, y in zip(a, b)))


def power_iteration(product, shapes, iterations, seed, shift=0.0):
    """The eigenvalue of largest magnitude of ``H - shift * I`` (``H`` given by
    ``product``), by power iteration from a seeded Gaussian start: normalize,
    multiply, and take the Rayleigh quotient. Returns the last estimate and its
    change over the last iteration, relative to the estimate."""
    rng = np.random.default_rng(seed)
    v = [rng.standard_normal(shape) for shape in shapes]
    estimates = []
    for _ in range(iterations):
        norm = np.sqrt(_dot(v, v))
        v = [x / norm for x in v]
        hv = [h - shift * x for h, x in zip(product(v), v)]
        estimates.append(_dot(v, hv))
        v = hv
    change = abs(estimates[-1] - estimates[-2]) / abs(estimates[-1]) if len(estimates) > 1 else float("nan")
    return estimates[-1], change


def top_eigenvalue(product, shapes, iterations, seed):
    """The largest (most positive) eigenvalue of a symmetric ``H``. Power
    iteration finds the one of largest magnitude; when that is negative (a
    saddle, as a BN net at initialization can be), a second run on
    ``H - lambda_neg * I``, whose spectrum is then non-negative with the top
    eigenvalue largest, finds it. Returns a dict: ``top``, ``dominant`` (the
    first run's estimate), ``change`` (the last iteration's relative change)."""
    dominant, change = power_iteration(product, shapes, iterations, seed)
    top = dominant
    if dominant < 0:
        shifted, change = power_iteration(product, shapes, iterations, seed, shift=dominant)
        top = shifted + dominant
        change = change * abs(shifted) / max(abs(top), 1e-300)  # relative to the top eigenvalue
    return {"top": top, "dominant": dominant, "change": change}


def measure(model, x, y, iterations, seed):
    """The loss on ``(x, y)`` in train mode and the top eigenvalue of its
    Hessian; the model's running buffers and mode are left as they were."""
    buffers = [(b, b.numpy().copy()) for _, b in model.named_buffers()]
    was_training = model.training
    model.train()
    params = list(model.parameters())
    try:
        with enable_grad():
            loss = CrossEntropyLoss()(model(x), y)
            product = hessian_vector_product(loss, params)
            result = top_eigenvalue(product, [p.shape for p in params], iterations, seed)
    finally:
        with no_grad():  # the forward above moved the BN running statistics
            for buffer, saved in buffers:
                buffer.copy_(from_numpy(saved))
        model.train(was_training)
    return {"loss": loss.item(), **result}


# ------------------------------------------------------------ the experiment
def checkpoints(epochs, train_size, batch_size=BATCH_SIZE):
    """The steps to measure at: the early ones, then every quarter epoch."""
    per_epoch = train_size // batch_size
    quarters = {round(k * per_epoch / 4) for k in range(1, 4 * epochs + 1)}
    return sorted({s for s in EARLY_STEPS if s <= epochs * per_epoch} | quarters)


def stability_threshold(lr, momentum):
    """2 (1 + momentum) / lr: above this curvature, (heavy-ball) gradient descent
    on a quadratic diverges; SGD's sharpness tends to settle below it."""
    return 2 * (1 + momentum) / lr


def _measured_run(cls, seed, epochs, cfg, hessian_batch, iterations):
    x_train, y_train = data(cfg["pixels"])[:2]
    x, y = from_numpy(x_train[:hessian_batch]), from_numpy(y_train[:hessian_batch])
    steps = set(checkpoints(epochs, len(x_train)))
    seen = {}

    def record(model, step):
        if step in steps and step not in seen:
            seen[step] = measure(model, x, y, iterations, seed=[seed, step])

    r = train_run(cls, seed, epochs, on_epoch=lambda model, epoch: record(model, 0) if epoch == 0 else None,
                  on_step=lambda model, step, loss: record(model, step), **cfg)
    missing = dict.fromkeys(("top", "dominant", "change", "loss"), float("nan"))  # past a divergence
    order = sorted(steps)
    return r, {"steps": order, **{key: [seen.get(s, missing)[key] for s in order] for key in missing}}


def run(out, *, seeds, epochs, progress, quick):
    settings = QUICK["settings"] if quick else list(SETTINGS)
    hessian_batch = QUICK["hessian_batch"] if quick else HESSIAN_BATCH
    iterations = QUICK["iterations"] if quick else ITERATIONS
    runs = []
    bar = Progress(len(settings) * len(NETS) * seeds, "sharpness", progress)
    for setting in settings:
        cfg = SETTINGS[setting]
        for net, cls in NETS.items():
            for seed in range(seeds):
                r, curve = _measured_run(cls, seed, epochs, cfg, hessian_batch, iterations)
                runs.append({"setting": setting, "net": net, "seed": seed, "setup": r["setup"],
                             "loss": r["loss"], "acc": r["acc"],
                             "final_acc": r["final_acc"], "diverged": r["diverged"],
                             "hessian_steps": curve["steps"], "top_eigenvalue": curve["top"],
                             "dominant_eigenvalue": curve["dominant"], "power_iteration_change": curve["change"],
                             "hessian_batch_loss": curve["loss"]})
                bar.tick(f"{setting} {net} seed {seed}")
    seconds = bar.close()

    verdicts = _verdicts(runs, settings)
    results = {"settings": {s: SETTINGS[s] for s in settings}, "hessian_batch": hessian_batch,
               "iterations": iterations, "checkpoints": checkpoints(epochs, len(data()[0])),
               "stability_threshold": {s: stability_threshold(SETTINGS[s]["lr"], SETTINGS[s]["momentum"])
                                       for s in settings},
               "runs": runs, "verdicts": verdicts, "run_seconds": seconds,
               "design": {"nets": {"plain": "SimpleNet", "bn": "SimpleNetBN"}, "settings": settings,
                          "measure": f"top eigenvalue of the Hessian of the cross-entropy on the first {hessian_batch} "
                                     "training digits (train mode), all parameters, by power iteration on "
                                     f"Hessian-vector products ({iterations} iterations; shifted when the dominant "
                                     "eigenvalue is negative)",
                          "checkpoints": "steps 0, 1, 2, 5, 10, 20, 40, then every quarter epoch",
                          "per_seed_value": "log10 of the median / peak / last top eigenvalue after step 0"}}
    results["plots"] = _plot(out, runs, settings)
    return results


def _verdicts(runs, settings):
    """Per setting, BN against plain on each seed's median, peak and last top eigenvalue
    after step 0 (its finite ones: NaN past a divergence), in log10 (decades)."""
    def decades(setting, net, summary):
        out = []
        for r in runs:
            if r["setting"] == setting and r["net"] == net:
                tops = np.array([np.nan if t is None else t for t in r["top_eigenvalue"][1:]], float)
                out.append(float(np.log10(summary(tops[np.isfinite(tops)]))))
        return out

    verdicts = []
    for setting in settings:
        for what, summary in (("median over training", np.median), ("peak", np.max),
                              ("at the end", lambda tops: tops[-1])):
            verdicts.append(paired_verdict(f"{setting}: BN lowers the top Hessian eigenvalue: {what}",
                                        decades(setting, "bn", summary), decades(setting, "plain", summary),
                                        higher_is_better=False, unit="decades"))
    return verdicts


def _geometric_curve(results, setting, net):
    """The checkpoints and the geometric mean over seeds of the top eigenvalue at each."""
    mine = [r for r in results["runs"] if r["setting"] == setting and r["net"] == net]
    tops = np.array([[np.nan if t is None else t for t in r["top_eigenvalue"]] for r in mine], float)
    with np.errstate(all="ignore"):
        return mine[0]["hessian_steps"], np.exp(np.nanmean(np.log(tops), 0)), mine


def summary(results):
    """The README's paragraph, every number from ``results``."""
    outcome = {v["claim"]: v for v in results["verdicts"]}
    parts = [f"The top eigenvalue of the Hessian of the training loss (train mode, {results['hessian_batch']} fixed "
             f"training digits, all parameters, {results['iterations']} power iterations on Hessian-vector products "
             f"from `grad(..., create_graph=True)`) at {len(results['checkpoints'])} points over training "
             "(Santurkar et al. 2018, Ghorbani et al. 2019: batch norm smooths the landscape)."]
    for setting in results["settings"]:
        curves = {}
        for net in ("plain", "bn"):
            steps, curve, mine = _geometric_curve(results, setting, net)
            peak = int(np.nanargmax(curve))
            curves[net] = (curve[0], curve[peak], steps[peak], curve[-1],
                           np.mean([r["final_acc"] for r in mine]))
        median = outcome[f"{setting}: BN lowers the top Hessian eigenvalue: median over training"]
        p, b = curves["plain"], curves["bn"]
        parts.append(
            f"In the {setting} setting (geometric means over seeds) SimpleNet's sharpness goes from {p[0]:.2g} to a "
            f"peak of {p[1]:.2g} (step {p[2]}) and ends at {p[3]:.2g}; SimpleNetBN's starts at {b[0]:.2g}, peaks at "
            f"{b[1]:.2g} (step {b[2]}) and ends at {b[3]:.2g}; over training BN's median is "
            f"{-median['mean_diff']:+.2f} decades from plain's ({median['outcome']}; stability threshold "
            f"2(1 + SGD momentum)/lr = {results['stability_threshold'][setting]:.0f}). Final held-out accuracy: "
            f"{100 * p[4]:.1f}% without BN, {100 * b[4]:.1f}% with.")
    bn_start = [(r["dominant_eigenvalue"][0], r["top_eigenvalue"][0]) for r in results["runs"]
                if r["net"] == "bn" and r["dominant_eigenvalue"][0] is not None]
    negative = sum(d < 0 for d, _ in bn_start)
    parts.append(f"At initialization the BN net's eigenvalue of largest magnitude is negative in {negative} of "
                 f"{len(bn_start)} runs (a saddle); the experiment then shifts the spectrum to find the top one and "
                 "keeps both in the JSON. A small Hessian can also mark a net that has not started learning: "
                 "the lower panels plot sharpness against the loss. Measuring restores BN's running buffers and "
                 "draws its start vectors from its own generator, so a run with measurements trains bit for bit "
                 "as one without (tested).")
    return " ".join(parts)


@figures
def _plot(plt, out, runs, settings):
    fig, axes = plt.subplots(2, len(settings), figsize=(max(7, 1 + 4.5 * len(settings)), 8), squeeze=False, sharey=True)
    for col, setting in enumerate(settings):
        cfg = SETTINGS[setting]
        threshold = stability_threshold(cfg["lr"], cfg["momentum"])
        by_net = {net: [r for r in runs if r["setting"] == setting and r["net"] == net] for net in NETS}
        _against_steps(axes[0, col], by_net, threshold)
        axes[0, col].set_title(f"{setting}: " + ("standardized, SGD 0.05 + mom." if setting == "baseline"
                                                 else "raw pixels, plain SGD 0.01"))
        _against_loss(plt, axes[1, col], by_net)
    for ax in axes[:, 0]:
        ax.set_ylabel("top Hessian eigenvalue")
    tops = np.array([t for r in runs for t in r["top_eigenvalue"]], float)
    tops = tops[np.isfinite(tops) & (tops > 0)]
    thresholds = [stability_threshold(SETTINGS[s]["lr"], SETTINGS[s]["momentum"]) for s in settings]
    # room for the legends above the data and the threshold lines
    axes[0, 0].set_ylim(tops.min() / 1.5, max(tops.max(), *thresholds) * 20)
    fig.suptitle("Sharpness of the training loss (top: geometric mean over seeds,\n"
                 "band min to max; bottom: each seed against its loss)")
    return [save_figure(fig, out, "sharpness.png")]


COLORS = {"plain": "tab:gray", "bn": "tab:blue"}
LABELS = {"plain": "SimpleNet", "bn": "SimpleNetBN"}


def _against_steps(ax, by_net, threshold):
    for net, mine in by_net.items():
        steps = mine[0]["hessian_steps"]
        tops = np.array([r["top_eigenvalue"] for r in mine], float)
        ax.plot(steps, np.exp(np.nanmean(np.log(tops), 0)), color=COLORS[net], marker=".", label=LABELS[net])
        ax.fill_between(steps, np.nanmin(tops, 0), np.nanmax(tops, 0), color=COLORS[net], alpha=0.2)
    ax.axhline(threshold, color="tab:red", ls="--", lw=1, label="2 (1 + momentum) / lr")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(0, steps[-1])
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.legend(loc="upper left")


def _against_loss(plt, ax, by_net):
    # steps are not comparable when one net barely learns: at equal loss they are
    losses = []
    for net, mine in by_net.items():
        for r in mine:
            ax.plot(r["hessian_batch_loss"], r["top_eigenvalue"], color=COLORS[net], marker=".", lw=1, alpha=0.7,
                    label=LABELS[net] if r is mine[0] else None)
            losses += [v for v in r["hessian_batch_loss"] if np.isfinite(v)]
    ax.set_xscale("log")
    ax.set_xticks([t for t in (5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01) if min(losses) <= t <= max(losses)])
    ax.xaxis.set_major_formatter(plt.FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.invert_xaxis()  # training runs left to right
    ax.set_xlabel("loss on the Hessian batch")
    ax.legend(loc="upper left")
