"""Assigning to a parametrized tensor goes through ``right_inverse``, whose result must
keep ``original``'s dtype exactly, as in PyTorch: a wider or a narrower float, or an
integer, is refused with a ValueError naming both dtypes, and ``original`` keeps its
dtype and values; a value of the same dtype is stored."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.utils import parametrize as P


class _Same(nn.Module):
    """The identity, with the identity as right_inverse: what is assigned is stored as is."""

    def forward(self, x):
        return x

    def right_inverse(self, x):
        return x


def _module(dtype):
    m = nn.Module()
    m.weight = nn.Parameter(tg.tensor(np.arange(6.0).reshape(2, 3).astype(dtype)))
    P.register_parametrization(m, "weight", _Same())
    return m


@pytest.mark.parametrize("have,assign", [(np.float64, np.float32), (np.float32, np.float64),
                                         (np.float32, np.int64), (np.float64, np.int32),
                                         (np.float32, np.float16)])
def test_a_value_of_another_dtype_is_refused_and_original_kept(have, assign):
    m = _module(have)
    original = m.parametrizations["weight"].original
    before = original.detach().numpy().copy()
    with pytest.raises(ValueError, match="dtype"):
        m.weight = tg.tensor(np.ones((2, 3), assign))
    assert original.dtype == tg.tensor(np.zeros(1, have)).dtype
    np.testing.assert_array_equal(original.detach().numpy(), before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_value_of_the_same_dtype_is_stored(dtype):
    m = _module(dtype)
    m.weight = tg.tensor(np.full((2, 3), 7.0, dtype))
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.full((2, 3), 7.0, dtype))
    assert m.parametrizations["weight"].original.dtype == tg.tensor(np.zeros(1, dtype)).dtype
