"""x += y and friends change x in place, as in PyTorch: the hand-written SGD
update `p -= lr * p.grad` inside no_grad() trains."""
import numpy as np
import pytest

import tinygrad_bn as tg


def test_hand_written_sgd_update_changes_the_parameter_in_place():
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (w * tg.tensor([1.0, 1.0, 2.0])).sum().backward()
    same = w
    with tg.no_grad():
        w -= 0.5 * w.grad
    assert w is same and w.requires_grad and w.is_leaf
    np.testing.assert_allclose(w.detach().numpy(), [0.5, 1.5, 2.0])


@pytest.mark.parametrize("op, expected", [("+=", [3.0, 5.0]), ("-=", [-1.0, -1.0]),
                                          ("*=", [2.0, 6.0]), ("/=", [0.5, 2 / 3])])
def test_each_operator_writes_in_place_and_bumps_the_version(op, expected):
    x = tg.tensor([1.0, 2.0])
    y = tg.tensor([2.0, 3.0])
    alias, array, version = x, x._data, x._version_cell[0]
    exec(f"x {op} y", {}, {"x": x, "y": y})
    assert alias._data is array and x._version_cell[0] == version + 1
    np.testing.assert_allclose(alias.numpy(), expected)


def test_a_saved_value_changed_in_place_is_caught_in_backward():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    c = b * b  # saves b
    b += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        c.sum().backward()


def test_in_place_on_a_non_leaf_is_differentiated_like_the_out_of_place_op():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 2.0
    b *= a  # b = 2 a^2
    (b * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 24.0])  # d/da 2a^2 = 4a, weighted


def test_leaf_that_requires_grad_refuses_outside_no_grad():
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w += 1.0
    np.testing.assert_array_equal(w.detach().numpy(), [1.0])


def test_shape_and_dtype_are_kept_or_the_error_says_why():
    x = tg.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"operand of shape \(2, 2\) does not broadcast to the tensor's shape \(2,\)"):
        x += tg.ones(2, 2)
    with pytest.raises(RuntimeError, match="does not broadcast"):
        x *= [1.0, 2.0, 3.0]
    n = tg.tensor([1, 2])
    for bad in ("n += 0.5", "n *= tg.tensor([1.5, 1.0])", "n /= 2", "n.add_(1, alpha=0.5)"):
        with pytest.raises(RuntimeError, match="floating point and cannot be stored in place"):
            exec(bad, {"tg": tg}, {"n": n})
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(n.numpy(), [1, 2])
    n += 3  # integer into integer is fine
    x += tg.tensor(1.0)  # a scalar tensor broadcasts
    np.testing.assert_array_equal(n.numpy(), [4, 5])
    np.testing.assert_allclose(x.numpy(), [2.0, 3.0])


def test_a_tensor_updated_by_itself_in_place():
    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1.0
    b *= b  # b = a^2
    b += b  # b = 2 a^2
    (b * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [4.0, 24.0])


def test_relu_and_leaky_relu_inplace_overwrite_their_input():
    x = tg.tensor([-2.0, 1.0])
    out = tg.nn.ReLU(inplace=True)(x)
    assert out is x
    np.testing.assert_array_equal(x.numpy(), [0.0, 1.0])
    y = tg.tensor([-2.0, 1.0])
    tg.nn.functional.leaky_relu(y, 0.1, inplace=True)
    np.testing.assert_allclose(y.numpy(), [-0.2, 1.0])
    a = tg.tensor([-1.0, 2.0], requires_grad=True)
    b = a * 1.0
    tg.nn.LeakyReLU(0.1, inplace=True)(b)
    (b * tg.tensor([1.0, 3.0])).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.1, 3.0])
    with pytest.raises(RuntimeError, match="relu_: a leaf tensor that requires grad"):
        tg.nn.functional.relu(a, inplace=True)


def test_item_assignment_writes_in_place_and_bumps_the_version():
    x = tg.tensor([[1.0, -2.0], [3.0, -4.0]])
    version = x._version_cell[0]
    x[x < 0] = 0
    x[0] = tg.tensor([7.0, 8.0])
    x[:, 1] += 1  # getitem, add, setitem: as in PyTorch
    np.testing.assert_array_equal(x.numpy(), [[7.0, 9.0], [3.0, 1.0]])
    assert x._version_cell[0] == version + 4  # the += on the view, then the assignment


def test_item_assignment_on_the_tape_differentiates_both_sides():
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    value = tg.tensor([10.0], requires_grad=True)
    b = a * 2.0
    b[1:] = value * 1.0  # value broadcast over two places
    (b * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 0.0, 0.0])  # overwritten places pass nothing
    np.testing.assert_array_equal(value.grad.numpy(), [5.0])  # summed over the places it filled


