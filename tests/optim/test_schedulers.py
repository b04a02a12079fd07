"""Learning-rate schedulers: each one's sequence of rates against the formula
written out here, against torch.optim.lr_scheduler's when torch is installed,
resumed from state dicts mid-way, and their errors for bad arguments."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import optim
from tinygrad_bn.optim import lr_scheduler as S

# torch's schedulers warn when stepped before their optimizer; these sequences step no optimizer
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of:UserWarning")

BASE = (0.1, 0.05)  # two parameter groups, two base rates
N = 30


def make_opt(kind="SGD", lib=None, **kw):
    """An optimizer with two groups (lr 0.1 and 0.05), ours or torch's (lib)."""
    if lib is None:
        ps, cls = [tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)], getattr(optim, kind)
    else:
        ps, cls = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)], getattr(lib.optim, kind)
    return cls([{"params": [ps[0]], "lr": BASE[0]}, {"params": [ps[1]], "lr": BASE[1]}], **kw)


def sequence(sched, opt, n=N, metrics=None, extra=None):
    """The rates (and ``extra(group)`` per group) seen before each of n steps."""
    out = []
    for t in range(n):
        lrs = sched.get_last_lr()
        assert lrs == [g["lr"] for g in opt.param_groups]
        out.append(lrs + ([extra(g) for g in opt.param_groups] if extra else []))
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[t])
    return np.array(out, dtype=float)


def per_group(fn, n=N):
    """[[fn(epoch, base) for each group's base] for each epoch]."""
    return np.array([[fn(e, b) for b in BASE] for e in range(n)])


# ------------------------------------------------------------------ formulas
def cos_anneal(e, b, T, lo):
    return lo + (b - lo) * (1 + math.cos(math.pi * e / T)) / 2


def warm_restarts(e, b, T0, Tm, lo):
    t, Ti = e, T0
    while t >= Ti:
        t, Ti = t - Ti, Ti * Tm
    return cos_anneal(t, b, Ti, lo)


def triangle(e, up, down):
    """0 at a cycle's start, 1 after ``up`` steps, 0 again ``down`` steps later."""
    k = e % (up + down)
    return k / up if k <= up else (up + down - k) / down


def one_cycle(e, top, n, pct=0.3, div=25.0, final_div=1e4, three_phase=False, cos=True, start_m=None):
    """OneCycleLR's rate at step e, or its momentum when start_m = (max_m, base_m)."""
    lo = top / div
    marks = [pct * n - 1, 2 * pct * n - 2, n - 1] if three_phase else [pct * n - 1, n - 1]
    if start_m is None:
        ends = [(lo, top), (top, lo), (lo, lo / final_div)] if three_phase else [(lo, top), (top, lo / final_div)]
    else:
        mx, mn = start_m
        ends = [(mx, mn), (mn, mx), (mx, mx)] if three_phase else [(mx, mn), (mn, mx)]
    start = 0.0
    for i, end in enumerate(marks):
        if e <= end or i == len(marks) - 1:
            f = (e - start) / (end - start)
            a, b = ends[i]
            return b + (a - b) * (1 + math.cos(math.pi * f)) / 2 if cos else a + (b - a) * f
        start = end
    raise AssertionError


def plateau_reference(metrics, lrs, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                      cooldown=0, min_lr=0.0, eps=1e-8):
    """ReduceLROnPlateau as its documentation describes it: the rates before each step."""
    lrs, mins = list(lrs), (min_lr if isinstance(min_lr, list) else [min_lr] * len(lrs))
    best, bad, cool, out = (math.inf if mode == "min" else -math.inf), 0, 0, []
    for m in metrics:
        out.append(list(lrs))
        if mode == "min":
            better = m < (best * (1 - threshold) if threshold_mode == "rel" else best - threshold)
        else:
            better = m > (best * (1 + threshold) if threshold_mode == "rel" else best + threshold)
        best, bad = (m, 0) if better else (best, bad + 1)
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            lrs = [lr if lr - max(lr * factor, lo) <= eps else max(lr * factor, lo) for lr, lo in zip(lrs, mins)]
            cool, bad = cooldown, 0
    return np.array(out)


def lam(e):
    return 0.9 ** e + 0.1 * (e % 3)


def mult(e):
    return 0.95 if e % 2 else 1.02


