"""What ``autograd.Function.apply`` returns, as in PyTorch: an input that forward returns
as it is comes back as a new tensor on the same values and version counter (a view of
the input, not writable in place; the input itself is left as it was), while an output
forward computed is a tensor of its own that may be changed in place, the change then
part of the graph."""
import numpy as np
import pytest

import tinygrad_bn as tg


class PassThrough(tg.autograd.Function):
    """Returns its inputs as they are, and twice the first."""

    @staticmethod
    def forward(ctx, x, c):
        return x, c, x * 2

    @staticmethod
    def backward(ctx, gx, gc, g2):
        return gx + 2 * g2, None


def _inputs():
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = tg.tensor(np.array([5.0, 6.0]))
    return x, c


def test_a_returned_input_is_a_new_tensor_and_the_input_is_left_as_it_was():
    x, c = _inputs()
    a, b, d = PassThrough.apply(x, c)
    assert a is not x and b is not c
    assert not c.requires_grad and c.grad_fn is None  # the caller's constant is not made part of the graph
    assert x.grad_fn is None and x.is_leaf
    assert a.requires_grad and b.requires_grad and d.requires_grad  # every output of a recorded call (PyTorch)
    np.testing.assert_array_equal(b.detach().numpy(), [5.0, 6.0])


def test_a_returned_input_shares_the_inputs_values_and_version():
    x, c = _inputs()
    a, b, _ = PassThrough.apply(x, c)
    with tg.no_grad():
        x.add_(1)
    assert a._version == x._version == 1
    np.testing.assert_array_equal(a.detach().numpy(), [2.0, 3.0])
    with tg.no_grad():
        c.mul_(2)
    assert b._version == c._version == 1
    np.testing.assert_array_equal(b.detach().numpy(), [10.0, 12.0])


def test_a_returned_input_refuses_an_in_place_change_a_computed_output_takes_one():
    x, c = _inputs()
    a, _, d = PassThrough.apply(x, c)
    with pytest.raises(RuntimeError, match="returned by PassThrough.forward as its input"):
        a.mul_(3)
    d.mul_(3)  # d = 3 * (2 x)
    np.testing.assert_array_equal(d.detach().numpy(), [6.0, 12.0])
    (a.sum() + d.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0 + 6.0, 1.0 + 6.0])
