"""The measures of bn-vs-plain, sigmoid, weight-init, learning-rates and
gradients on synthetic inputs with known answers, and their --quick runs: the
JSON holds a design and each run's training setup, accuracy verdicts carry
their binomial error, and each summary's numbers are the JSON's."""
import json
import math
import re

import numpy as np
import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import bn_vs_plain, gradients, learning_rates, sigmoid, weight_init
from quick_runs import quick_run

MINE = ("bn-vs-plain", "sigmoid", "weight-init", "learning-rates", "gradients")


# ------------------------------------------------------------ bn-vs-plain
def test_scale_drift_of_activations_with_known_stds():
    rng = np.random.default_rng(0)
    stds = [1.0, 1.5, 3.0, 2.0]
    measured = [float(rng.normal(0, s, 200_000).std()) for s in stds]
    assert bn_vs_plain.scale_drift(measured) == pytest.approx(3.0, rel=0.02)
    assert bn_vs_plain.scale_drift([2.0, 2.0, 2.0]) == 1.0  # a scale that never moves
    assert bn_vs_plain.scale_drift([2.0, None, float("nan"), 4.0]) == 2.0  # a diverged epoch is skipped
    assert math.isnan(bn_vs_plain.scale_drift([None]))


def test_the_recorder_takes_the_bn_nets_first_layer_before_its_batchnorm():
    from tinygrad_bn.creation import from_numpy
    from tinygrad_bn.grad_mode import no_grad
    from tinygrad_bn.models import SimpleNetBN
    from tinygrad_bn.random import manual_seed

    manual_seed(0)
    model = SimpleNetBN()
    with no_grad():  # running statistics that make BN's eval output differ from its input
        model.layers[1].running_var.copy_(from_numpy(np.full(64, 9.0, np.float32)))
    pre, post, on_epoch = bn_vs_plain._recorder("raw", sample=64)
    on_epoch(model, 0)
    x = from_numpy(bn_vs_plain.data("raw")[2][:64])
    with no_grad():
        linear = model.layers[0](x).numpy().reshape(-1)
    np.testing.assert_allclose(pre[0], linear, rtol=1e-6)  # pre-BN: the Linear's own output
    assert post[0].std() == pytest.approx(pre[0].std() / 3, rel=1e-3)  # after BN: divided by sqrt(9)


# ------------------------------------------------------------ sigmoid
def test_epochs_to_accuracy_on_a_synthetic_curve():
    curve = [0.1, 0.3, 0.55, 0.79, 0.8, 0.9]
    assert sigmoid.epochs_to(curve, 0.5) == 3
    assert sigmoid.epochs_to(curve, 0.8) == 5  # reaching the mark exactly counts
    assert sigmoid.epochs_to(curve, 0.95) is None
    assert sigmoid.epochs_to([0.1] * 30, 0.5) is None  # never leaves chance
    assert sigmoid.epochs_to([0.6, None, float("nan")], 0.5) == 1
    assert sigmoid.epochs_to([float("nan"), None], 0.5) is None  # diverged at once
    for n in range(1, 6):  # a mark first reached at the last epoch, for curves of odd and even length
        assert sigmoid.epochs_to([0.1] * (n - 1) + [0.9], 0.5) == n
    assert sigmoid.censored(None, 30) == 31 and sigmoid.censored(7, 30) == 7
    quarters = [0.25, 0.5, 0.75, 1.0, 1.25]
    assert sigmoid.epochs_to([0.2, 0.4, 0.6, 0.7, 0.85], 0.5, quarters) == 0.75
    assert sigmoid.epochs_to([0.2, 0.4, 0.6, 0.7, 0.85], 0.8, quarters) == 1.25


# ------------------------------------------------------------ weight-init
def test_the_weight_init_score_ranks_a_net_that_never_trains_last():
    never = [0.1] * 5  # chance at every scale: the old range metric scored this 0, the best
    uneven = [0.6, 0.9, 0.92, 0.93, 0.7]
    assert weight_init.worst_over_scales(never) == 0.1
    assert weight_init.worst_over_scales(uneven) == 0.6
    assert weight_init.worst_over_scales(uneven) > weight_init.worst_over_scales(never)
    assert weight_init.scales_reaching(never, 0.8) == 0 and weight_init.scales_reaching(uneven, 0.8) == 3
    assert weight_init.worst_over_scales([0.9, None]) == 0.9


