"""Ops that take a dim, called the ways PyTorch programs call them: all/any over dims, max/min of two tensors."""
import numpy as np
import pytest

import tinygrad_bn as tg

TRUTH_VALUES = {
    "mixed": np.array([[1.0, 0.0, 2.0], [3.0, 4.0, np.nan]]),
    "3-d": np.array([[[0.0, 1.0], [0.0, 0.0]], [[2.0, 3.0], [0.0, -1.0]], [[1.0, 1.0], [1.0, 1.0]]]),
    "empty rows": np.zeros((0, 3)),
    "0-d": np.array(0.0),
    "uint8": np.array([[1, 0, 2], [3, 4, 5]], dtype=np.uint8),
    "bool": np.array([[True, False], [True, True]]),
}
TRUTH_DIMS = [None, 0, 1, -1, (0, 1), (0, -1), [1, 0], ()]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", TRUTH_DIMS, ids=str)
@pytest.mark.parametrize("kind", TRUTH_VALUES)
@pytest.mark.parametrize("which", ["all", "any"])
def test_all_and_any_over_dims_match_numpy(which, kind, dim, keepdim):
    values = TRUTH_VALUES[kind]
    dims = () if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    n = max(values.ndim, 1)
    if not all(-n <= d < n for d in dims) or len({d % n for d in dims}) < len(dims):
        pytest.skip("dims that do not fit this shape")
    t = tg.tensor(values)
    axis = None if dim is None else tuple(dim) if isinstance(dim, (tuple, list)) else dim
    if values.ndim == 0 and axis is not None:
        axis = ()  # a 0-d tensor's dim 0 or -1 is the tensor itself
    expected = getattr(np, which)(values != 0, axis=axis, keepdims=keepdim if dim is not None else False)
    kwargs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
    for out in (getattr(t, which)(**kwargs), getattr(tg, which)(t, **kwargs)):
        assert out.shape == expected.shape
        assert out.dtype == (np.uint8 if kind == "uint8" else np.bool_)
        np.testing.assert_array_equal(out.numpy().astype(bool), expected)


def test_all_and_any_take_dim_positionally_and_match_pytorch():
    torch = pytest.importorskip("torch")
    values = TRUTH_VALUES["3-d"]
    t, p = tg.tensor(values), torch.tensor(values)
    calls = [lambda m, x: x.all(1), lambda m, x: x.any(1), lambda m, x: m.all(x, 2), lambda m, x: m.any(x, 0, True),
             lambda m, x: x.all(dim=(0, 2)), lambda m, x: x.any(dim=(-1, 0), keepdim=True), lambda m, x: x.all(0, True),
             lambda m, x: x.any(dim=()), lambda m, x: x.all(dim=None)]
    for call in calls:
        ours, theirs = call(tg, t), call(torch, p)
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_all_and_any_refuse_bad_dims():
    x = tg.ones(2, 3)
    with pytest.raises(IndexError, match="all: dim 2 is out of range"):
        x.all(2)
    with pytest.raises(ValueError, match="any: dim .* names the same dimension twice"):
        x.any(dim=(0, 0))
    with pytest.raises(TypeError, match="any: dim must be an int"):
        x.any("a")
    with pytest.raises(TypeError, match="all: keepdim must be a bool"):
        x.all(0, "yes")


@pytest.mark.parametrize("which", ["max", "min"])
def test_max_and_min_of_two_tensors_are_maximum_and_minimum(which):
    """torch.max(a, b), a.max(b) and a.max(other=b) are the elementwise maximum, gradients
    included (ties split in half); a number is still a dim."""
    a_values, b_values = np.array([[1.0, 5.0, 2.0]]), np.array([[3.0], [2.0]])
    pair = tg.maximum if which == "max" else tg.minimum
    forms = [lambda a, b: getattr(tg, which)(a, b), lambda a, b: getattr(a, which)(b),
             lambda a, b: getattr(a, which)(other=b), lambda a, b: getattr(tg, which)(a, other=b)]
    expected = None
    for form in forms + [pair]:
        a = tg.tensor(a_values, requires_grad=True)
        b = tg.tensor(b_values, requires_grad=True)
        out = form(a, b)
        out.sum().backward()
        got = (out.detach().numpy(), a.grad.numpy(), b.grad.numpy())
        if expected is None:
            expected = got
            np.testing.assert_array_equal(got[0], getattr(np, "maximum" if which == "max" else "minimum")(
                a_values, b_values))
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
    assert getattr(tg.tensor([[1.0, 5.0]]), which)(1).values.shape == (1,)  # a number is a dim
    with pytest.raises(TypeError, match=f"{which}: the elementwise form"):
        getattr(tg.ones(2), which)(tg.ones(2), True)
    with pytest.raises(TypeError, match=f"{which}: dim must be an int or a tuple of ints, got 1.5"):
        getattr(tg.ones(2), which)(1.5)


def test_max_and_min_of_two_tensors_match_pytorch():
    torch = pytest.importorskip("torch")
    a_values, b_values = np.array([[1.0, 5.0, 2.0]]), np.array([[2.0], [5.0]])
    for which in ("max", "min"):
        for form in (lambda m, a, b: getattr(m, which)(a, b), lambda m, a, b: getattr(a, which)(b)):
            results = []
            for lib in (tg, torch):
                a = lib.tensor(a_values, requires_grad=True)
                b = lib.tensor(b_values, requires_grad=True)
                out = form(lib, a, b)
                (out * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)).sum().backward()
                results.append([v.detach().numpy() for v in (out, a.grad, b.grad)])
            for ours, theirs in zip(*results):
                np.testing.assert_array_equal(ours, theirs)
