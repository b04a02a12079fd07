"""Schedulers at their edges, against PyTorch 2.13's rates written out as literals: a
milestone at epoch 0, T_max 1, the step that reaches total_steps, a custom scale_fn
counted by iterations, per-group momentum bounds, a constructor that resumes with
last_epoch; and the refusals of every bounded argument (the scheduler, the argument,
the value, what is expected), with the bounds themselves accepted."""
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import optim
from tinygrad_bn.optim import lr_scheduler as S

BASE = (0.1, 0.05)


def make_opt(**kw):
    """SGD with two groups, lr 0.1 and 0.05."""
    ps = [tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)]
    return optim.SGD([{"params": [ps[0]], "lr": BASE[0]}, {"params": [ps[1]], "lr": BASE[1]}], **kw)


def rates(sched, opt, n, momentum=False):
    """get_last_lr() (and each group's momentum) at construction and after each of n - 1 steps."""
    out = []
    for i in range(n):
        lrs = sched.get_last_lr()
        assert lrs == [g["lr"] for g in opt.param_groups]
        out.append(lrs + ([g["momentum"] for g in opt.param_groups] if momentum else []))
        if i < n - 1:
            sched.step()
    return np.array(out)


def test_a_milestone_at_epoch_zero_cuts_the_rate_at_construction():
    """MultiStepLR counts a milestone at 0 at the constructor's step; one listed twice counts twice."""
    # torch.optim.lr_scheduler.MultiStepLR(opt, [0, 2, 2], 0.5), rates before each of 4 steps
    want = [[0.05, 0.025], [0.05, 0.025], [0.0125, 0.00625], [0.0125, 0.00625]]
    opt = make_opt()
    np.testing.assert_allclose(rates(S.MultiStepLR(opt, [0, 2, 2], 0.5), opt, 4), want, rtol=1e-14)


def test_cosine_annealing_with_t_max_one_alternates_between_the_ends():
    """T_max 1: eta_min at every odd epoch, the base rate back at every even one."""
    # torch.optim.lr_scheduler.CosineAnnealingLR(opt, 1, 0.01)
    want = [[0.1, 0.05], [0.01, 0.01], [0.1, 0.05], [0.01, 0.01], [0.1, 0.05], [0.01, 0.01]]
    opt = make_opt()
    np.testing.assert_allclose(rates(S.CosineAnnealingLR(opt, 1, 0.01), opt, 6), want, rtol=1e-12, atol=1e-16)


def test_cyclic_lr_custom_scale_fn_counted_in_iterations():
    """scale_mode='iterations' with a scale_fn: the scale takes the step count, not the cycle number."""
    # torch.optim.lr_scheduler.CyclicLR(opt, 0.01, 0.1, 2, 4, scale_fn=lambda x: 1 / (1 + x),
    #                                   scale_mode="iterations", cycle_momentum=False)
    want = [0.01, 0.0325, 0.04, 0.026875, 0.019, 0.01375, 0.01, 0.015625]
    opt = make_opt()
    sched = S.CyclicLR(opt, 0.01, 0.1, 2, 4, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                       cycle_momentum=False)
    assert sched.scale_mode == "iterations"
    np.testing.assert_allclose(rates(sched, opt, 8), [[w, w] for w in want], rtol=1e-12)


def test_cyclic_lr_cycles_each_groups_momentum_between_its_own_bounds():
    # torch.optim.lr_scheduler.CyclicLR(SGD(momentum=0.5), 0.01, 0.1, 2, base_momentum=[0.6, 0.7],
    #                                   max_momentum=[0.9, 0.8]): lr, lr, momentum, momentum
    want = [[0.01, 0.01, 0.9, 0.8], [0.055, 0.055, 0.75, 0.75], [0.1, 0.1, 0.6, 0.7],
            [0.055, 0.055, 0.75, 0.75], [0.01, 0.01, 0.9, 0.8]]
    opt = make_opt(momentum=0.5)
    sched = S.CyclicLR(opt, 0.01, 0.1, 2, base_momentum=[0.6, 0.7], max_momentum=[0.9, 0.8])
    np.testing.assert_allclose(rates(sched, opt, 5, momentum=True), want, rtol=1e-12)


