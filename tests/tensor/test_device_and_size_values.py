"""tinygrad_bn.device and tinygrad_bn.Size at the values scripts pass them: an index
given apart from the name, a device passed back in, a device through pickle,
sizes that are NumPy ints, bools refused, and Size.numel over more than two
dims and none."""
import pickle

import numpy as np
import pytest

import tinygrad_bn as tg


def test_an_index_given_apart_names_the_same_device_as_one_in_the_string():
    """device("cpu", 0) is "cpu:0" with index 0, equal to device("cpu:0"); index 0 is allowed."""
    d = tg.device("cpu", 0)
    assert d == "cpu:0" and d.index == 0 and d.type == "cpu" and d == tg.device("cpu:0")
    assert tg.device("cuda", 3) == "cuda:3" and tg.device("cuda", 3).index == 3


def test_a_device_passed_in_comes_back_itself_and_survives_pickle():
    d = tg.device("cuda:1")
    assert tg.device(d) is d
    back = pickle.loads(pickle.dumps(d))
    assert isinstance(back, tg.device) and back == "cuda:1" and back.index == 1 and back.type == "cuda"
    cpu = pickle.loads(pickle.dumps(tg.device("cpu")))
    assert isinstance(cpu, tg.device) and cpu.index is None


@pytest.mark.parametrize("index", [True, 1.0, -1, "1"])
def test_an_index_must_be_a_non_negative_int_not_a_bool(index):
    """PyTorch refuses device("cuda", True) too (an int argument, not a bool)."""
    with pytest.raises(ValueError, match="index must be a non-negative int"):
        tg.device("cuda", index)


@pytest.mark.parametrize("name", ["cuda:", "cuda:-1", "cuda:x", "cuda:1.0"])
def test_a_malformed_index_in_the_string_is_refused(name):
    """PyTorch: "Invalid device string" for each of these."""
    with pytest.raises(ValueError, match="expected a name like 'cuda:0'"):
        tg.device(name)


def test_size_takes_numpy_ints_as_python_ints_and_refuses_bools():
    s = tg.Size([np.int64(2), np.int32(3)])
    assert s == (2, 3) and all(type(n) is int for n in s)
    for bad in ([True], [2, False]):
        with pytest.raises(TypeError, match="Size: expected ints, got bool"):
            tg.Size(bad)


def test_size_numel_is_the_product_of_the_sizes():
    """1 for a 0-d shape, 0 with an empty dim, an int (PyTorch's torch.Size.numel values)."""
    assert tg.Size([]).numel() == 1
    assert tg.Size([2, 0, 5]).numel() == 0
    n = tg.Size([2, 3, 4]).numel()
    assert n == 24 and type(n) is int
    assert tg.Size([7]).numel() == 7
    assert tg.zeros(3, 1, 5).shape.numel() == 15
