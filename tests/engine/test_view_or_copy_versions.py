"""Version counters of the results of view ops, as PyTorch keeps them: a result that
shares memory with its input (a real view) shares the input's counter, so an in-place
change through either is seen by an op that saved the other; a result the view op had
to copy (reshaping a transposed tensor) has a counter of its own, so changing it leaves
the source and what was saved from it valid."""
import numpy as np
import pytest

import tinygrad_bn as tg


def _source():
    a = tg.tensor(np.arange(6.0).reshape(2, 3) / 4, requires_grad=True)
    return a, a.exp()  # exp saves its output b


@pytest.mark.parametrize("view", [lambda b: b.t(), lambda b: b.reshape(3, 2), lambda b: b[0], lambda b: b.t().t()])
def test_an_in_place_change_through_a_real_view_is_seen_by_the_op_that_saved_the_source(view):
    _, b = _source()
    v = view(b)
    assert np.shares_memory(v.detach().numpy(), b.detach().numpy())
    v.mul_(0)
    assert v._version == b._version == 1
    assert (b.detach().numpy() == 0).sum() == v.numel()  # the zeros went into b's memory
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        b.sum().backward()


def test_a_view_op_that_had_to_copy_gives_a_result_with_a_counter_of_its_own():
    a, b = _source()
    c = b.t().reshape(6)  # a transposed tensor flattened: a copy, as in PyTorch
    assert not np.shares_memory(c.detach().numpy(), b.detach().numpy())
    before = b.detach().numpy().copy()
    c.add_(100)
    assert c._version == 1 and b._version == 0
    np.testing.assert_array_equal(b.detach().numpy(), before)
    np.testing.assert_array_equal(c.detach().numpy(), before.T.reshape(6) + 100)
    b.sum().backward()  # exp's saved output is intact: its gradient is exp(a)
    np.testing.assert_allclose(a.grad.numpy(), np.exp(np.arange(6.0).reshape(2, 3) / 4), rtol=1e-15)
