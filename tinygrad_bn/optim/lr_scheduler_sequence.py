"""Schedulers made of schedulers: ``SequentialLR`` (one after another, at milestones)
and ``ChainedScheduler`` (all of them at every step)."""
from bisect import bisect_right

from ..arguments import number_arg
from .lr_scheduler_base import LRScheduler, group_lrs, optimizer_arg
from .lr_scheduler_plateau import ReduceLROnPlateau


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
        optimizer_arg(who, optimizer)
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
            optimizer_arg("ChainedScheduler", optimizer)
        self._schedulers, self.optimizer = _schedulers_arg("ChainedScheduler", schedulers, optimizer)
        self._last_lr = group_lrs(self.optimizer)

    def step(self):
        for s in self._schedulers:
            s.step()
        self._last_lr = group_lrs(self.optimizer)

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state):
        saved = _check_nested_state(self, f"{type(self).__name__}.load_state_dict", state)
        self.__dict__.update({k: v for k, v in state.items() if k != "_schedulers"})
        for s, st in zip(self._schedulers, saved):
            s.load_state_dict(st)
