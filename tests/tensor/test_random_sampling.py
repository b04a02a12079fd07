"""Generator, randint, randperm and multinomial, as makemore-style scripts use them."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import backends
from tinygrad_bn.backends.cpu import cpu_backend


def test_a_generator_is_a_stream_of_its_own():
    g1, g2 = tg.Generator().manual_seed(5), tg.Generator().manual_seed(5)
    a = tg.randn(4, generator=g1)
    tg.manual_seed(0)
    tg.randn(10)  # the default stream moves; g2 does not
    assert a.tolist() == tg.randn(4, generator=g2).tolist()
    assert tg.rand(3, generator=g1).tolist() != tg.rand(3, generator=tg.Generator().manual_seed(6)).tolist()
    tg.manual_seed(1)
    before = tg.rand(3).tolist()
    tg.manual_seed(1)
    tg.rand(5, generator=g1)  # drawing from g1 leaves the default stream where it was
    assert tg.rand(3).tolist() == before
    fresh = tg.Generator()
    assert fresh.initial_seed() == 67280421310721 and fresh.manual_seed(9) is fresh
    assert tg.randn(2, generator=tg.Generator()).tolist() == tg.randn(2, generator=tg.Generator()).tolist()
    assert fresh.seed() == fresh.initial_seed()


GENERATOR_DRAWS = {
    "Tensor.uniform_": lambda g: tg.zeros(3, 4).uniform_(-2.0, 3.0, generator=g),
    "Tensor.normal_": lambda g: tg.zeros(3, 4, dtype=tg.float64).normal_(1.0, 0.5, generator=g),
    "rand_like": lambda g: tg.rand_like(tg.zeros(3, 4), generator=g),
    "randn_like": lambda g: tg.randn_like(tg.zeros(3, 4, dtype=tg.float64), generator=g),
    "randint_like": lambda g: tg.randint_like(tg.zeros(3, 4), 10, generator=g),
    "randint_like(low, high)": lambda g: tg.randint_like(tg.zeros(3, 4, dtype=tg.int64), -5, 5, generator=g),
}


@pytest.mark.parametrize("name", GENERATOR_DRAWS)
def test_fills_and_like_functions_draw_from_a_generator(name):
    """The same seed gives the same draws; the default stream is not moved; the draws are the
    generator's (another seed gives others); dtype and bounds are kept."""
    draw = GENERATOR_DRAWS[name]
    first = draw(tg.Generator().manual_seed(11))
    assert first.tolist() == draw(tg.Generator().manual_seed(11)).tolist()
    assert first.tolist() != draw(tg.Generator().manual_seed(12)).tolist()
    tg.manual_seed(3)
    expected = tg.rand(5).tolist()
    tg.manual_seed(3)
    draw(tg.Generator().manual_seed(11))
    assert tg.rand(5).tolist() == expected  # the default stream is where it was
    values = first.numpy()
    if name == "Tensor.uniform_":
        assert values.dtype == np.float32 and values.min() >= -2.0 and values.max() < 3.0
    if name.startswith("randint_like"):
        low, high = (-5, 5) if "low" in name else (0, 10)
        assert (values == np.round(values)).all() and values.min() >= low and values.max() < high
    if name == "Tensor.normal_":
        assert values.dtype == np.float64 and abs(values.mean() - 1.0) < 0.5


def test_uniform_and_normal_fills_from_a_generator_are_its_rand_and_randn():
    u = tg.zeros(5, dtype=tg.float64).uniform_(2.0, 4.0, generator=tg.Generator().manual_seed(1))
    r = tg.rand(5, dtype=tg.float64, generator=tg.Generator().manual_seed(1))
    np.testing.assert_allclose(u.numpy(), 2.0 + 2.0 * r.numpy(), rtol=1e-15)
    plain = tg.zeros(5, dtype=tg.float64).uniform_(generator=tg.Generator().manual_seed(1))  # PyTorch's [0, 1)
    np.testing.assert_array_equal(plain.numpy(), r.numpy())
    n = tg.zeros(5, dtype=tg.float64).normal_(-1.0, 3.0, generator=tg.Generator().manual_seed(1))
    z = tg.randn(5, dtype=tg.float64, generator=tg.Generator().manual_seed(1))
    np.testing.assert_allclose(n.numpy(), -1.0 + 3.0 * z.numpy(), rtol=1e-15)
    with pytest.raises(TypeError, match="uniform_: generator must be a tinygrad_bn.Generator, got int"):
        tg.zeros(2).uniform_(generator=3)


