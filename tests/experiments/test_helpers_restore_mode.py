"""Every helper that switches a model's mode to evaluate or measure it (the
experiments' accuracy and recorders, the Hessian and landscape probes, the
train-vs-eval evaluations, the CLI's evaluate, SWA's update_bn) hands the model
back in the mode it was given, in train mode and in eval mode, on every
submodule, also when the model raises midway; and those that promise it leave
the parameters and running statistics as they were."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import train
from tinygrad_bn.experiments import bn_vs_plain, common, landscape, sharpness, small_batch, train_vs_eval
from tinygrad_bn.models import SimpleNetBN
from tinygrad_bn.optim import swa_utils

_rng = np.random.default_rng(21)
X = _rng.standard_normal((32, 784)).astype(np.float32)
Y = _rng.integers(0, 10, 32)

# name -> (call(model), whether the model's parameters and buffers come back as they were)
HELPERS = {
    "experiments.common.accuracy": (lambda m: common.accuracy(m, X, Y, batch_size=16), True),
    "train.evaluate": (lambda m: train.evaluate(m, X, Y, batch_size=16), True),
    "bn_vs_plain recorder": (lambda m: bn_vs_plain._recorder("standardized", sample=8)[2](m, 0), True),
    "sharpness.measure": (lambda m: sharpness.measure(m, tg.tensor(X), tg.tensor(Y), 2, 0), True),
    "landscape.probe": (lambda m: landscape.probe(m, tg.tensor(X), tg.tensor(Y), [0.01, 0.1]), True),
    "train_vs_eval.population_accuracy": (lambda m: train_vs_eval.population_accuracy(m, X, X, Y), True),
    "train_vs_eval.batch_statistics_accuracy": (
        lambda m: train_vs_eval.batch_statistics_accuracy(m, X, Y, 16), True),
    "train_vs_eval.train_mode_predictions": (lambda m: train_vs_eval.train_mode_predictions(m, X, 16), True),
    "train_vs_eval.eval_predictions": (lambda m: train_vs_eval.eval_predictions(m, X, 16), True),
    "train_vs_eval._eval_at_batch_1": (lambda m: train_vs_eval._eval_at_batch_1(m, X[:4], Y[:4]), True),
    "small_batch._evaluations": (lambda m: small_batch._evaluations(m, 16, X, X, Y), True),
    "swa_utils.update_bn": (lambda m: swa_utils.update_bn([tg.tensor(X)], m), False),  # recomputes the buffers
}


def trained_model():
    """SimpleNetBN after two SGD steps: running statistics away from their start."""
    tg.manual_seed(0)
    model = SimpleNetBN()
    opt = tg.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(2):
        opt.zero_grad()
        tg.nn.CrossEntropyLoss()(model(tg.tensor(X)), tg.tensor(Y)).backward()
        opt.step()
    return model


def modes(model):
    return [m.training for m in model.modules()]


def state(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("training", [True, False], ids=["train mode", "eval mode"])
@pytest.mark.parametrize("name", list(HELPERS))
def test_a_helper_hands_the_model_back_in_its_mode(name, training):
    call, untouched = HELPERS[name]
    model = trained_model()
    model.train(training)
    before = state(model)
    call(model)
    assert modes(model) == [training] * len(modes(model))
    if untouched:
        after = state(model)
        for k, v in before.items():
            np.testing.assert_array_equal(after[k], v, err_msg=k)


def _boom(module, args):
    raise RuntimeError("a forward that fails midway")


@pytest.mark.parametrize("training", [True, False], ids=["train mode", "eval mode"])
@pytest.mark.parametrize("name", list(HELPERS))
def test_a_helper_hands_the_model_back_in_its_mode_after_an_error(name, training):
    call, _ = HELPERS[name]
    model = trained_model()
    model.train(training)
    for m in model.modules():
        m.register_forward_pre_hook(_boom)
    with pytest.raises(RuntimeError, match="fails midway"):
        call(model)
    assert modes(model) == [training] * len(modes(model))


def test_train_run_puts_every_nth_step_on_a_tape_starting_with_the_first():
    from tinygrad_bn.experiments.common import train_run
    from tinygrad_bn.models import SimpleNet
    taped, steps = [], []
    train_run(SimpleNet, 0, 1, batch_size=500, evaluate=False, tape_every=3,
              on_tape=lambda step, tape: taped.append((step, len(tape.entries))),
              on_step=lambda model, step, loss: steps.append(step))
    assert len(steps) >= 4  # steps are counted from 0: on_step sees the count after each
    assert [s for s, _ in taped] == list(range(0, len(steps), 3))
    assert all(n > 0 for _, n in taped)  # each taped step recorded its ops


@pytest.mark.parametrize("name", ["Batch", "BN", "abc", "", "batchnorm"])
def test_norm_layer_refuses_a_name_it_does_not_know(name):
    from tinygrad_bn.experiments.common import norm_layer
    with pytest.raises(ValueError, match=f"mlp: norm must be one of batch, layer, group, instance or None, got {name!r}"):
        norm_layer(name, 8, 4)
