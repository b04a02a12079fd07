"""Ops that take a dim, called the ways PyTorch programs call them: all/any over dims, max/min of two tensors."""
import re

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


@pytest.mark.parametrize("shape, dim, valid", [((2, 3), 2, "[-2, 1]"), ((2, 3), -3, "[-2, 1]"), ((4,), 1, "[-1, 0]"),
                                               ((), 1, "[-1, 0]"), ((), -2, "[-1, 0]")])
def test_a_dim_out_of_range_names_the_valid_range_as_pytorch(shape, dim, valid):
    """A 0-d tensor takes dim 0 and -1, as a 1-d one does (PyTorch's "[-1, 0]")."""
    x = tg.ones(*shape)
    # unique takes no dim of a 0-d tensor at all (its own message)
    for op in ("sum", "mean", "amax") + (("unique", "unique_consecutive") if shape else ()):
        with pytest.raises(IndexError, match=f"{op}: dim {dim} is out of range for a tensor with {len(shape)} "
                                             f"dimensions \\(expected a value in {re.escape(valid)}\\)"):
            getattr(x, op)(dim=dim)
    if not shape:
        assert x.sum(0).shape == x.sum(-1).shape == ()


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
        for form in (lambda m, a, b, w=which: getattr(m, w)(a, b), lambda m, a, b, w=which: getattr(a, w)(b)):
            results = []
            for lib in (tg, torch):
                a = lib.tensor(a_values, requires_grad=True)
                b = lib.tensor(b_values, requires_grad=True)
                out = form(lib, a, b)
                (out * lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64)).sum().backward()
                results.append([v.detach().numpy() for v in (out, a.grad, b.grad)])
            for ours, theirs in zip(*results):
                np.testing.assert_array_equal(ours, theirs)


# ------------------------------------------------------------------ axis= and keepdims=
# Every op with a dim takes NumPy's axis= (and keepdims= for keepdim=), as PyTorch's own ops do.
# name -> call(M, x, **kw): M is tinygrad_bn or torch, x a (3, 4) float64 tensor, kw {"dim": d} or
# {"axis": d}. Methods are called as methods, the rest as M.<name>.
def _index(M):
    return M.tensor([[0, 1, 2, 0], [1, 1, 0, 2], [2, 0, 1, 1]])


