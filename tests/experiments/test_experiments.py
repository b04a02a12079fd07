"""The batch-norm experiments in their --quick form: every file written, the
JSON's structure and values (finite where they must be, in range), the plots
real PNGs, runs repeatable, and the JSON and table still written without
matplotlib."""
import json
import math
import re
import sys

import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import common
from tinygrad_bn.experiments.common import QUICK_OUTCOME

from quick_runs import quick_run, quick_runs


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    """Every experiment's quick run (made once a session): ``outs`` and ``results`` by
    name, and what the runs noted as they ran: ``bars``, ``built_with_bn``, ``figures``."""
    pytest.importorskip("matplotlib")
    return quick_runs(tmp_path_factory)


def test_the_small_batch_bar_names_each_runs_norm_batch_and_groups(quick_results):
    """Each tick says which run just ended: "group batch 2 groups 4"; the groups only
    for the norms that have them (group and instance norm)."""
    (bar,) = [b for b in quick_results.bars if b.name == "small-batch"]
    assert len(bar.labels) == bar.total
    for label in bar.labels:
        norm, rest = label.split(" ", 1)
        assert re.fullmatch(r"batch \d+ groups \d+" if norm in ("group", "instance") else r"batch \d+", rest), label


def test_every_panel_of_every_figure_says_what_its_axes_are(quick_results):
    """Each drawn panel has a y label, or shares its y axis with a labeled panel of its row;
    and an x label, named categories as x ticks, or an x axis shared with a panel that has one
    of those; and the figure has a title on some panel."""
    assert len(quick_results.figures) >= 12
    for name, panels in quick_results.figures.items():
        assert panels and any(title for title, *_ in panels), name
        for i, (_, xlabel, ylabel, categories, share_x, share_y) in enumerate(panels):
            assert ylabel or any(panels[j][2] for j in share_y), (name, i, "no y label")
            assert xlabel or categories or any(panels[j][1] or panels[j][3] for j in share_x), (name, i, "no x label")


def test_each_progress_bar_counts_to_its_total(quick_results):
    # a bar whose total is not the number of runs it ticks shows a wrong ETA and fraction
    assert len(quick_results.bars) >= 8
    assert [(b.name, b.ticks) for b in quick_results.bars] == [(b.name, b.total) for b in quick_results.bars]
    assert not any(b.enabled for b in quick_results.bars)  # the run asked for progress=False


def _accuracies(doc):
    """Every accuracy the JSON holds (final, per epoch, per inference variant)."""
    for r in doc["runs"]:
        for key in ("final_acc",):
            if key in r:
                yield r[key]
        for v in r.get("acc", []):
            if v is not None:
                yield v
        for v in r.get("accuracy", {}).values():
            yield v


@pytest.mark.parametrize("name", list(experiments.EXPERIMENTS))
def test_each_experiment_writes_a_sound_json_and_real_pngs(quick_results, name):
    results = quick_results.results
    doc = json.loads((quick_results.outs[name] / f"{name}.json").read_text())
    assert doc["experiment"] == name and doc["quick"] is True and doc["seeds"] == 2 and doc["seconds"] > 0
    if doc.get("skipped"):
        pytest.skip(f"{name}: {doc['skipped']}")
    assert doc["runs"] and doc["verdicts"]
    for v in doc["verdicts"]:
        assert v["outcome"] == QUICK_OUTCOME and v["claim"]  # a quick run gives no verdict
        assert v["pairs"] + v["dropped_pairs"] == doc["seeds"] and v["wins"] + v["losses"] <= v["pairs"]
        assert math.isfinite(v["mean_diff"])
        low, high = v["ci95"]
        assert low <= v["mean_diff"] <= high
        assert all("setup" in r for r in doc["runs"])
    accs = list(_accuracies(doc))
    assert accs and all(0.0 <= a <= 1.0 for a in accs)
    for r in doc["runs"]:
        if not r.get("diverged", False):
            for loss in r.get("loss", []) + r.get("train_loss", []):
                assert loss is not None and loss > 0  # finite (null in the JSON) only where it diverged
    assert results[name]["plots"], "no plot was drawn"
    for path in results[name]["plots"]:
        with open(path, "rb") as f:
            head = f.read(8)
        assert head == b"\x89PNG\r\n\x1a\n"


def test_experiment_specific_facts(quick_results):
    r = quick_results.results
    assert r["train-vs-eval"]["eval_batch_1_matches"]  # eval mode is per sample: batch 1 = any batch
    for run in r["gradients"]["runs"]:
        norms = run["weight_grad_norms"]
        assert norms and all(len(step) == 5 and all(n > 0 for n in step) for step in norms)
    rates = r["learning-rates"]
    assert {run["lr"] for run in rates["runs"]} == set(rates["rates"])
    assert any(run["diverged"] for run in rates["runs"])  # lr 3 without BN: a result, not a crash
    # a quick weight-init run trains fewer scales but still spans the range: both ends and the middle
    from tinygrad_bn.experiments import weight_init
    scales = r["weight-init"]["scales"]
    assert scales[0] == weight_init.SCALES[0] and scales[-1] == weight_init.SCALES[-1] and 3 <= len(scales) < 5
    assert {run["scale"] for run in r["weight-init"]["runs"]} == set(scales)