def test_one_cycle_cycles_each_groups_momentum_between_its_own_bounds_to_the_last_step():
    """Steps 0..total_steps - 1: the last one is at max_lr / div_factor / final_div_factor, each
    group's momentum back at its own max_momentum."""
    # torch.optim.lr_scheduler.OneCycleLR(SGD(momentum=0.5), 0.1, total_steps=6, base_momentum=[0.6, 0.7],
    #                                     max_momentum=[0.9, 0.8])
    want = [[0.0040000000000000036, 0.0040000000000000036, 0.9, 0.8],
            [0.09944154354509119, 0.09944154354509119, 0.6016753760662308, 0.7005584586887436],
            [0.0811745653949763, 0.0811745653949763, 0.65647652972119, 0.7188255099070633],
            [0.046263710266697504, 0.046263710266697504, 0.7612095140379637, 0.7537365046793212],
            [0.01334775301888306, 0.01334775301888306, 0.8599577807744739, 0.7866525935914913],
            [4e-07, 4e-07, 0.9, 0.8]]
    opt = make_opt(momentum=0.5)
    sched = S.OneCycleLR(opt, 0.1, total_steps=6, base_momentum=[0.6, 0.7], max_momentum=[0.9, 0.8])
    np.testing.assert_allclose(rates(sched, opt, 6, momentum=True), want, rtol=1e-12)
    assert [(g["base_momentum"], g["max_momentum"]) for g in opt.param_groups] == [(0.6, 0.9), (0.7, 0.8)]


def test_one_cycle_step_that_reaches_total_steps_carries_the_last_phase_on():
    """The step to epoch total_steps is allowed (as PyTorch's): the last phase's curve past its end."""
    # torch.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=5, cycle_momentum=False), epochs 0..5
    want = [0.0040000000000000036, 0.09504846320134738, 0.06112620219362893, 0.0188258346050237, 4e-07,
            0.01882583460502369]
    opt = make_opt()
    sched = S.OneCycleLR(opt, 0.1, total_steps=5, cycle_momentum=False)
    np.testing.assert_allclose(rates(sched, opt, 6), [[w, w] for w in want], rtol=1e-12)


def test_warm_restarts_constructed_with_last_epoch_resume_the_period():
    """last_epoch=4 after T_0=3, T_mult=2: epoch 5, two steps into the second period of 6."""
    opt = make_opt()
    first = S.CosineAnnealingWarmRestarts(opt, 3, 2, 0.001)
    for _ in range(4):
        first.step()
    resumed_opt = make_opt()
    for g in resumed_opt.param_groups:
        g["initial_lr"], g["lr"] = g["lr"], 0.7
    resumed = S.CosineAnnealingWarmRestarts(resumed_opt, 3, 2, 0.001, last_epoch=4)
    assert (resumed.last_epoch, resumed.T_cur, resumed.T_i) == (5, 2, 6)
    # torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 3, 2, 0.001, last_epoch=4), epochs 5..12
    want = [[0.07525000000000001, 0.037750000000000006], [0.0505, 0.025500000000000002],
            [0.025750000000000012, 0.013250000000000005], [0.007631742512670284, 0.004282377607281252],
            [0.1, 0.05], [0.09831332840130888, 0.04916518274408217], [0.09336825748732973, 0.046717622392718754],
            [0.0855017856687341, 0.04282411613907042]]
    np.testing.assert_allclose(rates(resumed, resumed_opt, 8), want, rtol=1e-12)
    first.step()
    np.testing.assert_allclose(rates(first, opt, 8), want, rtol=1e-12)


def test_cyclic_lr_constructed_with_last_epoch_resumes_rates_and_momentum():
    """Resumed from the optimizer's state dict after 3 steps: epoch 4 starts the second cycle."""
    first_opt = make_opt(momentum=0.5)
    first = S.CyclicLR(first_opt, 0.01, 0.1, 2)
    for _ in range(3):
        first.step()
    opt = make_opt(momentum=0.5)
    opt.load_state_dict(first_opt.state_dict())
    sched = S.CyclicLR(opt, 0.01, 0.1, 2, last_epoch=3)
    assert sched.last_epoch == 4
    # torch.optim.lr_scheduler.CyclicLR(SGD(momentum=0.5), 0.01, 0.1, 2, last_epoch=3), epochs 4..6
    want = [[0.01, 0.01, 0.9, 0.9], [0.055, 0.055, 0.85, 0.85], [0.1, 0.1, 0.8, 0.8]]
    np.testing.assert_allclose(rates(sched, opt, 3, momentum=True), want, rtol=1e-12)


