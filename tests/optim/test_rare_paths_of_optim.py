"""Less travelled paths of the optimizers and learning-rate schedulers.

- ``scheduler.step(epoch)`` (PyTorch's deprecated explicit-epoch form) sets the rate from
  the closed form: ConstantLR and CosineAnnealingLR checked against PyTorch's formulas,
  against the values PyTorch gives, and against the chained rates at the same epochs.
- ReduceLROnPlateau when a parameter group is added after it was made.
- ChainedScheduler given its optimizer, AveragedModel on another device, Adam state
  loaded with 0-d tensors.
- The errors for bad arguments and bad state dicts: the exception class PyTorch raises
  and a message that names the argument and the bad value.
"""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.optim import lr_scheduler as S
from tinygrad_bn.optim.swa_utils import SWALR, AveragedModel, update_bn

BASE = (0.1, 0.05)


def two_groups(kind=optim.SGD, **kw):
    """An optimizer with two parameter groups, lr 0.1 and 0.05."""
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    return kind([{"params": [a], "lr": BASE[0]}, {"params": [b], "lr": BASE[1]}], **kw)


def step_at(sched, epoch):
    """``sched.step(epoch)`` without the deprecation warning (tested on its own below)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sched.step(epoch)
    return sched.get_last_lr()


# ---------------------------------------------------------------- ConstantLR closed form

def constant_closed(base, epoch, factor, total_iters):
    """PyTorch's ConstantLR._get_closed_form_lr."""
    return base * (factor + (epoch >= total_iters) * (1 - factor))


@pytest.mark.parametrize("epoch", [0, 1, 2, 3, 4, 7])
def test_constant_lr_step_with_an_epoch_uses_the_closed_form(epoch):
    opt = two_groups()
    sched = S.ConstantLR(opt, factor=0.25, total_iters=3)
    lrs = step_at(sched, epoch)
    # base * factor before total_iters, base from total_iters on (epoch 3 is already full rate)
    want = [b * 0.25 for b in BASE] if epoch < 3 else list(BASE)
    assert lrs == pytest.approx(want, rel=1e-12, abs=0)
    assert lrs == pytest.approx([constant_closed(b, epoch, 0.25, 3) for b in BASE], rel=1e-12, abs=0)
    assert [g["lr"] for g in opt.param_groups] == lrs
    assert sched.last_epoch == epoch


def test_constant_lr_closed_form_jumps_back_and_forth_in_any_order():
    opt = two_groups()
    sched = S.ConstantLR(opt, factor=0.25, total_iters=3)
    got = [step_at(sched, e) for e in (5, 1, 3, 2, 0)]
    want = [[0.1, 0.05], [0.025, 0.0125], [0.1, 0.05], [0.025, 0.0125], [0.025, 0.0125]]
    assert got == [pytest.approx(w, rel=1e-12, abs=0) for w in want]


def test_constant_lr_closed_form_equals_the_chained_rates():
    chained_opt, closed_opt = two_groups(), two_groups()
    chained = S.ConstantLR(chained_opt, factor=0.4, total_iters=2)
    closed = S.ConstantLR(closed_opt, factor=0.4, total_iters=2)
    for epoch in range(1, 6):
        chained.step()
        assert step_at(closed, epoch) == pytest.approx(chained.get_last_lr(), rel=1e-12, abs=0)
    assert closed.get_last_lr() == pytest.approx(list(BASE), rel=1e-12, abs=0)


def test_constant_lr_with_zero_total_iters_is_at_full_rate_from_epoch_zero():
    sched = S.ConstantLR(two_groups(), factor=0.25, total_iters=0)
    assert step_at(sched, 0) == pytest.approx(list(BASE), rel=1e-12, abs=0)


# ---------------------------------------------------------- CosineAnnealingLR closed form

def cosine_closed(base, epoch, t_max, eta_min):
    """PyTorch's documented rate: eta_min + (base - eta_min) * (1 + cos(pi * epoch / T_max)) / 2."""
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * epoch / t_max)) / 2


# the rates torch.optim.lr_scheduler.CosineAnnealingLR(T_max=4, eta_min=0.01).step(epoch) sets
TORCH_COSINE = {
    0: [0.1, 0.05],
    1: [0.08681980515339464, 0.044142135623730955],
    2: [0.055, 0.03],
    3: [0.023180194846605363, 0.01585786437626905],
    4: [0.01, 0.01],
    5: [0.023180194846605356, 0.015857864376269046],
    6: [0.055, 0.03],
    8: [0.1, 0.05],
}


