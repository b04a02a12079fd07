"""The small helpers that word the README's numbers and build its experiments
section, at the edges the committed results never reach: missing numbers,
one or no items, a verdict not rerun, a run of exactly two minutes, a README
without the markers, and ``--check`` on a stale and a fresh section."""
import json
import math

import pytest

from tinygrad_bn.experiments import common, report
from tinygrad_bn.experiments.common import join_words, percent, points


def test_join_words_joins_none_one_two_and_three_items():
    assert join_words([]) == ""
    assert join_words(["a"]) == "a"
    assert join_words(["a", "b"]) == "a and b"
    assert join_words(["a", "b", "c"]) == "a, b and c"
    assert join_words([5, 10]) == "5 and 10"


@pytest.mark.parametrize("x, want", [(None, "n/a"), (float("nan"), "n/a"), (float("inf"), "n/a"),
                                     (0.931, "93.1%"), (0.0, "0.0%"), (1.0, "100.0%")])
def test_percent_words_an_accuracy_or_says_it_is_missing(x, want):
    assert percent(x) == want


@pytest.mark.parametrize("x, want", [(None, "n/a"), (float("nan"), "n/a"), (0.013, "+1.3"), (-0.013, "-1.3"),
                                     (0.0, "+0.0"), (-0.0, "+0.0"), (-0.0004, "+0.0"), (0.0004, "+0.0")])
def test_points_are_signed_and_never_minus_zero(x, want):
    assert points(x) == want


def test_withheld_verdicts_keep_their_numbers_and_say_there_is_none():
    vs = [common.paired_verdict("c", [2.0, 4.0, 6.0], [1.0, 2.0, 3.0]), common.paired_verdict("d", [1.0], [0.0])]
    numbers = [dict(v) for v in vs]
    assert common.withhold_verdicts(vs) is vs
    for v, before in zip(vs, numbers):
        assert v["outcome"] == common.QUICK_OUTCOME
        assert {k: x for k, x in v.items() if k != "outcome"} == {k: x for k, x in before.items() if k != "outcome"}


def test_verdict_by_id_finds_the_tagged_verdict_and_names_a_missing_one():
    doc = {"experiment": "sigmoid", "verdicts": [{"claim": "a"}, {"id": "x", "claim": "b"}, {"id": "y", "claim": "c"}]}
    assert common.verdict_by_id(doc, "x")["claim"] == "b"
    assert common.verdict_by_id(doc, "y")["claim"] == "c"
    with pytest.raises(KeyError, match="sigmoid: no verdict with id 'z'"):
        common.verdict_by_id(doc, "z")


def test_binomial_error_of_a_missing_accuracy_is_nan_and_of_a_certain_one_zero():
    assert math.isnan(common.binomial_se(float("nan")))
    assert common.binomial_se(1.0) == 0.0 and common.binomial_se(0.0) == 0.0
    assert common.binomial_se(0.5, n=100) == pytest.approx(0.05)


def test_the_verdict_table_prints_no_interval_for_one_seed_and_the_binomial_errors():
    one = common.paired_verdict("one seed", [0.9], [0.8], accuracy=True)
    row = common.verdict_table([one]).splitlines()[1]
    assert row.split()[4:8] == ["0.1", "-", "1/1", "binomial"] and "[" not in row
    assert "binomial error 0.009 / 0.013" in row
    assert "quick run" not in common.verdict_table([one])


def test_the_quick_run_note_is_there_when_a_verdict_is_withheld_and_only_then():
    assert common.verdict_table([]).splitlines() == [common.verdict_table([]).splitlines()[0]]
    vs = [common.paired_verdict("c", [2.0, 4.0], [1.0, 2.0]), common.paired_verdict("d", [2.0, 4.0], [1.0, 2.0])]
    common.withhold_verdicts(vs[1:])
    assert common.verdict_table(vs).splitlines()[-1].startswith("quick run: no verdict (1 epoch, 2 seeds")


# ------------------------------------------------------------ report
@pytest.mark.parametrize("value, unit, want", [(None, "accuracy", "-"), (float("nan"), "", "-"),
                                               (float("-inf"), "x", "-"), (0.0123, "accuracy", "+1.2"),
                                               (-0.0123, "accuracy", "-1.2"), (0.0123, "decades", "+0.0123"),
                                               (-2.0, "", "-2"), (1234.5, "x", "+1.23e+03")])
def test_report_amounts_are_signed_accuracies_in_points_and_others_to_three_figures(value, unit, want):
    assert report._amount(value, unit) == want


def test_report_units_say_points_for_accuracies_and_keep_others():
    assert report._unit_words({"unit": "accuracy"}) == "points"
    assert report._unit_words({"unit": ""}) == "" and report._unit_words({}) == ""
    assert report._unit_words({"unit": "decades"}) == "decades"


