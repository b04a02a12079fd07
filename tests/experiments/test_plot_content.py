"""The experiments' plots show the numbers they are drawn from: each plot
function runs on synthetic runs with known values, the figure is caught before
it is saved, and the plotted lines and points are compared with the runs (a
filter that mixes the two nets, or a loop that draws no per-seed points, changes
a picture that the JSON alone would never show).

Every figure caught is also compared, as it is handed to be saved, with its
recorded fingerprint (``figure_fingerprint.py``; ``figure_snapshots/``, one file
per test): titles, labels, ticks, limits, every line, text, bar and band with
its data and style. The checks above say what a figure must show; the snapshot
catches what they do not name (a label on the wrong panel, a marker size, an
alignment). A change meant to alter a figure is recorded with
``TINYGRAD_BN_UPDATE_FIGURES=1 pytest tests/experiments/test_plot_content.py``
and the changed snapshot files go into the same commit."""
import json
import os
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import figure_fingerprint  # noqa: E402
from figure_fingerprint import first_difference, fingerprint  # noqa: E402

from tinygrad_bn.experiments import (  # noqa: E402
    bn_vs_plain, common, gradients, landscape, learning_rates, sharpness, sigmoid, small_batch, sync_bn,
    train_vs_eval, weight_init)


SNAPSHOTS = Path(__file__).with_name("figure_snapshots")
UPDATE = os.environ.get("TINYGRAD_BN_UPDATE_FIGURES") == "1"


@pytest.fixture
def caught(monkeypatch, request):
    """The figures the plot functions save, by file name, instead of files;
    at the end of the test, their fingerprints are checked against the
    recorded ones."""
    figs, prints = {}, {}

    def keep(fig, out, name):
        figs[name] = fig
        prints[name] = json.loads(json.dumps(fingerprint(fig)))  # as the plot function left it
        return name

    for module in (common, bn_vs_plain, gradients, landscape, learning_rates, sharpness, sigmoid, small_batch,
                   sync_bn, train_vs_eval, weight_init):
        if hasattr(module, "save_figure"):
            monkeypatch.setattr(module, "save_figure", keep)
    yield figs
    import matplotlib.pyplot as plt
    for fig in figs.values():
        plt.close(fig)
    _check_snapshot(request.node.name, prints)


def _check_snapshot(test, prints):
    path = SNAPSHOTS / f"{test}.json"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(figure_fingerprint.dumps(prints) + "\n")
        return
    how = ("if the change is meant, record it with TINYGRAD_BN_UPDATE_FIGURES=1 pytest "
           "tests/experiments/test_plot_content.py and commit tests/experiments/figure_snapshots/")
    assert path.exists(), f"{test}: no recorded figures at {path}; {how}"
    want = json.loads(path.read_text())
    recorded = {fp["matplotlib"] for fp in want.values()}
    running = {fp["matplotlib"] for fp in prints.values()}
    if recorded != running:  # defaults and tick choices may move between releases: only like is compared
        pytest.skip(f"{test}: figures recorded with matplotlib {', '.join(sorted(recorded))}, "
                    f"this is {', '.join(sorted(running))}; re-record them ({how})")
    assert sorted(prints) == sorted(want), f"{test}: drew figures {sorted(prints)}, recorded {sorted(want)}; {how}"
    for name in want:
        found = first_difference(prints[name], want[name], name)
        assert found is None, (f"{test}: {found[0]} is {found[1]!r}, recorded {found[2]!r}; {how}")


def _lines(ax, label):
    return [line for line in ax.get_lines() if line.get_label() == label]


