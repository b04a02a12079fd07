"""The measures and README sentences of bn-vs-plain, learning-rates,
weight-init and sigmoid at the edges the committed results do not reach: a
zero or infinite std, an accuracy exactly at a threshold, a net that trains at
no rate, seeds that never reach a mark, runs stuck at chance with BN, no run
diverged, and a first epoch BN holds back. The summaries start from the
committed results with one thing changed."""
import copy
import json
import math
from pathlib import Path

import pytest

from tinygrad_bn.experiments import bn_vs_plain, learning_rates, sigmoid, weight_init

DOCS = Path(__file__).resolve().parents[2] / "docs" / "experiments"


def _recorded(name):
    path = DOCS / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} is not in this checkout")
    return copy.deepcopy(json.loads(path.read_text()))


# ------------------------------------------------------------ the measures
def test_scale_drift_uses_only_finite_positive_stds():
    assert bn_vs_plain.scale_drift([0.0, 2.0, 4.0]) == 2.0  # a dead layer's zero std is no scale
    assert bn_vs_plain.scale_drift([float("inf"), 2.0, 3.0]) == 1.5
    assert bn_vs_plain.scale_drift([-1.0, 2.0, 3.0]) == 1.5
    assert math.isnan(bn_vs_plain.scale_drift([0.0, float("inf")])) and math.isnan(bn_vs_plain.scale_drift([]))
    assert bn_vs_plain.scale_drift([5.0]) == 1.0  # one value: it never moved


@pytest.mark.parametrize("epochs, want", [(1, [1]), (2, [1, 2]), (3, [1, 3]), (4, [1, 2, 4]), (10, [1, 5, 10]),
                                          (11, [1, 5, 11])])
def test_the_histograms_show_the_first_middle_and_last_epoch_once_each(epochs, want):
    assert bn_vs_plain.histogram_epochs(epochs) == want


def test_the_setting_labels_name_pixels_rate_and_momentum():
    assert bn_vs_plain.setting_label("baseline") == "standardized pixels, SGD lr 0.05, SGD momentum 0.9"
    assert bn_vs_plain.setting_label("article") == "raw [0, 1] pixels, SGD lr 0.01, no momentum"
    assert learning_rates.momentum_label(0.0) == "no momentum"
    assert learning_rates.momentum_label(0.9) == "SGD momentum 0.9"


def test_a_scale_reaching_the_bar_exactly_counts_and_a_missing_one_does_not():
    assert weight_init.scales_reaching([0.8, 0.79, None, float("nan"), 0.95]) == 2
    assert weight_init.scales_reaching([0.5, 0.6], bar=0.6) == 1
    assert weight_init.scales_reaching([]) == 0
    assert math.isnan(weight_init.worst_over_scales([None, float("nan")]))
    assert weight_init.worst_over_scales([0.9, float("nan"), 0.3]) == 0.3


def test_largest_good_rate_leaves_out_missing_accuracies_and_bounds_from_the_smallest_rate():
    rates = [0.3, 0.03, 3.0]  # not sorted: the bound is a tenth of the smallest
    assert learning_rates.largest_good_rate(rates, [0.2, 0.1, None], [False] * 3) == pytest.approx(0.003)
    assert learning_rates.largest_good_rate(rates, [0.9, 0.9, float("nan")], [False] * 3) == 0.3
    assert learning_rates.largest_good_rate(rates, [0.9, 0.9, 0.9], [False, True, False]) == 3.0
    assert learning_rates._trains({"diverged": False, "final_acc": None}) == 0.0


def test_a_rate_below_the_grid_is_worded_as_a_bound_and_shares_as_counts_of_seeds():
    assert learning_rates._lr(0.0003, [0.003, 0.01]) == "below 0.003"
    assert learning_rates._lr(0.003, [0.003, 0.01]) == "0.003"
    assert learning_rates._count(0.6, 5) == "3" and learning_rates._count(1.0, 5) == "5"
    assert learning_rates._count(0.0, 5) == "0"


