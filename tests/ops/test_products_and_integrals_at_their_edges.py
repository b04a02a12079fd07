"""tensor_linalg.py at the edges its other tests leave open: the scaled products
(addmm, addmv, addr, baddbmm, addbmm) with beta and alpha, beta = 0 ignoring NaN
in self, integer operands; bmm's batch and inner sizes checked apart; matrix_power
below 2 dims and at a power of two; cross's default dim and one-sided size
refusals; renorm at a norm equal to maxnorm, with p < 1, and its gradient through
the norm; cumulative_trapezoid over an empty dim; gradient with one spacing for
every dim; mvlgamma at its bound.

Expected values are NumPy's or PyTorch 2.13's (written as literals: the tests do
not need PyTorch), gradients checked with gradcheck on an output weighted by a
fixed random tensor."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(11)


def f64(values, requires_grad=False):
    return tg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _randn(*shape, requires_grad=False):
    return f64(RNG.standard_normal(shape), requires_grad=requires_grad)


# name -> (self's shape, the two operands' shapes, NumPy's product of the operands)
SCALED_PRODUCTS = {
    "addmm": ((3, 5), (3, 4), (4, 5), lambda a, b: a @ b),
    "addmv": ((3,), (3, 4), (4,), lambda a, b: a @ b),
    "addr": ((3, 4), (3,), (4,), np.outer),
    "baddbmm": ((2, 3, 5), (2, 3, 4), (2, 4, 5), lambda a, b: a @ b),
    "addbmm": ((3, 5), (2, 3, 4), (2, 4, 5), lambda a, b: (a @ b).sum(0)),
}


@pytest.mark.parametrize("name", list(SCALED_PRODUCTS))
def test_scaled_products_are_beta_self_plus_alpha_product_with_their_gradient(name):
    """beta * self + alpha * product, for beta and alpha other than 1 on each side, and
    a gradient that passes gradcheck with both scaled."""
    base_shape, s1, s2, product = SCALED_PRODUCTS[name]
    base, m1, m2 = _randn(*base_shape), _randn(*s1), _randn(*s2)
    for beta, alpha in ((0.5, -2.0), (1, 3.0), (-1.5, 1), (2, 0.25)):
        got = getattr(base, name)(m1, m2, beta=beta, alpha=alpha).numpy()
        want = beta * base.numpy() + alpha * product(m1.numpy(), m2.numpy())
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=f"{name} beta={beta} alpha={alpha}")
    weight = _randn(*base_shape)
    leaves = (_randn(*base_shape, requires_grad=True), _randn(*s1, requires_grad=True), _randn(*s2, requires_grad=True))
    assert gradcheck(lambda b, p, q: getattr(tg, name)(b, p, q, beta=0.7, alpha=-1.3) * weight, leaves)


@pytest.mark.parametrize("name", list(SCALED_PRODUCTS))
def test_scaled_products_with_beta_0_ignore_self_nan_and_inf_included(name):
    """As PyTorch: beta = 0 drops self altogether, so NaN and inf there do not reach the
    result, which is alpha times the product (self still sets no shape of its own)."""
    base_shape, s1, s2, product = SCALED_PRODUCTS[name]
    bad = np.full(base_shape, np.nan)
    bad.flat[0] = np.inf
    m1, m2 = _randn(*s1), _randn(*s2)
    for alpha in (1, 2.5):
        out = getattr(tg, name)(f64(bad), m1, m2, beta=0, alpha=alpha)
        assert out.shape == base_shape
        np.testing.assert_allclose(out.numpy(), alpha * product(m1.numpy(), m2.numpy()), rtol=1e-12)
    # with beta other than 0 the NaN is there, as it is in PyTorch
    assert np.isnan(getattr(tg, name)(f64(bad), m1, m2, beta=1e-3).numpy()).any()


def test_scaled_products_of_integers_stay_integers():
    """PyTorch: addr of int64 tensors with int beta and alpha is int64,
    tensor([[9, 12], [18, 24]]) for these."""
    out = tg.addr(tg.zeros(2, 2, dtype=tg.int64) + 1, tg.tensor([1, 2]), tg.tensor([3, 4]), beta=0, alpha=3)
    assert out.dtype == tg.int64 and out.tolist() == [[9, 12], [18, 24]]
    out = tg.addmm(tg.tensor([[1, 2], [3, 4]]), tg.tensor([[1, 0], [0, 1]]), tg.tensor([[5, 6], [7, 8]]), beta=2)
    assert out.dtype == tg.int64 and out.tolist() == [[7, 10], [13, 16]]


def test_a_self_with_more_dims_than_the_product_is_refused_by_each_scaled_product():
    """PyTorch cannot expand a self of more dims than the product to the product's
    shape, even with the sizes of the product's dims."""
    for name, (base_shape, s1, s2, _) in SCALED_PRODUCTS.items():
        with pytest.raises(RuntimeError, match=rf"{name}: self of shape \(1, {', '.join(map(str, base_shape))}\)"):
            getattr(tg, name)(tg.zeros(1, *base_shape, dtype=tg.float64), _randn(*s1), _randn(*s2))


