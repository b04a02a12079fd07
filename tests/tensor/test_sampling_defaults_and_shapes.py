"""The samplers with PyTorch's default parameters: bernoulli_() draws 1 with probability
0.5, exponential_() at rate 1, cauchy_() about median 0 with scale 1, log_normal_()
with log-mean 1 and log-std 2, normal(mean) with std 1 (moments within 6 standard
errors, with a fixed generator); each fill returns the tensor itself, in its shape and
dtype. multinomial's shapes and its exact limit without replacement."""
import math
import re

import numpy as np
import pytest

import tinygrad_bn as tg

N = 20000


def _near(value, want, stderr):
    assert abs(value - want) <= 6 * stderr, (value, want, stderr)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_in_place_fills_at_their_defaults_return_the_tensor_itself(dtype):
    g = tg.Generator().manual_seed(11)
    x = tg.zeros(2, N // 2, dtype=dtype)
    fills = {"bernoulli_": lambda: x.bernoulli_(generator=g), "exponential_": lambda: x.exponential_(generator=g),
             "cauchy_": lambda: x.cauchy_(generator=g), "log_normal_": lambda: x.log_normal_(generator=g)}
    drawn = {}
    for name, fill in fills.items():
        out = fill()
        assert out is x and x.shape == (2, N // 2) and x.dtype == dtype, name
        drawn[name] = x.numpy().astype(np.float64).reshape(-1).copy()
    b = drawn["bernoulli_"]
    assert set(np.unique(b)) == {0.0, 1.0}
    _near(b.mean(), 0.5, 0.5 / math.sqrt(N))
    e = drawn["exponential_"]
    _near(e.mean(), 1.0, 1.0 / math.sqrt(N))
    c = drawn["cauchy_"]
    _near((c < 0.0).mean(), 0.5, 0.5 / math.sqrt(N))  # the median is 0
    _near((c < 1.0).mean(), 0.75, math.sqrt(0.1875 / N))  # and the upper quartile 0 + 1
    ln = np.log(drawn["log_normal_"])
    _near(ln.mean(), 1.0, 2.0 / math.sqrt(N))
    _near(ln.std(), 2.0, 2.0 / math.sqrt(2 * N))


def test_normal_of_a_tensor_mean_has_std_one_by_default():
    """torch.normal(mean) draws N(mean, 1) in mean's shape and dtype."""
    g = tg.Generator().manual_seed(12)
    mean = tg.full((N,), 3.0, dtype=tg.float64)
    z = tg.normal(mean, generator=g)
    assert z.shape == (N,) and z.dtype == tg.float64
    values = z.numpy()
    _near(values.mean(), 3.0, 1.0 / math.sqrt(N))
    _near(values.std(), 1.0, 1.0 / math.sqrt(2 * N))


def test_draws_with_the_same_seed_repeat_and_a_fill_changes_every_element():
    a = tg.zeros(50).log_normal_(generator=tg.Generator().manual_seed(3)).numpy()
    b = tg.zeros(50).log_normal_(generator=tg.Generator().manual_seed(3)).numpy()
    np.testing.assert_array_equal(a, b)
    assert (a > 0).all() and len(np.unique(a)) == 50


def test_multinomial_shapes_and_its_limit_without_replacement():
    """(num_samples,) for 1-d weights, (rows, num_samples) for 2-d, int64; without replacement
    exactly as many samples as categories of positive weight is allowed (each drawn once)."""
    g = tg.Generator().manual_seed(5)
    one = tg.multinomial(tg.tensor([1.0, 0.0, 2.0]), 2, generator=g)
    assert one.shape == (2,) and one.dtype == tg.int64 and sorted(one.tolist()) == [0, 2]
    rows = tg.multinomial(tg.tensor([[1.0, 1.0, 1.0], [0.0, 3.0, 1.0]]), 2, generator=g)
    assert rows.shape == (2, 2) and sorted(rows[1].tolist()) == [1, 2] and len(set(rows[0].tolist())) == 2
    assert tg.multinomial(tg.tensor([0.0, 0.0, 5.0]), 4, replacement=True, generator=g).tolist() == [2, 2, 2, 2]
    with pytest.raises(RuntimeError, match=re.escape("multinomial: row 1 of the weights sums to 0; expected a "
                                                     "positive sum")):
        tg.multinomial(tg.tensor([[1.0, 1.0], [0.0, 0.0]]), 1)