def test_sigmoid_marks_are_keyed_by_percent():
    assert [sigmoid._key(m) for m in sigmoid.MARKS] == ["50", "80"]
    assert [sigmoid._key(m) for m in (0.29, 0.57, 0.999)] == ["29", "57", "100"]  # the nearest percent
    assert sigmoid.censored(0, 30) == 0


# ------------------------------------------------------------ the sentences
def _runs(times):
    return [{"epochs_to": {"80": t}} for t in times]


def test_when_the_seeds_reach_a_mark_says_the_median_and_how_many_never_did():
    assert sigmoid._when(_runs([1.0, 2.0, 4.0]), "80", 30) == "reaches 80% after 2 epochs"
    assert sigmoid._when(_runs([1.0, None, 3.0]), "80", 30) == "reaches 80% after 2 epochs (1 of 3 seeds never)"
    assert sigmoid._when(_runs([None, None]), "80", 30) == "never reaches 80% in 30 epochs"
    assert sigmoid._when(_runs([None]), "80", 1) == "never reaches 80% in 1 epoch"


def test_learning_rates_says_when_no_run_diverged_and_a_rate_below_the_grid():
    doc = _recorded("learning-rates")
    for net in doc["diverged_runs"].values():
        for lr in net:
            net[lr] = 0
    doc["largest_good_lr"]["plain/0"] = [min(doc["rates"]) / 10] * doc["seeds"]
    text = learning_rates.summary(doc)
    assert text.count("No run diverged.") == len(doc["momenta"]) and "Diverged:" not in text
    assert f"below {min(doc['rates']):g} without" in text


def test_weight_init_names_runs_stuck_at_chance_in_either_net_and_says_when_none_diverged():
    doc = _recorded("weight-init")
    for net in doc["diverged_runs"].values():
        for sc in net:
            net[sc] = 0
    for r in doc["runs"]:
        r["diverged"] = False
    plain = [r for r in doc["runs"] if not r["bn"]]
    bn = [r for r in doc["runs"] if r["bn"]]
    for r in plain:
        r["final_acc"] = 0.9
    plain[0]["final_acc"] = weight_init.CHANCE_BAND  # at the band: not below it
    plain[1]["final_acc"] = 0.1
    for r in bn:
        r["final_acc"] = 0.9
    bn[-1]["final_acc"] = 0.105
    text = weight_init.summary(doc)
    assert text.endswith("No run diverged.")
    assert (f"1 of {len(plain)} runs without BN stay below 11% without diverging (at std {plain[1]['scale']:g})"
            in text)
    assert f"1 of {len(bn)} runs with BN stay below 11% without diverging (at std {bn[-1]['scale']:g})" in text


def _first_epoch(doc, setting, net, before, after):
    for r in doc["runs"]:
        if r["setting"] == setting and r["net"] == net:
            r["first_linear_std"][:2] = [before, after]


@pytest.mark.parametrize("bn_after, held_back", [(9.0, False), (8.9, True)])
def test_bn_vs_plain_says_bn_holds_back_the_first_jump_only_below_nine_tenths_of_plains(bn_after, held_back):
    doc = _recorded("bn-vs-plain")
    _first_epoch(doc, "baseline", "plain", 1.0, 10.0)
    _first_epoch(doc, "baseline", "bn", 1.0, bn_after)
    text = bn_vs_plain.summary(doc)
    assert f"multiplies it by 10.00 in SimpleNet and {bn_after:.2f} in SimpleNetBN in the baseline" in text
    assert text.endswith("setting).") == held_back
    assert text.endswith("setting): BN does not hold back that first jump.") != held_back


def test_bn_vs_plain_leaves_a_run_with_no_initial_std_out_of_the_first_epoch_factor():
    doc = _recorded("bn-vs-plain")
    _first_epoch(doc, "article", "plain", 2.0, 4.0)
    next(r for r in doc["runs"] if r["setting"] == "article" and r["net"] == "plain")["first_linear_std"][0] = 0.0
    assert "(2.00 and " in bn_vs_plain.summary(doc)
