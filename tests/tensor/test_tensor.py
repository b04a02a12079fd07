"""Tensor construction, dtypes, attributes and errors."""
import numpy as np
import pytest

import tinygrad_bn as tg


def test_dtypes_follow_pytorch():
    assert tg.tensor(1.5).dtype == np.float32
    assert tg.tensor([1, 2]).dtype == np.int64
    assert tg.tensor([True, False]).dtype == np.bool_
    assert tg.tensor([[1.0, 2], [3, 4]]).dtype == np.float32
    assert tg.tensor(np.zeros(3, np.float64)).dtype == np.float64  # arrays keep their dtype
    assert tg.tensor(np.zeros(3, np.int32)).dtype == np.int32
    assert tg.tensor([1, 2], dtype=tg.float64).dtype == np.float64
    assert tg.tensor(2.0, dtype="float64").dtype == np.float64


def test_scalar_arithmetic_keeps_float32():
    x = tg.tensor([1.0, 2.0])
    for y in (x + 1, 2 * x, x / 3, x ** 2, 1 - x, x + 0.5):
        assert y.dtype == np.float32


def test_zero_d_tensors():
    x = tg.tensor(3.0, requires_grad=True)
    assert x.shape == () and x.ndim == 0 and x.numel() == 1
    y = x * x
    y.backward()
    assert x.grad.item() == 6.0
    with pytest.raises(TypeError):
        len(x)


def test_attributes_and_repr():
    x = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert x.shape == (1, 3) and x.size() == (1, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.numel() == 3 and x.device == "cpu" and x.is_leaf
    assert "requires_grad=True" in repr(x)
    y = x * 2
    assert "grad_fn=<Mul #" in repr(y)
    assert "dtype=float64" in repr(tg.zeros(2, dtype=tg.float64))
    assert x.detach().requires_grad is False
    np.testing.assert_array_equal(x.detach().numpy(), [[1, 2, 3]])
    assert tg.tensor([[2.5]]).item() == 2.5
    assert tg.tensor([[1, 2]]).tolist() == [[1, 2]]


def test_item_and_numpy_errors():
    with pytest.raises(RuntimeError, match="one element"):
        tg.tensor([1.0, 2.0]).item()
    with pytest.raises(RuntimeError, match="detach"):
        tg.tensor([1.0], requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1, 2], requires_grad=True)
    with pytest.raises(TypeError, match="cannot build a tensor"):
        tg.tensor("abc")
    with pytest.raises(ValueError, match="cannot build"):
        tg.tensor([[1.0], [2.0, 3.0]])
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tg.tensor([1.0, 2.0]))


def test_factories_and_seed():
    assert tg.zeros(2, 3).shape == (2, 3) and tg.zeros((2, 3)).numpy().sum() == 0
    assert tg.ones(4).numpy().sum() == 4
    assert tg.full((2, 2), 7.0).numpy().tolist() == [[7, 7], [7, 7]]
    assert tg.full((2,), 3).dtype == np.int64
    assert tg.arange(5).tolist() == [0, 1, 2, 3, 4] and tg.arange(5).dtype == np.int64
    assert tg.arange(0, 1, 0.25).dtype == np.float32
    x = tg.randn(3, 4)
    assert tg.zeros_like(x).shape == (3, 4) and tg.ones_like(x).dtype == np.float32
    assert tg.full_like(x, 2.0).numpy().mean() == 2.0
    assert tg.rand_like(x).shape == tg.randn_like(x).shape == (3, 4)
    r = tg.rand(1000).numpy()
    assert 0 <= r.min() and r.max() < 1
    tg.manual_seed(7)
    a = tg.randn(5).numpy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(a, tg.randn(5).numpy())
    assert tg.randn(2, dtype=tg.float64).dtype == np.float64
    for bad in (-1, 1.5, True, "3", None):
        for seed, who in ((tg.manual_seed, "manual_seed"), (tg.Generator().manual_seed, "Generator.manual_seed")):
            with pytest.raises(ValueError, match=f"^{who}: expected a non-negative int, got {bad!r}$"):
                seed(bad)
    tg.manual_seed(np.int64(7))  # any integer type
    np.testing.assert_array_equal(a, tg.randn(5).numpy())


def test_requires_grad_flag():
    x = tg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad_(False)
    with pytest.raises(RuntimeError, match="floating point"):
        tg.tensor([1]).requires_grad_()


