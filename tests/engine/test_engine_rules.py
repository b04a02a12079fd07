"""Engine rules PyTorch users rely on: what a backward frees, what an in-place
change to a saved value does, how nested grad-mode blocks restore, how
gradients accumulate."""
import numpy as np
import pytest

import tinygrad_bn as tg


def test_grad_frees_the_graph_unless_asked_to_keep_it():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    (g,) = tg.grad(y, [x])
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()
    y2 = (x * x * x).sum()
    tg.grad(y2, [x], retain_graph=True)
    y2.backward()  # kept: a second pass works
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 12.0])
    assert x.grad is not None and g is not x.grad


def test_changing_a_saved_output_in_place_is_caught_at_backward():
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()  # exp saves its output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*version 1, expected version 0"):
        y.sum().backward()


def test_changing_a_saved_input_in_place_is_caught_at_backward():
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    h = x * 2
    y = h * h  # mul saves its inputs
    h.mul_(3.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.sum().backward()


def test_an_in_place_change_to_a_value_nothing_saved_is_fine():
    x = tg.tensor([0.5, 1.0], requires_grad=True)
    h = x + 1  # add saves nothing
    h.mul_(2.0)
    h.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


@pytest.mark.parametrize("outer, inner", [("no_grad", "no_grad"), ("no_grad", "enable_grad"),
                                          ("enable_grad", "no_grad"), ("no_grad", "set_grad_enabled(True)"),
                                          ("set_grad_enabled(False)", "set_grad_enabled(False)")])
def test_nested_grad_mode_blocks_restore_the_mode_they_found(outer, inner):
    def block(name):
        if name.startswith("set_grad_enabled"):
            return tg.set_grad_enabled(name.endswith("(True)"))
        return getattr(tg, name)()

    assert tg.is_grad_enabled()
    with block(outer):
        outer_mode = tg.is_grad_enabled()
        with block(inner):
            assert tg.is_grad_enabled() == (inner in ("enable_grad", "set_grad_enabled(True)"))
        assert tg.is_grad_enabled() == outer_mode
        x = tg.tensor([1.0], requires_grad=True)
        assert (x * 2).requires_grad == outer_mode
    assert tg.is_grad_enabled()


def test_a_decorated_function_restores_the_mode_even_when_it_raises():
    @tg.no_grad()
    def boom():
        assert not tg.is_grad_enabled()
        raise ValueError("inside")

    with pytest.raises(ValueError):
        boom()
    assert tg.is_grad_enabled()


def test_backward_twice_accumulates_and_zeroing_starts_again():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0 + 2.0, 3.0 - 4.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])


def test_a_hook_can_queue_work_for_the_end_of_the_backward_call():
    from tinygrad_bn import engine

    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0], requires_grad=True)
    seen = []

    def hook(grad):
        if not seen:
            engine.queue_callback(lambda: seen.append(("done", a.grad.tolist(), b.grad.tolist())))
        seen.append("hook")

    a.register_hook(hook)
    b.register_hook(hook)
    (a * b).sum().backward()
    assert seen == ["hook", "hook", ("done", [3.0, 3.0], [3.0])]  # after every gradient was delivered
    with pytest.raises(RuntimeError, match="no backward is running"):
        engine.queue_callback(print)
