"""autograd.functional's argument checks and edge shapes, as PyTorch's: v must pair
one tensor of the right shape with each output (or input, for vhp/hvp), may be
left out only where that is a single element (then it is one), the function given
to vhp/hvp must return one one-element tensor, jacobian has reverse mode only, and
an output with no elements has an empty Jacobian of the right shape."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.autograd import functional as AF


def x64(*values):
    return tg.tensor(list(values), dtype=tg.float64)


def test_v_must_hold_one_tensor_per_output_each_of_its_shape():
    x = x64(1.0, 2.0)
    with pytest.raises(RuntimeError, match=r"vjp: v has 2 tensors but the outputs has 1; expected one per tensor"):
        AF.vjp(lambda a: a * 2, x, (tg.ones(2), tg.ones(2)))
    with pytest.raises(RuntimeError, match=r"vjp: v\[0\] has shape \(3,\) but the outputs \[0\] "
                                           r"has shape \(2,\)"):
        AF.vjp(lambda a: a * 2, x, tg.ones(3))
    with pytest.raises(RuntimeError, match=r"vhp: v\[1\] has shape \(1,\) but the inputs \[1\] has shape \(2,\)"):
        AF.vhp(lambda a, b: (a * b).sum(), (x, x), (tg.ones(2, dtype=tg.float64), tg.ones(1, dtype=tg.float64)))


def test_v_may_be_left_out_only_for_single_elements_and_is_then_one():
    x = x64(1.0, 2.0)
    with pytest.raises(RuntimeError, match=r"vjp: output 0 has shape \(2,\); v can be omitted only when every "
                                           "output has one element"):
        AF.vjp(lambda a: a * 2, x)
    with pytest.raises(RuntimeError, match=r"vjp: output 0 has shape \(0,\); v can be omitted"):
        AF.vjp(lambda a: a[:0], x)  # no element is not one element
    out, (g,) = AF.vjp(lambda a: (a ** 2).sum(), (x,))  # a one-element output: v is 1
    assert out.item() == 5.0
    np.testing.assert_array_equal(g.numpy(), [2.0, 4.0])
    # vhp without v: the input must have one element, and v is 1 there
    with pytest.raises(RuntimeError, match=r"vhp: output 0 has shape \(2,\); v can be omitted"):
        AF.vhp(lambda a: (a ** 3).sum(), x)
    value, h = AF.vhp(lambda a: (a ** 3).sum(), x64(2.0))
    assert value.item() == 8.0 and h.shape == (1,) and h.item() == 12.0  # 6 a * 1


def test_the_function_given_to_vhp_and_hvp_returns_one_one_element_tensor():
    x = x64(1.0, 2.0)
    v = tg.ones(2, dtype=tg.float64)
    for fn in (AF.vhp, AF.hvp):
        with pytest.raises(RuntimeError, match=r"vhp: the function must return a single Tensor, got tuple"):
            fn(lambda a: (a.sum(), a.sum()), x, v)
        with pytest.raises(RuntimeError, match=r"vhp: the function must return a Tensor with one element, "
                                               r"got shape \(2,\)"):
            fn(lambda a: a * 2, x, v)
        with pytest.raises(RuntimeError, match=r"vhp: the function must return a Tensor with one element, "
                                               r"got shape \(0,\)"):
            fn(lambda a: a[:0], x, v)


def test_jacobian_has_reverse_mode_only():
    with pytest.raises(ValueError, match="jacobian: strategy must be 'reverse-mode'.*got 'forward-mode'"):
        AF.jacobian(lambda a: a * 2, x64(1.0, 2.0), strategy="forward-mode")


def test_the_jacobian_of_an_output_without_elements_is_empty_with_the_right_shape():
    x = x64(1.0, 2.0, 3.0)
    j = AF.jacobian(lambda a: a[:0] * 2, x)  # (0,) output: shape (0, 3)
    assert j.shape == (0, 3) and j.dtype == tg.float64
    j_pair = AF.jacobian(lambda a: (a[:0].reshape(0, 1), a * 3), x)
    assert j_pair[0].shape == (0, 1, 3)
    np.testing.assert_array_equal(j_pair[1].numpy(), 3 * np.eye(3))


def test_autograd_backward_takes_one_gradient_per_tensor_by_either_name():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    tg.autograd.backward([x * 2, x * x], [tg.ones(2), tg.tensor([1.0, 10.0])])
    np.testing.assert_array_equal(x.grad.numpy(), [2 + 2, 2 + 40])  # 2 + 2x * g
    x.grad = None
    with pytest.warns(FutureWarning, match="grad_variables is deprecated; use grad_tensors"):
        tg.autograd.backward(x * 3, grad_variables=tg.tensor([1.0, -1.0]))  # PyTorch's old name, positionally too
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="both grad_tensors and grad_variables"):
        tg.autograd.backward(x * 3, tg.ones(2), None, False, tg.ones(2))
    with pytest.raises(RuntimeError, match=r"backward: got 1 grad_tensors for 2 tensors; expected one per tensor"):
        tg.autograd.backward([x * 2, x * 3], [tg.ones(2)])
    with pytest.raises(TypeError, match=r"backward: tensors\[1\] must be a Tensor, got float"):
        tg.autograd.backward([x.sum(), 2.0])
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])  # the refusals added nothing
