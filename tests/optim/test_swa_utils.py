"""optim.swa_utils: AveragedModel (SWA mean, EMA, custom averaging, buffers), SWALR's
rates, update_bn's BatchNorm statistics. Each test checks against a reference computed
here (NumPy); with PyTorch installed, the same calls in torch too."""
import copy
import math

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.optim import SGD
from tinygrad_bn.optim.swa_utils import (
    SWALR,
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_avg_fn,
    get_swa_multi_avg_fn,
    update_bn,
)


def _torch():
    return pytest.importorskip("torch")


def _model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def _perturb(model, rng):
    """A new snapshot: every parameter moved at random, BatchNorm statistics updated by a batch."""
    with tg.no_grad():
        for p in model.parameters():
            p.add_(tg.tensor(rng.standard_normal(p.shape).astype(np.float32)))
    model.train()
    model(tg.tensor(rng.standard_normal((8, 3)).astype(np.float32)))


def _snapshot(model, buffers=False):
    tensors = list(model.parameters()) + (list(model.buffers()) if buffers else [])
    return [t.detach().numpy().astype(np.float64).copy() for t in tensors]


# ---------------------------------------------------------------- AveragedModel

def test_swa_average_is_the_mean_of_the_snapshots():
    rng = np.random.default_rng(0)
    model = _model()
    swa = AveragedModel(model)
    snaps = []
    for _ in range(5):
        _perturb(model, rng)
        snaps.append(_snapshot(model))
        swa.update_parameters(model)
    assert swa.n_averaged.item() == 5 and swa.n_averaged.dtype == tg.int64
    for avg, *values in zip(swa.parameters(), *snaps):
        np.testing.assert_allclose(avg.detach().numpy(), np.mean(values, axis=0), rtol=1e-5, atol=1e-6)
    # buffers are not averaged by default: they follow the model
    for b_swa, b_model in zip(swa.module.buffers(), model.buffers()):
        np.testing.assert_array_equal(b_swa.numpy(), b_model.numpy())
    # the copy is its own: the model's parameters are not the average's
    assert all(p is not q for p, q in zip(swa.parameters(), model.parameters()))
    assert next(iter(swa.state_dict())) == "n_averaged" and "module.0.weight" in swa.state_dict()
    x = tg.randn(4, 3)
    swa.eval()
    np.testing.assert_array_equal(swa(x).detach().numpy(), swa.module(x).detach().numpy())


def test_use_buffers_averages_the_buffers_too():
    rng = np.random.default_rng(1)
    model = _model()
    swa = AveragedModel(model, use_buffers=True)
    snaps = []
    for _ in range(4):
        _perturb(model, rng)
        snaps.append(_snapshot(model, buffers=True))
        swa.update_parameters(model)
    tensors = list(swa.module.parameters()) + list(swa.module.buffers())
    for t, *values in zip(tensors, *snaps):
        if t.dtype.kind == "f":
            np.testing.assert_allclose(t.detach().numpy(), np.mean(values, axis=0), rtol=1e-5, atol=1e-6)
    # the integer counter averages in integers (1, then (1 + 2) -> 1, ...), as PyTorch's
    assert swa.module[1].num_batches_tracked.item() == 1


