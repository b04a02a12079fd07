"""histc, searchsorted, bucketize, unique_consecutive, nonzero and unravel_index at the
edges of their ranges: values exactly at a histogram's min and max and just outside,
equal bounds (the data's range), one value; ties on either side of a search; runs along
a dim; 0-d inputs; the last flat index and one past it. The values are PyTorch's."""
import re

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


@pytest.mark.parametrize("values, shown", [([float("nan")], "[nan, nan]"), ([1.0, float("nan")], "[nan, nan]"),
                                           ([float("inf"), 1.0], "[1, inf]"), ([-float("inf"), 2.0], "[-inf, 2]")])
def test_a_range_taken_from_data_that_is_not_finite_is_refused_as_pytorch_does(values, shown):
    """torch.histc(tensor([inf, 1.])) raises "range of [1, inf] is not finite" (and
    torch.histogram alike); with the range given, the values outside it, NaN too,
    are left out: torch.histc(tensor([nan, 1.]), 3, 0, 2) is [0., 1., 0.]."""
    t = tg.tensor(values)
    with pytest.raises(RuntimeError, match=re.escape(f"histc: the data's range {shown} is not finite") +
                       ".*pass min and max"):
        t.histc(3)
    with pytest.raises(RuntimeError, match=re.escape(f"histogram: the data's range {shown} is not finite") +
                       ".*pass range="):
        t.histogram(3)
    finite = [v for v in values if np.isfinite(v)]
    want = np.histogram(finite, 3, (0.0, 2.0))[0].tolist() if finite else [0.0, 0.0, 0.0]
    assert t.histc(3, 0, 2).tolist() == want
    assert t.histogram(3, range=(0.0, 2.0)).hist.tolist() == want
    assert t.histogram(tg.tensor([0.0, 1.0, 2.0])).hist.sum().item() == len([v for v in finite if 0 <= v <= 2])
