"""create_graph: the walk recorded, so gradients can be differentiated again,
with PyTorch's semantics for retain_graph, .grad, hooks, retain_grad, anomaly
mode and the in-place checks in every pass."""
import numpy as np
import pytest
from conftest import leaf

import tinygrad_bn as tg
from tinygrad_bn import autograd


def test_derivatives_of_any_order():
    x = tg.tensor([0.5, -1.5, 2.0], dtype=tg.float64, requires_grad=True)
    y = (x ** 4).sum()
    expected = [4 * x.detach().numpy() ** 3, 12 * x.detach().numpy() ** 2, 24 * x.detach().numpy(),
                np.full(3, 24.0)]
    g = y
    for order, want in enumerate(expected, 1):
        (g,) = tg.grad(g.sum() if order > 1 else g, x, create_graph=True)
        assert g.requires_grad and g.grad_fn is not None
        np.testing.assert_allclose(g.detach().numpy(), want, rtol=1e-12, err_msg=f"order {order}")


def test_without_create_graph_the_gradient_is_a_plain_tensor():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    (g,) = tg.grad((x * x).sum(), x)
    assert not g.requires_grad and g.grad_fn is None


def test_retain_graph_defaults_to_create_graph():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = (x.exp() * x).sum()
    tg.grad(y, x, create_graph=True)
    tg.grad(y, x)  # the first pass kept the graph
    with pytest.raises(RuntimeError, match="second time"):
        tg.grad(y, x)


def test_backward_with_create_graph_leaves_a_differentiable_grad_and_accumulates_out_of_place():
    x = tg.tensor([1.0, -2.0, 3.0], dtype=tg.float64, requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert first.requires_grad
    np.testing.assert_allclose(first.detach().numpy(), 3 * np.array([1.0, 4.0, 9.0]))
    (x ** 2).sum().backward(create_graph=True)  # accumulates: a new recorded sum, the first untouched
    assert x.grad is not first
    np.testing.assert_allclose(first.detach().numpy(), [3.0, 12.0, 27.0])
    np.testing.assert_allclose(x.grad.detach().numpy(), [3.0 + 2, 12.0 - 4, 27.0 + 6])
    (h,) = tg.grad(x.grad.sum(), x)  # d/dx (3x^2 + 2x) = 6x + 2
    np.testing.assert_allclose(h.numpy(), [8.0, -10.0, 20.0])


def test_gradient_penalty_reaches_the_parameters(rng):
    """The WGAN-GP pattern: a penalty on the input gradient's norm trains the weights."""
    w = leaf(rng, 3, 4)
    x = leaf(rng, 5, 3)
    out = (x @ w).tanh().sum()
    (gx,) = tg.grad(out, x, create_graph=True)
    penalty = ((gx * gx).sum(1).sqrt() - 1).pow(2).mean()
    penalty.backward()
    assert w.grad is not None and np.abs(w.grad.numpy()).max() > 0

    def penalty_of(w_array):
        wt = tg.tensor(w_array, requires_grad=False)
        xt = tg.tensor(x.detach().numpy(), requires_grad=True)
        (g,) = tg.grad((xt @ wt).tanh().sum(), xt)
        return float((((g.numpy() ** 2).sum(1) ** 0.5 - 1) ** 2).mean())

    base = w.detach().numpy()
    numeric = np.zeros_like(base)
    for idx in np.ndindex(*base.shape):
        plus, minus = base.copy(), base.copy()
        plus[idx] += 1e-6
        minus[idx] -= 1e-6
        numeric[idx] = (penalty_of(plus) - penalty_of(minus)) / 2e-6
    np.testing.assert_allclose(w.grad.numpy(), numeric, rtol=1e-6, atol=1e-9)


def test_grad_outputs_that_require_grad_join_the_graph():
    """The double-backward trick: J^T u is linear in u, and u's gradient is J v."""
    x = tg.tensor([0.3, -0.7], dtype=tg.float64, requires_grad=True)
    y = tg.stack([x[0] * x[1], x[0].sin(), x[1] ** 2])
    u = tg.zeros(3, dtype=tg.float64, requires_grad=True)
    (back,) = tg.grad(y, x, u, create_graph=True)
    v = tg.tensor([1.0, 2.0], dtype=tg.float64)
    (jv,) = tg.grad(back, u, v)
    x0, x1 = x.detach().numpy()
    jacobian = np.array([[x1, x0], [np.cos(x0), 0.0], [0.0, 2 * x1]])
    np.testing.assert_allclose(jv.numpy(), jacobian @ v.numpy(), rtol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_outputs_may_be_arrays_lists_or_tensors_and_join_the_graph_only_when_recording(create_graph):
    """An array (or a list, inside the sequence of grad_outputs) is a constant gradient;
    a Tensor that requires grad is a constant too without create_graph (nothing is
    recorded), and an input of the recorded graph with it."""
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    u = tg.tensor([1.0, 3.0], dtype=tg.float64, requires_grad=True)
    for given in ([np.array([1.0, 3.0])], [[1.0, 3.0]], u):
        (g,) = tg.grad(x * x, x, grad_outputs=given, create_graph=create_graph)
        np.testing.assert_array_equal(g.detach().numpy(), [2.0, 12.0])
        assert g.requires_grad == create_graph
    if create_graph:
        (du,) = tg.grad(g.sum(), u)  # g = 2 x u
        np.testing.assert_array_equal(du.numpy(), [2.0, 4.0])
    y = x * x
    y.backward(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 12.0])


def test_hooks_run_in_every_pass_and_see_graph_tensors_when_recording():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    seen = []
    y = x * x
    y.register_hook(lambda g: seen.append(("y", g.requires_grad, g.detach().numpy().tolist())))
    x.register_hook(lambda g: seen.append(("x", g.requires_grad, g.detach().numpy().tolist())))
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    assert ("y", False, [1.0, 1.0]) in seen
    assert ("x", True, [2.0, 4.0]) in seen
    seen.clear()
    g.sum().backward()
    assert seen and all(name == "x" for name, _, _ in seen)


def test_a_hook_can_scale_the_recorded_gradient():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x * x
    y.register_hook(lambda g: g * 3)
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [6.0, 12.0])
    (h,) = tg.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [6.0, 6.0])


