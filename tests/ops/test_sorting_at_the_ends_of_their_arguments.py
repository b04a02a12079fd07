"""sort, argsort, topk, kthvalue, median, nanmedian, mode and quantile at the ends
of their arguments: k at 0, 1 and the dim's size and one past, keepdim, dims other
than the last, integer inputs, rows that are all NaN, and q at 0, 1 and between
two values for each interpolation. The expected values are PyTorch 2's
(torch.topk, kthvalue, median, mode, quantile, ...), written here as literals."""
import pytest

import tinygrad_bn as tg

NAN = float("nan")
TIES = [3.0, 1.0, 3.0, 2.0, 1.0, 3.0]


def pair(result):
    values, indices = result
    return values.tolist(), indices.tolist()


def test_descending_sorts_keep_equal_values_in_order_and_put_nan_first():
    assert tg.argsort(tg.tensor(TIES), descending=True, stable=True).tolist() == [0, 2, 5, 3, 1, 4]
    assert pair(tg.sort(tg.tensor([2, 1, 2, 3]), descending=True, stable=True)) == ([3, 2, 2, 1], [3, 0, 2, 1])
    values, indices = tg.sort(tg.tensor([1.0, NAN, 2.0, NAN]), descending=True, stable=True)
    assert indices.tolist() == [1, 3, 2, 0] and values.tolist()[2:] == [2.0, 1.0]
    assert pair(tg.sort(tg.tensor([[2, 1], [2, 3], [1, 3]]), dim=0, descending=True, stable=True)) == (
        [[2, 3], [2, 3], [1, 1]], [[0, 1], [1, 2], [2, 0]])
    assert tg.msort(tg.tensor([[3.0, 1.0], [1.0, 2.0]])).tolist() == [[1.0, 1.0], [3.0, 2.0]]


def test_topk_takes_k_from_0_to_the_dims_size():
    x = tg.tensor(TIES)
    assert pair(tg.topk(x, 0)) == ([], [])
    assert tg.topk(x, 6).values.tolist() == [3.0, 3.0, 3.0, 2.0, 1.0, 1.0]
    assert pair(tg.topk(tg.tensor([3.0, 1.0, 2.0, 0.5]), 2, largest=False)) == ([0.5, 1.0], [3, 1])
    assert pair(tg.topk(tg.tensor([[1.0, 5.0], [4.0, 2.0], [3.0, 3.0]]), 2, dim=0)) == (
        [[4.0, 5.0], [3.0, 3.0]], [[1, 0], [2, 2]])
    assert pair(tg.topk(tg.tensor(2.0), 1)) == (2.0, 0)
    for k in (7, -1):
        with pytest.raises(RuntimeError, match=rf"topk: k \({k}\) is out of range for dim 0 of size 6; expected 0 <= k <= 6"):
            tg.topk(x, k)


def test_kthvalue_takes_k_from_1_to_the_dims_size():
    x = tg.tensor([3.0, 1.0, 2.0])
    assert pair(tg.kthvalue(x, 1)) == (1.0, 1)
    assert pair(tg.kthvalue(x, 3)) == (3.0, 0)
    assert pair(tg.kthvalue(tg.tensor([[3.0, 1.0, 2.0]]), 2, dim=1, keepdim=True)) == ([[2.0]], [[2]])
    assert pair(tg.kthvalue(tg.tensor([[3.0, 1.0], [2.0, 4.0], [0.0, 9.0]]), 2, dim=0)) == ([2.0, 4.0], [1, 1])
    assert pair(tg.kthvalue(tg.tensor(3.0), 1)) == (3.0, 0)
    for k in (0, 4):
        with pytest.raises(RuntimeError, match=rf"kthvalue: k \({k}\) is out of range for dim 0 of size 3; expected 1 <= k <= 3"):
            tg.kthvalue(x, k)
    assert pair(tg.kthvalue(tg.tensor([[5.0], [6.0]]), 1, dim=1)) == ([5.0, 6.0], [0, 0])  # a size-1 dim: k = 1 only
    with pytest.raises(RuntimeError, match=r"kthvalue: k \(2\) is out of range for dim 1 of size 1; expected 1 <= k <= 1"):
        tg.kthvalue(tg.tensor([[5.0], [6.0]]), 2, dim=1)


def test_median_of_integers_nan_rows_and_keepdim():
    assert pair(tg.median(tg.tensor([[4, 1, 3, 2]]), dim=1)) == ([2], [3])  # the lower median
    assert tg.median(tg.tensor([4, 1, 3, 2])).item() == 2
    assert pair(tg.median(tg.tensor([[1.0, 3.0, 2.0]]), dim=-1, keepdim=True)) == ([[2.0]], [[2]])
    assert pair(tg.median(tg.tensor(2.0), dim=0)) == (2.0, 0)
    values, indices = tg.median(tg.tensor([[1.0, NAN, 2.0, NAN]]), dim=1)  # a NaN: the first NaN
    assert indices.tolist() == [1] and values.isnan().tolist() == [True]
    assert pair(tg.nanmedian(tg.tensor([[1.0, NAN, 2.0, 0.5]]), dim=1)) == ([1.0], [0])
    values, indices = tg.nanmedian(tg.tensor([[NAN, NAN]]), dim=1)  # all NaN: NaN at the first
    assert indices.tolist() == [0] and values.isnan().tolist() == [True]


