"""parametrizations.weight_norm renames the older weight_norm's state dict keys
(weight_g, weight_v) only as a pair: one of them alone is left as it is, an unexpected
key, and both new keys are missing, as PyTorch reports it."""
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.parametrizations import weight_norm

MISSING = ["parametrizations.weight.original0", "parametrizations.weight.original1"]


@pytest.mark.parametrize("key, shape", [("weight_g", (2, 1)), ("weight_v", (2, 3))])
def test_one_old_key_alone_is_unexpected_and_both_new_ones_missing(key, shape):
    m = weight_norm(nn.Linear(3, 2))
    g, v = (p.detach().numpy().copy() for p in (m.parametrizations.weight.original0,
                                                m.parametrizations.weight.original1))
    # PyTorch: _IncompatibleKeys(missing_keys=[...original0, ...original1], unexpected_keys=[key])
    result = m.load_state_dict({key: tg.ones(*shape), "bias": tg.zeros(2)}, strict=False)
    assert result.missing_keys == MISSING and result.unexpected_keys == [key]
    assert (m.parametrizations.weight.original0.detach().numpy() == g).all()
    assert (m.parametrizations.weight.original1.detach().numpy() == v).all()
    with pytest.raises(RuntimeError, match=r"missing keys: \[.parametrizations.weight.original0., .parametrizations.weight.original1.\]"):
        m.load_state_dict({key: tg.ones(*shape), "bias": tg.zeros(2)})


def test_the_pair_of_old_keys_loads_under_a_prefix():
    model = nn.Sequential(weight_norm(nn.Linear(3, 2)))
    result = model.load_state_dict({"0.weight_g": tg.full((2, 1), 2.0), "0.weight_v": tg.ones(2, 3),
                                    "0.bias": tg.zeros(2)})
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert model[0].parametrizations.weight.original0.tolist() == [[2.0], [2.0]]
    assert model[0].parametrizations.weight.original1.tolist() == [[1.0] * 3] * 2
