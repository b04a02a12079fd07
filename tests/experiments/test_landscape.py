"""The landscape experiment: its three measures match closed forms on a
quadratic loss and on a linear model with squared error, its probes see the
very batches training uses and leave training bit for bit as it was, and its
--quick JSON is sound, with a README summary whose every number is in it."""
import json
import math
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.engine_grad import grad
from tinygrad_bn.experiments import landscape
from tinygrad_bn.experiments.bn_vs_plain import SETTINGS
from tinygrad_bn.experiments.common import train_run
from tinygrad_bn.models import SimpleNet, SimpleNetBN
from json_numbers import numbers_in
from quick_runs import quick_run

ETAS = [0.05, 0.1, 0.2, 0.4, 0.8]


def _quadratic(eigenvalues, seed=0):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigenvalues), len(eigenvalues))))
    return q @ np.diag(eigenvalues) @ q.T


def _closed_form(loss, g, hg, etas):
    """A quadratic's walk: the loss at w - eta g is L - eta g.g + eta^2 g.Hg / 2
    and the gradient there g - eta H g, so the gradient moves by eta ||H g|| and
    the effective beta-smoothness is ||H g|| / ||g|| at every eta."""
    along = [loss - e * g @ g + 0.5 * e * e * g @ hg for e in etas]
    return {"loss_range": max(along) - min(along), "grad_change": max(etas) * np.linalg.norm(hg),
            "beta": np.linalg.norm(hg) / np.linalg.norm(g), "losses": along,
            "grad_changes": [e * np.linalg.norm(hg) for e in etas]}


@pytest.mark.parametrize("eigenvalues", [[4.0, 2.0, 1.0, 0.5, 0.1], [3.0, -2.0, 1.0, 0.5, -0.25]])
def test_the_measures_of_a_quadratic_loss_match_the_closed_form(eigenvalues):
    a = _quadratic(eigenvalues)
    w0 = np.random.default_rng(1).standard_normal(5)
    # w split over two parameters of different shapes, as a model's are
    head = tg.tensor(w0[:2], dtype=tg.float64, requires_grad=True)
    tail = tg.tensor(w0[2:].reshape(1, -1), dtype=tg.float64, requires_grad=True)
    params = [head, tail]

    def loss_and_grad():
        w = tg.cat([head, tail.reshape(-1)])
        loss = 0.5 * (w * (tg.tensor(a) @ w)).sum()
        return loss.item(), [g.numpy().astype(np.float64) for g in grad(loss, params)]

    walk = landscape.along_gradient(params, loss_and_grad, ETAS)
    got = landscape.measures(walk)
    g = a @ w0
    want = _closed_form(0.5 * w0 @ a @ w0, g, a @ g, ETAS)
    assert walk["loss"] == pytest.approx(0.5 * w0 @ a @ w0, rel=1e-12)
    assert walk["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-12)
    np.testing.assert_allclose(walk["losses"], want["losses"], rtol=1e-10)
    np.testing.assert_allclose(walk["grad_changes"], want["grad_changes"], rtol=1e-10)
    for key in landscape.MEASURES:
        assert got[key] == pytest.approx(want[key], rel=1e-10), key
    # the walk puts the parameters back bit for bit
    assert np.array_equal(head.detach().numpy(), w0[:2]) and np.array_equal(tail.detach().numpy().ravel(), w0[2:])


def test_off_a_quadratic_the_measures_take_the_largest_value_over_the_sweep():
    # L(w) = sum w^4 / 4: g = w^3, and along the walk the gradient (w - eta w^3)^3 moves
    # by a different amount per unit of step at each eta, so the max over the sweep matters
    w0 = np.array([0.9, -0.6, 0.3])
    w = tg.tensor(w0, dtype=tg.float64, requires_grad=True)

    def loss_and_grad():
        loss = (w ** 4).sum() / 4
        return loss.item(), [grad(loss, [w])[0].numpy()]

    got = landscape.measures(landscape.along_gradient([w], loss_and_grad, ETAS))
    g = w0 ** 3
    along = [w0 - e * g for e in ETAS]
    losses = [float(np.sum(v ** 4) / 4) for v in along]
    changes = [float(np.linalg.norm(g - v ** 3)) for v in along]
    ratios = [c / (e * np.linalg.norm(g)) for c, e in zip(changes, ETAS)]
    assert np.ptp(ratios) > 0.1  # not constant along the sweep
    assert got["loss_range"] == pytest.approx(max(losses) - min(losses), rel=1e-12)
    assert got["grad_change"] == pytest.approx(max(changes), rel=1e-12)
    assert got["beta"] == pytest.approx(max(ratios), rel=1e-12)


def test_a_point_that_cannot_be_computed_is_nan_and_makes_the_measures_nan():
    walk = {"etas": [0.1, 0.2], "grad_norm": 2.0, "losses": [1.0, float("nan")], "grad_changes": [0.5, float("nan")]}
    assert all(math.isnan(v) for v in landscape.measures(walk).values())


def test_a_step_whose_loss_cannot_be_computed_is_a_nan_point_and_the_walk_goes_on():
    """Batch norm refuses a non-finite input with a ValueError: that eta's loss and
    gradient change are NaN, the other etas are measured, the parameters come back."""
    w0 = np.array([1.0, -2.0])
    params = [tg.from_numpy(w0.copy())]

    def loss_and_grad():
        w = params[0].numpy()
        if np.abs(w).max() > 10:
            raise ValueError("batch_norm: the input contains NaN or Inf")
        return float((w ** 2).sum()), [2 * w]

    walk = landscape.along_gradient(params, loss_and_grad, [0.1, 5.0, 0.2])
    assert walk["losses"][0] == pytest.approx(0.64 * 5) and walk["losses"][2] == pytest.approx(0.36 * 5)
    assert math.isnan(walk["losses"][1]) and math.isnan(walk["grad_changes"][1])
    assert walk["grad_changes"][0] == pytest.approx(0.4 * math.sqrt(5))  # ||2w - 2(w - 0.2w)||
    np.testing.assert_array_equal(params[0].numpy(), w0)


def test_the_probe_of_a_linear_model_with_squared_error_matches_the_closed_form():
    # L(theta) = mean((Z theta - y)^2) with Z = [X, 1]: g = 2/n Z^T r, H = 2/n Z^T Z
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((32, 3)), rng.standard_normal((32, 1))
    tg.manual_seed(0)
    model = nn.Linear(3, 1, dtype=tg.float64)
    theta = np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()])
    z = np.hstack([x, np.ones((32, 1))])
    residual = z @ theta - y.ravel()
    h = 2 / len(x) * z.T @ z
    g = 2 / len(x) * z.T @ residual
    want = _closed_form(float(np.mean(residual ** 2)), g, h @ g, ETAS)
    got = landscape.probe(model, tg.from_numpy(x), tg.from_numpy(y), ETAS, loss_fn=nn.MSELoss())
    assert got["grad_norm"] == pytest.approx(np.linalg.norm(g), rel=1e-10)
    np.testing.assert_allclose(got["losses"], want["losses"], rtol=1e-10)
    for key in landscape.MEASURES:
        assert got[key] == pytest.approx(want[key], rel=1e-10), key
    assert np.array_equal(np.concatenate([model.weight.detach().numpy().ravel(), model.bias.detach().numpy()]), theta)


