"""Arguments at the edge of what a function takes: the smallest accepted value
works, the first refused one is refused, with PyTorch's results for the accepted
ones (written here as literals)."""
import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn


def test_histogram_takes_two_edges_as_one_bin_and_refuses_one_edge():
    hist, edges = tg.histogram(tg.tensor([0.2, 0.5, 0.7, 1.5]), bins=tg.tensor([0.0, 1.0]))
    assert hist.tolist() == [3.0] and edges.tolist() == [0.0, 1.0]  # PyTorch's
    with pytest.raises((ValueError, RuntimeError), match="histogram"):
        tg.histogram(tg.tensor([0.5]), bins=tg.tensor([0.0]))


@pytest.mark.parametrize("name", ["addmm", "addmv", "addr", "baddbmm", "addbmm"])
@pytest.mark.parametrize("beta, alpha", [(1, 0), (0.5, 0), (1, 1), (2, 3), (0, 2)])
def test_the_scaled_sums_weigh_the_product_by_alpha_including_zero(name, beta, alpha):
    """beta * input + alpha * product: alpha 0 drops the product (PyTorch: addmm(ones,
    2s, ones, alpha=0) is ones), alpha 1 keeps it as it is, beta 0 drops the input."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    v1, v2 = rng.standard_normal(3), rng.standard_normal(5)
    base, product, args = {
        "addmm": (rng.standard_normal((3, 5)), a[0] @ b[0], (a[0], b[0])),
        "addmv": (rng.standard_normal(3), a[0] @ b[0][:, 0], (a[0], b[0][:, 0])),
        "addr": (rng.standard_normal((3, 5)), np.outer(v1, v2), (v1, v2)),
        "baddbmm": (rng.standard_normal((2, 3, 5)), a @ b, (a, b)),
        "addbmm": (rng.standard_normal((3, 5)), (a @ b).sum(0), (a, b)),
    }[name]
    got = getattr(tg, name)(tg.tensor(base), *map(tg.tensor, args), beta=beta, alpha=alpha).numpy()
    np.testing.assert_allclose(got, beta * base + alpha * product, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("pad", [(2, 0), (0, 2)])
def test_reflect_padding_takes_up_to_one_less_than_the_dim(pad):
    x = tg.tensor([[[1.0, 2.0, 3.0]]])
    want = {(2, 0): [3.0, 2.0, 1.0, 2.0, 3.0], (0, 2): [1.0, 2.0, 3.0, 2.0, 1.0]}[pad]  # PyTorch's
    assert F.pad(x, pad, mode="reflect").numpy().ravel().tolist() == want
    for too_far in (3, 4, 7):
        wider = (too_far, 0) if pad[0] else (0, too_far)
        with pytest.raises((ValueError, RuntimeError), match=r"reflect padding .* must be smaller than the dim's size 3"):
            F.pad(x, wider, mode="reflect")


def test_prelu_wants_an_int_count_of_parameters():
    assert nn.PReLU(3).weight.shape == (3,)
    # PyTorch raises TypeError (torch.empty of a float size)
    for bad in (2.0, 3.5):
        with pytest.raises(TypeError, match="PReLU: num_parameters must be an int, got float"):
            nn.PReLU(bad)
    with pytest.raises(ValueError, match="PReLU: num_parameters"):
        nn.PReLU(0)
