"""PyTorch's second names and in-place forms: every alias gives what the name it
stands for gives (method and free function), and every in-place form writes the
out-of-place values into its tensor, returns it, and is recorded so the gradient
through it equals the out-of-place one's."""
import numpy as np
import pytest

import tinygrad_bn as tg

RNG = np.random.default_rng(3)
A = RNG.uniform(0.2, 0.8, (3, 4))  # inside every function's domain below
B = RNG.uniform(0.3, 0.9, (3, 4))

# alias -> (the name it stands for, further arguments); tensors stand for B
ALIASES = {
    "absolute": ("abs", ()), "arccos": ("acos", ()), "arccosh": ("acosh", ()), "arcsin": ("asin", ()),
    "arcsinh": ("asinh", ()), "arctan": ("atan", ()), "arctanh": ("atanh", ()), "arctan2": ("atan2", ("B",)),
    "fix": ("trunc", ()), "negative": ("neg", ()), "sgn": ("sign", ()), "subtract": ("sub", ("B",)),
    "multiply": ("mul", ("B",)), "divide": ("div", ("B",)), "true_divide": ("div", ("B",)),
    "greater": ("gt", ("B",)), "greater_equal": ("ge", ("B",)), "less": ("lt", ("B",)),
    "less_equal": ("le", ("B",)), "not_equal": ("ne", ("B",)), "clip": ("clamp", (0.3, 0.6)),
}
# free functions PyTorch has under both names
FREE_ALIASES = ["absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "arctan2", "fix",
                "negative", "sgn", "subtract", "multiply", "divide", "true_divide", "greater", "greater_equal",
                "less", "less_equal", "not_equal", "clip"]


def _args(spec, b):
    return tuple(b if a == "B" else a for a in spec)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_an_alias_gives_what_its_name_gives(alias):
    target, spec = ALIASES[alias]
    a, b = tg.tensor(A), tg.tensor(B)
    want = getattr(a, target)(*_args(spec, b)).numpy()
    np.testing.assert_array_equal(getattr(a, alias)(*_args(spec, b)).numpy(), want)
    if alias in FREE_ALIASES:
        np.testing.assert_array_equal(getattr(tg, alias)(a, *_args(spec, b)).numpy(), want)


# in-place form -> further arguments (B: a tensor operand)
IN_PLACE = {
    "abs_": (), "absolute_": (), "acos_": (), "arccos_": (), "acosh_": ("shift",), "arccosh_": ("shift",),
    "asin_": (), "arcsin_": (), "asinh_": (), "arcsinh_": (), "atan_": (), "arctan_": (), "atanh_": (),
    "arctanh_": (), "atan2_": ("B",), "arctan2_": ("B",), "ceil_": (), "floor_": (), "round_": (), "trunc_": (),
    "fix_": (), "frac_": (), "clip_": (0.3, 0.6), "clamp_": (0.3, 0.6), "copysign_": ("B",), "cos_": (),
    "cosh_": (), "sin_": (), "sinh_": (), "tan_": (), "tanh_": (), "sigmoid_": (), "digamma_": (), "lgamma_": (),
    "erf_": (), "erfc_": (), "erfinv_": (), "exp_": (), "exp2_": (), "expm1_": (), "log_": (), "log10_": (),
    "log1p_": (), "log2_": (), "logit_": (), "i0_": (), "sqrt_": (), "rsqrt_": (), "square_": (),
    "reciprocal_": (), "neg_": (), "negative_": (), "sign_": (), "sgn_": (), "sinc_": (), "pow_": (2.5,),
    "float_power_": (2.0,), "fmod_": (0.3,), "remainder_": (0.3,), "hypot_": ("B",), "ldexp_": ("B",),
    "xlogy_": ("B",), "lerp_": ("B", 0.25), "addcmul_": ("B", "B"), "addcdiv_": ("B", "B"),
    "mvlgamma_": (1,), "polygamma_": (1,), "igamma_": ("B",), "igammac_": ("B",), "nan_to_num_": (),
    "floor_divide_": (0.3,), "subtract_": ("B",), "multiply_": ("B",), "divide_": ("B",), "true_divide_": ("B",),
    "logaddexp_": ("B",), "fmax_": ("B",), "fmin_": ("B",), "deg2rad_": (), "rad2deg_": (), "nextafter_": ("B",),
}
# forms whose out-of-place twin has another argument order or name
TWIN = {"polygamma_": lambda t, n: t.polygamma(n), "clip_": lambda t, lo, hi: t.clamp(lo, hi)}


