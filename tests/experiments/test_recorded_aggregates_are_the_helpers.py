"""The tables and verdicts in the results beside the README are what the
experiments' helpers make of the recorded runs: small-batch's accuracy, group
sweep, diagnostics and noise tables, sync-bn's accuracy table, agreement and
verdicts, and sharpness's verdicts, recomputed here from the runs the same JSON
holds. A helper that picked the wrong runs, seeds or statistic would disagree."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from tinygrad_bn.experiments import sharpness, small_batch, sync_bn

DOCS = Path(__file__).resolve().parents[2] / "docs" / "experiments"
FOLDERS = [DOCS, DOCS / "seeds10"]


def _recorded(folder, name):
    path = folder / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    return json.loads(path.read_text())


def _same(recorded, computed):
    """JSON numbers against computed ones (NaN is null in the JSON)."""
    if isinstance(computed, dict):
        assert set(recorded) == {str(k) for k in computed}
        for k, v in computed.items():
            _same(recorded[str(k)], v)
    elif isinstance(computed, (list, tuple)):
        assert len(recorded) == len(computed)
        for a, b in zip(recorded, computed):
            _same(a, b)
    elif isinstance(computed, float) and not math.isfinite(computed):
        assert recorded is None
    elif isinstance(computed, float):
        assert recorded == pytest.approx(computed, rel=1e-12, abs=1e-15)
    else:
        assert recorded == computed


def _verdicts_agree(recorded, computed):
    assert len(recorded) == len(computed)
    for r, c in zip(recorded, computed):
        assert r["claim"] == c["claim"] and r["outcome"] == c["outcome"]
        _same({k: r[k] for k in ("mean_diff", "ci95", "wins", "losses", "pairs", "better_mean", "worse_mean")},
              {k: c[k] for k in ("mean_diff", "ci95", "wins", "losses", "pairs", "better_mean", "worse_mean")})


def test_stats_of_no_finite_value_say_so_and_leave_out_missing_ones():
    assert small_batch._stats([None, float("nan")]) == {"mean": None, "min": None, "max": None, "n": 0}
    assert small_batch._stats([]) == {"mean": None, "min": None, "max": None, "n": 0}
    assert small_batch._stats([None, 1.0, float("inf"), 3.0, 2.0]) == {"mean": 2.0, "min": 1.0, "max": 3.0, "n": 3}


def test_a_runs_value_is_its_accuracy_a_layers_change_or_a_diagnostic():
    r = {"final_acc": 0.9, "weight_change": [1.5, 0.4, 2.0], "diagnostics": {"accuracy": {"population": 0.7}}}
    assert small_batch._value(r, "final_acc") == 0.9
    assert [small_batch._value(r, f"change{i}") for i in range(3)] == [1.5, 0.4, 2.0]
    assert small_batch._value(r, "population") == 0.7
    assert math.isnan(small_batch._value({"weight_change": []}, "change0"))


def test_the_noise_table_has_every_batch_with_curves_after_one_without():
    curve = {"batch_sizes": [2, 4], "mean": [0.5, 0.3], "std": [0.4, 0.2]}
    runs = [{"norm": "batch", "batch": 2, "diagnostics": {"noise": None}},
            {"norm": "layer", "batch": 16, "diagnostics": {"noise": curve}},
            {"norm": "batch", "batch": 16, "diagnostics": {"noise": curve}},
            {"norm": "batch", "batch": 64, "diagnostics": {"noise": curve}}]
    table = small_batch._noise_table(runs, [2, 16, 64])
    assert list(table) == ["16", "64"]
    assert table["64"] == {"batch_sizes": [2, 4], **{k: {"mean": curve[k], "min": curve[k], "max": curve[k]}
                                                     for k in ("mean", "std")}}


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_small_batch_tables(folder):
    doc = _recorded(folder, "small-batch")
    runs, batches, small = doc["runs"], doc["batches"], min(doc["batches"])

    def pick(norm, b, what="final_acc"):
        groups = small_batch.GROUPS if norm in ("group", "instance") else None
        return [small_batch._value(r, what) for r in sorted(runs, key=lambda r: r["seed"])
                if r["norm"] == norm and r["batch"] == b and r["groups"] == groups]

    _same(doc["accuracy"], {n: {b: small_batch._stats(pick(n, b)) for b in batches} for n in small_batch.NORMS})
    _same(doc["groups"], {g: small_batch._stats(small_batch._sweep_values(runs, small, g))
                          for g in doc["group_sweep"]})
    assert small_batch._sweep_values(runs, small, 1) == pick("layer", small)  # one group: the LayerNorm runs
    assert small_batch._sweep_values(runs, small, small_batch.GROUPS) == pick("group", small)
    _same(doc["diagnostics"], {n: {b: {e: small_batch._stats(pick(n, b, e)) for e in small_batch.EVALUATIONS}
                                   for b in batches} for n in ("batch", "renorm")})
    _same(doc["noise"], small_batch._noise_table(runs, batches))
    assert set(doc["noise"]) == {str(b) for b in batches}


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_sync_bn_tables_and_verdicts(folder):
    doc = _recorded(folder, "sync-bn")
    if doc.get("skipped"):
        pytest.skip("sync-bn was not run")
    runs, d = doc["runs"], doc["design"]
    batches, world = d["per_process_batches"], d["world_size"]
    for b in batches:
        for v in sync_bn.VARIANTS:
            accs = sync_bn.finals(runs, v, b)
            by_seed = {r["seed"]: r["final_acc"] for r in runs if r["variant"] == v and r["per_process_batch"] == b}
            assert accs == [by_seed[s] for s in range(doc["seeds"])]  # in seed order
            _same(doc["accuracy"][v][str(b)], {"mean": float(np.mean(accs)), "std": float(np.std(accs))})
        _same(doc["syncbn_vs_global"][str(b)], sync_bn._agreement(runs, b))
        assert doc["syncbn_vs_global"][str(b)]["seeds"] == doc["seeds"]
    _verdicts_agree(doc["verdicts"], sync_bn.verdicts_of(runs, batches, world))


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_sharpness_verdicts(folder):
    doc = _recorded(folder, "sharpness")
    _verdicts_agree(doc["verdicts"], sharpness._verdicts(doc["runs"], list(doc["settings"])))


def test_sharpness_curves_are_geometric_means_over_the_seeds_that_have_a_value():
    runs = [{"setting": "s", "net": "bn", "hessian_steps": [0, 5, 10], "top_eigenvalue": [1.0, 100.0, None]},
            {"setting": "s", "net": "bn", "hessian_steps": [0, 5, 10], "top_eigenvalue": [4.0, 1.0, 10.0]},
            {"setting": "s", "net": "plain", "hessian_steps": [0, 5, 10], "top_eigenvalue": [1e6, 1e6, 1e6]},
            {"setting": "t", "net": "bn", "hessian_steps": [0, 5, 10], "top_eigenvalue": [1e6, 1e6, 1e6]}]
    steps, curve, mine = sharpness._geometric_curve({"runs": runs}, "s", "bn")
    assert steps == [0, 5, 10] and mine == runs[:2]
    np.testing.assert_allclose(curve, [2.0, 10.0, 10.0])


@pytest.mark.parametrize("folder", FOLDERS, ids=["seeds5", "seeds10"])
def test_the_sharpness_summary_counts_bn_runs_starting_at_a_saddle_among_those_measured(folder):
    doc = _recorded(folder, "sharpness")
    bn = [r for r in doc["runs"] if r["net"] == "bn"]
    for r in bn:
        r["dominant_eigenvalue"][0] = 1.0
    bn[0]["dominant_eigenvalue"][0] = -0.5
    bn[1]["dominant_eigenvalue"][0] = -2.0
    bn[2]["dominant_eigenvalue"][0] = None  # not measured
    bn[3]["dominant_eigenvalue"][0] = 0.0  # not negative
    assert f"is negative in 2 of {len(bn) - 1} runs (a saddle)" in sharpness.summary(doc)