def test_the_in_place_fills_take_pytorchs_calling_forms():
    """PyTorch's ``uniform_(from=0, to=1, *, generator=None)``, ``normal_(mean=0, std=1, *,
    generator=None)`` and ``random_(from, to, *, generator=None)``: bounds by position,
    ``to``/``mean``/``std`` by keyword, the generator by keyword only."""
    g = tg.Generator()
    for fill, want in ((lambda x: x.uniform_(2.0, to=3.0, generator=g.manual_seed(1)), (2.0, 3.0)),
                       (lambda x: x.uniform_(from_=-1.0, to=0.0), (-1.0, 0.0)),
                       (lambda x: x.random_(2, to=4, generator=g.manual_seed(1)), (2.0, 3.0))):
        values = fill(tg.zeros(200, dtype=tg.float64)).numpy()
        assert want[0] <= values.min() and values.max() <= want[1]
    assert abs(tg.zeros(2000).normal_(mean=5.0, std=0.1).numpy().mean() - 5.0) < 0.05
    with pytest.raises(TypeError):
        tg.zeros(2).uniform_(0.0, 1.0, g)  # the generator is keyword only, as PyTorch's
    with pytest.raises(ValueError, match=r"uniform_: to \(with from=2.0\) must be >= 2.0, got 1.0"):
        tg.zeros(2).uniform_(2.0, 1.0)


def test_manual_seed_returns_the_default_stream_as_a_generator():
    """As PyTorch's (which returns torch.default_generator): drawing with it is drawing without one."""
    g = tg.manual_seed(4)
    assert isinstance(g, tg.Generator) and g.device == "cpu" and g.initial_seed() == 4 == tg.initial_seed()
    expected = tg.rand(3).tolist()
    tg.manual_seed(4)
    assert tg.rand(3, generator=g).tolist() == expected
    assert g.manual_seed(4) is g and tg.initial_seed() == 4  # reseeding through it reseeds the default stream
    assert tg.randn(2, generator=g).tolist() == (tg.manual_seed(4), tg.randn(2))[1].tolist()
    assert "initial_seed=4" in repr(g)


def test_randint_and_randperm():
    g = tg.Generator().manual_seed(0)
    x = tg.randint(3, 7, (2000,), generator=g)
    assert x.dtype == np.int64 and x.shape == (2000,) and set(np.unique(x.numpy())) == {3, 4, 5, 6}
    assert tg.randint(4, (2, 3)).shape == (2, 3) and tg.randint(0, 2, size=(5,)).shape == (5,)
    assert tg.randint(10, (3,), dtype=tg.float32).dtype == np.float32
    p = tg.randperm(50, generator=g)
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))
    with pytest.raises(ValueError, match="randint: expected low < high, got low=5, high=5"):
        tg.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="randint: size must be a tuple"):
        tg.randint(5, 3)
    with pytest.raises(TypeError, match=r"randint: expected \(high, size\) or \(low, high, size\), got 4 arg"):
        tg.randint(1, 2, 3, (4,))
    with pytest.raises(TypeError, match=r"randint: expected \(high, size\) or \(low, high, size\), got 1 arg"):
        tg.randint(5)  # no size, as PyTorch refuses it
    with pytest.raises(TypeError, match=r"randint: expected \(high, size\) or \(low, high, size\), got 0 arg"):
        tg.randint()