def test_bmm_refuses_a_batch_mismatch_alone_and_an_inner_mismatch_alone():
    """bmm does not broadcast its batch dim (PyTorch: "Expected size for first two
    dimensions of batch2 tensor"), not even 1 against 2, and checks the inner sizes
    when the batch sizes agree."""
    for a, b in (((1, 3, 4), (2, 4, 5)), ((2, 3, 4), (1, 4, 5)), ((2, 3, 4), (2, 5, 6))):
        with pytest.raises(RuntimeError, match=r"bmm: expected shapes \(b, n, m\) and \(b, m, p\), got "
                                               rf"\({a[0]}, {a[1]}, {a[2]}\) and \({b[0]}, {b[1]}, {b[2]}\)"):
            tg.bmm(tg.zeros(*a), tg.zeros(*b))
    assert tg.bmm(tg.zeros(2, 3, 4), tg.zeros(2, 4, 5)).shape == (2, 3, 5)


@pytest.mark.parametrize("shape", [(), (3,)])
def test_matrix_power_refuses_fewer_than_2_dims_naming_itself(shape):
    """PyTorch: "linalg.matrix_power: The input tensor A must have at least 2 dimensions"."""
    with pytest.raises(RuntimeError, match=r"matrix_power: expected square matrices \(\.\.\., n, n\), got shape"):
        tg.ones(*shape).matrix_power(2)


def test_matrix_power_at_powers_of_two_and_with_a_numpy_int():
    """Fibonacci's matrix: [[1, 1], [1, 0]]^n = [[F(n+1), F(n)], [F(n), F(n-1)]]; n may be a
    NumPy integer, as PyTorch takes it."""
    fib = f64([[1.0, 1.0], [1.0, 0.0]])
    assert fib.matrix_power(4).tolist() == [[5.0, 3.0], [3.0, 2.0]]
    assert fib.matrix_power(np.int64(8)).tolist() == [[34.0, 21.0], [21.0, 13.0]]
    assert fib.matrix_power(6).tolist() == [[13.0, 8.0], [8.0, 5.0]]


def test_cross_without_dim_takes_the_first_dim_of_size_3():
    """torch.cross(a, b) on 3 x 3 tensors crosses the columns (dim 0), PyTorch's
    values below."""
    a = f64(np.arange(9.0).reshape(3, 3))
    b = f64([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0], [2.0, 1.0, 0.0]])
    assert tg.cross(a, b).tolist() == [[6.0, -3.0, -8.0], [6.0, -1.0, 16.0], [-3.0, 1.0, -8.0]]
    assert a.cross(b).tolist() == tg.cross(a, b, dim=0).tolist()
    # a 2 x 3 pair: dim 1, the first of size 3
    x, y = f64(np.arange(6.0).reshape(2, 3)), f64([[1.0, 0.0, 2.0], [0.0, 1.0, 1.0]])
    assert tg.cross(x, y).tolist() == [[2.0, 2.0, -1.0], [-1.0, -3.0, 3.0]]


@pytest.mark.parametrize("shapes", [((3, 4), (4, 4)), ((4, 4), (3, 4))])
def test_cross_refuses_a_dim_of_size_3_in_one_tensor_only(shapes):
    """PyTorch: "linalg.cross: inputs dimension 0 must have length 3. Got 3 and 4"."""
    a, b = shapes
    with pytest.raises(RuntimeError, match=r"cross: dim 0 must have size 3 in both tensors"):
        tg.cross(tg.zeros(*a), tg.zeros(*b), dim=0)


def test_renorm_leaves_a_slice_whose_norm_is_maxnorm_exactly_as_it_is():
    """Only norms above maxnorm are scaled (by maxnorm / (norm + 1e-7)): [3, 4] with maxnorm 5
    stays [3, 4] to the bit (PyTorch too), and maxnorm 0 zeroes every non-zero slice."""
    w = f64([[3.0, 4.0], [6.0, 8.0], [0.0, 0.0]])
    out = w.renorm(2, 0, 5.0).tolist()
    assert out[0] == [3.0, 4.0] and out[2] == [0.0, 0.0]
    # [6, 8] * 5 / (10 + 1e-7), PyTorch's float64 values
    np.testing.assert_allclose(out[1], [2.9999999700000006, 3.9999999600000007], rtol=1e-15)
    assert w.renorm(1, 0, 7.0).tolist()[0] == [3.0, 4.0]
    assert not w.renorm(2, 0, 0.0).numpy().any()


def test_renorm_takes_a_p_below_1():
    """PyTorch takes any p > 0: with p = 0.5 each row of [[3, 4], [0.3, 0.4]] (norms 13.93
    and 1.393) is scaled to norm 1, PyTorch's values below."""
    out = tg.tensor([[3.0, 4.0], [0.3, 0.4]]).renorm(0.5, 0, 1.0)
    np.testing.assert_allclose(out.numpy(), [[0.21539029, 0.28718707], [0.21539028, 0.28718704]], rtol=1e-6)


