"""The statistics behind every verdict (paired differences, t intervals,
binomial errors), what a run records about itself, and the README section
written from results: it matches the committed results, and its plots are the
ones those results were drawn with."""
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import report
from tinygrad_bn.experiments.common import (
    QUICK_OUTCOME,
    binomial_se,
    counted,
    environment,
    finite_mean,
    paired_verdict,
    t_quantile_975,
    verdict_table,
)

ROOT = Path(__file__).resolve().parents[2]


def test_counts_in_the_reports_are_singular_at_one_only():
    assert [counted(n, "epoch") for n in (0, 1, 2, 10)] == ["0 epochs", "1 epoch", "2 epochs", "10 epochs"]
    assert counted(1, "seed") == "1 seed" and counted(3, "group") == "3 groups"


def test_finite_mean_leaves_out_none_nan_and_infinities():
    assert finite_mean([1.0, None, float("nan"), 3.0, float("inf"), -float("inf")]) == 2.0
    assert math.isnan(finite_mean([None, float("nan")])) and math.isnan(finite_mean([]))


def test_a_paired_gain_shows_where_the_groups_overlap():
    # seeds differ a lot from each other, the gain within each seed is small and always there:
    # exactly the train-vs-eval case the unpaired rule called "within noise"
    base = np.array([0.80, 0.90, 0.85, 0.70, 0.95, 0.88, 0.76, 0.91, 0.83, 0.87])
    gain = np.array([0.011, 0.009, 0.010, 0.012, 0.008, 0.010, 0.011, 0.009, 0.010, 0.010])
    v = paired_verdict("population beats running", base + gain, base, accuracy=True)
    assert v["outcome"] == "shows" and v["wins"] == 10 and v["losses"] == 0
    assert abs(v["mean_diff"] - gain.mean()) < 1e-12
    assert v["ci95"][0] > 0
    worse = paired_verdict("reversed", base, base + gain)
    assert worse["outcome"] == "reversed" and worse["ci95"][1] < 0
    lower = paired_verdict("lower is better", base, base + gain, higher_is_better=False)
    assert lower["outcome"] == "shows" and lower["mean_diff"] > 0


@pytest.mark.parametrize("better, worse", [(1.0, 2.0), ([[1.0, 2.0]], [[0.5, 1.0]]), ([1.0, 2.0], [1.0])])
def test_a_verdict_needs_two_equal_length_lists(better, worse):
    with pytest.raises(ValueError, match="paired_verdict: 'c' needs two equal-length lists of per-seed values"):
        paired_verdict("c", better, worse)


def test_the_interval_is_students_t_on_the_differences_with_ddof_1():
    v = paired_verdict("c", [2.0, 4.0, 6.0], [1.0, 2.0, 3.0])  # differences 1, 2, 3
    assert v["mean_diff"] == 2.0 and v["sd"] == 1.0  # ddof=1 (ddof=0 would give 0.816)
    half = 4.303 / math.sqrt(3)
    assert np.allclose(v["ci95"], [2 - half, 2 + half])
    assert v["outcome"] == "within noise"  # 3 of 3 won, but 3 seeds this spread cannot exclude 0
    mixed = paired_verdict("c", [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0])
    assert mixed["outcome"] == "within noise" and mixed["wins"] == 2 and mixed["losses"] == 2


def test_one_seed_or_nan_pairs_give_no_interval_and_are_counted():
    one = paired_verdict("c", [0.9], [0.1])
    assert one["outcome"] == "within noise" and one["pairs"] == 1 and math.isnan(one["ci95"][0])
    v = paired_verdict("c", [0.9, np.nan, 0.8, 0.85], [0.1, 0.2, np.nan, 0.15])
    assert v["pairs"] == 2 and v["dropped_pairs"] == 2
    with pytest.raises(ValueError, match="equal-length lists of per-seed values, got shapes \\(2,\\) and \\(3,\\)"):
        paired_verdict("c", [1, 2], [1, 2, 3])


@pytest.mark.parametrize("df, expected", [(1, 12.706), (5, 2.571), (30, 2.042), (40, 2.0211), (60, 2.0003),
                                          (120, 1.9799), (10 ** 6, 1.95997)])
def test_t_quantiles_match_the_tables(df, expected):
    assert abs(t_quantile_975(df) - expected) < 2e-4