AXIS_CALLS = {
    "sum": lambda M, x, **k: x.sum(**k, keepdims=True),
    "mean": lambda M, x, **k: x.mean(**k),
    "prod": lambda M, x, **k: x.prod(**k, keepdims=True),
    "nansum": lambda M, x, **k: x.nansum(**k),
    "nanmean": lambda M, x, **k: x.nanmean(**k),
    "max": lambda M, x, **k: x.max(**k, keepdims=True),
    "min": lambda M, x, **k: x.min(**k),
    "amax": lambda M, x, **k: x.amax(**k),
    "amin": lambda M, x, **k: x.amin(**k, keepdims=True),
    "aminmax": lambda M, x, **k: x.aminmax(**k),
    "argmax": lambda M, x, **k: x.argmax(**k, keepdims=True),
    "argmin": lambda M, x, **k: x.argmin(**k),
    "all": lambda M, x, **k: (x > 0.3).all(**k, keepdims=True),
    "any": lambda M, x, **k: (x > 0.6).any(**k),
    "count_nonzero": lambda M, x, **k: (x > 0.5).count_nonzero(**k),
    "std": lambda M, x, **k: x.std(**k, keepdims=True),
    "var": lambda M, x, **k: x.var(**k),
    "std_mean": lambda M, x, **k: M.std_mean(x, **k),
    "var_mean": lambda M, x, **k: M.var_mean(x, **k, keepdims=True),
    "median": lambda M, x, **k: x.median(**k),
    "nanmedian": lambda M, x, **k: x.nanmedian(**k, keepdims=True),
    "mode": lambda M, x, **k: (x * 2).round().mode(**k),
    "quantile": lambda M, x, **k: x.quantile(0.3, **k),
    "nanquantile": lambda M, x, **k: x.nanquantile(0.7, **k, keepdims=True),
    "kthvalue": lambda M, x, **k: x.kthvalue(2, **k),
    "topk": lambda M, x, **k: x.topk(2, **k),
    "sort": lambda M, x, **k: x.sort(**k),
    "argsort": lambda M, x, **k: x.argsort(**k),
    "logsumexp": lambda M, x, **k: x.logsumexp(**k, keepdims=True),
    "softmax": lambda M, x, **k: x.softmax(**k),
    "log_softmax": lambda M, x, **k: x.log_softmax(**k),
    "cumsum": lambda M, x, **k: x.cumsum(**k),
    "cumsum_": lambda M, x, **k: x.clone().cumsum_(**k),
    "cumprod": lambda M, x, **k: x.cumprod(**k),
    "cumprod_": lambda M, x, **k: x.clone().cumprod_(**k),
    "cummax": lambda M, x, **k: x.cummax(**k),
    "cummin": lambda M, x, **k: x.cummin(**k),
    "logcumsumexp": lambda M, x, **k: x.logcumsumexp(**k),
    "diff": lambda M, x, **k: x.diff(**k),
    "squeeze": lambda M, x, **k: x[:1].squeeze(**{n: 0 for n in k}),
    "unsqueeze": lambda M, x, **k: x.unsqueeze(**k),
    "size": lambda M, x, **k: x.size(**k),
    "chunk": lambda M, x, **k: x.chunk(2, **k),
    "tensor_split": lambda M, x, **k: x.tensor_split(2, **k),
    "unbind": lambda M, x, **k: x.unbind(**k),
    "narrow": lambda M, x, **k: x.narrow(**k, start=1, length=2),
    "narrow_copy": lambda M, x, **k: x.narrow_copy(**k, start=1, length=2),
    "select": lambda M, x, **k: x.select(**k, index=1),
    "index_select": lambda M, x, **k: x.index_select(**k, index=M.tensor([2, 0])),
    "gather": lambda M, x, **k: x.gather(**{n: 1 for n in k}, index=_index(M)),
    "take_along_dim": lambda M, x, **k: x.take_along_dim(_index(M), **{n: 1 for n in k}),
    "scatter": lambda M, x, **k: x.scatter(**{n: 1 for n in k}, index=_index(M), src=x * 2),
    "scatter_": lambda M, x, **k: x.clone().scatter_(**{n: 1 for n in k}, index=_index(M), src=x * 2),
    "scatter_add": lambda M, x, **k: x.scatter_add(**{n: 1 for n in k}, index=_index(M), src=x * 2),
    "scatter_add_": lambda M, x, **k: x.clone().scatter_add_(**{n: 1 for n in k}, index=_index(M), src=x * 2),
    "index_add": lambda M, x, **k: x.index_add(**{n: 0 for n in k}, index=M.tensor([2, 0, 1]), source=x),
    "index_add_": lambda M, x, **k: x.clone().index_add_(**{n: 0 for n in k}, index=M.tensor([2, 0, 1]), source=x),
    "index_copy": lambda M, x, **k: x.index_copy(**{n: 0 for n in k}, index=M.tensor([2, 0, 1]), source=x * 3),
    "index_copy_": lambda M, x, **k: x.clone().index_copy_(**{n: 0 for n in k}, index=M.tensor([2, 0, 1]),
                                                         source=x * 3),
    "index_fill": lambda M, x, **k: x.index_fill(**k, index=M.tensor([1]), value=-1.0),
    "index_fill_": lambda M, x, **k: x.clone().index_fill_(**k, index=M.tensor([1]), value=-1.0),
    "select_scatter": lambda M, x, **k: x.select_scatter(x.select(1, 0) * 5, **{n: 1 for n in k}, index=2),
    "slice_scatter": lambda M, x, **k: x.slice_scatter(x[:, :2] * 5, **{n: 1 for n in k}, start=1, end=3),
    "renorm": lambda M, x, **k: x.renorm(p=2, **k, maxnorm=0.5),
    "renorm_": lambda M, x, **k: x.clone().renorm_(p=2, **k, maxnorm=0.5),
    "repeat_interleave": lambda M, x, **k: x.repeat_interleave(2, **k),
    "cross": lambda M, x, **k: x[:, :3].cross(x[:, 1:], **{n: 1 for n in k}),
    "unflatten": lambda M, x, **k: M.unflatten(x, **{n: 1 for n in k}, sizes=(2, 2)),
    # functions that are no method
    "cat": lambda M, x, **k: M.cat([x, x * 2], **k),
    "concat": lambda M, x, **k: M.concat([x, x * 2], **k),
    "concatenate": lambda M, x, **k: M.concatenate([x, x * 2], **k),
    "stack": lambda M, x, **k: M.stack([x, x * 2], **k),
    "trapezoid": lambda M, x, **k: M.trapezoid(x, **k),
    "trapz": lambda M, x, **k: M.trapz(x, **k),
    "cumulative_trapezoid": lambda M, x, **k: M.cumulative_trapezoid(x, **k),
    "gradient": lambda M, x, **k: M.gradient(x, **k),
    "repeat_interleave(function)": lambda M, x, **k: M.repeat_interleave(x, 3, **k),
    "nn.functional.cosine_similarity": lambda M, x, **k: M.nn.functional.cosine_similarity(x, x.flip(0), **k),
}
# PyTorch's methods written in Python take no axis=, and neither do these
AXIS_REFUSED = {"norm": lambda x, a: x.norm(axis=a), "split": lambda x, a: x.split(2, axis=a),
                "unique": lambda x, a: x.unique(axis=a), "unique_consecutive": lambda x, a: x.unique_consecutive(axis=a),
                "nn.functional.softmax": lambda x, a: __import__(x.__module__.split(".")[0]).nn.functional.softmax(
                    x, axis=a)}


