"""The rest of torch.nn.init: trunc_normal_, orthogonal_, eye_, dirac_, sparse_,
every calculate_gain nonlinearity, and generator= on the random ones. Each
writes in place, outside the graph, and returns its tensor."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn

init = nn.init

try:
    import torch
except ImportError:
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def Phi(x):
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def truncated_moments(mean, std, a, b):
    """Mean and variance of N(mean, std^2) truncated to [a, b] (the textbook formulas)."""
    al, be = (a - mean) / std, (b - mean) / std
    z = Phi(be) - Phi(al)
    m = mean + std * (phi(al) - phi(be)) / z
    v = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / z - ((phi(al) - phi(be)) / z) ** 2)
    return m, v


# ------------------------------------------------------------------ every initializer


def _all_inits():
    return [
        ("trunc_normal_", lambda w: init.trunc_normal_(w, std=0.1)),
        ("orthogonal_", lambda w: init.orthogonal_(w)),
        ("eye_", lambda w: init.eye_(w)),
        ("sparse_", lambda w: init.sparse_(w, 0.5)),
        ("uniform_", lambda w: init.uniform_(w)),
        ("normal_", lambda w: init.normal_(w)),
        ("kaiming_normal_", lambda w: init.kaiming_normal_(w)),
        ("xavier_uniform_", lambda w: init.xavier_uniform_(w)),
    ]


@pytest.mark.parametrize("name, fn", _all_inits())
def test_each_writes_in_place_outside_the_graph_and_returns_its_tensor(name, fn):
    w = tg.zeros(6, 4, requires_grad=True)
    version = w._version
    with tg.enable_grad():
        out = fn(w)
    assert out is w and w.is_leaf and w.grad_fn is None and w.requires_grad
    assert w._version > version  # an in-place write, seen by autograd
    assert np.abs(w.detach().numpy()).sum() > 0


@pytest.mark.parametrize("name, fn", _all_inits())
def test_each_refuses_an_integer_tensor_and_a_non_tensor(name, fn):
    with pytest.raises(TypeError, match=f"{name}: tensor must be floating point, got dtype int64; call .float"):
        fn(tg.zeros(6, 4, dtype=tg.int64))
    with pytest.raises(TypeError, match=f"{name}: tensor must be a Tensor, got list"):
        fn([[1.0]])


# ------------------------------------------------------------------ trunc_normal_


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0), (0.0, 0.02, -0.04, 0.04),
                                             (1.0, 1.0, 1.5, 4.0)])
def test_trunc_normal_stays_in_bounds_with_the_truncated_moments(mean, std, a, b):
    tg.manual_seed(0)
    w = init.trunc_normal_(tg.zeros(400, 500, dtype=tg.float64), mean, std, a, b)
    x = w.numpy()
    n = x.size
    assert x.min() >= a and x.max() <= b
    width = b - a
    assert x.min() < a + 1e-3 * width and x.max() > b - 1e-3 * width  # 200,000 draws reach both ends
    m, v = truncated_moments(mean, std, a, b)
    assert abs(x.mean() - m) <= 5 * math.sqrt(v / n)
    assert abs(x.var() / v - 1) <= 5 * math.sqrt(2 / n) * 1.5  # the truncated law's kurtosis is below 3


@pytest.mark.parametrize("mean, a, b, warns", [(1.0, -2.0, 0.2, False), (2.3, -2.0, 0.2, True),
                                               (-3.9, -2.0, 0.2, False), (-4.1, -2.0, 0.2, True),
                                               (0.0, 1.0, 4.0, False), (-1.1, 1.0, 4.0, True)])
def test_trunc_normal_warns_only_when_the_mean_is_more_than_2_std_from_the_interval(mean, a, b, warns):
    """As PyTorch: a warning when mean < a - 2 std or mean > b + 2 std (std 1 here)."""
    import warnings

    tg.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        init.trunc_normal_(tg.zeros(50, dtype=tg.float64), mean, 1.0, a, b)
    said = [w for w in caught if "more than 2 std" in str(w.message)]
    assert bool(said) == warns, [str(w.message) for w in caught]


def test_trunc_normal_has_the_truncated_cdf():
    tg.manual_seed(1)
    x = init.trunc_normal_(tg.zeros(100000, dtype=tg.float64), 0.0, 1.0, -1.0, 2.5).numpy()
    n = x.size
    z = Phi(2.5) - Phi(-1.0)
    for q in (-0.9, -0.5, 0.0, 0.7, 1.5, 2.3):
        p = (Phi(q) - Phi(-1.0)) / z
        assert abs((x <= q).mean() - p) <= 5 * math.sqrt(p * (1 - p) / n)


def test_trunc_normal_defaults_are_pytorchs_and_float32_stays_float32():
    tg.manual_seed(2)
    w = init.trunc_normal_(tg.zeros(300, 300))
    x = w.numpy()
    assert x.dtype == np.float32 and x.min() >= -2 and x.max() <= 2
    _, v = truncated_moments(0.0, 1.0, -2.0, 2.0)
    assert abs(x.std() - math.sqrt(v)) < 0.01


@needs_torch
def test_trunc_normal_moments_agree_with_torchs():
    torch.manual_seed(0)
    theirs = torch.nn.init.trunc_normal_(torch.empty(400000, dtype=torch.float64), 0.5, 2.0, -1.0, 3.0).numpy()
    tg.manual_seed(0)
    ours = init.trunc_normal_(tg.zeros(400000, dtype=tg.float64), 0.5, 2.0, -1.0, 3.0).numpy()
    _, v = truncated_moments(0.5, 2.0, -1.0, 3.0)
    assert abs(ours.mean() - theirs.mean()) <= 6 * math.sqrt(2 * v / ours.size)


def test_trunc_normal_is_reproducible_and_takes_a_generator():
    tg.manual_seed(5)
    a = init.trunc_normal_(tg.zeros(50)).numpy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(init.trunc_normal_(tg.zeros(50)).numpy(), a)
    g = tg.Generator().manual_seed(9)
    b = init.trunc_normal_(tg.zeros(50), generator=g).numpy()
    tg.manual_seed(123)  # the global stream does not matter with a generator
    c = init.trunc_normal_(tg.zeros(50), generator=tg.Generator().manual_seed(9)).numpy()
    np.testing.assert_array_equal(b, c)
    assert not np.array_equal(a, b)


def test_trunc_normal_warns_as_pytorch_when_the_mean_is_far_from_the_bounds():
    with pytest.warns(UserWarning, match="trunc_normal_: mean 10.0 is more than 2 std"):
        w = init.trunc_normal_(tg.zeros(100, dtype=tg.float64), mean=10.0, std=1.0, a=-2.0, b=2.0)
    assert (w.numpy() >= -2).all() and (w.numpy() <= 2).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        init.trunc_normal_(tg.zeros(10))


def test_trunc_normal_refuses_bad_arguments():
    with pytest.raises(ValueError, match="trunc_normal_: std must be > 0.0, got 0.0"):
        init.trunc_normal_(tg.zeros(3), std=0.0)
    with pytest.raises(ValueError, match="trunc_normal_: b \\(with a=1.0\\) must be > 1.0, got 1.0"):
        init.trunc_normal_(tg.zeros(3), a=1.0, b=1.0)
    with pytest.raises(TypeError, match="trunc_normal_: mean must be a number, got str"):
        init.trunc_normal_(tg.zeros(3), mean="0")


def test_trunc_normal_takes_infinite_bounds():
    tg.manual_seed(3)
    x = init.trunc_normal_(tg.zeros(200000, dtype=tg.float64), 0.0, 1.0, 0.0, math.inf).numpy()
    assert np.isfinite(x).all() and x.min() >= 0
    m, v = truncated_moments(0.0, 1.0, 0.0, 60.0)  # the half-normal
    assert abs(x.mean() - m) <= 5 * math.sqrt(v / x.size)


# ------------------------------------------------------------------ orthogonal_


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (6, 6), (4, 2, 3), (8, 1), (1, 8)])
@pytest.mark.parametrize("dtype, tol", [(tg.float64, 1e-12), (tg.float32, 1e-6)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, dtype, tol):
    tg.manual_seed(0)
    for gain in (1.0, 2.5):
        w = init.orthogonal_(tg.zeros(*shape, dtype=dtype), gain=gain)
        assert w.shape == shape and w.dtype == dtype
        m = w.numpy().astype(np.float64).reshape(shape[0], -1) / gain
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=tol)


def test_orthogonal_is_uniform_over_the_orthogonal_matrices():
    # Householder QR alone makes Q[0, 0] = -|a_00| / ||a_0|| < 0 every time; the sign fix
    # makes every entry symmetric about 0 with E[q^2] = 1/n (the Haar measure)
    tg.manual_seed(1)
    draws = np.stack([init.orthogonal_(tg.zeros(3, 3, dtype=tg.float64)).numpy() for _ in range(600)])
    se = math.sqrt(1 / 3 / 600)
    assert np.abs(draws.mean(0)).max() <= 5 * se
    assert np.abs((draws ** 2).mean(0) - 1 / 3).max() < 0.06
    assert all(abs(np.linalg.det(d)) == pytest.approx(1.0) for d in draws[:20])


def test_orthogonal_is_reproducible_takes_a_generator_and_refuses_vectors():
    tg.manual_seed(4)
    a = init.orthogonal_(tg.zeros(4, 4)).numpy()
    tg.manual_seed(4)
    np.testing.assert_array_equal(init.orthogonal_(tg.zeros(4, 4)).numpy(), a)
    b = init.orthogonal_(tg.zeros(4, 4), generator=tg.Generator().manual_seed(1)).numpy()
    np.testing.assert_array_equal(init.orthogonal_(tg.zeros(4, 4), generator=tg.Generator().manual_seed(1)).numpy(), b)
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more dims are supported, got a 1-d "
                                         "tensor of shape \\(4,\\)"):
        init.orthogonal_(tg.zeros(4))
    with pytest.warns(UserWarning, match="orthogonal_: initializing a zero-element tensor"):
        init.orthogonal_(tg.zeros(0, 3))


# ------------------------------------------------------------------ eye_ and dirac_


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2)])
def test_eye_is_the_identity(shape):
    w = init.eye_(tg.randn(*shape))
    np.testing.assert_array_equal(w.numpy(), np.eye(*shape))


def test_eye_refuses_other_than_2_dims():
    with pytest.raises(ValueError, match="eye_: only 2-d tensors are supported, got shape \\(2, 2, 2\\).*dirac_"):
        init.eye_(tg.zeros(2, 2, 2))


def _conv1d(x, w):
    """A 'same' 1-d convolution (cross-correlation) of x (in, length) with w (out, in, k), odd k."""
    k = w.shape[2]
    pad = np.pad(x, ((0, 0), (k // 2, k // 2)))
    return np.stack([sum(np.convolve(pad[i], w[o, i, ::-1], mode="valid") for i in range(x.shape[0]))
                     for o in range(w.shape[0])])


@pytest.mark.parametrize("out_ch, in_ch, groups", [(4, 4, 1), (3, 5, 1), (6, 2, 2), (4, 4, 2)])
def test_dirac_makes_a_convolution_pass_its_channels_through(out_ch, in_ch, groups):
    w = init.dirac_(tg.randn(out_ch, in_ch, 3, dtype=tg.float64), groups=groups).numpy()
    x = np.random.default_rng(0).standard_normal((in_ch, 7))
    y = _conv1d(x, w)
    per_group = out_ch // groups
    for g in range(groups):
        for d in range(per_group):
            o = g * per_group + d
            np.testing.assert_allclose(y[o], x[d] if d < in_ch else 0.0, atol=1e-15)


@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((4, 2, 3, 3), 2), ((2, 3, 3, 5), 1),
                                           ((6, 3, 3, 3, 3), 3), ((4, 4, 2, 2), 1)])
def test_dirac_puts_ones_at_the_kernel_centre(shape, groups):
    w = init.dirac_(tg.randn(*shape), groups).numpy()
    per_group = shape[0] // groups
    expected = np.zeros(shape, np.float32)
    centre = tuple(n // 2 for n in shape[2:])
    for g in range(groups):
        for d in range(min(per_group, shape[1])):
            expected[(g * per_group + d, d) + centre] = 1
    np.testing.assert_array_equal(w, expected)
    if torch is not None:
        theirs = torch.nn.init.dirac_(torch.empty(shape), groups).numpy()
        np.testing.assert_array_equal(w, theirs)


def test_dirac_refuses_bad_shapes_and_groups():
    with pytest.raises(ValueError, match="dirac_: only 3-, 4- and 5-d tensors .* got shape \\(3, 3\\).*eye_"):
        init.dirac_(tg.zeros(3, 3))
    with pytest.raises(ValueError, match="dirac_: dim 0 \\(5 output channels\\) must be divisible by groups \\(2\\)"):
        init.dirac_(tg.zeros(5, 2, 3), groups=2)
    with pytest.raises(ValueError, match="dirac_: groups must be >= 1, got 0"):
        init.dirac_(tg.zeros(4, 2, 3), groups=0)
    # a count of groups is an int: 2.0 divides 4 channels but is refused as PyTorch refuses it,
    # and the tensor is left as it was
    w = tg.full((4, 2, 3), 7.0)
    for groups, shown in ((2.0, "float 2.0"), (1.5, "float 1.5"), (True, "bool True")):
        with pytest.raises(TypeError, match=f"dirac_: groups must be an int, got {shown}"):
            init.dirac_(w, groups=groups)
    assert w.tolist() == tg.full((4, 2, 3), 7.0).tolist()


# ------------------------------------------------------------------ sparse_


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.35, 1.0])
def test_sparse_zeros_that_many_rows_in_each_column(sparsity):
    tg.manual_seed(0)
    rows, cols = 40, 30
    w = init.sparse_(tg.zeros(rows, cols, dtype=tg.float64), sparsity, std=0.5).numpy()
    zeros = math.ceil(sparsity * rows)
    np.testing.assert_array_equal((w == 0).sum(0), np.full(cols, zeros))
    if zeros < rows:
        rest = w[w != 0]
        assert abs(rest.std() / 0.5 - 1) < 5 / math.sqrt(2 * rest.size) and abs(rest.mean()) < 5 * 0.5 / math.sqrt(rest.size)
    if 0 < zeros < rows:
        assert len({tuple(np.flatnonzero(w[:, c] == 0)) for c in range(cols)}) > 1  # drawn per column


def test_sparse_is_reproducible_and_refuses_bad_arguments():
    tg.manual_seed(6)
    a = init.sparse_(tg.zeros(10, 5), 0.3).numpy()
    tg.manual_seed(6)
    np.testing.assert_array_equal(init.sparse_(tg.zeros(10, 5), 0.3).numpy(), a)
    g = init.sparse_(tg.zeros(10, 5), 0.3, generator=tg.Generator().manual_seed(2)).numpy()
    np.testing.assert_array_equal(init.sparse_(tg.zeros(10, 5), 0.3, generator=tg.Generator().manual_seed(2)).numpy(), g)
    with pytest.raises(ValueError, match="sparse_: only 2-d tensors are supported, got shape \\(2, 2, 2\\)"):
        init.sparse_(tg.zeros(2, 2, 2), 0.5)
    with pytest.raises(ValueError, match="sparse_: sparsity must be >= 0.0 and <= 1.0, got 1.5"):
        init.sparse_(tg.zeros(2, 2), 1.5)
    with pytest.raises(ValueError, match="sparse_: std must be >= 0.0, got -0.1"):
        init.sparse_(tg.zeros(2, 2), 0.5, std=-0.1)


# ------------------------------------------------------------------ calculate_gain


GAINS = {"linear": 1.0, "conv1d": 1.0, "conv2d": 1.0, "conv3d": 1.0, "conv_transpose1d": 1.0,
         "conv_transpose2d": 1.0, "conv_transpose3d": 1.0, "sigmoid": 1.0, "tanh": 5 / 3,
         "relu": math.sqrt(2), "leaky_relu": math.sqrt(2 / (1 + 0.01 ** 2)), "selu": 0.75}


@pytest.mark.parametrize("name", sorted(GAINS))
def test_calculate_gain_covers_every_nonlinearity_of_pytorch(name):
    assert init.calculate_gain(name) == pytest.approx(GAINS[name], rel=1e-15)
    if torch is not None:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name), rel=1e-15)


def test_calculate_gain_takes_leaky_relus_slope_and_refuses_the_unknown():
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("leaky_relu", 0) == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("identity") == 1.0
    with pytest.raises(ValueError, match="calculate_gain: nonlinearity must be one of 'linear'.*'selu', got 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(TypeError, match="calculate_gain: param \\(leaky_relu's negative slope\\) must be a number, "
                                        "got str"):
        init.calculate_gain("leaky_relu", "0.1")


# ------------------------------------------------------------------ generators, empty tensors, devices


@pytest.mark.parametrize("fn", [init.uniform_, init.normal_, init.kaiming_uniform_, init.kaiming_normal_,
                                init.xavier_uniform_, init.xavier_normal_])
def test_the_random_initializers_take_a_generator(fn):
    a = fn(tg.zeros(20, 10), generator=tg.Generator().manual_seed(3)).numpy()
    tg.manual_seed(0)
    b = fn(tg.zeros(20, 10), generator=tg.Generator().manual_seed(3)).numpy()
    tg.manual_seed(0)
    c = fn(tg.zeros(20, 10)).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(TypeError, match="generator must be a tinygrad_bn.Generator, got int"):
        fn(tg.zeros(20, 10), generator=3)


def test_a_generator_draws_the_distribution_too():
    x = init.uniform_(tg.zeros(100000, dtype=tg.float64), -1.0, 3.0, generator=tg.Generator().manual_seed(0)).numpy()
    assert x.min() >= -1 and x.max() < 3 and abs(x.mean() - 1) < 5 * math.sqrt(16 / 12 / x.size)
    y = init.normal_(tg.zeros(100000, dtype=tg.float64), 2.0, 0.5, generator=tg.Generator().manual_seed(0)).numpy()
    assert abs(y.mean() - 2) < 5 * 0.5 / math.sqrt(y.size) and abs(y.std() / 0.5 - 1) < 0.01


@pytest.mark.parametrize("fn", [init.kaiming_uniform_, init.kaiming_normal_, init.xavier_uniform_, init.xavier_normal_])
def test_a_zero_element_tensor_is_left_alone_with_pytorchs_warning(fn):
    w = tg.zeros(0, 3)
    with pytest.warns(UserWarning, match="initializing a zero-element tensor"):
        assert fn(w) is w


def test_the_initializers_write_on_the_tensors_device(alt_device):
    for fn in (lambda w: init.trunc_normal_(w), init.orthogonal_, init.eye_, lambda w: init.sparse_(w, 0.5)):
        tg.manual_seed(8)
        w = fn(tg.zeros(4, 6, device="alt"))
        tg.manual_seed(8)
        ref = fn(tg.zeros(4, 6))
        assert w.device == "alt"
        np.testing.assert_array_equal(w.cpu().numpy(), ref.numpy())
    w = init.dirac_(tg.zeros(2, 2, 3, device="alt"))
    assert w.device == "alt" and w.cpu().numpy().sum() == 2
    with pytest.raises(RuntimeError, match="the generator is on 'cpu' and the result on 'alt'"):
        init.orthogonal_(tg.zeros(3, 3, device="alt"), generator=tg.Generator())
