"""API that ported PyTorch code reaches for: free functions, dtype short names,
ModuleList / ModuleDict, gradient clipping, view_as."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


def test_free_functions_are_the_methods():
    x = tg.tensor([[1.0, -4.0], [3.0, 2.0]])
    assert tg.mean(x).item() == x.mean().item() == 0.5
    np.testing.assert_array_equal(tg.sum(x, 1).numpy(), [-3.0, 5.0])
    values, index = tg.max(x, dim=1)
    np.testing.assert_array_equal(values.numpy(), [1.0, 3.0])
    assert tg.argmax(x).item() == 2
    np.testing.assert_allclose(tg.softmax(x, dim=1).numpy().sum(1), [1.0, 1.0], rtol=1e-6)
    np.testing.assert_allclose(tg.sigmoid(tg.tensor([0.0])).numpy(), [0.5])
    np.testing.assert_allclose(tg.sqrt(tg.exp(tg.tensor([2.0]))).numpy(), [math.e], rtol=1e-6)
    np.testing.assert_array_equal(tg.matmul(x, tg.tensor([[1.0], [1.0]])).numpy(), [[-3.0], [5.0]])
    # one Tensor operand is enough (an array on either side is taken as a constant); none is refused
    np.testing.assert_array_equal(tg.matmul(np.ones((1, 2)), x).numpy(), np.ones((1, 2)) @ x.numpy())
    np.testing.assert_array_equal(tg.matmul(x, np.ones(2)).numpy(), [-3.0, 5.0])
    with pytest.raises(TypeError, match="matmul: expected a Tensor, got list and list"):
        tg.matmul([1.0], [1.0])
    assert tg.from_numpy(np.zeros(2)).dtype == tg.double
    assert tg.float is tg.float32 and tg.bool is tg.bool_ and tg.long is tg.int64 and tg.int is tg.int32
    assert tg.ones(2, dtype=tg.float).dtype == np.float32
    with pytest.raises(TypeError, match="mean: expected a Tensor as the first argument, got list"):
        tg.mean([1.0, 2.0])


def test_lists_tuples_and_arrays_beside_a_tensor_are_constants_and_other_operands_are_refused():
    """x + [1, 2, 3] is x + tensor([1, 2, 3]) (PyTorch refuses a list; README), the
    tensor side keeps its gradient; an operand that is no number is a TypeError."""
    for other in ([1.0, -2.0, 4.0], (1.0, -2.0, 4.0), np.array([1.0, -2.0, 4.0])):
        x = tg.tensor([3.0, 5.0, 7.0], requires_grad=True)
        for y, want in [(x + other, [4.0, 3.0, 11.0]), (other * x, [3.0, -10.0, 28.0]),
                        (tg.maximum(x, other), [3.0, 5.0, 7.0]), (x - other, [2.0, 7.0, 3.0])]:
            np.testing.assert_array_equal(y.detach().numpy(), want)
        (x * other).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [1.0, -2.0, 4.0])
    x = tg.ones(3)
    for bad, who in [("a", "add"), (object(), "mul"), ({1: 2}, "maximum")]:
        with pytest.raises(TypeError, match=f"{who}.*the other operand must be a tensor, a number or a list or "
                                            f"array of numbers, got {type(bad).__name__}"):
            {"add": lambda: x + bad, "mul": lambda: x * bad, "maximum": lambda: tg.maximum(x, bad)}[who]()


def test_free_functions_carry_gradients():
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (tg.sum(tg.exp(x) * tg.tensor([1.0, 0.0, 2.0]))).backward()
    np.testing.assert_allclose(x.grad.numpy(), [math.e, 0.0, 2 * math.e ** 3], rtol=1e-6)


class Tower(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2)})

    def forward(self, x, head):
        for block in self.blocks:
            x = block(x).relu()
        return self.heads[head](x)


def test_module_list_and_dict_register_their_modules():
    tg.manual_seed(0)
    model = Tower()
    keys = list(model.state_dict())
    assert keys[:4] == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias"]
    assert "heads.a.weight" in keys and "heads.b.bias" in keys
    assert len(list(model.parameters())) == 8
    assert model(tg.ones(4, 3), "b").shape == (4, 2)
    model.blocks.append(nn.Linear(3, 3))
    assert len(model.blocks) == 3 and isinstance(model.blocks[-1], nn.Linear)
    assert list(model.heads) == ["a", "b"] and "a" in model.heads
    with pytest.raises(TypeError, match="expected a Module"):
        model.blocks.append(tg.ones(2))
    with pytest.raises(KeyError, match="no module named 'c'"):
        model.heads["c"]
    with pytest.raises(IndexError, match="out of range"):
        model.blocks[5]
    with pytest.raises(NotImplementedError, match="iterate over it"):
        model.blocks(tg.ones(1, 3))


def test_clip_grad_norm_scales_all_gradients_together():
    a = tg.tensor([3.0, 0.0], requires_grad=True)
    b = tg.tensor([4.0], requires_grad=True)
    a.grad, b.grad = tg.tensor([3.0, 0.0]), tg.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.numpy(), [0.6, 0.0], rtol=1e-5)
    np.testing.assert_allclose(b.grad.numpy(), [0.8], rtol=1e-5)
    before = a.grad.numpy().copy()
    nn.utils.clip_grad_norm_([a, b], max_norm=10.0)  # under the limit: unchanged
    np.testing.assert_allclose(a.grad.numpy(), before, rtol=1e-6)
    assert nn.utils.clip_grad_norm_(a, 1.0, norm_type=math.inf).item() == pytest.approx(0.6, rel=1e-5)
    b.grad = tg.tensor([float("nan")])
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        nn.utils.clip_grad_norm_([a, b], 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError, match="max_norm"):
        nn.utils.clip_grad_norm_([a], -1.0)


def test_clip_grad_value_and_view_as():
    w = tg.tensor([1.0, 1.0, 1.0], requires_grad=True)
    w.grad = tg.tensor([-5.0, 0.5, 9.0])
    nn.utils.clip_grad_value_([w], 1.0)
    np.testing.assert_array_equal(w.grad.numpy(), [-1.0, 0.5, 1.0])
    assert tg.arange(6).view_as(tg.zeros(2, 3)).shape == (2, 3)