# name -> (build(module, optimizer), the reference sequence, optimizer kwargs, extra per-group value)
SPECS = {
    "LambdaLR": (lambda M, o: M.LambdaLR(o, lam), per_group(lambda e, b: b * lam(e))),
    "LambdaLR-per-group": (lambda M, o: M.LambdaLR(o, [lam, lambda e: 1 / (1 + e)]),
                           np.array([[BASE[0] * lam(e), BASE[1] / (1 + e)] for e in range(N)])),
    "MultiplicativeLR": (lambda M, o: M.MultiplicativeLR(o, mult),
                         per_group(lambda e, b: b * math.prod(mult(k) for k in range(1, e + 1)))),
    "StepLR": (lambda M, o: M.StepLR(o, 4, 0.5), per_group(lambda e, b: b * 0.5 ** (e // 4))),
    "StepLR every epoch": (lambda M, o: M.StepLR(o, 1, 0.5), per_group(lambda e, b: b * 0.5 ** e)),
    "MultiStepLR": (lambda M, o: M.MultiStepLR(o, [3, 8, 8, 20], 0.5),
                    per_group(lambda e, b: b * 0.5 ** sum(m <= e for m in [3, 8, 8, 20]))),
    "ConstantLR": (lambda M, o: M.ConstantLR(o, 0.25, 6), per_group(lambda e, b: b * (0.25 if e < 6 else 1.0))),
    "ConstantLR-default": (lambda M, o: M.ConstantLR(o), per_group(lambda e, b: b * (1 / 3 if e < 5 else 1.0))),
    "LinearLR": (lambda M, o: M.LinearLR(o, 0.2, 0.9, 10),
                 per_group(lambda e, b: b * (0.2 + 0.7 * min(e, 10) / 10))),
    "LinearLR-default": (lambda M, o: M.LinearLR(o), per_group(lambda e, b: b * (1 / 3 + 2 / 3 * min(e, 5) / 5))),
    "ExponentialLR": (lambda M, o: M.ExponentialLR(o, 0.9), per_group(lambda e, b: b * 0.9 ** e)),
    "PolynomialLR": (lambda M, o: M.PolynomialLR(o, 12, 2.0), per_group(lambda e, b: b * (1 - min(e, 12) / 12) ** 2)),
    "PolynomialLR-default": (lambda M, o: M.PolynomialLR(o), per_group(lambda e, b: b * (1 - min(e, 5) / 5))),
    "CosineAnnealingLR": (lambda M, o: M.CosineAnnealingLR(o, 7, 0.01),
                          per_group(lambda e, b: cos_anneal(e, b, 7, 0.01))),
    "CosineAnnealingWarmRestarts": (lambda M, o: M.CosineAnnealingWarmRestarts(o, 3, 2, 0.001),
                                    per_group(lambda e, b: warm_restarts(e, b, 3, 2, 0.001))),
    "CosineAnnealingWarmRestarts-Tmult1": (lambda M, o: M.CosineAnnealingWarmRestarts(o, 4),
                                           per_group(lambda e, b: warm_restarts(e, b, 4, 1, 0.0))),
    "SequentialLR": (
        lambda M, o: M.SequentialLR(o, [M.LinearLR(o, 0.1, 1.0, 5), M.ExponentialLR(o, 0.9), M.StepLR(o, 2, 0.5)],
                                    [5, 12]),
        per_group(lambda e, b: b * (0.1 + 0.9 * e / 5) if e < 5 else b * 0.9 ** (e - 5) if e < 12
                  else b * 0.5 ** ((e - 12) // 2))),
    "ChainedScheduler": (
        lambda M, o: M.ChainedScheduler([M.ConstantLR(o, 0.1, 3), M.ExponentialLR(o, 0.9),
                                         M.CosineAnnealingLR(o, 40)]),
        per_group(lambda e, b: b * (0.1 if e < 3 else 1.0) * 0.9 ** e * (1 + math.cos(math.pi * e / 40)) / 2)),
    "CyclicLR-triangular": (
        lambda M, o: M.CyclicLR(o, 0.01, [0.1, 0.2], 4, 3, cycle_momentum=False),
        np.array([[lo + (hi - lo) * triangle(e, 4, 3) for lo, hi in ((0.01, 0.1), (0.01, 0.2))] for e in range(N)])),
    "CyclicLR-triangular2": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 3, mode="triangular2", cycle_momentum=False),
        per_group(lambda e, b: 0.01 + 0.09 * triangle(e, 3, 3) / 2 ** (e // 6))),
    "CyclicLR-exp_range": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 3, mode="exp_range", gamma=0.95, cycle_momentum=False),
        per_group(lambda e, b: 0.01 + 0.09 * triangle(e, 3, 3) * 0.95 ** e)),
    "CyclicLR-scale_fn": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 2, 4, scale_fn=lambda x: 1 / x, scale_mode="cycle",
                                cycle_momentum=False),
        per_group(lambda e, b: 0.01 + 0.09 * triangle(e, 2, 4) / (e // 6 + 1))),
    "OneCycleLR": (lambda M, o: M.OneCycleLR(o, [0.1, 0.3], total_steps=N + 1, cycle_momentum=False),
                   np.array([[one_cycle(e, top, N + 1) for top in (0.1, 0.3)] for e in range(N)])),
    "OneCycleLR-linear-three-phase": (
        lambda M, o: M.OneCycleLR(o, 0.1, epochs=4, steps_per_epoch=8, pct_start=0.25, three_phase=True,
                                  anneal_strategy="linear", div_factor=10.0, final_div_factor=100.0,
                                  cycle_momentum=False),
        per_group(lambda e, b: one_cycle(e, 0.1, 32, 0.25, 10.0, 100.0, three_phase=True, cos=False))),
}

MOMENTUM_SPECS = {  # momentum (SGD) or beta1 (Adam) cycled against the rate
    "CyclicLR-SGD-momentum": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 4), {"momentum": 0.5}, lambda g: g["momentum"],
        np.array([[0.01 + 0.09 * triangle(e, 4, 4)] * 2 + [0.9 - 0.1 * triangle(e, 4, 4)] * 2 for e in range(N)])),
    "CyclicLR-Adam-beta1": (
        lambda M, o: M.CyclicLR(o, 0.01, 0.1, 4, mode="exp_range", gamma=0.9, base_momentum=0.7,
                                max_momentum=0.95),
        "Adam", lambda g: g["betas"][0],
        np.array([[0.01 + 0.09 * triangle(e, 4, 4) * 0.9 ** e] * 2
                  + [0.95 - 0.25 * triangle(e, 4, 4) * 0.9 ** e] * 2 for e in range(N)])),
    "OneCycleLR-SGD-momentum": (
        lambda M, o: M.OneCycleLR(o, 0.1, total_steps=N + 1), {"momentum": 0.5}, lambda g: g["momentum"],
        np.array([[one_cycle(e, 0.1, N + 1)] * 2 + [one_cycle(e, 0.1, N + 1, start_m=(0.95, 0.85))] * 2
                  for e in range(N)])),
    "OneCycleLR-Adam-beta1-three-phase": (
        lambda M, o: M.OneCycleLR(o, 0.1, total_steps=N + 1, three_phase=True), "Adam", lambda g: g["betas"][0],
        np.array([[one_cycle(e, 0.1, N + 1, three_phase=True)] * 2
                  + [one_cycle(e, 0.1, N + 1, three_phase=True, start_m=(0.95, 0.85))] * 2 for e in range(N)])),
}


def _momentum_opt(okw, lib=None):
    return make_opt(okw, lib) if isinstance(okw, str) else make_opt("SGD", lib, **okw)


@pytest.mark.parametrize("name", list(SPECS))
def test_rates_follow_the_formula(name):
    build, want = SPECS[name]
    opt = make_opt()
    np.testing.assert_allclose(sequence(build(S, opt), opt), want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", [n for n in SPECS if not n.startswith(("SequentialLR", "ChainedScheduler"))])
def test_last_epoch_counts_the_steps(name):
    # PyTorch's last_epoch: 0 after construction, one more per step (a resume reads it)
    opt = make_opt()
    sched = SPECS[name][0](S, opt)
    assert sched.last_epoch == 0
    for k in range(1, 8):
        opt.step()
        sched.step()
        assert sched.last_epoch == k, (name, k, sched.last_epoch)


@pytest.mark.parametrize("name", list(MOMENTUM_SPECS))
def test_cycled_momentum_follows_the_formula(name):
    build, okw, extra, want = MOMENTUM_SPECS[name]
    opt = _momentum_opt(okw)
    np.testing.assert_allclose(sequence(build(S, opt), opt, extra=extra), want, rtol=1e-12, atol=1e-15)
    if okw == "Adam":
        assert all(g["betas"][1] == 0.999 for g in opt.param_groups)  # beta2 is left alone


@pytest.mark.parametrize("name", list(SPECS))
def test_rates_match_torch(name):
    torch = pytest.importorskip("torch")
    build, _ = SPECS[name]
    opt, topt = make_opt(), make_opt(lib=torch)
    np.testing.assert_allclose(sequence(build(S, opt), opt), sequence(build(torch.optim.lr_scheduler, topt), topt),
                               rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("name", list(MOMENTUM_SPECS))
def test_cycled_momentum_matches_torch(name):
    torch = pytest.importorskip("torch")
    build, okw, extra, _ = MOMENTUM_SPECS[name]
    opt, topt = _momentum_opt(okw), _momentum_opt(okw, torch)
    np.testing.assert_allclose(sequence(build(S, opt), opt, extra=extra),
                               sequence(build(torch.optim.lr_scheduler, topt), topt, extra=extra),
                               rtol=1e-13, atol=1e-16)


PLATEAU = [
    ({"patience": 2, "cooldown": 1, "factor": 0.5, "min_lr": [0.02, 0.0]},
     [5, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]),
    ({"mode": "max", "threshold_mode": "abs", "threshold": 0.5, "patience": 1},
     [1, 1.4, 1.6, 2.2, 2.3, 2.4, 2.5, 3.1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]),
    # mode min by an absolute threshold: 9.4 is no better than 9.7 - 0.5 (a relative 0.5 would ask for 4.85)
    ({"threshold_mode": "abs", "threshold": 0.5, "patience": 1},
     [10, 9.7, 9.4, 8.8, 8.5, 8.4, 7.7, 7.5, 7.5, 7.5, 7.5, 7.5, 7.5, 7.5]),
    ({"factor": 0.5, "patience": 0, "min_lr": 0.04, "eps": 1e-3}, [1.0] * 12),
    # a cut smaller than eps is skipped: the first group is cut once (0.1 -> 0.05, more than
    # eps), then never (0.05 -> 0.025 is less); the second group never
    ({"factor": 0.5, "patience": 0, "eps": 0.04}, [1.0] * 8),
    ({"mode": "max", "patience": 3, "threshold": 0.1}, [1, 1.05, 1.08, 1.09, 1.2, 1.3, 1.3, 1.3, 1.3, 1.3, 1.3]),
]


@pytest.mark.parametrize("kw, metrics", PLATEAU, ids=[str(kw) for kw, _ in PLATEAU])
def test_reduce_lr_on_plateau_follows_its_rule(kw, metrics):
    opt = make_opt()
    got = sequence(S.ReduceLROnPlateau(opt, **kw), opt, len(metrics), metrics=metrics)
    want = plateau_reference(metrics, BASE, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    assert got[-1, 0] < got[0, 0]  # each case does reduce


@pytest.mark.parametrize("kw, metrics", PLATEAU, ids=[str(kw) for kw, _ in PLATEAU])
def test_reduce_lr_on_plateau_matches_torch(kw, metrics):
    torch = pytest.importorskip("torch")
    opt, topt = make_opt(), make_opt(lib=torch)
    np.testing.assert_array_equal(
        sequence(S.ReduceLROnPlateau(opt, **kw), opt, len(metrics), metrics=metrics),
        sequence(torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kw), topt, len(metrics), metrics=metrics))


def test_reduce_lr_on_plateau_takes_a_tensor_metric():
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    sched.step(tg.tensor(1.0))
    sched.step(tg.tensor(1.0))
    assert sched.get_last_lr() == [0.05, 0.025] and sched.best == 1.0


# ------------------------------------------------------------ state dicts
RESUME = {**{k: (v[0], "SGD") for k, v in SPECS.items()},
          **{k: (v[0], v[1]) for k, v in MOMENTUM_SPECS.items()}}


@pytest.mark.parametrize("name", list(RESUME))
def test_resuming_from_state_dicts_gives_the_same_sequence(name):
    """Stop after 11 steps, save the optimizer's and the scheduler's state dicts, build
    both anew (the constructor moves the rate), load, and the rest of the sequence
    (rates and cycled momentum) is the uninterrupted run's."""
    build, okw = RESUME[name]

    def extra(g):
        return g["betas"][0] if "betas" in g else g["momentum"]

    opt = _momentum_opt(okw)
    full = sequence(build(S, opt), opt, extra=extra)
    opt = _momentum_opt(okw)
    sched = build(S, opt)
    first = sequence(sched, opt, 11, extra=extra)
    saved_sched, saved_opt = sched.state_dict(), opt.state_dict()
    opt2 = _momentum_opt(okw)
    for g in opt2.param_groups:
        g["lr"] = 0.7
    sched2 = build(S, opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    rest = sequence(sched2, opt2, N - 11, extra=extra)
    np.testing.assert_array_equal(np.concatenate([first, rest]), full)


def test_resuming_reduce_lr_on_plateau():
    metrics = PLATEAU[0][1]
    opt = make_opt()
    full = sequence(S.ReduceLROnPlateau(opt, patience=2, factor=0.5), opt, len(metrics), metrics=metrics)
    opt = make_opt()
    sched = S.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    first = sequence(sched, opt, 9, metrics=metrics)
    sd, osd = sched.state_dict(), opt.state_dict()
    opt2 = make_opt()
    sched2 = S.ReduceLROnPlateau(opt2, patience=7, factor=0.9)
    opt2.load_state_dict(osd)
    sched2.load_state_dict(sd)
    rest = sequence(sched2, opt2, len(metrics) - 9, metrics=metrics[9:])
    np.testing.assert_array_equal(np.concatenate([first, rest]), full)


def test_lambda_state_dict_keeps_a_callable_objects_attributes_not_functions():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, e):
            return self.rate ** e

    opt = make_opt()
    sched = S.LambdaLR(opt, [Decay(), lam])
    sched.lr_lambdas[0].rate = 0.8
    sd = sched.state_dict()
    assert sd["lr_lambdas"] == [{"rate": 0.8}, None]
    sched2 = S.LambdaLR(make_opt(), [Decay(), lam])
    sched2.load_state_dict(sd)
    assert sched2.lr_lambdas[0].rate == 0.8 and sched2.lr_lambdas[1] is lam


def test_a_constructor_with_last_epoch_resumes_from_the_groups_initial_lr():
    opt = make_opt()
    sched = S.ExponentialLR(opt, 0.5)
    for _ in range(3):
        sched.step()
    assert opt.param_groups[0]["initial_lr"] == 0.1
    again = S.ExponentialLR(opt, 0.5, last_epoch=sched.last_epoch)
    assert again.last_epoch == 4 and again.base_lrs == list(BASE)
    with pytest.raises(KeyError, match="StepLR: param_groups\\[0\\] has no 'initial_lr'.*last_epoch=3"):
        S.StepLR(make_opt(), 2, last_epoch=3)


# -------------------------------------------------------- chainable form
def test_a_rate_set_by_hand_carries_on_as_in_pytorch():
    """The chainable form: StepLR and ExponentialLR continue from the current lr."""
    def run(lib, module):
        opt = make_opt(lib=lib)
        sched = module.ChainedScheduler([module.StepLR(opt, 3, 0.5), module.ExponentialLR(opt, 0.9)])
        out = []
        for t in range(12):
            if t == 5:
                opt.param_groups[0]["lr"] = 1.0
            sched.step()
            out.append(sched.get_last_lr())
        return np.array(out)

    ours = run(None, S)
    # by hand: group 0 restarts from 1.0 at epoch 5 (set before step 6): then * 0.9 each step, * 0.5 at 6, 9, 12
    want = [BASE[0] * 0.5 ** (e // 3) * 0.9 ** e for e in range(1, 6)]
    want += [1.0 * 0.9 ** (e - 5) * 0.5 ** (e // 3 - 1) for e in range(6, 13)]
    np.testing.assert_allclose(ours[:, 0], want, rtol=1e-13)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours, run(torch, torch.optim.lr_scheduler), rtol=1e-13)


@pytest.mark.parametrize("name, build, closed", [
    ("StepLR", lambda o: S.StepLR(o, 4, 0.5), lambda e, b: b * 0.5 ** (e // 4)),
    ("MultiStepLR", lambda o: S.MultiStepLR(o, [2, 6], 0.1), lambda e, b: b * 0.1 ** sum(m <= e for m in (2, 6))),
    ("ExponentialLR", lambda o: S.ExponentialLR(o, 0.9), lambda e, b: b * 0.9 ** e),
    ("LinearLR", lambda o: S.LinearLR(o, 0.5, 1.0, 8), lambda e, b: b * (0.5 + 0.5 * min(e, 8) / 8)),
    ("CosineAnnealingLR", lambda o: S.CosineAnnealingLR(o, 10), lambda e, b: cos_anneal(e, b, 10, 0.0)),
    ("PolynomialLR", lambda o: S.PolynomialLR(o, 8, 2.0), lambda e, b: b * (1.0 - min(e, 8) / 8) ** 2.0),
])
def test_step_with_an_epoch_jumps_to_the_closed_form_with_pytorchs_warning(name, build, closed):
    opt = make_opt()
    sched = build(opt)
    for e in (7, 3, 12):
        with pytest.warns(UserWarning, match="epoch parameter"):
            sched.step(e)
        assert sched.last_epoch == e
        np.testing.assert_allclose(sched.get_last_lr(), [closed(e, b) for b in BASE], rtol=1e-13)


class _Scale:
    """A scale function with state: CyclicLR's state dict carries its __dict__."""

    def __init__(self, k=1.0):
        self.k = k

    def __call__(self, x):
        return self.k / x


def test_cyclic_lr_restores_the_state_of_a_custom_scale_function_object():
    """As PyTorch: a scale_fn that is an object saves its attributes and a resumed
    scheduler's own object takes them, so the rates continue where they were."""
    def build(k):
        opt = make_opt()
        return opt, S.CyclicLR(opt, 0.01, 0.1, 2, 4, scale_fn=_Scale(k), scale_mode="cycle", cycle_momentum=False)

    opt, first = build(0.5)
    for _ in range(7):
        opt.step()
        first.step()
    state = first.state_dict()
    assert state["_scale_fn_custom"] == {"k": 0.5}
    opt2, resumed = build(1.0)
    resumed.load_state_dict(state)
    assert resumed._scale_fn_custom.k == 0.5
    for _ in range(6):
        opt.step()
        first.step()
        opt2.step()
        resumed.step()
        assert resumed.get_last_lr() == first.get_last_lr()


def test_warm_restarts_take_fractional_epochs_as_pytorch():
    def run(module, opt):
        sched = module.CosineAnnealingWarmRestarts(opt, 2, 3, 0.001)
        out = []
        for e in np.arange(0, 12, 0.25):
            sched.step(float(e))
            out.append(sched.get_last_lr())
        return np.array(out)

    ours = run(S, make_opt())

    def frac(e, b):  # T_i = 2, 6, 18...; T_cur the time since the last restart
        t, ti = e, 2
        while t >= ti:
            t, ti = t - ti, ti * 3
        return 0.001 + (b - 0.001) * (1 + math.cos(math.pi * t / ti)) / 2

    np.testing.assert_allclose(ours, [[frac(e, b) for b in BASE] for e in np.arange(0, 12, 0.25)], rtol=1e-12)
    torch = pytest.importorskip("torch")
    np.testing.assert_allclose(ours, run(torch.optim.lr_scheduler, make_opt(lib=torch)), rtol=1e-13)


def test_a_users_scheduler_subclasses_lrscheduler_as_in_pytorch():
    class Halve(S.LRScheduler):
        def get_lr(self):
            return [g["lr"] * (0.5 if self.last_epoch > 0 else 1.0) for g in self.optimizer.param_groups]

    opt = make_opt()
    np.testing.assert_allclose(sequence(Halve(opt), opt, 6), per_group(lambda e, b: b * 0.5 ** e, 6), rtol=1e-15)
    assert all(issubclass(getattr(S, n), S.LRScheduler) for n in S.__all__)


def test_the_optimizer_steps_with_the_scheduled_rate():
    p = tg.tensor([0.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    sched = S.MultiStepLR(opt, [2, 4], 0.5)
    for _ in range(6):
        p.grad = tg.tensor([-1.0])
        opt.step()
        sched.step()
    assert p.item() == pytest.approx(1 + 1 + 0.5 + 0.5 + 0.25 + 0.25)


def test_one_cycle_refuses_to_step_past_its_total():
    opt = make_opt()
    sched = S.OneCycleLR(opt, 0.1, total_steps=3, cycle_momentum=False)
    for _ in range(3):  # as PyTorch's: rates for steps 0..total_steps
        sched.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 4 times, past total_steps=3"):
        sched.step()


def test_sequential_lr_rejects_plateau_and_other_optimizers():
    opt, other = make_opt(), make_opt()
    with pytest.raises(TypeError, match="SequentialLR: schedulers\\[1\\] is a ReduceLROnPlateau"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.ReduceLROnPlateau(opt)], [3])
    with pytest.raises(ValueError, match="SequentialLR: every scheduler must belong to the same optimizer"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(other, 2)], [3])
    # without an optimizer given, the first scheduler's is the one: the other is named, as PyTorch names it
    with pytest.raises(ValueError, match="ChainedScheduler: every scheduler must belong to the same optimizer; "
                                         "schedulers\\[1\\]"):
        S.ChainedScheduler([S.StepLR(opt, 2), S.StepLR(other, 2)])
    with pytest.raises(ValueError, match="schedulers\\[2\\]"):
        S.ChainedScheduler([S.StepLR(opt, 2), S.ExponentialLR(opt, 0.5), S.StepLR(other, 2)])
    assert S.ChainedScheduler([S.StepLR(other, 2), S.ExponentialLR(other, 0.5)]).optimizer is other


# ---------------------------------------------------------------- errors
BAD = [
    (lambda o: S.LambdaLR(o, 3), TypeError, ["LambdaLR", "lr_lambda", "function", "int 3"]),
    (lambda o: S.LambdaLR(o, [lam]), ValueError, ["LambdaLR", "lr_lambda", "per parameter group (2)", "got 1"]),
    (lambda o: S.MultiplicativeLR(o, "x"), TypeError, ["MultiplicativeLR", "lr_lambda", "'x'"]),
    (lambda o: S.MultiStepLR(o, 5), TypeError, ["MultiStepLR", "milestones", "iterable of ints", "5"]),
    (lambda o: S.MultiStepLR(o, [2, -1]), ValueError, ["MultiStepLR", "milestones", ">= 0", "-1"]),
    (lambda o: S.ConstantLR(o, factor=1.5), ValueError, ["ConstantLR", "factor", "<= 1.0", "1.5"]),
    (lambda o: S.ConstantLR(o, total_iters=-1), ValueError, ["ConstantLR", "total_iters", ">= 0", "-1"]),
    (lambda o: S.LinearLR(o, start_factor=0.0), ValueError, ["LinearLR", "start_factor", "> 0.0", "0.0"]),
    (lambda o: S.LinearLR(o, end_factor=1.2), ValueError, ["LinearLR", "end_factor", "<= 1.0", "1.2"]),
    (lambda o: S.LinearLR(o, total_iters=0), ValueError, ["LinearLR", "total_iters", ">= 1", "0"]),
    (lambda o: S.ExponentialLR(o, "0.9"), TypeError, ["ExponentialLR", "gamma", "number", "'0.9'"]),
    (lambda o: S.PolynomialLR(o, total_iters=0), ValueError, ["PolynomialLR", "total_iters", ">= 1", "0"]),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 0), ValueError, ["CosineAnnealingWarmRestarts", "T_0", ">= 1", "0"]),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3, T_mult=1.5), TypeError,
     ["CosineAnnealingWarmRestarts", "T_mult", "int", "1.5"]),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [2, 4]), ValueError,
     ["SequentialLR", "one milestone fewer than schedulers (1)", "got 2"]),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)] * 4, [2]), ValueError,
     ["SequentialLR", "one milestone fewer than schedulers (3)", "got 1 milestones for 4 schedulers"]),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2)] * 3, [5, 2]), ValueError,
     ["SequentialLR", "milestones", "increasing", "[5, 2]"]),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], 3), TypeError,
     ["SequentialLR", "milestones", "list of ints", "int"]),
    (lambda o: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], {3}), TypeError,  # a set has no order
     ["SequentialLR", "milestones", "list of ints", "set"]),
    (lambda o: S.SequentialLR(o, [], []), ValueError, ["SequentialLR", "at least one scheduler"]),
    (lambda o: S.ChainedScheduler([]), ValueError, ["ChainedScheduler", "at least one scheduler"]),
    (lambda o: S.ChainedScheduler([o]), TypeError, ["ChainedScheduler", "schedulers[0]", "SGD"]),
    (lambda o: S.ReduceLROnPlateau(o, factor=1.0), ValueError, ["ReduceLROnPlateau", "factor", "< 1.0", "1.0"]),
    (lambda o: S.ReduceLROnPlateau(o, mode="avg"), ValueError, ["ReduceLROnPlateau", "mode", "'min', 'max'", "'avg'"]),
    (lambda o: S.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, ["ReduceLROnPlateau", "threshold_mode", "'x'"]),
    (lambda o: S.ReduceLROnPlateau(o, patience=-1), ValueError, ["ReduceLROnPlateau", "patience", ">= 0", "-1"]),
    (lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError,
     ["ReduceLROnPlateau", "min_lr", "per parameter group (2)", "[0.1]"]),
    (lambda o: S.ReduceLROnPlateau(o).step("high"), TypeError, ["ReduceLROnPlateau.step", "metrics", "str"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="sine"), ValueError, ["CyclicLR", "mode", "'triangular'", "'sine'"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=0), ValueError, ["CyclicLR", "step_size_up", "> 0", "0"]),
    (lambda o: S.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]), ValueError, ["CyclicLR", "max_lr", "(2)", "3 values"]),
    (lambda o: S.CyclicLR(o, -0.01, 0.1), ValueError, ["CyclicLR", "base_lr", ">= 0", "-0.01"]),
    (lambda o: S.OneCycleLR(o, 0.1), ValueError, ["OneCycleLR", "total_steps", "epochs and steps_per_epoch"]),
    (lambda o: S.OneCycleLR(o, 0.1, total_steps=0), ValueError, ["OneCycleLR", "total_steps", ">= 1", "0"]),
    (lambda o: S.OneCycleLR(o, 0.1, epochs=2.5, steps_per_epoch=4), TypeError, ["OneCycleLR", "epochs", "2.5"]),
    (lambda o: S.OneCycleLR(o, 0.1, 10, pct_start=1.5), ValueError, ["OneCycleLR", "pct_start", "<= 1.0", "1.5"]),
    (lambda o: S.OneCycleLR(o, 0.1, 10, anneal_strategy="exp"), ValueError,
     ["OneCycleLR", "anneal_strategy", "'cos', 'linear'", "'exp'"]),
    (lambda o: S.StepLR(o, 2, last_epoch=-2), ValueError, ["StepLR", "last_epoch", ">= -1", "-2"]),
    (lambda o: S.OneCycleLR(o, 0.1, 10, last_epoch=-2), ValueError, ["OneCycleLR", "last_epoch", ">= -1", "-2"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, last_epoch=-2), ValueError, ["CyclicLR", "last_epoch", ">= -1", "-2"]),
    (lambda o: S.ExponentialLR([o], 0.9), TypeError, ["ExponentialLR", "optimizer", "Optimizer", "list"]),
    (lambda o: S.ExponentialLR(o, 0.9).step("3"), TypeError, ["ExponentialLR.step", "epoch", "'3'"]),
]


