"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each ``step()`` sets
every parameter group's ``lr``.

The schedules are chainable, as PyTorch's: ``get_lr`` computes the next rate from
the group's current ``lr`` (so two schedules on one optimizer compose, and a rate
set by hand carries on), and ``last_epoch`` counts the steps taken, 0 after the
constructor's initial step. ``step(epoch)`` (deprecated in PyTorch, with its
warning) jumps to ``epoch`` and uses the schedule's closed form where it has one."""
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter

from ..arguments import choice_arg, number_arg

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from "
    "None, the closed form is used instead of the new chainable form, where available."
)


def _optimizer_arg(who, optimizer):
    from .optimizer import Optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: optimizer must be an Optimizer, got {type(optimizer).__name__}")
    return optimizer


def _per_group(who, name, optimizer, value, low=None, high=None):
    """``value`` (a number, or a list or tuple with one per parameter group) as a list with one per group."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"{who}: {name} must be a number or hold one value per parameter group ({groups}), "
                             f"got {len(value)} values {list(value)!r}")
        values = list(value)
    else:
        values = [value] * groups
    for v in values:
        number_arg(who, name, v, low, high)
    return values


def _group_lrs(optimizer):
    return [g["lr"] for g in optimizer.param_groups]


def _functions_out(fns):
    """Callables for a state dict, as PyTorch saves them: None for a function or
    lambda (code is not state), the attribute dict of a callable object."""
    return [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__) for fn in fns]


class LRScheduler:
    """The base class: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``,
    ``get_last_lr()``, ``state_dict()``/``load_state_dict()``. A subclass writes
    ``get_lr`` (the chainable rule) and, where there is one, ``_get_closed_form_lr``."""

    _is_initial = False

    def __init__(self, optimizer, last_epoch=-1):
        who = type(self).__name__
        _optimizer_arg(who, optimizer)
        number_arg(who, "last_epoch", last_epoch, -1, integer=True)
        self.optimizer = optimizer
        if last_epoch == -1:
            for g in optimizer.param_groups:
                g.setdefault("initial_lr", g["lr"])
        else:
            for i, g in enumerate(optimizer.param_groups):
                if "initial_lr" not in g:
                    raise KeyError(f"{who}: param_groups[{i}] has no 'initial_lr', which resuming with "
                                   f"last_epoch={last_epoch} needs; load the optimizer's state_dict from the run "
                                   "being resumed first, or pass last_epoch=-1 to start the schedule")
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """The constructor's step: ``last_epoch`` becomes 0 (or the resumed epoch + 1)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class's False (and out of state_dict)

    def get_lr(self):
        raise NotImplementedError

    def step(self, epoch=None):
        self._step_count += 1
        if epoch is not None:
            number_arg(f"{type(self).__name__}.step", "epoch", epoch)
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, values):
            g["lr"] = lr
        self._last_lr = _group_lrs(self.optimizer)

    def get_last_lr(self):
        """The rates the last ``step`` set, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state):
        """The schedule's state, checked before anything changes: the optimizer's
        group count of base rates (numbers >= 0), and an integer epoch."""
        who = f"{type(self).__name__}.load_state_dict"
        self._check_state(who, state)
        self.__dict__.update(state)

    def _check_state(self, who, state):
        if not isinstance(state, dict):
            raise TypeError(f"{who}: expected a dict from state_dict(), got {type(state).__name__}")
        base_lrs = state.get("base_lrs", getattr(self, "base_lrs", None))
        if base_lrs is not None:
            groups = len(self.optimizer.param_groups)
            if not isinstance(base_lrs, (list, tuple)) or len(base_lrs) != groups:
                raise ValueError(f"{who}: base_lrs must hold one rate per parameter group ({groups}), "
                                 f"got {base_lrs!r}")
            for lr in base_lrs:
                number_arg(who, "base_lrs", lr, 0.0)
        number_arg(who, "last_epoch", state.get("last_epoch", self.last_epoch), -1, integer=True)


class _LambdaScheduler(LRScheduler):
    """A scheduler driven by ``lr_lambda`` (one function or one per group), whose state
    dict keeps the lambdas that are callable objects (as PyTorch's)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        who = type(self).__name__
        _optimizer_arg(who, optimizer)
        self.optimizer = optimizer
        self.lr_lambdas = _lambdas(who, optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = _functions_out(self.lr_lambdas)
        return state

    def load_state_dict(self, state):
        _load_with_lambdas(self, state)


class LambdaLR(_LambdaScheduler):
    """lr = base_lr * lr_lambda(epoch), one function or one per group."""

    def get_lr(self):
        return [b * fn(self.last_epoch) for fn, b in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_LambdaScheduler):
    """lr = lr * lr_lambda(epoch) at each step after the first."""

    def get_lr(self):
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return [g["lr"] * fn(self.last_epoch) for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups)]


def _lambdas(who, optimizer, lr_lambda):
    groups = len(optimizer.param_groups)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != groups:
            raise ValueError(f"{who}: lr_lambda must be one function or one per parameter group ({groups}), "
                             f"got {len(lr_lambda)}")
        fns = list(lr_lambda)
    else:
        fns = [lr_lambda] * groups
    for fn in fns:
        if not callable(fn):
            raise TypeError(f"{who}: lr_lambda must be a function of the epoch, got {type(fn).__name__} {fn!r}")
    return fns


def _load_with_lambdas(sched, state):
    who = f"{type(sched).__name__}.load_state_dict"
    sched._check_state(who, state)
    saved = state.get("lr_lambdas", [None] * len(sched.lr_lambdas))
    if not isinstance(saved, (list, tuple)) or len(saved) != len(sched.lr_lambdas):
        raise ValueError(f"{who}: lr_lambdas must hold one entry per function ({len(sched.lr_lambdas)}), "
                         f"got {saved!r}")
    sched.__dict__.update({k: v for k, v in state.items() if k != "lr_lambdas"})
    for fn, attrs in zip(sched.lr_lambdas, saved):
        if attrs is not None:
            fn.__dict__.update(attrs)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): times gamma every step_size steps."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        number_arg("StepLR", "step_size", step_size, 1, integer=True)
        number_arg("StepLR", "gamma", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_lrs(self.optimizer)
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """lr = base_lr * gamma ** (number of milestones <= epoch); a milestone listed twice counts twice."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        if isinstance(milestones, (str, bytes)) or not hasattr(milestones, "__iter__"):
            raise TypeError(f"MultiStepLR: milestones must be an iterable of ints (epochs), got "
                            f"{type(milestones).__name__} {milestones!r}")
        milestones = list(milestones)
        for m in milestones:
            number_arg("MultiStepLR", "milestones", m, 0, integer=True)
        number_arg("MultiStepLR", "gamma", gamma)
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return _group_lrs(self.optimizer)
        return [g["lr"] * self.gamma ** self.milestones[self.last_epoch] for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        milestones = sorted(self.milestones.elements())
        return [b * self.gamma ** bisect_right(milestones, self.last_epoch) for b in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = base_lr * factor for the first total_iters steps, then base_lr."""

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        number_arg("ConstantLR", "factor", factor, 0.0, 1.0)
        number_arg("ConstantLR", "total_iters", total_iters, 0, integer=True)
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _group_lrs(self.optimizer)
        return [g["lr"] * (1.0 / self.factor) for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for b in self.base_lrs]


class LinearLR(LRScheduler):
    """lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)."""

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        number_arg("LinearLR", "start_factor", start_factor, 0.0, 1.0, low_open=True)
        number_arg("LinearLR", "end_factor", end_factor, 0.0, 1.0)
        number_arg("LinearLR", "total_iters", total_iters, 1, integer=True)
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_lrs(self.optimizer)
        d = self.end_factor - self.start_factor
        ratio = 1.0 + d / (self.total_iters * self.start_factor + (self.last_epoch - 1) * d)
        return [g["lr"] * ratio for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        f = self.start_factor + (self.end_factor - self.start_factor) * min(self.total_iters, self.last_epoch) \
            / self.total_iters
        return [b * f for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        number_arg("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return _group_lrs(self.optimizer)
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power."""

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        number_arg("PolynomialLR", "total_iters", total_iters, 1, integer=True)
        number_arg("PolynomialLR", "power", power)
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_lrs(self.optimizer)
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [g["lr"] * decay for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self):
        return [b * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, in PyTorch's
    recursive form (each step from the current lr; past T_max it rises again, period 2 T_max)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        number_arg("CosineAnnealingLR", "T_max", T_max, 0, low_open=True)
        number_arg("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, T, lo = self.last_epoch, self.T_max, self.eta_min
        groups = self.optimizer.param_groups
        if self._is_initial:
            return _group_lrs(self.optimizer)
        if self._step_count == 1 and e > 0:
            return [lo + (b - lo) * (1 + math.cos(e * math.pi / T)) / 2 for b in self.base_lrs]
        if (e - 1 - T) % (2 * T) == 0:
            return [g["lr"] + (b - lo) * (1 - math.cos(math.pi / T)) / 2 for b, g in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * e / T)) / (1 + math.cos(math.pi * (e - 1) / T)) * (g["lr"] - lo) + lo
                for g in groups]

    def _get_closed_form_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]


def _schedulers_arg(who, schedulers, optimizer):
    if isinstance(schedulers, LRScheduler) or not isinstance(schedulers, (list, tuple)):
        raise TypeError(f"{who}: schedulers must be a list of schedulers, got {type(schedulers).__name__}")
    if not schedulers:
        raise ValueError(f"{who}: expected at least one scheduler, got none")
    optimizer = optimizer if optimizer is not None else getattr(schedulers[0], "optimizer", None)
    for i, s in enumerate(schedulers):
        if not isinstance(s, LRScheduler):
            raise TypeError(f"{who}: schedulers[{i}] must be a learning-rate scheduler, got {type(s).__name__}")
        if isinstance(s, ReduceLROnPlateau):
            raise TypeError(f"{who}: schedulers[{i}] is a ReduceLROnPlateau, which is not supported here: its "
                             "step needs the metric")
        if s.optimizer is not optimizer:
            raise ValueError(f"{who}: every scheduler must belong to the same optimizer; schedulers[{i}] "
                             f"({type(s).__name__}) has another {type(s.optimizer).__name__}")
    return list(schedulers), optimizer


def _check_nested_state(sched, who, state):
    if not isinstance(state, dict):
        raise TypeError(f"{who}: expected a dict from state_dict(), got {type(state).__name__}")
    saved = state.get("_schedulers", [])
    if not isinstance(saved, (list, tuple)) or len(saved) != len(sched._schedulers):
        raise ValueError(f"{who}: _schedulers must hold one state per scheduler ({len(sched._schedulers)}), "
                         f"got {len(saved) if isinstance(saved, (list, tuple)) else saved!r}")
    return saved


class SequentialLR(LRScheduler):
    """Runs schedulers[0] until milestones[0], then schedulers[1] (restarted at its epoch 0), and so on."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        who = "SequentialLR"
        _optimizer_arg(who, optimizer)
        schedulers, _ = _schedulers_arg(who, schedulers, optimizer)
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, (list, tuple)):
            raise TypeError(f"{who}: milestones must be a list of ints, got {type(milestones).__name__}")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{who}: expected one milestone fewer than schedulers ({len(schedulers) - 1}), got "
                             f"{len(milestones)} milestones for {len(schedulers)} schedulers")
        for m in milestones:
            number_arg(who, "milestones", m, 0, integer=True)
        if list(milestones) != sorted(milestones):
            raise ValueError(f"{who}: milestones must be in increasing order, got {list(milestones)!r}")
        number_arg(who, "last_epoch", last_epoch, -1, integer=True)
        self._schedulers = schedulers
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for g in optimizer.param_groups:  # back to the initial rates: each scheduler's constructor stepped once
            g["lr"] = g["initial_lr"]
        self._undo(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def _undo(self, sched):
        """Takes back the initial step each scheduler took in its constructor."""
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        sched = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            sched._update_lr(0)
        else:
            sched.step()
        self._last_lr = sched.get_last_lr()

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state):
        who = f"{type(self).__name__}.load_state_dict"
        saved = _check_nested_state(self, who, state)
        number_arg(who, "last_epoch", state.get("last_epoch", self.last_epoch), 0, integer=True)
        self.__dict__.update({k: v for k, v in state.items() if k != "_schedulers"})
        for s, st in zip(self._schedulers, saved):
            s.load_state_dict(st)


class ChainedScheduler(LRScheduler):
    """Steps every scheduler in the list on each step, so their (chainable) changes compose."""

    def __init__(self, schedulers, optimizer=None):
        if optimizer is not None:
            _optimizer_arg("ChainedScheduler", optimizer)
        self._schedulers, self.optimizer = _schedulers_arg("ChainedScheduler", schedulers, optimizer)
        self._last_lr = _group_lrs(self.optimizer)

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = _group_lrs(self.optimizer)

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state):
        saved = _check_nested_state(self, f"{type(self).__name__}.load_state_dict", state)
        self.__dict__.update({k: v for k, v in state.items() if k != "_schedulers"})
        for s, st in zip(self._schedulers, saved):
            s.load_state_dict(st)


class ReduceLROnPlateau(LRScheduler):
    """step(metric): when the metric has not improved (by threshold, relative or absolute)
    for more than patience steps, lr = max(lr * factor, min_lr) (a change smaller than eps
    is skipped), then cooldown steps pass before counting again."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        who = "ReduceLROnPlateau"
        _optimizer_arg(who, optimizer)
        number_arg(who, "factor", factor, 0.0)
        if factor >= 1.0:
            raise ValueError(f"{who}: factor must be < 1.0 (the rate is multiplied by it), got {factor!r}")
        number_arg(who, "patience", patience, 0, integer=True)
        number_arg(who, "threshold", threshold, 0.0)
        number_arg(who, "cooldown", cooldown, 0, integer=True)
        number_arg(who, "eps", eps, 0.0)
        self.factor = factor
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group(who, "min_lr", optimizer, min_lr, 0.0)
        else:
            number_arg(who, "min_lr", min_lr, 0.0)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_lrs(optimizer)
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _init_is_better(self, mode, threshold, threshold_mode):
        choice_arg("ReduceLROnPlateau", "mode", mode, ("min", "max"))
        choice_arg("ReduceLROnPlateau", "threshold_mode", threshold_mode, ("rel", "abs"))
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    _is_better = is_better

    def step(self, metrics, epoch=None):
        try:
            current = float(metrics)
        except (TypeError, ValueError):
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be a number or a one-element tensor, got "
                            f"{type(metrics).__name__}") from None
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_lrs(self.optimizer)

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups, "
                                   f"{len(self.min_lrs)} when the scheduler was made (a group was added); set "
                                   "min_lrs to one value per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for g, lo in zip(groups, self.min_lrs):
            old = float(g["lr"])
            new = max(old * self.factor, lo)
            if old - new > self.eps:
                g["lr"] = new

    def load_state_dict(self, state):
        who = "ReduceLROnPlateau.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{who}: expected a dict from state_dict(), got {type(state).__name__}")
        number_arg(who, "last_epoch", state.get("last_epoch", self.last_epoch), 0)
        self._init_is_better(state.get("mode", self.mode), state.get("threshold", self.threshold),
                             state.get("threshold_mode", self.threshold_mode))
        self.__dict__.update(state)


def _momentum_setup(who, optimizer, base_momentum, max_momentum, last_epoch):
    """Cycling momentum: SGD's (RMSprop's) ``momentum`` or the Adam family's beta1."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{who}: cycle_momentum needs an optimizer with momentum or betas, "
                         f"{type(optimizer).__name__} has neither; pass cycle_momentum=False")
    use_beta1 = "betas" in optimizer.defaults
    max_m = _per_group(who, "max_momentum", optimizer, max_momentum, 0.0)
    base_m = _per_group(who, "base_momentum", optimizer, base_momentum, 0.0)
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
        _optimizer_arg(who, optimizer)
        number_arg(who, "last_epoch", last_epoch, -1, integer=True)
        self.optimizer = optimizer
        base_lrs = _per_group(who, "base_lr", optimizer, base_lr, 0.0)
        self.max_lrs = _per_group(who, "max_lr", optimizer, max_lr, 0.0)
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
        state["_scale_fn_custom"] = None if fn is None else _functions_out([fn])[0]
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
        _optimizer_arg(who, optimizer)
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
        max_lrs = _per_group(who, "max_lr", optimizer, max_lr, 0.0)
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
        self._last_lr = _group_lrs(self.optimizer)


__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