def test_bn_vs_plain_draws_each_nets_mean_curve_from_its_own_runs(caught, tmp_path):
    epochs, seeds = 4, 3
    rng = np.random.default_rng(0)
    runs = []
    for setting in bn_vs_plain.SETTINGS:
        for net in bn_vs_plain.NETS:
            for seed in range(seeds):
                runs.append({"setting": setting, "net": net, "seed": seed,
                             "loss": list(rng.uniform(0.1, 2.0, epochs)), "acc": list(rng.uniform(0.5, 1.0, epochs)),
                             "first_linear_std": list(rng.uniform(0.5, 2.0, epochs + 1))})
    edges = list(np.linspace(-3, 3, 9))
    histograms = {f"{setting}/{net}": {"edges": edges, "counts": {e: list(rng.integers(1, 50, 8)) for e in (1, 2, 4)}}
                  for setting in bn_vs_plain.SETTINGS for net in bn_vs_plain.NETS}
    bn_vs_plain._plot(str(tmp_path), runs, histograms, epochs, seeds)
    fig = caught["bn-vs-plain.png"]
    axes = np.array(fig.axes).reshape(3, 2)
    for col, setting in enumerate(bn_vs_plain.SETTINGS):
        for row, key in ((0, "loss"), (1, "acc")):
            for net, name in bn_vs_plain.NET_NAMES.items():
                (line,) = _lines(axes[row, col], name)
                want = np.mean([r[key] for r in runs if r["setting"] == setting and r["net"] == net], axis=0)
                np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12, err_msg=f"{setting} {key} {net}")
        gap = [100 * (np.array(b["acc"]) - np.array(p["acc"]))
               for b, p in zip([r for r in runs if r["setting"] == setting and r["net"] == "bn"],
                               [r for r in runs if r["setting"] == setting and r["net"] == "plain"])]
        (mean,) = _lines(axes[2, col], "mean")
        np.testing.assert_allclose(mean.get_ydata(), np.mean(gap, axis=0), rtol=1e-12)


def test_weight_init_draws_every_seed_as_a_point_and_each_mean(caught, tmp_path):
    scales, seeds = [0.01, 0.1, 1.0], 4
    rng = np.random.default_rng(1)
    runs = [{"bn": bn, "scale": s, "seed": k, "final_acc": float(rng.uniform(0.2, 0.95)),
             "diverged": bool(bn is False and s == 1.0 and k == 0)}
            for bn in (False, True) for s in scales for k in range(seeds)]
    weight_init._plot(str(tmp_path), runs, scales, 3, seeds)
    (ax,) = caught["weight-init.png"].axes
    for bn, label in ((False, "without BN"), (True, "with BN")):
        (mean,) = _lines(ax, label)
        want = [np.mean([r["final_acc"] for r in runs if r["bn"] == bn and r["scale"] == s]) for s in scales]
        np.testing.assert_allclose(mean.get_ydata(), want, rtol=1e-12)
    dots = sorted(float(y) for line in ax.get_lines() if line.get_marker() == "o" for y in line.get_ydata())
    crosses = [float(y) for line in ax.get_lines() if line.get_marker() == "X" for y in line.get_ydata()]
    trained = sorted(r["final_acc"] for r in runs if not r["diverged"])
    np.testing.assert_allclose(dots, trained, rtol=1e-12)
    assert crosses == [r["final_acc"] for r in runs if r["diverged"]]


def test_weight_init_keeps_each_diverged_label_inside_the_axes(caught, tmp_path):
    """Labels at the first and last scale are aligned inwards: centred there, they stuck out of the plot."""
    scales, seeds = [0.01, 0.1, 1.0, 10.0], 5
    runs = [{"bn": bn, "scale": s, "seed": k, "final_acc": 0.1 if k < 2 else 0.9, "diverged": k < 2}
            for bn in (False, True) for s in scales for k in range(seeds)]
    weight_init._plot(str(tmp_path), runs, scales, 3, seeds)
    fig = caught["weight-init.png"]
    (ax,) = fig.axes
    fig.tight_layout()
    fig.canvas.draw()
    inside = ax.get_window_extent()
    labels = [t for t in ax.texts if t.get_text().endswith("diverged")]
    assert len(labels) == 2 * len(scales)
    for label in labels:
        box = label.get_window_extent()
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1, (label.get_text(), label.xy, box, inside)


