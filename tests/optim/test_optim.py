"""Optimizers against their update rules written out by hand in NumPy."""
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import optim

GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.75, 1.0]), np.array([1.5, 0.1, -0.3])]
P0 = np.array([1.0, -2.0, 3.0])


def run(opt_cls, **kw):
    p = tg.tensor(P0.copy(), requires_grad=True)
    opt = opt_cls([p], **kw)
    out = []
    for g in GRADS:
        p.grad = tg.tensor(g.copy())
        opt.step()
        out.append(p.detach().numpy().copy())
    return out


def sgd_ref(lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    p, buf, out = P0.copy(), None, []
    for g in GRADS:
        d = g + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p.copy())
    return out


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.3),
                                dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.05, weight_decay=0.1, momentum=0.5)])
def test_sgd(kw):
    for got, ref in zip(run(optim.SGD, **kw), sgd_ref(**kw)):
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def adam_ref(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False, amsgrad=False):
    p, m, v, vmax, out = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for t, g in enumerate(GRADS, 1):
        if weight_decay and decoupled:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        denom = np.sqrt(vv) / math.sqrt(1 - betas[1] ** t) + eps
        p = p - lr / (1 - betas[0] ** t) * m / denom
        out.append(p.copy())
    return out


@pytest.mark.parametrize("kw", [dict(lr=0.1), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
                                dict(lr=0.1, amsgrad=True)])
def test_adam(kw):
    for got, ref in zip(run(optim.Adam, **kw), adam_ref(**kw)):
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_adamw_decouples_weight_decay():
    for got, ref in zip(run(optim.AdamW, lr=0.1, weight_decay=0.1), adam_ref(lr=0.1, weight_decay=0.1, decoupled=True)):
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def rmsprop_ref(lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
    p, v, a, buf, out = P0.copy(), np.zeros(3), np.zeros(3), np.zeros(3), []
    for g in GRADS:
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = np.sqrt(v - a * a) + eps
        else:
            denom = np.sqrt(v) + eps
        if momentum:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
        out.append(p.copy())
    return out


@pytest.mark.parametrize("kw", [dict(lr=0.01), dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)])
def test_rmsprop(kw):
    for got, ref in zip(run(optim.RMSprop, **kw), rmsprop_ref(**kw)):
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_params_without_grad_are_skipped_and_zero_grad():
    a = tg.tensor([1.0], requires_grad=True)
    b = tg.tensor([2.0], requires_grad=True)
    opt = optim.SGD([a, b], lr=1.0)
    a.grad = tg.tensor([1.0])
    opt.step()
    assert a.item() == 0.0 and b.item() == 2.0
    opt.zero_grad()
    assert a.grad is None


def test_optimizer_state_dict_round_trip():
    p = tg.tensor(P0.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.tensor(GRADS[0])
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 1 and sd["param_groups"][0]["params"] == [0]
    q = tg.tensor(p.detach().numpy().copy(), requires_grad=True)
    opt2 = optim.Adam([q], lr=0.5)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == 0.1
    for o, t in ((opt, p), (opt2, q)):
        t.grad = tg.tensor(GRADS[1])
        o.step()
    np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_optimizer_errors():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([tg.zeros(1, requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([tg.zeros(1, requires_grad=True)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([tg.zeros(1, requires_grad=True)], betas=(1.0, 0.9))


def test_param_groups():
    a = tg.tensor([1.0], requires_grad=True)
    b = tg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad, b.grad = tg.tensor([1.0]), tg.tensor([1.0])
    opt.step()
    assert a.item() == pytest.approx(0.9) and b.item() == pytest.approx(0.5)


def test_schedulers():
    p = tg.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(5):
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]
    opt = optim.SGD([p], lr=1.0)
    cos = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    lrs = []
    for _ in range(5):
        lrs.append(cos.get_last_lr()[0])
        cos.step()
    expected = [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2 for t in range(5)]
    np.testing.assert_allclose(lrs, expected)


def test_a_bad_gradient_is_refused_before_any_parameter_moves():
    import tinygrad_bn as tg
    from tinygrad_bn import optim

    a = tg.tensor([1.0, 2.0], requires_grad=True)
    b = tg.tensor([[1.0, 2.0]], requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad = tg.tensor([1.0, 1.0])
    for bad, match in ((tg.tensor([1.0, 1.0]), "has shape \\(2,\\); it must have the parameter's shape"),
                       (tg.tensor([[1.0, 1.0]], dtype=tg.float64), "has dtype float64, the parameter float32"),
                       (tg.tensor(1.0), "has shape \\(\\)")):
        b.grad = bad
        with pytest.raises(RuntimeError, match=match):
            opt.step()
        np.testing.assert_array_equal(a.detach().numpy(), [1.0, 2.0])  # the good one did not move either
        assert opt.state == {}
    b.grad = tg.tensor([[1.0, 1.0]])
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 1.9], rtol=1e-6)
