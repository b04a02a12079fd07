"""tensor_base: the class ops make, and the internal API the layers above the
ops use instead of a tensor's fields."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.backends import get_backend
from tinygrad_bn.tensor import Tensor
from tinygrad_bn.tensor_base import (TensorBase, array_of, backend_of, bump_version, make_tensor, new_tensor,
                                     replace_storage, write_in_place)


def test_ops_make_the_class_that_named_itself_in_its_class_statement():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    assert type(x * 2) is Tensor and type(make_tensor(np.ones(2), get_backend("cpu"))) is Tensor
    assert type(new_tensor([1, 2])) is Tensor and new_tensor([1, 2]).dtype == np.int64
    assert type(nn.Parameter(tg.ones(2)) + 1) is Tensor  # a Parameter's results are plain tensors
    with pytest.raises(TypeError, match="already the class ops make"):
        class Another(TensorBase, made_by_ops=True):
            pass


def test_array_of_and_backend_of_share_and_write_in_place_counts_a_version():
    t = tg.tensor([1.0, 2.0])
    assert array_of(t) is t._data and backend_of(t) is get_backend("cpu")
    v = t._version
    assert write_in_place(t, "axpy", 2.0, np.array([1.0, 1.0])) is t
    assert t.tolist() == [3.0, 4.0] and t._version == v + 1


def test_replace_storage_and_bump_version_make_saved_values_stale():
    w = tg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    replace_storage(w, np.array([5.0, 6.0]))
    assert w.tolist() == [5.0, 6.0]
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()
    w2 = tg.tensor([1.0, 2.0], requires_grad=True)
    y2 = (w2 * w2).sum()
    bump_version(w2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y2.backward()


def test_module_to_makes_values_saved_before_it_stale():
    lin = nn.Linear(3, 2)
    out = lin(tg.randn(4, 3)).sum()
    lin.to(tg.float64)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.backward()