# ------------------------------------------------------------ learning-rates
def test_largest_good_rate_skips_diverged_runs_and_bounds_a_net_that_never_trains():
    rates = [0.01, 0.1, 1.0]
    assert learning_rates.largest_good_rate(rates, [0.9, 0.9, 0.1], [False, False, True], 0.85) == 0.1
    assert learning_rates.largest_good_rate(rates, [0.9, 0.5, 0.9], [False, False, False], 0.85) == 1.0
    assert learning_rates.largest_good_rate(rates, [0.9, 0.9, 0.9], [False, False, True], 0.85) == 0.1
    assert learning_rates.largest_good_rate(rates, [0.2, 0.2, 0.2], [False] * 3, 0.85) == pytest.approx(0.001)
    # reaching the mark exactly counts, in both measures ("at least 85%")
    assert learning_rates.largest_good_rate(rates, [0.9, 0.85, 0.84], [False] * 3, 0.85) == 0.1
    assert learning_rates._trains({"diverged": False, "final_acc": 0.85}, 0.85) == 1.0
    assert learning_rates._trains({"diverged": False, "final_acc": 0.8499}, 0.85) == 0.0
    assert learning_rates._trains({"diverged": True, "final_acc": 0.9}, 0.85) == 0.0


# ------------------------------------------------------------ gradients
def test_first_over_last_in_decades():
    norms = [[1e-3, 1e-2, 1.0], [2e-3, 1e-2, 2.0], [1e-3, 1e-2, 1.0]]
    assert gradients.first_over_last_decades(norms) == pytest.approx(-3.0)
    assert gradients.first_over_last_decades([[5.0, 1.0, 0.5]]) == pytest.approx(1.0)


# ------------------------------------------------------------ the quick runs
@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    docs = {}
    for name in MINE:
        with open(quick_run(tmp_path_factory, name).out / f"{name}.json") as f:
            docs[name] = json.load(f)  # as the README's report reads it: NaN as None, string keys
    return docs


@pytest.mark.parametrize("name", MINE)
def test_each_run_records_its_setup_and_the_experiment_its_design(quick, name):
    doc = quick[name]
    assert isinstance(doc["design"], dict) and doc["design"]
    for r in doc["runs"]:
        setup = r["setup"]
        assert {"lr", "momentum", "batch_size"} <= set(setup)
        assert setup["optimizer"] == "SGD" and setup["epochs"] == doc["epochs"]
    if "lr" in doc["runs"][0]:
        assert all(r["setup"]["lr"] == r["lr"] for r in doc["runs"])
    if "momentum" in doc["runs"][0]:
        assert all(r["setup"]["momentum"] == r["momentum"] for r in doc["runs"])


@pytest.mark.parametrize("name", MINE)
def test_each_runs_setup_is_what_the_designs_optimizer_line_says(quick, name):
    """The design's optimizer line ("SGD lr 0.1, no momentum, batch 64", "SGD momentum 0.9",
    ...) is what each run trained with: its rate, momentum and batch size where it names them."""
    doc = quick[name]
    line = doc["design"].get("optimizer", "")  # (bn-vs-plain's settings name their own, checked elsewhere)
    lr = re.search(r"SGD lr ([\d.e-]+)", line)
    momentum = 0.0 if "no momentum" in line else re.search(r"momentum ([\d.]+)", line)
    batch = re.search(r"batch (\d+)", line)
    for r in doc["runs"]:
        setup = r["setup"]
        if lr:
            assert setup["lr"] == float(lr.group(1)), (line, setup)
        if momentum is not None:
            assert setup["momentum"] == (momentum if momentum == 0.0 else float(momentum.group(1))), (line, setup)
        if batch:
            assert setup["batch_size"] == int(batch.group(1)), (line, setup)
    if name in ("sigmoid", "gradients"):
        assert "no momentum" in line


@pytest.mark.parametrize("name", MINE)
def test_accuracy_verdicts_carry_their_binomial_error(quick, name):
    for v in quick[name]["verdicts"]:
        assert {"mean_diff", "ci95", "wins", "pairs", "diffs"} <= set(v)  # paired_verdict's
        if v["unit"] == "accuracy":
            assert len(v["binomial_se"]) == 2 and all(0 <= se < 0.02 for se in v["binomial_se"])
            assert 0 <= v["better_mean"] <= 1 and 0 <= v["worse_mean"] <= 1
        else:
            assert "binomial_se" not in v


def _pct(x):
    return f"{100 * x:.1f}%"


