"""The recording backend's reshape: a -1 is resolved from the tensor's size as NumPy
resolves it, and a reshape to the shape the tensor already has records nothing (the
tensor itself comes back)."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.recording_backend import recording

RB = recording(tg.backends.get_backend("cpu"))


@pytest.mark.parametrize("source, shape", [
    ((2, 3, 4), (-1,)), ((2, 3, 4), (4, -1)), ((2, 3, 4), (-1, 6)), ((2, 3, 4), (2, -1, 3)),
    ((6,), (3, -1)), ((2, 3, 4), [-1, 2]), ((2, 12), -1), ((2, 3), (-1, 3, 1)),
])
def test_a_minus_one_takes_the_size_numpy_gives_it(source, shape):
    values = np.arange(np.prod(source), dtype=np.float64).reshape(source)
    x = tg.tensor(values, requires_grad=True)
    out = RB.reshape(x, shape)
    expected = values.reshape(shape)
    assert tuple(out.shape) == expected.shape
    np.testing.assert_array_equal(out.detach().numpy(), expected)
    assert out is not x and out.grad_fn is not None  # a new shape: a recorded op
    out.backward(tg.ones(*expected.shape, dtype=tg.float64))
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(source))


@pytest.mark.parametrize("source, shape", [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (2, -1, 4)), ((2, 3, 4), (-1, 3, 4)),
                                           ((5,), (-1,)), ((5,), 5), ((1, 5), (1, -1))])
def test_a_reshape_to_its_own_shape_gives_the_tensor_itself(source, shape):
    x = tg.tensor(np.ones(source), requires_grad=True)
    assert RB.reshape(x, shape) is x
