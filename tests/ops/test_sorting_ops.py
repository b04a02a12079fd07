"""Sorting, selection, running and counting ops: sort, argsort, msort, topk,
kthvalue, median, nanmedian, mode, quantile, nanquantile, cumsum, cumprod,
cummax, cummin, logcumsumexp, diff, unique, unique_consecutive, bincount,
histc, histogram, searchsorted and bucketize. Values against NumPy float64
references and PyTorch's choices at ties and NaN (spelled out here, and checked
against PyTorch itself when it is installed), gradients by gradcheck through a
random projection, second derivatives for a few, the device contract's derived
argsort against NumPy's, and clear errors."""
import functools

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.backends import Derived
from tinygrad_bn.backends.cpu import cpu_backend
from tinygrad_bn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the PyTorch comparisons are optional
    torch = None

NAN = float("nan")


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def values(t):
    return t.detach().cpu().numpy()


def same(t, want):
    if torch is not None and isinstance(want, torch.Tensor):
        want = want.detach().numpy()
    want = np.asarray(want)
    got = values(t)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


def T(a):
    return torch.tensor(np.asarray(a))


def distinct(rng, *shape):
    """Values with no ties and gaps of at least 0.01 (sorting is locally smooth there)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 + rng.uniform(0, 0.01, n)).reshape(shape) - n * 0.15


TIES = [3.0, 1.0, 3.0, 2.0, 1.0, 3.0]
WITH_NAN = [2.0, NAN, 1.0, NAN, 0.0]


# ------------------------------------------------------------------ sort, argsort, msort

def test_sort_is_stable_and_puts_nan_last_ascending_first_descending():
    s = tg.tensor(TIES).sort()
    same(s.values, sorted(TIES))
    same(s.indices, [1, 4, 3, 0, 2, 5])
    d = tg.sort(tg.tensor(TIES), descending=True)
    same(d.indices, [0, 2, 5, 3, 1, 4])  # equal values keep their order in a descending sort too
    n = tg.tensor(WITH_NAN)
    same(n.sort().indices, [4, 2, 0, 1, 3])
    same(n.sort(descending=True).indices, [1, 3, 0, 2, 4])
    same(n.argsort(), [4, 2, 0, 1, 3])
    assert s.indices.dtype == tg.int64 and not s.indices.requires_grad
    if torch is not None:
        for data in (TIES, WITH_NAN):
            for desc in (False, True):
                got, want = tg.tensor(data).sort(descending=desc, stable=True), T(data).sort(
                    descending=desc, stable=True)
                same(got.values, want.values)
                same(got.indices, want.indices)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_along_a_dim_matches_numpy_and_differentiates(rng, dim, descending):
    a = distinct(rng, 4, 5)
    x = f64(a)
    out = x.sort(dim, descending)
    order = np.argsort(-a if descending else a, axis=dim, kind="stable")
    same(out.indices, order)
    same(out.values, np.take_along_axis(a, order, dim))
    same(tg.argsort(x, dim, descending), order)
    same(x.msort(), np.sort(a, 0))
    assert gradcheck(lambda t: t.sort(dim, descending).values, (x,))


def test_sort_of_integers_and_bools_and_0d():
    same(tg.tensor([3, -1, 2]).sort().values, [-1, 2, 3])
    same(tg.tensor([True, False, True]).argsort(), [1, 0, 2])
    s = tg.tensor(2.5).sort()
    assert s.values.shape == () and s.indices.item() == 0


def test_sort_values_have_second_derivatives(rng):
    x = f64(distinct(rng, 3, 4))
    assert gradgradcheck(lambda t: t.sort(1).values ** 2, (x,))


# ------------------------------------------------------------------ topk, kthvalue

def test_topk_of_a_0d_tensor_is_0d_as_pytorch():
    top = f64(3.5).topk(1)
    assert top.values.shape == () and top.indices.shape == () and top.values.item() == 3.5 and top.indices.item() == 0
    assert gradcheck(lambda t: t.topk(1).values * t, (f64(3.5),))


def test_topk_and_kthvalue(rng):
    a = distinct(rng, 3, 6)
    x = f64(a)
    for k in (1, 3, 6):
        top = x.topk(k)
        order = np.argsort(-a, axis=1, kind="stable")[:, :k]
        same(top.indices, order)
        same(top.values, np.take_along_axis(a, order, 1))
        low = tg.topk(x, k, 0, largest=False) if k <= 3 else None
        if low is not None:
            same(low.values, np.sort(a, 0)[:k])
        kth = x.kthvalue(k, 1, keepdim=True)
        same(kth.values, np.sort(a, 1)[:, k - 1:k])
        same(kth.indices, np.argsort(a, 1)[:, k - 1:k])
        if torch is not None:
            same(top.indices, T(a).topk(k).indices)
            same(x.kthvalue(k, 0 if k <= 3 else 1).indices, T(a).kthvalue(k, 0 if k <= 3 else 1).indices)
    assert x.topk(0).values.shape == (3, 0)
    assert gradcheck(lambda t: t.topk(2, 1).values, (x,))
    assert gradcheck(lambda t: t.topk(2, 0, largest=False).values, (x,))
    assert gradcheck(lambda t: t.kthvalue(2, 1).values, (x,))


def test_topk_and_kthvalue_at_ties_and_nan():
    t = tg.tensor(TIES)
    same(t.topk(3, largest=False).indices, [1, 4, 3])  # PyTorch's too
    same(t.topk(2).values, [3.0, 3.0])  # the values are PyTorch's; which 3 it returns depends on its algorithm
    same(t.topk(2).indices, [0, 2])  # here: the first ones (stable order)
    n = tg.tensor(WITH_NAN)
    same(n.topk(2).indices, [1, 3])  # NaN is the largest, as in PyTorch
    same(n.topk(2, largest=False).indices, [4, 2])
    k5 = n.kthvalue(5)
    assert np.isnan(k5.values.item()) and k5.indices.item() == 3  # PyTorch's
    same(t.kthvalue(1).indices, 1)


# ------------------------------------------------------------------ median, nanmedian, mode

def test_median_is_the_lower_median_with_pytorchs_nan_rules():
    assert tg.tensor([4.0, 1.0, 3.0, 2.0]).median().item() == 2.0
    # integers: no NaN to count, every value takes part (PyTorch's values and indices)
    ints = tg.tensor([[3, 1, 2], [5, 4, 6]])
    for median in (tg.median, tg.nanmedian):
        along = median(ints, 1)
        assert along.values.tolist() == [2, 5] and along.indices.tolist() == [2, 0]
        down = median(ints, 0)
        assert down.values.tolist() == [3, 1, 2] and down.indices.tolist() == [0, 0, 0]
    assert tg.tensor([3, 1, 2, 7]).median().item() == 2
    m = tg.tensor(TIES).median(0)
    assert m.values.item() == 2.0 and m.indices.item() == 3
    n = tg.tensor(WITH_NAN)
    assert np.isnan(n.median().item())
    nm = n.median(0)
    assert np.isnan(nm.values.item()) and nm.indices.item() == 1  # the first NaN, as PyTorch
    assert n.nanmedian().item() == 1.0
    nn_ = tg.nanmedian(n, 0)
    assert nn_.values.item() == 1.0 and nn_.indices.item() == 2
    assert np.isnan(tg.tensor([NAN, NAN]).nanmedian().item())
    rows = np.array([[1.0, NAN, 3.0, 0.5], [NAN, NAN, 2.0, 9.0]])
    same(tg.tensor(rows).nanmedian(1).values, [1.0, 2.0])
    same(tg.tensor(rows).median(1, keepdim=True).values, [[NAN], [NAN]])
    if torch is not None:
        for data in (TIES, WITH_NAN, [5.0, 2.0, 2.0, 0.0, 2.0, 9.0]):
            for name in ("median", "nanmedian"):
                got, want = getattr(tg.tensor(data), name)(0), getattr(T(data), name)(0)
                same(got.values, want.values)
                if len(set(data)) == len(data) or name == "median" and data is WITH_NAN:
                    same(got.indices, want.indices)
        same(tg.tensor(rows).nanmedian(1).values, T(rows).nanmedian(1).values)


def test_median_of_all_elements_shares_the_gradient_among_ties_as_pytorch():
    x = f64([1.0, 2.0, 2.0, 2.0, 3.0])
    x.median().backward()
    same(x.grad, [0.0, 1 / 3, 1 / 3, 1 / 3, 0.0])
    y = f64([1.0, 2.0, 2.0, 2.0, 3.0])
    y.median(0).values.backward()  # along a dim: to the index picked
    assert values(y.grad).sum() == 1.0 and values(y.grad)[[0, 4]].tolist() == [0.0, 0.0]


def test_median_gradients(rng):
    x = f64(distinct(rng, 3, 5))
    assert gradcheck(lambda t: t.median(), (x,))
    assert gradcheck(lambda t: t.median(1).values, (x,))
    assert gradcheck(lambda t: tg.nanmedian(t, 0, keepdim=True).values, (x,))
    assert gradgradcheck(lambda t: t.median(1).values * t[:, 0], (x,))


def test_mode_is_the_smallest_most_frequent_value_at_its_last_index():
    m = tg.tensor([1.0, 2.0, 2.0, 1.0, 3.0]).mode()
    assert m.values.item() == 1.0 and m.indices.item() == 3
    m = tg.mode(tg.tensor([2.0, 1.0, 2.0, 1.0]))
    assert m.values.item() == 1.0 and m.indices.item() == 3
    m = tg.tensor(WITH_NAN).mode()  # each NaN is a value of its own
    assert m.values.item() == 0.0 and m.indices.item() == 4
    rows = np.array([[4, 4, 1, 1, 1], [7, 3, 3, 7, 0]])
    mr = tg.tensor(rows).mode(1, keepdim=True)
    same(mr.values, [[1], [3]])
    same(mr.indices, [[4], [2]])
    if torch is not None:
        for data in ([1.0, 2.0, 2.0, 1.0, 3.0], [2.0, 1.0, 2.0, 1.0], WITH_NAN, TIES):
            got, want = tg.tensor(data).mode(), T(data).mode()
            same(got.values, want.values)
            same(got.indices, want.indices)
        same(tg.tensor(rows).mode(0).indices, T(rows).mode(0).indices)
    x = f64([[1.0, 2.0, 2.0, 5.0], [0.5, 0.5, 3.0, 3.0]])
    (x.mode(1).values * f64([2.0, -1.0], False)).sum().backward()
    same(x.grad, [[0.0, 0.0, 2.0, 0.0], [0.0, -1.0, 0.0, 0.0]])  # to the index picked, as PyTorch
    assert gradcheck(lambda t: t.mode(1).values, (f64(distinct(np.random.default_rng(0), 3, 4)),))  # no ties


# ------------------------------------------------------------------ quantile, nanquantile

@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_matches_numpy(rng, interpolation):
    a = distinct(rng, 4, 7)
    q = np.array([0.0, 0.1, 0.5, 0.25, 2 / 3, 1.0])
    x = f64(a)
    same(x.quantile(0.3, interpolation=interpolation), np.quantile(a, 0.3, method=interpolation))
    same(tg.quantile(x, f64(q, False), dim=1, interpolation=interpolation),
         np.quantile(a, q, axis=1, method=interpolation))
    same(x.quantile(f64(q, False), 0, keepdim=True, interpolation=interpolation),
         np.quantile(a, q, axis=0, keepdims=True, method=interpolation))
    same(x.quantile(0.5, keepdim=True, interpolation=interpolation),
         np.quantile(a, 0.5, keepdims=True, method=interpolation))
    if torch is not None:
        same(x.quantile(f64(q, False), 1, interpolation=interpolation),
             torch.quantile(T(a), T(q), 1, interpolation=interpolation))
    assert gradcheck(lambda t: t.quantile(f64(q[1:-1], False), 1, interpolation=interpolation), (x,))


def test_quantile_positions_are_pytorchs_in_the_inputs_dtype():
    # positions q * (n - 1) = 0.5, 1.5, ... round half to even, as torch.round; in float64 0.1 * 5 is a bit
    # above 0.5 and 0.7 * 5 a bit below 3.5 (PyTorch computes in the input's dtype: so do we)
    q = [0.1, 0.3, 0.5, 0.7, 0.9]
    x = tg.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    same(x.quantile(tg.tensor(q), interpolation="nearest"), np.array([0.0, 2.0, 2.0, 4.0, 4.0], np.float32))
    same(x.double().quantile(tg.tensor(q).double(), interpolation="nearest"), [1.0, 2.0, 2.0, 3.0, 4.0])
    if torch is not None:
        for dtype in (torch.float32, torch.float64):
            want = torch.arange(6.0, dtype=dtype).quantile(torch.tensor(q, dtype=dtype), interpolation="nearest")
            name = str(dtype).split(".")[1]
            got = tg.arange(6.0, dtype=name).quantile(tg.tensor(np.array(q, dtype=name)), interpolation="nearest")
            same(got, want)


@pytest.mark.filterwarnings("ignore:All-NaN slice encountered:RuntimeWarning")  # NumPy's reference, on a NaN row
def test_quantile_and_nanquantile_with_nan():
    rows = np.array([[1.0, NAN, 3.0, 0.5], [NAN, NAN, NAN, NAN], [4.0, 2.0, 0.0, 1.0]])
    t = tg.tensor(rows)
    same(t.quantile(0.5, 1), [NAN, NAN, 1.5])
    same(t.nanquantile(0.5, 1), np.nanquantile(rows, 0.5, 1))
    same(tg.nanquantile(t, tg.tensor([0.25, 1.0]), 1), np.nanquantile(rows, [0.25, 1.0], 1))
    assert np.isnan(t.quantile(0.1).item()) and t.nanquantile(0.5).item() == np.nanquantile(rows, 0.5)
    if torch is not None:
        same(t.nanquantile(0.3, 1), torch.nanquantile(T(rows), 0.3, 1))
        same(t.quantile(0.3, 1), torch.quantile(T(rows), 0.3, 1))
    x = f64(rows[[0, 2]])
    assert gradcheck(lambda u: u.nanquantile(0.4, 1), (x,))
    assert gradgradcheck(lambda u: u.nanquantile(0.4, 1) ** 2, (x,))


# ------------------------------------------------------------------ running ops

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_cumprod_logcumsumexp(rng, dim):
    a = rng.standard_normal((5, 9))
    a[2, 3] = 0.0  # cumprod's gradient through a zero
    x = f64(a)
    same(x.cumsum(dim), np.cumsum(a, dim))
    same(tg.cumprod(x, dim), np.cumprod(a, dim))
    same(x.logcumsumexp(dim), np.log(np.cumsum(np.exp(a), dim)))
    if torch is not None:
        same(x.cumprod(dim), torch.cumprod(T(a), dim))
        same(x.logcumsumexp(dim), torch.logcumsumexp(T(a), dim))
    for fn in (lambda t: t.cumsum(dim), lambda t: t.cumprod(dim), lambda t: t.logcumsumexp(dim)):
        assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda t: t.cumprod(dim), (x,))
    assert gradgradcheck(lambda t: t.logcumsumexp(dim), (x,))


@pytest.mark.parametrize("shape, dim", [((1, 3), 0), ((3, 1), 1), ((1,), 0), ((), 0)])
def test_a_running_op_over_one_element_is_a_new_tensor(shape, dim):
    """A scan over a dim of length 1 (or a 0-d tensor) gives its input's values in a
    new tensor, as PyTorch: writing to the result leaves the input as it was."""
    for op in ("cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"):
        x = f64(np.full(shape, 0.5), requires_grad=False)
        y = getattr(x, op)(dim)
        y = y[0] if isinstance(y, tuple) else y  # cummax / cummin: (values, indices)
        assert y is not x and y.shape == x.shape, op
        y.add_(1.0)
        assert (x.numpy() == 0.5).all(), op


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")  # log(0) of the -inf case
def test_running_ops_on_integers_large_values_and_zeros():
    assert tg.tensor([1, 2, 3]).cumsum(0).dtype == tg.int64
    assert tg.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert tg.tensor([1.0, 2.0]).cumsum(0, dtype=tg.float64).dtype == tg.float64
    same(tg.tensor([1000.0, 1000.0, -1000.0]).double().logcumsumexp(0), [1000.0, 1000.0 + np.log(2), 1000.0 + np.log(2)])
    same(tg.tensor([-np.inf, -np.inf, 0.0]).double().logcumsumexp(0), [-np.inf, -np.inf, 0.0])
    x = f64([2.0, 0.0, 3.0, 0.0])  # two zeros: every gradient past the first is 0
    (x.cumprod(0) * f64([1.0, 1.0, 1.0, 1.0], False)).sum().backward()
    if torch is not None:
        r = T([2.0, 0.0, 3.0, 0.0]).requires_grad_()
        r.cumprod(0).sum().backward()
        same(x.grad, r.grad)
    same(x.grad, [1.0, 2.0 + 6.0, 0.0, 0.0])
    assert tg.tensor(3.0).cumsum(0).shape == ()


def test_cummax_cummin_follow_pytorchs_ties_and_nan():
    c = tg.tensor([1.0, 3.0, 2.0, 3.0, 0.0, 3.0]).cummax(0)
    same(c.values, [1.0, 3.0, 3.0, 3.0, 3.0, 3.0])
    same(c.indices, [0, 1, 1, 3, 3, 5])  # a tie moves the index to the later element
    same(tg.cummin(tg.tensor([1.0, 0.0, 2.0, 0.0]), 0).indices, [0, 1, 1, 3])
    n = tg.tensor([NAN, 1.0, NAN, 2.0])
    same(n.cummax(0).indices, [0, 0, 2, 2])  # NaN, once met, wins; the later NaN the earlier
    same(n.cummin(0).indices, [0, 0, 2, 2])
    same(tg.tensor([1.0, NAN, 2.0, 3.0]).cummax(0).indices, [0, 1, 1, 1])
    same(tg.tensor([[3, 1], [2, 5], [3, 0]]).cummax(0).indices, [[0, 0], [0, 1], [2, 1]])
    if torch is not None:
        for data in ([1.0, 3.0, 2.0, 3.0, 0.0, 3.0], [NAN, 1.0, NAN, 2.0], TIES, WITH_NAN):
            for name in ("cummax", "cummin"):
                got, want = getattr(tg.tensor(data), name)(0), getattr(T(data), name)(0)
                same(got.values, want.values)
                same(got.indices, want.indices)
    x = f64([1.0, 3.0, 3.0, 2.0])
    x.cummax(0).values.sum().backward()
    same(x.grad, [1.0, 1.0, 2.0, 0.0])  # to the indices, as PyTorch
    y = f64(np.random.default_rng(4).standard_normal((3, 6)))
    assert gradcheck(lambda t: t.cummax(1).values, (y,))
    assert gradcheck(lambda t: t.cummin(0).values, (y,))


def test_diff():
    a = np.random.default_rng(5).standard_normal((3, 5))
    x = f64(a)
    same(x.diff(), np.diff(a))
    same(tg.diff(x, 2, 0), np.diff(a, 2, 0))
    same(x.diff(dim=1, prepend=f64(a[:, :2]), append=f64(a[:, :1])), np.diff(a, 1, 1, prepend=a[:, :2], append=a[:, :1]))
    # prepend and append each alone, along either dim and with n = 2: each is joined on its own side
    same(x.diff(append=f64(a[:, :2])), np.diff(a, append=a[:, :2]))
    same(x.diff(prepend=f64(a[:, :1])), np.diff(a, prepend=a[:, :1]))
    same(tg.diff(x, 2, 0, append=f64(a[:1])), np.diff(a, 2, 0, append=a[:1]))
    same(tg.diff(x, 2, 0, prepend=f64(a[:2])), np.diff(a, 2, 0, prepend=a[:2]))
    same(tg.tensor([True, False, False, True]).diff(), [True, False, True])
    same(tg.tensor([1, 3, 6]).diff(n=2), [1])
    assert gradcheck(lambda t: t.diff(2), (x,))
    # n = 0: the input's values in a new tensor (as PyTorch), which a write leaves the input apart from
    y = x.detach().diff(n=0)
    assert y is not x and y.tolist() == x.tolist()
    y.add_(1.0)
    same(x, a)


# ------------------------------------------------------------------ counting (on the host)

def test_unique_and_unique_consecutive():
    a = np.array([3.0, 1.0, 2.0, 1.0, 3.0, 3.0])
    t = tg.tensor(a)
    u, inv, cnt = t.unique(return_inverse=True, return_counts=True)
    same(u, [1.0, 2.0, 3.0])
    same(inv, [2, 0, 1, 0, 2, 2])
    same(cnt, [2, 1, 3])
    same(tg.unique(t, sorted=False), [1.0, 2.0, 3.0])  # sorted anyway, as PyTorch on the CPU
    same(tg.tensor([1.0, NAN, NAN, 0.0]).unique(), [0.0, 1.0, NAN, NAN])  # NaNs are distinct
    m = np.array([[1, 2], [0, 5], [1, 2]])
    um, im = tg.tensor(m).unique(dim=0, return_inverse=True)
    same(um, [[0, 5], [1, 2]])
    same(im, [1, 0, 1])
    v, i2, c2 = t.unique_consecutive(return_inverse=True, return_counts=True)
    same(v, [3.0, 1.0, 2.0, 1.0, 3.0])
    same(i2, [0, 1, 2, 3, 4, 4])
    same(c2, [1, 1, 1, 1, 2])
    cols = tg.tensor([[1, 1, 2, 2], [0, 0, 0, 1]]).unique_consecutive(dim=1, return_counts=True)
    same(cols[0], [[1, 2, 2], [0, 0, 1]])
    same(cols[1], [2, 1, 1])
    if torch is not None:
        for got, want in zip(t.unique_consecutive(return_inverse=True, return_counts=True),
                             T(a).unique_consecutive(return_inverse=True, return_counts=True)):
            same(got, want)


def test_bincount_histc_histogram():
    same(tg.bincount(tg.tensor([0, 2, 2, 5])), [1, 0, 2, 0, 0, 1])
    same(tg.tensor([1, 1]).bincount(minlength=4), [0, 2, 0, 0])
    w = tg.bincount(tg.tensor([0, 2, 2]), tg.tensor([1.0, 2.0, 3.0]))
    assert w.dtype == tg.float32 and w.tolist() == [1.0, 0.0, 5.0]
    assert tg.bincount(tg.tensor([0]), tg.tensor([2])).dtype == tg.float64
    same(tg.bincount(tg.tensor([], dtype=tg.int64), minlength=3), [0, 0, 0])
    same(tg.tensor([1.0, 2.0, 1.0, 4.0]).histc(4, 0, 3), [0.0, 2.0, 1.0, 0.0])  # 4 is outside: ignored
    same(tg.histc(tg.tensor([1.0, 2.0, 1.0, 4.0]), bins=4), [2.0, 1.0, 0.0, 1.0])  # the data's range
    same(tg.tensor([2.0, 2.0]).histc(4), [0.0, 0.0, 2.0, 0.0])  # one value: [value - 1, value + 1]
    h = tg.tensor([1.0, 2.0, 1.0]).histogram(4, range=(0.0, 3.0))
    same(h.hist, [0.0, 2.0, 1.0, 0.0])
    same(h.bin_edges, [0.0, 0.75, 1.5, 2.25, 3.0])
    hd = tg.histogram(tg.tensor([1.0, 2.0, 1.0]), tg.tensor([0.0, 1.0, 2.0, 3.0]), weight=tg.tensor([1.0, 2.0, 4.0]),
                      density=True)
    np.testing.assert_allclose(values(hd.hist), [0.0, 5 / 7, 2 / 7], rtol=1e-6)
    if torch is not None:
        data = np.random.default_rng(6).standard_normal(50).astype(np.float32)
        same(tg.tensor(data).histc(7, -1, 1), torch.histc(T(data), 7, -1, 1))
        got, want = tg.tensor(data).histogram(5), torch.histogram(T(data), 5)
        same(got.hist, want.hist)
        np.testing.assert_allclose(values(got.bin_edges), want.bin_edges.numpy(), rtol=1e-6)


def test_searchsorted_and_bucketize():
    seq = tg.tensor([1.0, 3.0, 3.0, 5.0, NAN])
    v = tg.tensor([[0.0, 3.0], [5.0, NAN]])
    same(tg.searchsorted(seq, v), [[0, 1], [3, 4]])
    same(tg.searchsorted(seq, v, right=True), [[0, 3], [4, 5]])
    same(tg.searchsorted(seq, v, side="right"), [[0, 3], [4, 5]])
    same(tg.searchsorted(seq, 3.0), 1)
    assert tg.searchsorted(seq, v, out_int32=True).dtype == tg.int32
    rows = tg.tensor([[1.0, 2.0, 3.0], [0.0, 10.0, 20.0]])
    same(tg.searchsorted(rows, tg.tensor([[2.5], [10.0]])), [[2], [1]])
    unsorted = tg.tensor([5.0, 1.0, 3.0])
    same(tg.searchsorted(unsorted, tg.tensor([2.0, 4.0]), sorter=unsorted.argsort()), [1, 2])
    b = tg.tensor([1.0, 3.0, 5.0])
    same(tg.bucketize(tg.tensor([1.0, 3.0, 4.0, 9.0]), b), [0, 1, 2, 3])
    same(tg.bucketize(tg.tensor([1.0, 3.0, 4.0, 9.0]), b, right=True), [1, 2, 2, 3])
    if torch is not None:  # (a NaN inside the sequence PyTorch's binary search does not order: left out here)
        ordered = tg.tensor([1.0, 3.0, 3.0, 5.0])
        for right in (False, True):
            same(tg.searchsorted(ordered, v, right=right), torch.searchsorted(T(values(ordered)), T(values(v)),
                                                                              right=right))
        same(tg.bucketize(tg.tensor([1.0, 3.0, 4.0]), b, right=True), torch.bucketize(T([1.0, 3.0, 4.0]), T(values(b)),
                                                                                       right=True))


def test_counting_results_carry_no_gradient():
    x = f64([1.0, 2.0, 2.0])
    for out in (x.unique(), x.argsort(), x.nonzero(), x.histc(3), tg.searchsorted(x, x), x.sort().indices):
        assert not out.requires_grad


# ------------------------------------------------------------------ the contract's derived argsort

@pytest.fixture
def derived_sort_device(monkeypatch):
    """A device whose argsort is the derived layer's (ranking), not NumPy's."""
    from tinygrad_bn import backends
    be = cpu_backend("ranked")
    be.argsort = functools.partial(Derived.argsort, be)
    monkeypatch.setitem(backends._BACKENDS, "ranked", be)
    return be


@pytest.mark.parametrize("data", [TIES, WITH_NAN, [[2, 7, 2], [0, -3, 0]], [True, False, True, False],
                                  [[NAN, 1.0], [1.0, 1.0], [-np.inf, NAN]], []])
def test_the_derived_argsort_is_numpys_stable_argsort(data):
    a = np.array(data)
    be = cpu_backend("plain")
    for axis in range(a.ndim):
        got = Derived.argsort(be, a, axis)
        np.testing.assert_array_equal(got, np.argsort(a, axis=axis, kind="stable"))
        assert got.dtype == np.int64


def test_sorting_ops_on_a_device_with_the_derived_argsort(derived_sort_device, rng):
    a = np.array([[3.0, NAN, 1.0, 3.0, 2.0], [0.5, 0.5, -1.0, 4.0, 4.0]])
    x, y = tg.tensor(a, device="ranked"), tg.tensor(a)
    for fn in (lambda t: t.sort(1, descending=True), lambda t: t.topk(2), lambda t: t.median(1),
               lambda t: t.mode(1), lambda t: t.nanquantile(0.3, 1), lambda t: t.kthvalue(2, 1)):
        for got, want in zip(fn(x) if isinstance(fn(x), tuple) else (fn(x),), fn(y) if isinstance(fn(y), tuple)
                             else (fn(y),)):
            assert got.device == "ranked"
            same(got.cpu(), values(want))


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("exc, pattern, fn", [
    (IndexError, r"sort: dim 2 is out of range for a tensor with 2 dimensions", lambda x: x.sort(2)),
    (TypeError, r"sort: descending must be a bool, got str", lambda x: x.sort(1, "yes")),
    (RuntimeError, r"topk: k \(5\) is out of range for dim 1 of size 4; expected 0 <= k <= 4", lambda x: x.topk(5)),
    (TypeError, r"topk: k must be an int, got float", lambda x: x.topk(1.0)),
    (RuntimeError, r"kthvalue: k \(0\) is out of range for dim 1 of size 4; expected 1 <= k <= 4",
     lambda x: x.kthvalue(0)),
    (RuntimeError, r"median: cannot take the median of an empty integer tensor",
     lambda x: tg.zeros(0, dtype=tg.int64).median()),
    (IndexError, r"mode: cannot take the mode over dim 1 of size 0", lambda x: tg.zeros(2, 0).mode(1)),
    (IndexError, r"^argmax: cannot take the max of an empty tensor \(shape \(0,\)\); expected at least one element$",
     lambda x: tg.zeros(0).argmax()),
    (IndexError, r"^argmin: cannot take the min of an empty dimension \(shape \(2, 0\)\)",
     lambda x: tg.zeros(2, 0).argmin(1)),
    (ValueError, r"quantile: q values must be in \[0, 1\], got \[1.5\]", lambda x: x.quantile(1.5)),
    (TypeError, r"quantile: q must be a number or a floating point tensor, got str", lambda x: x.quantile("a")),
    (ValueError, r"quantile: interpolation must be one of 'linear', .*got 'cubic'",
     lambda x: x.quantile(0.5, interpolation="cubic")),
    (TypeError, r"quantile: the input must be floating point, got int64", lambda x: tg.tensor([1, 2]).quantile(0.5)),
    (TypeError, r"cumsum: dim must be an int, got NoneType", lambda x: x.cumsum(None)),
    (TypeError, r"logcumsumexp: input must be floating point, got dtype int64",
     lambda x: tg.tensor([1, 2]).logcumsumexp(0)),
    (IndexError, r"cummax: dim -3 is out of range", lambda x: x.cummax(-3)),
    (ValueError, r"diff: n must be an int >= 0, got -1", lambda x: x.diff(-1)),
    (RuntimeError, r"diff: prepend must have the input's number of dims \(2\), got shape \(4,\)",
     lambda x: x.diff(prepend=x[0])),
    (RuntimeError, r"bincount: expected a 1-d tensor of non-negative ints, got 2-d float64", lambda x: x.bincount()),
    (ValueError, r"bincount: the input must be non-negative, got -1", lambda x: tg.tensor([1, -1]).bincount()),
    (ValueError, r"histc: bins must be >= 1, got 0", lambda x: x.histc(0)),
    (ValueError, r"histc: max must be >= min, got min=2, max=1", lambda x: x.histc(3, 2, 1)),
    (RuntimeError, r"searchsorted: an N-d sorted_sequence \(3, 4\) needs input with the same leading dims, got \(2,\)",
     lambda x: tg.searchsorted(x, tg.tensor([1.0, 2.0]).double())),
    (ValueError, r"searchsorted: side must be 'left' or 'right', got 'up'",
     lambda x: tg.searchsorted(x[0], x[0], side="up")),
    (RuntimeError, r"bucketize: boundaries must be 1-d, got shape \(3, 4\)", lambda x: tg.bucketize(x[0], x)),
    (IndexError, r"unique: dim 3 is out of range", lambda x: x.unique(dim=3)),
])
def test_bad_arguments_get_clear_errors(exc, pattern, fn):
    x = f64(np.arange(12.0).reshape(3, 4))
    with pytest.raises(exc, match=pattern):
        fn(x)


@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 3, 5)])
def test_a_sorter_with_an_index_outside_the_last_dim_is_refused_naming_its_range(shape):
    """The sorter indexes the last dim of sorted_sequence, whatever its rank: an index
    past it (or below 0) is an IndexError that gives that dim's range, never a read out of bounds."""
    seq = tg.tensor(np.sort(np.random.default_rng(0).standard_normal(shape), -1))
    good = tg.tensor(np.broadcast_to(np.arange(5), shape).copy())
    np.testing.assert_array_equal(tg.searchsorted(seq, seq, sorter=good).numpy(),
                                  tg.searchsorted(seq, seq).numpy())
    for bad in (5, -1):
        order = np.broadcast_to(np.arange(5), shape).copy()
        order[..., 2] = bad
        with pytest.raises(IndexError, match=r"searchsorted: sorter holds indices outside \[0, 5\)"):
            tg.searchsorted(seq, seq, sorter=tg.tensor(order))


