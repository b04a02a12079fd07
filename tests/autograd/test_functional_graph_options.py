"""autograd.functional's create_graph and strict, as PyTorch's: every returned tensor
(the function's value and the product or matrix) is detached unless create_graph,
whether the inputs require grad or not; with create_graph the results are right for
inputs that do not require grad too, and for inputs that do they differentiate back
to them; strict refuses a zero that comes from independence at every stage (a linear
function's Hessian), where non-strict gives zeros."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.autograd import functional as AF

X = np.array([0.5, -1.25, 2.0])
V = np.array([1.5, 0.25, -0.75])


def cube(a):
    return a ** 3


def cube_sum(a):
    return (a ** 3).sum()


def _all(x, v, create_graph):
    """Every result of every function, as (name, [tensors]) with their closed forms."""
    return [
        ("vjp", AF.vjp(cube, x, v, create_graph=create_graph), [X ** 3, 3 * X ** 2 * V]),
        ("jvp", AF.jvp(cube, x, v, create_graph=create_graph), [X ** 3, 3 * X ** 2 * V]),
        ("vhp", AF.vhp(cube_sum, x, v, create_graph=create_graph), [(X ** 3).sum(), 6 * X * V]),
        ("hvp", AF.hvp(cube_sum, x, v, create_graph=create_graph), [(X ** 3).sum(), 6 * X * V]),
        ("jacobian", (AF.jacobian(cube, x, create_graph=create_graph),), [np.diag(3 * X ** 2)]),
        ("hessian", (AF.hessian(cube_sum, x, create_graph=create_graph),), [np.diag(6 * X)]),
    ]


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
def test_results_are_detached_unless_create_graph_and_right_either_way(requires_grad, create_graph):
    # PyTorch 2 gives requires_grad == create_graph for every one of these, whatever the input's requires_grad
    x = tg.tensor(X.copy(), requires_grad=requires_grad)
    v = tg.tensor(V.copy())
    for name, results, want in _all(x, v, create_graph):
        for k, (got, expected) in enumerate(zip(results, want)):
            assert got.requires_grad == create_graph, (name, k)
            assert (got.grad_fn is not None) == create_graph, (name, k)
            np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-12, err_msg=f"{name}[{k}]")
    assert x.grad is None and x.tolist() == X.tolist()  # the caller's input is left as it was


def test_with_create_graph_each_product_differentiates_back_to_the_callers_input():
    """d/dx of the sum of each result, against the closed forms."""
    want = {
        "vjp": 6 * X * V, "jvp": 6 * X * V,  # sum(3 x^2 v)
        "vhp": 6 * V, "hvp": 6 * V,  # sum(6 x v)
        "jacobian": 6 * X,  # sum(diag(3 x^2))
        "hessian": np.full(3, 6.0),  # sum(diag(6 x))
    }
    for name, fn in (("vjp", lambda x: AF.vjp(cube, x, tg.tensor(V), create_graph=True)[1]),
                     ("jvp", lambda x: AF.jvp(cube, x, tg.tensor(V), create_graph=True)[1]),
                     ("vhp", lambda x: AF.vhp(cube_sum, x, tg.tensor(V), create_graph=True)[1]),
                     ("hvp", lambda x: AF.hvp(cube_sum, x, tg.tensor(V), create_graph=True)[1]),
                     ("jacobian", lambda x: AF.jacobian(cube, x, create_graph=True)),
                     ("hessian", lambda x: AF.hessian(cube_sum, x, create_graph=True))):
        x = tg.tensor(X.copy(), requires_grad=True)
        fn(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), want[name], rtol=1e-12, err_msg=name)


def test_strict_refuses_a_zero_second_derivative_from_independence_at_every_stage():
    x, v = tg.tensor(X.copy()), tg.tensor(V.copy())

    def linear(a):
        return (a * 2).sum()

    with pytest.raises(RuntimeError, match=r"^vhp: the output of the function is independent of input 0 "
                                           r"\(double back\); this is not allowed in strict mode"):
        AF.vhp(linear, x, v, strict=True)
    with pytest.raises(RuntimeError, match=r"^vhp: .*independent of input 0 \(double back\)"):
        AF.hvp(linear, x, v, strict=True)
    with pytest.raises(RuntimeError, match=r"^vhp: .*independent of input 1 \(back\)"):
        AF.vhp(lambda a, b: linear(a), (x, x), (v, v), strict=True)
    with pytest.raises(RuntimeError, match=r"independent of input 0 \(back\); this is not allowed in strict mode"):
        AF.hessian(linear, x, strict=True)
    with pytest.raises(RuntimeError, match=r"^hessian: .*independent of input 1 \(back\)"):
        AF.hessian(lambda a, b: cube_sum(a), (x, x), strict=True)  # the value itself, before its derivative
    with pytest.raises(RuntimeError, match=r"^jvp: .*independent of input 1 \(back trick\)"):
        AF.jvp(lambda a: (a * 2, tg.ones(2)), x, v, strict=True)  # an output no input reaches
    with pytest.raises(RuntimeError, match=r"^jvp: .*independent of input 1 \(back\)"):
        AF.jvp(lambda a, b: a * 2, (x, x), (v, v), strict=True)
    with pytest.raises(RuntimeError, match=r"^jacobian: .*independent of input 1"):
        AF.jacobian(lambda a, b: a * 2, (x, x), strict=True)
    # not strict: zeros of the inputs' shapes
    value, h = AF.vhp(linear, x, v)
    assert value.item() == pytest.approx(2 * X.sum()) and h.tolist() == [0.0] * 3
    assert AF.hessian(linear, x).tolist() == np.zeros((3, 3)).tolist()
    _, jv = AF.jvp(lambda a, b: a * 2, (x, x), (v, v))
    np.testing.assert_array_equal(jv.numpy(), 2 * V)  # J_a v_a + 0 v_b
    _, (doubled, constant) = AF.jvp(lambda a: (a * 2, tg.ones(2)), x, v)
    np.testing.assert_array_equal(doubled.numpy(), 2 * V)
    assert constant.tolist() == [0.0, 0.0]
    assert AF.jacobian(lambda a, b: a * 2, (x, x))[1].tolist() == np.zeros((3, 3)).tolist()
