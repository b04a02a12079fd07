"""Each experiment's --quick run, made once for the whole test session.

Several test files read the quick runs' outputs, and each run takes seconds;
under pytest-xdist every worker would make its own. The first test to ask for
an experiment runs it into a folder the session's workers share, under a file
lock, noting as it runs what some tests check (each progress bar, whether each
model it trains has batch norm, each figure's panels); later askers read the
folder and the notes. A quick run is seeded (test_experiments.py checks that a
rerun of one gives the same numbers), so the process that made the outputs does
not matter. The folder is shared: read it, never write into it.
"""
import os
import pickle
from types import SimpleNamespace

import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import common

try:
    import fcntl
except ImportError:  # not POSIX: each process makes its own runs
    fcntl = None

QUIET = {"progress": False, "log": lambda *a: None}


class _CountedProgress(common.Progress):
    """The progress bar, keeping its total, its ticks and their labels."""
    bars = []

    def __init__(self, total, name, enabled=True):
        super().__init__(total, name, enabled)
        self.total, self.name, self.ticks, self.enabled, self.labels = total, name, 0, enabled, []
        _CountedProgress.bars.append(self)

    def tick(self, label=""):
        self.ticks += 1
        self.labels.append(label)
        super().tick(label)


def _noting_models(name, train_run, built_with_bn):
    """train_run, noting in ``built_with_bn[name]`` whether each model it trains has a BatchNorm layer."""
    from tinygrad_bn.nn.normalization import _BatchNorm

    def noted(make_model, *args, **kwargs):
        def make():
            model = make_model()
            built_with_bn.setdefault(name, []).append(any(isinstance(m, _BatchNorm) for m in model.modules()))
            return model
        return train_run(make, *args, **kwargs)
    return noted


def _noting_figures(savefig, figures):
    """Figure.savefig, first noting in ``figures`` each drawn panel's (title, x label,
    y label, whether its x ticks are named categories, the panels sharing its x axis,
    those sharing its y axis), by index, under the file name less save_figure's prefix."""
    def named(ax):  # tick labels that are words, not numbers (nor mathtext powers of ten)
        texts = [t.get_text() for t in ax.get_xticklabels()]
        return any(any(c.isalpha() for c in t) and not t.startswith("$") for t in texts)

    def noted(fig, fname, *args, **kwargs):
        panels = [ax for ax in fig.axes if ax.get_visible() and (ax.lines or ax.collections or ax.patches)]
        index = {id(ax): i for i, ax in enumerate(panels)}

        def shared(group, ax):
            return {index[id(o)] for o in group.get_siblings(ax) if o is not ax and id(o) in index}
        figures[str(fname).rsplit("/", 1)[-1].split("-", 3)[-1]] = [
            (ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), named(ax),
             shared(ax.get_shared_x_axes(), ax), shared(ax.get_shared_y_axes(), ax)) for ax in panels]
        return savefig(fig, fname, *args, **kwargs)
    return noted


def _make(name, out):
    """Run experiment ``name`` quick into ``out``, noting its bars, models and figures."""
    import importlib
    _CountedProgress.bars.clear()
    built_with_bn, figures = {}, {}
    with pytest.MonkeyPatch.context() as mp:
        try:
            import matplotlib
            matplotlib.use("Agg")
            from matplotlib.figure import Figure
            mp.setattr(Figure, "savefig", _noting_figures(Figure.savefig, figures))
        except ImportError:  # the run writes its JSON without plots; the plot tests skip
            pass
        for module_name in ("common", name.replace("-", "_")):
            module = importlib.import_module(f"tinygrad_bn.experiments.{module_name}")
            if hasattr(module, "Progress"):
                mp.setattr(module, "Progress", _CountedProgress)
            if module_name != "common" and hasattr(module, "train_run"):
                mp.setattr(module, "train_run", _noting_models(module_name, module.train_run, built_with_bn))
        result = experiments.run(name, out=str(out), quick=True, **QUIET)
    bars = [SimpleNamespace(name=b.name, total=b.total, ticks=b.ticks, enabled=b.enabled, labels=list(b.labels))
            for b in _CountedProgress.bars]
    return SimpleNamespace(out=out, result=result, bars=bars, built_with_bn=built_with_bn, figures=figures)


def quick_run(tmp_path_factory, name):
    """Experiment ``name``'s quick run: ``out`` (its folder), ``result`` (what
    experiments.run returned), ``bars``, ``built_with_bn`` (module name -> a flag for
    each model trained) and ``figures`` (file name -> its panels)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER") and base.name.startswith("popen-") and fcntl is not None:
        base = base.parent  # the session's folder, above each local worker's own
    base = base / "quick-experiments"
    base.mkdir(exist_ok=True)
    notes = base / f"{name}.pickle"
    with open(base / f"{name}.lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker making this run: wait for it
        if notes.exists():
            with open(notes, "rb") as f:
                return pickle.load(f)
        made = _make(name, base / name)
        with open(notes.with_suffix(".partial"), "wb") as f:
            pickle.dump(made, f)
        os.replace(notes.with_suffix(".partial"), notes)
        return made


def quick_runs(tmp_path_factory, names=tuple(experiments.EXPERIMENTS)):
    """Several quick runs together: ``outs`` and ``results`` by experiment name, and
    the ``bars``, ``built_with_bn`` and ``figures`` of them all, in ``names``' order."""
    runs = [quick_run(tmp_path_factory, name) for name in names]
    return SimpleNamespace(outs={n: r.out for n, r in zip(names, runs)},
                           results={n: r.result for n, r in zip(names, runs)},
                           bars=[b for r in runs for b in r.bars],
                           built_with_bn={k: v for r in runs for k, v in r.built_with_bn.items()},
                           figures={k: v for r in runs for k, v in r.figures.items()})
