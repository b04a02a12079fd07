"""``torch.equal``: True only when both tensors have the same shape and the same
values. Shapes that merely broadcast to each other (so that ``==`` is all True)
are not equal."""
import numpy as np
import pytest

import tinygrad_bn as tg


@pytest.mark.parametrize("a, b", [
    (np.ones((2, 3)), np.ones(3)),
    (np.ones(3), np.ones((2, 3))),
    (np.ones((1,)), np.ones(())),
    (np.full((2, 1), 5.0), np.full((1, 2), 5.0)),
    (np.zeros((0,)), np.zeros((3, 0))),
])
def test_broadcasting_shapes_with_equal_values_are_not_equal(a, b):
    x, y = tg.tensor(a), tg.tensor(b)
    assert bool((x == y).all())  # == broadcasts: every pair of values agrees
    assert tg.equal(x, y) is False
    assert x.equal(y) is False


def test_same_shape_and_values_are_equal_and_one_different_value_is_not():
    a = np.arange(6.0).reshape(2, 3)
    assert tg.equal(tg.tensor(a), tg.tensor(a.copy())) is True
    b = a.copy()
    b[1, 2] = -1.0
    assert tg.equal(tg.tensor(a), tg.tensor(b)) is False