def test_binomial_error_of_an_accuracy_on_the_held_out_digits():
    assert abs(binomial_se(0.93) - math.sqrt(0.93 * 0.07 / 1000)) < 1e-15
    assert abs(binomial_se(0.93) - 0.0081) < 1e-4  # the ~0.8 points the issue quotes at 93%
    v = paired_verdict("c", [0.93, 0.94], [0.5, 0.6], accuracy=True)
    assert np.allclose(v["binomial_se"], [binomial_se(0.935), binomial_se(0.55)])


def test_the_table_prints_interval_and_sign_count_and_marks_quick_runs():
    v = paired_verdict("a claim", [2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    table = verdict_table([v])
    assert "a claim" in table and "within noise" in table and "3/3" in table and "[-0.484, 4.48]" in table
    v["outcome"] = QUICK_OUTCOME
    assert "quick run: no verdict" in verdict_table([v])


def test_the_verdict_table_cuts_long_claims_so_its_columns_line_up():
    """A claim takes at most 70 characters; the outcome column starts at the
    same place on every line whatever the claims' lengths."""
    short = paired_verdict("short claim", [2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    long = paired_verdict("a claim of more than seventy characters " * 3, [2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    header, *rows = verdict_table([short, long]).splitlines()
    assert header.index("here") == 71
    for row in rows:
        assert row[70] == " " and row[71:].startswith(short["outcome"][:13])
    assert rows[1][:70] == long["claim"][:70]


def test_the_environment_names_versions_threads_and_the_commit():
    env = environment()
    assert env["numpy"] == np.__version__ and env["numba_threads"] >= 1 and env["cpu_count"] >= 1
    if (ROOT / ".git").exists() and shutil.which("git"):
        assert len(env["commit"]) == 40 and isinstance(env["uncommitted_changes"], bool)


def test_quick_runs_print_no_verdict_and_record_their_setup(tmp_path):
    lines = []
    r = experiments.run("gradients", out=str(tmp_path), quick=True, progress=False, log=lines.append)
    assert all(v["outcome"] == QUICK_OUTCOME for v in r["verdicts"])
    assert "quick run: no verdict" in "\n".join(lines)
    doc = json.loads((tmp_path / "gradients.json").read_text())
    assert doc["environment"]["numba"] and doc["quick"] is True
    for run in doc["runs"]:
        assert {"lr", "momentum", "batch_size", "epochs", "preprocessing", "optimizer"} <= set(run["setup"])
    with pytest.raises(ValueError, match="gradients: the results are from a --quick run"):
        report.render(str(tmp_path), None)


def test_the_report_marks_a_verdict_that_changes_with_the_seeds_as_not_established(tmp_path):
    five, ten = tmp_path / "five", tmp_path / "ten"
    experiments.run("gradients", out=str(five), seeds=2, epochs=1, progress=False, log=lambda *a: None)
    doc = json.loads((five / "gradients.json").read_text())
    ten.mkdir()
    flipped = dict(doc, seeds=10, verdicts=[dict(v, outcome="reversed" if v["outcome"] != "reversed" else "shows")
                                            for v in doc["verdicts"]])
    (ten / "gradients.json").write_text(json.dumps(flipped))
    text = report.render(str(five), str(ten))
    assert text.startswith(report.START) and text.endswith(report.END)
    assert text.count("**not established**") == len(doc["verdicts"])
    assert 'src="docs/experiments/gradients.png"' in text
    (ten / "gradients.json").write_text(json.dumps(doc))  # the same outcomes: established
    assert "not established" not in report.render(str(five), str(ten))
    assert report.stale_plots(str(five), report.load(str(five))) == []
    with open(five / "gradients.png", "ab") as f:
        f.write(b"\0")
    assert report.stale_plots(str(five), report.load(str(five))) == [
        "gradients.png (not the plot gradients.json was written with)"]


COMMITTED = ROOT / report.RESULTS


@pytest.mark.skipif(not (COMMITTED / "bn-vs-plain.json").exists(), reason="no committed results")
def test_the_readme_section_is_the_one_the_committed_results_give(monkeypatch):
    monkeypatch.chdir(ROOT)  # the report's default folders are relative to the checkout
    section = report.render()
    readme = (ROOT / "README.md").read_text()
    assert report.section_of(readme) == section, \
        "README.md's experiments section is stale: python -m tinygrad_bn.experiments.report rewrites it"
    results = report.load(str(COMMITTED))
    assert set(results) == set(experiments.EXPERIMENTS)
    assert report.stale_plots(str(COMMITTED), results) == []
    again = report.load(str(ROOT / report.STABILITY))
    assert set(again) == set(results)
    assert all(doc["seeds"] == 5 for doc in results.values()) and all(doc["seeds"] == 10 for doc in again.values())
