"""autograd.Function: custom ops on Tensors as in PyTorch, differentiable twice
when the backward is written in tensor ops, and checked as PyTorch checks them."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import autograd
from tinygrad_bn.testing import gradcheck, gradgradcheck


class Cube(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        assert not tg.is_grad_enabled()  # forward runs with grad mode off, as in PyTorch
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class ScaledExp(autograd.Function):
    """Saves its output and takes a non-tensor argument."""

    @staticmethod
    def forward(ctx, x, scale):
        y = (x * scale).exp()
        ctx.scale = scale
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * ctx.scale, None


class CubeOnce(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    @autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


def x64(*values):
    return tg.tensor(list(values), dtype=tg.float64, requires_grad=True)


def test_first_and_second_derivatives_of_a_tensor_function():
    x = x64(0.5, -1.0, 2.0)
    y = Cube.apply(x)
    assert y.grad_fn.name == "Cube" and y.requires_grad
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 3 * x.detach().numpy() ** 2)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.detach().numpy())
    assert gradcheck(Cube.apply, x) and gradgradcheck(Cube.apply, x)


def test_a_saved_output_joins_the_graph_of_the_second_pass():
    x = x64(0.1, -0.3)
    assert gradgradcheck(lambda t: ScaledExp.apply(t, 1.5), x)


def test_first_order_backward_runs_with_grad_mode_off():
    seen = []

    class Probe(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            seen.append((tg.is_grad_enabled(), g.requires_grad))
            return g * 2

    x = x64(1.0)
    Probe.apply(x).sum().backward()
    tg.grad(Probe.apply(x).sum(), x, create_graph=True)
    assert seen == [(False, False), (True, False)]


def test_once_differentiable_raises_on_a_second_derivative():
    x = x64(1.0, 2.0)
    # the gradient reaching CubeOnce (2 y) carries a graph, so its result does (and refuses to be differentiated)
    (g,) = tg.grad((CubeOnce.apply(x) ** 2).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [6.0, 2 * 8 * 12.0])
    with pytest.raises(RuntimeError, match="^CubeOnce: trying to differentiate twice a function that was marked "
                                           "with @once_differentiable"):
        g.sum().backward()
    CubeOnce.apply(x).sum().backward()  # first order works as usual
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 12.0])


def test_backward_is_checked_as_pytorch_checks_it():
    class TooMany(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g, g

    class WrongShape(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    class GradForNumber(autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    x = x64(1.0, 2.0)
    with pytest.raises(RuntimeError, match="returned 2 gradients, expected 1"):
        TooMany.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="shape"):
        WrongShape.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="non-tensor argument"):
        GradForNumber.apply(x, 2.0).sum().backward()
    with pytest.raises(TypeError, match="positional"):
        Cube.apply(x=x)


def test_an_input_returned_as_it_is_is_a_new_tensor_and_mark_non_differentiable_holds():
    class PassAndIndex(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = tg.tensor([0.0])
            ctx.mark_non_differentiable(idx)
            return x, idx

        @staticmethod
        def backward(ctx, g, g_idx):
            assert g_idx is None or float(g_idx.abs().sum()) == 0.0
            return g * 2

    x = x64(1.0, 3.0)
    y, idx = PassAndIndex.apply(x)
    assert y is not x and y.requires_grad and not idx.requires_grad
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    assert x.grad_fn is None  # the input itself was not rewired


def test_a_list_output_is_returned_as_it_is():
    class ListOut(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return [x * 2, x * 3]

        @staticmethod
        def backward(ctx, g):
            return g

    out = ListOut.apply(x64(1.0))
    assert isinstance(out, list) and len(out) == 2


def test_in_place_change_of_a_saved_tensor_is_caught():
    x = x64(1.0, 2.0)
    y = x * 1
    z = Cube.apply(y)
    with tg.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        z.sum().backward()


def test_a_tensor_function_inside_a_network_trains_like_the_builtin_op():
    rng = np.random.default_rng(0)
    w = tg.tensor(rng.standard_normal((3, 2)), dtype=tg.float64, requires_grad=True)
    x = tg.tensor(rng.standard_normal((5, 3)), dtype=tg.float64)
    Cube.apply(x @ w).sum().backward()
    ours = w.grad.numpy().copy()
    w.grad = None
    ((x @ w) ** 3).sum().backward()
    np.testing.assert_allclose(ours, w.grad.numpy(), rtol=1e-12)


def test_pytorch_2s_setup_context_form():
    class Square(autograd.Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = x64(1.5, -2.0)
    assert gradcheck(Square.apply, x) and gradgradcheck(Square.apply, x)


@pytest.mark.parametrize("position", [0, 1, 2])
def test_an_array_level_op_that_returns_one_of_its_inputs_shares_that_inputs_version(position):
    """PyTorch's rule for an input returned as it is: the output is a new tensor over
    the same memory with the same version counter, so an in-place change of either
    is seen by a backward that saved the other. Every input position counts."""
    from tinygrad_bn.function import Function

    class Pick(Function):
        @staticmethod
        def forward(ctx, a, b, c):
            return (a, b, c)[position]

        @staticmethod
        def backward(ctx, g):
            return tuple(g if i == position else None for i in range(3))

    inputs = [tg.tensor([1.0, 2.0], requires_grad=True) * 1 for _ in range(3)]
    out = Pick.apply(*inputs)
    assert out is not inputs[position] and np.shares_memory(out.detach().numpy(), inputs[position].detach().numpy())
    before = out._version
    inputs[position].add_(1.0)
    assert out._version == inputs[position]._version == before + 1
    for i, t in enumerate(inputs):
        if i != position:
            assert t._version == 0
    loss = (out * out).sum()  # mul saves out
    inputs[position].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        loss.backward()


@pytest.mark.parametrize("saved", [0, 1])
def test_an_array_level_op_with_two_outputs_saves_either_into_the_second_pass(saved):
    """Double backward through an array-level Function that saves one of its two
    outputs: the differentiable one joins the graph whichever position it holds,
    the other (marked non-differentiable) stays a constant."""
    from tinygrad_bn.function import Function

    class ExpAndSign(Function):
        @staticmethod
        def forward(ctx, x):
            be = ctx.backend
            e, sign = be.exp(x), be.sign(x)
            ctx.mark_non_differentiable(sign)
            ctx.save_for_backward(e)
            return (e, sign) if saved == 0 else (sign, e)

        @staticmethod
        def backward(ctx, *grads):
            (e,) = ctx.saved_tensors
            return ctx.backend.mul(grads[saved], e)

    x = x64(0.3, -0.5, 1.2)
    e = ExpAndSign.apply(x)[saved]
    (g,) = tg.grad((e * e).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * np.exp(2 * x.detach().numpy()), rtol=1e-12)
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 4 * np.exp(2 * x.detach().numpy()), rtol=1e-12)
    assert gradgradcheck(lambda t: ExpAndSign.apply(t)[saved], x)


def test_reading_saved_tensors_after_backward_freed_them_is_pytorchs_error():
    """A ctx kept past its backward: its saved tensors are freed, and reading them is
    the 'backward through the graph a second time' error, as in PyTorch."""
    kept = []

    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            kept.append(ctx)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    x = tg.tensor([1.5, -2.0], requires_grad=True)
    (Square.apply(x) * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -12.0])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        kept[0].saved_tensors  # noqa: B018
    y = tg.tensor([2.0], requires_grad=True)  # kept with retain_graph, it can be read again
    out = Square.apply(y).sum()
    out.backward(retain_graph=True)
    np.testing.assert_array_equal(kept[1].saved_tensors[0].detach().numpy(), [2.0])


def test_save_for_backward_takes_tensors_and_none_only_and_names_what_it_got():
    class SavesANumber(autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            ctx.save_for_backward(x, None, scale)
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g, None

    x = x64(1.0, 2.0)
    with pytest.raises(TypeError, match=r"save_for_backward: argument 2 is a float; only tensors \(or None\)"):
        SavesANumber.apply(x, 2.0)
    assert x.grad is None and x._version == 0  # the refusal left the input as it was


@pytest.mark.parametrize("position", [0, 1])
def test_an_array_level_op_with_several_outputs_that_returns_an_input_shares_its_version(position):
    """The same rule where forward returns a tuple: the output that is an input as it is
    shares that input's version counter; the other output has its own."""
    from tinygrad_bn.function import Function

    class PickAndDouble(Function):
        @staticmethod
        def forward(ctx, a, b):
            picked = (a, b)[position]
            return picked, picked * 2

        @staticmethod
        def backward(ctx, g_picked, g_double):
            g = g_picked + 2 * g_double
            return tuple(g if i == position else None for i in range(2))

    inputs = [tg.tensor([1.0, 2.0], requires_grad=True) * 1 for _ in range(2)]
    same, doubled = PickAndDouble.apply(*inputs)
    assert np.shares_memory(same.detach().numpy(), inputs[position].detach().numpy())
    inputs[position].add_(1.0)
    assert same._version == inputs[position]._version == 1 and doubled._version == 0
    loss = (same * same).sum()  # mul saves the output that is the input
    inputs[position].mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation|version"):
        loss.backward()


