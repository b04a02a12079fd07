"""The small-batch README paragraph says whether better statistics at evaluation rescue
batch norm at the small batch from the two verdicts that decide it, as its design
states: population statistics still trailing BN at the large batch ("shows") means
they do not rescue it; otherwise their beating the running statistics ("shows") means
they do; any other pair of outcomes is within noise. Checked on the committed results
with those two outcomes set each way."""
import copy
import itertools
import json
from pathlib import Path

import pytest

from tinygrad_bn.experiments import report, small_batch

COMMITTED = Path(__file__).resolve().parents[2] / report.RESULTS / "small-batch.json"
OUTCOMES = ("shows", "within noise", "reversed")
CAUSES = {"not rescued": "Better statistics at evaluation do not rescue it:",
          "rescued": "Better statistics at evaluation rescue it:",
          "noise": "Whether better statistics at evaluation rescue it is within noise:"}


@pytest.fixture(scope="module")
def doc():
    if not COMMITTED.exists():
        pytest.skip("no committed small-batch results")
    return json.loads(COMMITTED.read_text())


def _with(doc, still, pop):
    d = copy.deepcopy(doc)
    for v in d["verdicts"]:
        if v["id"] == "diag/population-still-trails":
            v["outcome"] = still
        elif v["id"] == "diag/population":
            v["outcome"] = pop
    return d


@pytest.mark.parametrize("still,pop", list(itertools.product(OUTCOMES, OUTCOMES)))
def test_the_cause_sentence_follows_the_two_population_verdicts(doc, still, pop):
    # outcome strings as a JSON load gives them (equal, not the same objects as the code's literals)
    text = small_batch.summary(json.loads(json.dumps(_with(doc, still, pop))))
    want = "not rescued" if still == "shows" else "rescued" if pop == "shows" else "noise"
    said = [k for k, s in CAUSES.items() if s in text]
    assert said == [want], (still, pop, said)