def test_each_run_trains_the_net_it_is_labelled_with(quick_results):
    """A run labelled with batch norm trained a model with a BatchNorm layer and
    a plain run one without: a swapped flag would put each net's numbers under
    the other's name, and every statistic after it would still look sound."""
    r = quick_results.results
    labels = {"gradients": [run["bn"] for run in r["gradients"]["runs"]],
              "weight_init": [run["bn"] for run in r["weight-init"]["runs"]],
              "sigmoid": [run["bn"] for run in r["sigmoid"]["runs"]],
              "bn_vs_plain": [run["net"] == "bn" for run in r["bn-vs-plain"]["runs"]],
              "learning_rates": [run["net"] == "bn" for run in r["learning-rates"]["runs"]]}
    for name, flags in labels.items():
        assert True in flags and False in flags, name
        assert quick_results.built_with_bn[name] == flags, name


def _fake_run(epochs, acc, diverged):
    """What train_run returns, for a run that ends at ``acc`` (flat curves)."""
    return {"loss": [1.0] * (epochs + 1), "acc": [acc] * (epochs + 1), "final_acc": acc,
            "diverged": diverged, "setup": {}}


def test_weight_init_counts_each_nets_diverged_runs_at_each_scale(tmp_path, monkeypatch):
    """The diverged-run counts split by net and scale: plain diverges at the
    largest scale, BN at the smallest (training stood in by a fake here)."""
    from tinygrad_bn.experiments import weight_init

    scales = weight_init.SCALES[::2]

    def fake_train_run(make_model, seed, epochs, **kwargs):
        model = make_model()
        bn = any(isinstance(m, weight_init.nn.BatchNorm1d) for m in model.modules())
        scale = float(next(m for m in model.modules() if isinstance(m, weight_init.nn.Linear)).weight.std().item())
        diverged = (not bn and scale > scales[-1] / 2) or (bn and scale < scales[0] * 2)
        return _fake_run(epochs, 0.1 if diverged else 0.9, diverged)

    monkeypatch.setattr(weight_init, "train_run", fake_train_run)
    result = weight_init.run(str(tmp_path), seeds=2, epochs=1, progress=False, quick=True)
    counts = result["diverged_runs"]
    assert counts["plain"] == {str(sc): 2 * (sc == scales[-1]) for sc in scales}
    assert counts["bn"] == {str(sc): 2 * (sc == scales[0]) for sc in scales}


def test_learning_rates_takes_each_cells_largest_good_rate_from_its_own_runs(tmp_path, monkeypatch):
    """Per net, momentum and seed, the largest rate that trains: each cell its own
    runs (training stood in by a fake in which every net, momentum and seed has
    its own limit)."""
    from tinygrad_bn.experiments import learning_rates as lr_exp

    rates = lr_exp.RATES[::3]  # the quick grid
    limit = {("plain", 0.0): rates[0], ("plain", 0.9): rates[1], ("bn", 0.0): rates[2], ("bn", 0.9): rates[1]}
    net_of = {cls: name for name, cls in lr_exp.NETS.items()}

    def fake_train_run(cls, seed, epochs, *, lr, momentum):
        top = limit[(net_of[cls], momentum)] if seed == 0 else rates[-1]  # seed 1 trains at every rate
        return _fake_run(epochs, 0.95 if lr <= top else 0.1, lr > top)

    monkeypatch.setattr(lr_exp, "train_run", fake_train_run)
    result = lr_exp.run(str(tmp_path), seeds=2, epochs=1, progress=False, quick=True)
    for (net, momentum), top in limit.items():
        assert result["largest_good_lr"][f"{net}/{momentum:g}"] == [top, rates[-1]], (net, momentum)


def test_all_runs_every_experiment_in_order_with_the_same_arguments(monkeypatch):
    real, calls = experiments.run, []

    def one(name, *args):
        calls.append((name, args))
        return {"experiment": name}
    monkeypatch.setattr(experiments, "run", one)  # what "all" calls for each experiment
    log = lambda *a: None  # noqa: E731
    results = real("all", "out", 3, 2, True, False, log)
    assert calls == [(n, ("out", 3, 2, True, False, log)) for n in experiments.EXPERIMENTS]
    assert results == [{"experiment": n} for n in experiments.EXPERIMENTS]


def test_no_two_experiments_write_a_file_of_the_same_name(quick_results):
    """"all" writes every experiment into one folder: no file may be another's."""
    names = {n: {p.name for p in out.iterdir()} for n, out in quick_results.outs.items()}
    for a in names:
        for b in names:
            assert a == b or not names[a] & names[b], (a, b, names[a] & names[b])


