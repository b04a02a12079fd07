"""small-batch's and train-vs-eval's diagnostics checked against hand
recomputations, and their --quick runs: the JSON's setups, the design, and a
summary whose numbers come from the JSON."""
import json
import math
import re

import numpy as np
import pytest

from tinygrad_bn import experiments, nn
from tinygrad_bn.creation import from_numpy
from tinygrad_bn.experiments import small_batch, train_vs_eval
from tinygrad_bn.experiments.common import data, mlp, train_run
from tinygrad_bn.grad_mode import no_grad
from tinygrad_bn.models import SimpleNetBN
from tinygrad_bn.random import manual_seed
from json_numbers import numbers_in
from quick_runs import quick_run


# ------------------------------------------------------------ hand recomputations
def _trained(make, seed=0, batch=64):
    return train_run(make, seed, 1, batch_size=batch, evaluate=False)["model"]


def _hand_population_logits(model, x_train, x):
    """The net in float64 NumPy, each norm layer normalizing by the population
    mean and biased variance of its input over ``x_train`` (computed in turn)."""
    h_train, h = x_train.astype(np.float64), x.astype(np.float64)
    stats = []
    for layer in train_vs_eval._sequence(model):
        if isinstance(layer, nn.Linear):
            w, b = (p.detach().numpy().astype(np.float64) for p in (layer.weight, layer.bias))
            h_train, h = h_train @ w.T + b, h @ w.T + b
        elif isinstance(layer, (nn.BatchNorm1d, nn.BatchRenorm1d)):
            mu, var = h_train.mean(0), h_train.var(0)
            stats.append((mu, var))
            g, b = (p.detach().numpy().astype(np.float64) for p in (layer.weight, layer.bias))
            h_train = (h_train - mu) / np.sqrt(var + layer.eps) * g + b
            h = (h - mu) / np.sqrt(var + layer.eps) * g + b
        elif isinstance(layer, nn.ReLU):
            h_train, h = np.maximum(h_train, 0), np.maximum(h, 0)
        else:
            raise TypeError(f"unexpected layer {layer}")
    return h, stats


def _logits(model, x):
    with no_grad():
        return model(from_numpy(x)).numpy().astype(np.float64)