@pytest.mark.parametrize("name", MINE)
def test_the_summary_reads_its_numbers_from_the_json(quick, name):
    doc = quick[name]
    text = experiments.module(name).summary(doc)
    assert text.strip() and not re.search(r"\bnan\b|\binf\b|None", text)  # (Python's spellings of NaN and Inf)
    v = {x.get("id"): x for x in doc["verdicts"]}
    if name == "bn-vs-plain":
        expected = [_pct(v["article/final"]["better_mean"]), _pct(v["article/final"]["worse_mean"]),
                    f"{v['article/drift']['better_mean']:.2f}", f"{v['article/drift']['worse_mean']:.2f}",
                    f"{v['baseline/drift']['better_mean']:.2f}"]
    elif name == "sigmoid":
        (depth, lr), = doc["grid"]
        final = v[f"{depth}/{lr:g}/final"]
        expected = [_pct(final["better_mean"]), _pct(final["worse_mean"]), f"{doc['epochs'] + 1} epochs"]
    elif name == "weight-init":
        expected = [_pct(v["worst"]["better_mean"]), _pct(v["worst"]["worse_mean"]),
                    f"{v['count']['better_mean']:.1f} of {len(doc['scales'])}"]
        for scale in doc["scales"]:
            accs = [r["final_acc"] for r in doc["runs"] if r["bn"] and r["scale"] == scale]
            expected.append(_pct(sum(accs) / len(accs)))
    elif name == "learning-rates":
        top = max(doc["rates"])
        expected = [f"at lr {top:g}"]
        for m in doc["momenta"]:
            accs = [r["final_acc"] for r in doc["runs"] if r["net"] == "bn" and r["lr"] == top and r["momentum"] == m]
            expected.append(_pct(sum(accs) / len(accs)))
            trained = sum(r["final_acc"] >= doc["good_accuracy"] and not r["diverged"] for r in doc["runs"]
                          if r["net"] == "bn" and r["lr"] == top and r["momentum"] == m)
            expected.append(f"SimpleNetBN reaches {doc['good_accuracy']:.0%} in {trained} of {doc['seeds']} seeds")
    else:
        med = {k: np.median(x) for k, x in doc["first_over_last_decades"].items()}
        expected = [f"{med['sigmoid/plain']:+.1f} decades", f"{med['sigmoid/bn']:+.1f} with it",
                    f"{med['relu/plain']:+.1f} without"]
    for number in expected:
        assert number in text, (number, text)


def test_the_quarter_epoch_accuracies_agree_with_the_epoch_ends(quick):
    """The extra evaluations leave training alone: at each epoch's end they
    give train_run's own accuracy."""
    checked = 0
    for r in quick["sigmoid"]["runs"]:
        assert r["fine_epochs"] == sorted(r["fine_epochs"]) and len(r["fine_epochs"]) == len(r["fine_acc"])
        for at, acc in zip(r["fine_epochs"], r["fine_acc"]):
            if at == int(at):
                assert acc == r["acc"][int(at) - 1]
                checked += 1
        for epoch in r["epochs_to"].values():
            assert epoch is None or epoch in r["fine_epochs"]
    assert checked


def test_the_summaries_follow_the_verdicts(quick):
    """Outcome words come from the verdicts, not from a hard-coded result."""
    doc = json.loads(json.dumps(quick["sigmoid"]))
    for v in doc["verdicts"]:
        v["outcome"] = "reversed"
    assert "the plain net ends higher" in sigmoid.summary(doc)
    for v in doc["verdicts"]:
        v["outcome"] = "shows"
    assert "BN ends higher" in sigmoid.summary(doc)
    doc = json.loads(json.dumps(quick["gradients"]))
    for v in doc["verdicts"]:
        v["outcome"] = "within noise"
    assert "no clear difference" in gradients.summary(doc)


def test_weight_init_verdicts_pair_bn_against_plain_seed_by_seed(quick):
    doc = quick["weight-init"]
    by = {v["id"]: v for v in doc["verdicts"]}
    smallest = min(r["scale"] for r in doc["runs"])

    def at_smallest(bn):
        return [r["final_acc"] for r in sorted(doc["runs"], key=lambda r: r["seed"])
                if r["bn"] is bn and r["scale"] == smallest]

    np.testing.assert_allclose(by["smallest"]["diffs"], np.subtract(at_smallest(True), at_smallest(False)),
                               rtol=1e-12, atol=1e-12)
    for vid, key in (("worst", "worst_accuracy"), ("count", "scales_reaching_good")):
        np.testing.assert_allclose(by[vid]["diffs"],
                                   np.subtract(doc["per_seed"]["bn"][key], doc["per_seed"]["plain"][key]), atol=1e-12)