@pytest.mark.parametrize("epoch", sorted(TORCH_COSINE))
def test_cosine_annealing_step_with_an_epoch_uses_the_closed_form(epoch):
    opt = two_groups()
    sched = S.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    lrs = step_at(sched, epoch)
    assert lrs == pytest.approx(TORCH_COSINE[epoch], rel=1e-12, abs=1e-15)
    assert lrs == pytest.approx([cosine_closed(b, epoch, 4, 0.01) for b in BASE], rel=1e-12, abs=1e-15)
    assert [g["lr"] for g in opt.param_groups] == lrs


def test_cosine_annealing_closed_form_after_chained_steps_ignores_the_current_rate():
    # the closed form starts from base_lrs, not from the rate the chained steps left
    opt = two_groups()
    sched = S.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    sched.step()
    sched.step()
    assert step_at(sched, 3) == pytest.approx(TORCH_COSINE[3], rel=1e-12)
    assert step_at(sched, 1) == pytest.approx(TORCH_COSINE[1], rel=1e-12)


def test_cosine_annealing_closed_form_equals_the_chained_rates_over_two_periods():
    # T_max = 5, eta_min = 0.002: the chained (recursive) form and the closed form agree
    # up to rounding at every epoch, past T_max too (the rate rises back, period 2 T_max)
    chained_opt, closed_opt = two_groups(), two_groups()
    chained = S.CosineAnnealingLR(chained_opt, T_max=5, eta_min=0.002)
    closed = S.CosineAnnealingLR(closed_opt, T_max=5, eta_min=0.002)
    for epoch in range(1, 21):
        chained.step()
        want = [cosine_closed(b, epoch, 5, 0.002) for b in BASE]
        assert step_at(closed, epoch) == pytest.approx(chained.get_last_lr(), rel=1e-9, abs=1e-15)
        assert closed.get_last_lr() == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("epoch", [1, 3, 6])
def test_cosine_annealing_first_step_of_a_restored_schedule_uses_the_closed_form(epoch):
    # a state saved before the schedule's first step (step count 0) at a later epoch: the
    # first chained step has no previous rate of this schedule to go on, so it takes the
    # closed form from base_lrs (PyTorch's branch for _step_count == 1 and epoch > 0)
    opt = two_groups()
    sched = S.CosineAnnealingLR(opt, T_max=4, eta_min=0.01)
    state = sched.state_dict()
    state["_step_count"], state["last_epoch"] = 0, epoch - 1
    sched.load_state_dict(state)
    for g in opt.param_groups:
        g["lr"] = 0.5  # not used: the closed form starts from base_lrs
    sched.step()
    assert sched.get_last_lr() == pytest.approx(TORCH_COSINE[epoch], rel=1e-12, abs=1e-15)
    assert sched.get_last_lr() == pytest.approx([cosine_closed(b, epoch, 4, 0.01) for b in BASE], rel=1e-12)
    # the next step goes on from there in the chained form, to the same curve
    sched.step()
    assert sched.get_last_lr() == pytest.approx([cosine_closed(b, epoch + 1, 4, 0.01) for b in BASE],
                                                rel=1e-9, abs=1e-15)


def test_step_with_an_epoch_warns_that_it_is_deprecated():
    sched = S.CosineAnnealingLR(two_groups(), T_max=4)
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(2)
    assert sched.get_last_lr() == pytest.approx([cosine_closed(b, 2, 4, 0.0) for b in BASE])


# --------------------------------------------------------------------- other schedulers

def test_reduce_lr_on_plateau_gives_a_group_added_later_the_default_min_lr():
    a, b, c = (tg.zeros(1, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.05}])
    sched = S.ReduceLROnPlateau(opt, factor=0.1, patience=0, min_lr=0.004)
    opt.add_param_group({"params": [c], "lr": 0.01})
    sched.step(1.0)
    sched.step(2.0)  # worse, patience 0: every group's rate falls, the new one to min_lr
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.01, 0.005, 0.004], rel=1e-12)
    assert sched.min_lrs == [0.004, 0.004, 0.004]


def test_reduce_lr_on_plateau_with_per_group_min_lrs_refuses_a_group_added_later():
    a, b, c = (tg.zeros(1, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.05}])
    sched = S.ReduceLROnPlateau(opt, factor=0.1, patience=0, min_lr=[0.004, 0.001])
    opt.add_param_group({"params": [c], "lr": 0.01})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="has 3 parameter groups, 2 when the scheduler was made"):
        sched.step(2.0)


