"""PyTorch's indexing, slicing, joining and mutating ops and its "other
operations" (flip, roll, diag, products, einsum, cdist, grids): values against
NumPy float64 references (and PyTorch when installed), gradients by gradcheck
through a random projection, a few second derivatives, and a clear error for
each kind of bad argument."""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the PyTorch comparisons are optional
    torch = None


def f64(a, requires_grad=True):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def idx(a):
    return tg.tensor(np.asarray(a, dtype=np.int64))


def values(t):
    return t.detach().cpu().numpy()


def same(t, want, exact=False):
    """t's values are ``want``'s (a NumPy array or a torch tensor), shape included."""
    if torch is not None and isinstance(want, torch.Tensor):
        want = want.detach().numpy()
    want = np.asarray(want)
    got = values(t)
    assert got.shape == want.shape, (got.shape, want.shape)
    if exact or want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def T(a):
    return torch.tensor(np.asarray(a))


X = np.random.default_rng(7).standard_normal((3, 4))


# ------------------------------------------------------------------ gather and scatter

@pytest.mark.parametrize("dim, index", [(1, [[0, 2], [1, 1], [3, 0]]), (0, [[2, 0, 1, 1], [0, 0, 2, 1]]),
                                        (1, [[3], [0]]), (-1, [[0, 0, 0, 0], [1, 2, 3, 1], [3, 3, 3, 3]])])
def test_gather_reads_along_dim_and_sums_gradients_of_repeats(dim, index):
    x, i = f64(X), np.array(index)
    out = x.gather(dim, idx(i))
    grid = np.indices(i.shape)
    grid[dim % 2] = i
    same(out, X[tuple(grid)])
    same(tg.gather(x, dim, idx(i)), X[tuple(grid)])
    if torch is not None:
        same(out, torch.gather(T(X), dim, T(i)))
    assert gradcheck(lambda a: a.gather(dim, idx(i)), (x,))


def test_scatter_writes_src_or_a_value_and_passes_gradients_as_pytorch():
    i = np.array([[0, 2], [1, 3], [3, 0]])  # no repeats within a row: the result is defined
    src = np.arange(8.0).reshape(2, 4) + 10  # larger than index: only its corner is used
    want = X.copy()
    for r in range(3):
        for c in range(2):
            want[r, i[r, c]] = src[r, c] if r < 2 else np.nan
    x, s = f64(X), f64(src)
    out = x[:2].scatter(1, idx(i[:2]), s)
    same(out, want[:2])
    filled = X.copy()
    np.put_along_axis(filled, i, -7.0, 1)
    same(x.scatter(1, idx(i), -7.0), filled)
    same(tg.scatter(x, 1, idx(i), value=-7.0), filled)
    if torch is not None:
        same(out, torch.scatter(T(X[:2]), 1, T(i[:2]), T(src)))
        same(x.scatter(1, idx(i), -7.0), T(X).scatter(1, T(i), -7.0))
    assert gradcheck(lambda a, b: a[:2].scatter(1, idx(i[:2]), b), (x, s))
    added = X.copy()
    np.add.at(added, (np.arange(3)[:, None], i), 2.5)
    same(x.scatter(1, idx(i), 2.5, reduce="add"), added)


def test_scatter_and_scatter_add_into_a_0d_tensor_take_0d_or_one_element_index_and_src():
    """As PyTorch, in every mix of 0-d and one-element index and src; the result is 0-d."""
    for index in (idx(0), idx([0])):
        for src in (f64(2.0), f64([2.0])):
            added = f64(1.0).scatter_add(0, index, src)
            written = f64(1.0).scatter(0, index, src)
            assert added.shape == () and added.item() == 3.0, (index.shape, src.shape)
            assert written.shape == () and written.item() == 2.0, (index.shape, src.shape)
            if torch is not None:
                same(added, T(np.float64(1.0)).scatter_add(0, T(values(index)), T(values(src))))
    assert gradcheck(lambda a, b: a.scatter_add(0, idx(0), b) * a, (f64(1.0), f64(2.0)))
    added = f64([1.0]).scatter_add(0, idx([0]), f64([2.0]))  # one element but 1-d: stays 1-d
    assert added.shape == (1,) and added.tolist() == [3.0]


def test_scatter_add_sums_repeated_indices():
    i = np.array([[0, 0, 2], [1, 1, 1]])
    src = np.arange(6.0).reshape(2, 3)
    want = X[:2, :3].copy()
    np.add.at(want, (np.arange(2)[:, None], i), src)
    x, s = f64(X[:2, :3]), f64(src)
    out = x.scatter_add(1, idx(i), s)
    same(out, want)
    if torch is not None:
        same(out, torch.scatter_add(T(X[:2, :3]), 1, T(i), T(src)))
    assert gradcheck(lambda a, b: tg.scatter_add(a, 1, idx(i), b), (x, s))
    assert gradgradcheck(lambda a, b: (a.scatter_add(1, idx(i), b) ** 2), (x, s))


def test_an_out_of_range_index_error_names_the_first_bad_index():
    x = f64(X)  # (3, 4)
    with pytest.raises(IndexError, match=r"index_select: index 7 is out of range for dim 0 of size 3"):
        x.index_select(0, idx([0, 7, 9, -5]))
    with pytest.raises(IndexError, match=r"index -5 is out of range"):
        x.index_select(0, idx([1, -5, 7]))


def test_index_select_add_copy_fill():
    x, i = f64(X), np.array([2, 0, 2])
    same(x.index_select(0, idx(i)), X[i])
    same(tg.index_select(x, 1, idx([3, 1])), X[:, [3, 1]])
    src = np.arange(12.0).reshape(3, 4)
    added = X.copy()
    np.add.at(added, i, 0.5 * src)
    same(x.index_add(0, idx(i), f64(src), alpha=0.5), added)
    for alpha in (1, 2.5, -3, 0):  # any scale, above 1 and below: alpha * source is added
        scaled = X.copy()
        np.add.at(scaled, i, alpha * src)
        same(x.index_add(0, idx(i), f64(src), alpha=alpha), scaled)
    copied = X.copy()
    copied[:, [3, 0]] = src[:, :2]
    same(x.index_copy(1, idx([3, 0]), f64(src[:, :2])), copied)
    filled = X.copy()
    filled[:, [1, 2]] = -1.0
    same(x.index_fill(1, idx([1, 2]), -1.0), filled)
    if torch is not None:
        same(x.index_select(0, idx(i)), T(X).index_select(0, T(i)))
        same(x.index_add(0, idx(i), f64(src), alpha=0.5), T(X).index_add(0, T(i), T(src), alpha=0.5))
        same(x.index_copy(1, idx([3, 0]), f64(src[:, :2])), T(X).index_copy(1, T([3, 0]), T(src[:, :2])))
    s = f64(src)
    assert gradcheck(lambda a: a.index_select(0, idx(i)), (x,))
    assert gradcheck(lambda a, b: a.index_add(0, idx(i), b, alpha=0.5), (x, s))
    assert gradcheck(lambda a, b: a.index_copy(1, idx([3, 0]), b[:, :2]), (x, s))
    v = f64(2.0)
    assert gradcheck(lambda a, b: a.index_fill(1, idx([1, 2]), b), (x, v))  # a 0-d tensor value gets its gradient