@pytest.mark.parametrize("make, error, says", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_arguments_are_refused_with_the_scheduler_the_value_and_what_is_expected(make, error, says):
    opt = make_opt()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error) as info:
            make(opt)
    for s in says:
        assert s in str(info.value), (s, str(info.value))


def test_cycling_momentum_needs_an_optimizer_with_momentum():
    ps = [tg.zeros(2, requires_grad=True)]
    for cls in (S.CyclicLR, S.OneCycleLR):
        with pytest.raises(ValueError, match=f"{cls.__name__}: cycle_momentum needs an optimizer with momentum or "
                                             "betas, Adagrad has neither; pass cycle_momentum=False"):
            cls(optim.Adagrad(ps), 0.01, 0.1) if cls is S.CyclicLR else cls(optim.Adagrad(ps), 0.1, 10)
    S.CyclicLR(optim.Adagrad(ps), 0.01, 0.1, cycle_momentum=False)  # fine without


def test_load_state_dict_refuses_a_bad_state_and_changes_nothing():
    opt = make_opt()
    sched = S.SequentialLR(opt, [S.ConstantLR(opt, 0.5, 2), S.ExponentialLR(opt, 0.9)], [3])
    sd = sched.state_dict()
    sd["_schedulers"] = sd["_schedulers"][:1]
    with pytest.raises(ValueError, match="SequentialLR.load_state_dict: _schedulers must hold one state per "
                                         "scheduler \\(2\\), got 1"):
        sched.load_state_dict(sd)
    one = S.ExponentialLR(make_opt(), 0.9)
    for bad_lrs in ([0.1], [0.1, 0.2, 0.3], 0.1):  # one rate per parameter group
        with pytest.raises(ValueError, match="ExponentialLR.load_state_dict: base_lrs must hold one rate per "
                                             "parameter group \\(2\\)"):
            one.load_state_dict({**one.state_dict(), "base_lrs": bad_lrs})
    one.load_state_dict({**one.state_dict(), "base_lrs": [0.25, 0.5]})
    assert one.base_lrs == [0.25, 0.5]
    plateau = S.ReduceLROnPlateau(opt)
    bad = {**plateau.state_dict(), "mode": "median"}
    with pytest.raises(ValueError, match="ReduceLROnPlateau: mode must be one of 'min', 'max', got 'median'"):
        plateau.load_state_dict(bad)
    assert plateau.mode == "min"


