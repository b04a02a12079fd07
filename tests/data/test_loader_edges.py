"""The DataLoader, Subset, TensorDataset, random_split and collate at their edges:
len(loader) is the number of batches an epoch yields for every size, batch size,
drop_last and sampler; batch_sampler refuses each option it replaces, alone; bools are
not counts and the worker options take any valid value; an index one past either end
is refused with the function's message; lengths that are negative by one, floats used
as counts and fractions not summing to 1 are refused; an unseeded shuffle draws a new
seed from a wide range at each epoch; and numbers and 0-d arrays collate to a 1-d
tensor of their dtype."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.data import DataLoader, Subset, TensorDataset, collate, random_split

# ------------------------------------------------------------------------ len and batches

@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("how", ["in order", "shuffled", "sampler"])
def test_len_is_the_number_of_batches_an_epoch_yields(drop_last, how):
    """For every dataset size 0..13 and batch size 1..5: full batches, then the short
    rest (n % batch_size items) unless drop_last, covering the order once; and len()
    equals the count (PyTorch: n // batch_size with drop_last, else ceil)."""
    for n in range(14):
        ds = TensorDataset(np.arange(n))
        for bs in range(1, 6):
            kw = {"shuffle": True, "seed": n + bs} if how == "shuffled" else {}
            sampler = list(range(n - 1, -1, -2)) if how == "sampler" else None  # every other index, backwards
            count = len(sampler) if sampler is not None else n
            loader = DataLoader(ds, bs, sampler=sampler, drop_last=drop_last, **kw)
            sizes = [len(b[0]) for b in loader]
            want = count // bs if drop_last else math.ceil(count / bs)
            assert len(loader) == len(sizes) == want, (n, bs)
            rest = [] if drop_last or count % bs == 0 else [count % bs]
            assert sizes == [bs] * (count // bs) + rest, (n, bs)
            got = [int(i) for b in loader for i in b[0].tolist()]
            if how == "sampler":
                assert got == sampler[:len(got)]
            elif how == "in order":
                assert got == list(range(len(got)))
            else:
                assert len(set(got)) == len(got)


@pytest.mark.parametrize("option", [{"batch_size": 2}, {"batch_size": 0}, {"shuffle": True}, {"sampler": [0, 1]},
                                    {"drop_last": True}], ids=str)
def test_batch_sampler_refuses_each_option_it_replaces_alone(option):
    """As PyTorch: batch_sampler is mutually exclusive with batch_size (other than 1),
    shuffle, sampler and drop_last, each on its own."""
    ds = TensorDataset(np.arange(4))
    with pytest.raises(ValueError, match=r"DataLoader: batch_sampler gives whole batches, so it cannot go with "
                                         r"batch_size, shuffle, sampler or drop_last"):
        DataLoader(ds, batch_sampler=[[0, 1], [2, 3]], **option)
    assert [b[0].tolist() for b in DataLoader(ds, batch_size=1, shuffle=False, drop_last=False,
                                              batch_sampler=[[3], [0, 2]])] == [[3], [0, 2]]


# ------------------------------------------------------------ counts: bools, worker options

@pytest.mark.parametrize("name, value, says", [
    ("batch_size", True, "batch_size must be a positive int, got True"),
    ("batch_size", False, "batch_size must be a positive int, got False"),
    ("batch_size", 2.0, "batch_size must be a positive int, got 2.0"),
    ("num_workers", True, "num_workers must be an int >= 0, got True"),
    ("num_workers", 1.5, r"num_workers must be an int >= 0, got 1.5"),
    ("num_workers", "2", "num_workers must be an int >= 0, got '2'"),
    ("timeout", True, "timeout must be a number >= 0, got True"),
    ("timeout", "1", "timeout must be a number >= 0, got '1'"),
    ("timeout", None, "timeout must be a number >= 0, got None"),
])
def test_bools_and_other_types_are_not_counts(name, value, says):
    """A bool is not a count here (the package's rule, though PyTorch's Python check lets
    num_workers=True through), nor a float worker count or a string."""
    with pytest.raises(ValueError, match=f"DataLoader: {says}"):
        DataLoader([1, 2, 3], **{name: value})


@pytest.mark.parametrize("options", [{"num_workers": 2}, {"num_workers": 8, "timeout": 5},
                                     {"timeout": 0.5, "pin_memory": True, "persistent_workers": True,
                                      "prefetch_factor": 2, "worker_init_fn": print}], ids=str)
def test_the_worker_options_take_valid_values_and_change_nothing(options):
    """num_workers >= 1 and a positive timeout (int or float) are taken, as PyTorch calls pass
    them, and the batches are those of the default loader."""
    loader = DataLoader([1, 2, 3, 4, 5], batch_size=2, **options)
    assert [b.tolist() for b in loader] == [[1, 2], [3, 4], [5]] and len(loader) == 3


# ------------------------------------------------------------------------- index edges

def test_a_subset_takes_each_end_and_refuses_one_past_it():
    s = Subset(list(range(10)), [3, 5, 7])
    assert [s[-3], s[-1], s[0], s[2], s[np.int64(-3)]] == [3, 7, 3, 7, 3]
    for bad in (3, -4, np.int64(3), 100):
        with pytest.raises(IndexError, match=rf"^Subset: index {bad} is out of range for a subset of 3 items; "
                                             r"expected \[-3, 3\)$"):
            s[bad]


def test_a_subset_names_the_first_bad_index():
    with pytest.raises(IndexError, match=r"^Subset: index 7 is out of range for a dataset of 5 items"):
        Subset(list(range(5)), [0, 7, -9, 2])
    with pytest.raises(IndexError, match=r"^Subset: index -9 is out of range for a dataset of 5 items"):
        Subset(list(range(5)), [0, -9, 7])


@pytest.mark.parametrize("lengths, bad", [((3, 5), 1), ((5, 3), 1), ((4, 4, 2), 2), ((4, 6, 4), 1)])
def test_tensor_dataset_names_the_tensor_whose_rows_differ(lengths, bad):
    """Longer or shorter than the first, the tensor at fault is named with both counts."""
    arrays = [np.zeros(n) for n in lengths]
    with pytest.raises(ValueError, match=rf"^TensorDataset: tensor {bad} has {lengths[bad]} rows, tensor 0 has "
                                         rf"{lengths[0]}; all must have the same first dim$"):
        TensorDataset(*arrays)


def test_tensor_dataset_items_are_tensors_and_tensors_are_the_ones_given():
    """PyTorch's ``tensors`` holds the tensors passed (arrays become tensors), and each
    item is a tuple of tensors, for tensor and array arguments alike."""
    t = tg.arange(4.0)
    ds = TensorDataset(t, np.arange(10, 14))
    assert ds.tensors[0] is t and isinstance(ds.tensors[1], tg.Tensor)
    item = ds[2]
    assert isinstance(item, tuple) and all(isinstance(v, tg.Tensor) for v in item)
    assert (item[0].item(), item[1].item()) == (2.0, 12)


# ------------------------------------------------------------------------- random_split

@pytest.mark.parametrize("lengths, says", [
    ([-1, 11], r"lengths \[-1, 11\] \(sum 10\)"),           # a negative count, though the sum is right
    ([11, -1], r"lengths \[11, -1\] \(sum 10\)"),
    ([5.0, 5.0], r"lengths \[5.0, 5.0\] \(sum 10.0\)"),      # floats are fractions, not counts
    ([0.5, 0.25], r"lengths \[0.5, 0.25\] \(sum 0.75\)"),    # fractions short of 1
    ([0.6, 0.6], r"lengths \[0.6, 0.6\] \(sum 1.2\)"),       # and past it
    ([4, 4], r"lengths \[4, 4\] \(sum 8\)"),
])
def test_random_split_refuses_lengths_that_are_not_counts_or_fractions(lengths, says):
    with pytest.raises(ValueError, match=rf"^random_split: {says} must be non-negative counts summing to the "
                                         r"dataset's length \(10\), or fractions summing to 1$"):
        random_split(TensorDataset(np.arange(10)), lengths, seed=0)


def test_random_split_takes_numpy_integer_counts():
    parts = random_split(TensorDataset(np.arange(10)), np.array([7, 0, 3]), seed=0)
    assert [len(p) for p in parts] == [7, 0, 3]
    assert sorted(int(p[i][0]) for p in parts for i in range(len(p))) == list(range(10))


@pytest.mark.parametrize("n, fs, want", [
    (11, [0.25] * 4, [3, 3, 3, 2]),                     # floors 2 each, 3 left: one each from the first
    (6, [0.15, 0.15, 0.15, 0.15, 0.4], [1, 1, 1, 1, 2]),  # floors 0, 0, 0, 0, 2: 4 left, more than the floors
    (3, [0.1, 0.1, 0.8], [1, 0, 2]),                    # floors 0, 0, 2
    (0, [0.5, 0.5], [0, 0]),
])
def test_random_split_hands_out_a_remainder_of_several(n, fs, want):
    """Values from torch.utils.data.random_split(range(n), fs)."""
    assert [len(p) for p in random_split(TensorDataset(np.arange(n)), fs, seed=0)] == want


# ------------------------------------------------------------------ unseeded order draws

def test_an_unseeded_shuffle_draws_a_new_order_every_epoch():
    """Each epoch seeds its order from a 63-bit draw of the CPU generator: 300 epochs of 12
    items give 300 different orders (a narrow draw of a few hundred seeds would repeat)."""
    tg.manual_seed(0)
    loader = DataLoader(TensorDataset(np.arange(12)), batch_size=12, shuffle=True)
    orders = {tuple(next(iter(loader))[0].tolist()) for _ in range(300)}
    assert len(orders) == 300


def test_an_unseeded_random_split_draws_a_new_order_every_call():
    tg.manual_seed(0)
    data = TensorDataset(np.arange(12))
    splits = {tuple(random_split(data, [6, 6])[0].indices) for _ in range(300)}
    assert len(splits) > 290  # 924 ways to choose the first half: a few repeat by chance


# ------------------------------------------------------------------------------ collate

@pytest.mark.parametrize("items, dtype", [
    ([1, 2], tg.int64), ([1.5, 2.0], tg.float64), ([True, False], tg.bool),
    ([np.array(1.5, np.float32), np.array(2.0, np.float32)], tg.float32),
    ([np.float32(1.5), np.float32(2.0)], tg.float32),
], ids=["ints", "floats", "bools", "0-d arrays", "numpy scalars"])
def test_numbers_and_0d_arrays_collate_to_a_1d_tensor_of_their_dtype(items, dtype):
    """As torch.utils.data.default_collate: int64, float64, bool, and the array's dtype."""
    batch = collate(items)
    assert isinstance(batch, tg.Tensor) and batch.shape == (2,) and batch.dtype == dtype
    assert batch.tolist() == [v.item() if hasattr(v, "item") else v for v in items]


def test_collate_nests_and_refuses_an_item_with_more_fields_than_the_first():
    batch = collate([({"a": 1, "b": "x"}, 2.5), ({"a": 3, "b": "y"}, 3.5)])
    assert batch[0]["a"].tolist() == [1, 3] and batch[0]["b"] == ["x", "y"] and batch[1].tolist() == [2.5, 3.5]
    for items in ([(1,), (2, 3)], [(1, 2), (3, 4), (5,)]):
        with pytest.raises(ValueError, match=r"items have different numbers of fields \(\[1, 2\]\)"):
            collate(items)
