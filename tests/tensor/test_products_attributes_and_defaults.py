"""Products and "other operations" (tensor_linalg.py) against NumPy, with gradients by
central differences; tensor attributes and conversions; default dtype, print
options, inference mode and the constants, as PyTorch has them."""
import itertools
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck, gradgradcheck

RNG = np.random.default_rng(7)


def _t(*shape, grad=False):
    return tg.tensor(RNG.standard_normal(shape), requires_grad=grad)


def test_batched_and_scaled_products_match_numpy_and_differentiate():
    a, b, c = _t(2, 3, 4), _t(2, 4, 5), _t(3, 5)
    np.testing.assert_allclose(tg.bmm(a, b).numpy(), a.numpy() @ b.numpy(), rtol=1e-13)
    m, v, w = _t(3, 4), _t(4), _t(3)
    np.testing.assert_allclose(m.mv(v).numpy(), m.numpy() @ v.numpy(), rtol=1e-13)
    np.testing.assert_allclose(tg.addmm(c, _t(3, 4), _t(4, 5), beta=0.5, alpha=2).shape, (3, 5))
    x, y = _t(3, 4), _t(4, 5)
    np.testing.assert_allclose(c.addmm(x, y, beta=0.5, alpha=2).numpy(), 0.5 * c.numpy() + 2 * x.numpy() @ y.numpy(),
                               rtol=1e-13)
    np.testing.assert_allclose(tg.addmv(w, m, v).numpy(), w.numpy() + m.numpy() @ v.numpy(), rtol=1e-13)
    np.testing.assert_allclose(tg.addr(m, w, v, alpha=3).numpy(), m.numpy() + 3 * np.outer(w.numpy(), v.numpy()),
                               rtol=1e-13)
    base = _t(2, 3, 5)
    np.testing.assert_allclose(base.baddbmm(a, b, beta=2).numpy(), 2 * base.numpy() + a.numpy() @ b.numpy(), rtol=1e-13)
    np.testing.assert_allclose(c.addbmm(a, b).numpy(), c.numpy() + (a.numpy() @ b.numpy()).sum(0), rtol=1e-13)
    # beta = 0 ignores the base, NaN included, as PyTorch
    nan_base = tg.full((3, 5), float("nan"), dtype=tg.float64)
    assert np.isfinite(nan_base.addmm(x, y, beta=0).numpy()).all()
    leaves = [_t(3, 5, grad=True), _t(3, 4, grad=True), _t(4, 5, grad=True)]
    assert gradcheck(lambda p, q, r: p.addmm(q, r, beta=0.3, alpha=-2), tuple(leaves))
    assert gradgradcheck(lambda p, q, r: tg.addmm(p, q, r), tuple(leaves))
    with pytest.raises(RuntimeError, match=r"bmm: expected shapes \(b, n, m\) and \(b, m, p\)"):
        tg.bmm(a, _t(3, 4, 5))
    with pytest.raises(RuntimeError, match="mv: the matrix has 4 columns"):
        m.mv(_t(3))


def test_matrix_power_tensordot_free_and_cross():
    s = _t(3, 3)
    for n in (0, 1, 2, 5):
        np.testing.assert_allclose(s.matrix_power(n).numpy(), np.linalg.matrix_power(s.numpy(), n), rtol=1e-12)
    assert gradcheck(lambda q: q.matrix_power(3), (_t(3, 3, grad=True),))
    with pytest.raises(ValueError, match="matrix_power: n must be >= 0, got -1"):
        s.matrix_power(-1)
    # a batch of square matrices whose batch size is not their size, and non-square ones refused
    b = _t(4, 2, 2)
    for n in (0, 3):
        np.testing.assert_allclose(b.matrix_power(n).numpy(), np.linalg.matrix_power(b.numpy(), n), rtol=1e-12)
    for shape in ((2, 3), (3, 2), (2, 2, 3), (3, 3, 2)):
        with pytest.raises(RuntimeError, match=r"matrix_power: expected square matrices \(\.\.\., n, n\)"):
            _t(*shape).matrix_power(2)
    p, q = _t(4, 3), _t(4, 3)
    np.testing.assert_allclose(p.cross(q).numpy(), np.cross(p.numpy(), q.numpy()), rtol=1e-13)
    np.testing.assert_allclose(tg.cross(p.t(), q.t(), dim=0).numpy(), np.cross(p.numpy(), q.numpy()).T, rtol=1e-13)
    assert gradcheck(lambda u, v: u.cross(v), (_t(2, 3, grad=True), _t(2, 3, grad=True)))
    with pytest.raises(RuntimeError, match="cross: no dimension of size 3"):
        _t(2, 2).cross(_t(2, 2))