def test_small_batch_draws_each_cells_mean_and_centres_each_group_of_bars_on_its_norm(caught, tmp_path):
    batches, sweep, seeds = [2, 16, 64], [1, 4, 32], 3
    rng = np.random.default_rng(2)
    runs = []
    for norm in small_batch.NORMS:
        for b in batches:
            for groups in ([small_batch.GROUPS] + ([1, 32] if b == 2 else [])) if norm == "group" else [None]:
                for seed in range(seeds):
                    # the norm's name as JSON or argv would hand it over: equal to the constant, not the same object
                    runs.append({"norm": "".join(list(norm)), "batch": b,
                                 "groups": groups if norm != "instance" else small_batch.GROUPS, "seed": seed,
                                 "final_acc": float(rng.uniform(0.3, 0.95)), "diverged": False,
                                 "weight_change": [float(rng.uniform(0.1, 3.0))],
                                 "diagnostics": {"accuracy": {e: float(rng.uniform(0.2, 0.9))
                                                              for e in small_batch.EVALUATIONS}, "noise": None}})
                    if norm == "batch":  # every BN net measures its noise; the panel shows the large batch's
                        runs[-1]["diagnostics"]["noise"] = {"batch_sizes": [2, 8, 32],
                                                            "mean": list(rng.uniform(0.05, 1, 3)),
                                                            "std": list(rng.uniform(0.05, 1, 3))}
    small_batch._plot(str(tmp_path), runs, batches, sweep, 2)

    def cell(norm, b):
        return [r for r in runs if r["norm"] == norm and r["batch"] == b and r["groups"] in (None, small_batch.GROUPS)]

    (ax,) = caught["small-batch.png"].axes
    for norm, label in small_batch.LABELS.items():
        (line,) = _lines(ax, label)
        np.testing.assert_allclose(line.get_ydata(), [np.mean([r["final_acc"] for r in cell(norm, b)]) for b in batches],
                                   rtol=1e-12, err_msg=norm)
    accuracy, noise, movement = caught["small-batch-diagnostics.png"].axes
    large = [r["diagnostics"]["noise"] for r in cell("batch", max(batches))]
    for key, label in (("mean", "batch mean"), ("std", "batch std")):
        (line,) = [line for line in noise.get_lines() if str(line.get_label()).startswith(label + ":")]
        np.testing.assert_allclose(line.get_ydata(), np.mean([c[key] for c in large], axis=0), rtol=1e-12)
    assert f"band: min-max over {seeds} seeds" in noise.get_title()
    for e in small_batch.EVALUATIONS:
        (line,) = _lines(accuracy, e)
        want = [np.mean([r["diagnostics"]["accuracy"][e] for r in cell("batch", b)]) for b in batches]
        np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12, err_msg=e)
        # dodged sideways so the evaluations do not hide each other, but within 15% of their batch size
        ratio = np.asarray(line.get_xdata()) / np.asarray(batches, float)
        assert np.all(np.abs(np.log2(ratio)) < np.log2(1.15)), (e, ratio)
    # one bar per (norm, batch), its height the mean weight change; each norm's bars centred on its tick
    bars = {c.get_label(): c.patches for c in movement.containers}
    assert list(bars) == [f"batch {b}" for b in batches]
    for j, norm in enumerate(small_batch.NORMS):
        centres = [bars[f"batch {b}"][j].get_x() + bars[f"batch {b}"][j].get_width() / 2 for b in batches]
        assert np.isclose(np.mean(centres), j) and all(np.diff(centres) > 0), (norm, centres)
        heights = [bars[f"batch {b}"][j].get_height() for b in batches]
        np.testing.assert_allclose(heights, [np.mean([r["weight_change"][0] for r in cell(norm, b)]) for b in batches],
                                   rtol=1e-12, err_msg=norm)
    assert [t.get_text() for t in movement.get_xticklabels()] == [small_batch.SHORT[n] for n in small_batch.NORMS]
    # the group sweep's reference lines: batch norm and renorm at the small batch, batch norm at the large one
    refs = {line.get_label(): line.get_ydata()[0] for fig in caught.values() for ax in fig.axes
            for line in ax.get_lines() if "(mean)" in str(line.get_label()) and " at batch " in str(line.get_label())}
    for norm, b in (("batch", 2), ("renorm", 2), ("batch", 64)):
        want = np.mean([r["final_acc"] for r in runs if r["norm"] == norm and r["batch"] == b])
        assert refs[f"{small_batch.LABELS[norm]} at batch {b} (mean)"] == pytest.approx(want, rel=1e-12)


