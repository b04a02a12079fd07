"""A create_graph pass through an op whose first operand is a constant (needs no
gradient) still joins the later saved operands to the graph: the gradient can be
differentiated again, with the closed-form values."""
import numpy as np

import tinygrad_bn as tg

Y = np.array([0.5, 1.5, 2.0])
C = np.array([2.0, -1.0, 3.0])


def _second(f):
    y = tg.tensor(Y, requires_grad=True)
    (g,) = tg.autograd.grad(f(tg.tensor(C), y).sum(), y, create_graph=True)
    assert g.requires_grad
    (h,) = tg.autograd.grad(g.sum(), y)
    return g.detach().numpy(), h.numpy()


def test_constant_divided_by_a_variable():
    g, h = _second(lambda c, y: c / y)
    np.testing.assert_allclose(g, -C / Y**2, rtol=1e-14)
    np.testing.assert_allclose(h, 2 * C / Y**3, rtol=1e-14)


def test_constant_times_a_variable_squared():
    g, h = _second(lambda c, y: (c * y) * y)
    np.testing.assert_allclose(g, 2 * C * Y, rtol=1e-14)
    np.testing.assert_allclose(h, 2 * C, rtol=1e-14)