def test_the_setup_a_run_records_is_the_optimizer_and_loader_that_ran(monkeypatch):
    """The JSON's setup is read as the recipe: each choice it names (rate, momentum,
    Nesterov, weight decay, dampening, batch size) is the one the optimizer was built with."""
    from tinygrad_bn.experiments import common
    from tinygrad_bn.models import SimpleNet

    made = []

    class RecordingSGD(common.optim.SGD):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(common.optim, "SGD", RecordingSGD)
    result = common.train_run(SimpleNet, seed=0, epochs=1, batch_size=500, lr=0.03, momentum=0.5, evaluate=False,
                              compiled=False)
    (opt,) = made
    group, setup = opt.param_groups[0], result["setup"]
    for key in ("lr", "momentum", "nesterov", "weight_decay"):
        assert group[key] == setup[key], key
    assert group["dampening"] == 0 and setup["optimizer"] == "SGD" and setup["batch_size"] == 500


def test_the_bn_vs_plain_histograms_show_the_first_middle_and_last_epochs():
    assert [bn_vs_plain.histogram_epochs(e) for e in (1, 2, 3, 4, 5, 10)] == [
        [1], [1, 2], [1, 3], [1, 2, 4], [1, 2, 5], [1, 5, 10]]


def test_on_step_sees_every_step_and_its_loss_in_compiled_runs_as_in_eager_ones():
    """Experiments measure along the trajectory through on_step (the landscape probes, the
    sharpness checkpoints): a compiled run must call it at every step with the same losses."""
    from tinygrad_bn.experiments import common
    from tinygrad_bn.models import SimpleNet

    seen = {}
    for compiled in (False, True):
        calls = seen[compiled] = []
        common.train_run(SimpleNet, seed=0, epochs=1, batch_size=500, evaluate=False, compiled=compiled,
                         on_step=lambda model, step, loss, calls=calls: calls.append((step, loss)))
    assert [s for s, _ in seen[True]] == list(range(1, 9))  # 4,000 digits in batches of 500
    assert seen[True] == seen[False]


@pytest.mark.parametrize("name", MINE)
def test_a_verdict_compares_in_the_direction_its_claim_names(quick, name):
    """A claim of fewer epochs (or a lower, smaller value) is shown by a negative difference,
    one of a higher value by a positive one: higher_is_better must follow the claim's words."""
    for v in quick[name]["verdicts"]:
        words = set(re.findall(r"[a-z]+", v["claim"].lower()))
        if words & {"fewer", "lower", "smaller", "less"}:
            assert v["higher_is_better"] is False, v["claim"]
        elif words & {"higher", "larger"}:
            assert v["higher_is_better"] is True, v["claim"]


def test_experiments_run_draws_progress_bars_unless_asked_not_to():
    """As the train command: progress bars by default (progress=False for scripts and tests)."""
    import inspect

    params = inspect.signature(experiments.run).parameters
    assert params["progress"].default is True and params["quick"].default is False


@pytest.mark.parametrize("bn", [False, True])
def test_weight_init_draws_each_linear_weight_from_a_centred_normal_of_the_scale(bn):
    """The experiment's init: weights N(0, scale^2), biases 0 (a mean moved off 0
    would test another claim)."""
    from tinygrad_bn import manual_seed, nn
    manual_seed(0)
    for scale in (0.01, 1.0):
        model = weight_init._net(bn, scale)()
        for m in model.modules():
            if isinstance(m, nn.Linear):
                w = m.weight.detach().numpy().astype(float)
                assert abs(w.mean()) < 5 * scale / math.sqrt(w.size)
                assert abs(w.std() / scale - 1) < 0.1
                assert not m.bias.detach().numpy().any()


@pytest.mark.parametrize("outcome", [None, "shows", "reversed", "within noise"])
@pytest.mark.parametrize("name", MINE)
def test_the_summary_is_sentences_whatever_the_verdicts(quick, name, outcome):
    """Each sentence of a summary starts with a capital letter or a number and ends with a
    full stop, for a quick run's results and with every verdict set to each outcome."""
    doc = json.loads(json.dumps(quick[name]))
    if outcome is not None:
        for v in doc["verdicts"]:
            v["outcome"] = outcome
    text = experiments.module(name).summary(doc)
    sentences = re.split(r"(?<=[.!?])\s+(?=\S)", text.strip())
    assert len(sentences) >= 2
    for s in sentences:
        assert (s[0].isupper() or s[0].isdigit()) and s.endswith((".", ".)")), s


