"""A create_graph pass through an op with ``x`` and ``x.detach()`` (the same array,
but a constant) as operands, in either order: the saved detached operand stays a
constant of the backward and ``x`` joins the graph, so the second derivative is the
closed form with the detached value held fixed (as in PyTorch; with the detached
operand second, its saved value was taken for ``x``'s)."""
import numpy as np
import pytest

import tinygrad_bn as tg

X = np.array([0.5, 1.5, 2.0, -1.25])


def _first_and_second(f):
    x = tg.tensor(X, requires_grad=True)
    d = x.detach()
    assert d._data is x._data  # the alias this file is about
    (g,) = tg.autograd.grad((f(d, x) + x * x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    return g.detach().numpy(), h.numpy()


def test_detached_times_itself():
    """d/dx (c * x + x^2) = c + 2x and d2/dx2 = 2, with c = x held fixed."""
    g, h = _first_and_second(lambda d, x: d * x)
    np.testing.assert_allclose(g, 3 * X, rtol=1e-14)
    np.testing.assert_allclose(h, np.full_like(X, 2.0), rtol=1e-14)


def test_detached_times_itself_with_the_variable_squared_first():
    """The same sum with x^2 computed first: the order of the tape entries changes nothing."""
    x = tg.tensor(X, requires_grad=True)
    (g,) = tg.autograd.grad((x * x + x.detach() * x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().numpy(), 3 * X, rtol=1e-14)
    np.testing.assert_allclose(h.numpy(), np.full_like(X, 2.0), rtol=1e-14)


def test_the_variable_times_its_detached_self():
    """x * c with c = x held fixed, the detached operand second: d2/dx2 of x c + x^2 is 2."""
    g, h = _first_and_second(lambda d, x: x * d)
    np.testing.assert_allclose(g, 3 * X, rtol=1e-14)
    np.testing.assert_allclose(h, np.full_like(X, 2.0), rtol=1e-14)


def test_the_detached_value_over_the_variable():
    """c / x with c = x held fixed: first derivative -c / x^2 (+ 2x), second 2c / x^3 (+ 2),
    so the gradient through the divisor is kept."""
    g, h = _first_and_second(lambda d, x: d / x)
    np.testing.assert_allclose(g, -1 / X + 2 * X, rtol=1e-14)
    np.testing.assert_allclose(h, 2 / X ** 2 + 2, rtol=1e-14)


def test_an_in_place_change_through_the_detached_alias_is_caught():
    """The detached operand's saved value is checked as that tensor's: changing it in
    place before backward is an error, as in PyTorch."""
    x = tg.tensor(X, requires_grad=True)
    d = x.detach()
    y = (x * d).sum()
    with tg.no_grad():
        d.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        y.backward()
