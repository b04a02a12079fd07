"""Two schedules no committed result shows directly: ``experiments.run`` with
``quick`` runs one epoch (unless epochs are given) at no more than two seeds,
and passes everything else through; sigmoid's fine curve takes held-out
accuracy at the end of every quarter epoch, at the epoch it falls in, until
the highest mark is reached, and never after."""
import types

import pytest

from tinygrad_bn import experiments
from tinygrad_bn.experiments import sigmoid


@pytest.fixture
def stand_in(monkeypatch, tmp_path):
    """An experiment that records what it was asked to run and returns one verdict."""
    asked = []

    def run(out, *, seeds, epochs, progress, quick):
        asked.append({"seeds": seeds, "epochs": epochs, "progress": progress, "quick": quick})
        return {"verdicts": [{"claim": "c", "outcome": "shows", "mean_diff": 1.0, "ci95": [0.5, 1.5], "wins": 2,
                              "pairs": 2}]}
    mod = types.SimpleNamespace(TITLE="stand-in", DEFAULT_EPOCHS=7, run=run)
    monkeypatch.setattr(experiments, "module", lambda name: mod)
    monkeypatch.setattr(experiments, "environment", dict)

    def call(**kw):
        lines = []
        results = experiments.run("gradients", out=str(tmp_path), log=lines.append, **kw)
        return asked[-1], results, "\n".join(lines)
    return call


@pytest.mark.parametrize("seeds, want", [(1, 1), (2, 2), (5, 2)])
def test_quick_runs_one_epoch_at_two_seeds_at_most(stand_in, seeds, want):
    asked, results, log = stand_in(seeds=seeds, quick=True, progress=False)
    assert asked == {"seeds": want, "epochs": experiments.QUICK_EPOCHS, "progress": False, "quick": True}
    assert results["seeds"] == want and results["epochs"] == 1 and results["quick"] is True
    assert results["verdicts"][0]["outcome"] == "quick run: no verdict"
    assert f"stand-in ({want} seed{'s' * (want != 1)}, 1 epoch, " in log


def test_quick_keeps_epochs_it_is_given_and_a_full_run_its_defaults(stand_in):
    asked, _, _ = stand_in(seeds=5, epochs=3, quick=True)
    assert asked["seeds"] == 2 and asked["epochs"] == 3
    asked, results, log = stand_in()
    assert asked == {"seeds": experiments.DEFAULT_SEEDS, "epochs": 7, "progress": True, "quick": False}
    assert results["verdicts"][0]["outcome"] == "shows" and "quick run" not in log
    assert "stand-in (5 seeds, 7 epochs, " in log


def test_the_fine_curve_is_taken_each_quarter_epoch_until_the_highest_mark(monkeypatch):
    scores = iter([0.2, 0.45, 0.6, 0.7, 0.79, 0.8, 0.95, 0.99])  # reaching the mark exactly counts
    taken = []

    def accuracy(model, x, y):
        taken.append(model)
        return next(scores)
    monkeypatch.setattr(sigmoid, "accuracy", accuracy)
    at, acc, on_step = sigmoid._fine_curve(10, marks=(0.5, 0.8), per_epoch=4)
    for step in range(1, 41):  # four epochs of 10 steps
        on_step(step, step, 1.0)
    # quarters of 10 steps end at steps 2 (2.5 rounds to even), 5, 8 and 10 of each epoch
    assert taken == [2, 5, 8, 10, 12, 15]
    assert at == [0.25, 0.5, 0.75, 1.0, 1.25, 1.5] and acc == [0.2, 0.45, 0.6, 0.7, 0.79, 0.8]
    assert sigmoid.epochs_to(acc, 0.5, at) == 0.75 and sigmoid.epochs_to(acc, 0.8, at) == 1.5


def test_a_fine_curve_that_never_reaches_the_mark_covers_every_quarter(monkeypatch):
    monkeypatch.setattr(sigmoid, "accuracy", lambda model, x, y: 0.3)
    at, acc, on_step = sigmoid._fine_curve(8, marks=(0.5,), per_epoch=4)
    for step in range(1, 25):
        on_step(None, step, 1.0)
    assert at == [k / 4 for k in range(1, 13)] and acc == [0.3] * 12
