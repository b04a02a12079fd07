"""``ReduceLROnPlateau``: the rate falls when a metric stops improving (its ``step``
takes the metric)."""
import math
import warnings

from ..arguments import choice_arg, number_arg
from .lr_scheduler_base import EPOCH_DEPRECATION_WARNING, LRScheduler, group_lrs, optimizer_arg, per_group


class ReduceLROnPlateau(LRScheduler):
    """step(metric): when the metric has not improved (by threshold, relative or absolute)
    for more than patience steps, lr = max(lr * factor, min_lr) (a change smaller than eps
    is skipped), then cooldown steps pass before counting again."""
    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        who = "ReduceLROnPlateau"
        optimizer_arg(who, optimizer)
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
            self.min_lrs = per_group(who, "min_lr", optimizer, min_lr, 0.0)
        else:
            number_arg(who, "min_lr", min_lr, 0.0)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = group_lrs(optimizer)
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
        self._last_lr = group_lrs(self.optimizer)

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
