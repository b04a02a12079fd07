"""Losses of nn.functional at the edges of their arguments: the deprecated
size_average / reduce given one at a time, float variances, the clamps and
thresholds of the formulas at exactly their value, unbatched and 0-d inputs.
Expected values are PyTorch 2's (torch.nn.functional, float64), written here."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.nn import functional as F


def t64(a, grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def values(t):
    return t.detach().cpu().numpy()


# ------------------------------------------------------------------ size_average / reduce

@pytest.mark.parametrize("legacy, want", [
    ({"reduce": True}, 1.5),  # size_average left None counts as True: the mean
    ({"size_average": True}, 1.5),
    ({"size_average": False}, 3.0),  # reduce left None counts as True
    ({"reduce": False}, [1.0, 2.0]),
    ({"size_average": False, "reduce": False}, [1.0, 2.0]),
    ({"size_average": True, "reduce": True}, 1.5),
])
def test_size_average_or_reduce_alone_takes_the_other_as_true(legacy, want):
    """PyTorch's legacy mapping: an argument left None counts as True, whichever is given."""
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        out = F.l1_loss(t64([1.0, 2.0]), t64([0.0, 0.0]), **legacy)
    np.testing.assert_array_equal(values(out), want)


# ------------------------------------------------------------------ gaussian_nll_loss

def test_gaussian_nll_loss_takes_a_float_variance_of_zero_clamped_at_eps():
    """var = 0.0 is a variance (>= 0), clamped to eps: PyTorch gives [499993.0922, 1999993.0922]."""
    x, y = t64([1.0, 2.0]), t64([0.0, 0.0])
    out = F.gaussian_nll_loss(x, y, 0.0, reduction="none")
    want = 0.5 * (math.log(1e-6) + np.array([1.0, 4.0]) / 1e-6)
    np.testing.assert_allclose(values(out), want, rtol=1e-12)
    np.testing.assert_allclose(values(out), [499993.0922, 1999993.0922], rtol=1e-10)
    half = F.gaussian_nll_loss(x, y, 0.5, reduction="none")
    np.testing.assert_allclose(values(half), [0.6534264097200273, 3.6534264097200273], rtol=1e-12)


def test_gaussian_nll_loss_takes_a_tensor_variance_with_zeros():
    """Zeros in a var tensor are clamped to eps, not refused (only negative entries are)."""
    out = F.gaussian_nll_loss(t64([1.0, 2.0]), t64([0.0, 0.0]), t64([0.0, 0.5]), reduction="none")
    np.testing.assert_allclose(values(out), [499993.0922447210, 3.6534264097200273], rtol=1e-12)


@pytest.mark.parametrize("var", [-0.5, -1e-300])
def test_gaussian_nll_loss_refuses_a_negative_float_variance_naming_it(var):
    with pytest.raises(ValueError, match=r"gaussian_nll_loss: var has a negative entry"):
        F.gaussian_nll_loss(t64([1.0]), t64([0.0]), var)


# ------------------------------------------------------------------ multi_margin_loss

@pytest.mark.parametrize("target, bad", [([0, -1], -1), ([3, 0], 3)])
def test_multi_margin_loss_refuses_a_class_index_just_outside_the_classes(target, bad):
    """Class indices lie in [0, C): -1 (no negative indexing from the end) and C are refused, naming them."""
    x = t64([[0.1, 0.2, 0.4], [0.3, 0.1, 0.2]])
    with pytest.raises(IndexError, match=rf"multi_margin_loss: target {bad} is out of range for 3 classes"):
        F.multi_margin_loss(x, tg.tensor(target))
    out = F.multi_margin_loss(x, tg.tensor([0, 2]), reduction="none")  # the edges themselves are taken
    np.testing.assert_allclose(values(out), [2.4 / 3, 2.0 / 3], rtol=1e-12)