@pytest.mark.parametrize("net", ["simplenet-bn", "mlp-bn", "renorm"])
def test_population_statistics_equal_a_hand_recomputation(net):
    x_train, _, x_test, y_test = data()
    make = {"simplenet-bn": SimpleNetBN, "mlp-bn": lambda: mlp(small_batch.WIDTHS, "relu", "batch"),
            "renorm": lambda: train_vs_eval.renorm_mlp(small_batch.WIDTHS, train_vs_eval.renorm_warmup(62))}[net]
    model = _trained(make)
    before = [(l.running_mean.numpy().copy(), l.running_var.numpy().copy()) for l in train_vs_eval.norm_layers(model)]
    pop = train_vs_eval.population_statistics(model, x_train)
    hand_logits, stats = _hand_population_logits(model, x_train, x_test)
    for layer, (mu, var) in zip(train_vs_eval.norm_layers(pop), stats):
        np.testing.assert_allclose(layer.running_mean.numpy(), mu, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(layer.running_var.numpy(), var, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_logits(pop, x_test), hand_logits, rtol=1e-4, atol=1e-4)
    hand_acc = float((hand_logits.argmax(1) == y_test).mean())
    assert abs(train_vs_eval.population_accuracy(model, x_train, x_test, y_test) - hand_acc) <= 1e-6
    # the evaluated model keeps its running statistics (the work happens on a copy)
    for layer, (m, v) in zip(train_vs_eval.norm_layers(model), before):
        np.testing.assert_array_equal(layer.running_mean.numpy(), m)
        np.testing.assert_array_equal(layer.running_var.numpy(), v)
    # and the population statistics are not the running ones (else the test proves nothing)
    assert not np.allclose(before[0][0], stats[0][0], atol=1e-3)


def test_batch_statistics_of_the_whole_test_set_equal_its_population_statistics():
    # one batch of all 1000 test digits in train mode = eval mode with the test set's own statistics
    _, _, x_test, y_test = data()
    model = _trained(lambda: mlp(small_batch.WIDTHS, "relu", "batch"))
    running = [l.running_mean.numpy().copy() for l in train_vs_eval.norm_layers(model)]
    as_batch = train_vs_eval.train_mode_predictions(model, x_test, len(x_test))
    hand_logits, _ = _hand_population_logits(model, x_test, x_test)
    assert (as_batch == hand_logits.argmax(1)).mean() >= 0.998  # (a near-tie may round either way)
    assert train_vs_eval.batch_statistics_accuracy(model, x_test, y_test, 1000) == float((as_batch == y_test).mean())
    for layer, m in zip(train_vs_eval.norm_layers(model), running):  # the copy moved, not the model
        np.testing.assert_array_equal(layer.running_mean.numpy(), m)
        assert layer.training


def test_batch_statistics_of_a_renorm_net_are_batch_norms():
    # r = 1, d = 0: the renorm net's batch-statistics evaluation is its BatchNorm twin's
    _, _, x_test, y_test = data()
    renorm = _trained(lambda: train_vs_eval.renorm_mlp(small_batch.WIDTHS, (0, 10, 5)))
    twin = mlp(small_batch.WIDTHS, "relu", "batch")
    twin.load_state_dict(renorm.state_dict())
    for b in (8, 1000):
        assert (train_vs_eval.batch_statistics_accuracy(renorm, x_test, y_test, b)
                == train_vs_eval.batch_statistics_accuracy(twin, x_test, y_test, b))
    # in its own train mode (r and d towards the running statistics) it predicts differently at batch 8
    own = train_vs_eval.train_mode_predictions(renorm, x_test, 8)
    pure = train_vs_eval.train_mode_predictions(renorm, x_test, 8, pure_batch_statistics=True)
    assert (own != pure).any()


def test_renorm_warmup_scales_with_the_run_and_never_jumps_a_limit():
    """The warm-up is the run's fractions of its steps (start 5%, r_max ramp 25%,
    d_max ramp 15%); a ramp is at least one step even in a tiny run, so a limit
    always grows over a step rather than jumping at once to its maximum."""
    assert train_vs_eval.renorm_warmup(1000) == (50, 250, 150)
    for steps in range(1, 60):
        start, r_ramp, d_ramp = train_vs_eval.renorm_warmup(steps)
        assert r_ramp >= 1 and d_ramp >= 1, (steps, r_ramp, d_ramp)
        assert (start, r_ramp, d_ramp) == (round(0.05 * steps), max(1, round(0.25 * steps)),
                                           max(1, round(0.15 * steps)))


# ------------------------------------------------------------ the noise measure
def test_batch_noise_is_one_over_sqrt_b_on_gaussian_data():
    rng = np.random.default_rng(1)
    n, c = 40000, 24
    x = rng.standard_normal((n, c)) * rng.uniform(0.5, 3, c) + rng.uniform(-2, 2, c)
    sizes = [2, 4, 16, 64]
    noise = small_batch.batch_noise(x, sizes, draws=3000, seed=0)
    assert noise["batch_sizes"] == sizes
    for b, mean, std in zip(sizes, noise["mean"], noise["std"]):
        expected = math.sqrt((n - b) / (n - 1) / b)
        assert abs(mean / expected - 1) < 0.03, (b, mean, expected)
        assert abs(std / small_batch.gaussian_std_noise(b) - 1) < 0.04, (b, std)
    # in population-std units: shifting and scaling the channels changes nothing
    again = small_batch.batch_noise(x * 7.0 - 3.0, sizes, draws=3000, seed=0)
    np.testing.assert_allclose(again["mean"], noise["mean"], rtol=1e-5)
    np.testing.assert_allclose(again["std"], noise["std"], rtol=1e-5)


def test_the_gaussian_std_noise_formula():
    # b = 2: s = |x1 - x2| / 2, so E[s] = sigma / sqrt(pi) and E[s^2] = sigma^2 / 2
    assert small_batch.gaussian_std_noise(2) == pytest.approx(math.sqrt(1.5 - 2 / math.sqrt(math.pi)), rel=1e-12)
    assert small_batch.gaussian_std_noise(400) == pytest.approx(1 / math.sqrt(800), rel=0.02)


def test_the_noise_table_summarizes_each_batch_that_has_curves_and_skips_the_rest():
    """Per training batch, mean/min/max over seeds of the BN runs' noise curves;
    a batch whose runs kept none (or only other norms' runs) is left out, and
    the batches after it are still there."""
    def run(norm, batch, seed, curve):
        return {"norm": norm, "batch": batch, "seed": seed, "diagnostics": {"noise": curve}}

    def curve(scale):
        return {"batch_sizes": [2, 8], "mean": [scale, scale / 2], "std": [2 * scale, scale]}

    runs = [run("batch", 2, 0, None), run("batch", 2, 1, None), run("layer", 4, 0, curve(9.0)),
            run("batch", 8, 0, curve(1.0)), run("batch", 8, 1, curve(3.0)), run("layer", 8, 0, curve(50.0))]
    table = small_batch._noise_table(runs, [2, 4, 8])
    assert list(table) == ["8"]
    assert table["8"] == {"batch_sizes": [2, 8],
                          "mean": {"mean": [2.0, 1.0], "min": [1.0, 0.5], "max": [3.0, 1.5]},
                          "std": {"mean": [4.0, 2.0], "min": [2.0, 1.0], "max": [6.0, 3.0]}}


def test_batch_noise_of_the_whole_population_is_zero_and_bad_sizes_are_refused():
    x = np.random.default_rng(0).standard_normal((64, 3))
    noise = small_batch.batch_noise(x, [64], draws=5)
    assert noise["mean"][0] < 1e-6 and noise["std"][0] < 1e-6
    with pytest.raises(ValueError, match="batch size 65"):
        small_batch.batch_noise(x, [65])


# ------------------------------------------------------------ the nets
def test_renorm_nets_start_like_their_batch_norm_twins_and_relax_within_the_run():
    manual_seed(3)
    simple = SimpleNetBN()
    manual_seed(3)
    renorm = train_vs_eval.renorm_mlp(train_vs_eval.WIDTHS, (1, 2, 3))
    manual_seed(3)
    grid = mlp(small_batch.WIDTHS, "relu", "batch")
    lin = [[l.weight.detach().numpy() for l in m.modules() if isinstance(l, nn.Linear)] for m in (simple, renorm, grid)]
    for a, b, c in zip(*lin):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    for steps in (62, 124, 4000):
        start, r_ramp, d_ramp = train_vs_eval.renorm_warmup(steps)
        assert 0 < start + max(r_ramp, d_ramp) <= 0.35 * steps
    model = train_run(lambda: train_vs_eval.renorm_mlp(small_batch.WIDTHS, train_vs_eval.renorm_warmup(62)), 0, 1,
                      evaluate=False)["model"]
    for layer in train_vs_eval.norm_layers(model):
        assert isinstance(layer, nn.BatchRenorm1d)
        assert (layer.current_r_max, layer.current_d_max) == (3.0, 5.0)  # the limits did relax


def test_one_group_is_layer_norm():
    # the sweep's 1-group point is the LayerNorm run
    x = from_numpy(np.random.default_rng(0).standard_normal((5, 64)).astype(np.float32))
    with no_grad():
        np.testing.assert_allclose(nn.GroupNorm(1, 64)(x).numpy(), nn.LayerNorm(64)(x).numpy(), atol=1e-6)


# ------------------------------------------------------------ the quick runs
@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    return {name: json.loads((quick_run(tmp_path_factory, name).out / f"{name}.json").read_text())
            for name in ("small-batch", "train-vs-eval")}



@pytest.mark.parametrize("name", ["small-batch", "train-vs-eval"])
def test_every_run_records_its_setup_and_the_design_is_there(quick, name):
    doc = quick[name]
    assert doc["design"] and doc["runs"]
    for r in doc["runs"]:
        setup = r["setup"]
        assert setup["optimizer"] == "SGD" and setup["momentum"] == 0.9 and setup["epochs"] == doc["epochs"]
        if name == "small-batch":
            assert setup["batch_size"] == r["batch"] and setup["lr"] == pytest.approx(0.05 * r["batch"] / 64)
        else:
            assert setup["batch_size"] == 64 and setup["lr"] == 0.05
    for v in doc["verdicts"]:
        assert v["id"] and v["pairs"] == doc["seeds"]
        if v["unit"] == "accuracy" and "gap" not in v["id"]:
            assert "binomial_se" in v


@pytest.mark.parametrize("name", ["small-batch", "train-vs-eval"])
def test_the_summary_takes_its_numbers_from_the_json(quick, name):
    doc = quick[name]
    mod = experiments.module(name)
    text = mod.summary(doc)
    assert "\n\n" in text and "nan" not in text.lower() and "None" not in text
    values = list(numbers_in(doc))
    percents = {f"{100 * v:.1f}" for v in values} | {f"{100 * abs(v):.1f}" for v in values}
    found = re.findall(r"(\d+\.\d)%", text) + re.findall(r"([+-]?\d+\.\d) points", text)
    assert found
    for token in found:
        assert token.lstrip("+-") in percents, token
    # and it follows the JSON: other numbers, another text
    changed = json.loads(json.dumps(doc))
    for v in changed["verdicts"]:
        v["better_mean"] = 0.123456 if v["better_mean"] is not None else None
    assert mod.summary(changed) != text and "12.3%" in mod.summary(changed)


@pytest.mark.parametrize("still, population, cause", [
    ("shows", "shows", "Better statistics at evaluation do not rescue it"),
    ("shows", "inconclusive", "Better statistics at evaluation do not rescue it"),
    ("inconclusive", "shows", "Better statistics at evaluation rescue it"),
    ("inconclusive", "inconclusive", "Whether better statistics at evaluation rescue it is within noise"),
])
def test_the_small_batch_summary_names_the_cause_its_diagnostics_show(quick, still, population, cause):
    doc = json.loads(json.dumps(quick["small-batch"]))
    for v in doc["verdicts"]:
        if v["id"] in ("diag/population-still-trails", "diag/population"):
            v["outcome"] = still if v["id"] == "diag/population-still-trails" else population
    assert f"{cause}:" in experiments.module("small-batch").summary(doc)


def test_small_batch_diagnostics_in_the_json(quick):
    doc = quick["small-batch"]
    small, large = min(doc["batches"]), max(doc["batches"])
    for r in doc["runs"]:
        assert len(r["weight_change"]) == 3 and all(c >= 0 for c in r["weight_change"])
        if r["norm"] in ("batch", "renorm"):
            accs = r["diagnostics"]["accuracy"]
            assert set(accs) == set(small_batch.EVALUATIONS) and all(0 <= a <= 1 for a in accs.values())
            assert accs["running"] == r["final_acc"]
        if r["norm"] == "batch":
            noise = r["diagnostics"]["noise"]
            assert noise["batch_sizes"] == small_batch.NOISE_BATCHES
            ratio = np.array(noise["mean"]) * np.sqrt(noise["batch_sizes"])  # about 1 at every size
            assert np.all((ratio > 0.8) & (ratio < 1.1))
    # the noise table: per training batch, mean / min / max over the seeds' curves
    assert set(doc["noise"]) == {str(b) for b in doc["batches"]}
    for b in doc["batches"]:
        curves = [r["diagnostics"]["noise"] for r in doc["runs"] if r["norm"] == "batch" and r["batch"] == b]
        entry = doc["noise"][str(b)]
        assert curves and entry["batch_sizes"] == small_batch.NOISE_BATCHES
        for k in ("mean", "std"):
            for stat, f in (("mean", np.mean), ("min", np.min), ("max", np.max)):
                np.testing.assert_allclose(entry[k][stat], f([c[k] for c in curves], 0), rtol=1e-12)
    assert {g for g in doc["group_sweep"]} == {1, 4, 32} and doc["groups"]["1"]["mean"] == doc["accuracy"]["layer"][str(small)]["mean"]
    assert doc["design"]["renorm_warmup"]["steps"][str(small)][0] >= 0 and large in doc["batches"]


def test_train_vs_eval_renorm_and_gaps_in_the_json(quick):
    doc = quick["train-vs-eval"]
    assert doc["eval_batch_1_matches"]
    models = {r["model"] for r in doc["runs"]}
    assert models == set(train_vs_eval.MODELS)
    for r in doc["runs"]:
        assert set(r["accuracy"]) == set(train_vs_eval.VARIANTS) | {train_vs_eval.CHECK}
        assert r["accuracy"][train_vs_eval.CHECK] == r["accuracy"]["running"]
        assert all(0 <= d <= 1 for d in r["disagreement"].values())
        for b in ("1000", "8"):  # both over all 1000 test digits: accuracies differ by at most the disagreement
            assert abs(r["accuracy"][f"train mode {b}"] - r["accuracy"]["running"]) <= r["disagreement"][b] + 1e-12
        if r["model"] == "renorm 0.1":  # unclipped r and d make train mode eval mode: the same predictions
            assert r["disagreement"]["1000"] < 0.01
        assert r["gap_8"] == pytest.approx(abs(r["accuracy"]["running"] - r["accuracy"]["train mode 8"]))
        if r["norm"] == "renorm":
            assert r["renorm"]["final_r_max"] == 3.0 and r["renorm"]["final_d_max"] == 5.0


def test_the_group_sweep_finds_its_runs_by_value_in_results_read_back_from_json():
    """Batch sizes and group counts read from JSON are new int objects (past CPython's cached
    small ints), so the sweep must compare them by value."""
    runs = [{"norm": norm, "batch": b, "groups": g, "seed": seed, "final_acc": 0.5 + seed / 10 + (g or 0) / 1000}
            for norm, g in (("group", 32), ("group", 300), ("layer", None)) for b in (300, 600) for seed in range(3)]
    back = json.loads(json.dumps(runs))
    small = int("300")
    assert small_batch._sweep_values(back, small, 300) == [0.5 + s / 10 + 0.3 for s in range(3)]
    assert small_batch._sweep_values(back, small, 32) == [0.5 + s / 10 + 0.032 for s in range(3)]
    assert len(small_batch._sweep_runs(back, small, 1)) == 3  # one group: layer norm's runs


def test_the_small_batch_design_gives_the_instance_norm_positions_the_model_has(quick):
    """"viewed as G channels of P (first layer) and Q (second) positions": G, P and Q are
    what the model's two InstanceNorm layers see."""
    model = mlp(small_batch.WIDTHS, "relu", small_batch.NORMS["instance"], small_batch.GROUPS)
    seen = []
    for m in model.modules():
        if isinstance(m, nn.InstanceNorm1d):
            m.register_forward_pre_hook(lambda mod, args: seen.append(tuple(args[0].shape)))
    model(from_numpy(np.zeros((2, small_batch.WIDTHS[0]), np.float32)))
    assert len(seen) == 2 and all(s[1] == small_batch.GROUPS for s in seen)
    words = quick["small-batch"]["design"]["norms"]["instance"]
    assert f"{small_batch.GROUPS} channels of {seen[0][2]} (first layer) and {seen[1][2]} (second) positions" in words


@pytest.mark.parametrize("label", list(train_vs_eval.MODELS))
def test_each_train_vs_eval_model_is_built_with_its_norm_and_momentum(label):
    """Each label's net: SimpleNetBN's BatchNorm1d layers for "batch", BatchRenorm1d for
    "renorm", every norm layer with the label's momentum (None: a cumulative average)."""
    norm, momentum = train_vs_eval.MODELS[label]
    model = train_vs_eval._make(norm, momentum, train_vs_eval.renorm_warmup(1000))()
    layers = [m for m in model.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchRenorm1d))]
    wanted = nn.BatchRenorm1d if norm == "renorm" else nn.BatchNorm1d
    assert len(layers) == 2 and all(type(m) is wanted for m in layers)
    assert all(m.momentum == momentum for m in layers)