def test_masked_fill_select_and_scatter():
    x = f64(X)
    mask = X > 0
    same(x.masked_fill(tg.tensor(mask), 0.25), np.where(mask, 0.25, X))
    row_mask = np.array([True, False, True, False])  # broadcasts over the rows
    same(tg.masked_fill(x, tg.tensor(row_mask), -1.0), np.where(row_mask, -1.0, X))
    same(x.masked_select(tg.tensor(mask)), X[mask])
    same(x.masked_select(tg.tensor(row_mask)), X[np.broadcast_to(row_mask, X.shape)])
    source = np.arange(20.0)
    want = X.copy()
    want[mask] = source[:mask.sum()]
    same(x.masked_scatter(tg.tensor(mask), f64(source)), want)
    if torch is not None:
        same(x.masked_fill(tg.tensor(mask), 0.25), T(X).masked_fill(T(mask), 0.25))
        same(x.masked_scatter(tg.tensor(mask), f64(source)), T(X).masked_scatter(T(mask), T(source)))
    v, s = f64(1.5), f64(source)
    assert gradcheck(lambda a, b: a.masked_fill(tg.tensor(mask), b), (x, v))
    assert gradcheck(lambda a: a.masked_select(tg.tensor(row_mask)), (x,))
    assert gradcheck(lambda a, b: a.masked_scatter(tg.tensor(mask), b), (x, s))
    assert gradgradcheck(lambda a, b: a.masked_fill(tg.tensor(mask), b) * a, (x, v))


def test_take_and_take_along_dim():
    x = f64(X)
    i = np.array([[11, -1], [0, 5]])
    same(x.take(idx(i)), X.reshape(-1)[i])
    same(tg.take_along_dim(x, idx([[0], [3], [2]]), 1), np.take_along_axis(X, np.array([[0], [3], [2]]), 1))
    same(x.take_along_dim(idx([[1, -1]]), 1), X[:, [1, -1]])  # indices broadcast over the rows; -1 counts from the end
    same(x.take_along_dim(idx([7, 0])), X.reshape(-1)[[7, 0]])
    if torch is not None:
        same(x.take(idx(i)), torch.take(T(X), T(i)))
        same(x.take_along_dim(idx([[1, -1]]), 1), torch.take_along_dim(T(X), T([[1, -1]]), 1))
    assert gradcheck(lambda a: a.take(idx(i)), (x,))
    assert gradcheck(lambda a: a.take_along_dim(idx([[1, 1]]), 1), (x,))


def test_index_copy_and_index_fill_of_a_0d_tensor_stay_0d_as_pytorch():
    x = f64(1.5)
    y = x.index_copy(0, idx([0]), f64([5.0]))
    assert y.shape == () and y.item() == 5.0
    z = x.index_fill(0, idx([0]), -2.0)
    assert z.shape == () and z.item() == -2.0
    if torch is not None:
        same(y, T(np.float64(1.5)).index_copy(0, T([0]), T([5.0])))
    assert gradcheck(lambda a, b: a.index_copy(0, idx([0]), b) * a, (x, f64([5.0])))


def test_take_along_dim_of_a_0d_tensor_is_its_value():
    """dim 0 or -1 of a 0-d tensor, as other dim arguments here (PyTorch 2.13's
    take_along_dim raises IndexError there; with dim=None both give a 1-element result)."""
    x = f64(2.5)
    for dim in (0, -1):
        y = tg.take_along_dim(x, idx(0), dim)
        assert y.shape == () and y.item() == 2.5
    same(x.take_along_dim(idx(0), None), [2.5])
    if torch is not None:
        same(x.take_along_dim(idx(0), None), torch.take_along_dim(T(np.float64(2.5)), T(np.int64(0))))
    assert gradcheck(lambda a: a.take_along_dim(idx(0), 0) * a, (x,))


def test_nonzero_argwhere_and_the_one_argument_where():
    a = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])
    t = tg.tensor(a)
    same(t.nonzero(), np.argwhere(a))
    same(tg.argwhere(t), np.argwhere(a))
    for got, want in zip(tg.nonzero(t, as_tuple=True), np.nonzero(a)):
        same(got, want)
    for got, want in zip(tg.where(t != 0), np.nonzero(a)):
        same(got, want)
    assert t.nonzero().dtype == tg.int64 and tg.tensor(0.0).nonzero().shape == (0, 0)
    same(tg.where(t > 0, t, tg.zeros(2, 3)), np.where(a > 0, a, 0))  # the three-argument form as before
    same(t.where(t > 0, -1.0), np.where(a > 0, a, -1.0))
    if torch is not None:
        same(t.nonzero(), T(a).nonzero())


# ------------------------------------------------------------------ flips, rolls, diagonals

def test_flip_roll_rot90_are_copies_with_gradients():
    x = f64(X)
    same(x.flip(0), np.flip(X, 0))
    same(tg.flip(x, (0, 1)), np.flip(X))
    same(x.flip(0, 1), np.flip(X))
    same(x.fliplr(), np.fliplr(X))
    same(tg.flipud(x), np.flipud(X))
    same(tg.flipud(f64([1.0, 2.0, 3.0])), [3.0, 2.0, 1.0])  # 1-d is enough, as torch.flipud
    same(x.roll(2), np.roll(X, 2))
    same(tg.roll(x, (1, -3), (0, 1)), np.roll(X, (1, -3), (0, 1)))
    same(x.roll(5, 1), np.roll(X, 5, 1))
    for k in range(-2, 5):
        same(x.rot90(k), np.rot90(X, k))
        same(tg.rot90(x, k, (1, 0)), np.rot90(X, k, (1, 0)))
    if torch is not None:
        same(x.roll(-1), torch.roll(T(X), -1))
        same(x.rot90(3, (1, 0)), torch.rot90(T(X), 3, (1, 0)))
    with tg.no_grad():
        y = x.detach().flip(0)
        y[0, 0] = 100.0  # a copy, as in PyTorch: the input keeps its values
    assert values(x)[2, 0] == X[2, 0]
    n0 = X.shape[0]
    for rolled in (lambda a: a.roll(0, 0), lambda a: a.roll(n0, 0), lambda a: a.roll((0, -n0), (1, 0)),
                   lambda a: a.reshape(-1)[0].roll(3), lambda a: a.roll(0)):
        r = rolled(x)  # no shift at all: still a new tensor on the tape, never the input itself
        assert r is not x and r.grad_fn is not None
        with tg.no_grad():
            r.detach().mul_(0.0)
        assert values(x)[0, 0] == X[0, 0]
    for fn in (lambda a: a.flip(1), lambda a: a.roll((1, 2), (0, 1)), lambda a: a.rot90(1), lambda a: a.roll(7)):
        assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda a: a.roll(1, 0) * a, (x,))


