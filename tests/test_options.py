"""Every optimizer option against a NumPy transcription of PyTorch's update
rule, and the initializers', dropout's, instance norm's and gradient clipping's
numbers (the schedulers' values are in test_optim.py)."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim

# gradients for three steps: a large first one and small later ones, so with a
# small beta2 the second moment falls and amsgrad's maximum differs from it; signs change
GRADS = [np.array([3.0, -1.0, 0.5]), np.array([0.1, 0.4, -0.2]), np.array([-0.3, 0.05, 0.2])]
P0 = np.array([1.0, -2.0, 0.5])


def reference(kind, lr, steps=3, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0,
              maximize=False, betas=(0.9, 0.999), eps=1e-8, amsgrad=False, alpha=0.99, centered=False):
    """PyTorch's update rules (torch/optim/{sgd,adam,adamw,rmsprop}.py), in float64 NumPy."""
    p = P0.copy()
    buf = m = v = vmax = ga = None
    for t, grad in enumerate(GRADS[:steps], start=1):
        g = -grad if maximize else grad.copy()
        if kind == "AdamW":
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        if kind == "SGD":
            if momentum:
                buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
                g = g + momentum * buf if nesterov else buf
            p = p - lr * g
        elif kind in ("Adam", "AdamW"):
            b1, b2 = betas
            m = (1 - b1) * g if m is None else b1 * m + (1 - b1) * g
            v = (1 - b2) * g * g if v is None else b2 * v + (1 - b2) * g * g
            vv = v
            if amsgrad:
                vmax = v.copy() if vmax is None else np.maximum(vmax, v)
                vv = vmax
            denom = np.sqrt(vv) / math.sqrt(1 - b2 ** t) + eps
            p = p - lr / (1 - b1 ** t) * m / denom
        else:  # RMSprop
            v = (1 - alpha) * g * g if v is None else alpha * v + (1 - alpha) * g * g
            if centered:
                ga = (1 - alpha) * g if ga is None else alpha * ga + (1 - alpha) * g
                avg = np.sqrt(v - ga * ga) + eps
            else:
                avg = np.sqrt(v) + eps
            if momentum:
                buf = g / avg if buf is None else momentum * buf + g / avg
                p = p - lr * buf
            else:
                p = p - lr * g / avg
    return p


OPTIONS = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"momentum": 0.9, "nesterov": True}), ("SGD", {"weight_decay": 0.1}), ("SGD", {"maximize": True}),
    ("SGD", {"momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
    ("Adam", {}), ("Adam", {"amsgrad": True}), ("Adam", {"amsgrad": True, "betas": (0.9, 0.5)}), ("Adam", {"maximize": True}), ("Adam", {"weight_decay": 0.1}),
    ("Adam", {"betas": (0.5, 0.9), "eps": 1e-3}),
    ("AdamW", {"weight_decay": 0.1}), ("AdamW", {"amsgrad": True, "weight_decay": 0.05, "betas": (0.8, 0.6)}), ("AdamW", {"maximize": True}),
    ("RMSprop", {}), ("RMSprop", {"centered": True}), ("RMSprop", {"momentum": 0.5}),
    ("RMSprop", {"centered": True, "momentum": 0.5}), ("RMSprop", {"maximize": True}),
    ("RMSprop", {"weight_decay": 0.1, "alpha": 0.9}),
]


@pytest.mark.parametrize("kind, options", OPTIONS, ids=[f"{k}-{o}" for k, o in OPTIONS])
def test_every_optimizer_option_follows_pytorchs_rule(kind, options):
    lr = 0.1
    p = tg.tensor(P0, requires_grad=True)
    opt = getattr(optim, kind)([p], lr=lr, **options)
    for g in GRADS:
        p.grad = tg.tensor(g)
        opt.step()
    defaults = {"weight_decay": 1e-2} if kind == "AdamW" else {}  # AdamW's default decay, as PyTorch's
    want = reference(kind, lr, **{**defaults, **options})
    np.testing.assert_allclose(p.detach().numpy(), want, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ initializers
FAN_OUT, FAN_IN = 200, 300


def _initialized(init, **kwargs):
    tg.manual_seed(0)
    w = tg.zeros(FAN_OUT, FAN_IN)
    init(w, **kwargs)
    return w.numpy()


@pytest.mark.parametrize("init, kwargs, bound", [
    (nn.init.xavier_uniform_, {}, math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (nn.init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (nn.init.kaiming_uniform_, {"mode": "fan_in", "nonlinearity": "relu"}, math.sqrt(2) * math.sqrt(3 / FAN_IN)),
    (nn.init.kaiming_uniform_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2) * math.sqrt(3 / FAN_OUT)),
    (nn.init.uniform_, {"a": -0.3, "b": 0.3}, 0.3),
])
def test_uniform_initializers_fill_their_bound(init, kwargs, bound):
    w = _initialized(init, **kwargs)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound  # 60,000 draws reach the bound


@pytest.mark.parametrize("init, kwargs, std", [
    (nn.init.xavier_normal_, {}, math.sqrt(2 / (FAN_IN + FAN_OUT))),
    (nn.init.kaiming_normal_, {"mode": "fan_in", "nonlinearity": "relu"}, math.sqrt(2 / FAN_IN)),
    (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / FAN_OUT)),
    (nn.init.normal_, {"std": 0.02}, 0.02),
])
def test_normal_initializers_have_their_std(init, kwargs, std):
    w = _initialized(init, **kwargs)
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.02 * std * 3


def test_linear_initializes_as_pytorch():
    tg.manual_seed(0)
    layer = nn.Linear(300, 2000)
    bound = 1 / math.sqrt(300)  # weight (kaiming_uniform_, a = sqrt(5)) and bias both
    for t in (layer.weight, layer.bias):
        a = np.abs(t.detach().numpy())
        assert a.max() <= bound and a.max() > 0.99 * bound


# ----------------------------------------------------------------------- dropout
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64])
@pytest.mark.parametrize("p", [0.3, 0.5, 0.9])
def test_dropout_keeps_dtype_scales_by_one_over_keep_and_drops_p(dtype, p):
    tg.manual_seed(1)
    out = nn.functional.dropout(tg.ones(400, 250, dtype=dtype), p=p).numpy()
    assert out.dtype == dtype
    kept = out != 0
    assert set(np.unique(out[kept]).tolist()) == {float(np.asarray(1 / (1 - p), dtype=dtype))}
    assert abs(kept.mean() - (1 - p)) < 0.01


# ------------------------------------------------------- instance norm, clipping
def test_instance_norm_running_stats_follow_pytorchs_rule():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3, 10))
    layer = nn.InstanceNorm1d(3, track_running_stats=True, momentum=0.2).double()
    layer(tg.tensor(x))
    var = x.var(axis=2, ddof=1).mean(axis=0)
    mean = x.mean(axis=2).mean(axis=0)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.8 * 0 + 0.2 * mean, rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.8 * 1 + 0.2 * var, rtol=1e-12)


def test_clip_grad_norm_leaves_small_gradients_alone_and_scales_large_ones():
    p = tg.tensor([1.0, 1.0], requires_grad=True)
    p.grad = tg.tensor([0.3, 0.4])  # norm 0.5
    total = nn.utils.clip_grad_norm_([p], max_norm=1.0)
    assert total.item() == pytest.approx(0.5)
    np.testing.assert_array_equal(p.grad.numpy(), np.array([0.3, 0.4], np.float32))
    p.grad = tg.tensor([3.0, 4.0])  # norm 5
    nn.utils.clip_grad_norm_([p], max_norm=1.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
