"""histc, searchsorted, bucketize, unique_consecutive, nonzero and unravel_index at the
edges of their ranges: values exactly at a histogram's min and max and just outside,
equal bounds (the data's range), one value; ties on either side of a search; runs along
a dim; 0-d inputs; the last flat index and one past it. The values are PyTorch's."""
import numpy as np
import pytest

import tinygrad_bn as tg


def test_histc_counts_min_and_max_and_ignores_values_just_outside():
    """torch.histc(tensor([0., 3., -1e-9, 3.0000001]), 3, 0, 3) is [1., 0., 2.]: max falls in the last bin."""
    assert tg.tensor([0.0, 3.0, -1e-9, 3.0000001]).histc(3, 0, 3).tolist() == [1.0, 0.0, 2.0]
    assert tg.tensor([0.0, 3.0, 1.5]).histc(3, 0, 3).tolist() == [1.0, 1.0, 1.0]


def test_histc_with_equal_bounds_takes_the_datas_range_and_one_value_a_range_of_two():
    """torch.histc(tensor([1., 2., 3., 4.]), 2, 2, 2) is [2., 2.] (min == max, not only 0 == 0:
    the data's range); torch.histc(tensor([5.]), 2) is [0., 1.] and with 3 bins [0., 1., 0.] (the range [4, 6])."""
    assert tg.tensor([1.0, 2.0, 3.0, 4.0]).histc(2, 2, 2).tolist() == [2.0, 2.0]
    assert tg.tensor([5.0]).histc(2).tolist() == [0.0, 1.0]
    assert tg.tensor([5.0]).histc(3).tolist() == [0.0, 1.0, 0.0]


def test_searchsorted_and_bucketize_put_ties_on_the_side_asked():
    seq = tg.tensor([1.0, 2.0, 2.0, 3.0])
    assert tg.searchsorted(seq, tg.tensor([2.0])).tolist() == [1]
    assert tg.searchsorted(seq, tg.tensor([2.0]), right=True).tolist() == [3]
    assert tg.searchsorted(seq, tg.tensor([2.0]), side="right").tolist() == [3]
    assert tg.searchsorted(seq, 2.0, side="left").tolist() == 1
    assert tg.searchsorted(tg.tensor([3.0, 1.0, 2.0]), tg.tensor([2.5]), sorter=tg.tensor([1, 2, 0])).tolist() == [2]
    bounds = tg.tensor([1.0, 2.0, 3.0])
    assert tg.bucketize(tg.tensor([1.0, 2.0, 2.5]), bounds).tolist() == [0, 1, 2]
    assert tg.bucketize(tg.tensor([1.0, 2.0, 2.5]), bounds, right=True).tolist() == [1, 2, 2]
    assert tg.bucketize(tg.tensor([0.5, 3.5]), bounds, out_int32=True).dtype == tg.int32


def test_unique_consecutive_runs_inverse_and_counts():
    """PyTorch's: a value that comes back after another run starts a run of its own."""
    values, inverse, counts = tg.tensor([1, 1, 2, 2, 2, 1]).unique_consecutive(return_inverse=True,
                                                                                 return_counts=True)
    assert values.tolist() == [1, 2, 1] and inverse.tolist() == [0, 0, 1, 1, 1, 2] and counts.tolist() == [2, 3, 1]
    rows, inverse, counts = tg.tensor([[1, 2], [1, 2], [3, 4], [1, 2]]).unique_consecutive(
        dim=0, return_inverse=True, return_counts=True)
    assert rows.tolist() == [[1, 2], [3, 4], [1, 2]] and inverse.tolist() == [0, 0, 1, 2]
    assert counts.tolist() == [2, 1, 1]
    cols, counts = tg.tensor([[1, 1, 2], [3, 3, 4]]).unique_consecutive(dim=1, return_counts=True)
    assert cols.tolist() == [[1, 2], [3, 4]] and counts.tolist() == [2, 1]
    assert tg.tensor([7]).unique_consecutive(return_counts=True)[1].tolist() == [1]


def test_nonzero_of_0d_tensors():
    """torch.tensor(5.).nonzero() is shape (1, 0); as_tuple gives one index per kept element."""
    assert tg.tensor(5.0).nonzero().shape == (1, 0)
    assert tg.tensor(0.0).nonzero().shape == (0, 0)
    assert [t.tolist() for t in tg.tensor(5.0).nonzero(as_tuple=True)] == [[0]]
    assert [t.tolist() for t in tg.tensor(0.0).nonzero(as_tuple=True)] == [[]]


def test_unravel_index_takes_the_last_flat_index_and_refuses_one_past_it():
    assert [c.tolist() for c in tg.unravel_index(tg.tensor([5, 0]), (2, 3))] == [[1, 0], [2, 0]]
    assert [c.item() for c in tg.unravel_index(5, (2, 3))] == [1, 2]
    with pytest.raises(IndexError, match="index 6 is out of range for shape"):
        tg.unravel_index(tg.tensor([1, 6]), (2, 3))
    np.testing.assert_array_equal(tg.unravel_index(tg.tensor([3]), 4)[0].numpy(), [3])