def test_cov_corrcoef_and_renorm():
    x = _t(3, 20)
    np.testing.assert_allclose(x.cov().numpy(), np.cov(x.numpy()), rtol=1e-12)
    np.testing.assert_allclose(tg.cov(x, correction=0).numpy(), np.cov(x.numpy(), ddof=0), rtol=1e-12)
    fw = tg.tensor(RNG.integers(1, 4, 20))
    aw = tg.tensor(RNG.uniform(0.5, 2, 20))
    np.testing.assert_allclose(x.cov(fweights=fw, aweights=aw).numpy(),
                               np.cov(x.numpy(), fweights=fw.numpy(), aweights=aw.numpy()), rtol=1e-12)
    np.testing.assert_allclose(tg.corrcoef(x).numpy(), np.corrcoef(x.numpy()), rtol=1e-12)
    assert gradcheck(lambda a: a.cov(), (_t(2, 6, grad=True),))
    w = tg.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], dtype=tg.float64)
    out = w.renorm(2, 0, 1.0).numpy()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), [1.0, 0.5, 1.0], rtol=1e-6)
    np.testing.assert_allclose(out[1], [0.3, 0.4])
    assert w.clone().renorm_(1, 0, 2.0).abs().sum(1).numpy().max() <= 2.0 + 1e-6