@pytest.mark.parametrize(("kw", "name"), [({"threshold": -0.5}, "threshold"), ({"threshold": -1e-9}, "threshold"),
                                          ({"factor": 1.0}, "factor"), ({"eps": -1.0}, "eps"),
                                          ({"patience": -1}, "patience"), ({"cooldown": -2}, "cooldown")])
def test_reduce_lr_on_plateau_refuses_settings_that_cannot_mean_anything(kw, name):
    """A negative threshold would count a worse metric as better; a factor of 1 never cuts."""
    with pytest.raises(ValueError, match=f"ReduceLROnPlateau.*{name}"):
        S.ReduceLROnPlateau(make_opt(), **kw)
    S.ReduceLROnPlateau(make_opt(), threshold=0.0)  # zero is allowed: any improvement counts


@pytest.mark.parametrize("name, kwargs", [("div_factor", {"div_factor": 0.0}), ("div_factor", {"div_factor": -2.0}),
                                          ("final_div_factor", {"final_div_factor": 0.0})])
def test_one_cycle_refuses_a_divisor_that_is_not_positive(name, kwargs):
    """max_lr / div_factor is the first rate and / final_div_factor the last: both must be > 0."""
    opt = optim.SGD([tg.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=f"OneCycleLR: {name} must be > 0"):
        S.OneCycleLR(opt, 0.05, total_steps=10, **kwargs)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]  # nothing changed


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_warm_restarts_jump_to_any_integer_epoch_forwards_and_back(t_mult):
    """step(epoch) with the restart rule that ``t_mult`` selects (equal periods for 1,
    growing ones otherwise): each epoch lands where the stepped sequence is, however reached."""
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, 3, t_mult, 0.001)
    for e in (7, 3, 12, 0, 4, 40, 2):
        sched.step(e)
        np.testing.assert_allclose(sched.get_last_lr(), [warm_restarts(e, b, 3, t_mult, 0.001) for b in BASE],
                                   rtol=1e-12, err_msg=f"epoch {e}")