def test_sigmoid_draws_each_panels_mean_curves_from_its_own_runs(caught, tmp_path):
    grid, epochs, seeds = [(3, 0.1), (6, 0.1), (6, 0.5)], 4, 3  # two depths at one rate: each panel its own
    rng = np.random.default_rng(3)
    runs = [{"depth": d, "lr": lr, "bn": bn, "seed": k, "acc": list(rng.uniform(0.1, 1.0, epochs))}
            for d, lr in grid for bn in (False, True) for k in range(seeds)]
    sigmoid._plot(str(tmp_path), runs, grid, epochs, seeds)
    (fig,) = caught.values()
    for ax, (d, lr) in zip(fig.axes, grid):
        for bn, label in ((False, "without BN"), (True, "with BN")):
            (line,) = _lines(ax, label)
            want = np.mean([r["acc"] for r in runs if (r["depth"], r["lr"], r["bn"]) == (d, lr, bn)], axis=0)
            np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12, err_msg=f"{d} {lr} {label}")
        # the reference lines: the marks the experiment times, and chance (ten balanced classes)
        levels = sorted(float(ln.get_ydata()[0]) for ln in ax.get_lines() if ln.get_linestyle() in ("--", ":"))
        assert levels == sorted([0.1, *sigmoid.MARKS])
        assert ax.get_ylim() == (0, 1)  # accuracy, the whole range
    # one accuracy axis for all panels: labelled once, at the left
    assert all(fig.axes[0].get_shared_y_axes().joined(fig.axes[0], ax) for ax in fig.axes[1:])


def test_sharpness_draws_each_nets_eigenvalues_from_its_own_runs(caught, tmp_path):
    settings, seeds, steps = list(bn_vs_plain.SETTINGS), 3, [0, 10, 100]
    rng = np.random.default_rng(4)
    runs = [{"setting": s, "net": net, "seed": k, "hessian_steps": steps,
             "top_eigenvalue": list(rng.uniform(1.0, 50.0, len(steps))),
             # from about ln 10, a 10-class cross entropy's start, down to 0.05
             "hessian_batch_loss": list(rng.uniform(0.05, 2.4, len(steps)))}
            for s in settings for net in bn_vs_plain.NETS for k in range(seeds)]
    sharpness._plot(str(tmp_path), runs, settings)
    axes = np.array(caught["sharpness.png"].axes).reshape(2, len(settings))
    for col, setting in enumerate(settings):
        for net, label in sharpness.LABELS.items():
            mine = [r for r in runs if r["setting"] == setting and r["net"] == net]
            (line,) = _lines(axes[0, col], label)  # the geometric mean over seeds at each step
            np.testing.assert_allclose(line.get_ydata(), np.exp(np.mean(np.log([r["top_eigenvalue"] for r in mine]), 0)),
                                       rtol=1e-12, err_msg=f"{setting} {net}")
            drawn = [ln for ln in axes[1, col].get_lines() if ln.get_color() == sharpness.COLORS[net]]
            assert sorted(map(tuple, (ln.get_ydata() for ln in drawn))) == sorted(tuple(r["top_eigenvalue"]) for r in mine)
        # each column is titled over its top panel with its setting and what it trains with
        cfg = bn_vs_plain.SETTINGS[setting]
        title = axes[0, col].get_title()
        assert title.startswith(f"{setting}: ") and f"{cfg['lr']:g}" in title
        assert ("raw pixels" in title) == (cfg["pixels"] == "raw") and ("mom." in title) == (cfg["momentum"] > 0)


def test_learning_rates_draws_each_nets_mean_seeds_and_diverged_counts(caught, tmp_path):
    rates, seeds, rng = learning_rates.RATES, 3, np.random.default_rng(4)
    runs = []
    for net in learning_rates.NET_NAMES:
        for momentum in learning_rates.MOMENTA:
            for i, lr in enumerate(rates):
                for seed in range(seeds):
                    diverged = bool(i >= len(rates) - 2 and seed < i - len(rates) + 3)  # 1 then 2 of 3 at the top
                    runs.append({"net": net, "momentum": momentum, "lr": lr, "seed": seed, "diverged": diverged,
                                 "final_acc": 0.1 if diverged else float(rng.uniform(0.5, 1.0))})
    learning_rates._plot(str(tmp_path), runs, rates, 5, seeds)
    fig = caught["learning-rates.png"]
    for ax, momentum in zip(fig.axes, learning_rates.MOMENTA):
        np.testing.assert_allclose(ax.get_yticks(), [0, 0.2, 0.4, 0.6, 0.8, 1.0])  # accuracy; below 0 the strip
        assert ax.get_ylim() == (-0.2, 1)
        for net, name in learning_rates.NET_NAMES.items():
            cells = [[r for r in runs if r["net"] == net and r["momentum"] == momentum and r["lr"] == lr]
                     for lr in rates]
            (line,) = _lines(ax, name)
            np.testing.assert_allclose(line.get_ydata(), [np.mean([r["final_acc"] for r in c]) for c in cells])
        dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
        want = sorted(r["final_acc"] for r in runs if r["momentum"] == momentum and not r["diverged"])
        assert sorted(np.concatenate([d.get_ydata() for d in dots])) == pytest.approx(want)
        counts = sorted(t.get_text() for t in ax.texts if "/" in t.get_text())
        assert counts == ["1/3", "1/3", "2/3", "2/3"]  # each net: 1 of 3 seeds, then 2 of 3
        assert any(list(line.get_ydata()) == [0.1, 0.1] for line in ax.get_lines())  # chance


