"""The experiments train with compiled steps (train_run's default): every number
they record is the eager loop's, bit for bit, for every normalization they use,
and a run that diverges stops at the same step."""
import warnings

import numpy as np
import pytest

from tinygrad_bn import nn
from tinygrad_bn.experiments.common import mlp, train_run
from tinygrad_bn.experiments.train_vs_eval import renorm_mlp
from tinygrad_bn.train import compiled_training_step


def _renorm_mlp():
    return nn.Sequential(nn.Linear(784, 32), nn.BatchRenorm1d(32, r_max=2.0, d_max=1.0), nn.ReLU(), nn.Linear(32, 10))


MODELS = {
    "plain sigmoid": lambda: mlp([784, 32, 10], "sigmoid"),
    "batch": lambda: mlp([784, 32, 16, 10], "relu", "batch"),
    "layer": lambda: mlp([784, 32, 10], "relu", "layer"),
    "group": lambda: mlp([784, 32, 10], "relu", "group", 4),
    "instance": lambda: mlp([784, 32, 10], "relu", "instance", 4),
    "renorm": _renorm_mlp,
    # its r_max and d_max ramp up with the step count, read on the host each step: eager, said once
    "renorm warm-up": lambda: renorm_mlp([784, 32, 10], (5, 10, 10)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_compiled_run_records_the_eager_runs_numbers(name):
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        runs = [train_run(MODELS[name], seed=2, epochs=1, batch_size=128, compiled=c) for c in (False, True)]
    eager = [w for w in said if "running the step eagerly" in str(w.message)]
    assert len(eager) == (1 if name == "renorm warm-up" else 0), [str(w.message) for w in eager]
    for key in ("loss", "acc", "final_acc", "diverged", "steps"):
        assert runs[0][key] == runs[1][key], key
    for (k, a), (_, b) in zip(runs[0]["model"].state_dict().items(), runs[1]["model"].state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


@pytest.mark.parametrize("norm", [None, "batch"])
def test_a_diverging_compiled_run_stops_where_the_eager_one_does(norm):
    # without a norm the loss turns non-finite; with batch norm its input does, and it raises
    runs = [train_run(lambda: mlp([784, 32, 10], "relu", norm), seed=0, epochs=1, lr=1e4, compiled=c)
            for c in (False, True)]
    assert runs[0]["diverged"] and runs[1]["diverged"] and runs[0]["steps"] == runs[1]["steps"]
    assert runs[0]["final_acc"] == runs[1]["final_acc"] == 0.1  # a diverged run scores chance (ten classes)
    for (k, a), (_, b) in zip(runs[0]["model"].state_dict().items(), runs[1]["model"].state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)


def test_compiled_says_whether_the_run_trains_through_a_compiled_step(monkeypatch):
    """compiled=True trains through tg.compile's step, compiled=False eagerly, None by the
    run's length (COMPILE_FROM_STEPS): the numbers are alike, so only the steps used tell."""
    from tinygrad_bn.experiments import common

    made = []

    def spy(*args, **kwargs):
        step = compiled_training_step(*args, **kwargs)
        made.append(step)
        return step
    monkeypatch.setattr(common, "compiled_training_step", spy)
    for compiled, steps in ((False, 0), (True, 1)):
        made.clear()
        train_run(lambda: mlp([784, 16, 10]), seed=0, epochs=1, batch_size=512, compiled=compiled)
        assert len(made) == steps, compiled
    monkeypatch.setattr(common, "COMPILE_FROM_STEPS", 10 ** 9)
    made.clear()
    train_run(lambda: mlp([784, 16, 10]), seed=0, epochs=1, batch_size=512)
    assert made == []
    monkeypatch.setattr(common, "COMPILE_FROM_STEPS", 1)
    train_run(lambda: mlp([784, 16, 10]), seed=0, epochs=1, batch_size=512)
    assert len(made) == 1


def test_a_diverged_eager_run_tries_no_batch_after_the_one_that_failed():
    """With batch norm the failing batch raises in the forward pass: the run stops there and
    no later batch of the epoch is tried (one forward in training per step, plus the failed one)."""
    calls = []

    class Counted(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp([784, 32, 10], "relu", "batch")

        def forward(self, x):
            if self.training:
                calls.append(1)
            return self.net(x)
    run = train_run(Counted, seed=0, epochs=1, lr=1e4, compiled=False)
    assert run["diverged"] and len(calls) == run["steps"] + 1
