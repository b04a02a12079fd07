"""The index ops' arguments at the ends of what they accept: the first and last
valid position of a negative index, a 0-d input's single index, indices of an
unsigned dtype (ops/indexing.py: any integer dtype), and fill values at
exactly the largest number a float dtype holds. Expected values are PyTorch's
where PyTorch takes the call."""
import numpy as np
import pytest

import tinygrad_bn as tg


def test_select_takes_minus_the_size_as_the_first_slice_and_refuses_one_past_it():
    """select's index runs over [-n, n): -n is the first slice, -n - 1 and n are out of range."""
    t = tg.tensor([[1, 2], [3, 4], [5, 6]])
    assert t.select(0, -3).tolist() == [1, 2]
    assert t.select(1, -2).tolist() == [1, 3, 5]
    assert t.select(0, 2).tolist() == [5, 6]
    for bad in (-4, 3):
        with pytest.raises(IndexError, match=rf"select: index {bad} is out of range for dim 0 of size 3"):
            t.select(0, bad)


def test_select_scatter_writes_at_minus_the_size_into_the_first_slice():
    """As torch.select_scatter(zeros(3, 2), ones(2), 0, -3): [[1, 1], [0, 0], [0, 0]]."""
    out = tg.select_scatter(tg.zeros(3, 2), tg.ones(2), 0, -3)
    assert out.tolist() == [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]]
    with pytest.raises(IndexError, match="select_scatter: index -4 is out of range"):
        tg.select_scatter(tg.zeros(3, 2), tg.ones(2), 0, -4)


@pytest.mark.parametrize("index", [[], [0, 0]], ids=["empty", "two"])
def test_index_select_of_a_0d_input_takes_exactly_one_index(index):
    """PyTorch: "Index to scalar can have only 1 value", for no index as for two;
    one index gives the 0-d value back."""
    t = tg.tensor(5.0)
    with pytest.raises(RuntimeError, match=f"a 0-d input takes exactly one index, got {len(index)}"):
        tg.index_select(t, 0, tg.tensor(index, dtype=tg.int64))
    out = tg.index_select(t, 0, tg.tensor([0]))
    assert out.shape == () and out.item() == 5.0


def test_indices_of_an_unsigned_dtype_are_taken_as_their_values():
    """Any integer dtype indexes (where PyTorch wants int64 or int32): uint8 indices
    pick the same elements as the int64 ones."""
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    u8 = tg.uint8
    assert tg.gather(x, 1, tg.tensor([[1, 0], [0, 0]], dtype=u8)).tolist() == [[2.0, 1.0], [3.0, 3.0]]
    assert x.index_select(1, tg.tensor([1], dtype=u8)).tolist() == [[2.0], [4.0]]
    assert tg.take(tg.tensor([1.0, 2.0, 3.0]), tg.tensor([2, 0], dtype=u8)).tolist() == [3.0, 1.0]
    assert tg.scatter_add(tg.zeros(3), 0, tg.tensor([2, 2], dtype=u8), tg.ones(2)).tolist() == [0.0, 0.0, 2.0]


@pytest.mark.parametrize("dtype, largest, past", [
    ("float32", 3.4028234663852886e38, 3.5e38),
    ("float16", 65504.0, 65600.0),
])
def test_a_fill_value_of_exactly_the_largest_float_is_kept_and_one_past_it_refused(dtype, largest, past):
    """The largest finite value of the dtype fills (as in PyTorch); a larger finite one is an overflow."""
    dt = getattr(tg, dtype)
    mask = tg.tensor([True, False])
    out = tg.zeros(2, dtype=dt).masked_fill(mask, largest)
    assert out.tolist() == [largest, 0.0]
    assert tg.zeros(2, dtype=dt).masked_fill(mask, -largest).tolist() == [-largest, 0.0]
    with pytest.raises(RuntimeError, match=f"does not fit in {dtype}"):
        tg.zeros(2, dtype=dt).masked_fill(mask, past)


def test_a_numpy_scalar_fills_as_its_number_and_a_0d_numpy_array_is_refused():
    """A NumPy scalar is the Python number it holds; a 0-d array is not a number
    (PyTorch's masked_fill refuses it too, with a TypeError)."""
    mask = tg.tensor([True, False])
    assert tg.zeros(2).masked_fill(mask, np.float64(2.5)).tolist() == [2.5, 0.0]
    assert tg.zeros(2, dtype=tg.int64).masked_fill(mask, np.int32(-3)).tolist() == [-3, 0]
    with pytest.raises(TypeError, match="masked_fill: the value must be a number or a 0-d tensor, got ndarray"):
        tg.zeros(2).masked_fill(mask, np.array(2.0))


@pytest.mark.parametrize("op", ["index_select", "index_add", "index_copy", "index_fill"])
def test_the_index_ops_on_a_0d_tensor_take_index_0_only(op):
    """A 0-d tensor has one element along dim 0 (-1): torch.tensor(5.).index_select(0,
    tensor([1])) raises "index out of range in self", tensor([0]) gives tensor(5.)."""
    t = tg.tensor(5.0)
    call = {"index_select": lambda i: t.index_select(0, i), "index_add": lambda i: t.index_add(0, i, tg.tensor(1.0)),
            "index_copy": lambda i: t.index_copy(0, i, tg.tensor(1.0)), "index_fill": lambda i: t.index_fill(0, i, 1.0)}[op]
    assert call(tg.tensor([0])).shape == ()
    for bad in ([1], 1, [-1]):
        with pytest.raises(IndexError, match=rf"{op}: index -?1 is out of range for dim 0 of size 1"):
            call(tg.tensor(bad))
