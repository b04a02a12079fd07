"""Autograd programs whose results must match PyTorch's: in-place writes through
views of recorded tensors, recorded values written into tensors that did not
require grad, ``.data`` reassigned before backward, leaf hooks, and the checks
PyTorch makes of a custom Function. Each case is one small program written
against either library (``lib`` is tinygrad_bn or torch); it runs against
PyTorch when PyTorch is installed, and against PyTorch 2.13's results, recorded
below, without it."""
import pytest

import tinygrad_bn as tg


def T(lib, values, grad=False):
    return lib.tensor(values, dtype=lib.float64, requires_grad=grad)


def g(t):
    return None if t.grad is None else t.grad.detach().numpy().tolist()


def view_copy_(lib):
    x = T(lib, [1.0, 2.0, 3.0, 4.0], True); z = T(lib, [5.0, 6.0], True)
    y = x * 2
    y[0:2].copy_(z * 3)
    (y * T(lib, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return g(x), g(z)


def view_zero_(lib):
    x = T(lib, [1.0, 2.0, 3.0, 4.0], True)
    y = x * 2
    y[1:3].zero_()
    (y * T(lib, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return g(x)


def view_mul_(lib):
    x = T(lib, [1.0, 2.0, 3.0, 4.0], True)
    y = x * 2
    y[0:2].mul_(3)
    (y * T(lib, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return g(x)


def view_of_view_setitem(lib):
    x = T(lib, [1.0, 2.0, 3.0, 4.0], True)
    y = x * 2
    y[0:2][0] = 5
    (y * T(lib, [1.0, 2.0, 3.0, 4.0])).sum().backward()
    return g(x)


def buffer_setitem_recorded(lib):
    z = T(lib, [1.0, 2.0], True)
    buf = T(lib, [0.0, 0.0, 0.0])
    buf[0:2] = z * 2
    (buf * T(lib, [1.0, 2.0, 3.0])).sum().backward()
    return buf.requires_grad, g(z)


def buffer_copy_recorded(lib):
    z = T(lib, [1.0, 2.0], True)
    buf = T(lib, [0.0, 0.0])
    buf.copy_(z * 3)
    (buf * T(lib, [1.0, 2.0])).sum().backward()
    return g(z)


def fill_with_grad_scalar(lib):
    s = T(lib, 2.0, True)
    x = T(lib, [1.0, 2.0, 3.0], True)
    y = x * 1
    y.fill_(s)
    (y * T(lib, [1.0, 2.0, 3.0])).sum().backward()
    return g(s), g(x)


def data_reassigned(lib):
    w = T(lib, [1.0, 2.0], True)
    x = T(lib, [3.0, 4.0])
    y = (w * w * x).sum()
    w.data = T(lib, [10.0, 20.0])
    y.backward()
    return g(w)


def leaf_hook_once(lib):
    x = T(lib, [1.0, 2.0], True)
    calls = []
    x.register_hook(lambda gr: calls.append(gr.detach().numpy().tolist()))
    (x * 2 + x * 3).sum().backward()
    return calls


def leaf_hook_in_grad(lib):
    x = T(lib, [1.0, 2.0], True)
    calls = []
    x.register_hook(lambda gr: calls.append(gr.detach().numpy().tolist()))
    (gx,) = lib.autograd.grad((x * 2).sum(), x)
    return calls, gx.numpy().tolist()


CASES = {f.__name__: f for f in [view_copy_, view_zero_, view_mul_, view_of_view_setitem, buffer_setitem_recorded,
                                  buffer_copy_recorded, fill_with_grad_scalar, data_reassigned, leaf_hook_once,
                                  leaf_hook_in_grad]}


def hook_wrong_shape(lib):
    x = T(lib, [1.0, 2.0], True)
    x.register_hook(lambda gr: gr.reshape(1, 2))
    try:
        (x * 2).sum().backward()
    except RuntimeError:
        return "RuntimeError", g(x)
    return "no error", g(x)


def hook_wrong_dtype(lib):
    x = T(lib, [1.0, 2.0], True)
    x.register_hook(lambda gr: gr.to(lib.float32))
    try:
        (x * 2).sum().backward()
    except RuntimeError:
        return "RuntimeError", g(x)
    return "no error", g(x)


def function_returns_a_list(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return [x * 2, x * 3]  # not a tuple: one output that is not a tensor, left as it is

        @staticmethod
        def backward(ctx, a, b):
            return a * 2 + b * 3
    x = T(lib, [1.0, 2.0], True)
    out = F.apply(x)
    return type(out).__name__, [(o.detach().numpy().tolist(), o.requires_grad) for o in out]


def too_many_gradients(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, gr):
            return gr * 2, gr
    x = T(lib, [1.0, 2.0], True)
    try:
        F.apply(x).sum().backward()
    except RuntimeError:
        return "RuntimeError"
    return g(x)


def gradient_for_a_number(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, gr):
            return gr * 2, gr
    x = T(lib, [1.0, 2.0], True)
    try:
        F.apply(x, 2.0).sum().backward()
    except RuntimeError:
        return "RuntimeError"
    return g(x)


def non_differentiable_0d_output(lib):
    class F(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            m = x.sum()
            ctx.mark_non_differentiable(m)
            return x * 2, m

        @staticmethod
        def backward(ctx, gr, gm):
            return gr * 2
    x = T(lib, [1.0, 2.0], True)
    y, m = F.apply(x)
    return y.requires_grad, m.requires_grad


def input_returned_then_changed_in_place(lib):
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, gr):
            return gr * 3
    x = T(lib, [1.0, 2.0], True)
    a = x * 1
    y = Identity.apply(a)
    b = a * a  # saves a
    try:
        y.mul_(2)  # would change a's memory too
        (b.sum() + y.sum()).backward()
    except RuntimeError:
        return "RuntimeError"
    return g(x)


def grad_outputs_fewer_than_outputs(lib):
    x = T(lib, [1.0, 2.0], True)
    y1, y2 = x * 2, x * 3
    try:
        lib.autograd.grad([y1, y2], [x], grad_outputs=[lib.ones(2, dtype=lib.float64)])
    except RuntimeError:
        return "RuntimeError"
    return "no error"


def view_of_leaf_in_place(lib):
    x = T(lib, [1.0, 2.0, 3.0], True)
    try:
        x[0:2].mul_(2)
    except RuntimeError:
        return "RuntimeError"
    return "no error"


def view_chain_reshape_then_slice(lib):
    x = T(lib, [[1.0, 2.0], [3.0, 4.0]], True)
    y = x * 1
    v = y.reshape(4)[1:3]
    v.mul_(T(lib, [10.0, 100.0]))
    (y * T(lib, [[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    return g(x)


def buffer_add_recorded(lib):
    z = T(lib, [1.0, 2.0], True)
    buf = T(lib, [5.0, 6.0])
    buf.add_(z * z)
    (buf * T(lib, [1.0, 3.0])).sum().backward()
    return buf.requires_grad, g(z)


CASES.update({f.__name__: f for f in [hook_wrong_shape, hook_wrong_dtype, function_returns_a_list,
                                       too_many_gradients, gradient_for_a_number,
                                       non_differentiable_0d_output, input_returned_then_changed_in_place,
                                       grad_outputs_fewer_than_outputs, view_of_leaf_in_place,
                                       view_chain_reshape_then_slice, buffer_add_recorded]})


# what PyTorch 2.13 returns for each case ("RuntimeError": it raises one)
PYTORCH = {
    "view_copy_": ([0.0, 0.0, 6.0, 8.0], [3.0, 6.0]),
    "view_zero_": [2.0, 0.0, 0.0, 8.0],
    "view_mul_": [6.0, 12.0, 6.0, 8.0],
    "view_of_view_setitem": [0.0, 4.0, 6.0, 8.0],
    "buffer_setitem_recorded": (True, [2.0, 4.0]),
    "buffer_copy_recorded": [3.0, 6.0],
    "fill_with_grad_scalar": (6.0, [0.0, 0.0, 0.0]),
    "data_reassigned": [60.0, 160.0],
    "leaf_hook_once": [[5.0, 5.0]],
    "leaf_hook_in_grad": ([[2.0, 2.0]], [2.0, 2.0]),
    "hook_wrong_shape": ("RuntimeError", None),
    "hook_wrong_dtype": ("RuntimeError", None),
    "function_returns_a_list": ("list", [([2.0, 4.0], False), ([3.0, 6.0], False)]),
    "too_many_gradients": "RuntimeError",
    "gradient_for_a_number": "RuntimeError",
    "non_differentiable_0d_output": (True, False),
    "input_returned_then_changed_in_place": "RuntimeError",
    "grad_outputs_fewer_than_outputs": "RuntimeError",
    "view_of_leaf_in_place": "RuntimeError",
    "view_chain_reshape_then_slice": [[1.0, 20.0], [300.0, 4.0]],
    "buffer_add_recorded": (True, [2.0, 12.0]),
}


def test_every_case_has_a_recorded_result():
    assert set(PYTORCH) == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_case_means_what_it_means_in_pytorch(name):
    ours = CASES[name](tg)
    assert ours == PYTORCH[name]
    try:
        import torch
    except ImportError:
        return
    assert ours == CASES[name](torch)


# ------------------------------------------------------------ array-level Function checks

def test_an_array_level_function_is_checked_as_pytorch_checks_functions():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)

    class Extra(tg.Function):
        @staticmethod
        def forward(ctx, a):
            return a * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    class ExtraNone(Extra):
        @staticmethod
        def backward(ctx, g):
            return g * 2, None

    class ForNumber(tg.Function):
        @staticmethod
        def forward(ctx, a, k):
            return a * k

        @staticmethod
        def backward(ctx, g):
            return g * 2, g

    class ListOut(tg.Function):
        @staticmethod
        def forward(ctx, a):
            return [a, a]

    class TooFew(tg.Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g  # one gradient for two inputs: PyTorch refuses it, and so do we

    with pytest.raises(RuntimeError, match="returned 2 gradients, expected 1"):
        Extra.apply(x).sum().backward()
    with pytest.raises(RuntimeError, match="TooFew.backward returned 1 gradients, expected 2"):
        TooFew.apply(x, x * 1).sum().backward()
    ExtraNone.apply(x).sum().backward()  # extra Nones are fine, as in PyTorch
    assert x.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="argument 1, which was not a tensor"):
        ForNumber.apply(x, 3.0).sum().backward()
    with pytest.raises(TypeError, match="returned a list"):
        ListOut.apply(x)


def test_an_array_level_function_marks_a_single_output_non_differentiable():
    class Count(tg.Function):
        @staticmethod
        def forward(ctx, a):
            out = (a > 0).sum()
            ctx.mark_non_differentiable(out)
            return out

    n = Count.apply(tg.tensor([1.0, -2.0, 3.0], requires_grad=True))
    assert not n.requires_grad and n.grad_fn is None and n.item() == 2


def test_an_input_returned_unchanged_shares_its_version_counter():
    class Identity(tg.Function):
        @staticmethod
        def forward(ctx, a):
            return a

        @staticmethod
        def backward(ctx, g):
            return g

    x = tg.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    b = a * a  # saves a
    y = Identity.apply(a)
    with tg.no_grad():
        y.mul_(2)  # the same memory as a
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        b.sum().backward()


def test_in_place_on_an_expanded_view_is_refused():
    y = tg.tensor([1.0, 2.0], requires_grad=True) * 1
    v = y.expand(3, 2)
    with pytest.raises(RuntimeError, match="expanded view"):
        v.mul_(2)


# ------------------------------------------------------------ property: in place through a view = out of place

from hypothesis import given, strategies as st  # noqa: E402

IN_PLACE = {
    "mul_": (lambda v, c: v.mul_(c), lambda old, c: old * c),
    "add_": (lambda v, c: v.add_(c), lambda old, c: old + c),
    "copy_": (lambda v, c: v.copy_(c), lambda old, c: c + old * 0),
    "zero_": (lambda v, c: v.zero_(), lambda old, c: old * 0),
}


@given(n=st.integers(2, 6), data=st.data())
def test_an_in_place_write_through_a_view_has_the_gradients_of_its_out_of_place_twin(n, data):
    """For a drawn slice of a recorded tensor and a drawn in-place op, the
    gradients of the base's inputs and of the operand equal those of the same
    values built without writing in place (a where over the slice's mask)."""
    import numpy as np
    start = data.draw(st.integers(0, n - 1))
    stop = data.draw(st.integers(start + 1, n))
    name = data.draw(st.sampled_from(sorted(IN_PLACE)))
    write, twin = IN_PLACE[name]
    rng = np.random.default_rng(n * 100 + start * 10 + stop)
    x_np, c_np, w_np = rng.standard_normal(n), rng.standard_normal(stop - start), rng.standard_normal(n)

    x, c = tg.tensor(x_np, requires_grad=True), tg.tensor(c_np, requires_grad=True)
    y = x * x
    write(y[start:stop], c * 1.0)
    ((y * tg.tensor(w_np)).sum() + y.sum() ** 2).backward()

    x2, c2 = tg.tensor(x_np, requires_grad=True), tg.tensor(c_np, requires_grad=True)
    y2 = x2 * x2
    inside = np.zeros(n, bool)
    inside[start:stop] = True
    padded = tg.cat([tg.zeros(start, dtype=tg.float64), c2 * 1.0, tg.zeros(n - stop, dtype=tg.float64)])
    new = twin(y2, padded)
    y2 = tg.where(tg.tensor(inside), new, y2)
    ((y2 * tg.tensor(w_np)).sum() + y2.sum() ** 2).backward()

    np.testing.assert_allclose(y.detach().numpy(), y2.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x2.grad.numpy(), rtol=1e-10, atol=1e-12)
    if c2.grad is not None and np.abs(c2.grad.numpy()).max() > 0:
        np.testing.assert_allclose(c.grad.numpy(), c2.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_hook_handles_are_numbered_one_after_another_and_remove_only_their_hook():
    """As PyTorch's RemovableHandle: each new handle's id is the previous one's plus one, and
    remove() takes out its own hook alone (twice is harmless)."""
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    first = x.register_hook(lambda g: seen.append("first"))
    second = x.register_hook(lambda g: seen.append("second"))
    assert second.id == first.id + 1
    first.remove()
    first.remove()
    (x * 2).sum().backward()
    assert seen == ["second"]