def test_mode_picks_the_longest_run_the_smallest_value_and_its_last_index():
    assert pair(tg.mode(tg.tensor([[2.0, 1.0, 2.0, 1.0, 3.0]]), dim=1)) == ([1.0], [3])
    assert pair(tg.mode(tg.tensor([[2, 1, 2, 1, 3], [5, 5, 4, 4, 4]]), dim=1, keepdim=True)) == ([[1], [4]], [[3], [4]])
    assert pair(tg.mode(tg.tensor([[2, 1], [2, 3], [1, 3]]), dim=0)) == ([2, 3], [1, 2])
    assert pair(tg.mode(tg.tensor([4, 3, 2]))) == (2, 2)  # all once: the smallest
    assert pair(tg.mode(tg.tensor([1, 1, 2, 2, 2, 3, 3, 3, 3, 0]))) == (3, 8)
    assert pair(tg.mode(tg.tensor([0, 3, 3, 3, 3, 1, 1, 2, 2, 2]))) == (3, 4)


@pytest.mark.parametrize("interpolation, want", [
    ("linear", [0.0, 1.5, 4.0]), ("lower", [0.0, 1.0, 4.0]), ("higher", [0.0, 2.0, 4.0]),
    ("midpoint", [0.0, 1.5, 4.0]), ("nearest", [0.0, 2.0, 4.0])])
def test_quantile_at_0_1_and_halfway_by_each_interpolation(interpolation, want):
    got = tg.quantile(tg.tensor([0.0, 1.0, 2.0, 4.0]), tg.tensor([0.0, 0.5, 1.0]), interpolation=interpolation)
    assert got.tolist() == want


def test_quantile_nearest_rounds_half_to_even_and_linear_interpolates():
    x = tg.tensor([0.0, 1.0, 2.0, 3.0, 4.0])
    q = tg.tensor([0.125, 0.375, 0.625, 0.875])  # positions 0.5, 1.5, 2.5, 3.5
    assert tg.quantile(x, q, interpolation="nearest").tolist() == [0.0, 2.0, 2.0, 4.0]
    assert tg.quantile(x, q, interpolation="lower").tolist() == [0.0, 1.0, 2.0, 3.0]
    assert tg.quantile(x, q, interpolation="higher").tolist() == [1.0, 2.0, 3.0, 4.0]
    assert tg.quantile(x, q, interpolation="midpoint").tolist() == [0.5, 1.5, 2.5, 3.5]
    assert tg.quantile(tg.tensor([0.0, 10.0, 20.0]), 0.3).item() == pytest.approx(6.0)  # between, not at, a value
    assert tg.quantile(tg.tensor([0.0, 1.0, 2.0, 3.0]), tg.tensor([0.25]), interpolation="nearest").tolist() == [1.0]


def test_quantile_shapes_with_keepdim_and_q_of_each_rank():
    ones = tg.ones(2, 3, 4)
    assert tg.quantile(tg.ones(2, 3), tg.tensor([0.5, 0.2]), keepdim=True).shape == (2, 1, 1)
    assert tg.quantile(ones, tg.tensor([0.5, 0.2]), dim=1, keepdim=True).shape == (2, 2, 1, 4)
    assert tg.quantile(ones, 0.5, dim=-1, keepdim=True).shape == (2, 3, 1)
    assert tg.quantile(ones, 0.5, dim=0).shape == (3, 4)
    assert tg.quantile(tg.ones(2, 3), tg.tensor(0.5), dim=0).shape == (3,)
    assert tg.quantile(tg.ones(2, 3), tg.tensor([0.5]), dim=0).shape == (1, 3)
    assert tg.quantile(tg.tensor([1.0, 3.0]), 1.0).item() == 3.0
    assert tg.quantile(tg.tensor([1.0, 3.0]), 0).item() == 1.0
    for q in (1.5, -0.5, tg.tensor([0.5, 1.01])):
        with pytest.raises(ValueError, match=r"quantile: q values must be in \[0, 1\]"):
            tg.quantile(tg.ones(3), q)
    with pytest.raises(RuntimeError, match=r"quantile: the input must be non-empty along the reduced dim, got shape \(0,\)"):
        tg.quantile(tg.ones(0), 0.4)


def test_quantile_is_nan_with_a_nan_and_nanquantile_only_where_all_are_nan():
    assert tg.quantile(tg.tensor([1.0, NAN, 3.0]), 0.4).isnan().item()
    got = tg.nanquantile(tg.tensor([[1.0, NAN, 3.0, 2.0], [NAN, NAN, NAN, NAN]]), 0.5, dim=1)
    assert got.tolist()[0] == 2.0 and got.isnan().tolist() == [False, True]
    assert tg.nanquantile(tg.tensor([1.0, NAN, 3.0, 2.0, 7.0]), 0.4).item() == pytest.approx(2.2)
    assert tg.nanquantile(tg.tensor([1.0, NAN, 3.0, 2.0, 7.0]), 1.0).item() == 7.0
    assert tg.nanquantile(tg.tensor([NAN, 5.0, NAN]), tg.tensor([0.0, 0.5, 1.0])).tolist() == [5.0, 5.0, 5.0]
