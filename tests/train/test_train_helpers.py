"""The helpers around the training loop: ``evaluate`` (the share of samples whose largest
logit is the label, over batches of any size, in eval mode with no tape, the model's
mode restored afterwards, also after an error), ``check_writable`` and ``weights_digest``."""
import os

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.train import check_writable, evaluate, weights_digest


class Spy(nn.Module):
    """Identity logits (the prediction is the argmax of the input), noting the mode and
    grad mode of every call; raises on a batch holding a NaN."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(tg.ones(1, dtype=tg.float64))
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, tg.is_grad_enabled(), x.shape[0]))
        if np.isnan(x.detach().numpy()).any():
            raise ValueError("a NaN in the batch")
        return x * self.scale


def _data():
    x = np.random.default_rng(0).standard_normal((20, 3))
    y = x.argmax(1)
    y[13:] = (y[13:] + 1) % 3  # the last 7 labels are wrong: accuracy 13/20
    return x, y


@pytest.mark.parametrize("batch_size, batches", [(7, [7, 7, 6]), (20, [20]), (1000, [20]), (1, [1] * 20)])
def test_evaluate_is_the_accuracy_over_every_sample(batch_size, batches):
    x, y = _data()
    model = Spy()
    assert evaluate(model, x, y, batch_size=batch_size) == 13 / 20
    assert [s[2] for s in model.seen] == batches
    assert all(not training and not grad for training, grad, _ in model.seen)  # eval mode, no tape
    assert model.training  # the mode it had


def test_evaluate_restores_the_mode_it_found_also_after_an_error():
    x, y = _data()
    model = Spy().eval()
    evaluate(model, x, y)
    assert not model.training
    x[15, 0] = np.nan
    model.train()
    with pytest.raises(ValueError, match="a NaN in the batch"):
        evaluate(model, x, y, batch_size=10)
    assert model.training


def test_check_writable_makes_the_folder_leaves_nothing_and_refuses_a_folder(tmp_path):
    target = tmp_path / "runs" / "a" / "model.npz"
    check_writable(str(target))
    assert (tmp_path / "runs" / "a").is_dir() and os.listdir(tmp_path / "runs" / "a") == []
    with pytest.raises(ValueError, match="is a folder"):
        check_writable(str(tmp_path / "runs"))


def test_weights_digest_changes_with_any_value_or_name_and_only_then():
    def model(value=1.0):
        m = nn.Linear(2, 2).double()
        with tg.no_grad():
            m.weight.fill_(value)
            m.bias.fill_(0.0)
        return m

    digest = weights_digest(model())
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert weights_digest(model()) == digest
    assert weights_digest(model(np.nextafter(1.0, 2.0))) != digest  # one bit of one weight
    assert weights_digest(nn.Sequential(model())) != digest  # the same values under other names


def test_evaluate_runs_batches_of_1000_by_default():
    x = np.random.default_rng(1).standard_normal((2500, 3))
    model = Spy()
    assert evaluate(model, x, x.argmax(1)) == 1.0
    assert [s[2] for s in model.seen] == [1000, 1000, 500]
