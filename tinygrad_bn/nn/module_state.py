"""Module's state dict: ``ModuleState`` (the base of ``Module``) saves parameters,
persistent buffers and extra state by dotted name, loads them back checked, and
runs the state dict hooks registered on it."""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Mapping

from ..creation import full
from ..dtypes import is_float
from ..grad_mode import no_grad
from ..tensor import Tensor
from ..tensor_base import array_of, write_in_place
from .module_hooks import add_hook, checked_hook
from .parameter import Parameter

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class ModuleState:
    """The state dict part of ``Module``."""

    def get_extra_state(self):
        """Override (with ``set_extra_state``) to save extra state in ``state_dict()``
        under the key ``<prefix>_extra_state``; the base class has none."""
        raise RuntimeError(
            f"{self._get_name()}.get_extra_state: the base Module has no extra state; define get_extra_state "
            "(and set_extra_state) in your subclass to save some in the state dict")

    def set_extra_state(self, state):
        """Override (with ``get_extra_state``) to restore what ``get_extra_state`` saved."""
        raise RuntimeError(
            f"{self._get_name()}.set_extra_state: the base Module has no extra state; define set_extra_state "
            "(and get_extra_state) in your subclass to load some from the state dict")

    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` runs before this module's ``state_dict``."""
        return add_hook("register_state_dict_pre_hook", self._hook_store("_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's
        entries (and its submodules') are in ``state_dict``; it may change the dict in
        place and must return None."""
        checked_hook("register_state_dict_post_hook", hook)
        try:
            hook._from_public_api = True
        except (AttributeError, TypeError):
            pass
        return add_hook("register_state_dict_post_hook", self._hook_store("_state_dict_hooks"),
                         _PublicHook(hook) if not getattr(hook, "_from_public_api", False) else hook)

    def _register_state_dict_hook(self, hook):
        """PyTorch's private form of ``register_state_dict_post_hook``, whose returned
        dict (when not None) replaces the state dict."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("_register_state_dict_hook: this function is already registered via "
                               "register_state_dict_post_hook; register it with one of them only")
        return add_hook("_register_state_dict_hook", self._hook_store("_state_dict_hooks"), hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before this module's entries are loaded; it may
        change ``state_dict`` (a copy of the one given) and append to ``error_msgs``."""
        return add_hook("register_load_state_dict_pre_hook", self._hook_store("_load_state_dict_pre_hooks"), hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        checked_hook("_register_load_state_dict_pre_hook", hook)
        wrapped = hook if with_module else _WithoutModule(hook)
        return add_hook("_register_load_state_dict_pre_hook", self._hook_store("_load_state_dict_pre_hooks"),
                         wrapped)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` runs after this module (and its submodules)
        loaded; it may change ``incompatible_keys.missing_keys`` / ``.unexpected_keys`` in
        place (the strict check sees that) and must return None."""
        return add_hook("register_load_state_dict_post_hook", self._hook_store("_load_state_dict_post_hooks"),
                         hook)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        skip = self.__dict__.get("_non_persistent", ())
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in skip:
                destination[prefix + name] = b if keep_vars else b.detach()
        if _overrides(self, "get_extra_state"):
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name (PyTorch's keys), plus
        ``<prefix>_extra_state`` for modules that define ``get_extra_state``. The values
        are detached tensors sharing memory with the module (the tensors themselves
        with ``keep_vars=True``)."""
        if args:
            warnings.warn("state_dict: positional arguments (destination, prefix, keep_vars) are deprecated, as in "
                          "PyTorch; pass them as keywords", FutureWarning, stacklevel=2)
            if destination is None:
                destination = args[0]
            if len(args) > 1 and prefix == "":
                prefix = args[1]
            if len(args) > 2 and keep_vars is False:
                keep_vars = args[2]
        if not isinstance(prefix, str):
            raise TypeError(f"state_dict: prefix must be a str, got {type(prefix).__name__} {prefix!r}")
        if destination is None:
            destination = OrderedDict()
        d = self.__dict__
        local_metadata = {"version": type(self)._version}
        for hook in list(d.get("_state_dict_pre_hooks", {}).values()):
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        for hook in list(d.get("_state_dict_hooks", {}).values()):
            result = hook(self, destination, prefix, local_metadata)
            if getattr(hook, "_from_public_api", False):
                if result is not None:
                    raise RuntimeError("state_dict: a hook registered with register_state_dict_post_hook returned "
                                       f"a {type(result).__name__}; it must return None (change the dict in place)")
            elif result is not None:
                destination = result
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy values into parameters and buffers (``assign=True``: take the state dict's
        tensors themselves). Keys and shapes are checked for every entry before
        anything is copied, so a bad dict changes nothing (unless a load_state_dict post
        hook is registered: then, as in PyTorch, the matching entries are copied and the
        hooks may clear the missing and unexpected keys before the strict check)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of name -> tensor (a state_dict()), got "
                            f"{type(state_dict).__name__}; for a file, pass tinygrad_bn.load(path)")
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)
        missing, unexpected, error_msgs = [], [], []
        modules = list(self.named_modules(remove_duplicate=False))
        for mod_prefix, m in modules:
            hooks = m.__dict__.get("_load_state_dict_pre_hooks")
            if hooks:
                local_metadata = {} if metadata is None else metadata.get(mod_prefix, {})
                prefix = mod_prefix + "." if mod_prefix else ""
                for hook in list(hooks.values()):
                    hook(m, state_dict, prefix, local_metadata, strict, missing, unexpected, error_msgs)
        targets, extra, defaults, order = {}, {}, {}, []
        for mod_prefix, m in modules:
            prefix = mod_prefix + "." if mod_prefix else ""
            skip = m.__dict__.get("_non_persistent", ())
            for name, t in m._parameters.items():
                if t is not None:
                    targets[prefix + name] = (m, name, t, True)
                    order.append(prefix + name)
            for name, t in m._buffers.items():
                if t is not None and name not in skip:
                    targets[prefix + name] = (m, name, t, False)
                    order.append(prefix + name)
            for name, value in getattr(m, "_optional_state", {}).items():
                if prefix + name in targets and prefix + name not in state_dict:
                    # entries a module can do without, filled with their default (PyTorch's
                    # BatchNorm takes a state dict without num_batches_tracked, as old ones are)
                    defaults[prefix + name] = value
            if _overrides(m, "set_extra_state"):
                extra[prefix + _EXTRA_STATE_KEY_SUFFIX] = m
                order.append(prefix + _EXTRA_STATE_KEY_SUFFIX)
        missing += [k for k in order if k not in state_dict and k not in defaults]
        unexpected += [k for k in state_dict if k not in targets and k not in extra]
        staged = []
        for k, v in state_dict.items():
            if k not in targets:
                continue
            try:
                value = v.detach() if isinstance(v, Tensor) else Tensor(v)
            except (TypeError, ValueError):
                error_msgs.append(f"{k}: a {type(v).__name__} that is not a numeric tensor or array")
                continue
            target = targets[k][2]
            if target.ndim == 0 and value.shape == (1,):
                value = value.reshape(())  # PyTorch takes a [1] tensor for a 0-d one
            if value.shape != target.shape:
                error_msgs.append(f"{k}: shape {value.shape} in the state dict, {target.shape} in the model")
                continue
            staged.append((targets[k], value))
        for k, value in defaults.items():
            t = targets[k][2]
            staged.append((targets[k], full(t.shape, value, dtype=t.dtype, device=t.device)))
        post_hooks = any(m.__dict__.get("_load_state_dict_post_hooks") for _, m in modules)
        if error_msgs or (strict and (missing or unexpected) and not post_hooks):
            raise RuntimeError(
                f"load_state_dict: Error(s) in loading state_dict for {type(self).__name__} (nothing was changed); "
                "expected the model's keys and shapes:\n  " + "\n  ".join(_key_problems(missing, unexpected, strict)
                                                                          + error_msgs))
        with no_grad():
            for (m, name, target, is_param), value in staged:
                if assign:
                    new = value.detach()
                    if is_param:
                        new.__class__ = Parameter
                        new.requires_grad = target.requires_grad and is_float(new.dtype)
                        m._parameters[name] = new
                    else:
                        m._buffers[name] = new
                else:
                    write_in_place(target, "copyto", array_of(value.to(target.device, target.dtype)))
        for k, m in extra.items():
            if k in state_dict:
                m.set_extra_state(state_dict[k])
        result = _IncompatibleKeys(missing, unexpected)
        if post_hooks:
            for _, m in reversed(modules):  # children before their parent, as PyTorch's recursion
                for hook in list(m.__dict__.get("_load_state_dict_post_hooks", {}).values()):
                    if hook(m, result) is not None:
                        raise AssertionError("load_state_dict: a hook registered with "
                                             "register_load_state_dict_post_hook returned a value; it must return "
                                             "None (change incompatible_keys in place)")
            if strict and (missing or unexpected):
                raise RuntimeError(
                    f"load_state_dict: Error(s) in loading state_dict for {type(self).__name__} (the matching "
                    "entries were copied); expected the model's keys:\n  "
                    + "\n  ".join(_key_problems(missing, unexpected, strict)))
        return result


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        obj = super().__new__(cls, (missing, unexpected))
        obj.missing_keys, obj.unexpected_keys = missing, unexpected
        return obj

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


class _PublicHook:
    """A state dict post hook that cannot carry the ``_from_public_api`` mark itself
    (a bound method, a builtin): the mark is on this wrapper."""

    _from_public_api = True

    def __init__(self, hook):
        self.hook = hook

    def __call__(self, *args):
        return self.hook(*args)


class _WithoutModule:
    """A load_state_dict pre hook registered with ``with_module=False``: called without the module."""

    def __init__(self, hook):
        self.hook = hook

    def __call__(self, module, *args):
        return self.hook(*args)


def _key_problems(missing, unexpected, strict):
    problems = []
    if strict and missing:
        problems.append(f"missing keys: {missing}")
    if strict and unexpected:
        problems.append(f"unexpected keys: {unexpected}")
    return problems


def _overrides(module, name):
    """Whether ``module``'s class defines its own ``name`` (get_extra_state / set_extra_state)."""
    return getattr(type(module), name, None) is not getattr(ModuleState, name)
