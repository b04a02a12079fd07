"""Both spectral norms refuse a dim outside the weight's dims with an IndexError that
names the valid range, [-ndim, ndim - 1], as PyTorch's "Dimension out of range
(expected to be in range of [-2, 1], ...)" does; every dim in that range is taken."""
import re

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn.utils import parametrizations


class _Holder(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.weight = nn.Parameter(tg.tensor(np.random.default_rng(0).standard_normal(shape)))


SHAPES = [(3, 4), (2, 3, 4), (2, 2, 3, 2)]


def _bounds(message):
    low, high = re.search(r"\[(-?\d+), (-?\d+)\]", message).groups()
    return int(low), int(high)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("apply", [parametrizations.spectral_norm, nn.utils.spectral_norm],
                         ids=["parametrization", "hook"])
def test_an_out_of_range_dim_names_the_valid_range(shape, apply):
    ndim = len(shape)
    for dim in (ndim, ndim + 3, -ndim - 1):
        with pytest.raises(IndexError) as e:
            apply(_Holder(shape), dim=dim)
        assert _bounds(str(e.value)) == (-ndim, ndim - 1), (dim, str(e.value))
        assert str(dim) in str(e.value)
    for dim in range(-ndim, ndim):
        apply(_Holder(shape), dim=dim)