# every count a scheduler takes: (build(optimizer, value), the argument's name)
_COUNTS = {
    "StepLR.step_size": (lambda o, v: S.StepLR(o, v), "step_size"),
    "MultiStepLR.milestones": (lambda o, v: S.MultiStepLR(o, [1, v]), "milestones"),
    "ConstantLR.total_iters": (lambda o, v: S.ConstantLR(o, total_iters=v), "total_iters"),
    "LinearLR.total_iters": (lambda o, v: S.LinearLR(o, total_iters=v), "total_iters"),
    "PolynomialLR.total_iters": (lambda o, v: S.PolynomialLR(o, total_iters=v), "total_iters"),
    "OneCycleLR.total_steps": (lambda o, v: S.OneCycleLR(o, 0.1, total_steps=v), "total_steps"),
    "OneCycleLR.epochs": (lambda o, v: S.OneCycleLR(o, 0.1, epochs=v, steps_per_epoch=2), "epochs"),
    "OneCycleLR.steps_per_epoch": (lambda o, v: S.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=v), "steps_per_epoch"),
    "CosineAnnealingWarmRestarts.T_0": (lambda o, v: S.CosineAnnealingWarmRestarts(o, v), "T_0"),
    "CosineAnnealingWarmRestarts.T_mult": (lambda o, v: S.CosineAnnealingWarmRestarts(o, 2, v), "T_mult"),
    "ReduceLROnPlateau.patience": (lambda o, v: S.ReduceLROnPlateau(o, patience=v), "patience"),
    "ReduceLROnPlateau.cooldown": (lambda o, v: S.ReduceLROnPlateau(o, cooldown=v), "cooldown"),
    "SequentialLR.milestones": (lambda o, v: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [v]), "milestones"),
    "ExponentialLR.last_epoch": (lambda o, v: S.ExponentialLR(o, 0.9, last_epoch=v), "last_epoch"),
    # the schedulers that check last_epoch before the base class does (they use it first)
    "CyclicLR.last_epoch": (lambda o, v: S.CyclicLR(o, 0.01, 0.1, last_epoch=v), "last_epoch"),
    "OneCycleLR.last_epoch": (lambda o, v: S.OneCycleLR(o, 0.1, total_steps=10, last_epoch=v), "last_epoch"),
    "SequentialLR.last_epoch": (lambda o, v: S.SequentialLR(o, [S.StepLR(o, 2), S.StepLR(o, 3)], [2],
                                                            last_epoch=v), "last_epoch"),
}


