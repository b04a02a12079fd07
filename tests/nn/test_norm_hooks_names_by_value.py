"""The older hook-based ``weight_norm`` / ``spectral_norm`` find their hook by the
parameter's name as a value: a name built at run time (read from a config, a state
dict key, a joined string) removes the hook as the literal does, and registering a
second hook under an equal name is refused as for the same literal."""
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def _built(text):
    """``text`` as a new str object (equal, not identical, to the literal)."""
    out = "".join(list(text))
    assert out == text and out is not text
    return out


def _linear():
    m = nn.Linear(3, 2)
    with tg.no_grad():
        m.weight.data = tg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5)
    return m


@pytest.mark.parametrize("name", ["weight", "bias"])
def test_remove_weight_norm_takes_an_equal_name_built_at_run_time(name):
    m = _linear()
    before = getattr(m, name).detach().numpy().copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m, name=name)
        nn.utils.remove_weight_norm(m, name=_built(name))
    assert not m._forward_pre_hooks
    assert name in dict(m.named_parameters())
    np.testing.assert_allclose(getattr(m, name).detach().numpy(), before, rtol=1e-6, atol=1e-6)


def test_remove_spectral_norm_takes_an_equal_name_built_at_run_time():
    m = _linear()
    nn.utils.spectral_norm(m)
    m(tg.ones(1, 3))
    want = m.weight.detach().numpy().copy()
    nn.utils.remove_spectral_norm(m, name=_built("weight"))
    assert not m._forward_pre_hooks
    assert sorted(dict(m.named_parameters())) == ["bias", "weight"]
    np.testing.assert_allclose(m.weight.detach().numpy(), want, rtol=1e-6)


def test_a_second_hook_under_an_equal_name_is_refused():
    m = _linear()
    nn.utils.spectral_norm(m)
    with pytest.raises(RuntimeError, match="cannot register two spectral_norm hooks"):
        nn.utils.spectral_norm(m, name=_built("weight"))
    m = _linear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        nn.utils.weight_norm(m)
        with pytest.raises(RuntimeError, match="cannot register two weight_norm hooks"):
            nn.utils.weight_norm(m, name=_built("weight"))
