"""Activations, distances and helpers of nn.functional at the edges of their
arguments: 0-d inputs, the implicit dim, bounds and thresholds at exactly their
value. Expected values are PyTorch 2's (torch.nn.functional, float64), written here."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.nn import functional as F


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def values(t):
    return t.detach().cpu().numpy()


def test_softmin_of_a_0d_input_with_the_implicit_dim_uses_dim_0():
    """PyTorch's implicit choice is dim 0 for a 0-d input (softmin(tensor(2.)) = tensor(1.))."""
    with pytest.warns(UserWarning, match="implicit dimension.*Using dim=0"):
        out = F.softmin(t64(2.0))
    assert out.shape == () and out.item() == 1.0


def test_hardtanh_takes_equal_bounds_and_is_then_constant():
    """min_val == max_val is allowed (only min_val > max_val is refused): every value is the
    bound and every gradient 0, as PyTorch's hardtanh(x, 0.5, 0.5)."""
    x = t64([-2.0, 0.5, 3.0], grad=True)
    out = F.hardtanh(x, 0.5, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(values(out), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("training", [True, False])
def test_rrelu_takes_equal_bounds_as_one_fixed_slope(training):
    """lower == upper is allowed (only lower > upper is refused): the slope is that value
    in training and in eval, at 0 too (the gradient there is the slope), as PyTorch's
    rrelu(x, 0.2, 0.2) = [-0.4, 0, 3] with gradient [0.2, 0.2, 1]."""
    x = t64([-2.0, 0.0, 3.0], grad=True)
    out = F.rrelu(x, 0.2, 0.2, training=training)
    out.sum().backward()
    np.testing.assert_allclose(values(out), [-0.4, 0.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), [0.2, 0.2, 1.0], rtol=1e-15)