def _values(out):
    if isinstance(out, (tuple, list)):
        return [_values(o) for o in out]
    if hasattr(out, "detach"):
        return out.detach().numpy()
    return np.asarray(out)


def _assert_same(ours, theirs):
    ours, theirs = _values(ours), _values(theirs)
    if isinstance(theirs, list):
        assert isinstance(ours, list) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _assert_same(o, t)
        return
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=1e-12, atol=1e-12)


def _axis_input(M):
    return M.tensor(np.random.default_rng(7).random((3, 4)) + 0.1, dtype=M.float64)


def test_every_op_with_a_dim_takes_axis_as_pytorch():
    """Each op in AXIS_CALLS with axis=: PyTorch's result with axis= when PyTorch is installed,
    else its own result with dim= (and keepdims= alike)."""
    try:
        import torch
    except ImportError:
        torch = None
    for name, call in AXIS_CALLS.items():
        for d in (0, 1, -1):
            if name in ("unsqueeze",) and d == -1:
                continue
            ours = call(tg, _axis_input(tg), axis=d)
            if torch is not None:
                expected = call(torch, _axis_input(torch), axis=d)
            else:
                expected = call(tg, _axis_input(tg), dim=d)
            try:
                _assert_same(ours, expected)
            except AssertionError as exc:
                raise AssertionError(f"{name}(axis={d}): {exc}") from None


def test_axis_with_dim_is_refused_and_pythons_ops_refuse_axis_as_pytorchs():
    x = _axis_input(tg)
    with pytest.raises(TypeError, match="sum: pass dim or axis"):
        x.sum(dim=0, axis=1)
    with pytest.raises(TypeError, match="cat: pass dim or axis"):
        tg.cat([x, x], dim=0, axis=1)
    for call in AXIS_REFUSED.values():
        with pytest.raises(TypeError, match="axis"):
            call(x, 0)