@pytest.mark.parametrize("name", list(_COUNTS))
def test_every_count_a_scheduler_takes_refuses_a_float_and_a_bool_and_takes_an_int(name):
    build, arg = _COUNTS[name]
    for bad in (2.5, True, -1.0):  # -1.0 equals the default -1, where some write the groups' first rates
        opt = make_opt()
        rates = [(g["lr"], g["momentum"]) for g in opt.param_groups]
        with pytest.raises(TypeError, match=rf"{name.split('.')[0]}.*{arg}.*(int|bool)"):
            build(opt, bad)
        assert [(g["lr"], g["momentum"]) for g in opt.param_groups] == rates, bad  # refused before any write
    if arg != "last_epoch":  # (a last_epoch other than -1 wants initial_lr in every group, as in PyTorch)
        build(make_opt(), 3)


@pytest.mark.parametrize("t_0, t_mult", [(300, 1), (260, 2)])
def test_warm_restarts_restart_after_long_periods_stepped_one_at_a_time(t_0, t_mult):
    """Periods past 256 steps (where Python's small ints end): each step(), counted from the
    last restart, lands where the closed form is, and the rate is the base rate at a restart."""
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, t_0, t_mult, 0.001)
    for e in range(1, t_0 * (1 + t_mult) + 3):
        sched.step()
        np.testing.assert_allclose(sched.get_last_lr(), [warm_restarts(e, b, t_0, t_mult, 0.001) for b in BASE],
                                   rtol=1e-12, err_msg=f"epoch {e}")
        if e in (t_0, t_0 * (1 + t_mult)):
            assert sched.get_last_lr() == list(BASE)
