"""The initializers' numbers: bounds and standard deviations as PyTorch's, and Linear's default initialization."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn

FAN_OUT, FAN_IN = 200, 300


def _initialized(init, **kwargs):
    tg.manual_seed(0)
    w = tg.zeros(FAN_OUT, FAN_IN)
    init(w, **kwargs)
    return w.numpy()


@pytest.mark.parametrize("init, kwargs, bound", [
    (nn.init.xavier_uniform_, {}, math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (nn.init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (nn.init.kaiming_uniform_, {"mode": "fan_in", "nonlinearity": "relu"}, math.sqrt(2) * math.sqrt(3 / FAN_IN)),
    (nn.init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) * math.sqrt(3 / FAN_OUT)),
    (nn.init.uniform_, {"a": -0.3, "b": 0.3}, 0.3),
])
def test_uniform_initializers_fill_their_bound(init, kwargs, bound):
    w = _initialized(init, **kwargs)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound  # 60,000 draws reach the bound


@pytest.mark.parametrize("init, kwargs, std", [
    (nn.init.xavier_normal_, {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (nn.init.kaiming_normal_, {"mode": "fan_in", "nonlinearity": "relu"}, math.sqrt(2 / FAN_IN)),
    (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / FAN_OUT)),
    (nn.init.normal_, {"std": 0.02}, 0.02),
])
def test_normal_initializers_have_their_std(init, kwargs, std):
    w = _initialized(init, **kwargs)
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.02 * std * 3


def test_linear_initializes_as_pytorch():
    tg.manual_seed(0)
    layer = nn.Linear(300, 2000)
    bound = 1 / math.sqrt(300)  # weight (kaiming_uniform_, a = sqrt(5)) and bias both
    for t in (layer.weight, layer.bias):
        a = np.abs(t.detach().numpy())
        assert a.max() <= bound and a.max() > 0.99 * bound
