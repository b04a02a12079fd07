"""Casting a tensor that requires grad: to an integer or bool dtype gives a
plain tensor cut from the graph (PyTorch: only floating point tensors can
require grad), the values truncated toward zero; to another float dtype the
cast stays on the graph and passes the gradient back unchanged."""
import numpy as np
import pytest

import tinygrad_bn as tg

X = np.array([1.7, -2.3, 0.0, 3.5])


@pytest.mark.parametrize("cast, dtype", [
    (lambda t: t.to(tg.int64), tg.int64),
    (lambda t: t.to(dtype=tg.int32), tg.int32),
    (lambda t: t.long(), tg.int64),
    (lambda t: t.int(), tg.int32),
    (lambda t: t.to(tg.bool), tg.bool),
])
def test_integer_cast_of_a_tensor_needing_grad_is_off_the_graph(cast, dtype):
    x = tg.tensor(X, requires_grad=True)
    y = cast(x)
    assert y.dtype == dtype
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    np.testing.assert_array_equal(y.numpy(), X.astype(y.numpy().dtype))


def test_float_cast_passes_the_gradient_back():
    x = tg.tensor(X, dtype=tg.float64, requires_grad=True)
    y = x.to(tg.float32)
    assert y.requires_grad and not y.is_leaf
    (y * tg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 2.0, 3.0, 4.0])
    assert x.grad.dtype == tg.float64


def test_integer_cast_without_grad_gives_the_same_values():
    y = tg.tensor(X).to(tg.int64)
    assert not y.requires_grad
    np.testing.assert_array_equal(y.numpy(), [1, -2, 0, 3])