# (build(optimizer), error, the words the message must hold)
REFUSED = [
    (lambda o: S.StepLR(o, 0), ValueError, ["StepLR", "step_size", ">= 1", "got 0"]),
    (lambda o: S.StepLR(o, 2, gamma="0.5"), TypeError, ["StepLR", "gamma", "number", "'0.5'"]),
    (lambda o: S.MultiStepLR(o, [1, 2], gamma=None), TypeError, ["MultiStepLR", "gamma", "number", "None"]),
    (lambda o: S.ConstantLR(o, factor=-0.1), ValueError, ["ConstantLR", "factor", ">= 0.0", "got -0.1"]),
    (lambda o: S.LinearLR(o, start_factor=1.5), ValueError, ["LinearLR", "start_factor", "<= 1.0", "got 1.5"]),
    (lambda o: S.LinearLR(o, end_factor=-0.1), ValueError, ["LinearLR", "end_factor", ">= 0.0", "got -0.1"]),
    (lambda o: S.PolynomialLR(o, power="2"), TypeError, ["PolynomialLR", "power", "number", "'2'"]),
    (lambda o: S.CosineAnnealingLR(o, 0), ValueError, ["CosineAnnealingLR", "T_max", "> 0", "got 0"]),
    (lambda o: S.CosineAnnealingLR(o, -3), ValueError, ["CosineAnnealingLR", "T_max", "> 0", "got -3"]),
    (lambda o: S.CosineAnnealingLR(o, 5, eta_min="0"), TypeError, ["CosineAnnealingLR", "eta_min", "'0'"]),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3, T_mult=0), ValueError,
     ["CosineAnnealingWarmRestarts", "T_mult", ">= 1", "got 0"]),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3, eta_min="0"), TypeError,
     ["CosineAnnealingWarmRestarts", "eta_min", "'0'"]),
    (lambda o: S.CosineAnnealingWarmRestarts(o, 3).step(-1), ValueError,
     ["CosineAnnealingWarmRestarts.step", "epoch", ">= 0", "got -1"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_down=0), ValueError, ["CyclicLR", "step_size_down", "> 0", "got 0"]),
    (lambda o: S.CyclicLR(o, 0.01, -0.1), ValueError, ["CyclicLR", "max_lr", ">= 0", "got -0.1"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, base_momentum=-0.1), ValueError,
     ["CyclicLR", "base_momentum", ">= 0", "got -0.1"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9, -0.2]), ValueError,
     ["CyclicLR", "max_momentum", ">= 0", "got -0.2"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8]), ValueError,
     ["CyclicLR", "base_momentum", "(2)", "1 values"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, gamma="a"), TypeError, ["CyclicLR", "gamma", "number", "'a'"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="x"), ValueError,
     ["CyclicLR", "scale_mode", "'cycle', 'iterations'", "'x'"]),
    (lambda o: S.CyclicLR(o, 0.01, 0.1, mode="exp_range", scale_mode="x"), ValueError,
     ["CyclicLR", "scale_mode", "'x'"]),
    (lambda o: S.OneCycleLR(o, 0.1, epochs=2), ValueError,
     ["OneCycleLR", "total_steps", "epochs and steps_per_epoch", "epochs=2", "steps_per_epoch=None"]),
    (lambda o: S.OneCycleLR(o, 0.1, steps_per_epoch=2), ValueError,
     ["OneCycleLR", "total_steps", "epochs and steps_per_epoch", "epochs=None", "steps_per_epoch=2"]),
    (lambda o: S.OneCycleLR(o, 0.1, 10, pct_start=-0.1), ValueError, ["OneCycleLR", "pct_start", ">= 0.0", "-0.1"]),
    (lambda o: S.OneCycleLR(o, -0.1, 10), ValueError, ["OneCycleLR", "max_lr", ">= 0", "got -0.1"]),
    (lambda o: S.OneCycleLR(o, 0.1, 10, base_momentum=-0.1), ValueError,
     ["OneCycleLR", "base_momentum", ">= 0", "got -0.1"]),
    (lambda o: S.LambdaLR(o, lambda e: 1.0).load_state_dict({"lr_lambdas": [None]}), ValueError,
     ["LambdaLR.load_state_dict", "lr_lambdas", "one entry per function (2)", "[None]"]),
    (lambda o: S.MultiplicativeLR(o, lambda e: 1.0).load_state_dict({"lr_lambdas": None}), ValueError,
     ["MultiplicativeLR.load_state_dict", "lr_lambdas", "(2)", "None"]),
    (lambda o: S.StepLR(o, 2).load_state_dict({"base_lrs": [0.1, -0.05]}), ValueError,
     ["StepLR.load_state_dict", "base_lrs", ">= 0.0", "-0.05"]),
    (lambda o: S.StepLR(o, 2).load_state_dict({"last_epoch": 2.5}), TypeError,
     ["StepLR.load_state_dict", "last_epoch", "int", "2.5"]),
    (lambda o: S.StepLR(o, 2).load_state_dict({"last_epoch": -2}), ValueError,
     ["StepLR.load_state_dict", "last_epoch", ">= -1", "-2"]),
]


