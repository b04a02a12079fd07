"""reshape, flatten, squeeze, unsqueeze, expand, permute, transpose, cat and stack
at the ends of their arguments: the first and last dim, negative dims, -1 sizes,
size-1 and new leading dims, dtypes that join, and gradients that go back to the
right piece. The expected values are PyTorch 2's, written here as literals."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck


def f64(a):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def weighted(shape, seed=0):
    return tg.tensor(np.random.default_rng(seed).standard_normal(shape))


def test_reshape_takes_one_minus_1_and_refuses_what_cannot_be_worked_out():
    x = tg.arange(6)
    assert x.reshape(-1, 3).shape == (2, 3)
    assert x.reshape(3, -1).shape == (3, 2)
    assert tg.zeros(0, 2).reshape(-1, 2).shape == (0, 2)
    for shape in [(-1, -1), (4, -1), (0, -1), (-2, -3), (-3, -2), (-2, -1), (3, -2), (7,), (2, 2)]:
        with pytest.raises(RuntimeError, match=r"reshape: shape .* is invalid for a tensor of shape \(6,\) \(6 elements\)"):
            x.reshape(*shape)


def test_flatten_between_any_two_dims():
    x = tg.zeros(2, 3, 4, 5)
    assert x.flatten().shape == (120,)
    assert x.flatten(1).shape == (2, 60)
    assert x.flatten(1, 2).shape == (2, 12, 5)
    assert x.flatten(-3, -2).shape == (2, 12, 5)
    assert x.flatten(2, 2).shape == (2, 3, 4, 5)  # one dim: nothing changes
    assert x.flatten(0, -1).shape == (120,)
    assert x.flatten(-1, -1).shape == (2, 3, 4, 5)
    with pytest.raises(ValueError, match="flatten: start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match="flatten: start_dim -1 comes after end_dim -2"):
        x.flatten(-1, -2)


def test_squeeze_and_unsqueeze_at_every_end():
    x = tg.zeros(1, 2, 1, 3, 1)
    assert x.squeeze().shape == (2, 3)
    assert x.squeeze(0).shape == (2, 1, 3, 1)
    assert x.squeeze(-1).shape == (1, 2, 1, 3)
    assert x.squeeze(1).shape == (1, 2, 1, 3, 1)  # size 2: stays
    assert x.squeeze((0, -1)).shape == (2, 1, 3)
    assert x.squeeze((1, 2)).shape == (1, 2, 3, 1)
    y = tg.zeros(2, 3)
    assert y.unsqueeze(0).shape == (1, 2, 3)
    assert y.unsqueeze(2).shape == (2, 3, 1)  # dim == ndim: a new last dim
    assert y.unsqueeze(-1).shape == (2, 3, 1)
    assert y.unsqueeze(-3).shape == (1, 2, 3)
    assert y.unsqueeze(-2).shape == (2, 1, 3)
    assert tg.tensor(1.0).unsqueeze(-1).shape == (1,)
    for d in (3, -4):
        with pytest.raises(IndexError, match=f"unsqueeze: dim {d} is out of range"):
            y.unsqueeze(d)


def test_expand_adds_leading_dims_and_keeps_sizes_given_as_minus_1():
    x = tg.tensor([[1], [2]])  # (2, 1)
    assert x.expand(2, 3).tolist() == [[1, 1, 1], [2, 2, 2]]
    assert x.expand(-1, 3).tolist() == [[1, 1, 1], [2, 2, 2]]
    assert x.expand(2, 2, -1).shape == (2, 2, 1)
    assert x.expand((3, 2, 4)).shape == (3, 2, 4)
    assert x.expand(2, 0).shape == (2, 0)
    with pytest.raises(RuntimeError, match=r"expand: size 3 at dim 1 does not match the existing size 2"):
        x.expand(1, 3, 3)
    with pytest.raises(RuntimeError, match=r"expand: the number of sizes \(1\) must be at least the number of dims \(2\)"):
        x.expand(3)
    g = f64([[1.0], [2.0]])
    assert gradcheck(lambda t: t.expand(3, 2, 4) * weighted((3, 2, 4)), (g,))


def test_permute_and_transpose_with_negative_dims_and_their_gradients():
    x = tg.arange(24).reshape(2, 3, 4)
    assert x.permute(1, 2, 0).shape == (3, 4, 2)
    assert x.permute(-1, 0, -2).shape == (4, 2, 3)
    assert x.permute(2, 0, 1)[3, 1, 2].item() == 23
    assert x.transpose(0, -1).shape == (4, 3, 2)
    assert x.transpose(-1, -2).shape == (2, 4, 3)
    assert x.transpose(1, 1).shape == (2, 3, 4)
    assert tg.arange(6).reshape(2, 3).transpose(0, 1).tolist() == [[0, 3], [1, 4], [2, 5]]
    assert tg.arange(3).transpose(0, -1).tolist() == [0, 1, 2]  # 1-d: nothing to exchange
    for bad in [(0, 1), (0, 1, 1), (0, 1, 2, 3), (0, 0, -3)]:
        with pytest.raises(ValueError, match="permute: "):
            x.permute(*bad)
    a = f64(np.arange(24.0).reshape(2, 3, 4))
    # a 3-cycle, whose inverse is not itself: the gradient must be permuted back by the inverse
    assert gradcheck(lambda t: t.permute(1, 2, 0) * weighted((3, 4, 2)), (a,))
    assert gradcheck(lambda t: t.permute(2, 0, 1) * weighted((4, 2, 3)), (a,))
    assert gradcheck(lambda t: t.transpose(0, -1) * weighted((4, 3, 2)), (a,))


def test_views_write_through_to_the_tensor_they_come_from():
    for view in [lambda t: t.reshape(6), lambda t: t.permute(1, 0), lambda t: t.unsqueeze(0),
                 lambda t: t.transpose(0, 1), lambda t: t[1], lambda t: t.flatten(), lambda t: t.narrow(1, 1, 2)]:
        x = tg.zeros(2, 3)
        v = view(x)
        v[(-1,) * v.ndim] = 5.0
        assert x.sum().item() == 5.0 and x._version == v._version


def test_cat_joins_in_pytorchs_dtype_and_sends_each_piece_its_gradient():
    i32, f32 = tg.tensor([1, 2], dtype=tg.int32), tg.tensor([0.5], dtype=tg.float32)
    assert tg.cat([i32, f32]).dtype == tg.float32
    assert tg.cat([tg.tensor([True]), tg.tensor([3])]).dtype == tg.int64
    assert tg.cat([tg.tensor([True]), tg.tensor([False])]).dtype == tg.bool
    assert tg.stack([i32, tg.tensor([1.0, 2.0], dtype=tg.float64)]).dtype == tg.float64
    assert tg.cat([tg.zeros(2, 1), tg.ones(2, 3)], -1).tolist() == [[0, 1, 1, 1], [0, 1, 1, 1]]
    assert tg.cat([tg.zeros(0, 3), tg.ones(2, 3)]).shape == (2, 3)
    a, b, c = f64(np.ones((2, 1))), f64(np.ones((2, 3))), f64(np.ones((2, 2)))
    out = tg.cat([a, b, c], 1) * tg.tensor(np.arange(12.0).reshape(2, 6))
    out.sum().backward()
    assert a.grad.tolist() == [[0.0], [6.0]]
    assert b.grad.tolist() == [[1.0, 2.0, 3.0], [7.0, 8.0, 9.0]]
    assert c.grad.tolist() == [[4.0, 5.0], [10.0, 11.0]]
    with pytest.raises(RuntimeError, match=r"cat: tensor 2 has shape \(3, 1\), which does not match \(2, 1\) outside dim 1"):
        tg.cat([tg.zeros(2, 1), tg.zeros(2, 2), tg.zeros(3, 1)], 1)
    with pytest.raises(RuntimeError, match="cat: tensor 1 is 0-d and cannot be concatenated"):
        tg.cat([tg.zeros(1), tg.tensor(1.0)])


def test_stack_makes_a_new_dim_at_either_end_and_sends_each_piece_its_gradient():
    a, b, c = f64([1.0, 2.0]), f64([3.0, 4.0]), f64([5.0, 6.0])
    assert tg.stack([a, b, c]).shape == (3, 2)
    assert tg.stack([a, b, c], 1).shape == (2, 3)
    assert tg.stack([a, b, c], -1).tolist() == [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]
    assert tg.stack([a, b, c], -2).shape == (3, 2)
    assert tg.stack([tg.tensor(1), tg.tensor(2)]).tolist() == [1, 2]
    with pytest.raises(IndexError, match="stack: dim 2 is out of range"):
        tg.stack([a, b], 2)
    with pytest.raises(RuntimeError, match=r"stack: tensor 1 has shape \(3,\), expected \(2,\) like tensor 0"):
        tg.stack([a, tg.zeros(3)])
    (tg.stack([a, b, c], -1) * tg.tensor(np.arange(6.0).reshape(2, 3))).sum().backward()
    assert a.grad.tolist() == [0.0, 3.0] and b.grad.tolist() == [1.0, 4.0] and c.grad.tolist() == [2.0, 5.0]


def test_assigning_a_value_with_extra_leading_1s_and_refusing_one_that_does_not_broadcast():
    x = tg.zeros(2, 3)
    x[0] = tg.tensor([[[1.0, 2.0, 3.0]]])  # (1, 1, 3) into (3,): the leading 1s drop, as PyTorch
    assert x.tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]
    x[1] = tg.tensor([[4.0, 5.0, 6.0]])  # (1, 3) into (3,)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    x[1, 2] = tg.tensor([[0.0]])  # (1, 1) into one element
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]]
    x[:, 1:] = tg.tensor([[7.0], [8.0]])
    assert x.tolist() == [[1.0, 7.0, 7.0], [4.0, 8.0, 8.0]]
    for bad in [tg.zeros(2, 3), tg.zeros(2), tg.zeros(2, 1, 3)]:
        with pytest.raises(RuntimeError, match=r"assigning into a tensor of shape \(2, 3\): a value of shape .* does not "
                                               r"broadcast to the \(3,\) places selected"):
            x[0] = bad
