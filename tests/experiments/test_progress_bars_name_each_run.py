"""Each tick of an experiment's progress bar names the run that just ended (BN or plain,
and the cell it belongs to), and the bar counts to its total, full grid or quick: the
runs are stand-ins here (each model is built and looked at, not trained), and the
experiment is stopped as its bar closes."""
import pytest
from progress_stand_in import bar_of_a_stand_in_run

from tinygrad_bn import nn
from tinygrad_bn.experiments import gradients, sigmoid, weight_init


class _Tape:
    """What gradients' on_tape reads: two Linear weights' gradient norms."""

    def grad_flow(self):
        return [{"shape": [4, 3], "norm": 1.0}, {"shape": [4], "norm": 5.0}, {"shape": [2, 4], "norm": 10.0}]


def _ticks(monkeypatch, module, quick, seeds=2):
    """Run ``module`` with stand-in runs; returns its bar and what each run trained."""
    ran = []

    def stand_in(make_model, seed, epochs, lr=None, **kwargs):
        model = make_model()
        mods = list(model.modules())
        ran.append({"bn": any(isinstance(m, nn.BatchNorm1d) for m in mods),
                    "hidden": sum(isinstance(m, nn.Linear) for m in mods) - 1,
                    "activation": "sigmoid" if any(isinstance(m, nn.Sigmoid) for m in mods) else "relu",
                    "lr": lr, "seed": seed})
        if kwargs.get("on_tape"):
            kwargs["on_tape"](0, _Tape())
        return {"loss": [], "acc": [], "final_acc": 0.5, "diverged": False, "setup": {}}
    bar = bar_of_a_stand_in_run(monkeypatch, module, "train_run", stand_in, seeds, quick)
    assert len(bar.labels) == len(ran) == bar.total
    assert {r["bn"] for r in ran} == {False, True}  # both kinds of net ran
    return bar, ran


def _bn(r):
    return "BN" if r["bn"] else "plain"


@pytest.mark.parametrize("quick", [True, False])
def test_sigmoid_ticks_name_depth_bn_and_rate(monkeypatch, quick):
    bar, ran = _ticks(monkeypatch, sigmoid, quick)
    assert bar.labels == [f"{r['hidden']} hidden {_bn(r)} lr {r['lr']}" for r in ran]


@pytest.mark.parametrize("quick", [True, False])
def test_gradients_ticks_name_activation_bn_and_seed(monkeypatch, quick):
    bar, ran = _ticks(monkeypatch, gradients, quick, seeds=3)
    assert bar.labels == [f"{r['activation']} {_bn(r)} seed {r['seed']}" for r in ran]


@pytest.mark.parametrize("quick", [True, False])
def test_weight_init_ticks_name_bn(monkeypatch, quick):
    bar, ran = _ticks(monkeypatch, weight_init, quick, seeds=1)
    assert [label.split(" scale ")[0] for label in bar.labels] == [_bn(r) for r in ran]