def _in_place_args(spec, b):
    return tuple(b if a == "B" else a for a in spec if a != "shift")


def _base(spec):
    return A + 1.0 if "shift" in spec else A  # acosh needs x >= 1


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_an_in_place_form_writes_the_out_of_place_values_and_is_recorded(name):
    spec = IN_PLACE[name]
    base = _base(spec)
    b = tg.tensor(B)
    args = _in_place_args(spec, b)
    twin = TWIN.get(name, lambda t, *a: getattr(t, name[:-1])(*a))
    want = twin(tg.tensor(base), *args).numpy()
    y = tg.tensor(base)
    assert getattr(y, name)(*args) is y
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-15, atol=0)
    if name in ("igamma_", "igammac_", "nextafter_"):  # no derivative in self (as PyTorch)
        return
    # through a non-leaf: the gradient reaching the leaf is the out-of-place one's
    weights = tg.tensor(RNG.standard_normal(base.shape))
    x1 = tg.tensor(base, requires_grad=True)
    z = x1 * 1.0
    getattr(z, name)(*args)
    (z * weights).sum().backward()
    x2 = tg.tensor(base, requires_grad=True)
    (twin(x2, *args) * weights).sum().backward()
    np.testing.assert_allclose(x1.grad.numpy(), x2.grad.numpy(), rtol=1e-12, atol=1e-15)


# tests written in place as 0 and 1 in the tensor's dtype
TESTS_IN_PLACE = ["eq_", "ne_", "lt_", "le_", "gt_", "ge_", "greater_", "greater_equal_", "less_", "less_equal_",
                  "not_equal_", "logical_and_", "logical_or_", "logical_xor_"]


@pytest.mark.parametrize("name", TESTS_IN_PLACE)
def test_comparisons_in_place_write_zeros_and_ones_in_the_tensors_dtype(name):
    a = np.array([1.0, 0.0, 3.0, 2.0])
    b = np.array([1.0, 2.0, 0.0, 2.0])
    y = tg.tensor(a)
    assert getattr(y, name)(tg.tensor(b)) is y
    want = getattr(tg.tensor(a), name[:-1])(tg.tensor(b)).numpy().astype(np.float64)
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), want)


def test_logical_not_in_place_and_the_logical_and_bitwise_free_functions():
    y = tg.tensor([0.0, 2.0])
    assert y.logical_not_() is y and y.tolist() == [1.0, 0.0]
    p, q = tg.tensor([True, False, True]), tg.tensor([True, True, False])
    assert tg.logical_and(p, q).tolist() == [True, False, False]
    assert tg.logical_or(p, q).tolist() == [True, True, True]
    assert tg.logical_not(p).tolist() == [False, True, False]
    i, j = tg.tensor([12, 5]), tg.tensor([10, 3])
    assert tg.bitwise_or(i, j).tolist() == [14, 7] and tg.bitwise_xor(i, j).tolist() == [6, 6]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
def test_the_operators_and_or_xor_invert_are_bitwise_on_integers_and_logical_on_bools(dtype):
    """&, |, ^ and ~ are NumPy's (and PyTorch's) bitwise operators: on integers they keep the
    dtype and combine bits (12 & 10 = 8), on bools they are and/or/xor/not."""
    a = np.array([12, 5, 0, 255], dtype) if dtype is not np.bool_ else np.array([True, True, False, False])
    b = np.array([10, 3, 7, 1], dtype) if dtype is not np.bool_ else np.array([True, False, True, False])
    ta, tb = tg.tensor(a), tg.tensor(b)
    for got, want in ((ta & tb, a & b), (ta | tb, a | b), (ta ^ tb, a ^ b), (~ta, ~a)):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("name", ["addmm_", "addmv_", "addr_", "addbmm_", "baddbmm_", "tril_", "triu_",
                                  "fill_diagonal_", "index_put_"])
