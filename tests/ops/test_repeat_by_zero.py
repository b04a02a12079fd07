"""Tensor.repeat takes 0 as a count, as PyTorch does: that dim of the result is
empty (size 0 * the input's), the others repeat as usual; negative counts are refused."""
import numpy as np
import pytest

import tinygrad_bn as tg

A = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("sizes", [(0, 2), (2, 0), (0, 0), (2, 0, 1), (0, 1, 1)])
def test_a_zero_count_gives_an_empty_dim(sizes):
    out = tg.tensor(A).repeat(*sizes)
    want = np.tile(A, sizes)
    assert out.shape == want.shape
    assert out.numel() == 0


def test_the_gradient_of_an_empty_repeat_is_zero():
    x = tg.tensor(A, requires_grad=True)
    x.repeat(0, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros_like(A))


def test_negative_counts_are_refused():
    with pytest.raises(RuntimeError, match=r"repeat: repeats must be >= 0"):
        tg.tensor(A).repeat(-1, 2)
