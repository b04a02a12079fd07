"""What a run hands back and writes, at its edges: a diverged run's curves are
padded with NaN to the epochs asked for, held-out accuracy is the same whatever
the evaluation batch, instance norm refuses units that do not split into its
channels, the JSON turns NumPy values, tuples and non-finite numbers into plain
JSON, write_results names each pending plot's bytes and leaves no temporary
behind, and landscape's numbers read "n/a" when missing."""
import hashlib
import json
import math

import numpy as np
import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import common, landscape
from tinygrad_bn.experiments.common import _plain, mlp, train_run


def test_a_diverged_runs_curves_are_nan_from_where_it_stopped_to_the_last_epoch():
    r = train_run(lambda: mlp([784, 16, 10], "relu"), seed=0, epochs=3, lr=1e4, compiled=False)
    assert r["diverged"] and r["final_acc"] == common.CHANCE == 0.1
    assert len(r["loss"]) == len(r["acc"]) == 3
    assert all(math.isnan(v) for v in r["loss"] + r["acc"])
    assert r["setup"]["epochs"] == 3 and r["setup"]["lr"] == 1e4


def test_the_final_accuracy_is_the_last_epochs_and_without_evaluation_nan():
    r = train_run(lambda: mlp([784, 16, 10], "relu"), seed=0, epochs=3, batch_size=1000)
    assert r["final_acc"] == r["acc"][-1] and len(set(r["acc"])) == 3
    r = train_run(lambda: mlp([784, 16, 10], "relu"), seed=0, epochs=2, batch_size=1000, evaluate=False)
    assert not r["diverged"] and r["steps"] == 2 * (4000 // 1000)
    assert all(math.isfinite(v) for v in r["loss"]) and len(r["loss"]) == 2
    assert all(math.isnan(v) for v in r["acc"]) and math.isnan(r["final_acc"])


@pytest.mark.parametrize("batch_size", [1, 7, 13, 1000, 5000])
def test_held_out_accuracy_does_not_depend_on_the_evaluation_batch(batch_size):
    from tinygrad_bn.creation import from_numpy
    from tinygrad_bn.grad_mode import no_grad
    from tinygrad_bn.random import manual_seed

    manual_seed(3)
    model = mlp([784, 16, 10], "relu", "batch")
    model.eval()
    _, _, x, y = common.data()
    x, y = x[:40], y[:40]
    with no_grad():
        want = float((model(from_numpy(x)).argmax(1).numpy() == y).mean())
    assert common.accuracy(model, x, y, batch_size=batch_size) == pytest.approx(want, abs=1e-12)


def test_instance_norm_needs_the_units_to_split_into_its_channels():
    with pytest.raises(ValueError, match="FeaturesAsChannels: 30 features do not split into 4 channels"):
        common.FeaturesAsChannels(30, 4)
    assert common.FeaturesAsChannels(32, 4).channels == 4


def test_the_json_gets_plain_python_values():
    doc = _plain({1: np.float32(1.5), "t": (np.int64(2), float("nan"), np.float64(-np.inf)),
                  "a": np.array([[1.0, np.nan], [2.0, 3.0]]), "s": "text", "b": True, "n": None,
                  "verdict": np.float64(2.0) > 1.0})
    assert doc == {"1": 1.5, "t": [2, None, None], "a": [[1.0, None], [2.0, 3.0]], "s": "text", "b": True, "n": None,
                   "verdict": True}
    assert type(doc["1"]) is float and type(doc["t"][0]) is int and type(doc["verdict"]) is bool
    json.dumps(doc, allow_nan=False)


def test_write_results_names_each_plots_bytes_and_leaves_no_temporary(tmp_path):
    plt = common.pyplot()
    if plt is None:
        pytest.skip("matplotlib is not installed")
    fig = plt.figure(figsize=(1, 1))
    final = common.save_figure(fig, str(tmp_path), "p.png")
    assert not (tmp_path / "p.png").exists()  # until its JSON is written
    path = common.write_results(str(tmp_path), "x", {"value": float("nan")})
    doc = json.loads((tmp_path / "x.json").read_text())
    assert path == str(tmp_path / "x.json") and doc["value"] is None
    assert doc["plot_sha256"] == {"p.png": hashlib.sha256((tmp_path / "p.png").read_bytes()).hexdigest()}
    assert final == str(tmp_path / "p.png") and common._PENDING == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png", "x.json"]
    common.write_results(str(tmp_path), "y", {})  # the next results name no plot of the last ones
    assert json.loads((tmp_path / "y.json").read_text())["plot_sha256"] == {}


def test_discarded_plots_leave_nothing_behind(tmp_path):
    plt = common.pyplot()
    if plt is None:
        pytest.skip("matplotlib is not installed")
    for name in ("a.png", "b.png"):
        common.save_figure(plt.figure(figsize=(1, 1)), str(tmp_path), name)
    assert len(list(tmp_path.iterdir())) == 2
    common.discard_pending()
    assert list(tmp_path.iterdir()) == [] and common._PENDING == []
    common.discard_pending()  # nothing pending: nothing to do


@pytest.mark.parametrize("v, want", [(None, "n/a"), (float("nan"), "n/a"), (float("inf"), "n/a"), (0.012345, "0.012"),
                                     (3, "3"), (12345.0, "1.2e+04"), (0.5, "0.5")])
def test_landscape_numbers_are_two_figures_or_na(v, want):
    assert landscape._num(v) == want
    assert landscape._num(0.012345, 3) == "0.0123"


@pytest.mark.parametrize("outcome, words", [("shows", "narrowed the loss range (0.5 with BN vs 2 without)"),
                                            ("reversed", "widened the loss range (0.5 with BN vs 2 without)"),
                                            ("within noise", ("made no clear difference to the loss range "
                                                              "(0.5 with BN vs 2 without)")),
                                            (common.QUICK_OUTCOME, "the loss range was 0.5 with BN vs 2 without")])
def test_landscape_phrases_follow_the_outcome_and_give_both_nets_numbers(outcome, words):
    assert landscape._phrase({"outcome": outcome}, "loss_range", {"bn": 0.5, "plain": 2.0}) == words


def test_the_cli_defaults_are_the_documented_ones():
    """Five seeds by default; --quick runs one epoch at two seeds at most."""
    assert experiments.DEFAULT_SEEDS == 5 and experiments.QUICK_EPOCHS == 1 and experiments.QUICK_SEEDS == 2
