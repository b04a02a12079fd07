"""Weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` (SWA, EMA or any
averaging function), the ``SWALR`` schedule, ``update_bn`` (BatchNorm statistics for
the averaged weights) and the averaging functions ``get_swa_avg_fn``, ``get_ema_avg_fn``,
``get_swa_multi_avg_fn``, ``get_ema_multi_avg_fn``."""
import itertools
import math
import numbers
import warnings
from copy import deepcopy

from ..arguments import number_arg
from ..creation import tensor
from ..dtypes import int64, is_float
from ..grad_mode import no_grad
from ..nn.module import Module
from ..nn.normalization import _BatchNorm
from ..tensor import Tensor
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]


def _decay_arg(who, decay):
    number_arg(who, "decay", decay)
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"{who}: invalid decay value {decay} provided; expected a value in [0, 1]")
    return decay


def _count(num_averaged):
    return int(num_averaged.item()) if isinstance(num_averaged, Tensor) else int(num_averaged)


def get_ema_multi_avg_fn(decay=0.999):
    """``ema_update(ema_params, current_params, num_averaged)``: each ``ema`` becomes
    ``decay * ema + (1 - decay) * current``, in place."""
    _decay_arg("get_ema_multi_avg_fn", decay)

    def ema_update(ema_param_list, current_param_list, _):
        with no_grad():
            for p_ema, p_model in zip(ema_param_list, current_param_list):
                if is_float(p_ema.dtype):
                    p_ema.copy_(p_ema.lerp(p_model.to(p_ema.dtype), 1 - decay))
                else:
                    p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn():
    """``swa_update(averaged_params, current_params, num_averaged)``: each average moves
    to the mean of the ``num_averaged`` models so far and ``current``, in place."""

    def swa_update(averaged_param_list, current_param_list, num_averaged):
        n = _count(num_averaged)
        with no_grad():
            for p_avg, p_model in zip(averaged_param_list, current_param_list):
                if is_float(p_avg.dtype):
                    p_avg.copy_(p_avg.lerp(p_model.to(p_avg.dtype), 1.0 / (n + 1)))
                else:
                    p_avg.copy_(p_avg + (p_model - p_avg) / (n + 1))

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """``ema_update(ema_param, current_param, num_averaged)`` returning
    ``decay * ema_param + (1 - decay) * current_param``."""
    _decay_arg("get_ema_avg_fn", decay)

    def ema_update(ema_param, current_param, num_averaged):
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    """``swa_update(averaged_param, current_param, num_averaged)`` returning
    ``averaged + (current - averaged) / (num_averaged + 1)``."""

    def swa_update(averaged_param, current_param, num_averaged):
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (_count(num_averaged) + 1)

    return swa_update


class AveragedModel(Module):
    """A copy of ``model`` (on ``device``, when given) whose parameters are a running
    average of ``model``'s: ``update_parameters(model)`` copies them the first time, then
    averages with ``avg_fn(averaged, current, num_averaged)`` (returns the new value) or
    ``multi_avg_fn(averaged_list, current_list, num_averaged)`` (in place); neither: the
    equal-weight mean (SWA). ``use_buffers=True`` averages the buffers too (otherwise they
    are copied from ``model``). Calling it calls the copy."""

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        who = "AveragedModel"
        if not isinstance(model, Module):
            raise TypeError(f"{who}: model must be an nn.Module, got {type(model).__name__}")
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError(f"{who}: only one of avg_fn and multi_avg_fn should be provided, got both")
        for name, fn in (("avg_fn", avg_fn), ("multi_avg_fn", multi_avg_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"{who}: {name} must be callable or None, got {type(fn).__name__}")
        if not isinstance(use_buffers, bool):
            raise TypeError(f"{who}: use_buffers must be a bool, got {type(use_buffers).__name__} {use_buffers!r}")
        self.module = deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0, dtype=int64, device=device if device is not None else "cpu"))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def update_parameters(self, model):
        """Fold ``model``'s current parameters (and buffers, with use_buffers) into the average."""
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel.update_parameters: model must be an nn.Module, got "
                            f"{type(model).__name__}")
        if self.use_buffers:
            mine = list(itertools.chain(self.module.parameters(), self.module.buffers()))
            theirs = list(itertools.chain(model.parameters(), model.buffers()))
        else:
            mine, theirs = list(self.parameters()), list(model.parameters())
        if len(mine) != len(theirs):
            raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs)} "
                             f"{'parameters and buffers' if self.use_buffers else 'parameters'}, the averaged copy "
                             f"{len(mine)}; expected the model it was built from")
        n = int(self.n_averaged.item())
        with no_grad():
            averaged, current = [], []
            for i, (p_avg, p_model) in enumerate(zip(mine, theirs)):
                if p_avg.shape != p_model.shape:
                    raise ValueError(f"AveragedModel.update_parameters: tensor {i} has shape {p_model.shape} in the "
                                     f"model, {p_avg.shape} in the average; expected the model it was built from")
                p_model_ = p_model.detach().to(p_avg.device)
                averaged.append(p_avg.detach())
                current.append(p_model_)
                if n == 0:
                    p_avg.detach().copy_(p_model_)
            if n > 0:
                if self.avg_fn is None:
                    multi = self.multi_avg_fn or get_swa_multi_avg_fn()
                    for group in _by_device_and_dtype(averaged, current):
                        multi(group[0], group[1], self.n_averaged.to(group[0][0].device))
                else:
                    for p_avg, p_model in zip(averaged, current):
                        p_avg.copy_(self.avg_fn(p_avg, p_model, self.n_averaged.to(p_avg.device)))
            if not self.use_buffers:
                # the buffers are not averaged: keep them in sync with the model
                mine_b, theirs_b = list(self.module.buffers()), list(model.buffers())
                if len(mine_b) != len(theirs_b):
                    raise ValueError(f"AveragedModel.update_parameters: the model has {len(theirs_b)} buffers, the "
                                     f"averaged copy {len(mine_b)}; expected the model it was built from")
                for b_swa, b_model in zip(mine_b, theirs_b):
                    b_swa.detach().copy_(b_model.detach().to(b_swa.device))
            self.n_averaged.add_(1)