def test_diag_diagonal_diag_embed_diagflat_trace():
    x, v = f64(X), f64([1.0, -2.0, 3.0])
    for k in (-2, 0, 1, 3):
        same(x.diag(k), np.diag(X, k))
        same(tg.diag(v, k), np.diag([1.0, -2.0, 3.0], k))
        same(x.diagonal(k), np.diagonal(X, k))
        same(tg.diagflat(x, k), np.diagflat(X, k))
    b = np.random.default_rng(1).standard_normal((2, 3, 4))
    tb = f64(b)
    same(tb.diagonal(1, 0, 2), np.diagonal(b, 1, 0, 2))
    same(tb.diagonal(-1, -1, 1), np.diagonal(b, -1, -1, 1))
    same(x.trace(), np.trace(X))
    emb = tg.diag_embed(x, 1)
    want = np.zeros((3, 5, 5))
    for r in range(3):
        want[r] = np.diag(X[r], 1)
    same(emb, want)
    # two batch dims, the new ones last or in the middle: each batch dim keeps its place
    want = np.zeros((2, 3, 6, 6))
    for i in range(2):
        for j in range(3):
            want[i, j] = np.diag(b[i, j], -2)
    same(tb.diag_embed(-2), want)
    same(tb.diag_embed(-2, 1, 3), want.transpose(0, 2, 1, 3))
    if torch is not None:
        same(x.diag_embed(-1, 0, 2), torch.diag_embed(T(X), -1, 0, 2))
        same(tb.diag_embed(2, 3, 1), torch.diag_embed(T(b), 2, 3, 1))
        same(tb.diagonal(1, 0, 2), torch.diagonal(T(b), 1, 0, 2))
    for fn in (lambda a: a.diag(1), lambda a: a.diagonal(-1), lambda a: a.diag_embed(1, 0, 2), lambda a: a.trace(),
               lambda a: a[0].diag(-1), lambda a: tg.diagflat(a)):
        assert gradcheck(fn, (x,))
    assert gradgradcheck(lambda a: a @ a[0].diag(), (x,))


# ------------------------------------------------------------------ products

def test_outer_inner_dot_vdot_kron():
    a, b = np.array([1.0, -2.0, 0.5]), np.array([0.3, 2.0, -1.0])
    ta, tb, x = f64(a), f64(b), f64(X)
    same(ta.outer(tb), np.outer(a, b))
    same(tg.inner(x, x), np.inner(X, X))
    same(tg.inner(ta, tb), np.inner(a, b))
    same(tg.inner(f64(2.0), x), 2.0 * X)
    same(ta.dot(tb), np.dot(a, b))
    same(tg.vdot(ta, tb), np.vdot(a, b))
    with pytest.raises(RuntimeError, match=r"vdot: expected two 1-d tensors of one length, got shapes \(3,\) and \(2,\)"):
        tg.vdot(ta, tb[:2])
    same(tg.kron(x, ta.reshape(1, 3)), np.kron(X, a.reshape(1, 3)))
    same(tg.kron(ta, x), np.kron(a, X))
    for fn in (lambda p, q: p.outer(q), lambda p, q: tg.inner(p, q), lambda p, q: p.dot(q), lambda p, q: tg.kron(p, q)):
        assert gradcheck(fn, (ta, tb))
    assert gradcheck(lambda p, q: tg.kron(p, q), (x, ta))


EINSUM = ["ij,jk->ik", "bi,bi->b", "ij->ji", "ii->i", "i,j->ij", "ij->", "ij", "ij,ij->ij", "ij,kj->ik",
          "bij,bjk->bik", "i,i->", "ii", "...j,jk->...k", "bi,bj->ij", "ij->j", "ji,jk"]


def _einsum_operands(eq, rng):
    lhs = eq.split("->")[0]
    sizes = {"i": 3, "j": 4, "k": 2, "b": 5}
    ops = []
    for term in lhs.split(","):
        if term == "ii":
            ops.append(rng.standard_normal((3, 3)))
        elif term.startswith("..."):
            ops.append(rng.standard_normal((2, 3) + tuple(sizes[c] for c in term[3:])))
        else:
            ops.append(rng.standard_normal(tuple(sizes[c] for c in term)))
    return ops


@pytest.mark.parametrize("eq", EINSUM)
def test_einsum_matches_numpy_and_differentiates(eq, rng):
    arrays = _einsum_operands(eq, rng)
    ts = [f64(a) for a in arrays]
    out = tg.einsum(eq, *ts)
    same(out, np.einsum(eq, *arrays))
    same(tg.einsum(eq, ts), np.einsum(eq, *arrays))  # the operands as one list, as PyTorch allows
    if torch is not None:
        same(out, torch.einsum(eq, *[T(a) for a in arrays]))
    assert gradcheck(lambda *a: tg.einsum(eq, *a), tuple(ts))


def test_einsum_second_derivative():
    rng = np.random.default_rng(3)
    a, b = f64(rng.standard_normal((3, 4))), f64(rng.standard_normal((4, 2)))
    assert gradgradcheck(lambda p, q: tg.einsum("ij,jk->ik", p, q) ** 2, (a, b))


