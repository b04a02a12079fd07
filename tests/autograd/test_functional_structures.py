"""autograd.functional's results take PyTorch's structure for every form of
inputs and outputs: one tensor, a tuple of one, a tuple of several. Each entry
is checked against its closed form, so a result taken from the wrong row or
column, or a tuple where PyTorch gives a tensor, fails."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.autograd import functional as AF

X = np.array([0.5, -1.25, 2.0])
Y = np.array([1.5, 0.25, -0.75])


def _t(a):
    return tg.tensor(a, dtype=tg.float64)


def _close(got, want):
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_jacobian_of_one_input_and_one_output_is_a_tensor():
    j = AF.jacobian(lambda x: x ** 2, _t(X))
    assert isinstance(j, tg.Tensor)
    _close(j, np.diag(2 * X))


def test_jacobian_of_one_input_and_several_outputs_is_a_tuple_over_the_outputs():
    j = AF.jacobian(lambda x: (x ** 2, x.sum(), 3 * x), _t(X))
    assert isinstance(j, tuple) and len(j) == 3 and all(isinstance(e, tg.Tensor) for e in j)
    _close(j[0], np.diag(2 * X))
    _close(j[1], np.ones(3))
    _close(j[2], 3 * np.eye(3))


def test_jacobian_of_several_inputs_and_one_output_is_a_tuple_over_the_inputs():
    j = AF.jacobian(lambda x, y: x * y, (_t(X), _t(Y)))
    assert isinstance(j, tuple) and len(j) == 2
    _close(j[0], np.diag(Y))
    _close(j[1], np.diag(X))


def test_jacobian_of_several_inputs_and_outputs_is_a_tuple_of_tuples_out_by_in():
    j = AF.jacobian(lambda x, y: (x * y, x + 2 * y, (x * x).sum()), (_t(X), _t(Y)))
    assert isinstance(j, tuple) and len(j) == 3 and all(isinstance(r, tuple) and len(r) == 2 for r in j)
    _close(j[0][0], np.diag(Y))
    _close(j[0][1], np.diag(X))
    _close(j[1][0], np.eye(3))
    _close(j[1][1], 2 * np.eye(3))
    _close(j[2][0], 2 * X)
    _close(j[2][1], np.zeros(3))


def test_a_tuple_of_one_input_gives_tuples_as_pytorch():
    j = AF.jacobian(lambda x: x ** 2, (_t(X),))
    assert isinstance(j, tuple) and len(j) == 1
    _close(j[0], np.diag(2 * X))
    j = AF.jacobian(lambda x: (x ** 2, x.sum()), (_t(X),))
    assert isinstance(j, tuple) and len(j) == 2 and all(isinstance(r, tuple) and len(r) == 1 for r in j)
    _close(j[1][0], np.ones(3))


def test_hessian_of_one_input_is_a_tensor_and_of_several_a_tuple_of_tuples():
    h = AF.hessian(lambda x: (x ** 3).sum(), _t(X))
    assert isinstance(h, tg.Tensor)
    _close(h, np.diag(6 * X))
    h = AF.hessian(lambda x, y: (x * x * y).sum(), (_t(X), _t(Y)))
    assert isinstance(h, tuple) and len(h) == 2 and all(isinstance(r, tuple) and len(r) == 2 for r in h)
    _close(h[0][0], np.diag(2 * Y))
    _close(h[0][1], np.diag(2 * X))
    _close(h[1][0], np.diag(2 * X))
    _close(h[1][1], np.zeros((3, 3)))


@pytest.mark.parametrize("name", ["vjp", "vhp", "hvp"])
def test_products_over_the_inputs_give_a_tensor_for_one_input_and_a_tuple_for_a_tuple(name):
    fn = getattr(AF, name)
    if name == "vjp":
        f, v = (lambda x: x ** 2), _t(Y)
        want = 2 * X * Y
    else:
        f, v = (lambda x: (x ** 3).sum()), _t(Y)
        want = 6 * X * Y
    out, prod = fn(f, _t(X), v)
    assert isinstance(prod, tg.Tensor)
    _close(prod, want)
    out, prod = fn(f, (_t(X),), (v,))
    assert isinstance(prod, tuple) and len(prod) == 1
    _close(prod[0], want)


def test_jvp_takes_the_structure_of_the_outputs():
    """J v lives where the outputs do: a tensor for one output, whatever the inputs' form."""
    out, prod = AF.jvp(lambda x: x ** 2, (_t(X),), (_t(Y),))
    assert isinstance(prod, tg.Tensor)
    _close(prod, 2 * X * Y)
    out, prod = AF.jvp(lambda x: (x ** 2, 3 * x), _t(X), _t(Y))
    assert isinstance(prod, tuple) and len(prod) == 2
    _close(prod[0], 2 * X * Y)
    _close(prod[1], 3 * Y)


@pytest.mark.parametrize("inputs", [(), [], 3.0, [1.0, 2.0], (None,), "x"])
def test_inputs_that_are_not_a_tensor_or_a_tuple_of_tensors_are_refused_by_name(inputs):
    for fn in (AF.jacobian, AF.hessian):
        with pytest.raises(TypeError, match="the inputs must be a Tensor or a tuple of Tensors"):
            fn(lambda *x: x[0].sum(), inputs)


def test_an_output_that_does_not_depend_on_the_inputs_gives_zero_products_and_jacobians():
    """As PyTorch: a function whose outputs need no gradient (constants) has
    zero vjp and jacobian, of the inputs' shapes, or an error in strict mode."""
    x, y = tg.randn(3), tg.randn(2, 2)
    out, (gx, gy) = AF.vjp(lambda a, b: tg.ones(4), (x, y), tg.ones(4))
    assert out.tolist() == [1.0] * 4
    assert gx.shape == (3,) and gy.shape == (2, 2) and not gx.numpy().any() and not gy.numpy().any()
    jac = AF.jacobian(lambda a: tg.ones(2), x)
    assert jac.shape == (2, 3) and not jac.numpy().any()
    with pytest.raises(RuntimeError, match="independent of input 0"):
        AF.vjp(lambda a: tg.ones(3), x, tg.ones(3), strict=True)


def test_backward_of_many_outputs_takes_one_gradient_each_past_small_int_counts():
    """autograd.backward over 300 outputs (past CPython's cached small ints) with 300 gradients:
    each output's gradient reaches the leaf; 299 gradients are refused, naming both counts."""
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    outputs = [x * k for k in range(300)]
    grads = [tg.ones(2, dtype=tg.float64) for _ in range(300)]
    tg.autograd.backward(outputs, grads)
    np.testing.assert_array_equal(x.grad.numpy(), [sum(range(300))] * 2)
    with pytest.raises(RuntimeError, match="backward: got 299 grad_tensors for 300 tensors"):
        tg.autograd.backward([x * k for k in range(300)], grads[:299])