def test_a_rerun_gives_the_same_numbers(tmp_path, tmp_path_factory):
    """A run now gives the numbers of the session's quick run (made by this
    process or by another test worker: seeded runs repeat across processes too)."""
    from tinygrad_bn.experiments.common import _plain

    first = quick_run(tmp_path_factory, "weight-init").result
    again = experiments.run("weight-init", out=str(tmp_path), quick=True, progress=False, log=lambda *x: None)
    assert first["runs"] and json.dumps(_plain(again["runs"])) == json.dumps(_plain(first["runs"]))  # (NaN as null)


def test_without_matplotlib_the_table_and_json_are_still_written(tmp_path, monkeypatch, capsys):
    from tinygrad_bn.experiments import common

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    monkeypatch.setattr(common, "_WARNED", [])
    r = experiments.run("train-vs-eval", out=str(tmp_path), quick=True, progress=False)
    printed = capsys.readouterr().out
    assert "matplotlib is not installed" in printed and "pip install 'tinygrad_bn[plot]'" in printed
    assert r["plots"] == [] and (tmp_path / "train-vs-eval.json").exists()
    assert not list(tmp_path.glob("*.png"))
    assert "population statistics" in printed  # the verdict table


def test_the_cli_runs_an_experiment_and_refuses_bad_flags(tmp_path, capsys):
    from tinygrad_bn import cli

    assert cli.main(["experiment", "gradients", "--quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "Per-layer gradient norms" in capsys.readouterr().out
    for bad, words in ((["--seeds", "0"], "--seeds must be at least 1, got 0"),
                       (["--epochs", "0"], "--epochs must be at least 1, got 0")):
        with pytest.raises(SystemExit) as info:
            cli.main(["experiment", "sigmoid", "--out", str(tmp_path), *bad])
        assert info.value.code == 2 and words in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown experiment 'nope'"):
        experiments.run("nope")


def test_a_failed_write_leaves_the_previous_plots_and_json_as_a_pair(tmp_path, monkeypatch):
    import errno
    import os

    from tinygrad_bn.experiments import common
    out = str(tmp_path)
    experiments.run("gradients", out=out, seeds=1, quick=True, progress=False, log=lambda *a: None)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(out)}
    assert set(before) == {"gradients.json", "gradients.png"}

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(common.json, "dump", full_disk)
    with pytest.raises(OSError, match="No space left"):
        experiments.run("gradients", out=out, seeds=1, quick=True, progress=False, log=lambda *a: None)
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(out)} == before  # no new PNG, no temporaries


def test_a_plot_that_fails_midway_leaves_the_previous_plots_and_json_as_a_pair(tmp_path, monkeypatch):
    """The PNG write fails instead (a full disk partway through the second of
    bn-vs-plain's two plots): neither the new first plot, nor the truncated
    second, nor the JSON replaces the previous run's files, and no temporary
    file stays."""
    import errno
    import os

    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    out = str(tmp_path)
    experiments.run("bn-vs-plain", out=out, seeds=1, quick=True, progress=False, log=lambda *a: None)
    before = {name: (tmp_path / name).read_bytes() for name in os.listdir(out)}
    assert set(before) == {"bn-vs-plain.json", "bn-vs-plain.png", "bn-vs-plain-histograms.png"}

    calls, original = [], Figure.savefig

    def second_plot_fills_the_disk(self, fname, *args, **kwargs):
        calls.append(fname)
        if len(calls) < 2:
            return original(self, fname, *args, **kwargs)
        with open(fname, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n")  # the start of a PNG, then no room
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(Figure, "savefig", second_plot_fills_the_disk)
    with pytest.raises(OSError, match="No space left"):
        experiments.run("bn-vs-plain", out=out, seeds=1, quick=True, progress=False, log=lambda *a: None)
    assert len(calls) == 2  # the first plot was written (to its temporary name) before the second failed
    assert {name: (tmp_path / name).read_bytes() for name in os.listdir(out)} == before


class _BarTotal(Exception):
    """Raised by a stand-in progress bar with the total it was given, before any run."""


def _total_of_the_bar(module, seeds, tmp_path):
    def stop(total, name, enabled=True):
        raise _BarTotal(total)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(module, "Progress", stop)
        with pytest.raises(_BarTotal) as got:
            module.run(str(tmp_path), seeds=seeds, epochs=1, progress=False, quick=True)
    return got.value.args[0]


@pytest.mark.parametrize("name", [n for n in experiments.EXPERIMENTS if n != "sync-bn"])
def test_each_progress_bar_counts_every_seed_of_every_run(name, tmp_path):
    """The quick run's bar test above sees 2 seeds only, where 2 * k and 2 + k can
    agree: at 3 and 5 seeds the total is the same number of runs per seed.
    (sync-bn's bar counts processes, not seeds.)"""
    import importlib
    module = importlib.import_module(f"tinygrad_bn.experiments.{name.replace('-', '_')}")
    three, five = _total_of_the_bar(module, 3, tmp_path), _total_of_the_bar(module, 5, tmp_path)
    assert three % 3 == 0 and three // 3 == five / 5 >= 1