def test_reduction_arguments_accept_numpy_names():
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4))
    np.testing.assert_allclose(x.sum(axis=1, keepdims=True).numpy(), x.numpy().sum(1, keepdims=True))
    np.testing.assert_allclose(x.mean(dim=(0, 2)).numpy(), x.numpy().mean((0, 2)))
    values, indices = x.max(dim=2)
    np.testing.assert_array_equal(indices.numpy(), x.numpy().argmax(2))
    np.testing.assert_allclose(x.var(1).numpy(), x.numpy().var(1, ddof=1))
    np.testing.assert_allclose(x.std(1, correction=0).numpy(), x.numpy().std(1))
    with pytest.raises(IndexError, match="out of range"):
        x.sum(dim=3)
    with pytest.raises(TypeError, match="dim or axis"):
        x.sum(dim=1, axis=1)


def test_shape_errors_are_clear():
    x = tg.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"reshape: shape \(4, 2\) is invalid"):
        x.reshape(4, 2)
    with pytest.raises(RuntimeError, match="matmul: shapes"):
        x @ tg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="expand"):
        x.expand(3, 3)
    with pytest.raises(RuntimeError, match="cat: tensor 1"):
        tg.cat([x, tg.zeros(3, 3)], dim=1)
    with pytest.raises(RuntimeError, match="stack: tensor 1"):
        tg.stack([x, tg.zeros(3, 2)])
    with pytest.raises(IndexError, match="shape"):
        x[5]
    with pytest.raises(ValueError, match="permutation"):
        x.permute(0, 0)
    with pytest.raises(TypeError, match="bool"):
        tg.where(tg.tensor([1.0, 0.0]), x, x)


def test_numpy_array_on_the_left_defers_to_tensor():
    x = tg.tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, tg.Tensor) and y.requires_grad


def test_to_dtype_and_device():
    x = tg.tensor([1.5, 2.5], requires_grad=True)
    assert x.to(tg.float32) is x and x.to("cpu") is x
    y = x.to(tg.float64)
    assert y.dtype == np.float64 and y.grad_fn is not None
    assert x.to(tg.int64).tolist() == [1, 2]
    with pytest.raises(ValueError, match="unknown device 'tpu'.*'cpu', 'cuda'"):
        x.to("tpu")
    if not tg.cuda.is_available():
        # what to install or set, in the message
        with pytest.raises(RuntimeError, match="device 'cuda' is not available.*tinygrad-bn\\[cuda\\].*NUMBA_ENABLE_CUDASIM=1"):
            x.to("cuda")
        with pytest.raises(RuntimeError, match="not available"):
            x.cuda()
    with pytest.raises(ValueError, match="only one GPU"):
        x.to("cuda:1")


def test_data_is_an_unrecorded_tensor_sharing_storage():
    w = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    d = w.data
    assert isinstance(d, tg.Tensor) and not d.requires_grad and d.grad_fn is None
    d[0, 0] = 10.0  # a leaf that requires grad refuses this; its .data does not
    d.mul_(2)
    assert w.tolist() == [[20.0, 4.0], [6.0, 8.0]]
    assert w.requires_grad and w.is_leaf and w._version == 0  # as PyTorch: autograd does not see it
    y = (w * w).sum()
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * w.detach().numpy())


def test_data_of_a_non_leaf_is_cut_from_the_tape():
    x = tg.tensor([1.0, -2.0], requires_grad=True)
    y = x * 3
    assert y.data.grad_fn is None and not y.data.requires_grad
    assert y.data.tolist() == [3.0, -6.0]


def test_assigning_data_swaps_the_array_and_may_change_shape_and_dtype():
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    src = tg.ones(2, 3)
    w.data = src
    assert w.shape == (2, 3) and w.dtype == np.float32 and w.requires_grad and w.is_leaf
    src.fill_(5.0)  # shared, as in PyTorch
    assert w.tolist() == [[5.0] * 3] * 2
    (w * 2).sum().backward()
    assert w.grad.shape == (2, 3)
    w.data = tg.zeros(2, 3, dtype=tg.float64)
    assert w.dtype == np.float64


@pytest.mark.parametrize("value, error, words", [
    (np.ones(3, np.float32), TypeError, "must be a Tensor, got ndarray"),
    ([1.0, 2.0, 3.0], TypeError, "must be a Tensor, got list"),
    (tg.tensor([1, 2, 3]), RuntimeError, "must be floating point, got dtype int64"),
])
def test_assigning_bad_data_is_refused_and_leaves_the_tensor_as_it_was(value, error, words):
    w = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(error, match=words):
        w.data = value
    assert w.tolist() == [1.0, 2.0, 3.0] and w.dtype == np.float32


def test_data_in_place_arithmetic_is_the_classic_sgd_step():
    p = tg.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    p.data -= 0.5 * p.grad.data  # Python calls __isub__ on p.data, then assigns it back
    assert p.tolist() == [0.0, 0.0] and p.requires_grad and p.is_leaf