@pytest.mark.parametrize("p", [2, 1, 0])
def test_cdist_matches_the_definition(p, rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    b[2] = a[1]  # a zero distance: PyTorch's gradient there is 0
    diff = a[:, None] - b[None]
    want = {2: np.sqrt((diff ** 2).sum(-1)), 1: np.abs(diff).sum(-1), 0: (diff != 0).sum(-1).astype(float)}[p]
    ta, tb = f64(a), f64(b)
    out = tg.cdist(ta, tb, p=p)
    same(out, want)
    batched = tg.cdist(f64(np.stack([a, a + 1])), tb, p=p)
    same(batched[1], {2: np.sqrt(((diff + 1) ** 2).sum(-1)), 1: np.abs(diff + 1).sum(-1),
                      0: (diff + 1 != 0).sum(-1).astype(float)}[p])
    # x2 batched too (its rows, 5, differ from its columns, 3): the columns are its last dim
    both = tg.cdist(f64(np.stack([a, a + 1])), f64(np.stack([b, b + 1])), p=p)
    assert both.shape == (2, 4, 5)
    same(both[0], want)
    same(both[1], want)
    if torch is not None:
        same(out, torch.cdist(T(a), T(b), p=p))
    if p:
        w = np.random.default_rng(0).standard_normal(want.shape)
        (out * tg.tensor(w)).sum().backward()
        assert np.isfinite(values(ta.grad)).all()
        if torch is not None:
            ra, rb = T(a).requires_grad_(), T(b)
            (torch.cdist(ra, rb, p=p) * T(w)).sum().backward()
            np.testing.assert_allclose(values(ta.grad), ra.grad.numpy(), rtol=1e-10, atol=1e-12)
        b2 = b.copy()
        b2[2] += 0.5  # away from the kink at 0 for the central differences
        assert gradcheck(lambda x, y: tg.cdist(x, y, p=p), (f64(a), f64(b2)))


# ------------------------------------------------------------------ splitting, joining, moving

def test_chunk_split_tensor_split_narrow_unbind():
    a = np.arange(35.0).reshape(5, 7)
    x = f64(a)
    for got, want in zip(x.chunk(3, 1), np.split(a, [3, 6], 1)):
        same(got, want)
    assert len(tg.chunk(f64(np.arange(6.0)), 4)) == 3  # ceil(6 / 4) = 2 per piece: 3 pieces, as PyTorch
    for got, want in zip(x.split(2), np.split(a, [2, 4], 0)):
        same(got, want)
    for got, want in zip(tg.split(x, [1, 4, 2], 1), np.split(a, [1, 5], 1)):
        same(got, want)
    for spec, cuts in ((3, None), ([1, 4], [1, 4]), ((2, 9), [2, 9]), (tg.tensor([0, 3]), [0, 3])):
        want = np.array_split(a, 3, 1) if cuts is None else np.array_split(a, cuts, 1)
        got = x.tensor_split(spec, 1)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            same(g, w)
    same(x.narrow(1, 2, 3), a[:, 2:5])
    same(tg.narrow(x, 0, -2, 2), a[3:5])
    for got, want in zip(x.unbind(1), a.T):
        same(got, want)
    if torch is not None:
        for got, want in zip(x.tensor_split(3, 1), torch.tensor_split(T(a), 3, 1)):
            same(got, want)
        for got, want in zip(x.chunk(3, 1), torch.chunk(T(a), 3, 1)):
            same(got, want)
    assert gradcheck(lambda t: tg.cat([p * (i + 1) for i, p in enumerate(t.split([1, 4, 2], 1))], 1), (x,))
    assert gradcheck(lambda t: t.unbind(0)[3] * t.narrow(0, 1, 1), (x,))


def test_split_pieces_are_views():
    x = tg.zeros(4, 3)
    top, _ = x.split(2)
    top[0, 0] = 5.0  # a view, as in PyTorch: the write reaches the input
    assert x[0, 0].item() == 5.0


def test_flatten_of_a_0d_tensor_takes_dims_0_and_minus_1_as_pytorch():
    """A 0-d tensor flattens to shape (1,) with start_dim and end_dim each 0 or -1
    (its dims wrap as a 1-d tensor's); any other dim is an IndexError naming it."""
    x = f64(np.float64(2.5))
    for start, end in itertools.product((0, -1), repeat=2):
        y = tg.flatten(x, start, end)
        same(y, np.array([2.5]))
        if torch is not None:
            assert tuple(torch.flatten(torch.tensor(2.5), start, end).shape) == y.shape
    same(x.flatten(), np.array([2.5]))
    assert gradcheck(lambda a: a.flatten() * 3.0, (x,))
    for start, end, name in [(1, 0, "start_dim 1"), (0, -2, "end_dim -2")]:
        with pytest.raises(IndexError, match=f"flatten: {name} is out of range for a 0-d tensor"):
            tg.flatten(x, start, end)


def test_squeeze_drops_only_dims_of_size_1_and_keeps_empty_dims():
    """A dim of size 0 is no dim of size 1: squeeze() keeps it, as NumPy and PyTorch."""
    for shape in [(2, 0, 1), (1, 0), (0, 1, 3, 1), (1, 1)]:
        t = tg.zeros(*shape)
        want = np.zeros(shape).squeeze().shape
        assert t.squeeze().shape == want
        if torch is not None:
            assert tuple(torch.zeros(*shape).squeeze().shape) == want
    assert tg.zeros(2, 0, 1).squeeze(1).shape == (2, 0, 1)  # a named dim of size 0 stays too


def test_movedim_swapaxes_unflatten_broadcast():
    b = np.random.default_rng(2).standard_normal((2, 3, 4))
    t = f64(b)
    same(t.movedim(0, -1), np.moveaxis(b, 0, -1))
    same(tg.moveaxis(t, (0, 1), (2, 0)), np.moveaxis(b, (0, 1), (2, 0)))
    same(t.swapaxes(0, 2), np.swapaxes(b, 0, 2))
    same(tg.swapdims(t, -1, 1), np.swapaxes(b, -1, 1))
    same(t.unflatten(2, (2, -1)), b.reshape(2, 3, 2, 2))
    same(tg.unflatten(t, 0, [1, 2]), b.reshape(1, 2, 3, 4))
    # the -1 is worked out from the dim alone, so a size-0 dim elsewhere leaves it known (PyTorch's (2, 3, 0))
    assert tg.zeros(6, 0).unflatten(0, (-1, 3)).shape == (2, 3, 0)
    same(f64(b[0, 0]).broadcast_to((2, 4)), np.broadcast_to(b[0, 0], (2, 4)))
    same(tg.broadcast_to(f64(b[:, :1]), (2, 3, 4)), np.broadcast_to(b[:, :1], (2, 3, 4)))
    assert tg.broadcast_shapes((2, 1), (3, 1, 4), 4) == tg.Size([3, 2, 4])
    p, q = tg.broadcast_tensors(f64(b[:, :1, :1]), f64(b[0]))
    same(p, np.broadcast_to(b[:, :1, :1], (2, 3, 4)))
    same(q, np.broadcast_to(b[0], (2, 3, 4)))
    assert gradcheck(lambda x: x.movedim((0, 1), (2, 0)) * f64(np.arange(24.0).reshape(3, 4, 2), False), (t,))
    assert gradcheck(lambda x: tg.broadcast_to(x[:, :1], (2, 3, 4)), (t,))


def test_stacks_and_atleast():
    a, b = np.arange(3.0), np.arange(3.0, 6.0)
    m = np.arange(6.0).reshape(2, 3)
    ta, tb, tm = f64(a), f64(b), f64(m)
    same(tg.hstack([ta, tb]), np.hstack([a, b]))
    same(tg.hstack([tm, tm]), np.hstack([m, m]))
    same(tg.vstack([ta, tm]), np.vstack([a, m]))
    same(tg.row_stack((ta, tb)), np.vstack([a, b]))
    same(tg.column_stack([ta, tm.T, f64(7.0)[None].expand(3)]), np.column_stack([a, m.T, np.full(3, 7.0)]))
    same(tg.dstack([ta, tb]), np.dstack([a, b]))
    same(tg.dstack([tm, tm]), np.dstack([m, m]))
    for fn, ref in ((tg.atleast_1d, np.atleast_1d), (tg.atleast_2d, np.atleast_2d), (tg.atleast_3d, np.atleast_3d)):
        for arr in (np.array(2.0), a, m, np.zeros((2, 1, 3, 1))):
            same(fn(f64(arr)), ref(arr))
        outs = fn(ta, tm)
        assert isinstance(outs, tuple) and [o.shape for o in outs] == [ref(a).shape, ref(m).shape]
        listed = fn([ta])
        assert isinstance(listed, tuple) and len(listed) == 1 and listed[0].shape == fn(ta).shape
    assert gradcheck(lambda p, q: tg.vstack([p, q]) * tg.tensor(np.arange(6.0).reshape(2, 3)), (ta, tb))
    assert gradcheck(lambda p, q: tg.column_stack([p, q]), (ta, tb))


def test_tile_repeat_repeat_interleave():
    a = np.arange(6.0).reshape(2, 3)
    x = f64(a)
    same(x.tile(2), np.tile(a, 2))
    same(tg.tile(x, (2, 1, 2)), np.tile(a, (2, 1, 2)))
    same(x.repeat(2, 3), np.tile(a, (2, 3)))
    same(x.repeat(2, 1, 1), np.tile(a, (2, 1, 1)))
    one = x.repeat(1, 1)
    with tg.no_grad():
        one[0, 0] = 9.0  # repeat always copies, as in PyTorch
    assert values(x)[0, 0] == 0.0
    same(f64([1.0]).repeat(3), np.ones(3))
    same(x.repeat_interleave(2), np.repeat(a, 2))
    same(tg.repeat_interleave(x, tg.tensor([1, 0, 2]), dim=1), np.repeat(a, [1, 0, 2], 1))
    same(tg.repeat_interleave(tg.tensor([2, 0, 1])), np.array([0, 0, 2]))
    if torch is not None:
        same(x.repeat(2, 1, 2), T(a).repeat(2, 1, 2))
        same(x.tile((3,)), T(a).tile((3,)))
    assert gradcheck(lambda t: t.repeat(2, 1, 2), (x,))
    assert gradcheck(lambda t: t.tile((2,)), (x,))
    assert gradcheck(lambda t: t.repeat_interleave(tg.tensor([2, 1]), dim=0), (x,))


def test_meshgrid_and_cartesian_prod():
    a, b, c = np.arange(3.0), np.array([10.0, 20.0]), np.array([-1.0, 1.0, 2.0, 3.0])
    ta, tb, tc = f64(a), f64(b), f64(c)
    for indexing in ("ij", "xy"):
        for got, want in zip(tg.meshgrid(ta, tb, tc, indexing=indexing), np.meshgrid(a, b, c, indexing=indexing)):
            same(got, want)
    for got, want in zip(tg.meshgrid([ta, tb]), np.meshgrid(a, b, indexing="ij")):  # PyTorch's default: "ij"
        same(got, want)
    same(tg.cartesian_prod(ta, tb), np.array(list(itertools.product(a, b))))
    same(tg.cartesian_prod(ta), a)
    if torch is not None:
        same(tg.cartesian_prod(ta, tb, tc), torch.cartesian_prod(T(a), T(b), T(c)))
    assert gradcheck(lambda p, q: tg.cartesian_prod(p, q), (ta, tb))
    assert gradcheck(lambda p, q: tg.meshgrid(p, q, indexing="xy")[0] * tg.meshgrid(p, q, indexing="xy")[1], (ta, tb))


def test_triangle_indices_clone_and_squeeze_with_several_dims():
    for row, col, offset in ((3, 3, 0), (4, 2, -1), (2, 5, 2), (0, 3, 0)):
        same(tg.tril_indices(row, col, offset), np.stack(np.tril_indices(row, offset, col)))
        same(tg.triu_indices(row, col, offset), np.stack(np.triu_indices(row, offset, col)))
        if torch is not None:
            same(tg.triu_indices(row, col, offset), torch.triu_indices(row, col, offset))
    assert tg.tril_indices(3, 3, dtype=tg.int32).dtype == tg.int32
    x = f64(X)
    c = tg.clone(x)
    same(c, X)
    assert c.requires_grad and not np.shares_memory(values(c), values(x))
    assert tg.zeros(1, 3, 1, 2).squeeze((0, 2)).shape == (3, 2)
    assert tg.squeeze(tg.zeros(1, 3, 1), (0, 1)).shape == (3, 1)  # a dim that is not 1 stays, as in PyTorch


def test_select_and_the_scatter_family():
    x = f64(X)
    same(x.select(1, -1), X[:, -1])
    same(tg.select(x, 0, 2), X[2])
    row, pair, diag = np.arange(4.0), np.zeros((3, 2)), np.array([7.0, 8.0, 9.0])
    want = X.copy()
    want[1] = row
    same(x.select_scatter(f64(row), 0, 1), want)
    want = X.copy()
    want[:, 1::2] = pair
    same(tg.slice_scatter(x, f64(pair), 1, 1, None, 2), want)
    want = X.copy()
    want[[0, 1, 2], [1, 2, 3]] = diag
    same(x.diagonal_scatter(f64(diag), 1), want)
    want = X.copy()
    want[[1, 2], [0, 1]] = diag[:2]
    same(tg.diagonal_scatter(x, f64(diag[:2]), 1, 1, 0), want)  # diagonal(1, dim1=1, dim2=0) runs down the rows
    if torch is not None:
        same(tg.diagonal_scatter(x, f64(diag[:2]), 1, 1, 0), torch.diagonal_scatter(T(X), T(diag[:2]), 1, 1, 0))
        same(tg.slice_scatter(x, f64(pair), 1, 1, None, 2), torch.slice_scatter(T(X), T(pair), 1, 1, None, 2))
    for fn in (lambda a, b: a.select_scatter(b[:, 0], 1, 2), lambda a, b: a.slice_scatter(b, 1, 0, 2),
               lambda a, b: a.diagonal_scatter(b[:, 1], -1, 1, 0), lambda a, b: a.select(0, 1) * b[0, 0]):
        assert gradcheck(fn, (x, f64(pair)))


def test_hsplit_vsplit_dsplit_narrow_copy_concat_tensordot_unravel_index(rng):
    b = rng.standard_normal((2, 4, 6))
    t = f64(b)
    for fn, ref in ((tg.hsplit, np.hsplit), (tg.vsplit, np.vsplit), (tg.dsplit, np.dsplit)):
        for spec in (2, [1, 3]):
            for got, want in zip(fn(t, spec), ref(b, spec)):
                same(got, want)
    same(f64(np.arange(6.0)).hsplit(3)[1], [2.0, 3.0])
    c = t.narrow_copy(2, 1, 3)
    same(c, b[:, :, 1:4])
    assert not np.shares_memory(values(c), values(t))
    same(tg.concat([t, t], 1), np.concatenate([b, b], 1))
    same(tg.concatenate([t, t], -1), np.concatenate([b, b], -1))
    m = rng.standard_normal((4, 6, 3))
    same(tg.tensordot(t, f64(m), 2), np.tensordot(b, m, 2))
    same(tg.tensordot(t, f64(m), ([1, 2], [0, 1])), np.tensordot(b, m, ([1, 2], [0, 1])))
    same(tg.tensordot(t, f64(m), ([1], [0])), np.tensordot(b, m, ([1], [0])))
    same(tg.tensordot(t, f64(m), 0), np.tensordot(b, m, 0))
    assert gradcheck(lambda p, q: tg.tensordot(p, q, ([2, 1], [1, 0])), (t, f64(m)))
    for got, want in zip(tg.unravel_index(tg.tensor([[5, 23], [0, -1]]), (2, 3, 4)),
                         np.unravel_index(np.array([[5, 23], [0, 23]]), (2, 3, 4))):
        same(got, want)
    assert [c.item() for c in tg.unravel_index(tg.tensor(-6), (2, 3))] == [0, 0]
    with pytest.raises(IndexError, match=r"unravel_index: index -7 is out of range for shape \(2, 3\)"):
        tg.unravel_index(tg.tensor([-7]), (2, 3))
    # a shape with a 0 size holds no element: no index is in range, and no index gives empty coordinates
    rows, cols = tg.unravel_index(tg.tensor([], dtype=tg.int64), (2, 0))
    assert rows.shape == cols.shape == (0,) and rows.dtype == cols.dtype == tg.int64
    with pytest.raises(IndexError, match=r"unravel_index: index 0 is out of range for shape \(2, 0\) \(0 elements\)"):
        tg.unravel_index(tg.tensor([0]), (2, 0))
    with pytest.raises(ValueError, match="unravel_index: a size must be >= 0, got -1"):
        tg.unravel_index(tg.tensor([0]), (2, -1))
    if torch is not None:
        for got, want in zip(tg.unravel_index(tg.tensor([7, -2]), (3, 4)), torch.unravel_index(T([7, -2]), (3, 4))):
            same(got, want)


def test_in_place_variants_write_the_tensor_and_record_gradients():
    y = tg.zeros(3, 4)
    out = y.index_add_(0, idx([0, 0, 2]), tg.ones(3, 4))
    assert out is y and y._version == 1
    same(y, np.array([[2.0] * 4, [0.0] * 4, [1.0] * 4], np.float32))
    y.masked_fill_(y > 1.5, -1.0)
    y.scatter_(1, idx([[3], [3], [3]]), 9.0)
    y.index_fill_(1, idx([0]), 4.0)
    y.cumsum_(1)
    same(y, np.cumsum(np.array([[4, -1, -1, 9], [4, 0, 0, 9], [4, 1, 1, 9]], np.float32), 1))
    w, s, v = f64(np.ones((3, 4))), f64(np.full((3, 1), 3.0)), f64(5.0)
    weights = np.arange(12.0).reshape(3, 4)

    def pipeline(w, s, v):
        z = w * 2
        z.masked_fill_(tg.tensor(np.eye(3, 4, dtype=bool)), v)
        z.scatter_(1, idx([[0], [1], [3]]), s)
        z.index_copy_(0, idx([2]), w[:1] * 3)
        z.scatter_add_(1, idx([[1], [1], [1]]), s)
        z.masked_scatter_(tg.tensor(weights > 8), w.reshape(-1))
        return z.cumprod_(1)
    z = pipeline(w, s, v)
    if torch is not None:
        W, S, V = (T(a).requires_grad_() for a in (np.ones((3, 4)), np.full((3, 1), 3.0), 5.0))
        Z = W * 2
        Z.masked_fill_(T(np.eye(3, 4, dtype=bool)), V)
        Z.scatter_(1, T([[0], [1], [3]]), S)
        Z.index_copy_(0, T([2]), W[:1] * 3)
        Z.scatter_add_(1, T([[1], [1], [1]]), S)
        Z.masked_scatter_(T(weights > 8), W.reshape(-1))
        Z.cumprod_(1)
        same(z, Z)
        (z * tg.tensor(weights)).sum().backward()
        (Z * T(weights)).sum().backward()
        for mine, theirs in ((w, W), (s, S), (v, V)):
            same(mine.grad, theirs.grad)
    assert gradcheck(pipeline, (f64(np.ones((3, 4))), f64(np.full((3, 1), 3.0)), f64(5.0)))
    leaf = f64(np.ones(3))
    with pytest.raises(RuntimeError, match="masked_fill_: a leaf tensor that requires grad is being changed in place"):
        leaf.masked_fill_(tg.tensor([True, False, True]), 0.0)
    with pytest.raises(RuntimeError, match=r"masked_fill_: the result has shape \(2, 3\), but an in-place op keeps"):
        tg.zeros(3).masked_fill_(tg.tensor([[True], [False]]), 1.0)


# ------------------------------------------------------------------ errors

def _raises(exc, pattern, fn):
    with pytest.raises(exc, match=pattern):
        fn()


@pytest.mark.parametrize("exc, pattern, fn", [
    (IndexError, r"gather: dim 2 is out of range for a tensor with 2 dimensions",
     lambda x: x.gather(2, idx([[0]]))),
    (TypeError, r"gather: index must be an integer tensor \(int64\), got dtype float32",
     lambda x: x.gather(1, tg.ones(3, 1))),
    (TypeError, r"gather: index must be an integer Tensor, got list", lambda x: x.gather(1, [[0]])),
    (IndexError, r"gather: index 4 is out of range for dim 1 of size 4; expected indices in \[0, 4\)",
     lambda x: x.gather(1, idx([[0], [4], [1]]))),
    (IndexError, r"gather: index -1 is out of range", lambda x: x.gather(0, idx([[-1]]))),
    (RuntimeError, r"gather: index shape \(4, 1\) is larger than the input's \(3, 4\) at dim 0",
     lambda x: x.gather(1, idx([[0]] * 4))),
    (RuntimeError, r"gather: index must have as many dims as the input \(2\), got 1",
     lambda x: x.gather(1, idx([0]))),
    (RuntimeError, r"scatter: index shape \(1, 3\) must be no larger than src shape \(1, 2\)",
     lambda x: x.scatter(1, idx([[0, 1, 2]]), f64([[1.0, 2.0]]))),
    (TypeError, r"scatter: src must have the input's dtype float64, got float32",
     lambda x: x.scatter(1, idx([[0]]), tg.ones(1, 1))),
    (ValueError, r"scatter: reduce='multiply' is not supported",
     lambda x: x.scatter(1, idx([[0]]), f64([[1.0]]), reduce="multiply")),
    (IndexError, r"index_select: index must be 0-d or 1-d, got shape \(1, 1\)",
     lambda x: x.index_select(0, idx([[0]]))),
    (IndexError, r"index_select: index 3 is out of range for dim 0 of size 3",
     lambda x: x.index_select(0, idx([3]))),
    (RuntimeError, r"index_add: source must have shape \(2, 4\) .*got \(2, 3\)",
     lambda x: x.index_add(0, idx([0, 1]), f64(np.ones((2, 3))))),
    (TypeError, r"masked_fill: mask must be a bool tensor, got dtype float64", lambda x: x.masked_fill(x, 0.0)),
    (RuntimeError, r"masked_fill: shapes \(3, 4\), \(2,\) do not broadcast",
     lambda x: x.masked_fill(tg.tensor([True, False]), 0.0)),
    (RuntimeError, r"masked_fill: the value must be a number or a 0-d tensor, got a tensor of shape \(2,\)",
     lambda x: x.masked_fill(x > 0, f64([1.0, 2.0]))),
    (RuntimeError, r"masked_scatter: the mask selects 12 places but source has only 2 elements",
     lambda x: x.masked_scatter(tg.ones(3, 4, dtype=tg.bool_), f64([1.0, 2.0]))),
    (IndexError, r"take: index 12 is out of range for the flattened input of size 12; expected indices in \[-12, 12\)",
     lambda x: x.take(idx([12]))),
    (RuntimeError, r"take_along_dim: input and indices must have the same number of dims, got 2",
     lambda x: x.take_along_dim(idx([0]), 1)),
    (RuntimeError, r"take_along_dim: shapes \(1, 4\), \(1, 5\) do not broadcast",
     lambda x: x.take_along_dim(idx([[0] * 5] * 3), 0)),
    (RuntimeError, r"fliplr: expected a tensor of at least 2 dims, got 1", lambda x: x[0].fliplr()),
    (RuntimeError, r"roll: expected as many shifts as dims, got 2 shifts and 1 dims", lambda x: x.roll((1, 2), 0)),
    (RuntimeError, r"rot90: expected two different dims", lambda x: x.rot90(1, (1, 1))),
    (RuntimeError, r"diag: expected a 1-d or 2-d tensor, got 3-d", lambda x: x[None].diag()),
    (RuntimeError, r"trace: expected a 2-d tensor, got 1-d", lambda x: x[0].trace()),
    (RuntimeError, r"dot: expected tensors of the same length, got 4 and 3", lambda x: x[0].dot(x[:, 0])),
    (RuntimeError, r"dot: expected two 1-d tensors, got 2-d and 1-d", lambda x: tg.dot(x, x[0])),
    (RuntimeError, r"outer: expected two 1-d tensors", lambda x: x.outer(x[0])),
    (RuntimeError, r"mm: expected two 2-d tensors, got 3-d and 2-d", lambda x: x[None].mm(x.T)),
    (RuntimeError, r"mm: expected two 2-d tensors, got 2-d and 1-d", lambda x: x.mm(x[0])),
    (RuntimeError, r"outer: expected two 1-d tensors, got shapes \(4,\) and \(3, 4\)", lambda x: x[0].outer(x)),
    (RuntimeError, r"outer: expected two 1-d tensors, got shapes \(4,\) and \(\)", lambda x: x[0].outer(x[0, 0])),
    (RuntimeError, r"inner: the last dims must match, got shapes \(3, 4\) and \(3,\)", lambda x: x.inner(x[:, 0])),
    (RuntimeError, r"einsum: subscript 'ij' of operand 0 names 2 dims, but the operand has 1",
     lambda x: tg.einsum("ij->i", x[0])),
    (RuntimeError, r"einsum: subscript 'j' has size 4 in one operand and 3 in operand 1",
     lambda x: tg.einsum("ij,jk->ik", x, x)),
    (ValueError, (r"einsum: the equation 'ij,jk->ik' has 2 operand subscripts, so it expects 2 operands; got 1 "
                  r"operand$"),
     lambda x: tg.einsum("ij,jk->ik", x)),
    (ValueError, r"einsum: output subscript 'z' is not a letter used by an operand", lambda x: tg.einsum("ij->z", x)),
    (ValueError, r"cdist: p must be 2, 1 or 0 here, got 3", lambda x: tg.cdist(x, x, p=3)),
    (RuntimeError, r"cdist: x1 and x2 must have the same number of columns", lambda x: tg.cdist(x, x.T)),
    (RuntimeError, r"split: split sizes \[1, 2\] sum to 3, expected the size of dim 1 \(4\)",
     lambda x: x.split([1, 2], 1)),
    (ValueError, r"chunk: chunks must be >= 1, got 0", lambda x: x.chunk(0)),
    (RuntimeError, r"narrow: start \(3\) \+ length \(2\) exceeds dim 1 of size 4", lambda x: x.narrow(1, 3, 2)),
    (IndexError, r"unbind: dim 2 is out of range", lambda x: x.unbind(2)),
    (IndexError, r"unbind: cannot unbind a 0-d tensor; expected at least 1 dim", lambda x: x.sum().unbind(0)),
    (RuntimeError, r"movedim: source names a dim twice", lambda x: x.movedim((0, 0), (0, 1))),
    (RuntimeError, r"unflatten: sizes \(3, 2\) do not multiply to the size of dim 1 \(4\)",
     lambda x: x.unflatten(1, (3, 2))),
    (RuntimeError, r"repeat: expected at least as many repeats as the tensor has dims \(2\), got 1",
     lambda x: x.repeat(2)),
    (RuntimeError, r"repeat_interleave: expected 3 repeats \(the size of dim 0\), got 2",
     lambda x: x.repeat_interleave(tg.tensor([1, 2]), 0)),
    (RuntimeError, r"repeat_interleave: repeats must be >= 0, got -1",
     lambda x: x.repeat_interleave(tg.tensor([1, -1, 2]), 0)),
    (RuntimeError, r"meshgrid: expected 0-d or 1-d tensors, got tensor 0 of shape \(3, 4\)",
     lambda x: tg.meshgrid(x, x[0])),
    (ValueError, r"meshgrid: indexing must be 'ij' or 'xy', got 'ji'", lambda x: tg.meshgrid(x[0], indexing="ji")),
    (TypeError, r"hstack: expected a sequence of tensors, got a Tensor", lambda x: tg.hstack(x)),
    (RuntimeError, r"broadcast_shapes: shapes \(2,\), \(3,\) do not broadcast", lambda x: tg.broadcast_shapes(2, 3)),
    (TypeError, r"sort: expected a Tensor as the first argument, got list", lambda x: tg.sort([1.0, 2.0])),
])
def test_bad_arguments_get_clear_errors(exc, pattern, fn):
    x = f64(X)
    _raises(exc, pattern, lambda: fn(x))


@st.composite
def _einsum_calls(draw):
    """An equation over the letters i, j, k (repeats, an ellipsis, implicit or
    explicit output, letters the operands lack) with operands sized from one
    drawn size per letter, sometimes off by one so that sizes disagree."""
    sizes = {c: draw(st.integers(1, 3)) for c in "ijk"}
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        letters = draw(st.lists(st.sampled_from("ijk"), max_size=3))
        ellipsis = draw(st.booleans()) and draw(st.booleans())
        shape = [sizes[c] + (draw(st.integers(0, 6)) == 0) for c in letters]
        if ellipsis:
            shape = [draw(st.integers(1, 2)) for _ in range(draw(st.integers(0, 2)))] + shape
        terms.append(("..." if ellipsis else "") + "".join(letters))
        shapes.append(tuple(shape))
    eq = ",".join(terms)
    if draw(st.booleans()):
        out = draw(st.lists(st.sampled_from("ijk"), max_size=3))
        # an operand's ellipsis kept in the output: without it PyTorch sums those dims where NumPy refuses
        # (test_einsum_sums_an_ellipsis_the_output_leaves_out_as_pytorch has that case)
        dots = "..." if "..." in eq or draw(st.booleans()) else ""
        eq += "->" + dots + "".join(out)
    return eq, shapes


@given(call=_einsum_calls())
@settings(max_examples=150, deadline=None)
def test_einsum_refuses_exactly_where_numpy_does_and_agrees_elsewhere(call):
    """Drawn equations: a repeated or unknown output letter, sizes that differ,
    more letters than dims are refused with a message naming einsum; the rest give
    NumPy's values."""
    eq, shapes = call
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    try:
        want = np.einsum(eq, *arrays)
    except ValueError:
        with pytest.raises((RuntimeError, ValueError), match="einsum"):
            tg.einsum(eq, *[f64(a) for a in arrays])
        return
    np.testing.assert_allclose(tg.einsum(eq, *[f64(a) for a in arrays]).detach().numpy(), want, rtol=1e-12, atol=1e-12)


@st.composite
def _broadcast_pair(draw):
    """Two shapes that broadcast together, either one the larger in any dim."""
    out = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    a = [draw(st.sampled_from([n, 1])) for n in out][draw(st.integers(0, len(out) - 1)):]
    b = [draw(st.sampled_from([n, 1])) for n in out][draw(st.integers(0, len(out) - 1)):]
    return tuple(a), tuple(b)


@given(shapes=_broadcast_pair(), seed=st.integers(0, 99))
@settings(max_examples=60, deadline=None)
def test_masked_ops_broadcast_the_mask_and_the_input_both_ways(shapes, seed):
    """masked_select, masked_fill and masked_scatter with a mask larger or smaller
    than the input in any dim: NumPy's values on the broadcast shape (PyTorch's
    out-of-place rule)."""
    t_shape, m_shape = shapes
    rng = np.random.default_rng(seed)
    x, m = rng.standard_normal(t_shape), rng.random(m_shape) < 0.5
    shape = np.broadcast_shapes(t_shape, m_shape)
    xb, mb = np.broadcast_to(x, shape), np.broadcast_to(m, shape)
    np.testing.assert_array_equal(tg.masked_select(f64(x), tg.tensor(m)).detach().numpy(), xb[mb])
    np.testing.assert_array_equal(tg.masked_fill(f64(x), tg.tensor(m), 7.0).detach().numpy(), np.where(mb, 7.0, xb))
    source = rng.standard_normal(mb.size)
    want = xb.copy()
    want[mb] = source[:mb.sum()]
    np.testing.assert_array_equal(tg.masked_scatter(f64(x), tg.tensor(m), f64(source)).detach().numpy(), want)


def test_einsum_sums_an_ellipsis_the_output_leaves_out_as_pytorch():
    """An explicit output without '...' sums the ellipsis dims (PyTorch's rule; NumPy refuses)."""
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(tg.einsum("...j->j", f64(x)).detach().numpy(), x.sum((0, 1)), rtol=1e-12)
    np.testing.assert_allclose(tg.einsum("...j,jk->k", f64(x), f64(y)).detach().numpy(), (x @ y).sum((0, 1)),
                               rtol=1e-12)
    if torch is not None:
        np.testing.assert_allclose(torch.einsum("...j->j", T(x)).numpy(), x.sum((0, 1)), rtol=1e-12)
