"""normalization_inputs changes the shape Hypothesis drew only where a normalized
group would otherwise hold fewer than 2 values: shapes whose groups already hold
2 or more (size-1 dims inside a layer's normalized shape, a single channel per
group over a long spatial dim) are drawn as they are, so those edge cases reach
the tests that use the strategy; and within each group the values alternate in sign."""
import numpy as np
import pytest
from hypothesis import given, settings
from reaching import reaches

from tinygrad_bn.testing import strategies as tst


def _group_size(case):
    grouped, axes = case.grouped(case.x)
    return int(np.prod([grouped.shape[a] for a in axes]))


def test_a_layer_norm_over_exactly_two_values_keeps_its_size_1_dims():
    """A normalized shape of 2 values with a size-1 dim ((2, 1), (1, 2), ...) is kept:
    only a normalized shape of a single value is widened to 2."""
    layer = tst.normalization_inputs("layer", scale="well", affine=False, max_side=2)
    assert reaches(layer, lambda c: c.params["normalized_shape"][-1] == 1 and _group_size(c) == 2)


def test_group_norm_with_one_channel_per_group_keeps_a_long_spatial_dim():
    """One channel per group over a spatial dim of 3 or more values is drawn as it is
    (rank 3), and so are groups of exactly 2 values; a dim is appended only where a
    group would hold one value."""
    group = tst.normalization_inputs("group", scale="well", affine=False, max_side=3)
    assert reaches(group, lambda c: c.x.ndim == 3 and c.x.shape[1] == c.params["num_groups"] and c.x.shape[2] >= 3)
    assert reaches(group, lambda c: c.x.ndim == 2 and _group_size(c) == 2)


def test_batch_and_instance_norm_reach_exactly_two_values_per_group():
    """The smallest valid batch (2 samples of one value per channel) and the smallest
    instance (a spatial dim of 2) are drawn: widening stops at 2, not beyond."""
    batch = tst.normalization_inputs("batch", scale="well", affine=False, max_side=3)
    assert reaches(batch, lambda c: c.x.ndim == 2 and c.x.shape[0] == 2)
    instance = tst.normalization_inputs("instance", scale="well", affine=False, max_side=3)
    assert reaches(instance, lambda c: c.x.ndim == 3 and c.x.shape[2] == 2)


@pytest.mark.parametrize("kind", ["batch", "layer", "group", "instance"])
def test_well_scaled_values_alternate_in_sign_along_each_group(kind):
    """Well scaled, each group's flattened values are a +-1 pattern plus noise of at
    most 0.5: consecutive values have opposite signs and magnitudes in [0.5, 1.5]."""

    @settings(max_examples=25, database=None, derandomize=True, deadline=None)
    @given(tst.normalization_inputs(kind, scale="well", affine=False, max_side=3))
    def check(case):
        grouped, axes = case.grouped(case.x)
        rest = [a for a in range(grouped.ndim) if a not in axes]
        rows = np.transpose(grouped, rest + list(axes)).reshape(int(np.prod([grouped.shape[a] for a in rest])), -1)
        assert np.all((np.abs(rows) >= 0.5) & (np.abs(rows) <= 1.5))
        assert np.all(np.sign(rows[:, 1:]) == -np.sign(rows[:, :-1]))

    check()