def test_trapezoid_gradient_vander_block_diag_combinations_and_isin():
    y, xs = _t(3, 6), np.sort(RNG.uniform(0, 5, 6))
    np.testing.assert_allclose(tg.trapezoid(y).numpy(), np.trapezoid(y.numpy(), axis=-1), rtol=1e-13)
    np.testing.assert_allclose(tg.trapz(y, tg.tensor(xs)).numpy(), np.trapezoid(y.numpy(), xs), rtol=1e-13)
    grid = np.sort(RNG.uniform(0, 5, (3, 6)), axis=1)  # x of y's shape: each row its own points
    np.testing.assert_allclose(tg.trapezoid(y, tg.tensor(grid)).numpy(), np.trapezoid(y.numpy(), grid, axis=-1),
                               rtol=1e-13)
    np.testing.assert_allclose(tg.cumulative_trapezoid(y, tg.tensor(grid)).numpy()[:, -1],
                               np.trapezoid(y.numpy(), grid, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(tg.trapezoid(y, dx=0.5, dim=0).numpy(), np.trapezoid(y.numpy(), dx=0.5, axis=0),
                               rtol=1e-13)
    running = tg.cumulative_trapezoid(y).numpy()
    np.testing.assert_allclose(running[:, -1], np.trapezoid(y.numpy(), axis=-1), rtol=1e-13)
    np.testing.assert_allclose(running[:, 0], (y.numpy()[:, 0] + y.numpy()[:, 1]) / 2, rtol=1e-13)
    z = _t(4, 5)
    for got, want in zip(tg.gradient(z, spacing=[0.5, 2.0]), np.gradient(z.numpy(), 0.5, 2.0)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-13)
    (g,) = tg.gradient(z, dim=1)
    np.testing.assert_allclose(g.numpy(), np.gradient(z.numpy(), axis=1), rtol=1e-13)
    assert gradcheck(lambda a: tg.gradient(a, dim=0)[0], (_t(4, 2, grad=True),))
    (two,) = tg.gradient(tg.tensor([1.0, 4.0]))  # two points: one-sided at both ends
    assert two.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="gradient: each dim needs at least 2 points"):
        tg.gradient(tg.tensor([1.0]))
    v = _t(4)
    np.testing.assert_allclose(tg.vander(v).numpy(), np.vander(v.numpy()), rtol=1e-13)
    np.testing.assert_allclose(tg.vander(v, N=3, increasing=True).numpy(), np.vander(v.numpy(), 3, increasing=True),
                               rtol=1e-13)
    blocks = [np.ones((2, 2)), np.array([[5.0, 6.0, 7.0]]), np.array(9.0)]
    want = np.zeros((4, 6))
    want[:2, :2], want[2, 2:5], want[3, 5] = 1.0, [5.0, 6.0, 7.0], 9.0
    np.testing.assert_array_equal(tg.block_diag(*(tg.tensor(b) for b in blocks)).numpy(), want)
    e = tg.tensor([1.0, 2.0, 3.0, 4.0])
    for r, rep in ((2, False), (3, False), (2, True)):
        pick = itertools.combinations_with_replacement if rep else itertools.combinations
        np.testing.assert_array_equal(tg.combinations(e, r, with_replacement=rep).numpy(),
                                      np.array(list(pick([1.0, 2.0, 3.0, 4.0], r))))
    # the edges, as PyTorch: r = 0 gives shape (0,), more than the elements (0, r), r = 1 the elements
    assert tg.combinations(e, 0).shape == (0,) and tg.combinations(e, 0, with_replacement=True).shape == (0,)
    assert tg.combinations(e, 5).shape == (0, 5)
    np.testing.assert_array_equal(tg.combinations(e, 1).numpy(), e.numpy())
    items, tests = np.array([[1, 5, 3], [7, 3, 9]]), np.array([3, 7, 8])
    np.testing.assert_array_equal(tg.isin(tg.tensor(items), tg.tensor(tests)).numpy(), np.isin(items, tests))
    np.testing.assert_array_equal(tg.isin(tg.tensor(items), 3, invert=True).numpy(), np.isin(items, 3, invert=True))


def test_attributes_and_conversions():
    x = tg.tensor([[1.5, -2.0], [0.0, 3.25]])
    for name, dtype in (("half", np.float16), ("int", np.int32), ("short", np.int16), ("char", np.int8),
                        ("byte", np.uint8), ("bool", np.bool_), ("double", np.float64), ("long", np.int64)):
        assert getattr(x, name)().dtype == dtype, name
    assert x.type_as(tg.tensor([1])).dtype == np.int64 and x.reshape_as(tg.zeros(4)).shape == (4,)
    assert x.is_contiguous() and not x.t().is_contiguous() and x.t().contiguous().is_contiguous()
    assert x.contiguous() is x
    n = x.new_tensor([1, 2])
    assert n.dtype == np.float32 and n.tolist() == [1.0, 2.0]
    assert x.new_zeros(3).tolist() == [0.0] * 3 and x.new_ones(2, 2).shape == (2, 2)
    assert x.new_full((2,), 7.0).tolist() == [7.0, 7.0] and x.new_empty(1).shape == (1,)
    assert not x.is_cuda and x.itemsize == 4 and x.element_size() == 4 and x.nbytes == 16
    assert x.get_device() == -1 and x.ndimension() == 2 and x.is_signed() and not tg.tensor([1], dtype=tg.uint8).is_signed()
    assert not x.is_inference() and not x.is_pinned()
    np.testing.assert_array_equal(x.mT.numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.H.numpy(), x.numpy().T)
    np.testing.assert_array_equal(x.mH.numpy(), x.numpy().T)
    big = tg.tensor(RNG.standard_normal((2, 3, 4)))
    np.testing.assert_allclose(big.sum_to_size(3, 1).numpy(), big.numpy().sum(0).sum(1, keepdims=True), rtol=1e-13)
    with pytest.raises(RuntimeError, match=r"sum_to_size: size \(5,\) does not broadcast"):
        big.sum_to_size(5)
    leaf = tg.ones(2, requires_grad=True)
    y = leaf * 2
    y.retain_grad()
    assert y.retains_grad and not (leaf * 3).retains_grad
    y.detach_()
    assert not y.requires_grad and y.is_leaf
    assert tg.is_tensor(x) and not tg.is_tensor(x.numpy())
    assert tg.is_nonzero(tg.tensor([2.0])) and not tg.is_nonzero(tg.tensor(0))
    with pytest.raises(RuntimeError, match="is_nonzero: expected a tensor with one element"):
        tg.is_nonzero(tg.ones(2))
    np.testing.assert_array_equal(tg.ravel(x).numpy(), x.numpy().ravel())


def test_the_default_dtype_and_dtype_information():
    assert tg.get_default_dtype() == tg.float32
    try:
        tg.set_default_dtype(tg.float64)
        assert tg.tensor([1.5]).dtype == np.float64 and tg.zeros(2).dtype == np.float64
        assert tg.arange(0.0, 1.0, 0.5).dtype == np.float64 and tg.linspace(0, 1, 3).dtype == np.float64
    finally:
        tg.set_default_dtype(tg.float32)
    assert tg.tensor([1.5]).dtype == np.float32
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating point dtype"):
        tg.set_default_dtype(tg.int64)
    assert tg.finfo(tg.float32).eps == np.finfo(np.float32).eps and tg.finfo().bits == 32
    assert tg.iinfo(tg.int16).max == 32767 and tg.iinfo(tg.uint8).min == 0
    assert isinstance(tg.float32, tg.dtype) and tg.short == tg.int16
    assert tg.ByteTensor([1, 2]).dtype == np.uint8 and tg.CharTensor(2).dtype == np.int8
    assert tg.ShortTensor([1]).dtype == np.int16
    assert tg.inf == math.inf and math.isnan(tg.nan) and tg.pi == math.pi and tg.e == math.e and tg.newaxis is None
    assert tg.ones(3)[tg.newaxis].shape == (1, 3)
    assert tg.get_default_device() == "cpu"


def test_inference_mode_records_nothing_and_restores():
    x = tg.ones(2, requires_grad=True)
    with tg.inference_mode():
        assert tg.is_inference_mode_enabled() and not tg.is_grad_enabled()
        assert not (x * 2).requires_grad
    assert not tg.is_inference_mode_enabled() and (x * 2).requires_grad
    with tg.inference_mode(False):
        assert (x * 2).requires_grad

    @tg.inference_mode()
    def predict(t):
        return t * 3
    assert not predict(x).requires_grad and tg.is_grad_enabled()


def test_print_options_change_how_tensors_print():
    t = tg.tensor([1.23456789, 1e-5])
    try:
        tg.set_printoptions(precision=2)
        assert "1.23" in repr(t) and "1.2346" not in repr(t)
        tg.set_printoptions(precision=0)  # 0 is a count like any other (PyTorch takes it too)
        assert "1.2" not in repr(t) and "1." in repr(t)
        tg.set_printoptions(profile="default", threshold=0, edgeitems=0)
        assert "..." in repr(tg.arange(10.0)) and "4." not in repr(tg.arange(10.0))
        tg.set_printoptions(profile="default")
        tg.set_printoptions(profile="full")
        assert "..." not in repr(tg.zeros(2000))
        tg.set_printoptions(threshold=10, edgeitems=2)
        assert "..." in repr(tg.zeros(2000))
        tg.set_printoptions(sci_mode=True)
        assert "e+00" in repr(t)
        tg.set_printoptions(sci_mode=False)  # fixed point: tiny values print as zeros, as PyTorch
        wide = repr(tg.tensor([1e-8, 1234.5]))
        assert "e" not in wide.replace("tensor", "") and "1234.5" in wide
    finally:
        tg.set_printoptions(profile="default")
    assert repr(tg.tensor([1.5])) == "tensor([1.5])"
    with pytest.raises(ValueError, match="set_printoptions: profile must be one of"):
        tg.set_printoptions(profile="long")


def test_indexing_methods_show_their_ops_docstring_unless_they_have_their_own():
    """help(Tensor.sort) shows ops.sorting.sort's docstring; a method with a docstring
    of its own keeps it; none is left without one."""
    import ast
    import inspect

    from tinygrad_bn import tensor_indexing
    from tinygrad_bn.ops import sorting
    tree = ast.parse(inspect.getsource(tensor_indexing.IndexingMethods))
    own = {f.name: ast.get_docstring(f, clean=False) for f in tree.body[0].body
           if isinstance(f, ast.FunctionDef) and ast.get_docstring(f) and not f.name.startswith("_")}
    methods = {n: f for n, f in vars(tensor_indexing.IndexingMethods).items() if callable(f) and not n.startswith("_")}
    assert own and len(own) < len(methods)
    for name, f in methods.items():
        assert f.__doc__, name
        if name in own:
            assert f.__doc__ == own[name], name
    assert tg.Tensor.sort.__doc__ == sorting.sort.__doc__


# Tensor methods that take sizes or dims as *args, as PyTorch's: separate ints, one tuple, one
# list and one tg.Size all mean the same (name, self's shape, the sizes)
VARARG_SIZE_METHODS = [
    ("reshape", (2, 3), (3, 2)), ("view", (2, 3), (3, 2)), ("permute", (2, 3, 4), (2, 0, 1)),
    ("expand", (2, 1), (2, 5)), ("broadcast_to", (1, 3), (4, 3)), ("repeat", (2, 3), (2, 1)),
    ("tile", (2, 3), (1, 2)), ("flip", (2, 3, 4), (0, 2)), ("sum_to_size", (4, 2, 3), (2, 1)),
    ("new_zeros", (2,), (3, 2)), ("new_ones", (2,), (3, 2)), ("new_empty", (2,), (3, 2)),
]


@pytest.mark.parametrize(("name", "shape", "sizes"), VARARG_SIZE_METHODS, ids=[c[0] for c in VARARG_SIZE_METHODS])
def test_methods_that_take_sizes_take_them_as_ints_a_tuple_a_list_or_a_size(name, shape, sizes):
    t = tg.tensor(np.arange(np.prod(shape), dtype=np.float64).reshape(shape))
    results = [getattr(t, name)(*form) for form in (sizes, (tuple(sizes),), (list(sizes),), (tg.Size(sizes),))]
    for form, out in zip(("ints", "tuple", "list", "Size"), results):
        assert out.shape == results[0].shape, (name, form, out.shape)
        if name != "new_empty":
            np.testing.assert_array_equal(out.numpy(), results[0].numpy(), err_msg=f"{name} {form}")


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "nansum", "nanmean", "cumsum", "cumprod"])
def test_reductions_with_a_dtype_compute_in_it(name):
    """dtype=: the input is cast first, as PyTorch (an int input's mean, a float32 product
    accumulated in float64), and the gradient comes back in the input's dtype."""
    rng = np.random.default_rng(4)
    for values, dtype in ((rng.integers(1, 4, (3, 5)).astype(np.int32), tg.float64),
                          (rng.uniform(0.5, 1.5, (3, 5)).astype(np.float32), tg.float64),
                          (rng.uniform(0.5, 1.5, (3, 5)), tg.float32)):
        if name == "nanmean" and values.dtype.kind == "i":
            continue  # nanmean takes floats only, as PyTorch (mean takes an int input given a float dtype)
        t = tg.tensor(values)
        got = getattr(t, name)(1, dtype=dtype)
        want = getattr(tg.tensor(values.astype(np.dtype(str(dtype)))), name)(1)
        assert got.dtype == want.dtype, (name, values.dtype, dtype)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        if name in ("sum", "mean", "prod", "nansum", "nanmean"):  # the free function too, and the whole tensor
            np.testing.assert_array_equal(getattr(tg, name)(t, 1, dtype=dtype).numpy(), want.numpy())
            assert getattr(t, name)(dtype=dtype).dtype == want.dtype
    x = tg.tensor(rng.uniform(0.5, 1.5, 4).astype(np.float32), requires_grad=True)
    getattr(x, name)(0, dtype=tg.float64).sum().backward()
    assert x.grad.dtype == tg.float32
    with pytest.raises(TypeError, match=f"{name}: 'float128bit' \\(str\\) is not a dtype"):
        getattr(tg.ones(3), name)(0, dtype="float128bit")


@pytest.mark.parametrize("shape, size, want", [((2, 0), (2, 1), (2, 1)), ((3, 0, 4), (1, 1, 4), (1, 1, 4)),
                                               ((0, 3), (1, 3), (1, 3)), ((2, 0), (0,), (0,)),
                                               ((2, 3), (2, 3), (2, 3))])
def test_sum_to_size_reaches_the_size_from_empty_dims_too(shape, size, want):
    """A dim of size 0 summed to size 1 gives one zero (PyTorch's shapes and values),
    and a sum over such a dim keeps its gradient shape."""
    x = tg.zeros(*shape, requires_grad=True)
    y = x.sum_to_size(*size)
    assert y.shape == want and not y.detach().numpy().any()
    y.backward(tg.ones(*want))
    assert x.grad.shape == shape
