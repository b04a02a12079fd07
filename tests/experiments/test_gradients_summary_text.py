"""The gradients experiment's README paragraph, from a results document written by
hand: every number is the one the document holds (medians of the per-seed decades,
mean accuracies), the verdict words follow each net's verdict, and when the two nets'
verdicts differ the sentence naming both starts with a capital, like every other."""
import re

import numpy as np
import pytest

from tinygrad_bn.experiments import gradients


def _doc(sigmoid_outcome, relu_outcome):
    decades = {"sigmoid/plain": [-3.0, -2.0, None, -2.5], "sigmoid/bn": [-0.5, -0.25, -0.75],
               "relu/plain": [0.1, 0.3, 0.2], "relu/bn": [0.0, 0.04, 0.02]}
    runs = [{"activation": a, "bn": bn, "final_acc": acc}
            for a, bn, acc in (("sigmoid", False, 0.5), ("sigmoid", False, 0.7), ("sigmoid", True, 0.9),
                               ("sigmoid", True, 0.95), ("relu", False, 0.9), ("relu", True, 0.92))]
    verdicts = [{"id": "sigmoid/ratio", "outcome": sigmoid_outcome}, {"id": "relu/ratio", "outcome": relu_outcome}]
    return {"first_over_last_decades": decades, "runs": runs, "verdicts": verdicts, "epochs": 3, "seeds": 4}


def _sentences(text):
    return [s for s in re.split(r"(?<=\.)\s+", text) if s]


@pytest.mark.parametrize("outcomes", [("shows", "within noise"), ("within noise", "reversed"),
                                      ("shows", None), ("reversed", "reversed")])
def test_every_sentence_starts_with_a_capital(outcomes):
    text = gradients.summary(_doc(*outcomes))
    for s in _sentences(text):
        assert s[0].isupper(), s
    assert text.endswith(".")


def test_two_different_verdicts_are_both_said_in_one_sentence():
    text = gradients.summary(_doc("shows", "within noise"))
    assert ("In the sigmoid net BN raises the first layer's gradient relative to the last's; "
            "in the ReLU net BN makes no clear difference to the first layer's gradient relative to the last's."
            ) in text


def test_a_quick_run_without_a_verdict_says_so_in_its_own_sentence():
    text = gradients.summary(_doc(None, None))
    assert ("In the sigmoid net there is no verdict (quick run); "
            "in the ReLU net there is no verdict (quick run).") in text


def test_one_verdict_for_both_nets_is_said_once():
    text = gradients.summary(_doc("reversed", "reversed"))
    assert "In both nets BN lowers the first layer's gradient relative to the last's." in text


def test_the_numbers_are_the_documents():
    text = gradients.summary(_doc("shows", "shows"))
    # medians of the per-seed decades, None left out; the factor is 10 ** |median|
    assert "sits -2.5 decades" in text and "(a factor of 316)" in text
    assert f"{np.median([-0.5, -0.25, -0.75]):+.1f} with it" in text
    assert "+0.2 without and +0.0 with in the ReLU net" in text
    assert "median over 4 seeds" in text and "Over 3 epochs of SGD" in text
    assert "end at 60.0% held-out accuracy without BN and 92.5% with it." in text