def test_a_probe_restores_parameters_buffers_and_mode():
    cfg = SETTINGS["baseline"]
    tg.manual_seed(0)
    model = SimpleNetBN()
    x, y = next(landscape.training_batches(0, 64, cfg["pixels"]))
    for mode in (True, False):
        model.train(mode)
        state = {k: v.numpy().copy() for k, v in model.state_dict().items()}
        result = landscape.probe(model, x, y, [0.01, 0.1, 1.0])
        assert model.training is mode
        after = model.state_dict()
        assert "layers.1.num_batches_tracked" in after
        assert all(np.array_equal(state[k], after[k].numpy()) for k in state)
        assert all(math.isfinite(result[k]) and result[k] > 0 for k in landscape.MEASURES)


class _Recording(SimpleNet):
    """SimpleNet that keeps every input it is trained on (in ``seen``, set by each test)."""

    seen: list

    def forward(self, x):
        _Recording.seen.append(x.numpy().copy())
        return super().forward(x)


def test_the_probes_see_the_batches_training_uses():
    cfg = SETTINGS["article"]
    _Recording.seen = []
    r = train_run(_Recording, 3, 2, evaluate=False, **cfg)
    assert len(_Recording.seen) == r["steps"] == 2 * (4000 // 64)  # over an epoch boundary
    batches = landscape.training_batches(3, 64, cfg["pixels"])
    for trained in _Recording.seen:
        assert np.array_equal(trained, next(batches)[0].numpy())


def test_each_probe_walks_from_the_batch_of_the_step_it_precedes(monkeypatch):
    # the probe after step s uses the batch training takes next (step s + 1's, numbered s from 0)
    cfg = SETTINGS["baseline"]
    probed = []

    def fake_probe(model, x, y, etas, loss_fn=None):
        probed.append(x.numpy().copy())
        return dict.fromkeys(("loss", "grad_norm", *landscape.MEASURES), 1.0) | {
            "losses": [1.0] * len(etas), "grad_changes": [1.0] * len(etas)}

    monkeypatch.setattr(landscape, "probe", fake_probe)
    _Recording.seen = []
    _, steps, _ = landscape._probed_run(_Recording, 1, 2, cfg, every=25, etas=[0.1])
    trained = [x for x in _Recording.seen if len(x) == 64]  # (not the held-out accuracy's batches)
    assert steps == [0, 25, 50, 75, 100] and len(probed) == len(steps)
    for step, x in zip(steps, probed):
        assert np.array_equal(x, trained[step])


@pytest.mark.parametrize("cls", [SimpleNetBN, SimpleNet])
def test_probing_leaves_training_bit_for_bit_as_it_was(cls):
    cfg = SETTINGS["baseline"]
    probed, steps, curves = landscape._probed_run(cls, 0, 1, cfg, every=10, etas=[0.0125, 0.05, 0.4])
    plain = train_run(cls, 0, 1, **cfg)
    assert steps == [0, 10, 20, 30, 40, 50, 60]
    assert all(math.isfinite(v) and v > 0 for key in landscape.MEASURES for v in curves[key])
    assert probed["loss"] == plain["loss"] and probed["acc"] == plain["acc"]
    a, b = probed["model"].state_dict(), plain["model"].state_dict()
    assert list(a) == list(b)  # running stats and num_batches_tracked included
    for key in a:
        assert np.array_equal(a[key].numpy(), b[key].numpy()), key


def test_the_step_size_grid_is_half_octaves_from_a_quarter_to_eight():
    """The grid of eta / lr: 11 points, each sqrt(2) times the last, 0.25 to 8, with
    the whole octaves exact (so it is the same grid on every machine)."""
    grid = landscape.ETA_OVER_LR
    assert len(grid) == 11 and grid[0] == 0.25 and grid[-1] == 8.0
    assert grid[::2] == (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
    for a, b in zip(grid, grid[1:]):
        assert b / a == pytest.approx(math.sqrt(2.0), rel=1e-15)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = quick_run(tmp_path_factory, "landscape").out
    return json.loads((out / "landscape.json").read_text())


def test_the_quick_json_is_sound(quick):
    assert quick["experiment"] == "landscape" and quick["quick"] is True and quick["seeds"] == 2
    design = quick["design"]
    assert set(design["nets"]) == {"plain", "bn"} and set(design["measures"]) == set(landscape.MEASURES)
    assert design["eta_steps"] == len(design["eta_over_lr"]) == len(landscape.QUICK["eta_over_lr"])
    # the quick sweep is the full grid's two ends and its middle point (a loss range needs the middle)
    full = landscape.ETA_OVER_LR
    assert design["eta_over_lr"] == pytest.approx([full[0], full[len(full) // 2], full[-1]], rel=1e-12)
    assert {(r["net"], r["seed"]) for r in quick["runs"]} == {("plain", 0), ("plain", 1), ("bn", 0), ("bn", 1)}
    steps = landscape.probe_steps(1, 4000, design["probe_every"])
    for r in quick["runs"]:
        setup = r["setup"]
        assert setup["lr"] == SETTINGS[r["setting"]]["lr"] and setup["probe_every"] == design["probe_every"]
        assert setup["etas"] == pytest.approx([setup["lr"] * m for m in design["eta_over_lr"]])
        assert not r["diverged"] and r["probe_steps"] == steps
        for key in (*landscape.MEASURES, "grad_norm", "probe_loss"):
            assert len(r[key]) == len(steps) and all(v is not None and v > 0 for v in r[key]), key
        assert all(len(row) == design["eta_steps"] for row in r["sweep_losses"] + r["sweep_grad_changes"])
        for losses, loss_range in zip(r["sweep_losses"], r["loss_range"]):
            assert max(losses) - min(losses) == pytest.approx(loss_range)
    claims = [v["claim"] for v in quick["verdicts"]]
    assert claims == [f"baseline: {claim}" for _, claim in landscape.MEASURES.values()]
    assert [v["id"] for v in quick["verdicts"]] == [f"baseline/{key}" for key in landscape.MEASURES]
    assert all(v["unit"] == "decades" and not v["higher_is_better"] for v in quick["verdicts"])
    for v in quick["verdicts"]:  # the verdict's sides are the logs of the per-seed medians
        key = next(k for k, (_, claim) in landscape.MEASURES.items() if v["claim"].endswith(claim))
        medians = quick["per_seed_median"]["baseline"][key]
        assert v["better_mean"] == pytest.approx(np.mean(np.log10(medians["bn"])))
        assert v["worse_mean"] == pytest.approx(np.mean(np.log10(medians["plain"])))
        assert quick["typical"]["baseline"][key]["bn"] == pytest.approx(10 ** v["better_mean"])



def _summary_numbers(text):
    return re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]?\d+)?", text)


def test_every_number_in_the_summary_is_in_the_json(quick):
    text = landscape.summary(quick)
    assert "\n\n" in text and "quick run" in text
    assert not re.search(r"\bnan\b|\binf\b|None", text)  # (Python's spellings of NaN and Inf)
    printed = {f"{v:.2g}" for v in numbers_in(quick)} | {str(v) for v in numbers_in(quick) if isinstance(v, int)}
    tokens = _summary_numbers(text)
    assert len(tokens) >= 10
    assert set(tokens) <= printed, set(tokens) - printed


def test_the_summary_follows_the_verdicts_and_the_numbers(quick):
    doc = json.loads(json.dumps(quick))
    for v in doc["verdicts"]:
        v["outcome"] = "shows"
    shows = landscape.summary(doc)
    assert "narrowed the loss range" in shows and "lowered the effective beta-smoothness" in shows
    for v in doc["verdicts"]:
        v["outcome"] = "reversed"
    doc["typical"]["baseline"]["beta"]["bn"] = 123456.0
    doc["typical"]["baseline"]["probe_loss"]["plain"] = None  # a null from the JSON
    reversed_ = landscape.summary(doc)
    assert "widened the loss range" in reversed_ and "raised the effective beta-smoothness" in reversed_
    assert "1.2e+05 with BN" in reversed_ and "n/a without BN" in reversed_
    for v in doc["verdicts"]:
        v["outcome"] = "within noise"
    assert "no clear difference to the effective beta-smoothness" in landscape.summary(doc)


@pytest.mark.parametrize("low, high, want", [(1e-3, 1e3, [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3]),
                                             (0.1, 10.0, [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0])])
def test_log_axes_tick_decades_when_wide_and_1_2_5_when_narrow(low, high, want):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    try:
        ax.set_yscale("log")
        ax.set_ylim(low, high)
        landscape._log_ticks(plt, ax)
        ticks = [t for t in ax.yaxis.get_major_locator().tick_values(low, high) if low * 0.999 <= t <= high * 1.001]
        np.testing.assert_allclose(ticks, want, rtol=1e-9)
    finally:
        plt.close(fig)


def test_with_one_seed_each_curve_is_that_seeds_measure_at_its_probe_steps(monkeypatch, tmp_path):
    """One seed per net: the line is the run's own values (a geometric mean of
    one), drawn at the run's probe steps, and the band has no width."""
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt
    figs = {}
    monkeypatch.setattr(landscape, "save_figure", lambda fig, out, name: figs.setdefault(name, fig))
    settings, steps, rng = list(landscape.SETTINGS)[:1], [0, 3, 6, 9], np.random.default_rng(2)
    runs = []
    for net in landscape.NETS:
        run = {"setting": settings[0], "net": net, "seed": 0, "probe_steps": steps, "loss": [1.0, 0.5]}
        for key, _ in landscape.ROWS:
            run[key] = list(rng.uniform(0.01, 100.0, len(steps)))
        runs.append(run)
    landscape._plot(str(tmp_path), runs, settings, 3, [0.5, 1.0], 1)
    try:
        axes = figs["landscape.png"].axes
        for row, (key, _) in enumerate(landscape.ROWS):
            lines = axes[row].get_lines()
            assert len(lines) == len(runs)
            for line, run in zip(lines, runs):
                np.testing.assert_array_equal(line.get_xdata(), steps)
                np.testing.assert_allclose(line.get_ydata(), run[key], rtol=1e-12)
    finally:
        plt.close("all")


def test_the_verdicts_log_scale_leaves_out_zero_negative_and_nan_medians():
    """A median of 0 (a measure that vanished), below 0 or NaN is NaN in decades, so
    nanmean and the paired verdict leave it out instead of meeting -inf."""
    got = landscape.log_decades([100.0, 0.5, 0.0, -0.5, float("nan"), 1e-300])
    assert got[0] == 2.0 and got[1] == pytest.approx(math.log10(0.5), rel=1e-15) and got[5] == -300.0
    assert all(math.isnan(v) for v in got[2:5])
