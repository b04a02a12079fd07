"""The recording backend's setitem, as a create_graph pass of an indexed assignment runs
it: the gradient has zeros where the assignment replaced values, it can be differentiated
again, and the tensor written into carries a version counter of its own that counts
in-place changes from zero (never a negative count)."""
import numpy as np

import tinygrad_bn as tg
from tinygrad_bn.recording_backend import recording


def test_the_gradient_through_an_indexed_assignment_and_its_second_derivative():
    x = tg.tensor(np.arange(4.0), requires_grad=True)
    y = x.clone()
    y[1] = 7.0
    (g,) = tg.autograd.grad((y * y).sum(), x, create_graph=True)  # 2 y, with 0 where y was replaced
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 0.0, 4.0, 6.0])
    assert g.requires_grad and g._version >= 0
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(h.numpy(), [2.0, 0.0, 2.0, 2.0])


def test_the_tensor_written_into_counts_its_changes_from_zero():
    rb = recording(tg.backends.get_backend("cpu"))
    a = tg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    t = a * 1
    rb.setitem(t, (0, slice(None)), 0.0)
    np.testing.assert_array_equal(t.detach().numpy(), [[0.0, 0.0, 0.0], [3.0, 4.0, 5.0]])
    assert t._version == 0 and t.grad_fn is not None
    t.mul_(2)
    assert t._version == 1
    t.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])
