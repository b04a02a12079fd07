"""How ``autograd.Function`` treats what backward returns and when it records, as
PyTorch does: None for an input that needs a gradient leaves that input without one; a
gradient for an input that needs none is dropped; extra trailing Nones are accepted,
anything else extra refused; nothing is recorded under no_grad or when no input needs a
gradient; a ``once_differentiable`` backward run in a create_graph pass accepts a None
for an output that received no gradient."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import autograd


def _make(returned):
    class Scale(autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * 2 + b * 3

        @staticmethod
        def backward(ctx, g):
            return returned(g)

    return Scale


def test_none_for_an_input_that_needs_a_gradient_leaves_it_without_one():
    a = tg.tensor(np.ones(3), requires_grad=True)
    b = tg.tensor(np.ones(3), requires_grad=True)
    _make(lambda g: (g * 2, None)).apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0, 2.0])
    assert b.grad is None


def test_a_gradient_for_an_input_that_needs_none_is_dropped():
    a = tg.tensor(np.ones(3), requires_grad=True)
    b = tg.tensor(np.ones(3))
    (ga,) = tg.autograd.grad(_make(lambda g: (g * 2, g * 3)).apply(a, b).sum(), [a])
    np.testing.assert_array_equal(ga.numpy(), [2.0, 2.0, 2.0])
    assert b.grad is None and not b.requires_grad


def test_extra_trailing_nones_are_accepted_anything_else_extra_refused():
    a = tg.tensor(np.ones(2), requires_grad=True)
    b = tg.tensor(np.ones(2), requires_grad=True)
    _make(lambda g: (g * 2, g * 3, None, None)).apply(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(b.grad.numpy(), [3.0, 3.0])
    with pytest.raises(RuntimeError, match="returned 3 gradients, expected 2"):
        _make(lambda g: (g * 2, g * 3, g)).apply(a, b).sum().backward()
    with pytest.raises(RuntimeError, match="returned 1 gradients, expected 2"):
        _make(lambda g: g * 2).apply(a, b).sum().backward()


def test_nothing_is_recorded_under_no_grad_or_without_an_input_needing_a_gradient():
    fn = _make(lambda g: (g * 2, g * 3))
    a = tg.tensor(np.ones(2), requires_grad=True)
    with tg.no_grad():
        out = fn.apply(a, a)
    assert not out.requires_grad and out.grad_fn is None
    out = fn.apply(tg.tensor(np.ones(2)), tg.tensor(np.ones(2)))
    assert not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.numpy(), [5.0, 5.0])
    out = fn.apply(a, tg.tensor(np.ones(2)))
    assert out.requires_grad and out.grad_fn is not None


class TwoOutputs(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        return x * x, x * 3

    @staticmethod
    @autograd.once_differentiable
    def backward(ctx, g_square, g_triple):
        (x,) = ctx.saved_tensors
        total = 2 * x * g_square
        return total if g_triple is None else total + 3 * g_triple


def test_once_differentiable_takes_a_none_gradient_in_a_create_graph_pass():
    x = tg.tensor(np.array([1.0, 2.0]), requires_grad=True)
    square, _ = TwoOutputs.apply(x)
    (g,) = tg.autograd.grad(square.sum(), x, create_graph=True)  # the second output got no gradient
    np.testing.assert_array_equal(g.detach().numpy(), [2.0, 4.0])
    assert not g.requires_grad  # (no gradient flowing in required grad: nothing to join to the graph, as PyTorch)
