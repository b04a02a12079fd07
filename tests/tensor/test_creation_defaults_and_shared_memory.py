"""Creation functions at their defaults and smallest sizes, against PyTorch's values:
randint(high, size) draws from 0 and takes a range of one integer, randperm of 0 and 1,
as_tensor shares a NumPy array's memory when asked for its own dtype (and copies for
another), full takes a 0-d tensor's number and refuses a larger tensor, and the
*_like functions keep the tensor's dtype unless told another."""
import re

import numpy as np
import pytest

import tinygrad_bn as tg


def test_randint_with_high_alone_draws_from_zero():
    """torch.randint(3, (2000,)) takes every value of 0, 1, 2 (each misses 2000 draws with
    probability (2/3)^2000); randint(5, 6, size) is all 5s (a range of one integer)."""
    g = tg.Generator().manual_seed(7)
    draws = tg.randint(3, (2000,), generator=g)
    assert draws.dtype == tg.int64 and set(draws.tolist()) == {0, 1, 2}
    assert set(tg.randint(3, size=(2000,), generator=g).tolist()) == {0, 1, 2}
    assert tg.randint(5, 6, (4,), generator=g).tolist() == [5, 5, 5, 5]
    assert tg.randint(-2, -1, (2,)).tolist() == [-2, -2]


def test_randperm_of_zero_and_one():
    """torch.randperm(0) is an empty int64 tensor and torch.randperm(1) is [0]."""
    empty = tg.randperm(0)
    assert empty.shape == (0,) and empty.dtype == tg.int64
    assert tg.randperm(1).tolist() == [0]
    assert sorted(tg.randperm(5, dtype=tg.int32).tolist()) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match=re.escape("randperm: n must be a non-negative int, got -1")):
        tg.randperm(-1)


def test_as_tensor_shares_an_arrays_memory_when_asked_for_its_own_dtype():
    """torch.as_tensor(a, dtype=torch.float64) of a float64 array a shares its memory (a write
    to a shows), with dtype=torch.float32 it copies."""
    a = np.arange(3.0)
    shared, copied = tg.as_tensor(a, dtype=tg.float64), tg.as_tensor(a, dtype=tg.float32)
    plain = tg.as_tensor(a)
    a[0] = 9.0
    assert shared.tolist() == [9.0, 1.0, 2.0] and plain.tolist() == [9.0, 1.0, 2.0]
    assert copied.tolist() == [0.0, 1.0, 2.0] and copied.dtype == tg.float32


def test_full_takes_a_0d_tensors_number_and_refuses_a_larger_tensor():
    """A 0-d tensor reads as its number (as PyTorch reads one as a Scalar): an int one gives int64,
    a float one the default float dtype."""
    ints = tg.full((2,), tg.tensor(3))
    assert ints.tolist() == [3, 3] and ints.dtype == tg.int64
    floats = tg.full((2, 1), tg.tensor(2.5))
    assert floats.tolist() == [[2.5], [2.5]] and floats.dtype == tg.float32
    with pytest.raises(RuntimeError, match=re.escape("full: fill_value must be a number or a 0-d tensor, got a "
                                                     "tensor of shape (2,)")):
        tg.full((2,), tg.tensor([1.0, 2.0]))


@pytest.mark.parametrize("value, dtype", [(3, tg.int64), (2.5, tg.float32), (True, tg.bool),
                                          (np.int8(1), tg.int64), (np.int64(3), tg.int64),
                                          (np.float32(2.5), tg.float32), (np.True_, tg.float32)])
def test_full_infers_pytorchs_dtype_from_the_fill_value(value, dtype):
    """torch.full((2,), v).dtype for each v: Python and NumPy ints give int64, floats float32,
    a Python bool bool and NumPy's bool float32."""
    out = tg.full((2,), value)
    assert out.dtype == dtype and out.shape == (2,)
    assert out.tolist() == [value] * 2


@pytest.mark.parametrize("like", [tg.zeros_like, tg.ones_like, tg.empty_like])
def test_like_functions_keep_the_tensors_dtype_and_shape_unless_told(like):
    """torch.zeros_like(int32 tensor) is int32; dtype= overrides it; requires_grad is refused for
    an integer dtype as for the plain functions."""
    t = tg.zeros(2, 3, dtype=tg.int32)
    assert like(t).dtype == tg.int32 and like(t).shape == (2, 3)
    assert like(t, dtype=tg.float64).dtype == tg.float64
    assert like(t, dtype=tg.float64, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients, got int32"):
        like(t, requires_grad=True)


def test_full_like_casts_the_value_to_the_tensors_dtype():
    """torch.full_like(int32 zeros, 2.7) is [2, 2] int32 (truncated); dtype=int64 gives int64."""
    t = tg.zeros(2, dtype=tg.int32)
    out = tg.full_like(t, 2.7)
    assert out.dtype == tg.int32 and out.tolist() == [2, 2]
    assert tg.full_like(tg.zeros(2), 2, dtype=tg.int64).dtype == tg.int64


@pytest.mark.parametrize("n, m, shape", [(3, 0, (3, 0)), (0, 2, (0, 2)), (1, None, (1, 1))])
def test_eye_with_an_empty_side(n, m, shape):
    """torch.eye(3, 0) has shape (3, 0), torch.eye(0, 2) (0, 2), torch.eye(1) is [[1.]]."""
    out = tg.eye(n, m)
    assert out.shape == shape and out.dtype == tg.float32
    assert out.numpy().sum() == min(shape)
