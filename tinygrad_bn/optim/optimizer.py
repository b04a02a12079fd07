"""The Optimizer base class: parameter groups, per-parameter state, state dicts,
and PyTorch's hooks around ``step``, ``state_dict`` and ``load_state_dict``."""
import copy
from collections import OrderedDict
from itertools import chain
from typing import ClassVar

from ..arguments import iterable_arg, number_arg
from .. import compile_state as tracing
from ..grad_mode import enable_grad, no_grad
from ..tensor import RemovableHandle, Tensor
from ..tensor_base import array_of, backend_of, same_device, write_in_place

# hooks every optimizer runs around step(), as torch.optim.optimizer's globals
_global_step_pre_hooks = OrderedDict()
_global_step_post_hooks = OrderedDict()


def _hook_arg(who, hook):
    if not callable(hook):
        raise TypeError(f"{who}: hook must be callable, got {type(hook).__name__}")
    return hook


def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` before every optimizer's step; it may return
    ``(new_args, new_kwargs)``. Returns a handle whose ``remove()`` takes it out."""
    return RemovableHandle(_global_step_pre_hooks, _hook_arg("register_optimizer_step_pre_hook", hook))


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` after every optimizer's step."""
    return RemovableHandle(_global_step_post_hooks, _hook_arg("register_optimizer_step_post_hook", hook))


def _add_hook(who, store, hook, prepend=False):
    handle = RemovableHandle(store, _hook_arg(who, hook))
    if prepend:
        store.move_to_end(handle.id, last=False)
    return handle