def test_multinomial_draws_in_proportion_to_the_weights():
    g = tg.Generator().manual_seed(1)
    w = np.array([[1.0, 0.0, 3.0, 4.0], [0.5, 0.5, 0.0, 0.0]])
    n = 40000
    draws = tg.multinomial(tg.tensor(w), n, replacement=True, generator=g).numpy()
    assert draws.shape == (2, n) and draws.dtype == np.int64
    for row, weights in zip(draws, w):
        p = weights / weights.sum()
        freq = np.bincount(row, minlength=4) / n
        assert np.all(np.abs(freq - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-12), (freq, p)
        assert not np.any(freq[p == 0])  # a category of weight 0 is never drawn
    # without replacement: distinct indices, the first draw distributed as one draw with replacement
    rows = tg.multinomial(tg.tensor(np.tile(w[:1], (20000, 1))), 3, generator=g).numpy()
    assert all(len(set(r)) == 3 for r in rows) and not np.any(rows == 1)
    first = np.bincount(rows[:, 0], minlength=4) / len(rows)
    np.testing.assert_allclose(first, w[0] / w[0].sum(), atol=0.015)
    one = tg.tensor([0.2, 0.8]).multinomial(1, generator=g)
    assert one.shape == (1,) and one.item() in (0, 1)


def test_multinomial_refuses_what_is_no_distribution():
    cases = [
        (tg.tensor([0.5, -0.1]), 1, True, "non-negative weights; the input holds negative values"),
        (tg.tensor([0.0, 0.0]), 1, True, "row 0 of the weights sums to 0"),
        (tg.tensor([1.0, 0.0, 2.0]), 3, False, "cannot draw 3 samples without replacement from a row with 2"),
        (tg.ones(2, 2, 2), 1, True, "1-d or 2-d floating point"),
        (tg.tensor([1, 2]), 1, True, "1-d or 2-d floating point"),
        (tg.tensor([1.0, float("nan")]), 1, True, "NaN or Inf"),
    ]
    for weights, k, replacement, message in cases:
        with pytest.raises(RuntimeError, match=message):
            tg.multinomial(weights, k, replacement)
    with pytest.raises(ValueError, match="num_samples must be a positive int, got 0"):
        tg.multinomial(tg.ones(3), 0)
    with pytest.raises(TypeError, match="generator must be a tinygrad_bn.Generator, got int"):
        tg.randn(2, generator=3)


def test_a_generator_belongs_to_one_device(monkeypatch):
    monkeypatch.setitem(backends._BACKENDS, "alt", cpu_backend("alt"))
    g = tg.Generator(device="alt")
    assert tg.randn(3, generator=g, device="alt").device == "alt"
    with pytest.raises(RuntimeError, match="the generator is on 'alt' and the result on 'cpu'"):
        tg.randn(3, generator=g)
    with pytest.raises(RuntimeError, match="generator is on 'alt'"):
        tg.multinomial(tg.ones(3), 1, generator=g)


def test_makemore_style_sampling_runs_as_written():
    """Karpathy's makemore part 3 sampling loop, with only the import changed."""
    torch = tg
    g = torch.Generator().manual_seed(2147483647 + 10)
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g) * (5 / 3) / (30 ** 0.5)
    W2 = torch.randn((200, 27), generator=g) * 0.01
    bngain, bnbias = torch.ones((1, 200)), torch.zeros((1, 200))
    bnmean, bnstd = torch.zeros((1, 200)), torch.ones((1, 200))
    names = []
    for _ in range(5):
        out, context = [], [0] * 3
        while len(out) < 20:
            emb = C[torch.tensor([context])]
            h = torch.tanh(bngain * (emb.view(1, -1) @ W1 - bnmean) / bnstd + bnbias)
            probs = torch.nn.functional.softmax(h @ W2, dim=1)
            ix = torch.multinomial(probs, num_samples=1, generator=g).item()
            context = context[1:] + [ix]
            out.append(ix)
            if ix == 0:
                break
        names.append(out)
    assert all(1 <= len(n) <= 20 and all(0 <= i < 27 for i in n) for n in names)
    ix = torch.randint(0, 100, (32,), generator=g)
    assert ix.shape == (32,) and 0 <= int(ix.min()) and int(ix.max()) < 100


def test_normal_of_numbers_takes_the_default_dtype_or_a_float_one():
    """tg.normal(mean, std, size) is in the default dtype unless told another float dtype,
    as torch.normal; a non-float dtype is refused (it drew True for every element of a bool one)."""
    assert tg.normal(0.0, 1.0, (3,)).dtype == tg.get_default_dtype()
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.normal(0.0, 1.0, (3,)).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert tg.normal(0.0, 1.0, (3,), dtype=tg.float16).dtype == tg.float16
    for dtype in (tg.bool_, tg.int64):
        with pytest.raises(TypeError, match="normal: random values are floating point"):
            tg.normal(0.0, 1.0, (3,), dtype=dtype)