def test_expand_names_the_target_size_and_dim_that_do_not_match():
    """With leading dims added (lead > 0) the mismatch is reported at the target's dim and size."""
    x = tg.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"expand: size 5 at dim 2 does not match the existing size 3"):
        x.expand(4, 2, 5)
    with pytest.raises(RuntimeError, match=r"expand: size 7 at dim 2 does not match the existing size 2"):
        x.expand(1, 1, 7, 3)


# PyTorch 2.13's answers: the shapes of (values, inverse, counts), or its refusal
EMPTY_UNIQUE_CASES = [((0, 3), 0, [(0, 3), (0,), (0,)]), ((3, 0), 1, [(3, 0), (0,), (0,)]),
                      ((2, 0, 2), 1, [(2, 0, 2), (0,), (0,)]), ((0,), 0, [(0,), (0,), (0,)]),
                      ((3, 0), 0, None), ((0, 3), 1, None), ((0, 0), 0, None), ((0, 0, 3), 2, None)]


@pytest.mark.parametrize("name", ["unique", "unique_consecutive"])
@pytest.mark.parametrize("shape, dim, want", EMPTY_UNIQUE_CASES)
def test_unique_along_a_dim_of_an_empty_tensor_is_pytorchs(name, shape, dim, want):
    """Along a dim, only the selected dim may be empty: then every result is empty;
    an empty dim that is not selected is refused (slices of nothing cannot be told apart)."""
    t = tg.zeros(*shape)
    call = getattr(tg, name)
    if want is None:
        with pytest.raises(RuntimeError, match=rf"{name}: the tensor of shape .* has a dim of size 0 other than dim"):
            call(t, dim=dim, return_inverse=True, return_counts=True)
        return
    values, inverse, counts = call(t, dim=dim, return_inverse=True, return_counts=True)
    assert [values.shape, inverse.shape, counts.shape] == want
    assert inverse.dtype == counts.dtype == tg.int64


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("kw", [{}, {"keepdim": True}, {"dim": 0}, {"dim": 0, "keepdim": True}, {"dim": -1, "keepdim": True}])
def test_quantile_of_a_0d_tensor_is_its_value_in_pytorchs_shape(fn, kw):
    """torch.quantile(tensor(3.), 0.5, dim=0, keepdim=True) is tensor(3.) (shape ()), and
    with q of shape (2,) it is tensor([3., 3.]): a 0-d input keeps no dim, keepdim or not."""
    x = tg.tensor(3.0)
    one = getattr(tg, fn)(x, 0.5, **kw)
    two = getattr(tg, fn)(x, tg.tensor([0.25, 0.5]), **kw)
    assert one.shape == () and one.item() == 3.0
    assert two.shape == (2,) and two.tolist() == [3.0, 3.0]
