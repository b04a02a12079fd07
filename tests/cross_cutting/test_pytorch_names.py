"""PyTorch names ported scripts stopped on: torch.device, torch.Size, mm, t(),
nelement, log10/log2, type(), triu/tril, the legacy typed constructors and
autograd.Variable. Values against NumPy (and PyTorch, when installed); the
differentiable ones by gradcheck."""
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck

try:
    import torch
except ImportError:  # the PyTorch comparisons are optional
    torch = None


def f64(a, requires_grad=True):
    return tg.tensor(a, dtype=tg.float64, requires_grad=requires_grad)


MATRICES = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4),
                      elements=st.floats(-3, 3))


@given(x=MATRICES, diagonal=st.integers(-3, 3))
def test_triu_and_tril_match_numpy_and_pass_their_gradient_only_inside(x, diagonal):
    for name, ref in (("triu", np.triu), ("tril", np.tril)):
        t = f64(x)
        out = getattr(t, name)(diagonal)
        np.testing.assert_array_equal(out.detach().numpy(), ref(x, diagonal))
        np.testing.assert_array_equal(getattr(tg, name)(t, diagonal=diagonal).detach().numpy(), ref(x, diagonal))
        assert gradcheck(lambda a: getattr(a, name)(diagonal) * a, (t,))
    x_inf = np.full((2, 2), np.inf)
    assert tg.tensor(x_inf).triu().tolist() == [[np.inf, np.inf], [0.0, np.inf]]  # a where: no inf * 0


@given(a=hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(-2, 2)),
       k=st.integers(1, 4))
def test_mm_and_t_are_the_matrix_product_and_transpose(a, k):
    b = np.linspace(-1, 1, a.shape[1] * k).reshape(a.shape[1], k)
    ta, tb = f64(a), f64(b)
    np.testing.assert_allclose(ta.mm(tb).detach().numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose(tg.mm(ta, tb).detach().numpy(), a @ b, rtol=1e-12)
    np.testing.assert_array_equal(ta.t().detach().numpy(), a.T)
    assert gradcheck(lambda p, q: p.mm(q), (ta, tb)) and gradcheck(lambda p: p.t() * 2, (ta,))
    assert tg.ones(3).t().shape == (3,) and tg.tensor(2.0).t().shape == ()
    with pytest.raises(RuntimeError, match="mm: expected two 2-d tensors, got 1-d and 2-d"):
        tg.ones(3).mm(tb)
    with pytest.raises(RuntimeError, match="t: expected a tensor of at most 2 dims, got 3"):
        tg.ones(2, 2, 2).t()


@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(0.1, 100)))
def test_log10_and_log2(x):
    t = f64(x)
    np.testing.assert_allclose(t.log10().detach().numpy(), np.log10(x), rtol=1e-14)
    np.testing.assert_allclose(tg.log2(t).detach().numpy(), np.log2(x), rtol=1e-14)
    assert gradcheck(lambda a: a.log10(), (t,)) and gradcheck(lambda a: a.log2(), (t,))


def test_devices_sizes_and_types():
    d = tg.device("cuda" if tg.cuda.is_available() else "cpu")
    x = tg.ones(2, 3, device=d)
    assert x.device == d and x.device.type == str(d).split(":")[0]
    assert repr(tg.device("cuda", 0)) == "device(type='cuda', index=0)" and tg.device("cuda:1").index == 1
    assert repr(tg.device("cpu")) == "device(type='cpu')" and tg.device("cpu").index is None
    with pytest.raises(ValueError, match="index twice"):
        tg.device("cuda:0", 0)
    with pytest.raises(TypeError, match="device name"):
        tg.device(3)
    with pytest.raises(RuntimeError, match="device: expected one of cpu, cuda, .* got 'banana'"):
        tg.device("banana")  # PyTorch refuses an unknown device type too
    assert tg.device("mps:0").type == "mps"  # a type PyTorch knows can be named (and is refused on use)
    with pytest.raises(ValueError, match="type: unknown tensor type 'torch.float64'"):
        x.type("torch.float64")  # a tensor type name or a dtype, as PyTorch (not a dtype's name)
    assert x.size() == tg.Size([2, 3]) == (2, 3) and x.size().numel() == 6 == x.nelement()
    assert isinstance(x.size()[1:], tg.Size) and repr(x.size()) == "Size([2, 3])"
    assert type(x.shape) is tg.Size and isinstance(x.shape, tuple) and x.shape.numel() == 6  # torch.Size too
    assert x.shape == (2, 3) == tg.Size([2, 3]) and x.shape[1:] == (3,) and isinstance(x.shape[1:], tg.Size)
    assert str(x.shape) == f"{x.shape}" == "(2, 3)" and repr(x.shape) == "Size([2, 3])"
    assert tuple(x.shape) == (2, 3) and np.zeros(x.shape).shape == (2, 3) and tg.ones(()).shape.numel() == 1
    for copied in (pickle.loads(pickle.dumps(x.shape)), copy.deepcopy(x.shape)):
        assert type(copied) is tg.Size and copied == (2, 3)
    assert x.type() == "torch.FloatTensor" and tg.ones(2, dtype=tg.int64).type() == "torch.LongTensor"
    assert x.type(tg.float64).dtype == np.float64 and x.type("torch.DoubleTensor").dtype == np.float64
    with pytest.raises(ValueError, match="unknown tensor type 'torch.FooTensor'"):
        x.type("torch.FooTensor")


def test_legacy_constructors_and_variable():
    assert tg.FloatTensor(2, 3).shape == (2, 3) and tg.FloatTensor(2, 3).dtype == np.float32
    assert tg.FloatTensor([1, 2]).tolist() == [1.0, 2.0] and tg.LongTensor([1, 2]).dtype == np.int64
    assert tg.FloatTensor().shape == (0,) and tg.LongTensor().dtype == np.int64  # no arguments: empty, as PyTorch
    assert tg.DoubleTensor([[1]]).dtype == np.float64 and tg.BoolTensor([1, 0]).tolist() == [True, False]
    with pytest.raises(TypeError, match="FloatTensor: expected sizes"):
        tg.FloatTensor([1], 2)
    t = tg.ones(2)
    v = tg.autograd.Variable(t, requires_grad=True)
    assert v is not t and v.requires_grad and v.is_leaf and not t.requires_grad
    v.data.mul_(3)  # the same memory, as PyTorch's
    assert t.tolist() == [3.0, 3.0]


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_the_names_agree_with_pytorch():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    ta, tb = torch.tensor(a), torch.tensor(b)
    ours_a, ours_b = tg.tensor(a), tg.tensor(b)
    pairs = [
        (ours_a.mm(ours_b), ta.mm(tb)), (ours_a.t(), ta.t()), (ours_a.triu(1), ta.triu(1)),
        (ours_a.tril(-1), ta.tril(-1)), (tg.triu(ours_a), torch.triu(ta)),
        (ours_a.abs().log10(), ta.abs().log10()), (ours_a.abs().log2(), ta.abs().log2()),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-14, atol=1e-300)
    assert ours_a.type() == ta.type() and ours_a.float().type() == ta.float().type()
    assert ours_a.nelement() == ta.nelement() and tuple(ours_a.size()) == tuple(ta.size())
    assert tg.FloatTensor(2, 3).shape == tuple(torch.FloatTensor(2, 3).shape)
    assert repr(tg.device("cuda", 0)) == repr(torch.device("cuda", 0))
