"""Creation ops (linspace, logspace, eye, as_tensor, asarray, *_like) against NumPy,
and the samplers (bernoulli, poisson, normal, the in-place fills, random state)
by their distributions' moments and quantiles over many draws: each check allows
about five standard errors, so a correct sampler fails one in millions of runs."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg

N = 40_000


def _within(estimate, expected, standard_error, k=5.0):
    assert abs(estimate - expected) <= k * standard_error, (estimate, expected, standard_error)


def test_linspace_and_logspace_match_numpy():
    for start, end, steps in ((0.0, 1.0, 5), (-3, 7.5, 11), (2.0, -2.0, 4), (1.0, 1.0, 3), (5.0, 9.0, 1)):
        got = tg.linspace(start, end, steps, dtype=tg.float64)
        np.testing.assert_allclose(got.numpy(), np.linspace(start, end, steps), rtol=1e-15, atol=1e-15)
        assert got.numpy()[-1] == (end if steps > 1 else start)
    assert tg.linspace(0, 1, 0).shape == (0,) and tg.linspace(0, 1, 3).dtype == np.float32
    np.testing.assert_allclose(tg.logspace(-2, 3, 6, dtype=tg.float64).numpy(), np.logspace(-2, 3, 6), rtol=1e-15)
    np.testing.assert_allclose(tg.logspace(0, 4, 5, base=2.0).numpy(), [1, 2, 4, 8, 16])
    with pytest.raises(ValueError, match="linspace: steps must be an int >= 0, got -1"):
        tg.linspace(0, 1, -1)


def test_eye_empty_like_and_randint_like():
    np.testing.assert_array_equal(tg.eye(3).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(tg.eye(2, 4, dtype=tg.int64).numpy(), np.eye(2, 4, dtype=np.int64))
    assert tg.eye(0).shape == (0, 0)
    x = tg.ones(2, 3, dtype=tg.float64)
    e = tg.empty_like(x)
    assert e.shape == (2, 3) and e.dtype == np.float64 and not e.requires_grad
    tg.manual_seed(3)
    r = tg.randint_like(x, 10)
    assert r.dtype == np.float64 and r.numpy().min() >= 0 and r.numpy().max() < 10
    assert set(tg.randint_like(tg.zeros(1000, dtype=tg.int64), 3).tolist()) == {0, 1, 2}  # high alone: from 0
    r = tg.randint_like(tg.zeros(1000, dtype=tg.int64), 5, 8)
    assert set(r.tolist()) == {5, 6, 7}
    with pytest.raises(ValueError, match="eye: n must be an int >= 0, got -2"):
        tg.eye(-2)


def test_as_tensor_shares_memory_when_it_can_and_asarray_copies_when_asked():
    a = np.arange(6.0).reshape(2, 3)
    t = tg.as_tensor(a)
    a[0, 0] = 42.0
    assert t[0, 0].item() == 42.0  # the same memory, as torch.as_tensor of a NumPy array
    c = tg.as_tensor(a, dtype=tg.float32)
    a[0, 1] = -1.0
    assert c.dtype == np.float32 and c[0, 1].item() == 1.0  # another dtype: a copy
    x = tg.ones(3)
    assert tg.as_tensor(x) is x and tg.as_tensor(x, dtype=tg.float64).dtype == np.float64
    assert tg.as_tensor([1, 2]).dtype == np.int64
    copied = tg.asarray(x, copy=True)
    copied.add_(1)
    assert x.tolist() == [1.0, 1.0, 1.0]
    assert tg.asarray(a, copy=False).numpy() is a or np.shares_memory(tg.asarray(a, copy=False).numpy(), a)
    with pytest.raises(ValueError, match="asarray: copy=False, but the data must be copied"):
        tg.asarray([1.0, 2.0], copy=False)
    assert tg.asarray([1.0, 2.0], requires_grad=True).requires_grad
    # an array that cannot be shared (another byte order) is copied into native order, as a value
    big = np.arange(4.0, dtype=">f8")
    t = tg.as_tensor(big)
    assert t.dtype == np.float64 and t.tolist() == [0.0, 1.0, 2.0, 3.0]
    big[0] = 9.0
    assert t.tolist()[0] == 0.0


def test_bernoulli_draws_ones_with_the_given_probabilities():
    tg.manual_seed(0)
    p = tg.tensor(np.repeat([0.0, 0.2, 0.9, 1.0], N // 4).astype(np.float32))
    out = tg.bernoulli(p).numpy().reshape(4, -1)
    assert set(np.unique(out)) <= {0.0, 1.0} and out.dtype == np.float32
    assert out[0].sum() == 0 and out[3].sum() == N // 4
    for row, q in ((1, 0.2), (2, 0.9)):
        _within(out[row].mean(), q, math.sqrt(q * (1 - q) / (N // 4)))
    _within(tg.zeros(N).bernoulli(0.3).numpy().mean(), 0.3, math.sqrt(0.21 / N))
    _within(tg.zeros(N).bernoulli_(0.7).numpy().mean(), 0.7, math.sqrt(0.21 / N))
    filled = tg.zeros(2, N // 2).bernoulli_(tg.tensor([[0.1], [0.6]])).numpy()
    _within(filled[0].mean(), 0.1, math.sqrt(0.09 / (N // 2)))
    _within(filled[1].mean(), 0.6, math.sqrt(0.24 / (N // 2)))
    with pytest.raises(RuntimeError, match=r"bernoulli: expected probabilities in \[0, 1\]"):
        tg.bernoulli(tg.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"bernoulli_: p must be a probability in \[0, 1\], got 2"):
        tg.zeros(3).bernoulli_(2)


def test_draws_repeat_under_the_same_seed_and_generator():
    for draw in (lambda g: tg.bernoulli(tg.full((50,), 0.5), generator=g),
                 lambda g: tg.poisson(tg.full((50,), 3.0), generator=g),
                 lambda g: tg.normal(tg.zeros(50), 2.0, generator=g),
                 lambda g: tg.zeros(50).exponential_(2.0, generator=g),
                 lambda g: tg.zeros(50).log_normal_(generator=g)):
        tg.manual_seed(11)
        first = draw(None).tolist()
        tg.manual_seed(11)
        assert draw(None).tolist() == first
        g1, g2 = tg.Generator().manual_seed(5), tg.Generator().manual_seed(5)
        assert draw(g1).tolist() == draw(g2).tolist()


def test_poisson_counts_have_mean_and_variance_equal_to_the_rate():
    tg.manual_seed(1)
    for rate in (0.5, 4.0, 60.0):
        counts = tg.poisson(tg.full((N,), rate, dtype=tg.float64)).numpy()
        assert counts.dtype == np.float64 and (counts == np.round(counts)).all() and counts.min() >= 0
        _within(counts.mean(), rate, math.sqrt(rate / N))
        _within(counts.var(), rate, rate * math.sqrt(2 / N + 1 / (rate * N)))
    with pytest.raises(RuntimeError, match="poisson: expected finite rates >= 0"):
        tg.poisson(tg.tensor([1.0, -1.0]))


def test_normal_in_its_forms():
    tg.manual_seed(2)
    z = tg.normal(tg.full((N,), 3.0), 2.0).numpy()
    _within(z.mean(), 3.0, 2.0 / math.sqrt(N))
    _within(z.std(), 2.0, 2.0 / math.sqrt(2 * N))
    out = tg.normal(tg.zeros(N, 1), tg.tensor([1.0, 10.0]))
    assert out.shape == (N, 2)
    _within(out.numpy()[:, 1].std(), 10.0, 10.0 / math.sqrt(2 * N))
    fixed = tg.normal(-1.0, 0.5, size=(N,))
    assert fixed.shape == (N,) and fixed.dtype == np.float32
    _within(fixed.numpy().mean(), -1.0, 0.5 / math.sqrt(N))
    default_std = tg.normal(tg.full((N,), -2.0)).numpy()  # std defaults to 1, as PyTorch's
    _within(default_std.std(), 1.0, 1.0 / math.sqrt(2 * N))
    mean = tg.zeros(3, requires_grad=True)
    assert not tg.normal(mean, 1.0).requires_grad
    with pytest.raises(TypeError, match="normal: with a number mean and std, give size"):
        tg.normal(0.0, 1.0)
    with pytest.raises(RuntimeError, match="normal: std must be >= 0"):
        tg.normal(tg.zeros(2), tg.tensor([1.0, -1.0]))


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
def test_samplers_at_the_edges_of_their_parameters_give_the_one_value_there_is(dtype):
    """At the end of a parameter's range a distribution has one value: every draw is it,
    without a warning."""
    tg.manual_seed(5)
    x = tg.zeros(500, dtype=dtype)
    edges = {
        "geometric_(1)": (lambda: x.geometric_(1.0), 1.0),  # the first trial succeeds
        "bernoulli_(0)": (lambda: x.bernoulli_(0.0), 0.0),
        "bernoulli_(1)": (lambda: x.bernoulli_(1.0), 1.0),
        "random_(3, 4)": (lambda: x.random_(3, 4), 3.0),
        "uniform_(2, 2)": (lambda: x.uniform_(2.0, 2.0), 2.0),
        "normal_(-1, 0)": (lambda: x.normal_(-1.0, 0.0), -1.0),
        "bernoulli(ones)": (lambda: tg.bernoulli(tg.ones(500, dtype=dtype)), 1.0),
        "poisson(zeros)": (lambda: tg.poisson(tg.zeros(500, dtype=dtype)), 0.0),
    }
    for name, (draw, value) in edges.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and quietly: no "divide by zero" from a log of 1 - 1
            np.testing.assert_array_equal(draw().numpy(), np.full(500, value), err_msg=name)


def test_in_place_fills_have_their_distributions():
    tg.manual_seed(4)
    x = tg.zeros(N, dtype=tg.float64)
    lam = 2.5
    e = x.exponential_(lam).numpy().copy()
    assert e.min() >= 0
    _within(e.mean(), 1 / lam, (1 / lam) / math.sqrt(N))
    for t in (0.2, 1.0):  # P(X > t) = exp(-lam t)
        q = math.exp(-lam * t)
        _within((e > t).mean(), q, math.sqrt(q * (1 - q) / N))
    c = x.cauchy_(1.0, 2.0).numpy().copy()
    _within((c < 1.0).mean(), 0.5, math.sqrt(0.25 / N))  # the median
    _within((c < 3.0).mean(), 0.75, math.sqrt(0.1875 / N))  # median + sigma is the upper quartile
    g = x.geometric_(0.25).numpy().copy()
    assert g.min() >= 1 and (g == np.round(g)).all()
    _within(g.mean(), 4.0, math.sqrt(0.75 / 0.25 ** 2 / N))
    _within((g == 1).mean(), 0.25, math.sqrt(0.25 * 0.75 / N))
    ln = np.log(x.log_normal_(0.5, 0.3).numpy())
    _within(ln.mean(), 0.5, 0.3 / math.sqrt(N))
    _within(ln.std(), 0.3, 0.3 / math.sqrt(2 * N))
    r = x.random_(3, 9).numpy()
    assert set(np.unique(r)) == {3.0, 4.0, 5.0, 6.0, 7.0, 8.0}
    assert tg.zeros(100).random_(4).numpy().max() < 4
    big = tg.zeros(1000).random_().numpy()
    assert big.max() <= 2 ** 24 and (big == np.round(big)).all()
    with pytest.raises(ValueError, match="exponential_: lambd must be a finite number > 0, got -1"):
        x.exponential_(-1)
    # every positive scale of the samplers refuses what is not a finite number > 0, and leaves x alone
    before = x.numpy().copy()
    for fill, name in ((lambda v: x.exponential_(v), "exponential_: lambd"),
                       (lambda v: x.cauchy_(0.0, v), "cauchy_: sigma"),
                       (lambda v: x.log_normal_(0.0, v), "log_normal_: std")):
        for bad in (0, -2.5, float("inf"), float("nan"), True):
            with pytest.raises(ValueError, match=f"{name} must be a finite number > 0, got {bad!r}"):
                fill(bad)
    np.testing.assert_array_equal(x.numpy(), before)
    with pytest.raises(ValueError, match="random_: expected from < to, got from=5, to=5"):
        x.random_(5, 5)
    leaf = tg.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf tensor that requires grad is being changed in place"):
        leaf.cauchy_()


def test_the_random_state_round_trips_and_rejects_other_data():
    tg.manual_seed(9)
    assert tg.initial_seed() == 9
    state = tg.get_rng_state()
    assert state.dtype == np.uint8 and state.ndim == 1
    first = tg.rand(5).tolist()
    tg.set_rng_state(state)
    assert tg.rand(5).tolist() == first
    s = tg.seed()
    assert tg.initial_seed() == s and s >= 0
    with pytest.raises(TypeError, match="set_rng_state: expected the uint8 tensor get_rng_state returned"):
        tg.set_rng_state([1, 2, 3])
    with pytest.raises(ValueError, match="set_rng_state: the tensor is not a state from get_rng_state"):
        tg.set_rng_state(tg.tensor(list(b'{"bit_generator": "MT19937"}'), dtype=tg.uint8))
    with pytest.raises(ValueError, match="set_rng_state: the tensor is not a state from get_rng_state"):
        tg.set_rng_state(tg.tensor([255, 0, 7], dtype=tg.uint8))
    assert tg.rand(1).shape == (1,)  # the generator still works after the refused states


def test_a_seed_from_the_os_fits_an_int64_and_reseeds_alike():
    """tg.seed() and Generator.seed() draw 63 bits: a seed a checkpoint stores as an int64
    and torch.manual_seed accepts, different from draw to draw, that reseeds alike."""
    for draw in (tg.seed, lambda: tg.Generator().seed()):
        seeds = [draw() for _ in range(100)]
        assert all(type(s) is int and 0 <= s < 2 ** 63 for s in seeds)
        assert len(set(seeds)) == len(seeds)
        assert max(seeds) >= 2 ** 61  # all 63 bits are drawn: 100 seeds below 2^61 is a chance of 4^-100
        np.asarray(seeds, dtype=np.int64)  # no overflow
    g = tg.Generator()
    s = g.seed()
    assert tg.rand(3, generator=g).tolist() == tg.rand(3, generator=tg.Generator().manual_seed(s)).tolist()


def test_the_deprecated_range_includes_its_end_and_warns():
    with pytest.warns(UserWarning, match="range is deprecated"):
        r = tg.range(1, 4)
    assert r.tolist() == [1.0, 2.0, 3.0, 4.0] and r.dtype == np.float32
    with pytest.warns(UserWarning):
        np.testing.assert_allclose(tg.range(0, 1, 0.25).numpy(), [0.0, 0.25, 0.5, 0.75, 1.0])
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="range: step -1 must be non-zero and point"):
        tg.range(0, 3, -1)
    with pytest.warns(UserWarning):  # a negative step counts down, to end inclusive, as torch.range
        np.testing.assert_allclose(tg.range(5, 1, -2).numpy(), [5.0, 3.0, 1.0])
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="range: step 0 must be non-zero"):
        tg.range(0, 3, 0)