def test_gradients_draws_each_layers_geometric_mean_in_its_configs_panel(caught, tmp_path):
    seeds, steps, layers = 3, [0, 10, 20, 30], len(gradients.WIDTHS) - 1
    rng = np.random.default_rng(5)
    runs = [{"activation": a, "bn": bn, "seed": seed, "steps": steps,
             "weight_grad_norms": rng.uniform(1e-3, 10, (len(steps), layers)).tolist()}
            for a, bn in gradients.CONFIGS for seed in range(seeds)]
    gradients._plot(str(tmp_path), runs, 2, seeds)
    axes = np.array(caught["gradients.png"].axes).reshape(2, 2)
    for ax, (activation, bn) in zip(axes.T.flat, gradients.CONFIGS):  # columns: ReLU, sigmoid; rows: without, with
        assert ax.get_title() == f"{activation}, {'with' if bn else 'without'} BN" and ax.get_yscale() == "log"
        n = np.array([r["weight_grad_norms"] for r in runs if r["activation"] == activation and r["bn"] == bn])
        for layer in range(layers):
            (line,) = _lines(ax, f"Linear {layer + 1}")
            np.testing.assert_array_equal(line.get_xdata(), steps)
            np.testing.assert_allclose(line.get_ydata(), np.exp(np.log(n[:, :, layer]).mean(0)), rtol=1e-12)