def test_item_assignment_errors_change_nothing():
    x = tg.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(RuntimeError, match=r"a value of shape \(3,\) does not broadcast to the \(2,\) places"):
        x[0] = tg.ones(3)
    with pytest.raises(IndexError, match="assigning into a tensor of shape \\(2, 2\\)"):
        x[5] = 1.0
    n = tg.tensor([1, 2], dtype=tg.int32)
    with pytest.raises(RuntimeError, match="4294967296 does not fit in int32, which holds from -2147483648"):
        n[0] = 2 ** 32  # (a float is stored truncated, as in PyTorch: test_pytorch_fills.py)
    with pytest.raises(RuntimeError, match="nan does not fit in int32"):
        n[0] = float("nan")
    w = tg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 2.0
    np.testing.assert_array_equal(x.numpy(), [[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(n.numpy(), [1, 2])


def test_clamp_uniform_and_normal_in_place():
    x = tg.tensor([-3.0, 0.5, 4.0])
    assert x.clamp_(-1.0, 1.0) is x
    np.testing.assert_array_equal(x.numpy(), [-1.0, 0.5, 1.0])
    tg.manual_seed(0)
    u = tg.zeros(1000).uniform_(2.0, 3.0)
    assert 2.0 <= u.numpy().min() and u.numpy().max() < 3.0
    n = tg.zeros(4000).normal_(5.0, 2.0)
    assert abs(n.numpy().mean() - 5.0) < 0.2 and abs(n.numpy().std() - 2.0) < 0.2
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.zeros(1000).uniform_(2.0, 3.0).numpy(), u.numpy())  # seeded
    a = tg.tensor([-2.0, 0.5, 2.0], requires_grad=True)
    b = a * 1.0
    b.clamp_(-1.0, 1.0)
    (b * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 2.0, 0.0])
    c = a * 1.0
    c.normal_()
    (c * 1.0).sum().backward()  # the filled values do not depend on a
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 2.0, 0.0])
    with pytest.raises(RuntimeError, match="normal_: a leaf tensor that requires grad"):
        a.normal_()
    with pytest.raises(RuntimeError, match="random values are floating point"):
        tg.tensor([1, 2]).uniform_()


@pytest.mark.parametrize("alpha", [0.5, 1, 2.0, -3.0, 0])
@pytest.mark.parametrize("name", ["add_", "sub_"])
def test_add_and_sub_in_place_scale_other_by_alpha_in_value_and_gradient(name, alpha):
    """x.add_(y, alpha=a) is x + a * y (sub_: x - a * y), on the tape as out of
    place: a's factor reaches y's gradient for every a, not only a > 1."""
    sign = 1.0 if name == "add_" else -1.0
    x0 = tg.tensor([1.0, 2.0, -1.0], requires_grad=True)
    y = tg.tensor([3.0, -4.0, 0.5], requires_grad=True)
    x = x0 * 1.0  # a non-leaf, so it may be written in place
    getattr(x, name)(y, alpha=alpha)
    np.testing.assert_allclose(x.detach().numpy(), np.array([1.0, 2.0, -1.0]) + sign * alpha * np.array([3.0, -4.0, 0.5]))
    (x * tg.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), sign * alpha * np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(x0.grad.numpy(), [1.0, 2.0, 3.0])


def test_an_assigned_value_may_have_extra_leading_ones_as_in_pytorch():
    """t[0] = tensor([1.5]) and t[0] = tensor([[[1, 2, 3]]]): the leading 1-dims go, and
    the gradient comes back in the value's own shape."""
    t = tg.zeros(3)
    t[0] = tg.tensor([1.5])
    np.testing.assert_array_equal(t.numpy(), [1.5, 0.0, 0.0])
    m = tg.zeros(2, 3, dtype=tg.int64)
    m[1] = tg.tensor([[[1.5, 2.0, 3.0]]])
    np.testing.assert_array_equal(m.numpy(), [[0, 0, 0], [1, 2, 3]])
    value = tg.tensor([[5.0]], requires_grad=True)
    b = tg.tensor([1.0, 2.0], requires_grad=True) * 1.0
    b[0] = value * 1.0
    (b * tg.tensor([3.0, 4.0])).sum().backward()
    assert value.grad.shape == (1, 1) and value.grad.item() == 3.0


def test_a_fill_overwrites_so_the_leaf_upstream_gets_a_gradient_of_zeros_as_in_pytorch():
    """y = x * 1; y.fill_(2.0): the old values get a zero gradient (not None), with a number
    or a tensor that needs no grad as the value; a value that needs grad gets the sum."""
    for value in (2.0, tg.tensor(2.0), tg.tensor(2.0, requires_grad=True)):
        x = tg.tensor([1.0, 2.0], requires_grad=True)
        y = x * 1.0
        y.fill_(value)
        (y * tg.tensor([3.0, 4.0])).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
        if isinstance(value, tg.Tensor) and value.requires_grad:
            assert value.grad.item() == 7.0


def test_numpy_scalars_and_0_d_arrays_are_assigned_as_numbers():
    """np.float32(2.5) takes the number rules (cast, overflow refused), and a 0-d array is
    taken as an array of one value. (PyTorch refuses both into an integer tensor; ours casts
    them as it casts a Python number or a list.)"""
    t = tg.zeros(3, dtype=tg.int32)
    t[0], t[1], t[2] = np.float32(2.5), np.array(7.5), np.True_
    np.testing.assert_array_equal(t.numpy(), [2, 7, 1])
    with pytest.raises(RuntimeError, match="does not fit in int32"):
        t[0] = np.int64(2 ** 40)
    np.testing.assert_array_equal(t.numpy(), [2, 7, 1])
    # NumPy's bool is no Python number, yet fills and full take it as 1, and full's dtype from it
    # is PyTorch's: the default float for it (a Python bool's is bool), int64 for an integer
    np.testing.assert_array_equal(tg.zeros(2).fill_(np.True_).numpy(), [1.0, 1.0])
    assert tg.full((2,), np.True_).dtype == tg.float32 and tg.full((2,), True).dtype == tg.bool
    assert tg.full((2,), np.int64(3)).dtype == tg.int64 and tg.full((2,), tg.tensor(True)).dtype == tg.bool
    torch = pytest.importorskip("torch")
    for value in (np.True_, True, np.int64(3), np.float32(2.5)):
        assert str(tg.full((2,), value).dtype) == str(torch.full((2,), value).dtype).replace("torch.", ""), value
