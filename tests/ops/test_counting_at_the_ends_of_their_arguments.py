"""The counting and searching ops at the ends of their arguments, against PyTorch's
values (written out here): the first dim counted from the end (dim=-ndim), a range
of equal ends for histogram, one bin, N-d sequences whose leading dims must match,
the first index out of range named, triangles of empty matrices and offsets past
the corners, and the dtype bincount gives each kind of weights."""
import re

import numpy as np
import pytest

import tinygrad_bn as tg


def test_unique_and_unique_consecutive_take_dim_minus_ndim_as_the_first_dim():
    """torch.unique(tensor([[1, 2], [1, 2], [3, 4]]), dim=-2, return_inverse=True, return_counts=True) is
    ([[1, 2], [3, 4]], [0, 0, 1], [2, 1]); unique_consecutive alike; dim=-3 is out of range."""
    x = tg.tensor([[1, 2], [1, 2], [3, 4]])
    for fn in (tg.unique, tg.unique_consecutive):
        values, inverse, counts = fn(x, dim=-2, return_inverse=True, return_counts=True)
        assert values.tolist() == [[1, 2], [3, 4]]
        assert inverse.tolist() == [0, 0, 1] and counts.tolist() == [2, 1]
        with pytest.raises(IndexError, match=re.escape(f"{fn.__name__}: dim -3 is out of range for a tensor with "
                                                       "2 dimensions (expected a value in [-2, 1])")):
            fn(x, dim=-3)
    assert tg.unique(tg.tensor([3, 1, 3]), dim=-1).tolist() == [1, 3]


def test_histogram_with_a_range_of_equal_ends_widens_it_by_a_half_on_each_side():
    """torch.histogram(tensor([0., 1., 1., 2., 3.]), 3, range=(1., 1.)) is hist [0., 2., 0.]
    over edges [0.5, 0.8333, 1.1667, 1.5]: equal ends are allowed (NumPy's rule), unlike
    min > max. A range of other than two numbers is refused."""
    x = tg.tensor([0.0, 1.0, 1.0, 2.0, 3.0])
    hist, edges = tg.histogram(x, 3, range=(1.0, 1.0))
    assert hist.tolist() == [0.0, 2.0, 0.0]
    np.testing.assert_allclose(edges.numpy(), [0.5, 5 / 6, 7 / 6, 1.5], rtol=1e-6)
    with pytest.raises(ValueError, match=re.escape("histogram: range must be (min, max) with min <= max, "
                                                   "got (0.0, 1.0, 2.0)")):
        tg.histogram(x, 3, range=(0.0, 1.0, 2.0))


def test_one_bin_counts_every_value_in_the_range():
    """torch.histc(tensor([0., 1., 1., 2., 3.]), 1) is [5.]; with min == max == 1 (the data's range) too;
    torch.histogram(..., 1) is hist [5.] over edges [0., 3.]."""
    x = tg.tensor([0.0, 1.0, 1.0, 2.0, 3.0])
    assert x.histc(1).tolist() == [5.0]
    assert x.histc(1, 1, 1).tolist() == [5.0]
    hist, edges = x.histogram(1)
    assert hist.tolist() == [5.0] and edges.tolist() == [0.0, 3.0]


def test_histograms_of_an_empty_tensor_are_zeros():
    """torch.histc(tensor([]), 3) is [0., 0., 0.]; torch.histogram(tensor([]), 3) is zeros over [0, 1]."""
    empty = tg.tensor([], dtype=tg.float32)
    assert empty.histc(3).tolist() == [0.0, 0.0, 0.0]
    hist, edges = empty.histogram(3)
    assert hist.tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(edges.numpy(), [0.0, 1 / 3, 2 / 3, 1.0], rtol=1e-6)


def test_an_nd_sequence_searches_each_row_and_needs_the_same_leading_dims():
    """torch.searchsorted(tensor([[1., 2., 3.], [4., 5., 6.]]), tensor([[2., 9.], [0., 5.]]), right=True)
    is [[2, 3], [0, 2]]; a (3, 4) sequence with (2, 4) values is refused (leading dims 3 and 2)."""
    seq = tg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    values = tg.tensor([[2.0, 9.0], [0.0, 5.0]])
    assert tg.searchsorted(seq, values, right=True).tolist() == [[2, 3], [0, 2]]
    assert tg.searchsorted(seq, values).tolist() == [[1, 3], [0, 1]]
    with pytest.raises(RuntimeError, match=re.escape("searchsorted: an N-d sorted_sequence (3, 4) needs input with "
                                                     "the same leading dims, got (2, 4)")):
        tg.searchsorted(tg.zeros(3, 4), tg.zeros(2, 4))


