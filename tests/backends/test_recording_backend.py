"""The recording backend (the contract over Tensors that create_graph=True runs an
op's backward with): each name gives the base backend's values, as a recorded op
where the values are differentiable (its gradient is the op's) and as a constant
where they are not (comparisons, arg-reductions, integer math); two numbers stay
Python numbers; the in-place names and the deferred checks behave as the base's."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.recording_backend import recording

CPU = tg.backends.get_backend("cpu")
RB = recording(CPU)
A = np.array([[1.5, -2.0, 0.25], [3.0, 0.5, -1.0]])
B = np.array([[0.5, 4.0, -3.0], [1.0, -2.5, 2.0]])


def leaf(a):
    return tg.tensor(a, requires_grad=True)


def weights(shape, seed=0):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("name, fn, base, grads", [
    ("abs", lambda a, b: RB.abs(a), lambda a, b: np.abs(a), lambda a, b, w: (np.sign(a) * w, None)),
    ("sigmoid", lambda a, b: RB.sigmoid(a), lambda a, b: 1 / (1 + np.exp(-a)),
     lambda a, b, w: (w / (1 + np.exp(-a)) * (1 - 1 / (1 + np.exp(-a))), None)),
    ("relu", lambda a, b: RB.relu(a), lambda a, b: np.maximum(a, 0), lambda a, b, w: (w * (a > 0), None)),
    ("maximum", lambda a, b: RB.maximum(a, b), np.maximum, lambda a, b, w: (w * (a > b), w * (b > a))),
    ("minimum", lambda a, b: RB.minimum(a, b), np.minimum, lambda a, b, w: (w * (a < b), w * (b < a))),
    ("math sinh", lambda a, b: RB.math("sinh", a), lambda a, b: np.sinh(a), lambda a, b, w: (w * np.cosh(a), None)),
])
def test_a_recorded_name_gives_the_base_values_and_the_ops_gradient(name, fn, base, grads):
    a, b = leaf(A), leaf(B)
    out = fn(a, b)
    assert isinstance(out, tg.Tensor) and out.requires_grad and out.grad_fn is not None, name
    np.testing.assert_allclose(out.detach().numpy(), base(A, B), rtol=1e-15, err_msg=name)
    w = weights(out.shape)
    (out * w).sum().backward()
    want_a, want_b = grads(A, B, w.numpy())
    np.testing.assert_allclose(a.grad.numpy(), want_a, rtol=1e-14, err_msg=name)
    if want_b is not None:
        np.testing.assert_allclose(b.grad.numpy(), want_b, rtol=1e-14, err_msg=name)


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True)])
def test_max_and_min_reduce_as_the_base_and_pass_the_gradient_to_the_extreme(axis, keepdims):
    for reduce, pick in ((RB.max, np.max), (RB.min, np.min)):
        a = leaf(A)
        out = reduce(a, axis, keepdims)
        np.testing.assert_array_equal(out.detach().numpy(), pick(A, axis=axis, keepdims=keepdims))
        out.sum().backward()
        hit = A == pick(A, axis=axis, keepdims=True)
        np.testing.assert_array_equal(a.grad.numpy(), hit.astype(float))


def test_cat_joins_along_an_axis_given_negative_too_and_splits_the_gradient_back():
    a, b = leaf(A[..., None]), leaf(B[..., None].repeat(2, -1))  # (2, 3, 1) and (2, 3, 2)
    out = RB.concatenate([a, b], -1)  # -1: the last of three axes
    np.testing.assert_array_equal(out.detach().numpy(), np.concatenate([A[..., None], B[..., None].repeat(2, -1)], -1))
    w = weights(out.shape)
    (out * w).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), w.numpy()[..., :1])
    np.testing.assert_array_equal(b.grad.numpy(), w.numpy()[..., 1:])


def test_constants_carry_no_gradient_and_match_the_base():
    a, b = leaf(A), leaf(B)
    for name, got, want in [
        ("argmax", RB.argmax(a, 1, True), np.argmax(A, 1, keepdims=True)),
        ("argmin", RB.argmin(a, 0, False), np.argmin(A, 0)),
        ("argsort", RB.argsort(a, 1), np.argsort(A, 1)),
        ("not_equal", RB.not_equal(a, b), A != B),
        ("logical_not", RB.logical_not(RB.greater(a, 0)), ~(A > 0)),
        ("isnan", RB.isnan(RB.log(a)), np.isnan(np.log(A, where=A > 0, out=np.full_like(A, np.nan)))),
        ("isfinite", RB.isfinite(RB.div(a, RB.sub(a, a))), np.zeros(A.shape, bool)),
        ("math floor on ints", RB.math("floor", np.array([3, -2])), np.array([3, -2])),
        ("asarray", RB.asarray([1.0, 2.0]), np.array([1.0, 2.0])),
        ("rand", (RB.seed(4), RB.rand((3,), np.float64))[1], (CPU.seed(4), CPU.rand((3,), np.float64))[1]),
        ("randn", (RB.seed(4), RB.randn((2,), np.float32))[1], (CPU.seed(4), CPU.randn((2,), np.float32))[1]),
    ]:
        assert isinstance(got, tg.Tensor) and not got.requires_grad, name
        np.testing.assert_array_equal(got.numpy(), want, err_msg=name)
        assert got.numpy().dtype == np.asarray(want).dtype, name
    assert RB.to_numpy(a) is a._data and RB.to_numpy(B) is B


def test_two_numbers_stay_numbers_and_a_tensor_with_a_number_is_a_recorded_op():
    assert (RB.add(2, 3), RB.mul(2.0, 4), RB.div(3, 4), RB.pow(2, 10), RB.sub(1, 5)) == (5, 8.0, 0.75, 1024, -4)
    a = leaf(A)
    out = RB.pow(RB.add(2.0, RB.mul(a, 3.0)), 2)  # (2 + 3a)^2
    np.testing.assert_allclose(out.detach().numpy(), (2 + 3 * A) ** 2)
    out.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), 6 * (2 + 3 * A))


def test_asarray_of_a_tensor_casts_it_only_when_asked():
    a = leaf(A)
    assert RB.asarray(a) is a
    f32 = RB.asarray(a, np.float32)
    assert f32.dtype == tg.float32 and f32.requires_grad  # a recorded cast
    np.testing.assert_array_equal(f32.detach().numpy(), A.astype(np.float32))


def test_in_place_names_and_checks_behave_as_the_base():
    dst = tg.zeros(2, 3, dtype=tg.float64)
    RB.copyto(dst, leaf(A))
    np.testing.assert_array_equal(dst.detach().numpy(), A)
    with pytest.raises(TypeError, match="RecordingBackend.setitem: writes into a tensor; got a plain array"):
        RB.setitem(A.copy(), 0, 1.0)
    assert RB.shares_memory(dst, dst.detach()) and not RB.shares_memory(dst, A)
    with pytest.raises(ValueError, match="bad values"):
        RB.check(RB.greater(leaf(A), 2.0), ValueError, "bad values")
    RB.check(RB.greater(leaf(A), 5.0), ValueError, "never raised")
    with pytest.raises(ValueError, match="not finite"):
        RB.check_finite("not finite", leaf(A), RB.div(leaf(A), 0.0))
    assert repr(RB) == f"<RecordingBackend over {CPU!r}>"


def test_constants_from_0d_operands_are_0d_arrays_not_numpy_scalars():
    """NumPy's ufuncs return a scalar for 0-d operands (np.less(array(1.), array(2.))
    is np.True_); the constant tensors the recording backend makes hold 0-d device
    arrays all the same, with the value and dtype of the comparison."""
    t = tg.tensor(1.0, requires_grad=True)
    cases = {"less": (RB.less(t, 2.0), True), "equal": (RB.equal(t, 1.0), True),
             "less, two tensors": (RB.less(t, t), False), "isnan": (RB.math("isnan", t), False)}
    for name, (got, want) in cases.items():
        assert type(got._data) is np.ndarray and got.shape == () and got.dtype == np.bool_, name
        assert bool(got._data) is want and not got.requires_grad, name