@pytest.mark.parametrize("make, error, says", REFUSED, ids=[str(i) for i in range(len(REFUSED))])
def test_every_bounded_argument_is_refused_past_its_bound_with_what_was_expected(make, error, says):
    opt = make_opt(momentum=0.5)
    with pytest.raises(error) as info:
        make(opt)
    for s in says:
        assert s in str(info.value), (s, str(info.value))


ACCEPTED = [  # each argument at its bound
    lambda o: S.StepLR(o, 1),
    lambda o: S.MultiStepLR(o, [0]),
    lambda o: S.ConstantLR(o, factor=0.0),
    lambda o: S.ConstantLR(o, factor=1.0),
    lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0),
    lambda o: S.CosineAnnealingLR(o, 0.5),
    lambda o: S.CosineAnnealingWarmRestarts(o, 1, T_mult=1),
    lambda o: S.CyclicLR(o, 0.0, 0.0, step_size_up=0.5, step_size_down=0.5, base_momentum=0.0, max_momentum=0.0),
    lambda o: S.OneCycleLR(o, 0.0, total_steps=1, pct_start=0.0, base_momentum=0.0, max_momentum=0.0),
    lambda o: S.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=5, pct_start=1.0),
]


@pytest.mark.parametrize("make", ACCEPTED, ids=[str(i) for i in range(len(ACCEPTED))])
def test_the_bounds_themselves_are_accepted(make):
    opt = make_opt(momentum=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = make(opt)
    assert len(sched.get_last_lr()) == 2


def test_warm_restarts_step_on_from_a_fractional_epoch():
    """step(2.5) sets last_epoch to floor(2.5) and T_cur to 2.5; each step() after adds one to both,
    restarting when T_cur passes T_i, so the fraction is kept."""
    opt = make_opt()
    sched = S.CosineAnnealingWarmRestarts(opt, 3, 2, 0.001)
    sched.step(2.5)
    got = [(sched.last_epoch, sched.T_cur, sched.T_i, *sched.get_last_lr())]
    for _ in range(3):
        sched.step()
        got.append((sched.last_epoch, sched.T_cur, sched.T_i, *sched.get_last_lr()))
    # torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 3, 2, 0.001): step(2.5), then step() three times
    want = [(2, 2.5, 3, 0.007631742512670284, 0.004282377607281252),
            (3, 0.5, 6, 0.09831332840130888, 0.04916518274408217),
            (4, 1.5, 6, 0.0855017856687341, 0.04282411613907042),
            (5, 2.5, 6, 0.06331154273257478, 0.03184106660501176)]
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=1e-12)


def test_a_tuple_of_lambdas_gives_one_per_group():
    # torch.optim.lr_scheduler.LambdaLR(opt, (lambda e: 0.5 ** e, lambda e: 1 / (1 + e))), after two steps
    opt = make_opt()
    sched = S.LambdaLR(opt, (lambda e: 0.5 ** e, lambda e: 1 / (1 + e)))
    sched.step()
    sched.step()
    np.testing.assert_allclose(sched.get_last_lr(), [0.025, 0.016666666666666666], rtol=1e-14)