def test_a_sorter_of_another_shape_is_refused():
    """torch.searchsorted(tensor([1., 2., 3.]), tensor([2.]), sorter=tensor([0, 1])) raises: the sorter
    must match the sequence."""
    with pytest.raises(RuntimeError, match=re.escape("searchsorted: sorter must be an integer tensor of "
                                                     "sorted_sequence's shape (3,), got int64 (2,)")):
        tg.searchsorted(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([2.0]), sorter=tg.tensor([0, 1]))


def test_bucketize_of_a_number_gives_a_0d_index():
    """torch.bucketize(2.0, tensor([1., 2., 3.])) is tensor(1) and with right=True tensor(2)."""
    bounds = tg.tensor([1.0, 2.0, 3.0])
    left, right = tg.bucketize(2.0, bounds), tg.bucketize(2.0, bounds, right=True)
    assert left.shape == () and left.item() == 1 and right.item() == 2
    assert left.dtype == tg.int64 and tg.bucketize(2.0, bounds, out_int32=True).dtype == tg.int32


@pytest.mark.parametrize("call", [lambda: tg.searchsorted(tg.tensor([1.0, 2.0]), True),
                                  lambda: tg.bucketize(True, tg.tensor([1.0, 2.0]))])
def test_a_bool_is_no_value_to_search_for(call):
    with pytest.raises(TypeError, match="(searchsorted|bucketize): input must be a Tensor or a number, got bool"):
        call()


def test_unravel_index_names_the_first_index_out_of_range():
    with pytest.raises(IndexError, match=re.escape("unravel_index: index 7 is out of range for shape (2, 3) "
                                                   "(6 elements)")):
        tg.unravel_index(tg.tensor([1, 7, -9]), (2, 3))
    with pytest.raises(IndexError, match="unravel_index: index -9 is out of range"):
        tg.unravel_index(tg.tensor([-9, 7]), (2, 3))


@pytest.mark.parametrize("fn, row, col, offset, want", [
    ("tril_indices", 0, 0, 0, [[], []]),
    ("tril_indices", 0, 3, 0, [[], []]),
    ("triu_indices", 3, 0, 0, [[], []]),
    ("tril_indices", 3, 3, -5, [[], []]),
    ("triu_indices", 2, 3, -5, [[0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]]),
    ("tril_indices", 2, 3, 5, [[0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]]),
    ("tril_indices", 3, 2, -1, [[1, 2, 2], [0, 0, 1]]),
    ("triu_indices", 3, 3, -1, [[0, 0, 0, 1, 1, 1, 2, 2], [0, 1, 2, 0, 1, 2, 1, 2]]),
    ("triu_indices", 2, 4, 1, [[0, 0, 0, 1, 1], [1, 2, 3, 2, 3]]),
])
def test_triangle_indices_of_empty_matrices_and_offsets_past_the_corners(fn, row, col, offset, want):
    """PyTorch's values: torch.tril_indices(0, 0) has shape (2, 0), an offset past a corner takes
    the whole matrix or none of it."""
    got = getattr(tg, fn)(row, col, offset)
    assert got.shape == (2, len(want[0])) and got.dtype == tg.int64
    assert got.tolist() == want


def test_triangle_indices_refuse_negative_sizes():
    for fn in (tg.tril_indices, tg.triu_indices):
        for row, col, bad in ((-1, 3, "row must be >= 0, got -1"), (3, -2, "col must be >= 0, got -2")):
            with pytest.raises(ValueError, match=f"{fn.__name__}: {bad}"):
                fn(row, col)
@pytest.mark.parametrize("weights, want", [(tg.float32, tg.float32), (tg.float64, tg.float64),
                                           (tg.float16, tg.float64), (tg.int32, tg.float64),
                                           (tg.uint8, tg.float64)])
def test_bincount_sums_weights_in_float32_or_float64_as_pytorch(weights, want):
    """torch.bincount(tensor([0, 2, 2]), w) is float32 for float32 weights and float64 for every
    other dtype, float16 included (PyTorch's CPU kernel sums in float or double)."""
    out = tg.bincount(tg.tensor([0, 2, 2]), tg.tensor([1, 2, 3]).to(weights))
    assert out.dtype == want
    assert out.tolist() == [1.0, 0.0, 5.0]
