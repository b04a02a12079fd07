"""The results beside the README (docs/experiments, 5 seeds, and its seeds10
rerun) were run with the settings, thresholds, schedules and checkpoints the
code holds now: each recorded run's training setup, each design's constants and
the steps each run measured at are what the experiment's constants and helpers
give. A changed constant would make the published numbers another design."""
import json
import math
from pathlib import Path

import pytest

from tinygrad_bn.experiments import (
    bn_vs_plain,
    common,
    gradients,
    landscape,
    learning_rates,
    sharpness,
    sigmoid,
    small_batch,
    train_vs_eval,
    weight_init,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "experiments"
FOLDERS = [DOCS, DOCS / "seeds10"]
TRAINING_DIGITS = 4000  # load_mnist_5k's split: 4,000 training and 1,000 held-out digits


def _recorded(folder, name):
    path = folder / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    return json.loads(path.read_text())


def _same(recorded, now):
    """Equal, floats within 1e-12 of each other: a float the code computes (a grid
    of step sizes) may end in other bits on the machine that recorded the run."""
    if isinstance(recorded, float) or isinstance(now, float):
        return isinstance(recorded, (int, float)) and math.isclose(recorded, now, rel_tol=1e-12, abs_tol=1e-300)
    if isinstance(recorded, dict) and isinstance(now, dict):
        return recorded.keys() == now.keys() and all(_same(recorded[k], now[k]) for k in recorded)
    if isinstance(recorded, list) and isinstance(now, (list, tuple)):
        return len(recorded) == len(now) and all(_same(a, b) for a, b in zip(recorded, now))
    return recorded == now


def test_recorded_values_are_compared_exactly_but_for_a_floats_last_bits():
    assert _same({"a": [0.25, 3.999999999999998], "b": "x"}, {"a": (0.25, 4.0), "b": "x"})
    assert not _same({"a": [0.25, 3.99]}, {"a": [0.25, 4.0]})
    assert not _same({"a": [1, 2]}, {"a": [1, 2, 3]}) and not _same({"a": 1}, {"b": 1})
    assert not _same("4.0", 4.0) and not _same([1.0], [1.0 + 1e-9])


def _trained_as(run, doc, lr, momentum, batch_size=64, pixels="standardized"):
    """The run's recorded setup is train_run's for these choices (an experiment may add its own keys)."""
    expected = common.training_setup(batch_size, lr, momentum, doc["epochs"], pixels)
    assert {k: run["setup"][k] for k in expected} == expected, run["setup"]


def test_the_split_has_the_training_digits_the_checks_count_on():
    x_train, _, x_test, _ = common.data()
    assert len(x_train) == TRAINING_DIGITS and len(x_test) == common.TEST_DIGITS == 1000


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_bn_vs_plain(folder):
    doc = _recorded(folder, "bn-vs-plain")
    assert doc["settings"] == bn_vs_plain.SETTINGS
    assert {s: d.pop("label") for s, d in doc["design"]["settings"].items()} == {
        s: bn_vs_plain.setting_label(s) for s in bn_vs_plain.SETTINGS}
    assert doc["design"]["settings"] == bn_vs_plain.SETTINGS
    assert f"on the first {bn_vs_plain.SAMPLE} held-out digits" in doc["design"]["drift_measure"]
    for run in doc["runs"]:
        _trained_as(run, doc, **bn_vs_plain.SETTINGS[run["setting"]])
        assert len(run["first_linear_std"]) == doc["epochs"] + 1  # epoch 0 (before training) to the last
        assert run["first_linear_drift"] == pytest.approx(bn_vs_plain.scale_drift(run["first_linear_std"][1:]))
    for h in doc.get("histograms", {}).values():
        assert len(h["edges"]) == bn_vs_plain.HIST_BINS + 1
        assert [int(e) for e in h["counts"]] == bn_vs_plain.histogram_epochs(doc["epochs"])
        assert all(sum(c) == bn_vs_plain.SAMPLE * 64 for c in h["counts"].values())  # every value of 64 units


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_learning_rates(folder):
    doc = _recorded(folder, "learning-rates")
    assert doc["good_accuracy"] == learning_rates.GOOD
    for run in doc["runs"]:
        _trained_as(run, doc, run["lr"], run["momentum"])
    for key, per_seed in doc["largest_good_lr"].items():
        net, m = key.split("/")
        for seed, value in enumerate(per_seed):
            rs = sorted((r for r in doc["runs"] if r["net"] == net and f"{r['momentum']:g}" == m and r["seed"] == seed),
                        key=lambda r: r["lr"])
            assert value == learning_rates.largest_good_rate([r["lr"] for r in rs], [r["final_acc"] for r in rs],
                                                             [r["diverged"] for r in rs])


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_weight_init(folder):
    doc = _recorded(folder, "weight-init")
    assert doc["good_accuracy"] == weight_init.GOOD
    assert doc["design"]["optimizer"] == f"SGD lr {weight_init.LR}, SGD momentum {weight_init.MOMENTUM}, batch 64"
    for run in doc["runs"]:
        _trained_as(run, doc, weight_init.LR, weight_init.MOMENTUM)
    for net, bn in (("plain", False), ("bn", True)):
        accs = [[r["final_acc"] for r in doc["runs"] if r["bn"] == bn and r["seed"] == s] for s in range(doc["seeds"])]
        assert doc["per_seed"][net]["scales_reaching_good"] == [weight_init.scales_reaching(a) for a in accs]
        assert doc["per_seed"][net]["worst_accuracy"] == [weight_init.worst_over_scales(a) for a in accs]


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_sigmoid(folder):
    doc = _recorded(folder, "sigmoid")
    assert doc["marks"] == list(sigmoid.MARKS)
    assert f"every 1/{sigmoid.EVALS_PER_EPOCH} epoch" in doc["design"]["measures"]["epochs_to"]
    per_epoch = sigmoid.EVALS_PER_EPOCH
    for run in doc["runs"]:
        _trained_as(run, doc, run["lr"], 0.0, batch_size=sigmoid.BATCH_SIZE)
        at, fine = run["fine_epochs"], run["fine_acc"]
        assert at == [k / per_epoch for k in range(1, len(at) + 1)]  # every quarter epoch, none skipped
        # measured until the highest mark is reached, and not after
        assert all(a < max(sigmoid.MARKS) for a in fine[:-1])
        assert fine[-1] >= max(sigmoid.MARKS) or len(at) == doc["epochs"] * per_epoch
        assert run["epochs_to"] == {f"{round(100 * m)}": sigmoid.epochs_to(fine, m, at) for m in sigmoid.MARKS}


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_gradients(folder):
    doc = _recorded(folder, "gradients")
    steps = doc["epochs"] * (TRAINING_DIGITS // 64)
    for run in doc["runs"]:
        _trained_as(run, doc, gradients.LR, gradients.MOMENTUM)
        assert run["steps"] == list(range(0, steps, gradients.EVERY))
        assert all(len(n) == len(gradients.WIDTHS) - 1 for n in run["weight_grad_norms"])


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_sharpness(folder):
    doc = _recorded(folder, "sharpness")
    assert doc["hessian_batch"] == sharpness.HESSIAN_BATCH and doc["iterations"] == sharpness.ITERATIONS
    assert doc["settings"] == bn_vs_plain.SETTINGS
    assert doc["stability_threshold"] == {s: sharpness.stability_threshold(c["lr"], c["momentum"])
                                          for s, c in bn_vs_plain.SETTINGS.items()}
    assert f"steps {', '.join(map(str, sharpness.EARLY_STEPS))}, then every quarter epoch" in \
        doc["design"]["checkpoints"]
    for run in doc["runs"]:
        _trained_as(run, doc, **bn_vs_plain.SETTINGS[run["setting"]], batch_size=sharpness.BATCH_SIZE)
        assert run["hessian_steps"] == sharpness.checkpoints(doc["epochs"], TRAINING_DIGITS)


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_landscape(folder):
    doc = _recorded(folder, "landscape")
    assert doc["probe_every"] == landscape.PROBE_EVERY and _same(doc["eta_over_lr"], landscape.ETA_OVER_LR)
    assert doc["settings"] == bn_vs_plain.SETTINGS
    for s, etas in doc["design"]["etas"].items():
        assert etas == pytest.approx([bn_vs_plain.SETTINGS[s]["lr"] * m for m in landscape.ETA_OVER_LR])
    for run in doc["runs"]:
        _trained_as(run, doc, **bn_vs_plain.SETTINGS[run["setting"]], batch_size=landscape.BATCH_SIZE)
        assert run["setup"]["probe_every"] == landscape.PROBE_EVERY
        assert run["setup"]["etas"] == doc["design"]["etas"][run["setting"]]
        assert run["probe_steps"] == landscape.probe_steps(doc["epochs"], TRAINING_DIGITS, landscape.PROBE_EVERY)


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_small_batch(folder):
    doc = _recorded(folder, "small-batch")
    design = doc["design"]
    assert doc["batches"] == design["batches"] == small_batch.BATCHES
    assert doc["group_sweep"] == design["group_sweep"]["groups"] == small_batch.GROUP_SWEEP
    assert design["group_sweep"]["batch"] == min(small_batch.BATCHES)
    assert design["widths"] == small_batch.WIDTHS
    for b in small_batch.BATCHES:
        steps = doc["epochs"] * (TRAINING_DIGITS // b)
        assert design["steps"][str(b)] == steps
        assert design["renorm_warmup"]["steps"][str(b)] == list(train_vs_eval.renorm_warmup(steps))
    for run in doc["runs"]:
        assert run["lr"] == small_batch.lr_for(run["batch"])
        assert run["steps"] == doc["epochs"] * (TRAINING_DIGITS // run["batch"])
        _trained_as(run, doc, small_batch.lr_for(run["batch"]), small_batch.SGD_MOMENTUM, batch_size=run["batch"])
        if run["norm"] in ("group", "instance"):
            assert run["groups"] in small_batch.GROUP_SWEEP
            assert run["groups"] == small_batch.GROUPS or (run["norm"] == "group" and run["batch"] == min(
                small_batch.BATCHES))
        else:
            assert run["groups"] is None
        assert len(run["weight_change"]) == len(small_batch.WIDTHS) - 1


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_train_vs_eval(folder):
    doc = _recorded(folder, "train-vs-eval")
    design = doc["design"]
    assert doc["models"] == list(train_vs_eval.MODELS) and doc["variants"] == train_vs_eval.VARIANTS
    assert design["bn_momentum"] == {label: m for label, (_, m) in train_vs_eval.MODELS.items()}
    steps = doc["epochs"] * (TRAINING_DIGITS // train_vs_eval.BATCH_SIZE)
    assert f"({steps} steps)" in design["training"]
    assert design["renorm_warmup"]["steps"] == list(train_vs_eval.renorm_warmup(steps))
    assert "(start, r_max ramp, d_max ramp) = ({:g}, {:g}, {:g})".format(*train_vs_eval.RENORM_WARMUP_FRACTIONS) \
        in design["renorm_warmup"]["rule"]
    for run in doc["runs"]:
        assert (run["norm"], run["bn_momentum"]) == train_vs_eval.MODELS[run["model"]]
        _trained_as(run, doc, train_vs_eval.LR, train_vs_eval.SGD_MOMENTUM, batch_size=train_vs_eval.BATCH_SIZE)
        assert set(run["accuracy"]) == set(train_vs_eval.VARIANTS) | {train_vs_eval.CHECK}
        assert math.isclose(run["gap_8"], abs(run["accuracy"]["running"] - run["accuracy"]["train mode 8"]))


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_the_designs_built_by_a_function_are_what_it_builds_now(folder):
    """sync-bn and landscape write their design with a function of the run's
    shape: called with the recorded shape, it gives the recorded design."""
    from tinygrad_bn.experiments import sync_bn
    from tinygrad_bn.experiments.common import _plain

    doc = _recorded(folder, "sync-bn")
    recorded = {k: v for k, v in doc["design"].items() if k != "launch"}  # how this run was started
    assert recorded == _plain(sync_bn.design(recorded["world_size"], doc["seeds"], doc["epochs"], False))
    doc = _recorded(folder, "landscape")
    assert _same(doc["design"], _plain(landscape._design(list(doc["settings"]), landscape.PROBE_EVERY,
                                                         landscape.ETA_OVER_LR)))


def test_a_sync_bn_design_without_a_job_leaves_the_batches_it_cannot_know_empty():
    from tinygrad_bn.experiments import sync_bn

    d = sync_bn.design(None, 2, 1, True)
    assert d["world_size"] is None and d["global_batches"] is None and d["lr"] is None
    assert d["per_process_batches"] == sync_bn.QUICK_PER_PROCESS and d["training_digits"] == sync_bn.QUICK_DIGITS
    d = sync_bn.design(4, 2, 1, False)
    assert d["global_batches"] == [4 * b for b in sync_bn.PER_PROCESS]
    assert d["lr"] == {str(4 * b): 0.05 * 4 * b / 64 for b in sync_bn.PER_PROCESS}
