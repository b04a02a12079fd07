"""The experiments' plots show the numbers they are drawn from: each plot
function runs on synthetic runs with known values, the figure is caught before
it is saved, and the plotted lines and points are compared with the runs (a
filter that mixes the two nets, or a loop that draws no per-seed points, changes
a picture that the JSON alone would never show)."""
import numpy as np
import pytest

pytest.importorskip("matplotlib")

from tinygrad_bn.experiments import bn_vs_plain, common, weight_init  # noqa: E402


@pytest.fixture
def caught(monkeypatch):
    """The figures the plot functions save, by file name, instead of files."""
    figs = {}

    def keep(fig, out, name):
        figs[name] = fig
        return name

    for module in (common, bn_vs_plain, weight_init):
        if hasattr(module, "save_figure"):
            monkeypatch.setattr(module, "save_figure", keep)
    yield figs
    import matplotlib.pyplot as plt
    for fig in figs.values():
        plt.close(fig)


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
    histograms = {net: {"pre": [np.zeros(10), np.linspace(-1, 1, 11)]} for net in bn_vs_plain.NETS}
    try:
        bn_vs_plain._plot(str(tmp_path), runs, histograms, epochs, seeds)
    except (KeyError, TypeError, IndexError, ValueError):
        pass  # the second figure wants real histograms; the first is caught before it
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