def test_ema_formula_with_avg_fn_and_multi_avg_fn():
    rng = np.random.default_rng(2)
    decay = 0.9
    model = _model()
    ema_single = AveragedModel(model, avg_fn=get_ema_avg_fn(decay))
    ema_multi = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    ref = None
    for _ in range(4):
        _perturb(model, rng)
        snap = _snapshot(model)
        ref = snap if ref is None else [decay * r + (1 - decay) * s for r, s in zip(ref, snap)]
        ema_single.update_parameters(model)
        ema_multi.update_parameters(model)
    for a, b, r in zip(ema_single.parameters(), ema_multi.parameters(), ref):
        np.testing.assert_allclose(a.detach().numpy(), r, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(b.detach().numpy(), r, rtol=1e-5, atol=1e-6)


def test_a_custom_avg_fn_gets_the_count():
    model = nn.Linear(2, 1)
    counts = []

    def keep_latest(avg, current, n):
        counts.append(int(n.item()))
        return current

    swa = AveragedModel(model, avg_fn=keep_latest)
    for _ in range(3):
        with tg.no_grad():
            model.weight.add_(1.0)
        swa.update_parameters(model)
    assert counts == [1, 1, 2, 2]  # weight and bias at n = 1 and n = 2 (n = 0 copies)
    np.testing.assert_array_equal(swa.module.weight.detach().numpy(), model.weight.detach().numpy())


def test_averaging_functions_directly():
    a, c = tg.tensor([0.0, 2.0]), tg.tensor([4.0, 6.0])
    np.testing.assert_allclose(get_swa_avg_fn()(a, c, 3).numpy(), [1.0, 3.0])
    np.testing.assert_allclose(get_swa_avg_fn()(a, c, tg.tensor(1)).numpy(), [2.0, 4.0])
    np.testing.assert_allclose(get_ema_avg_fn(0.75)(a, c, 0).numpy(), [1.0, 3.0])
    avg, cur = [tg.tensor([0.0, 2.0]), tg.tensor([1], dtype=tg.int64)], [tg.tensor([4.0, 6.0]),
                                                                        tg.tensor([5], dtype=tg.int64)]
    get_swa_multi_avg_fn()(avg, cur, tg.tensor(1))
    np.testing.assert_allclose(avg[0].numpy(), [2.0, 4.0])
    assert avg[1].item() == 3
    ema = [tg.tensor([0.0, 2.0])]
    get_ema_multi_avg_fn(0.5)(ema, [tg.tensor([4.0, 6.0])], 7)
    np.testing.assert_allclose(ema[0].numpy(), [2.0, 4.0])


def test_averaged_model_errors():
    model = nn.Linear(2, 2)
    with pytest.raises(AssertionError, match="only one of avg_fn and multi_avg_fn"):
        AveragedModel(model, avg_fn=get_swa_avg_fn(), multi_avg_fn=get_swa_multi_avg_fn())
    with pytest.raises(TypeError, match="AveragedModel: model must be an nn.Module, got int"):
        AveragedModel(3)
    with pytest.raises(TypeError, match="avg_fn must be callable or None, got int"):
        AveragedModel(model, avg_fn=1)
    with pytest.raises(TypeError, match="use_buffers must be a bool"):
        AveragedModel(model, use_buffers="yes")
    with pytest.raises(ValueError, match=r"invalid decay value 1.5 provided; expected a value in \[0, 1\]"):
        get_ema_avg_fn(1.5)
    with pytest.raises(ValueError, match="invalid decay value -0.1"):
        get_ema_multi_avg_fn(-0.1)
    swa = AveragedModel(model)
    with pytest.raises(ValueError, match="the model has 4 parameters, the averaged copy 2"):
        swa.update_parameters(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)))
    with pytest.raises(ValueError, match=r"tensor 0 has shape \(3, 2\) in the model, \(2, 2\) in the average"):
        swa.update_parameters(nn.Linear(2, 3))
    with pytest.raises(TypeError, match="update_parameters: model must be an nn.Module"):
        swa.update_parameters([1])


def test_averaged_model_matches_pytorch():
    torch = _torch()
    from torch.optim import swa_utils as T
    rng = np.random.default_rng(3)
    ours = _model()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(),
                                 torch.nn.Linear(4, 2))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    pairs = [(AveragedModel(ours), T.AveragedModel(theirs)),
             (AveragedModel(ours, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True),
              T.AveragedModel(theirs, multi_avg_fn=T.get_ema_multi_avg_fn(0.8), use_buffers=True))]
    for _ in range(3):
        with tg.no_grad():
            for p, q in zip(ours.parameters(), theirs.parameters()):
                step = rng.standard_normal(p.shape).astype(np.float32)
                p.add_(tg.tensor(step))
                q.data.add_(torch.tensor(step))
        x = rng.standard_normal((6, 3)).astype(np.float32)
        ours(tg.tensor(x))
        theirs(torch.tensor(x))
        for a, b in pairs:
            a.update_parameters(ours)
            b.update_parameters(theirs)
    for a, b in pairs:
        sa, sb = a.state_dict(), b.state_dict()
        assert list(sa) == list(sb)
        for k in sa:
            np.testing.assert_allclose(sa[k].numpy().astype(np.float64), sb[k].numpy().astype(np.float64),
                                       rtol=1e-5, atol=1e-6, err_msg=k)


