"""Every optimizer option against a NumPy transcription of PyTorch's update rule (the schedulers' values are in test_optim.py)."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import optim

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


def test_an_optimizers_repr_lists_each_groups_options_as_pytorchs():
    """PyTorch's layout: the class, then per group its options sorted by name
    (all but the parameters), one per line."""
    a, b = tg.nn.Parameter(tg.ones(2)), tg.nn.Parameter(tg.ones(1))
    opt = tg.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    lines = repr(opt).split("\n")
    assert lines[0] == "Adam (" and lines[-1] == ")"
    assert [i for i, line in enumerate(lines) if line.startswith("Parameter Group")] == [1, 8]
    for group, start in zip(opt.param_groups, (2, 9)):
        keys = sorted(k for k in group if k != "params")
        assert lines[start:start + len(keys)] == [f"    {k}: {group[k]}" for k in keys]
    assert "    lr: 0.1" in lines[2:8] and "    lr: 0.5" in lines[9:15] and "    betas: (0.9, 0.999)" in lines
