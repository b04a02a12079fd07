"""Taking the older norm hooks off, and spectral_norm's eps: ``remove_weight_norm`` /
``remove_spectral_norm`` remove only their own kind of hook on the named parameter
(a user's pre-hook, or the other kind of norm hook, stays and keeps running; asking to
remove a kind that is not there is a ValueError); ``eps`` may be any non-negative
number, 0 included."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.utils import parametrizations


def _linear():
    tg.manual_seed(0)
    return nn.Linear(3, 2).double()


def test_removing_weight_norm_leaves_a_users_pre_hook_running():
    lin = _linear()
    calls = []
    lin.register_forward_pre_hook(lambda module, inputs: calls.append(len(inputs)))
    with pytest.warns(FutureWarning):
        nn.utils.weight_norm(lin)
    expected = lin.weight.detach().numpy().copy()
    nn.utils.remove_weight_norm(lin)
    assert isinstance(lin.weight, nn.Parameter) and "weight_g" not in dict(lin.named_parameters())
    np.testing.assert_allclose(lin.weight.detach().numpy(), expected, rtol=1e-15)
    lin(tg.ones(1, 3, dtype=tg.float64))
    assert calls == [1]


def test_removing_a_kind_of_norm_that_is_not_there_is_refused_and_changes_nothing():
    lin = _linear()
    nn.utils.spectral_norm(lin)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(lin)
    assert "weight_orig" in dict(lin.named_parameters())  # the spectral norm is still there
    nn.utils.remove_spectral_norm(lin)
    assert "weight" in dict(lin.named_parameters())
    with pytest.raises(ValueError, match="spectral_norm of 'weight' not found"):
        nn.utils.remove_spectral_norm(lin)


@pytest.mark.parametrize("apply", [nn.utils.spectral_norm, parametrizations.spectral_norm])
def test_eps_zero_is_accepted_a_negative_eps_refused(apply):
    lin = apply(_linear(), eps=0)
    assert np.isfinite(lin.weight.detach().numpy()).all()
    with pytest.raises(ValueError, match="eps must be a non-negative number"):
        apply(_linear(), eps=-1e-12)
