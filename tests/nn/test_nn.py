"""Modules: registration, modes, state dicts, layers and losses."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.models import SimpleNet


def test_parameters_buffers_children_and_names():
    model = SimpleNet()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                     "layers.4.weight", "layers.4.bias"]
    assert sum(p.numel() for p in model.parameters()) == 784 * 64 + 64 + 64 * 128 + 128 + 128 * 10 + 10
    assert len(list(model.children())) == 1 and len(list(model.modules())) == 7
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_train_eval_propagates():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_linear_default_init_matches_pytorch_bounds():
    tg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    # uniform on (-b, b) has std b / sqrt(3)
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    assert lin.bias is not None and nn.Linear(3, 2, bias=False).bias is None


def test_linear_forward_matches_formula():
    lin = nn.Linear(3, 2)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    out = lin(tg.tensor(x)).detach().numpy()
    ref = x @ lin.weight.detach().numpy().T + lin.bias.detach().numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    with pytest.raises(RuntimeError, match="linear: input has 5 features"):
        lin(tg.zeros(4, 5))


def test_zero_grad_and_dtype_conversion():
    model = SimpleNet()
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    model(tg.randn(2, 784)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    out = model(tg.randn(2, 784, dtype=tg.float64))
    assert out.dtype == np.float64
    out.sum().backward()
    opt.step()  # the optimizer still holds the same (converted) parameters
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())


def test_state_dict_round_trip_and_strictness():
    a, b = SimpleNet(), SimpleNet()
    sd = a.state_dict()
    assert list(sd) == [n for n, _ in a.named_parameters()]
    b.load_state_dict(sd)
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    b.load_state_dict({k: v.numpy() for k, v in sd.items()})  # NumPy arrays work too
    before = {k: v.numpy().copy() for k, v in b.state_dict().items()}
    bad = dict(sd)
    bad["layers.0.weight"] = np.zeros((3, 3), np.float32)
    bad["layers.0.bias"] = np.ones(64, np.float32) * 99
    with pytest.raises(RuntimeError, match="layers.0.weight: shape"):
        b.load_state_dict(bad)
    for k, v in b.state_dict().items():  # all or nothing: the good bias was not copied
        np.testing.assert_array_equal(v.numpy(), before[k])
    missing = dict(sd)
    del missing["layers.4.bias"]
    with pytest.raises(RuntimeError, match="missing keys.*layers.4.bias"):
        b.load_state_dict(missing)
    extra = dict(sd, foo=np.zeros(1))
    with pytest.raises(RuntimeError, match="unexpected keys.*foo"):
        b.load_state_dict(extra)
    res = b.load_state_dict(extra, strict=False)
    assert res.unexpected_keys == ["foo"]


def test_repr_is_pytorch_like():
    text = repr(SimpleNet())
    assert "(layers): Sequential(" in text
    assert "(0): Linear(in_features=784, out_features=64, bias=True)" in text
    assert "(1): ReLU()" in text


def test_module_without_super_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(2, 2)

    with pytest.raises(RuntimeError, match="super\\(\\).__init__"):
        Bad()


def test_activations_and_containers():
    x = tg.tensor([[-2.0, -0.5, 0.0, 0.5, 2.0]])
    np.testing.assert_allclose(nn.ReLU()(x).numpy(), [[0, 0, 0, 0.5, 2]])
    np.testing.assert_allclose(nn.LeakyReLU(0.1)(x).numpy(), [[-0.2, -0.05, 0, 0.5, 2]], rtol=1e-6)
    np.testing.assert_allclose(nn.Sigmoid()(x).numpy(), 1 / (1 + np.exp(-x.numpy())), rtol=1e-6)
    np.testing.assert_allclose(nn.Tanh()(x).numpy(), np.tanh(x.numpy()), rtol=1e-6)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(nn.GELU()(x).numpy(), x.numpy() * 0.5 * (1 + erf(x.numpy() / math.sqrt(2))), rtol=1e-5)
    assert nn.Flatten()(tg.zeros(2, 3, 4)).shape == (2, 12)
    assert nn.Identity()(x) is x
    seq = nn.Sequential(nn.Linear(5, 3), nn.ReLU())
    assert len(seq) == 2 and isinstance(seq[0], nn.Linear) and len(seq[:1]) == 1


def test_dropout_scales_and_is_identity_in_eval():
    tg.manual_seed(0)
    d = nn.Dropout(0.25)
    x = tg.ones(100_000)
    y = d(x).numpy()
    kept = y != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y[kept], 1 / 0.75, rtol=1e-6)
    d.eval()
    assert d(x) is x
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def test_losses_against_hand_computation():
    logits = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]], dtype=np.float32)
    target = np.array([0, 2])
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -(logp[0, 0] + logp[1, 2]) / 2
    ce = nn.CrossEntropyLoss()(tg.tensor(logits), tg.tensor(target))
    assert ce.item() == pytest.approx(expected, rel=1e-6)
    nll = nn.NLLLoss(reduction="sum")(tg.tensor(logp), tg.tensor(target))
    assert nll.item() == pytest.approx(expected * 2, rel=1e-6)
    mse = nn.MSELoss()(tg.tensor([1.0, 2.0]), tg.tensor([0.0, 4.0]))
    assert mse.item() == pytest.approx(2.5)
    ignored = nn.CrossEntropyLoss(ignore_index=2)(tg.tensor(logits), tg.tensor(target))
    assert ignored.item() == pytest.approx(-logp[0, 0], rel=1e-6)


def test_loss_errors():
    ce = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"target of probabilities \(the input's shape\) of shape \(2, 3\).*got \(2,\)"):
        ce(tg.zeros(2, 3), tg.tensor([0.0, 1.0]))  # float targets are probabilities, of the input's shape
    with pytest.raises(TypeError, match="nll_loss: target must hold integer class indices, got dtype float32"):
        nn.NLLLoss()(tg.zeros(2, 3), tg.zeros(2, 3))
    with pytest.raises(ValueError, match=r"target of class indices of shape \(2,\) .* got \(3,\)"):
        ce(tg.zeros(2, 3), tg.tensor([0, 1, 2]))
    with pytest.raises(IndexError, match="out of bounds for 3 classes"):
        ce(tg.zeros(2, 3), tg.tensor([0, 3]))
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="avg")
    with pytest.raises(ValueError, match="shape"):
        nn.MSELoss()(tg.zeros(2), tg.zeros(3))


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h = lin.register_forward_hook(lambda m, inp, out: calls.append(out.shape))
    lin(tg.zeros(3, 2))
    h.remove()
    lin(tg.zeros(3, 2))
    assert calls == [(3, 2)]


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("p", [0.3, 0.5, 0.9])
def test_dropout_keeps_dtype_scales_by_one_over_keep_and_drops_p(dtype, p):
    tg.manual_seed(1)
    out = nn.functional.dropout(tg.ones(400, 250, dtype=dtype), p=p).numpy()
    assert out.dtype == dtype
    kept = out != 0
    assert set(np.unique(out[kept]).tolist()) == {float(np.asarray(1 / (1 - p), dtype=dtype))}
    assert abs(kept.mean() - (1 - p)) < 0.01
