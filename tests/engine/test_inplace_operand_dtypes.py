"""Which operands an in-place op takes into a bool, integer or float tensor, by the
operand's kind (bool, signed or unsigned int, float) and form (a Python number, a
tensor, a list, a NumPy array): the result keeps the tensor's dtype, so an integer
result cannot go into a bool tensor and a float one cannot go into an integer tensor.
The accepted results and the refusals with tensor and number operands are PyTorch's
(it raises "result type Long can't be cast to the desired output type Bool" where
ours names the rule); lists and arrays follow the same rule."""
import numpy as np
import pytest

import tinygrad_bn as tg

BOOLS = [True, False]
ACCEPTED = [
    # (tensor, op, operand, result)
    (BOOLS, "add_", True, [True, True]),
    (BOOLS, "mul_", tg.tensor([True, False]), [True, False]),
    (BOOLS, "mul_", [False, True], [False, False]),
    ([1, 2], "add_", True, [2, 3]),
    ([1, 2], "mul_", tg.tensor([True, False]), [1, 0]),
    ([1, 2], "add_", tg.tensor([1, 1], dtype=tg.uint8), [2, 3]),
    ([1, 2], "mul_", np.array([3, 1], dtype=np.int32), [3, 2]),
    ([1, 2], "sub_", [1, 1], [0, 1]),
    ([1.0, 2.0], "add_", 1, [2.0, 3.0]),
    ([1.0, 2.0], "add_", True, [2.0, 3.0]),
    ([1.0, 2.0], "mul_", tg.tensor([2, 3]), [2.0, 6.0]),
    ([1.0, 2.0], "div_", tg.tensor([True, True]), [1.0, 2.0]),
    ([1.0, 2.0], "add_", np.float32(2), [3.0, 4.0]),
]
REFUSED = [
    # (tensor, op, operand, message)
    (BOOLS, "add_", 1, "an integer and cannot be stored in place in a bool tensor"),
    (BOOLS, "add_", tg.tensor([1, 0]), "an integer and cannot be stored in place in a bool tensor"),
    (BOOLS, "add_", tg.tensor([1, 0], dtype=tg.uint8), "an integer and cannot be stored in place in a bool tensor"),
    (BOOLS, "mul_", [2, 1], "an integer and cannot be stored in place in a bool tensor"),
    (BOOLS, "mul_", np.array([2, 1], dtype=np.uint8), "an integer and cannot be stored in place in a bool tensor"),
    (BOOLS, "add_", 0.5, "floating point and cannot be stored in place"),
    (BOOLS, "div_", True, "floating point and cannot be stored in place"),
    ([1, 2], "mul_", np.array([1.0, 2.0]), "floating point and cannot be stored in place"),
    ([1, 2], "mul_", [1.0, 2.0], "floating point and cannot be stored in place"),
    ([1, 2], "div_", 1, "floating point and cannot be stored in place"),
]


@pytest.mark.parametrize("data, op, operand, result", ACCEPTED)
def test_an_operand_whose_result_fits_the_tensors_dtype_is_taken(data, op, operand, result):
    t = tg.tensor(data)
    dtype, version = t.dtype, t._version
    assert getattr(t, op)(operand) is t
    assert t.dtype == dtype and t.tolist() == result and t._version == version + 1


@pytest.mark.parametrize("data, op, operand, message", REFUSED)
def test_an_operand_whose_result_does_not_fit_is_refused_and_changes_nothing(data, op, operand, message):
    t = tg.tensor(data)
    version = t._version
    with pytest.raises(RuntimeError, match=f"{op}: the result is {message}"):
        getattr(t, op)(operand)
    assert t.tolist() == data and t._version == version


@pytest.mark.parametrize("operand", [1 + 2j, "a", ["a"], [None], {1: 2}, [[1.0], [1.0, 2.0]]])
def test_an_operand_that_is_no_number_is_a_type_error(operand):
    t = tg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="add_: the operand must be a tensor, a number or a list or array of numbers"):
        t.add_(operand)
    assert t.tolist() == [1.0, 2.0]
