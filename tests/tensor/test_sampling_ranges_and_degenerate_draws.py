"""The samplers at their exact values: random_() without bounds spans every integer
the dtype holds exactly (2^24 for float32, 2^53 for float64) and no more; a zero std
gives the mean itself; probabilities of exactly 0 and 1 give 0 and 1 (PyTorch's
values for each)."""
import numpy as np
import pytest

import tinygrad_bn as tg


@pytest.mark.parametrize("dtype, bits", [(tg.float32, 24), (tg.float64, 53)])
def test_random_without_bounds_spans_the_integers_the_dtype_holds_exactly(dtype, bits):
    """[0, 2^(mantissa bits + 1)): 2000 draws all fall below 2^bits, and some reach the
    upper half (each misses it with probability 1/2)."""
    tg.manual_seed(3)
    x = tg.zeros(2000, dtype=dtype).random_().numpy()
    assert x.min() >= 0 and (x == np.floor(x)).all()
    assert x.max() < 2.0 ** bits
    assert x.max() >= 2.0 ** (bits - 1)


def test_random_with_one_bound_draws_below_it_from_zero():
    tg.manual_seed(4)
    x = tg.zeros(2000).random_(3).numpy()
    assert set(np.unique(x)) == {0.0, 1.0, 2.0}


def test_normal_with_a_zero_std_gives_the_mean_itself():
    """std >= 0 is allowed, 0 included (torch.normal(tensor([1., 2.]), 0.0) is tensor([1., 2.]))."""
    mean = tg.tensor([1.0, 2.0, -3.5])
    np.testing.assert_array_equal(tg.normal(mean, 0.0).numpy(), [1.0, 2.0, -3.5])
    np.testing.assert_array_equal(tg.normal(mean, tg.zeros(3)).numpy(), [1.0, 2.0, -3.5])
    np.testing.assert_array_equal(tg.normal(2.0, tg.zeros(2)).numpy(), [2.0, 2.0])
    np.testing.assert_array_equal(tg.normal(0.5, 0.0, (2,)).numpy(), [0.5, 0.5])
    g = tg.Generator().manual_seed(1)
    np.testing.assert_array_equal(tg.normal(mean, 0.0, generator=g).numpy(), [1.0, 2.0, -3.5])
    with pytest.raises(RuntimeError, match="normal: std must be >= 0"):
        tg.normal(mean, -1e-6)


def test_bernoulli_of_probabilities_0_and_1_is_exact():
    """torch.bernoulli(tensor([0., 1., 0., 1.])) is tensor([0., 1., 0., 1.])."""
    p = tg.tensor([0.0, 1.0, 0.0, 1.0] * 50, dtype=tg.float64)
    for g in (None, tg.Generator().manual_seed(2)):
        out = tg.bernoulli(p, generator=g)
        assert out.dtype == tg.float64
        np.testing.assert_array_equal(out.numpy(), p.numpy())
    with pytest.raises(RuntimeError, match="expected probabilities in \\[0, 1\\]"):
        tg.bernoulli(tg.tensor([0.5, 1.0 + 1e-6]))
    with pytest.raises(RuntimeError, match="expected probabilities in \\[0, 1\\]"):
        tg.bernoulli(tg.tensor([-1e-6, 0.5]))