def test_product_and_matrix_in_place_forms(name):
    m = RNG.standard_normal((3, 3))
    v = tg.tensor(RNG.standard_normal(3))
    b3 = tg.tensor(RNG.standard_normal((2, 3, 3)))
    calls = {
        "addmm_": (lambda t: t.addmm_(tg.tensor(m), tg.tensor(m), beta=0.5), lambda: 0.5 * m + m @ m),
        "addmv_": (lambda t: t[0].addmv_(tg.tensor(m), v), None),
        "addr_": (lambda t: t.addr_(v, v, alpha=2), lambda: m + 2 * np.outer(v.numpy(), v.numpy())),
        "addbmm_": (lambda t: t.addbmm_(b3, b3), lambda: m + (b3.numpy() @ b3.numpy()).sum(0)),
        "baddbmm_": (lambda t: t.unsqueeze(0).baddbmm_(b3[:1], b3[:1]), None),
        "tril_": (lambda t: t.tril_(), lambda: np.tril(m)),
        "triu_": (lambda t: t.triu_(1), lambda: np.triu(m, 1)),
        "fill_diagonal_": (lambda t: t.fill_diagonal_(7.0), lambda: m - np.diag(np.diag(m)) + 7 * np.eye(3)),
        "index_put_": (lambda t: t.index_put_((tg.tensor([0, 2]),), tg.tensor(5.0, dtype=tg.float64)),
                       lambda: np.where(np.arange(3)[:, None] % 2 == 0, 5.0, m)),
    }
    call, want = calls[name]
    t = tg.tensor(m)
    call(t)
    if want is not None:
        np.testing.assert_allclose(t.numpy(), want(), rtol=1e-13)
    else:  # written through a view into the tensor's memory
        assert not np.array_equal(t.numpy(), m)


def test_index_put_accumulates_repeats_and_routes_gradients():
    x = tg.zeros(3, dtype=tg.float64)
    i = tg.tensor([0, 2, 0])
    assert x.index_put((i,), tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64), accumulate=True).tolist() == [4.0, 0.0, 2.0]
    w = tg.ones(3, dtype=tg.float64, requires_grad=True)
    v = tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, requires_grad=True)
    out = (w * 1).index_put((i,), v, accumulate=True)
    (out * tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)).sum().backward()
    assert w.grad.tolist() == [1.0, 2.0, 3.0] and v.grad.tolist() == [1.0, 3.0, 1.0]
    # values broadcast to the indexed shape, as PyTorch: a scalar added at every index (repeats too),
    # and its gradient is the sum over the places it went
    s = tg.tensor(2.0, dtype=tg.float64, requires_grad=True)
    out = x.index_put((i,), s, accumulate=True)
    assert out.tolist() == [4.0, 0.0, 2.0]
    (out * tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64)).sum().backward()
    assert s.grad.item() == 1.0 + 3.0 + 1.0
    rows = tg.zeros(3, 2, dtype=tg.float64).index_put((i,), tg.tensor([1.0, 10.0], dtype=tg.float64), accumulate=True)
    assert rows.tolist() == [[2.0, 20.0], [0.0, 0.0], [1.0, 10.0]]


def test_older_names_a_script_uses():
    a, b = tg.tensor(A), tg.tensor(B)
    assert tg.allclose(a, a + 1e-9) and a.allclose(a) and not tg.allclose(a, b)
    assert tg.equal(a, tg.tensor(A)) and a.equal(tg.tensor(A)) and not a.equal(b) and not a.equal(A)
    np.testing.assert_array_equal(tg.greater_equal(a, b).numpy(), A >= B)
    np.testing.assert_array_equal(tg.less(a, b).numpy(), A < B)
    np.testing.assert_array_equal(tg.isfinite(tg.tensor([1.0, np.inf, np.nan])).numpy(), [True, False, False])
    np.testing.assert_array_equal(tg.argmin(a, 1).numpy(), A.argmin(1))
    assert tg.empty(2, 3).shape == (2, 3) and tg.empty(2).tolist() == [0.0, 0.0]
    assert a.resolve_conj() is a and tg.resolve_neg(a) is a
    assert a.pin_memory() is a and not a.is_pinned()
    assert tg.default_generator("cpu") is tg.default_generator()
    assert tg.int8 == np.int8 and tg.HalfTensor([1.0]).dtype == np.float16 and tg.IntTensor([1]).dtype == np.int32
    np.testing.assert_array_equal(a.expand_as(tg.zeros(2, 3, 4)).numpy(), np.broadcast_to(A, (2, 3, 4)))


