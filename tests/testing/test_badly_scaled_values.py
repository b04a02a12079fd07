"""The badly scaled draws of the strategies span what their docstrings say.

``arrays(scale="bad")`` is ``offset + spread * unit`` with the offset one of +-1e4,
+-1e3, the spread one of 1e-2, 1 and 10 and the unit values in [-2, 2];
``normalization_inputs(scale="bad")`` is ``offset + spread * (pattern + noise)`` with
the offset one of 1e4, -1e3 and 300, the spread one of 0.1, 1 and 10, a +-1 pattern
and noise in [-0.5, 0.5]. So the farthest value from the offset is at most 2 spreads
away (1.5 for the normalization inputs), and every offset and every spread is drawn
with a value exactly that far: each end is reached and nothing goes past it.
"""
import numpy as np
import pytest
from reaching import reaches

from tinygrad_bn.testing import strategies as tst

ARRAY_OFFSETS = (1e4, -1e4, 1e3, -1e3)
ARRAY_SPREADS = (1e-2, 1.0, 10.0)
NORM_OFFSETS = (1e4, -1e3, 300.0)
NORM_SPREADS = (1e-1, 1.0, 10.0)




def _offset_and_reach(x, offsets):
    """The documented offset nearest the values' mean, and how far the farthest value lies from it."""
    offset = min(offsets, key=lambda o: abs(o - float(np.mean(x))))
    return offset, float(np.abs(x - offset).max())


def _is(value, want):
    return abs(value - want) <= 1e-9 * want


BAD_ARRAYS = tst.arrays(np.float64, (3,), scale="bad")


@pytest.mark.parametrize("offset", ARRAY_OFFSETS)
def test_bad_arrays_reach_each_offset(offset):
    assert reaches(BAD_ARRAYS, lambda a: _offset_and_reach(a, ARRAY_OFFSETS)[0] == offset, max_examples=400)


@pytest.mark.parametrize("spread", ARRAY_SPREADS)
def test_bad_arrays_reach_two_of_each_spread_from_the_offset(spread):
    assert reaches(BAD_ARRAYS, lambda a: _is(_offset_and_reach(a, ARRAY_OFFSETS)[1], 2 * spread), max_examples=400)


def test_bad_arrays_stay_within_two_of_the_largest_spread():
    assert not reaches(BAD_ARRAYS, lambda a: _offset_and_reach(a, ARRAY_OFFSETS)[1] > 2 * 10.0 * (1 + 1e-9), max_examples=400)


BAD_NORM = tst.normalization_inputs("batch", scale="bad", affine=False, max_side=2)


@pytest.mark.parametrize("offset", NORM_OFFSETS)
def test_bad_normalization_inputs_reach_each_offset(offset):
    assert reaches(BAD_NORM, lambda c: _offset_and_reach(c.x, NORM_OFFSETS)[0] == offset, max_examples=400)


@pytest.mark.parametrize("spread", NORM_SPREADS)
def test_bad_normalization_inputs_reach_one_and_a_half_of_each_spread_from_the_offset(spread):
    assert reaches(BAD_NORM, lambda c: _is(_offset_and_reach(c.x, NORM_OFFSETS)[1], 1.5 * spread), max_examples=400)


def test_bad_normalization_inputs_stay_within_one_and_a_half_of_the_largest_spread():
    assert not reaches(BAD_NORM, lambda c: _offset_and_reach(c.x, NORM_OFFSETS)[1] > 1.5 * 10.0 * (1 + 1e-9), max_examples=400)


WELL_ARRAYS = tst.arrays(np.float64, (3,), scale="well")


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_well_scaled_arrays_reach_both_ends_of_minus_two_to_two(sign):
    """The unit values span [-2, 2] on both sides (the bad draws scale the same values)."""
    assert reaches(WELL_ARRAYS, lambda a: (sign * a).max() > 1.9, max_examples=400)
    assert not reaches(WELL_ARRAYS, lambda a: np.abs(a).max() > 2.0, max_examples=400)