@pytest.mark.parametrize("make", [
    lambda o: S.ReduceLROnPlateau(o),
    lambda o: S.ExponentialLR(o, 0.9),
    lambda o: S.SequentialLR(o, [S.ExponentialLR(o, 0.9)], milestones=[]),
    lambda o: SWALR(o, swa_lr=0.05),
], ids=["ReduceLROnPlateau", "ExponentialLR", "SequentialLR", "SWALR"])
def test_scheduler_load_state_dict_refuses_what_is_not_a_dict(make):
    sched = make(two_groups())
    before = sched.state_dict()
    with pytest.raises(TypeError, match=r"load_state_dict: expected a dict from state_dict\(\), got list"):
        sched.load_state_dict([("last_epoch", 3)])
    assert sched.state_dict().keys() == before.keys()
    assert sched.last_epoch == before["last_epoch"]


def test_lambda_lr_load_state_dict_needs_one_lambda_entry_per_group():
    sched = S.LambdaLR(two_groups(), [lambda e: 1.0, lambda e: 0.5])
    state = sched.state_dict()
    state["lr_lambdas"] = [None]
    with pytest.raises(ValueError, match=r"lr_lambdas must hold one entry per function \(2\), got \[None\]"):
        sched.load_state_dict(state)


def test_swalr_load_state_dict_refuses_an_unknown_anneal_strategy():
    sched = SWALR(two_groups(), swa_lr=0.05, anneal_strategy="linear")
    state = sched.state_dict()
    state["_anneal_strategy"] = "exp"
    with pytest.raises(ValueError, match="_anneal_strategy must be 'cos' or 'linear', got 'exp'"):
        sched.load_state_dict(state)
    assert sched._anneal_strategy == "linear"


def test_sequential_lr_wants_a_list_of_schedulers_not_one():
    opt = two_groups()
    with pytest.raises(TypeError, match="schedulers must be a list of schedulers, got ExponentialLR"):
        S.SequentialLR(opt, S.ExponentialLR(opt, 0.9), milestones=[])


def test_chained_scheduler_takes_its_optimizer_explicitly():
    opt = two_groups()
    chain = S.ChainedScheduler([S.ConstantLR(opt, factor=0.5, total_iters=2), S.ExponentialLR(opt, 0.9)],
                               optimizer=opt)
    assert chain.optimizer is opt
    got = []
    for _ in range(3):
        chain.step()
        got.append(chain.get_last_lr())
    # both step each time: x0.9 per step, and ConstantLR's 0.5 taken back at epoch 2
    want = [[b * f for b in BASE] for f in (0.5 * 0.9, 0.81, 0.729)]
    assert got == [pytest.approx(w, rel=1e-12) for w in want]


def test_chained_scheduler_refuses_an_optimizer_that_is_not_one():
    opt = two_groups()
    with pytest.raises(TypeError, match="ChainedScheduler: optimizer must be an Optimizer, got str"):
        S.ChainedScheduler([S.ExponentialLR(opt, 0.9)], optimizer="sgd")


def test_cyclic_lr_refuses_a_scale_fn_that_is_not_a_function():
    with pytest.raises(TypeError, match="CyclicLR: scale_fn must be None or a function, got str"):
        S.CyclicLR(two_groups(), 0.1, 1.0, scale_fn="triangular")


def test_a_scheduler_subclass_without_get_lr_is_not_implemented():
    class NoRule(S.LRScheduler):
        pass

    with pytest.raises(NotImplementedError):
        NoRule(two_groups())


# ---------------------------------------------------------------------- the optimizers

def test_optimizer_refuses_a_single_tensor_for_params():
    with pytest.raises(TypeError, match="SGD: params must be an iterable of tensors or of dicts .* got a single Tensor"):
        optim.SGD(tg.zeros(2, requires_grad=True), lr=0.1)


def test_add_param_group_needs_a_params_entry():
    opt = optim.SGD([tg.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match=r"must have a 'params' entry, got keys \['lr', 'momentum'\]"):
        opt.add_param_group({"momentum": 0.9, "lr": 0.1})
    assert len(opt.param_groups) == 1


def test_a_group_listing_a_parameter_twice_is_refused():
    p = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="lists the same parameter twice"):
        optim.SGD([p, p], lr=0.1)


def test_a_parameter_that_is_not_a_tensor_is_refused_naming_its_index_and_type():
    with pytest.raises(TypeError, match="SGD: parameter 1 is a int, expected a Tensor"):
        optim.SGD([tg.zeros(2, requires_grad=True), 3], lr=0.1)


