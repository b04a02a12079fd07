"""Learning-rate schedules that set each group's ``lr`` once per ``step()``."""
import math

from ..arguments import number_arg


class LRScheduler:
    def __init__(self, optimizer, last_epoch=-1):
        from .optimizer import Optimizer
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        self._last_lr = self.get_lr()
        for g, lr in zip(self.optimizer.param_groups, self._last_lr):
            g["lr"] = lr

    def get_last_lr(self):
        return list(self._last_lr)

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state):
        """The schedule's state, checked before anything changes: the optimizer's
        group count of base rates (numbers >= 0), and an integer epoch."""
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{who}: expected a dict from state_dict(), got {type(state).__name__}")
        base_lrs = state.get("base_lrs", self.base_lrs)
        groups = len(self.optimizer.param_groups)
        if not isinstance(base_lrs, (list, tuple)) or len(base_lrs) != groups:
            raise ValueError(f"{who}: base_lrs must hold one rate per parameter group ({groups}), got {base_lrs!r}")
        for lr in base_lrs:
            number_arg(who, "base_lrs", lr, 0.0)
        number_arg(who, "last_epoch", state.get("last_epoch", self.last_epoch), -1, integer=True)
        self.__dict__.update(state)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        number_arg("StepLR", "step_size", step_size, 1, integer=True)
        number_arg("StepLR", "gamma", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
    (the closed form; PyTorch's recursive form gives the same values)."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        number_arg("CosineAnnealingLR", "T_max", T_max, 0, low_open=True)
        number_arg("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        c = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (b - self.eta_min) * c for b in self.base_lrs]