def _by_device_and_dtype(averaged, current):
    """The (averaged, current) lists grouped by the averaged tensors' device and dtype, in
    first-seen order, as PyTorch hands them to a multi_avg_fn."""
    groups = {}
    for a, c in zip(averaged, current):
        g = groups.setdefault((str(a.device), str(a.dtype)), ([], []))
        g[0].append(a)
        g[1].append(c)
    return list(groups.values())


def update_bn(loader, model, device=None):
    """Recompute the running statistics of every BatchNorm of ``model`` with one pass over
    ``loader`` (batches that are tensors, or lists/tuples whose first element is the
    input): the statistics are reset and averaged over the batches with equal weights
    (momentum None); modes and momenta are restored after."""
    who = "update_bn"
    if not isinstance(model, Module):
        raise TypeError(f"{who}: model must be an nn.Module, got {type(model).__name__}")
    try:
        iter(loader)
    except TypeError:
        raise TypeError(f"{who}: loader must be an iterable of batches, got {type(loader).__name__}") from None
    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm) and m.track_running_stats:
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    try:
        with no_grad():
            for i, batch in enumerate(loader):
                if isinstance(batch, (list, tuple)):
                    if not batch:
                        raise ValueError(f"{who}: batch {i} is an empty {type(batch).__name__}; expected the input "
                                         "tensor as its first element")
                    batch = batch[0]
                if not isinstance(batch, Tensor):
                    raise TypeError(f"{who}: batch {i} is a {type(batch).__name__}; expected a tensor or a list/tuple "
                                    "whose first element is the input tensor")
                if device is not None:
                    batch = batch.to(device)
                model(batch)
    finally:
        for m, momentum in momenta.items():
            m.momentum = momentum
        model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's learning rate from its value to ``swa_lr`` (one number, or one
    per parameter group) over ``anneal_epochs`` steps, by cosine (``"cos"``) or linearly
    (``"linear"``), then keep it there: PyTorch's SWALR, step for step."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        who = "SWALR"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{who}: optimizer must be an Optimizer, got {type(optimizer).__name__}")
        groups = optimizer.param_groups
        if isinstance(swa_lr, (list, tuple)):
            if len(swa_lr) != len(groups):
                raise ValueError(f"{who}: swa_lr must have the same length as optimizer.param_groups; swa_lr has "
                                 f"{len(swa_lr)} values, param_groups has {len(groups)}")
            swa_lrs = list(swa_lr)
        else:
            swa_lrs = [swa_lr] * len(groups)
        for lr in swa_lrs:
            number_arg(who, "swa_lr", lr, 0.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{who}: anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy!r}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, numbers.Integral) or anneal_epochs < 0:
            raise ValueError(f"{who}: anneal_epochs must be an int equal or greater than 0, got {anneal_epochs!r}")
        for lr, group in zip(swa_lrs, groups):
            group["swa_lr"] = lr
        self._set_anneal_func(anneal_strategy)
        self.anneal_epochs = int(anneal_epochs)
        self._step_count = 0
        self._get_lr_called_within_step = False
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        groups = self.optimizer.param_groups
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, prev_lrs)]

    def step(self, epoch=None):
        """Advance one epoch and set each group's ``lr`` (an explicit ``epoch`` is
        deprecated in PyTorch, and warned about here too)."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
        else:
            warnings.warn("The epoch parameter in `scheduler.step()` was not necessary and is being deprecated "
                          "where possible. Please use `scheduler.step()` to step the scheduler.", UserWarning,
                          stacklevel=2)
            number_arg("SWALR.step", "epoch", epoch, integer=True)
            self.last_epoch = epoch
        self._get_lr_called_within_step = True
        try:
            values = self.get_lr()
        finally:
            self._get_lr_called_within_step = False
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state):
        if not isinstance(state, dict):
            raise TypeError(f"SWALR.load_state_dict: expected a dict from state_dict(), got {type(state).__name__}")
        strategy = state.get("_anneal_strategy", self._anneal_strategy)
        if strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR.load_state_dict: _anneal_strategy must be 'cos' or 'linear', got {strategy!r}")
        super().load_state_dict(state)
        self._set_anneal_func(self._anneal_strategy)
