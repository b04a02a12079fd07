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


def mlp(widths, activation="relu", norm=None, groups=4):
    """Linear layers of ``widths`` (input first, classes last) with ``activation``
    after each hidden one and ``norm`` ("batch", "layer", "group" or None)
    between the Linear and the activation, as in SimpleNetBN."""
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i == len(widths) - 2:
            break
        if norm == "batch":
            layers.append(nn.BatchNorm1d(b))
        elif norm == "layer":
            layers.append(nn.LayerNorm(b))
        elif norm == "group":
            layers.append(nn.GroupNorm(groups, b))
        elif norm is not None:
            raise ValueError(f"mlp: norm must be 'batch', 'layer', 'group' or None, got {norm!r}")
        layers.append(nn.ReLU() if activation == "relu" else nn.Sigmoid())
    return nn.Sequential(*layers)


def accuracy(model, x, y, batch_size=1000):
    was = model.training
    model.eval()
    correct = 0
    with no_grad():
        for s in range(0, len(x), batch_size):
            correct += int((model(from_numpy(x[s:s + batch_size])).argmax(1).numpy() == y[s:s + batch_size]).sum())
    model.train(was)
    return correct / len(x)


def train_run(make_model, seed, epochs, batch_size=64, lr=0.05, momentum=0.9, pixels="standardized",
              on_epoch=None, on_step=None, evaluate=True, tape_every=None, on_tape=None):
    """Train ``make_model()`` (built after seeding) with SGD; returns per-epoch
    mean training loss and held-out accuracy, and whether it diverged. A run
    whose loss turns NaN or Inf stops there: the rest of its curve is NaN and
    its accuracy is chance (diverging is a result, not a crash).
    ``on_epoch(model, epoch)`` runs after each epoch (epoch 0: before training);
    ``on_step(model, step, loss)`` after each step; with ``tape_every``, every
    that many steps the step runs on a ``Tape`` and ``on_tape(step, tape)`` sees it."""
    from ..tape import Tape

    x_train, y_train, x_test, y_test = data(pixels)
    manual_seed(seed)
    model = make_model()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=batch_size, shuffle=True, seed=seed,
                        drop_last=True)  # every step sees a full batch (batch norm needs two samples)
    losses, accs, diverged, step = [], [], False, 0
    if on_epoch:
        on_epoch(model, 0)
    with np.errstate(all="ignore"):
        for epoch in range(1, epochs + 1):
            total, count = 0.0, 0
            for xb, yb in loader:
                opt.zero_grad()
                tape = Tape(activation_stats=False) if tape_every and step % tape_every == 0 else None
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
        accs_final = 0.1  # chance on ten balanced classes
    else:
        accs_final = accs[-1] if accs else float("nan")
    return {"loss": losses + [float("nan")] * missing, "acc": accs + [float("nan")] * missing,
            "final_acc": accs_final, "diverged": diverged, "steps": step, "model": model}


# ------------------------------------------------------------------ verdicts
def gap_verdict(claim, better, worse, higher_is_better=True, unit=""):
    """Does ``better`` beat ``worse`` by more than the spread over seeds? The
    gap is the difference of the means; the spread the larger of the two
    standard deviations; the claim shows when gap > 2 * spread (and the sign is
    right), is reversed when -gap > 2 * spread, else it is within the noise."""
    better, worse = np.asarray(better, float), np.asarray(worse, float)
    sign = 1 if higher_is_better else -1
    gap = sign * (np.nanmean(better) - np.nanmean(worse))
    spread = float(max(np.nanstd(better), np.nanstd(worse)))
    if gap > 2 * spread and gap > 0:
        outcome = "shows"
    elif -gap > 2 * spread and gap < 0:
        outcome = "reversed"
    else:
        outcome = "within noise"
    return {"claim": claim, "outcome": outcome, "gap": float(gap), "spread": spread, "unit": unit,
            "better_mean": float(np.nanmean(better)), "worse_mean": float(np.nanmean(worse))}


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
    except BaseException:
        _discard(tmp)
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
    return obj


def write_results(out, name, results):
    """The JSON of every number, then the plots and the JSON renamed into place together."""
    from ..serialization import remove_stale_temporaries
    os.makedirs(out, exist_ok=True)
    remove_stale_temporaries(out)
    path = os.path.join(out, f"{name}.json")
    tmp = _temporary(path)
    try:
        with open(tmp, "w") as f:
            json.dump(_plain(results), f, indent=1)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        _discard(tmp)
        discard_pending()
        raise
    for plot_tmp, plot_path in _PENDING:
        os.replace(plot_tmp, plot_path)
    _PENDING.clear()
    os.replace(tmp, path)
    return path


def verdict_table(verdicts):
    lines = [f"{'claim':72} {'here':13} {'gap':>9} {'spread':>8}"]
    for v in verdicts:
        lines.append(f"{v['claim'][:72]:72} {v['outcome']:13} {v['gap']:9.3g} {v['spread']:8.2g}")
    return "\n".join(lines)


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