# ---------------------------------------------------------------------- SWALR

def _reference_swalr(lr0, swa_lr, anneal_epochs, strategy, steps):
    """PyTorch's SWALR rule, written out: alpha(t) anneals from the current lr to swa_lr."""
    anneal = (lambda t: (1 - math.cos(math.pi * t)) / 2) if strategy == "cos" else (lambda t: t)
    lrs, lr = [], lr0
    for count in range(1, steps + 1):
        step = count - 1
        if anneal_epochs == 0:
            step = max(1, step)
        prev_alpha = anneal(max(0, min(1, (step - 1) / max(1, anneal_epochs))))
        start = swa_lr if prev_alpha == 1 else (lr - prev_alpha * swa_lr) / (1 - prev_alpha)
        alpha = anneal(max(0, min(1, step / max(1, anneal_epochs))))
        lr = swa_lr * alpha + start * (1 - alpha)
        lrs.append(lr)
    return lrs


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_sequence(strategy, anneal_epochs):
    opt = SGD([tg.zeros(1, requires_grad=True)], lr=0.5)
    sched = SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs, anneal_strategy=strategy)
    got = [opt.param_groups[0]["lr"]]
    for _ in range(7):
        sched.step()
        got.append(opt.param_groups[0]["lr"])
    assert got == pytest.approx(_reference_swalr(0.5, 0.05, anneal_epochs, strategy, 8), rel=1e-12)
    assert got[-1] == pytest.approx(0.05) and sched.get_last_lr() == [got[-1]]
    if anneal_epochs == 4 and strategy == "linear":
        # linear annealing from 0.5 to 0.05 over 4 epochs: 0.5, 0.3875, 0.275, 0.1625, 0.05, ...
        assert got[:5] == pytest.approx([0.5, 0.3875, 0.275, 0.1625, 0.05])


def test_swalr_matches_pytorch_with_groups_and_state_dict():
    torch = _torch()
    for strategy in ("cos", "linear"):
        opt = SGD([{"params": [tg.zeros(1, requires_grad=True)], "lr": 0.5},
                   {"params": [tg.zeros(1, requires_grad=True)], "lr": 0.1}])
        topt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5},
                                {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.1}])
        ours = SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=3, anneal_strategy=strategy)
        theirs = torch.optim.swa_utils.SWALR(topt, swa_lr=[0.05, 0.01], anneal_epochs=3,
                                             anneal_strategy=strategy)
        for _ in range(6):
            assert [g["lr"] for g in opt.param_groups] == pytest.approx([g["lr"] for g in topt.param_groups])
            topt.step()
            ours.step()
            theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr())
        state = ours.state_dict()
        assert set(state) - {"_is_initial"} == set(theirs.state_dict()) - {"_is_initial"}
        assert "anneal_func" not in state and "optimizer" not in state
    again = SWALR(opt, swa_lr=0.3, anneal_strategy="cos")
    again.load_state_dict(state)
    assert again.anneal_epochs == 3 and again.anneal_func is again._linear_anneal


def test_swalr_errors_and_get_lr_warning():
    opt = SGD([tg.zeros(1, requires_grad=True)], lr=0.5)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got 'step'"):
        SWALR(opt, 0.05, anneal_strategy="step")
    with pytest.raises(ValueError, match="anneal_epochs must be an int equal or greater than 0, got -1"):
        SWALR(opt, 0.05, anneal_epochs=-1)
    with pytest.raises(ValueError, match="anneal_epochs must be an int"):
        SWALR(opt, 0.05, anneal_epochs=2.5)
    with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
        SWALR(opt, [0.1, 0.2])
    with pytest.raises(TypeError, match="SWALR: swa_lr must be a number, got str"):
        SWALR(opt, "0.1")
    with pytest.raises(TypeError, match="SWALR: optimizer must be an Optimizer, got list"):
        SWALR([1], 0.1)
    sched = SWALR(opt, 0.05)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


# ------------------------------------------------------------------- update_bn

class _BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4, momentum=0.3)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.bn(self.lin(x)).relu())