def test_the_sigmoid_summary_speaks_of_the_last_mark_from_its_own_verdict(quick):
    """Each mark has its own time-to-mark verdict: the summary's speed clause is the last
    mark's, read from that verdict, not from another mark's."""
    doc = json.loads(json.dumps(quick["sigmoid"]))
    for v in doc["verdicts"]:
        v["outcome"] = "shows"
    last = [v for v in doc["verdicts"] if v["id"].split("/")[-1].startswith("to")][-1]
    last["outcome"] = "reversed"
    assert "the plain net gets to" in sigmoid.summary(doc) and "BN gets to" not in sigmoid.summary(doc)


def test_weight_inits_per_seed_scores_and_verdicts_come_from_that_seeds_runs_of_that_net(quick):
    doc = quick["weight-init"]
    runs = doc["runs"]
    seeds = sorted({r["seed"] for r in runs})
    assert {r["bn"] for r in runs} == {False, True}
    for bn, key in ((True, "bn"), (False, "plain")):
        accs = [[r["final_acc"] for r in runs if r["bn"] is bn and r["seed"] == s] for s in seeds]
        assert all(len(a) == len(doc["design"]["scales"]) for a in accs)
        assert doc["per_seed"][key]["worst_accuracy"] == [weight_init.worst_over_scales(a) for a in accs]
        assert doc["per_seed"][key]["scales_reaching_good"] == [weight_init.scales_reaching(a) for a in accs]
    worst = next(v for v in doc["verdicts"] if v["id"] == "worst")
    diffs = np.array(doc["per_seed"]["bn"]["worst_accuracy"]) - np.array(doc["per_seed"]["plain"]["worst_accuracy"])
    np.testing.assert_allclose(worst["diffs"], diffs, rtol=1e-12, atol=1e-15)


def test_the_data_helper_scales_train_and_test_pixels_alike():
    """'raw' is each split's bundled bytes / 255 (pixels in [0, 1], the articles' input);
    'standardized' is the CLI's MNIST mean and std: the same images and labels in the
    same order, in float32 (N, 784), the test split scaled exactly as the training one."""
    from tinygrad_bn.data.mnist import MNIST_MEAN, MNIST_STD, load_mnist_5k
    from tinygrad_bn.experiments import common
    raw, standardized = common.data("raw"), common.data("standardized")
    images = load_mnist_5k(seed=0, normalize=False)
    for pixels, labels in [(0, 1), (2, 3)]:  # the training split, then the test split
        bytes_ = images[pixels].reshape(len(images[pixels]), -1)
        assert raw[pixels].dtype == standardized[pixels].dtype == np.float32
        np.testing.assert_array_equal(raw[pixels], (bytes_ / 255.0).astype(np.float32))
        assert raw[pixels].min() == 0.0 and raw[pixels].max() == 1.0
        np.testing.assert_array_equal(raw[labels], images[labels])
        np.testing.assert_array_equal(standardized[labels], images[labels])
        np.testing.assert_allclose(standardized[pixels], (raw[pixels] - MNIST_MEAN) / MNIST_STD, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("pixels", ["abc", "Raw", "zzz", ""])
def test_the_data_helper_takes_only_standardized_or_raw_pixels(pixels):
    from tinygrad_bn.experiments import common
    with pytest.raises(ValueError, match=f"data: pixels must be 'standardized' or 'raw', got {pixels!r}"):
        common.data(pixels)
    assert pixels not in common._DATA  # nothing cached for a refused name


def test_learning_rates_counts_diverged_runs_per_net_momentum_and_rate(monkeypatch):
    """diverged_runs["<net>/<momentum>"]["<lr>"] counts that cell's seeds whose loss
    became NaN or Inf, and no other cell's (stand-in runs: the plain net diverges at
    the top rate with momentum for seed 0, the BN net without momentum for both seeds)."""
    from tinygrad_bn.models import SimpleNetBN

    def stand_in(cls, seed, epochs, lr, momentum):
        bn = cls is SimpleNetBN
        diverged = lr == 3.0 and ((not bn and momentum == 0.9 and seed == 0) or (bn and momentum == 0.0))
        acc = float("nan") if diverged else 0.9
        return {"loss": [acc], "acc": [acc], "final_acc": acc, "diverged": diverged, "setup": {}}

    monkeypatch.setattr(learning_rates, "train_run", stand_in)
    monkeypatch.setattr(learning_rates, "_plot", lambda *a, **k: [])
    results = learning_rates.run("unused", seeds=2, epochs=1, progress=False, quick=True)
    assert results["rates"] == [0.003, 0.1, 3.0]
    none = {"0.003": 0, "0.1": 0, "3": 0}
    assert results["diverged_runs"] == {"plain/0": none, "plain/0.9": {**none, "3": 1},
                                        "bn/0": {**none, "3": 2}, "bn/0.9": none}