def test_an_outcome_is_bold_when_the_rerun_agrees_and_says_so_when_there_is_none():
    v = {"outcome": "shows", "pairs": 5}
    assert report.outcome_with_stability(v, None) == "shows (not rerun)"
    assert report.outcome_with_stability(v, {"outcome": "shows", "pairs": 10}) == "**shows**"
    assert report.outcome_with_stability(v, {"outcome": "within noise", "pairs": 10}) == \
        "**not established** (5 seeds: shows; 10: within noise)"


def _verdict(claim, **kw):
    v = common.paired_verdict(claim, [0.92, 0.93, 0.94], [0.90, 0.90, 0.91], unit="accuracy", accuracy=True)
    v.update(kw)
    return v


def test_verdict_rows_name_the_rerun_seeds_and_a_claim_not_rerun():
    doc = {"verdicts": [_verdict("rerun claim"), _verdict("new claim")]}
    again = {"seeds": 10, "verdicts": [_verdict("rerun claim")]}
    header, rule, rerun, new = report.verdict_rows(doc, again).splitlines()
    assert header.endswith("| at 10 seeds |") and rule == "|---|---|---|---|---|"
    assert rerun.startswith("| rerun claim | **shows** | +2.7 [") and rerun.endswith("| shows, +2.7 [+1.2, +4.1] |")
    assert " points (each accuracy &plusmn;0.8 / 0.9) | 3 of 3 |" in rerun
    assert new.startswith("| new claim | shows (not rerun) |") and new.endswith("| not rerun |")
    alone = report.verdict_rows(doc, None).splitlines()
    assert alone[0].endswith("| at more seeds |") and all(r.endswith("| not rerun |") for r in alone[2:])


def test_verdict_rows_leave_out_units_and_errors_a_verdict_has_none_of():
    v = common.paired_verdict("c", [2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    row = report.verdict_rows({"verdicts": [v]}, None).splitlines()[2]
    assert "| +2 [-0.484, +4.48] |" in row and "plusmn" not in row


@pytest.mark.parametrize("seconds, want", [(0.4, "0 s"), (59.6, "60 s"), (119.4, "119 s"), (120.0, "2.0 min"),
                                           (441.0, "7.3 min")])
def test_durations_are_seconds_below_two_minutes_and_minutes_from_there(seconds, want):
    assert report._duration(seconds) == want


def test_the_section_is_found_between_its_markers_or_not_at_all():
    section = f"{report.START}\nnumbers\n{report.END}"
    assert report.section_of(f"intro\n{section}\noutro") == section
    assert report.section_of(f"{report.END}\nintro\n{section}\noutro") == section
    assert report.section_of(f"intro\n{report.START}\nno end") is None
    assert report.section_of(f"intro\nno start\n{report.END}") is None
    assert report.section_of("") is None


def test_update_replaces_only_the_section_and_refuses_a_readme_without_one(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.START}\nold\n{report.END}\noutro\n")
    new = f"{report.START}\nnew\n{report.END}"
    report.update(str(readme), new)
    assert readme.read_text() == f"intro\n{new}\noutro\n"
    readme.write_text("intro only\n")
    with pytest.raises(ValueError, match="has no experiments section"):
        report.update(str(readme), new)
    assert readme.read_text() == "intro only\n"


def _results(folder, seeds, **extra):
    folder.mkdir()
    v = common.paired_verdict("c", [2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    v["id"] = "sigmoid/ratio"
    doc = {"experiment": "gradients", "title": "T", "seeds": seeds, "epochs": 1, "quick": False, "seconds": 1.0,
           "verdicts": [v], "skipped": "no MPI", **extra}
    (folder / "gradients.json").write_text(json.dumps(doc))
    return folder


def test_a_skipped_experiment_is_said_not_run_with_its_reason(tmp_path):
    text = report.render(str(_results(tmp_path / "a", 5)), str(_results(tmp_path / "b", 10)))
    assert "**gradients**: not run (no MPI)." in text
    assert "at 5 seeds" in text and "second run at 10 seeds" in text and "took 1 s in all" in text
    empty = tmp_path / "none"
    empty.mkdir()
    text = report.render(str(empty), None)
    assert "one run of every experiment at no seeds" in text and "second run at more seeds" in text


def test_a_quick_rerun_is_refused(tmp_path):
    with pytest.raises(ValueError, match="gradients: the rerun at more seeds is a --quick run"):
        report.render(str(_results(tmp_path / "a", 5)), str(_results(tmp_path / "b", 10, quick=True)))


def test_check_fails_on_a_stale_section_and_passes_on_a_fresh_one(tmp_path, capsys):
    a, b = _results(tmp_path / "a", 5), _results(tmp_path / "b", 10)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.START}\nold\n{report.END}\n")
    args = ["--results", str(a), "--again", str(b), "--readme", str(readme)]
    assert report.main(args + ["--check"]) == 1
    assert "stale" in capsys.readouterr().out
    assert report.main(args) == 0
    assert report.section_of(readme.read_text()) == report.render(str(a), str(b))
    assert report.main(args + ["--check"]) == 0
    assert "matches the results" in capsys.readouterr().out
