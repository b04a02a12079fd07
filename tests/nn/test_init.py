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


@pytest.mark.parametrize("make, fan_in", [(lambda: nn.Linear(300, 2000), 300),
                                          (lambda: nn.Bilinear(300, 4, 500), 300)])
def test_layers_initialize_uniformly_on_their_bound_as_pytorch(make, fan_in):
    """Weight and bias uniform on [-1/sqrt(fan_in), 1/sqrt(fan_in)] (Linear's weight
    by kaiming_uniform_ with a = sqrt(5)): both ends reached, mean 0, the std of a
    uniform, and the layer's reset_parameters() draws again."""
    tg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    for t in (layer.weight, layer.bias):
        v = t.detach().numpy()
        assert v.min() >= -bound and v.max() <= bound
        assert v.min() < -0.95 * bound and v.max() > 0.95 * bound, "both ends of the interval"
        assert abs(v.mean()) < 0.1 * bound and abs(v.std() / (bound / math.sqrt(3)) - 1) < 0.1
    before = layer.bias.detach().numpy().copy()
    layer.reset_parameters()
    assert not np.array_equal(layer.bias.detach().numpy(), before)
