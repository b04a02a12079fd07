"""Sequential, ModuleList and ParameterList take the indices a Python list takes: for n
items, -n ... n-1 (a negative one counting from the end, in reading and in assignment),
and refuse -n-1 and n with an IndexError, as PyTorch's."""
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def _sequential():
    return nn.Sequential(nn.Identity(), nn.ReLU(), nn.Tanh())


def _module_list():
    return nn.ModuleList([nn.Identity(), nn.ReLU(), nn.Tanh()])


def _parameter_list():
    return nn.ParameterList([nn.Parameter(tg.full((1,), float(i))) for i in range(3)])


CONTAINERS = {"Sequential": _sequential, "ModuleList": _module_list, "ParameterList": _parameter_list}


@pytest.mark.parametrize("make", CONTAINERS.values(), ids=CONTAINERS.keys())
def test_indices_from_minus_n_to_n_minus_1_and_no_further(make):
    c = make()
    items = list(c)
    n = len(items)
    for i in range(-n, n):
        assert c[i] is items[i]
    for i in (-n - 1, n):
        with pytest.raises(IndexError, match=f"index {i} is out of range"):
            c[i]


@pytest.mark.parametrize("make", [_module_list, _parameter_list], ids=["ModuleList", "ParameterList"])
def test_assignment_takes_the_same_indices(make):
    c = make()
    new = nn.Sigmoid() if isinstance(c, nn.ModuleList) else nn.Parameter(tg.full((1,), 9.0))
    c[-3] = new
    assert c[0] is new and len(c) == 3
    for i in (-4, 3):
        with pytest.raises(IndexError, match=f"index {i} is out of range"):
            c[i] = new
    assert len(c) == 3
