"""What the experiments share: the data, a seeded training run that records its
curves (and survives divergence), the verdict rule, the outputs (table, JSON,
PNG) and the progress bar."""
import functools
import json
import math
import os
import time

import numpy as np
from tqdm import tqdm

from .. import nn, optim
from ..creation import from_numpy
from ..data import DataLoader, TensorDataset, load_mnist_5k
from ..grad_mode import no_grad
from ..random import manual_seed
from ..serialization import _name_the_file
from ..train import compiled_training_step

_DATA = {}


def data(pixels="standardized"):
    """The bundled digits, split with seed 0 (the same split for every run):
    ``standardized`` as the CLI trains (MNIST mean and std), or ``raw`` [0, 1]
    pixels as the articles fed them. Cached per process."""
    if pixels not in _DATA:
        x_train, y_train, x_test, y_test = load_mnist_5k(seed=0, normalize=pixels == "standardized")
        if pixels == "raw":
            x_train = (x_train.reshape(len(x_train), -1) / 255.0).astype(np.float32)
            x_test = (x_test.reshape(len(x_test), -1) / 255.0).astype(np.float32)
        elif pixels != "standardized":
            raise ValueError(f"data: pixels must be 'standardized' or 'raw', got {pixels!r}")
        _DATA[pixels] = (np.ascontiguousarray(x_train), y_train, np.ascontiguousarray(x_test), y_test)
    return _DATA[pixels]


# (batch renormalization needs r_max, d_max and a warm-up sized to the run:
# train_vs_eval.renorm_mlp builds those nets)
NORMS = ("batch", "layer", "group", "instance")


class FeaturesAsChannels(nn.Module):
    """Instance norm in an MLP: the ``features`` hidden units viewed as
    ``channels`` channels of ``features // channels`` positions, each sample's
    channel normalized over its positions (``InstanceNorm1d(channels,
    affine=True)``). That is group norm with ``channels`` groups, but with one
    scale and shift per channel instead of per unit."""

    def __init__(self, features, channels):
        super().__init__()
        if features % channels:
            raise ValueError(f"FeaturesAsChannels: {features} features do not split into {channels} channels")
        self.channels = channels
        self.norm = nn.InstanceNorm1d(channels, affine=True)

    def forward(self, x):
        n = x.shape[0]
        return self.norm(x.reshape(n, self.channels, -1)).reshape(n, -1)


def norm_layer(norm, features, groups):
    """The normalization ``mlp`` puts after a hidden Linear of ``features`` units."""
    if norm == "batch":
        return nn.BatchNorm1d(features)
    if norm == "layer":
        return nn.LayerNorm(features)
    if norm == "group":
        return nn.GroupNorm(groups, features)
    if norm == "instance":
        return FeaturesAsChannels(features, groups)
    raise ValueError(f"mlp: norm must be one of {', '.join(NORMS)} or None, got {norm!r}")


