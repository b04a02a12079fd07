"""``register_parametrization`` takes PyTorch's call forms: module, tensor_name and
parametrization by position or by keyword, ``unsafe`` by keyword only."""
import inspect

import numpy as np
import pytest

from tinygrad_bn import nn
from tinygrad_bn.nn.utils import parametrize as P


class _Double(nn.Module):
    def forward(self, x):
        return x * 2


def test_register_parametrization_has_pytorchs_signature():
    """torch.nn.utils.parametrize.register_parametrization(module, tensor_name,
    parametrization, *, unsafe=False)."""
    params = inspect.signature(P.register_parametrization).parameters
    assert list(params) == ["module", "tensor_name", "parametrization", "unsafe"]
    kinds = [p.kind for p in params.values()]
    assert kinds == [inspect.Parameter.POSITIONAL_OR_KEYWORD] * 3 + [inspect.Parameter.KEYWORD_ONLY]
    assert params["unsafe"].default is False


def test_register_parametrization_takes_its_arguments_by_keyword():
    m = nn.Linear(3, 2)
    w = m.weight.detach().numpy().copy()
    P.register_parametrization(module=m, tensor_name="weight", parametrization=_Double())
    np.testing.assert_array_equal(m.weight.detach().numpy(), 2 * w)


def test_unsafe_is_keyword_only():
    m = nn.Linear(3, 2)
    with pytest.raises(TypeError):
        P.register_parametrization(m, "weight", _Double(), True)
    assert not P.is_parametrized(m)
