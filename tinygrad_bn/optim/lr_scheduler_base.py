"""The base of the learning-rate schedulers, ``LRScheduler`` (``step``, ``get_last_lr``,
the state dict), and the argument helpers the schedulers share."""
import types
import warnings

from ..arguments import number_arg

EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from "
    "None, the closed form is used instead of the new chainable form, where available."
)


def optimizer_arg(who, optimizer):
    from .optimizer import Optimizer
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{who}: optimizer must be an Optimizer, got {type(optimizer).__name__}")
    return optimizer


def per_group(who, name, optimizer, value, low=None, high=None):
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


def group_lrs(optimizer):
    return [g["lr"] for g in optimizer.param_groups]


def functions_out(fns):
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
        optimizer_arg(who, optimizer)
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
        self._last_lr = group_lrs(self.optimizer)

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
