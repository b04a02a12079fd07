"""More of PyTorch's rules for ``autograd.Function``: needs_input_grad holds one flag
per forward argument (True only for a tensor that requires grad); a once-differentiable
backward may return None for a non-tensor argument in a create_graph pass, its tensor
gradients still refusing a second derivative; and the in-place check of a saved tensor
names the versions it found and expected."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import autograd


def test_needs_input_grad_has_one_flag_per_argument_true_only_for_tensors_requiring_grad():
    seen = []

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, a, b, k, c):
            seen.append(ctx.needs_input_grad)
            return a * k + b + c

        @staticmethod
        def backward(ctx, g):
            seen.append(ctx.needs_input_grad)
            return g, None, None, g

    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0])
    c = tg.tensor([0.5, 0.5], requires_grad=True)
    Probe.apply(a, b, 2.0, c).sum().backward()
    assert seen == [(True, False, False, True)] * 2
    assert a.grad.tolist() == [1.0, 1.0] and c.grad.tolist() == [1.0, 1.0] and b.grad is None
    seen.clear()
    Probe.apply(b, b, True, b)  # no tensor requires grad: nothing needs one (and nothing is recorded)
    assert seen == [(False, False, False, False)]


class ScaleOnce(autograd.Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.save_for_backward(x)
        ctx.k = k
        return x * x * k

    @staticmethod
    @autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x * ctx.k, None


def test_a_once_differentiable_backward_returns_none_for_a_number_in_a_create_graph_pass():
    x = tg.tensor([1.0, -2.0], dtype=tg.float64, requires_grad=True)
    y = ScaleOnce.apply(x, 3.0)
    # the gradient reaching ScaleOnce (2 y) carries a graph, so its tensor result is wrapped, its None kept
    (g,) = tg.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [2 * 3.0 * 2 * 3.0, 2 * 12.0 * 2 * -2.0 * 3.0])
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="^ScaleOnce: trying to differentiate twice"):
        g.sum().backward()
    (first,) = tg.grad(ScaleOnce.apply(x, 3.0).sum(), x)  # first order, no graph: a plain gradient
    np.testing.assert_allclose(first.numpy(), [6.0, -12.0])


def test_the_in_place_check_of_a_saved_tensor_names_the_versions():
    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(None, x, y)
            return x * y

        @staticmethod
        def backward(ctx, g):
            none, x, y = ctx.saved_tensors
            assert none is None
            return g * y, g * x

    x = tg.tensor([1.0, 2.0], requires_grad=True) * 1
    y = tg.tensor([3.0, 4.0], requires_grad=True) * 1
    out = Square.apply(x, y)
    with tg.no_grad():
        y.add_(1)
        y.add_(1)
    with pytest.raises(RuntimeError, match=r"^Square \(tape entry #\d+\): saved tensor 2 \(shape \(2,\)\) was modified "
                                           r"by an in-place operation: it is at version 2, expected version 0\."):
        out.sum().backward()
