"""The deprecated ``range`` (torch.range: end inclusive) gives the dtype it is
asked for, as torch.range(0, 4, dtype=torch.int64) does, and the default float
dtype otherwise; the values run from start to end inclusive."""
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg


def _range(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return tg.range(*args, **kwargs)


@pytest.mark.parametrize("args, dtype, want", [
    ((0, 4), tg.int64, [0, 1, 2, 3, 4]),
    ((1, 2.5, 0.5), tg.float64, [1.0, 1.5, 2.0, 2.5]),
    ((5, 5), tg.int32, [5]),  # one value: the start
    ((3, 0, -1), tg.int64, [3, 2, 1, 0]),
])
def test_range_takes_the_dtype_given(args, dtype, want):
    out = _range(*args, dtype=dtype)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.numpy(), want)


def test_range_without_a_dtype_is_the_default_float():
    out = _range(0, 4)
    assert out.dtype == tg.get_default_dtype()
    np.testing.assert_array_equal(out.numpy(), [0.0, 1.0, 2.0, 3.0, 4.0])