def test_a_non_leaf_tensor_cannot_be_optimized():
    p = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"can't optimize a non-leaf tensor \(parameter 0\)"):
        optim.SGD([p * 2], lr=0.1)


def test_a_parameter_in_two_groups_is_refused():
    p = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="a parameter appears in more than one group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_step_refuses_a_grad_that_is_not_a_tensor_and_leaves_the_parameter():
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = 3
    with pytest.raises(TypeError, match=r"the .grad of parameter 0 of group 0 \(shape \(2,\)\) is a int, expected a Tensor"):
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 1.0])


def test_step_refuses_a_grad_on_another_device(alt_device):
    p = tg.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tg.ones(2, device="alt")
    with pytest.raises(RuntimeError, match="gradient of parameter 0 of group 0 .* is on alt, the parameter on cpu"):
        opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 1.0])


def test_step_refuses_a_closure_that_is_not_callable():
    opt = optim.SGD([tg.zeros(2, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match=r"SGD.step: closure must be callable .* got int"):
        opt.step(5)


def test_an_optimizer_subclass_without_an_update_rule_is_not_implemented():
    class NoRule(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    p = tg.zeros(2, requires_grad=True)
    opt = NoRule([p])
    p.grad = tg.ones(2)
    with pytest.raises(NotImplementedError):
        opt.step()


def test_load_state_dict_needs_the_same_number_of_groups():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    other = optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.2)
    with pytest.raises(ValueError, match="SGD.load_state_dict: got 2 parameter groups, the optimizer has 1"):
        opt.load_state_dict(other.state_dict())
    assert opt.param_groups[0]["lr"] == 0.1


def test_load_state_dict_needs_groups_of_the_same_size():
    a, b = tg.zeros(2, requires_grad=True), tg.zeros(3, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    other = optim.SGD([a, b], lr=0.2)
    with pytest.raises(ValueError, match="a group has 2 parameters in the state dict and 1 in the optimizer"):
        opt.load_state_dict(other.state_dict())
    assert opt.param_groups[0]["lr"] == 0.1


def test_adam_state_saved_as_zero_dim_tensors_loads_as_numbers():
    # PyTorch keeps Adam's "step" as a 0-d tensor: it loads as the plain number
    p = tg.zeros(2, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.ones(2)
    opt.step()
    state = opt.state_dict()
    state["state"][0]["step"] = tg.tensor(5.0)
    opt.load_state_dict(state)
    step = opt.state[p]["step"]
    assert step == 5.0 and not isinstance(step, tg.Tensor)
    state["state"][0]["step"] = np.array(7.0)
    opt.load_state_dict(state)
    assert opt.state[p]["step"] == 7.0 and not isinstance(opt.state[p]["step"], np.ndarray)


def test_rprop_etas_must_be_a_pair():
    with pytest.raises(ValueError, match=r"Rprop: etas must be a pair of numbers, got \(0.5,\)"):
        optim.Rprop([tg.zeros(2, requires_grad=True)], etas=(0.5,))


def test_capturable_must_be_a_bool():
    with pytest.raises(TypeError, match="RMSprop: capturable must be a bool, got str 'yes'"):
        optim.RMSprop([tg.zeros(2, requires_grad=True)], capturable="yes")


# -------------------------------------------------------------------------- swa_utils

def test_averaged_model_on_another_device_averages_there(alt_device):
    model = nn.Linear(2, 1)
    w0 = model.weight.detach().numpy().copy()
    avg = AveragedModel(model, device="alt")
    assert avg.module.weight.device == "alt" and avg.n_averaged.device == "alt"
    assert model.weight.device == "cpu"  # the model itself stays
    avg.update_parameters(model)  # first call copies
    with tg.no_grad():
        model.weight.add_(1.0)
    avg.update_parameters(model)  # then the mean of w0 and w0 + 1
    np.testing.assert_allclose(avg.module.weight.detach().cpu().numpy(), w0 + 0.5, rtol=1e-6)
    assert int(avg.n_averaged.cpu().item()) == 2


def test_averaged_model_refuses_a_model_with_other_buffers():
    avg = AveragedModel(nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="the model has 0 buffers, the averaged copy 3"):
        avg.update_parameters(nn.BatchNorm1d(3, track_running_stats=False))


def test_update_bn_refuses_an_empty_batch():
    model = nn.Sequential(nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="update_bn: batch 1 is an empty tuple"):
        update_bn([tg.ones(4, 3), ()], model)
    assert model[0].momentum == 0.1 and model.training  # restored after the failure