def test_retain_grad_keeps_the_recorded_gradient():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x * x
    y.retain_grad()
    (y * y).sum().backward(create_graph=True)
    assert y.grad.requires_grad
    np.testing.assert_allclose(y.grad.detach().numpy(), 2 * np.array([1.0, 4.0]))


def test_in_place_change_of_a_saved_value_is_caught_in_the_second_pass():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = x * 1.0
    z = (y ** 3).sum()
    (g,) = tg.grad(z, x, create_graph=True)  # 3 y^2: the recorded backward saved y again
    with tg.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        g.sum().backward()


def test_anomaly_mode_names_the_op_of_a_recorded_pass():
    x = tg.tensor([0.0, 1.0], dtype=tg.float64, requires_grad=True)
    (g,) = tg.grad((x.sqrt() * 1.0).sum(), x, create_graph=True)  # 1 / (2 sqrt(0)) = inf
    with pytest.raises(tg.AnomalyError):
        with tg.detect_anomaly():
            (h,) = tg.grad(g.sum(), x)


def test_grad_refuses_grad_outputs_that_do_not_match_the_outputs():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 2, x * 3
    with pytest.raises(RuntimeError, match="2 grad_outputs for 1 outputs|1 grad_outputs for 2 outputs"):
        tg.grad([y1, y2], [x], grad_outputs=[tg.ones(2)])
    (g,) = tg.grad([y1, y2], [x], grad_outputs=[tg.ones(2), tg.ones(2)])
    assert g.tolist() == [5.0, 5.0]


def test_autograd_namespace_matches_torch_autograd_names():
    for name in ("grad", "backward", "Function", "gradcheck", "gradgradcheck", "functional"):
        assert hasattr(autograd, name), name
    for name in ("vjp", "jvp", "hvp", "vhp", "jacobian", "hessian"):
        assert callable(getattr(autograd.functional, name)), name
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    autograd.backward([(x * x).sum()], create_graph=True)
    assert x.grad.requires_grad


def test_the_tape_marks_what_a_recorded_backward_ran():
    x = tg.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    w = tg.tensor([[0.5], [-1.0]], requires_grad=True)
    with tg.Tape() as tape:
        out = (x @ w).tanh().sum()
        (g,) = tg.grad(out, x, create_graph=True)
        (g * g).sum().backward()
    made = {r.made_by for r in tape.entries}
    forward = [r for r in tape.entries if r.made_by is None]
    assert [r.op for r in forward][:3] == ["MatMul", "Tanh", "Sum"]
    tanh_seq = forward[1].seq
    assert tanh_seq in made  # Tanh's backward was recorded
    assert any(f"bwd of #{tanh_seq}" in line for line in tape.table().splitlines())
    assert all(r.grad is not None for r in forward[:3])  # the second pass reached the forward ops
    assert tg.Tape.from_json(tape.to_json()).entries[-1].made_by == tape.entries[-1].made_by


def test_a_leaf_used_twice_calls_its_hook_once_with_the_sum_in_backward_and_grad():
    for run in ("backward", "grad"):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(g.tolist()))
        y = (x * 2 + x * 3).sum()
        if run == "backward":
            y.backward()
        else:
            tg.grad(y, x)
        assert calls == [[5.0, 5.0]], run


def test_hook_results_are_checked_for_type_shape_and_dtype():
    cases = [(lambda g: g.numpy(), TypeError, "returned a ndarray"),
             (lambda g: g.reshape(1, 2), RuntimeError, "shape"),
             (lambda g: g.double(), RuntimeError, "dtype")]
    for hook, error, message in cases:
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(hook)
        with pytest.raises(error, match=message):
            (x * 2).sum().backward()
        assert x.grad is None  # nothing was written