def mlp(widths, activation="relu", norm=None, groups=4):
    """Linear layers of ``widths`` (input first, classes last) with ``activation``
    after each hidden one and ``norm`` (one of ``NORMS`` or None) between the
    Linear and the activation, as in SimpleNetBN. ``groups``: group norm's
    groups, or instance norm's channels."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i == len(widths) - 2:
            break
        if norm is not None:
            layers.append(norm_layer(norm, b, groups))
        layers.append(nn.ReLU() if activation == "relu" else nn.Sigmoid())
    return nn.Sequential(*layers)


def accuracy(model, x, y, batch_size=1000):
    was = model.training
    model.eval()
    correct = 0
    try:
        with no_grad():
            for s in range(0, len(x), batch_size):
                correct += int((model(from_numpy(x[s:s + batch_size])).argmax(1).numpy()
                                == y[s:s + batch_size]).sum())
    finally:  # the model's mode as it was, also after an error
        model.train(was)
    return correct / len(x)


COMPILE_FROM_STEPS = 500
CHANCE = 0.1  # a guess's accuracy on ten balanced classes: what a diverged run scores


def train_run(make_model, seed, epochs, batch_size=64, lr=0.05, momentum=0.9, pixels="standardized",
              on_epoch=None, on_step=None, evaluate=True, tape_every=None, on_tape=None, compiled=None):
    """Train ``make_model()`` (built after seeding) with SGD; returns per-epoch
    mean training loss and held-out accuracy, and whether it diverged. A run
    whose loss turns NaN or Inf stops there: the rest of its curve is NaN and
    its accuracy is chance (diverging is a result, not a crash).
    ``on_epoch(model, epoch)`` runs after each epoch (epoch 0: before training);
    ``on_step(model, step, loss)`` after each step; with ``tape_every``, every
    that many steps the step runs on a ``Tape`` and ``on_tape(step, tape)`` sees it.
    ``compiled``: the other steps run as a ``tg.compile``d step (the same
    numbers bit for bit, and a non-finite loss stops it before the update, as
    here; a model it cannot replay runs eagerly, with a warning). By default
    (None) a run of ``COMPILE_FROM_STEPS`` steps or more is compiled: compiling
    a model's fused runs the first time costs about a second, which a short run
    (a ``--quick`` one) does not win back.
    ``setup`` in the result: every training choice, for the JSON."""
    from ..tape import Tape

    x_train, y_train, x_test, y_test = data(pixels)
    manual_seed(seed)
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True, seed=seed,
                        drop_last=True)  # every step sees a full batch (batch norm needs two samples)
    losses, accs, diverged, step = [], [], False, 0
    if compiled is None:
        compiled = epochs * len(loader) >= COMPILE_FROM_STEPS
    fast = compiled_training_step(model, opt, loss_fn, fallback=True) if compiled else None
    if on_epoch:
        on_epoch(model, 0)
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            total, count = 0.0, 0
            for xb, yb in loader:
                tape = Tape(activation_stats=False) if tape_every and step % tape_every == 0 else None
                if fast is not None and tape is None:
                    try:
                        value = fast(xb, yb).item()
                    except ValueError:  # batch norm's non-finite input, or the loss's: the run diverged
                        diverged = True
                        break
                    step += 1
                    total += value * len(yb)
                    count += len(yb)
                    if on_step:
                        on_step(model, step, value)
                    continue
                opt.zero_grad()
                try:
                    if tape is not None:
                        tape.__enter__()
                    loss = loss_fn(model(xb), yb)
                except ValueError:  # batch norm refuses non-finite input: the run diverged
                    diverged = True
                    break
                finally:
                    if tape is not None:
                        tape.__exit__(None, None, None)
                value = loss.item()
                if not math.isfinite(value):
                    diverged = True
                    break
                loss.backward()
                if tape is not None and on_tape:
                    on_tape(step, tape)
                opt.step()
                step += 1
                total += value * len(yb)
                count += len(yb)
                if on_step:
                    on_step(model, step, value)
            if diverged:
                break
            losses.append(total / count)
            accs.append(accuracy(model, x_test, y_test) if evaluate else float("nan"))
            if on_epoch:
                on_epoch(model, epoch)
    missing = epochs - len(losses)
    if diverged:
        accs_final = CHANCE
    else:
        accs_final = accs[-1] if accs else float("nan")
    return {"loss": losses + [float("nan")] * missing, "acc": accs + [float("nan")] * missing,
            "final_acc": accs_final, "diverged": diverged, "steps": step, "model": model,
            "setup": training_setup(batch_size, lr, momentum, epochs, pixels)}


# ------------------------------------------------------------------ verdicts
# Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom; past 30
# the Cornish-Fisher expansion around the normal quantile is within 1e-4.
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
         2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048,
         2.045, 2.042)
TEST_DIGITS = 1000  # load_mnist_5k's default held-out set: every accuracy is a mean over this many digits
QUICK_OUTCOME = "quick run: no verdict"


def t_quantile_975(df):
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError(f"t_quantile_975: df must be at least 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    # past the table, the Cornish-Fisher expansion about the normal quantile z to 1/df^4: within 3e-8 at df 31
    z = 1.959963984540054
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3)
            + (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / (92160 * df ** 4))


def binomial_se(p, n=TEST_DIGITS):
    """The standard error of an accuracy ``p`` measured on ``n`` digits (the
    test set's own sampling error, which more seeds do not shrink)."""
    p = float(p)
    return math.sqrt(max(p * (1 - p), 0.0) / n) if math.isfinite(p) else float("nan")


def paired_verdict(claim, better, worse, higher_is_better=True, unit="", accuracy=False):
    """Does ``better`` beat ``worse``? ``better[i]`` and ``worse[i]`` come from
    runs with the same seed (the same data order and, where the nets match, the
    same initial weights), so the verdict is on the per-seed differences: their
    mean, a 95% t confidence interval (ddof=1) and a sign count. The claim
    **shows** when the whole interval is on its side, is **reversed** when it is
    wholly on the other, and is **within noise** otherwise (with one seed there
    is no interval: within noise). Pairs with a NaN are left out and counted.
    ``accuracy=True`` adds each side's binomial standard error on the test set."""
    better, worse = np.asarray(better, float), np.asarray(worse, float)
    if better.shape != worse.shape or better.ndim != 1:
        raise ValueError(f"paired_verdict: {claim!r} needs two equal-length lists of per-seed values, got "
                         f"shapes {better.shape} and {worse.shape}")
    sign = 1.0 if higher_is_better else -1.0
    keep = np.isfinite(better) & np.isfinite(worse)
    diffs = sign * (better[keep] - worse[keep])
    n = int(diffs.size)
    mean = float(diffs.mean()) if n else float("nan")
    sd = float(diffs.std(ddof=1)) if n > 1 else float("nan")
    half = t_quantile_975(n - 1) * sd / math.sqrt(n) if n > 1 else float("nan")
    low, high = mean - half, mean + half
    if n > 1 and low > 0:
        outcome = "shows"
    elif n > 1 and high < 0:
        outcome = "reversed"
    else:
        outcome = "within noise"
    verdict = {"claim": claim, "outcome": outcome, "mean_diff": mean, "ci95": [low, high], "sd": sd,
               "wins": int((diffs > 0).sum()), "losses": int((diffs < 0).sum()), "pairs": n,
               "dropped_pairs": int(keep.size - n), "unit": unit, "higher_is_better": higher_is_better,
               "better_mean": float(np.nanmean(better)) if keep.any() else float("nan"),
               "worse_mean": float(np.nanmean(worse)) if keep.any() else float("nan"),
               "diffs": diffs.tolist()}
    if accuracy:
        verdict["binomial_se"] = [binomial_se(verdict["better_mean"]), binomial_se(verdict["worse_mean"])]
    return verdict


def withhold_verdicts(verdicts):
    """A ``--quick`` run's verdicts: the numbers stay, the outcome says there is none."""
    for v in verdicts:
        v["outcome"] = QUICK_OUTCOME
    return verdicts


def verdict_table(verdicts):
    lines = [f"{'claim':70} {'here':13} {'mean diff':>10} {'95% CI':>21} {'wins':>6}"]
    for v in verdicts:
        low, high = v["ci95"]
        ci = f"[{low:.3g}, {high:.3g}]" if math.isfinite(low) else "-"
        lines.append(f"{v['claim'][:70]:70} {v['outcome'][:13]:13} {v['mean_diff']:10.3g} {ci:>21} "
                     f"{v['wins']:>3}/{v['pairs']:<2}"
                     + ("  binomial error " + " / ".join(f"{se:.3f}" for se in v["binomial_se"])
                        if v.get("binomial_se") else ""))
    if any(v["outcome"] == QUICK_OUTCOME for v in verdicts):
        lines.append("quick run: no verdict (1 epoch, 2 seeds, a smaller grid; run without --quick for one)")
    return "\n".join(lines)


# ------------------------------------------------------------------ README text
# An experiment's summary(results) reads its results as loaded back from the
# JSON (NaN is None there); these word its numbers.
def verdict_by_id(results, vid):
    """The verdict an experiment tagged with ``id`` ``vid``."""
    for v in results["verdicts"]:
        if v.get("id") == vid:
            return v
    raise KeyError(f"{results.get('experiment', 'experiment')}: no verdict with id {vid!r}")


def finite_mean(values):
    """The mean of the finite values (None and NaN left out), NaN if there are none."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    return sum(vals) / len(vals) if vals else float("nan")


def counted(n, noun):
    """``n`` and ``noun``, plural unless n is 1: "1 epoch", "2 epochs", "0 seeds"."""
    return f"{n} {noun}{'s' * (n != 1)}"


def join_words(items):
    """``["a", "b", "c"]`` as "a, b and c" ("" for none)."""
    items = [str(i) for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def percent(x):
    """An accuracy as "93.1%" ("n/a" when missing)."""
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.1f}%"


def points(x):
    """A difference of accuracies in points, signed ("+1.3"; never "-0.0")."""
    return "n/a" if x is None or not math.isfinite(x) else f"{round(100 * x, 1) + 0.0:+.1f}"


# ------------------------------------------------------------------ setups
def training_setup(batch_size, lr, momentum, epochs, pixels, **extra):
    """Everything ``train_run`` fixes, as the JSON records it."""
    return {"optimizer": "SGD", "lr": lr, "momentum": momentum, "nesterov": False, "weight_decay": 0.0,
            "batch_size": batch_size, "drop_last": True, "shuffle": "DataLoader(shuffle=True, seed=seed)",
            "loss": "CrossEntropyLoss", "epochs": epochs, "pixels": pixels, "preprocessing": PIXELS[pixels],
            "init": "the layers' defaults after manual_seed(seed)", "held_out_digits": TEST_DIGITS, **extra}


PIXELS = {"standardized": "uint8 / 255, then (x - 0.1307) / 0.3081 (MNIST's mean and std), flattened to 784",
          "raw": "uint8 / 255 in [0, 1], flattened to 784"}


def environment():
    """What produced the numbers: package version and commit, library
    versions, thread counts and the machine."""
    import platform

    import numba

    from .. import __version__
    from ..threads import get_num_threads
    env = {"tinygrad_bn": __version__, "python": platform.python_version(), "numpy": np.__version__,
           "numba": numba.__version__, "platform": platform.platform(), "cpu_count": os.cpu_count(),
           "numba_threads": get_num_threads(),
           "blas_threads_env": {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                           "MKL_NUM_THREADS") if k in os.environ}}
    try:
        from threadpoolctl import threadpool_info
        env["blas_threads"] = [{"library": i.get("internal_api"), "threads": i.get("num_threads")}
                               for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        pass
    env.update(_git_state())
    return env


def _git_state():
    """The commit (and whether the tree had changes) when the package runs from a git checkout."""
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not os.path.exists(os.path.join(root, ".git")):
        return {"commit": None}
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None}
    return {"commit": commit or None, "uncommitted_changes": bool(dirty)}


# ------------------------------------------------------------------ outputs
def pyplot():
    """matplotlib's pyplot (Agg), or None with a message once: the table and
    JSON are still written."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        # sizes that stay readable when the README shows a figure about 600 pixels wide
        plt.rcParams.update({"font.size": 12, "axes.titlesize": 12, "legend.fontsize": 10,
                             "figure.titlesize": 13})
        return plt
    except ImportError:
        if not _WARNED:
            _WARNED.append(True)
            print("matplotlib is not installed, so no PNGs were drawn (the table and JSON are written); "
                  "pip install 'tinygrad_bn[plot]' for the plots")
        return None


_WARNED = []


def figures(draw):
    """Decorates an experiment's ``draw(plt, *args)`` (which returns the PNG
    paths it wrote): without matplotlib it draws nothing and returns []."""
    @functools.wraps(draw)
    def wrapper(*args):
        plt = pyplot()
        return [] if plt is None else draw(plt, *args)
    return wrapper


# Plots are written beside their final names and renamed into place together
# with the JSON (write_results): a failure (a full disk, an interrupted run)
# leaves the previous run's files as they were, never a new plot beside an old JSON.
_PENDING = []  # (temporary path, final path)


def save_figure(fig, out, name):
    """Write ``fig`` for ``out/name``; it takes that name with the results' JSON."""
    path = os.path.join(out, name)
    tmp = _temporary(path)
    fig.tight_layout()
    try:
        fig.savefig(tmp, dpi=110, format=os.path.splitext(name)[1][1:] or "png")
    except BaseException as exc:
        _discard(tmp)
        _name_the_file(exc, path)
        raise
    finally:
        import matplotlib.pyplot as plt
        plt.close(fig)
    _PENDING.append((tmp, path))
    return path


def _temporary(path):
    from ..serialization import _TMP_PREFIX
    folder, name = os.path.split(path)
    return os.path.join(folder, f"{_TMP_PREFIX}{os.getpid()}-{name}")


def _discard(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def discard_pending():
    """Remove plots written for results that will not be written (a failed run)."""
    while _PENDING:
        _discard(_PENDING.pop()[0])


def _sha256(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _plain(obj):
    """JSON-ready: NumPy numbers to Python ones, NaN/Inf to null."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _plain(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):  # json.dumps refuses NumPy's bool (a verdict computed from arrays)
        return bool(obj)
    return obj


def write_results(out, name, results):
    """The JSON of every number, then the plots and the JSON renamed into place together."""
    from ..serialization import remove_stale_temporaries
    os.makedirs(out, exist_ok=True)
    remove_stale_temporaries(out)
    path = os.path.join(out, f"{name}.json")
    tmp = _temporary(path)
    # the JSON names the exact bytes of its plots, so a picture from another run is detectable
    results = {**results, "plot_sha256": {os.path.basename(final): _sha256(plot_tmp) for plot_tmp, final in _PENDING}}
    try:
        with open(tmp, "w") as f:
            json.dump(_plain(results), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        _discard(tmp)
        discard_pending()
        _name_the_file(exc, path)
        raise
    for plot_tmp, plot_path in _PENDING:
        os.replace(plot_tmp, plot_path)
    _PENDING.clear()
    os.replace(tmp, path)
    return path


class Progress:
    """One bar over an experiment's runs."""

    def __init__(self, total, name, enabled=True):
        self.bar = tqdm(total=total, desc=name, disable=not enabled, leave=False, dynamic_ncols=True)
        self.start = time.perf_counter()

    def tick(self, label=""):
        self.bar.set_postfix_str(label, refresh=False)
        self.bar.update(1)

    def close(self):
        self.bar.close()
        return time.perf_counter() - self.start
