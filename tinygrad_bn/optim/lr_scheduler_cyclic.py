"""The cyclic schedules: ``CyclicLR``, ``OneCycleLR`` (both may cycle the momentum the
other way) and ``CosineAnnealingWarmRestarts``."""
import math

from ..arguments import choice_arg, number_arg
from .lr_scheduler_base import LRScheduler, functions_out, group_lrs, optimizer_arg, per_group


def _momentum_setup(who, optimizer, base_momentum, max_momentum, last_epoch):
    """Cycling momentum: SGD's (RMSprop's) ``momentum`` or the Adam family's beta1."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{who}: cycle_momentum needs an optimizer with momentum or betas, "
                         f"{type(optimizer).__name__} has neither; pass cycle_momentum=False")
    use_beta1 = "betas" in optimizer.defaults
    max_m = per_group(who, "max_momentum", optimizer, max_momentum, 0.0)
    base_m = per_group(who, "base_momentum", optimizer, base_momentum, 0.0)
    if last_epoch == -1:
        for m, b, g in zip(max_m, base_m, optimizer.param_groups):
            _set_momentum(g, use_beta1, m)
            g["max_momentum"], g["base_momentum"] = m, b
    return use_beta1, base_m, max_m


def _set_momentum(group, use_beta1, m):
    if use_beta1:
        group["betas"] = (m, *group["betas"][1:])
    else:
        group["momentum"] = m


class CyclicLR(LRScheduler):
    """lr = base_lr + (max_lr - base_lr) * height(epoch) * scale, a triangle rising over
    step_size_up steps and falling over step_size_down; scale 1 (triangular), halved each
    cycle (triangular2), gamma ** epoch (exp_range) or scale_fn. With cycle_momentum the
    momentum (or beta1) moves the other way, between max_momentum and base_momentum."""
    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        who = "CyclicLR"
        optimizer_arg(who, optimizer)
        number_arg(who, "last_epoch", last_epoch, -1, integer=True)
        self.optimizer = optimizer
        base_lrs = per_group(who, "base_lr", optimizer, base_lr, 0.0)
        self.max_lrs = per_group(who, "max_lr", optimizer, max_lr, 0.0)
        number_arg(who, "step_size_up", step_size_up, 0, low_open=True)
        number_arg(who, "step_size_down", step_size_down, 0, low_open=True, allow_none=True)
        if scale_fn is None:
            choice_arg(who, "mode", mode, ("triangular", "triangular2", "exp_range"))
        elif not callable(scale_fn):
            raise TypeError(f"{who}: scale_fn must be None or a function, got {type(scale_fn).__name__}")
        number_arg(who, "gamma", gamma)
        choice_arg(who, "scale_mode", scale_mode, ("cycle", "iterations"))
        if last_epoch == -1:
            for lr, g in zip(base_lrs, optimizer.param_groups):
                g["lr"] = lr
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = _momentum_setup(
                who, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        scale_factor = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [b + (m - b) * scale_factor * scale for b, m in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for g, b, m in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(g, self.use_beta1, m - (m - b) * scale_factor * scale)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None if fn is None else functions_out([fn])[0]
        return state

    def load_state_dict(self, state):
        state = dict(state)
        fn = state.pop("_scale_fn_custom", None)
        super().load_state_dict(state)
        if fn is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class OneCycleLR(LRScheduler):
    """The 1cycle policy: lr rises from max_lr / div_factor to max_lr over pct_start of
    total_steps, then falls to initial_lr / final_div_factor (three_phase: back to
    initial_lr first, then down), cos or linear; momentum (or beta1) moves the other way."""

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        who = "OneCycleLR"
        optimizer_arg(who, optimizer)
        number_arg(who, "last_epoch", last_epoch, -1, integer=True)
        self.optimizer = optimizer
        if total_steps is not None:
            number_arg(who, "total_steps", total_steps, 1, integer=True)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            number_arg(who, "epochs", epochs, 1, integer=True)
            number_arg(who, "steps_per_epoch", steps_per_epoch, 1, integer=True)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{who}: give total_steps, or epochs and steps_per_epoch; got total_steps=None, "
                             f"epochs={epochs!r}, steps_per_epoch={steps_per_epoch!r}")
        number_arg(who, "pct_start", pct_start, 0.0, 1.0)
        choice_arg(who, "anneal_strategy", anneal_strategy, ("cos", "linear"))
        number_arg(who, "div_factor", div_factor, 0.0, low_open=True)
        number_arg(who, "final_div_factor", final_div_factor, 0.0, low_open=True)
        n = self.total_steps
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * n) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": n - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": n - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]
        self._anneal_func_type = anneal_strategy
        max_lrs = per_group(who, "max_lr", optimizer, max_lr, 0.0)
        if last_epoch == -1:
            for m, g in zip(max_lrs, optimizer.param_groups):
                g["initial_lr"] = m / div_factor
                g["max_lr"] = m
                g["min_lr"] = g["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, _, _ = _momentum_setup(who, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, past total_steps={self.total_steps}; make the "
                             "schedule longer (total_steps, or epochs * steps_per_epoch)")
        lrs = []
        phases = self._schedule_phases
        for g in self.optimizer.param_groups:
            start = 0.0
            for i, ph in enumerate(phases):
                end = ph["end_step"]
                if step <= end or i == len(phases) - 1:
                    pct = (step - start) / (end - start)
                    lr = self._anneal_func(g[ph["start_lr"]], g[ph["end_lr"]], pct)
                    if self.cycle_momentum:
                        m = self._anneal_func(g[ph["start_momentum"]], g[ph["end_momentum"]], pct)
                    break
                start = ph["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(g, self.use_beta1, m)
        return lrs


class CosineAnnealingWarmRestarts(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, T_cur the steps
    since the last restart, T_i the current period (T_0, then times T_mult after each restart).
    step(epoch) takes a fractional epoch too (epoch + i / iters_per_epoch)."""

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        who = "CosineAnnealingWarmRestarts"
        number_arg(who, "T_0", T_0, 1, integer=True)
        number_arg(who, "T_mult", T_mult, 1, integer=True)
        number_arg(who, "eta_min", eta_min)
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]

    def step(self, epoch=None):
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            number_arg("CosineAnnealingWarmRestarts.step", "epoch", epoch, 0)
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for g, lr in zip(self.optimizer.param_groups, self.get_lr()):
            g["lr"] = lr
        self._last_lr = group_lrs(self.optimizer)