def test_create_graph_records_even_under_no_grad_as_in_pytorch():
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    y = (x ** 3).sum()
    with tg.no_grad():
        (g,) = tg.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    y = (x ** 2).sum()
    with tg.no_grad():
        tg.grad(y, x, create_graph=True)
        assert not tg.is_grad_enabled()  # the caller's mode, restored


def test_backward_into_given_inputs_only():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([3.0, 4.0], requires_grad=True)
    h = a * b
    (h * h).sum().backward(inputs=[a, h])
    assert b.grad is None
    assert a.grad.tolist() == [2 * 3.0 * 3.0, 2 * 8.0 * 4.0]
    assert h.grad.tolist() == [6.0, 16.0]  # a non-leaf input gets its .grad too
    autograd.backward([(a * 3).sum()], inputs=a)
    assert a.grad.tolist() == [21.0, 67.0]


class _CubeWatchedInBackward(tg.autograd.Function):
    """y = x ** 3, whose backward opens a Tape of its own over the ops it runs."""
    tapes = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        with tg.Tape() as tape:
            out = 3 * g * x * x
        _CubeWatchedInBackward.tapes.append(tape)
        return out


def test_a_tape_opened_inside_a_recorded_backward_names_whose_backward_it_was():
    """With no Tape open around it, a create_graph pass still marks the ops each
    recorded backward runs: a Tape a Function's backward opens sees them as made
    by that entry's backward; in a plain pass nothing is recorded there."""
    _CubeWatchedInBackward.tapes.clear()
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    y = _CubeWatchedInBackward.apply(x)
    (g,) = tg.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    (tape,) = _CubeWatchedInBackward.tapes
    made = {r.made_by for r in tape.entries}
    assert tape.entries and made == {y.grad_fn.seq}, [(r.op, r.made_by) for r in tape.entries]
    y2 = _CubeWatchedInBackward.apply(x)
    y2.sum().backward()
    assert not _CubeWatchedInBackward.tapes[-1].entries  # a plain pass records no op


@pytest.mark.parametrize("shape", [(), (5,)], ids=["0-d", "1-d"])
def test_a_recorded_pass_gives_the_plain_passes_gradient_bit_for_bit(shape):
    """create_graph records the backward's ops, on the tensors' own dtype: a Python
    number in a backward stays a weak scalar there too (a 0-d float32 gradient
    times 0.1 is float32 arithmetic, not float64 rounded back), so the recorded
    first derivative is the plain one, bit for bit."""
    values = np.linspace(0.11, 3.7, 5).astype(np.float32).reshape(shape or (5,))
    fns = [lambda x: (x * 0.1) * (x * 0.1), lambda x: (x / 0.3) * (x + 0.2) * x, lambda x: (0.7 - x).exp() * 1.3,
           lambda x: (x * 0.1).tanh() / 0.7, lambda x: (x / 0.3) ** 3, lambda x: (x + 0.2) ** 2.5]
    for k, fn in enumerate(fns):
        for v in (values if shape == () else [values]):
            plain_x = tg.tensor(v, requires_grad=True)
            (plain,) = tg.grad(fn(plain_x).sum(), plain_x)
            x = tg.tensor(v, requires_grad=True)
            (recorded,) = tg.grad(fn(x).sum(), x, create_graph=True)
            assert recorded.requires_grad and recorded.dtype == plain.dtype == tg.float32
            assert recorded.detach().numpy().tobytes() == plain.numpy().tobytes(), (k, v)


@pytest.mark.parametrize("exponent", [3, 2.5, -1])
def test_a_float32_powers_gradient_is_float32_arithmetic(exponent):
    """x ** n with a Python exponent: the gradient n * x ** (n - 1) * g is computed
    in float32, as PyTorch does (the exponent stays a weak scalar), not in float64
    and rounded back."""
    v = np.array([0.11, 0.3666667, 1.7, 2.9], np.float32)
    x = tg.tensor(v, requires_grad=True)
    (x ** exponent).backward(tg.tensor(np.full(4, 0.7, np.float32)))
    want = np.float32(0.7) * (np.float32(exponent) * np.power(v, np.float32(exponent - 1)))
    assert x.grad.numpy().tobytes() == want.astype(np.float32).tobytes()


@pytest.mark.parametrize("base", [2.0, 3, 0.0, -2.0])
def test_a_python_base_to_a_float32_power_has_a_float32_gradient(base):
    """base ** x with a Python base: d/dx = base ** x * log(base) * g in float32
    (0 where base is 0 and x >= 0, NaN for a negative base), the base a weak
    scalar as in PyTorch, not a float64 array."""
    v = np.array([0.11, 1.5, 2.25], np.float32)
    x = tg.tensor(v, requires_grad=True)
    (base ** x).backward(tg.tensor(np.full(3, 0.7, np.float32)))
    log_base = np.float32(np.log(base)) if base > 0 else np.float32(0.0 if base == 0 else np.nan)
    want = np.float32(0.7) * (np.power(np.float32(base), v) * log_base)
    assert x.grad.dtype == tg.float32
    assert x.grad.numpy().tobytes() == want.astype(np.float32).tobytes()