def test_update_bn_recomputes_the_statistics_over_the_loader():
    rng = np.random.default_rng(4)
    net = _BNNet()
    with tg.no_grad():
        net.bn.running_mean.fill_(5.0)
    batches = [rng.standard_normal((6, 3)).astype(np.float32) + i for i in range(4)]
    loader = [tg.tensor(b) if i % 2 else (tg.tensor(b), tg.zeros(6)) for i, b in enumerate(batches)]
    net.eval()
    update_bn(loader, net)
    # reference: momentum None averages the batch statistics with equal weights
    w, b = net.lin.weight.detach().numpy().astype(np.float64), net.lin.bias.detach().numpy().astype(np.float64)
    feats = [x.astype(np.float64) @ w.T + b for x in batches]
    np.testing.assert_allclose(net.bn.running_mean.numpy(), np.mean([f.mean(0) for f in feats], axis=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(net.bn.running_var.numpy(), np.mean([f.var(0, ddof=1) for f in feats], axis=0),
                               rtol=1e-5, atol=1e-6)
    assert net.bn.num_batches_tracked.item() == 4
    assert net.bn.momentum == 0.3 and not net.training and not net.bn.training  # restored


def test_update_bn_on_an_averaged_model_and_without_batchnorm():
    rng = np.random.default_rng(5)
    net = _BNNet()
    swa = AveragedModel(net)
    swa.update_parameters(net)
    loader = [tg.tensor(rng.standard_normal((5, 3)).astype(np.float32)) for _ in range(3)]
    update_bn(loader, swa, device="cpu")
    assert swa.module.bn.num_batches_tracked.item() == 3
    assert net.bn.num_batches_tracked.item() == 0  # the model's own: untouched
    plain = nn.Linear(3, 1)
    update_bn(loader, plain)  # nothing to do
    with pytest.raises(TypeError, match="update_bn: batch 0 is a str"):
        update_bn(["x"], _BNNet())
    with pytest.raises(TypeError, match="update_bn: loader must be an iterable of batches, got int"):
        update_bn(3, _BNNet())
    with pytest.raises(TypeError, match="update_bn: model must be an nn.Module"):
        update_bn(loader, "model")
    broken = _BNNet()
    with pytest.raises(TypeError):
        update_bn([tg.zeros(2, 3), "x"], broken)
    assert broken.bn.momentum == 0.3 and broken.training  # restored after an error too


def test_update_bn_matches_pytorch():
    torch = _torch()
    rng = np.random.default_rng(6)
    ours = _BNNet()
    theirs = torch.nn.Sequential()
    theirs.lin, theirs.bn, theirs.head = (torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4, momentum=0.3),
                                          torch.nn.Linear(4, 1))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    batches = [rng.standard_normal((7, 3)).astype(np.float32) for _ in range(3)]
    update_bn([tg.tensor(b) for b in batches], ours)
    torch.optim.swa_utils.update_bn([torch.tensor(b) for b in batches], theirs)
    for k in ("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"):
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), theirs.state_dict()[k].numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=k)


def test_a_swa_training_loop():
    """The documented recipe: train, average after a start epoch under SWALR, update_bn."""
    rng = np.random.default_rng(7)
    tg.manual_seed(0)
    net = _BNNet()
    opt = SGD(net.parameters(), lr=0.1)
    swa = AveragedModel(net)
    sched = SWALR(opt, swa_lr=0.02, anneal_epochs=2)
    data = [(tg.tensor(rng.standard_normal((8, 3)).astype(np.float32)),
             tg.tensor(rng.standard_normal((8, 1)).astype(np.float32))) for _ in range(3)]
    snapshots = []
    for epoch in range(6):
        for x, y in data:
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            opt.step()
        if epoch >= 2:
            swa.update_parameters(net)
            snapshots.append(_snapshot(net))
            sched.step()
    update_bn(data, swa)
    assert swa.n_averaged.item() == 4 and opt.param_groups[0]["lr"] == pytest.approx(0.02)
    for avg, *values in zip(swa.parameters(), *snapshots):
        np.testing.assert_allclose(avg.detach().numpy(), np.mean(values, axis=0), rtol=1e-5, atol=1e-6)
    clone = copy.deepcopy(swa)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(clone.state_dict().values(),
                                                                     swa.state_dict().values()))