class Optimizer:
    """Holds ``param_groups`` (list of dicts with 'params' and hyperparameters)
    and ``state`` (per-parameter dict of arrays on the parameter's device, and
    counters). ``_update`` writes to a parameter only through ``write_in_place``."""

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._step_pre_hooks = OrderedDict()
        self._step_post_hooks = OrderedDict()
        self._state_dict_pre_hooks = OrderedDict()
        self._state_dict_post_hooks = OrderedDict()
        self._load_state_dict_pre_hooks = OrderedDict()
        self._load_state_dict_post_hooks = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of tensors or of dicts (param "
                            "groups), got a single Tensor; pass [tensor] or model.parameters()")
        params = iterable_arg(type(self).__name__, "params", params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list; expected model.parameters() "
                             "or a list of tensors")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups = []
        self.state = {}
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group):
        group = dict(group)
        if "params" not in group:
            raise ValueError(f"{type(self).__name__}: a parameter group must have a 'params' entry, got keys "
                             f"{sorted(group)}")
        ps = group["params"]
        ps = [ps] if isinstance(ps, Tensor) else list(ps)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in ps}) != len(ps):
            raise ValueError(f"{type(self).__name__}: a parameter group lists the same parameter twice; expected "
                             "each parameter once (it would be updated twice per step)")
        for i, p in enumerate(ps):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, expected a Tensor")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf tensor (parameter {i})")
            if id(p) in seen:
                raise ValueError(f"{type(self).__name__}: a parameter appears in more than one group; expected "
                                 "each parameter in one group only")
        group["params"] = ps
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check_group(group)
        self.param_groups.append(group)

    # hyperparameters each optimizer checks in every group: name -> (low, high)
    _ranges: ClassVar[dict] = {"lr": (0.0, None), "weight_decay": (0.0, None), "eps": (0.0, None),
                               "momentum": (0.0, None)}

    def _check_group(self, group):
        who = type(self).__name__
        for name, (low, high) in self._ranges.items():
            if name in group:
                number_arg(who, name, group[name], low, high)

    def zero_grad(self, set_to_none=True):
        if set_to_none and (tracer := tracing.current()) is not None:
            tracer.cleared(p for g in self.param_groups for p in g["params"])  # replay repeats it
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    write_in_place(p.grad, "fill", 0)

    def _check_grads(self):
        """Every gradient has its parameter's shape, dtype and device, checked
        before any parameter moves: a bad gradient (a hook's, or one assigned to
        .grad) is refused, never broadcast or cast, and leaves all parameters as
        they were."""
        who = f"{type(self).__name__}.step"
        for gi, group in enumerate(self.param_groups):
            for pi, p in enumerate(group["params"]):
                g = p.grad
                if g is None:
                    continue
                where = f"parameter {pi} of group {gi} (shape {p.shape})"
                if not isinstance(g, Tensor):
                    raise TypeError(f"{who}: the .grad of {where} is a {type(g).__name__}, expected a Tensor")
                if g.shape != p.shape:
                    raise RuntimeError(f"{who}: the gradient of {where} has shape {g.shape}; it must have the "
                                       "parameter's shape (a hook or an assignment to .grad changed it)")
                if g.dtype != p.dtype:
                    raise RuntimeError(f"{who}: the gradient of {where} has dtype {g.dtype}, the parameter "
                                       f"{p.dtype}; convert it (p.grad = p.grad.to({p.dtype}))")
                if not same_device(g, p):
                    raise RuntimeError(f"{who}: the gradient of {where} is on {g.device}, the parameter on "
                                       f"{p.device}; move it with .to('{p.device}')")

    # ----------------------------------------------------------------- hooks
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each ``step``; it may return
        ``(new_args, new_kwargs)`` for the step. Returns a handle (``remove()``)."""
        return _add_hook(f"{type(self).__name__}.register_step_pre_hook", self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _add_hook(f"{type(self).__name__}.register_step_post_hook", self._step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` before ``state_dict`` builds its dict."""
        return _add_hook(f"{type(self).__name__}.register_state_dict_pre_hook", self._state_dict_pre_hooks,
                         hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` after; a dict it returns replaces the state dict."""
        return _add_hook(f"{type(self).__name__}.register_state_dict_post_hook", self._state_dict_post_hooks,
                         hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` before ``load_state_dict``; a dict it returns is loaded instead."""
        return _add_hook(f"{type(self).__name__}.register_load_state_dict_pre_hook",
                         self._load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` after ``load_state_dict``."""
        return _add_hook(f"{type(self).__name__}.register_load_state_dict_post_hook",
                         self._load_state_dict_post_hooks, hook, prepend)

    # ------------------------------------------------------------------ step
    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` (as in
        PyTorch): a function that recomputes the loss (with grad enabled) before
        the update; its result is returned. The step hooks run around it and get,
        as PyTorch's, ``args`` = (the optimizer,) or (the optimizer, closure)."""
        tracer = tracing.current()
        if tracer is not None:  # inside a step being compiled: the tracer runs it (traced or kept as Python)
            return tracer.optimizer_step(self, closure, self._hooked_step)
        return self._hooked_step(closure)

    def _hooked_step(self, closure):
        args, kwargs = ((self,), {}) if closure is None else ((self, closure), {})
        for hook in chain(_global_step_pre_hooks.values(), self._step_pre_hooks.values()):
            out = hook(self, args, kwargs)
            if out is not None:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(f"{type(self).__name__}.step: a step pre-hook must return None or a tuple "
                                       f"(new_args, new_kwargs), got {type(out).__name__}")
                args, kwargs = out
        loss = type(self)._step(*args, **kwargs)
        for hook in chain(self._step_post_hooks.values(), _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return loss

    def _step(self, closure=None):
        loss = None
        if closure is not None:
            if not callable(closure):
                raise TypeError(f"{type(self).__name__}.step: closure must be callable (it recomputes the loss), "
                                f"got {type(closure).__name__}")
            with enable_grad():
                loss = closure()
        self._check_grads()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    st = self.state.setdefault(p, {})  # keyed by the tensor (its identity), as PyTorch
                    self._update(p, array_of(p.grad), st, group)
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # ------------------------------------------------------------ state dict
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [index...]}]},
        indices counting parameters across groups in order, as in PyTorch."""
        for hook in self._state_dict_pre_hooks.values():
            hook(self)
        index = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": ids})
        state = {index[id(p)]: {n: _state_value_out(v, p) for n, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        out = {"state": state, "param_groups": groups}
        for hook in self._state_dict_post_hooks.values():
            changed = hook(self, out)
            if changed is not None:
                out = changed
        return out

    def load_state_dict(self, state_dict):
        for hook in self._load_state_dict_pre_hooks.values():
            changed = hook(self, state_dict)
            if changed is not None:
                state_dict = changed
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: got {len(groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        params = [p for g in self.param_groups for p in g["params"]]
        for saved, own in zip(groups, self.param_groups):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(
                    f"{type(self).__name__}.load_state_dict: a group has {len(saved['params'])} "
                    f"parameters in the state dict and {len(own['params'])} in the optimizer; they must match"
                )
        updated = [{**own, **{k: v for k, v in saved.items() if k != "params"}}
                   for saved, own in zip(groups, self.param_groups)]
        for group in updated:  # the hyperparameters are checked as the constructor checks them, before any change
            self._check_group(group)
        new_state = {}
        for k, s in state_dict["state"].items():
            p = params[int(k)]
            new_state[p] = {}
            for n, v in s.items():
                new_state[p][n] = self._state_value_in(v, p, n, k)
        for saved, own in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    own[k] = copy.deepcopy(v.item() if _is_array(v) and v.ndim == 0 else v)
        self.state = new_state
        for hook in self._load_state_dict_post_hooks.values():
            hook(self)

    def _state_value_in(self, v, p, name, k):
        """A saved state value as this optimizer keeps it: arrays of the parameter's
        shape on its device and in its dtype, numbers as numbers."""
        if not (isinstance(v, Tensor) or _is_array(v)):
            return v
        t = v.detach() if isinstance(v, Tensor) else Tensor(v)
        if t.ndim == 0:
            return t.item()
        if t.shape != p.shape:
            raise ValueError(
                f"{type(self).__name__}.load_state_dict: state {name!r} of parameter {k} has "
                f"shape {t.shape}, the parameter has {p.shape}"
            )
        return backend_of(p).copy(array_of(t.to(p.device, p.dtype)))

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines + [")"])


def _is_array(v):
    return hasattr(v, "shape") and hasattr(v, "dtype")


def _state_value_out(v, p):
    """A state value for ``state_dict``: arrays as host NumPy copies (what ``save`` writes)."""
    if _is_array(v):
        return backend_of(p).to_numpy(backend_of(p).copy(v))
    return v