def test_renorm_gradient_goes_through_the_norm_as_pytorchs():
    """PyTorch 2.13 differentiates the scale maxnorm / (norm + 1e-7) of a scaled slice:
    for rows [3, 4] (scaled to norm 1) and [0.3, 0.4] (left), weights [[1, 2], [3, -1]],
    its gradient is [[-0.0639999934400002, 0.04800000607999975], [3, -1]]."""
    x = f64([[3.0, 4.0], [0.3, 0.4]], requires_grad=True)
    (x.renorm(2, 0, 1.0) * f64([[1.0, 2.0], [3.0, -1.0]])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[-0.0639999934400002, 0.04800000607999975], [3.0, -1.0]], rtol=1e-9)
    weight = _randn(3, 4, 2)
    for p, dim in ((2, 1), (1, 0), (3, -1)):
        assert gradcheck(lambda t, p=p, dim=dim: t.renorm(p, dim, 0.7) * weight, (_randn(3, 4, 2, requires_grad=True),))
    assert gradgradcheck(lambda t: t.renorm(2, 0, 0.7) * weight, (_randn(3, 4, 2, requires_grad=True),))


@pytest.mark.parametrize("p", [2, 3, 0.5])
def test_renorm_gradient_of_a_zero_slice_is_the_incoming_gradient(p):
    """A slice of zeros is left as it is, so its gradient is the incoming one, finite
    for every p (PyTorch's too), beside a scaled slice."""
    x = f64([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]], requires_grad=True)
    weight = f64([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]])
    (x.renorm(p, 0, 1.0) * weight).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert x.grad.tolist()[0] == [0.5, -1.0, 2.0]


@pytest.mark.parametrize("dtype, want", [(tg.int64, tg.float32), (tg.float32, tg.float32), (tg.float64, tg.float64)])
def test_cumulative_trapezoid_over_an_empty_dim_is_empty_as_over_one_point(dtype, want):
    """No intervals: PyTorch gives a result of size 0 along dim (the dtype a float one),
    for 0 points as for 1, whatever the other dims."""
    for shape, dim, out_shape in (((2, 0), -1, (2, 0)), ((2, 1), -1, (2, 0)), ((0, 3), 0, (0, 3)), ((0,), 0, (0,))):
        out = tg.cumulative_trapezoid(tg.ones(*shape, dtype=dtype), dim=dim)
        assert (out.shape, out.dtype) == (out_shape, want), (shape, dim)
    assert tg.cumulative_trapezoid(tg.ones(2, 0), dx=2.0).shape == (2, 0)


def test_gradient_with_one_number_spaces_every_dim_by_it():
    """torch.gradient(t, spacing=2.0) on [[1, 4, 9], [2, 3, 7]]: central differences over
    2h inside, one-sided over h at the edges, in each dim (PyTorch's values)."""
    t = f64([[1.0, 4.0, 9.0], [2.0, 3.0, 7.0]])
    rows, cols = tg.gradient(t, spacing=2.0)
    assert rows.tolist() == [[0.5, -0.5, -1.0], [0.5, -0.5, -1.0]]
    assert cols.tolist() == [[1.5, 2.0, 2.5], [0.5, 1.25, 2.0]]
    (last,) = tg.gradient(t, dim=-1)
    assert last.tolist() == [[3.0, 4.0, 5.0], [1.0, 2.5, 4.0]]
    (five,) = tg.gradient(f64([1.0, 4.0, 9.0, 16.0, 30.0]), spacing=2.0)
    assert five.tolist() == [1.5, 2.0, 3.0, 5.25, 7.0]


def test_mvlgamma_refuses_an_element_at_the_bound_and_takes_one_just_above():
    """All elements must be greater than (p-1)/2: equal to it is refused too."""
    with pytest.raises(ValueError, match=r"mvlgamma: all elements must be greater than \(p-1\)/2 = 1.0"):
        f64([1.0, 3.0]).mvlgamma(3)
    with pytest.raises(ValueError, match=r"mvlgamma: all elements must be greater than \(p-1\)/2 = 0.5"):
        f64([0.5]).mvlgamma(2)
    assert np.isfinite(f64([1.0 + 1e-9, 3.0]).mvlgamma(3).numpy()).all()


def test_renorm_takes_p_inf_and_refuses_p_0_nan_and_one_dim_as_pytorch():
    """PyTorch's renorm takes p = inf (the largest |value| of each slice), refuses a
    p of 0 or below and an input of fewer than 2 dims; NaN is refused too."""
    x = tg.tensor([[3.0, 4.0], [0.3, 0.4]], dtype=tg.float64)
    np.testing.assert_allclose(tg.renorm(x, float("inf"), 0, 1.0).numpy(), [[0.75, 1.0], [0.3, 0.4]], rtol=1e-6)
    for p in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"^renorm: p must be"):
            tg.renorm(x, p, 0, 1.0)
    with pytest.raises(RuntimeError, match=r"^renorm: input needs at least 2 dimensions, got 1"):
        tg.renorm(tg.tensor([3.0, 4.0]), 2, 0, 1.0)