@pytest.mark.parametrize("way", ["non-differentiable", "not materialized"])
def test_hooks_and_retained_grads_of_a_later_output_run_when_an_earlier_one_gets_no_gradient(way):
    """An op with two outputs of which only the second reaches the loss, the first carrying no
    gradient (marked non-differentiable, or with set_materialize_grads(False)): the second's
    hook and retain_grad still see its gradient."""

    class TwoOutputs(autograd.Function):
        @staticmethod
        def forward(ctx, a):
            first, second = a * 2, a * 3
            if way == "non-differentiable":
                ctx.mark_non_differentiable(first)
            else:
                ctx.set_materialize_grads(False)
            return first, second

        @staticmethod
        def backward(ctx, g_first, g_second):
            assert g_first is None or way == "non-differentiable"
            return g_second * 3

    x = x64(1.0, 2.0)
    _, second = TwoOutputs.apply(x)
    seen = []
    second.register_hook(lambda g: seen.append(g.numpy().copy()))
    second.retain_grad()
    (second * tg.tensor([1.0, -1.0], dtype=tg.float64)).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [1.0, -1.0])
    np.testing.assert_array_equal(second.grad.numpy(), [1.0, -1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])


class _MarksWhatItDoesNotReturn(tg.autograd.Function):
    """Marks its input non-differentiable, which is not an output: nothing to mark."""

    @staticmethod
    def forward(ctx, x):
        ctx.mark_non_differentiable(x)
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * 2


def test_marking_a_non_output_changes_nothing_the_output_needs_grad_as_the_inputs_and_mode_say():
    """mark_non_differentiable on an array the forward does not return leaves the
    output as any other: it needs grad exactly when an input does and grad mode
    is on (never because something was marked)."""
    assert not _MarksWhatItDoesNotReturn.apply(tg.ones(3)).requires_grad
    with tg.no_grad():
        assert not _MarksWhatItDoesNotReturn.apply(tg.ones(3, requires_grad=True)).requires_grad
    x = tg.ones(3, requires_grad=True)
    y = _MarksWhatItDoesNotReturn.apply(x)
    assert y.requires_grad
    y.backward(tg.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