def test_the_axis_list_is_every_op_with_a_dim():
    """AXIS_CALLS names every method of Tensor with a dim parameter and every function with one,
    but PyTorch's Python-level ones (AXIS_REFUSED); with PyTorch installed, each of its
    counterparts takes axis= and each refused one does not."""
    import inspect

    def has_dim(fn):
        try:
            return "dim" in inspect.signature(fn).parameters
        except (TypeError, ValueError):
            return False

    methods = {n for n in dir(tg.Tensor) if not n.startswith("_") and has_dim(getattr(tg.Tensor, n))}
    functions = {n for n in dir(tg) if not n.startswith("_") and callable(getattr(tg, n))
                 and not isinstance(getattr(tg, n), type) and has_dim(getattr(tg, n))}
    functionals = {f"nn.functional.{n}" for n in dir(tg.nn.functional) if not n.startswith("_")
                   and has_dim(getattr(tg.nn.functional, n))}
    listed = {n.replace("(function)", "") for n in AXIS_CALLS} | set(AXIS_REFUSED)
    python_level_functionals = {"nn.functional." + n for n in ("glu", "gumbel_softmax", "log_softmax", "normalize",
                                                               "softmax", "softmin")}
    missing = (methods | functions | functionals) - listed - python_level_functionals
    assert not missing, f"ops with a dim that the axis test does not call: {sorted(missing)}"
    assert len(listed) > 80
    torch = pytest.importorskip("torch")
    for name in python_level_functionals:
        fn = getattr(torch.nn.functional, name.rsplit(".", 1)[1])
        assert inspect.isfunction(fn), f"torch's {name} takes axis= now: move it to AXIS_CALLS"


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)], ids=str)
def test_softmax_without_dim_takes_pytorchs_implicit_dim(shape):
    """F.softmax / log_softmax / softmin and nn.Softmax() with no dim: dim 0 for 0-, 1- and
    3-dim inputs, else 1 (PyTorch's deprecated rule), with its warning; so a 3-dim input is
    normalized along dim 0, not the last."""
    import warnings

    import tinygrad_bn.nn.functional as F
    from tinygrad_bn import nn
    implicit = 0 if len(shape) in (0, 1, 3) else 1
    x = tg.tensor(np.random.default_rng(0).standard_normal(shape))
    for implicit_call, explicit in ((lambda: F.softmax(x), x.softmax(implicit)),
                                    (lambda: F.log_softmax(x), x.log_softmax(implicit)),
                                    (lambda: F.softmin(x), (-x).softmax(implicit)),
                                    (lambda: nn.Softmax()(x), x.softmax(implicit)),
                                    (lambda: nn.LogSoftmax()(x), x.log_softmax(implicit))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = implicit_call()
        assert [f"dim={implicit}" in str(w.message) for w in caught] == [True]
        np.testing.assert_array_equal(got.numpy(), explicit.numpy())
    assert repr(nn.Softmax()) == "Softmax(dim=None)" and repr(nn.LogSoftmax(1)) == "LogSoftmax(dim=1)"
    out = F.softmax(x.float(), 0 if not shape else -1, dtype=tg.float64)  # dtype casts first, as PyTorch
    assert out.dtype == tg.float64


def test_split_defaults_to_dim_0_and_matmul_refuses_batch_dims_either_way_round():
    """split's dim is 0 unless given (PyTorch's default); matmul refuses batch dims that do not
    broadcast whichever operand has the larger one."""
    chunks = tg.ones(4, 6).split(2)
    assert [c.shape for c in chunks] == [(2, 6), (2, 6)]
    assert [c.shape for c in tg.split(tg.ones(4, 6), 3)] == [(3, 6), (1, 6)]
    for a, b in (((2, 3, 4), (3, 4, 5)), ((3, 3, 4), (2, 4, 5))):
        with pytest.raises(RuntimeError, match="matmul: batch dimensions of .* do not broadcast"):
            tg.ones(*a) @ tg.ones(*b)