def test_hardshrink_zeroes_the_small_values():
    x = tg.tensor([-1.0, -0.3, 0.0, 0.4, 0.6], dtype=tg.float64, requires_grad=True)
    y = x.hardshrink(0.5)
    assert y.tolist() == [-1.0, 0.0, 0.0, 0.0, 0.6]
    y.backward(tg.ones(5, dtype=tg.float64))
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_unfold_gives_the_sliding_windows_and_their_gradient():
    x = tg.arange(12.0, dtype=tg.float64).reshape(3, 4)
    w = x.unfold(1, 2, 1)
    assert w.shape == (3, 3, 2) and w[1, 2].tolist() == [6.0, 7.0]
    assert x.unfold(0, 2, 1).shape == (2, 4, 2) and x.unfold(1, 2, 2)[0].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    from tinygrad_bn.testing import gradcheck
    assert gradcheck(lambda t: t.unfold(1, 3, 1), (tg.tensor(RNG.standard_normal((2, 5)), requires_grad=True),))
    with pytest.raises(RuntimeError, match="unfold: size 5 is larger than dim 1's 4 elements"):
        x.unfold(1, 5, 1)


@pytest.mark.parametrize("size, step, message", [
    (2, 0, "step must be an int >= 1, got 0"), (2, -1, "step must be an int >= 1, got -1"),
    (-1, 1, "size must be an int >= 0, got -1"), (2, True, "step must be an int >= 1, got True"),
    (2.0, 1, "size must be an int >= 0, got 2.0")])
def test_unfold_refuses_a_step_under_1_and_a_size_under_0(size, step, message):
    """PyTorch: "step is 0 but must be > 0", "size is -1 but must be >= 0"."""
    with pytest.raises(ValueError, match=f"unfold: {message}"):
        tg.arange(6.0).unfold(0, size, step)


@pytest.mark.parametrize("dim, size, step, shape", [
    (1, 0, 1, (3, 5, 0)), (1, 0, 3, (3, 2, 0)), (0, 0, 2, (2, 4, 0)),  # windows of no elements
    (0, 3, 5, (1, 4, 3)), (1, 4, 1, (3, 1, 4)), (-1, 1, 1, (3, 4, 1))])  # one window; windows of one
def test_unfold_takes_empty_windows_and_whole_dims_as_pytorch(dim, size, step, shape):
    a = np.arange(12.0).reshape(3, 4)
    w = tg.tensor(a).unfold(dim, size, step)
    assert w.shape == shape and w.dtype == tg.float64
    d = dim % 2
    for i in range(shape[d]):  # window i along dim d holds elements i*step ... i*step+size-1
        np.testing.assert_array_equal(np.moveaxis(w.numpy(), d, 0)[i],
                                      np.moveaxis(a, d, -1)[..., i * step:i * step + size])


def test_unfold_of_a_0d_tensor_is_its_value_or_nothing():
    x = tg.tensor(3.0, dtype=tg.float64, requires_grad=True)
    assert x.unfold(0, 1, 1).tolist() == [3.0] and x.unfold(-1, 1, 4).tolist() == [3.0]
    assert x.unfold(0, 0, 1).shape == (0,)
    (x.unfold(0, 1, 2) * 2.0).sum().backward()
    assert x.grad.item() == 2.0
    with pytest.raises(IndexError, match="unfold: dim 1 is out of range for a tensor with 0 dimensions"):
        x.unfold(1, 1, 1)
    with pytest.raises(RuntimeError, match="unfold: size 2 is larger than dim 0's 1 elements"):
        x.unfold(0, 2, 1)
