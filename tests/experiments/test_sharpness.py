"""The sharpness experiment: its power iteration finds the top eigenvalue of
known quadratics, its measurement leaves training untouched, and its --quick
JSON holds a converged, positive, finite eigenvalue at every checkpoint."""
import json
import math
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.experiments import sharpness
from tinygrad_bn.experiments.bn_vs_plain import SETTINGS
from tinygrad_bn.experiments.common import data, train_run
from tinygrad_bn.models import SimpleNetBN
from quick_runs import quick_run


def _quadratic(eigenvalues, seed=0):
    """A symmetric matrix with the given eigenvalues in random orthogonal axes."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((len(eigenvalues), len(eigenvalues))))
    return q @ np.diag(eigenvalues) @ q.T


def _quadratic_product(a):
    """H v from autograd for loss = 0.5 x^T A x, with x split over two parameters
    of different shapes (as a model's parameters are): H = A everywhere."""
    x0 = np.random.default_rng(1).standard_normal(len(a))
    head = tg.tensor(x0[:2], dtype=tg.float64, requires_grad=True)
    tail = tg.tensor(x0[2:].reshape(1, -1), dtype=tg.float64, requires_grad=True)
    x = tg.cat([head, tail.reshape(-1)])
    loss = 0.5 * (x * (tg.tensor(a) @ x)).sum()
    return sharpness.hessian_vector_product(loss, [head, tail]), [head.shape, tail.shape]


def test_hessian_vector_products_of_a_quadratic_are_a_times_v():
    a = _quadratic([4.0, 2.0, 1.0, 0.5, -0.25])
    product, _ = _quadratic_product(a)
    v = np.random.default_rng(2).standard_normal(5)
    hv = product([v[:2], v[2:].reshape(1, -1)])
    np.testing.assert_allclose(np.concatenate([hv[0], hv[1].ravel()]), a @ v, rtol=1e-12)


def test_power_iteration_recovers_the_top_eigenvalue_of_a_known_quadratic():
    product, shapes = _quadratic_product(_quadratic([4.0, 2.0, 1.0, 0.5, -0.25]))
    result = sharpness.top_eigenvalue(product, shapes, iterations=20, seed=0)
    assert abs(result["top"] - 4.0) < 1e-6
    assert result["dominant"] == result["top"] and result["change"] < 1e-6


def test_a_dominant_negative_eigenvalue_is_shifted_away_to_find_the_top_one():
    # a saddle: the eigenvalue of largest magnitude is -6, the top one is 3
    product, shapes = _quadratic_product(_quadratic([-6.0, 3.0, 1.0, 0.5, 0.1]))
    result = sharpness.top_eigenvalue(product, shapes, iterations=100, seed=0)
    assert abs(result["dominant"] + 6.0) < 1e-6
    assert abs(result["top"] - 3.0) < 1e-6 and result["change"] < 1e-6


def test_one_power_iteration_gives_its_estimate_and_no_change():
    """With one iteration there is no earlier estimate to compare: the change
    is NaN (not a crash, and not a made-up zero)."""
    a = np.diag([2.0, 1.0])
    estimate, change = sharpness.power_iteration(lambda v: [a @ v[0]], [(2,)], iterations=1, seed=0)
    v = np.random.default_rng(0).standard_normal(2)
    v /= np.linalg.norm(v)
    assert estimate == pytest.approx(v @ a @ v, rel=1e-12)
    assert math.isnan(change)
    _, change2 = sharpness.power_iteration(lambda v: [a @ v[0]], [(2,)], iterations=2, seed=0)
    assert math.isfinite(change2) and change2 > 0


def test_measuring_changes_neither_the_model_nor_the_training_trajectory():
    cfg = SETTINGS["baseline"]
    x_train, y_train = data(cfg["pixels"])[:2]
    x, y = tg.from_numpy(x_train[:64]), tg.from_numpy(y_train[:64])
    seen = []

    def measure_every_tenth_step(model, step, loss):
        if step % 10 == 0:
            before = [t.detach().numpy().copy() for t in list(model.parameters()) + list(model.buffers())]
            seen.append(sharpness.measure(model, x, y, iterations=3, seed=step))
            after = [t.detach().numpy() for t in list(model.parameters()) + list(model.buffers())]
            assert all(np.array_equal(b, a) for b, a in zip(before, after))  # running stats restored
            assert model.training

    measured = train_run(SimpleNetBN, 0, 1, on_step=measure_every_tenth_step, evaluate=False, **cfg)
    plain = train_run(SimpleNetBN, 0, 1, evaluate=False, **cfg)
    assert len(seen) == 6 and all(math.isfinite(s["top"]) for s in seen)
    assert measured["loss"] == plain["loss"]
    for a, b in zip(measured["model"].state_dict().values(), plain["model"].state_dict().values()):
        assert np.array_equal(a.numpy(), b.numpy())


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = quick_run(tmp_path_factory, "sharpness").out
    return json.loads((out / "sharpness.json").read_text())


def test_the_quick_json_has_a_converged_positive_eigenvalue_at_every_checkpoint(quick):
    assert quick["experiment"] == "sharpness" and quick["quick"] is True
    assert quick["hessian_batch"] == sharpness.QUICK["hessian_batch"]  # the quick run measures on the quick batch
    assert quick["iterations"] == sharpness.QUICK["iterations"] != sharpness.ITERATIONS  # with the quick count
    assert {r["setting"] for r in quick["runs"]} == set(sharpness.QUICK["settings"])
    assert quick["checkpoints"][0] == 0 and quick["checkpoints"] == sorted(set(quick["checkpoints"]))
    assert quick["stability_threshold"]["baseline"] == pytest.approx(2 * 1.9 / 0.05)
    assert {(r["net"], r["seed"]) for r in quick["runs"]} == {("plain", 0), ("plain", 1), ("bn", 0), ("bn", 1)}
    for r in quick["runs"]:
        assert not r["diverged"] and r["hessian_steps"] == quick["checkpoints"]
        tops = r["top_eigenvalue"]
        assert len(tops) == len(quick["checkpoints"])
        assert all(t is not None and math.isfinite(t) and t > 0 for t in tops)
        assert all(c is not None and c < 0.05 for c in r["power_iteration_change"])  # settled in 20 iterations
        assert all(v is not None and 0 < v < 5 for v in r["hessian_batch_loss"])
    assert [v["claim"].split(": ", 2)[-1] for v in quick["verdicts"]] == ["median over training", "peak", "at the end"]
    assert all(v["unit"] == "decades" for v in quick["verdicts"])


def test_python_m_runs_the_experiments():
    done = subprocess.run([sys.executable, "-m", "tinygrad_bn.experiments", "--help"], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0 and "sharpness" in done.stdout


def test_the_verdicts_compare_each_seeds_median_peak_and_last_eigenvalue_after_step_0():
    rng = np.random.default_rng(5)
    runs = []
    for net in ("bn", "plain"):
        for seed in range(4):
            tops = list(10 ** rng.uniform(-1, 2, 7))
            if seed == 1:  # diverged after its fourth checkpoint: the last finite one is the end
                tops[5:] = [None, float("nan")]
            runs.append({"setting": "baseline", "net": net, "seed": seed, "top_eigenvalue": tops})
    verdicts = sharpness._verdicts(runs, ["baseline"])
    assert [v["claim"] for v in verdicts] == [f"baseline: BN lowers the top Hessian eigenvalue: {what}"
                                              for what in ("median over training", "peak", "at the end")]

    def per_seed(net, summary):
        out = []
        for r in runs:
            if r["net"] == net:
                tops = np.array([np.nan if t is None else t for t in r["top_eigenvalue"][1:]], float)
                out.append(np.log10(summary(tops[np.isfinite(tops)])))
        return np.array(out)

    for v, summary in zip(verdicts, (np.median, np.max, lambda t: t[-1])):
        # BN "better" when lower: each pair's difference is plain's decades minus BN's
        np.testing.assert_allclose(v["diffs"], per_seed("plain", summary) - per_seed("bn", summary), rtol=1e-12)
        assert v["unit"] == "decades" and v["higher_is_better"] is False