def test_train_vs_eval_draws_each_variants_bars_and_seeds_and_the_differences(caught, tmp_path):
    seeds, models, rng = 3, list(train_vs_eval.MODELS), np.random.default_rng(6)
    runs = [{"model": m, "seed": seed, "diverged": m == models[1] and seed == 0,
             "accuracy": {v: float(rng.uniform(0.3, 1.0)) for v in train_vs_eval.VARIANTS}}
            for m in models for seed in range(seeds)]
    train_vs_eval._plot(str(tmp_path), runs, 3, 100)
    top, bottom = caught["train-vs-eval.png"].axes
    np.testing.assert_allclose(top.get_yticks(), [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    bars = {}
    for container in top.containers:
        bars[container.get_label()] = [b.get_height() for b in container]
    assert list(bars) == train_vs_eval.VARIANTS
    for v in train_vs_eval.VARIANTS:
        np.testing.assert_allclose(bars[v], [np.mean([r["accuracy"][v] for r in runs if r["model"] == m])
                                             for m in models], rtol=1e-12)
    dots = np.concatenate([line.get_ydata() for line in top.get_lines() if line.get_marker() == "o"])
    assert sorted(dots) == pytest.approx(sorted(r["accuracy"][v] for r in runs for v in train_vs_eval.VARIANTS))
    # below: each evaluation minus the running one, per seed, in accuracy points (running itself left out)
    diffs = np.concatenate([line.get_ydata() for line in bottom.get_lines() if line.get_marker() == "o"])
    want = [100 * (r["accuracy"][v] - r["accuracy"]["running"]) for r in runs for v in train_vs_eval.VARIANTS[1:]]
    assert sorted(diffs) == pytest.approx(sorted(want))
    zero = [ln for ln in bottom.get_lines() if ln.get_marker() in ("None", "", None)]  # the reference line: no change
    assert len(zero) == 1 and list(zero[0].get_ydata()) == [0, 0]
    labels = [t.get_text() for t in bottom.get_xticklabels()]
    assert len(labels) == len(models) and "(1 diverged)" in labels[1] and "diverged" not in labels[0]
    # each model's group of bars is centred on its tick, one bar per variant, left to right in VARIANTS' order
    centres = np.array([[b.get_x() + b.get_width() / 2 for b in c] for c in top.containers])  # variant x model
    np.testing.assert_allclose(centres.mean(axis=0), np.arange(len(models)), atol=1e-12)
    assert (np.diff(centres, axis=0) > 0).all()


def test_sync_bn_draws_each_variants_mean_and_seeds_at_each_batch(caught, tmp_path):
    batches, world, seeds, rng = [2, 8], 2, 3, np.random.default_rng(7)
    variants = list(sync_bn.VARIANTS)
    runs = [{"variant": v, "per_process_batch": b, "seed": seed,
             "final_acc": None if (v, b, seed) == (variants[0], 2, 1) else float(rng.uniform(0.4, 1.0))}
            for v in variants for b in batches for seed in range(seeds)]
    design = {"per_process_batches": batches, "world_size": world, "epochs": 2, "seeds": seeds}
    sync_bn._plot(str(tmp_path), runs, design)
    (ax,) = caught["sync-bn.png"].axes
    heights = [p.get_height() for p in ax.patches]
    means = [np.mean([a for a in sync_bn.finals(runs, v, b) if a is not None]) for b in batches for v in variants]
    np.testing.assert_allclose(heights, means, rtol=1e-12)  # a seed without a result is left out, not a zero
    texts = [t.get_text() for t in ax.texts]
    assert texts == [f"{100 * m:.1f}" for m in means]
    dots = [line.get_ydata() for line in ax.get_lines() if line.get_marker() == "o"]
    assert [len(d) for d in dots] == [seeds - (v == variants[0] and b == 2) for b in batches for v in variants]
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"b = {b} per process\n(global {world * b})"
                                                           for b in batches]
    assert ax.get_ylim() == (0, 1)


def test_landscape_draws_each_measures_geometric_mean_per_net_and_setting(caught, tmp_path):
    settings, seeds, steps, rng = list(landscape.SETTINGS), 3, [0, 5, 10], np.random.default_rng(8)
    runs = []
    for setting in settings:
        for net in landscape.NETS:
            for seed in range(seeds):
                run = {"setting": setting, "net": net, "seed": seed, "probe_steps": steps,
                       "loss": list(rng.uniform(0.1, 1.0, 4))}
                for key, _ in landscape.ROWS:
                    run[key] = list(rng.uniform(0.01, 100.0, len(steps)))
                runs.append(run)
    runs[0]["loss"][-1] = float("nan")  # a diverged seed: left out of the final loss in the label
    multipliers = [0.5, 1.0, 4.0]
    landscape._plot(str(tmp_path), runs, settings, 5, multipliers, seeds)
    axes = np.array(caught["landscape.png"].axes).reshape(len(landscape.ROWS), len(settings))
    for col, setting in enumerate(settings):
        title = axes[0, col].get_title()
        assert title == landscape._setting_title(setting, multipliers)
        raw = landscape.SETTINGS[setting]["pixels"] != "standardized"
        assert ("raw pixels" in title) == raw and ("standardized" in title) == (not raw)
        for row, (key, ylabel) in enumerate(landscape.ROWS):
            ax = axes[row, col]
            assert ax.get_yscale() == "log" and (col > 0 or ax.get_ylabel() == ylabel)
            for net in landscape.NETS:
                mine = [r for r in runs if r["setting"] == setting and r["net"] == net]
                final = np.array([r["loss"][-1] for r in mine])
                final = final[np.isfinite(final)]
                name = f"{landscape.LABELS[net]} (final training loss {np.exp(np.log(final).mean()):.2g})"
                (line,) = _lines(ax, name)
                np.testing.assert_array_equal(line.get_xdata(), steps)
                want = np.exp(np.log([r[key] for r in mine]).mean(0))
                np.testing.assert_allclose(line.get_ydata(), want, rtol=1e-12, err_msg=f"{setting} {key} {net}")


@pytest.mark.parametrize("high, want", [(100.0, [1, 2, 5, 10, 20, 50, 100]), (299.0, [1, 2, 5, 10, 20, 50, 100, 200]),
                                        (300.0, [1, 10, 100]), (1e3, [1, 10, 100, 1000]),
                                        (1e4, [1, 10, 100, 1000, 10000])])
def test_landscape_log_axes_tick_1_2_5_over_short_spans_and_decades_over_long_ones(high, want):
    plt = common.pyplot()
    fig, ax = plt.subplots()
    try:
        ax.set_yscale("log")
        ax.set_ylim(1.0, high)
        landscape._log_ticks(plt, ax)
        ticks = [t for t in ax.yaxis.get_majorticklocs() if 1.0 <= t <= high]
        np.testing.assert_allclose(ticks, want)
        assert ax.yaxis.get_major_formatter().format_ticks(ticks) == [f"{t:g}" for t in want]  # plain numbers
    finally:
        plt.close(fig)
