"""The tape engine: accumulation, retain_graph, grad mode, versions, memory,
grad(), custom Functions and hooks."""
import gc
import os
import tracemalloc

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.function import TapeEntry


def test_gradients_accumulate_across_backward_calls():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_shared_subexpression_sums_both_paths():
    x = tg.tensor(3.0, requires_grad=True)
    y = x * x
    z = y * y + y  # dz/dx = (2y + 1) * 2x = 19 * 6
    z.backward()
    assert x.grad.item() == pytest.approx(114.0)


def test_second_backward_needs_retain_graph():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4, 8])
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_backward_on_non_scalar_needs_gradient():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(tg.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2, 20])
    with pytest.raises(RuntimeError, match="shape"):
        (x * 2).backward(tg.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.tensor([1.0]).sum().backward()


def test_no_grad_records_nothing_and_works_as_decorator():
    x = tg.tensor([1.0], requires_grad=True)
    with tg.no_grad():
        y = x * 2
        with tg.enable_grad():
            z = x * 2
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None

    @tg.no_grad()
    def f(t):
        return t * 2

    assert f(x).grad_fn is None
    assert tg.is_grad_enabled()


def test_retain_grad_on_non_leaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6, 12])
    z = x * 3
    (z * z).sum().backward()
    assert z.grad is None  # not retained


def test_grad_function_does_not_touch_dot_grad():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 5
    out = (y * y).sum()
    gx, gy = tg.grad(out, [x, y])
    np.testing.assert_allclose(gx.numpy(), [50, 100])
    np.testing.assert_allclose(gy.numpy(), [10, 20])
    assert x.grad is None
    unused = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad((x * 2).sum(), [unused])
    assert tg.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None


def test_custom_function_lands_on_tape_like_ours():
    class Cube(tg.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g

    x = tg.tensor([2.0], requires_grad=True)
    y = Cube.apply(x)
    assert isinstance(y.grad_fn, TapeEntry) and y.grad_fn.name == "Cube"
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0])


def _doubling_function_with_backward(backward):
    """An array-level Function ``Bad``: forward 2 x, backward ``backward(g)``."""
    class Bad(tg.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return backward(g)

    return Bad


def test_custom_function_wrong_gradient_shape_is_named():
    Bad = _doubling_function_with_backward(lambda g: g[:1])
    with pytest.raises(RuntimeError, match="Bad.backward returned a gradient of shape"):
        Bad.apply(tg.tensor([1.0, 2.0], requires_grad=True)).sum().backward()


@pytest.mark.parametrize("anomaly", [False, True])
@pytest.mark.parametrize("returned", [2.0, [1.0, 1.0]], ids=["float", "list"])
def test_custom_function_gradient_that_is_not_an_array_is_named(returned, anomaly):
    Bad = _doubling_function_with_backward(lambda g: returned)
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    with tg.autograd.set_detect_anomaly(anomaly):
        y = Bad.apply(x)
        with pytest.raises(TypeError, match=f"Bad.backward returned a {type(returned).__name__} as the gradient of "
                                            r"input 0; expected an array of shape \(2,\)"):
            y.sum().backward()
    assert x.grad is None


def test_saved_values_freed_after_backward():
    x = tg.tensor(np.ones(1000), requires_grad=True)
    y = x * x
    entry = y.grad_fn
    assert entry.ctx.saved_bytes() > 0
    y.sum().backward()
    assert entry.ctx._saved is None and entry.ctx.saved_bytes() == 0


def test_inplace_change_of_saved_value_is_detected():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = y * y  # Mul saves y
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"Mul \(tape entry #\d+\).*modified by an in-place operation"):
        z.sum().backward()


def test_inplace_on_parameter_after_forward_is_detected():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    x = tg.tensor([3.0, 4.0], requires_grad=True)
    out = (w * x).sum()
    with tg.no_grad():
        w.mul_(2)  # as an optimizer would, before backward
    with pytest.raises(RuntimeError, match="in-place"):
        out.backward()


def test_inplace_through_view_is_detected():
    x = tg.tensor(np.arange(6.0), requires_grad=True)
    y = x * 1
    v = y.reshape(2, 3)
    z = (y * y).sum()
    v.mul_(2)  # changes y's memory through the view
    with pytest.raises(RuntimeError, match="in-place"):
        z.backward()


def test_inplace_ops_record_and_bump_versions():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    v0 = y._version
    y.add_(3).mul_(2)
    assert y._version == v0 + 2
    y.sum().backward()  # d/dx ((2x + 3) * 2) = 4
    np.testing.assert_allclose(x.grad.numpy(), [4, 4])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        x.add_(1)
    t = tg.zeros(3)
    t.fill_(2).add_(tg.ones(3)).mul_(2)
    np.testing.assert_allclose(t.numpy(), [6, 6, 6])
    t.zero_()
    t.copy_(tg.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(t.numpy(), [1, 2, 3])
    with pytest.raises(RuntimeError, match="copy_"):
        t.copy_(tg.ones(4))


def test_memory_stays_flat_over_10000_forward_passes():
    model = tg.nn.Sequential(tg.nn.Linear(16, 16), tg.nn.ReLU(), tg.nn.Linear(16, 4))
    x = tg.randn(8, 16)
    for _ in range(200):
        model(x).sum()
    gc.collect()
    # only what the package and this test allocate: under pytest-xdist the worker's
    # messaging thread allocates in the same process meanwhile
    ours = [tracemalloc.Filter(True, f"*{os.sep}{d}{os.sep}*") for d in ("tinygrad_bn", "kernels")]
    ours.append(tracemalloc.Filter(True, __file__))

    def traced():
        return sum(stat.size for stat in tracemalloc.take_snapshot().filter_traces(ours).statistics("filename"))

    tracemalloc.start()
    base = traced()
    for i in range(10_000):
        out = model(x).sum()
        if i == 999:
            after_1k = traced()
    gc.collect()
    end = traced()
    tracemalloc.stop()
    assert out.grad_fn is not None
    # the graph of the last pass is alive; nothing else may accumulate
    assert end - after_1k < 64 * 1024, (base, after_1k, end)
    live = sum(type(o) is TapeEntry for o in gc.get_objects())
    assert live < 50


def test_hooks_on_leaf_and_non_leaf():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 2
    y.register_hook(lambda g: g * 10)  # replaces the gradient flowing back
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20, 20])
    np.testing.assert_allclose(seen[0], [20, 20])
    h.remove()
    (x * 1).sum().backward()
    assert len(seen) == 1


def test_device_mismatch_and_unknown_device():
    with pytest.raises(ValueError, match="unknown device"):
        tg.tensor([1.0], device="tpu")
