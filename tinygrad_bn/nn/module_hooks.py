"""Module's forward and backward hooks: ``ModuleHooks`` (the base of ``Module``)
registers them and runs them around ``forward`` in ``__call__``; ``add_hook`` and
``checked_hook`` check a hook before any store takes it."""
from __future__ import annotations

from collections import OrderedDict

from .. import attribution
from ..grad_mode import GradMode
from ..tensor import RemovableHandle


class ModuleHooks:
    """The hooks part of ``Module``: ``__call__`` and the forward and backward hooks."""

    def _hook_store(self, name):
        """The hook dict ``name`` (made here for a module pickled before it existed)."""
        store = self.__dict__.get(name)
        if store is None:
            store = OrderedDict()
            object.__setattr__(self, name, store)
        return store

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
        backward_hooks = None
        if (d.get("_backward_hooks") or d.get("_backward_pre_hooks")) and GradMode.enabled:
            # imported here: only modules with backward hooks need it
            from ._backward_hooks import BackwardHook
            backward_hooks = BackwardHook(self, list(d.get("_backward_hooks", {}).values()),
                                          list(d.get("_backward_pre_hooks", {}).values()))
            args = backward_hooks.setup_input(args)
        stack = attribution.stack
        stack.append(self)
        try:
            out = self.forward(*args, **kwargs)
        finally:
            stack.pop()
        for hook in list(self._forward_hooks.values()):
            res = hook(self, args, out)
            if res is not None:
                out = res
        if backward_hooks is not None:
            out = backward_hooks.setup_output(out)
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after forward; a returned value
        replaces the output. Returns a handle with ``remove()``."""
        return RemovableHandle(self._forward_hooks, checked_hook("register_forward_hook", hook))

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before forward; may return new inputs."""
        return RemovableHandle(self._forward_pre_hooks, checked_hook("register_forward_pre_hook", hook))

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect
        to the module's positional tensor inputs are computed (with respect to its outputs,
        when no input requires grad; never when no output does). ``grad_input`` and
        ``grad_output`` are tuples with None for non-tensors; the hook may return a
        tuple of new ``grad_input``. The forward then sees (and the caller gets) new
        tensors on the same values: changing them in place raises."""
        who = "register_full_backward_hook"
        if self.__dict__.get("_is_full_backward_hook") is False:
            raise RuntimeError(f"{who}: cannot use both regular backward hooks (register_backward_hook) and full "
                               "backward hooks on a single Module; use only one of them")
        object.__setattr__(self, "_is_full_backward_hook", True)
        return add_hook(who, self._hook_store("_backward_hooks"), hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients with respect to the
        module's outputs are computed, before the full backward hooks; it may return new
        ``grad_output`` (a tuple), used in their place from there on."""
        return add_hook("register_full_backward_pre_hook", self._hook_store("_backward_pre_hooks"), hook, prepend)

    def register_backward_hook(self, hook):
        """PyTorch's deprecated form of ``register_full_backward_hook``. PyTorch passes it
        the gradients of the last op the forward ran, which depend on how that op is built;
        here it gets the gradients with respect to the module's inputs and outputs, as
        ``register_full_backward_hook`` (what the hook was meant to see)."""
        who = "register_backward_hook"
        if self.__dict__.get("_is_full_backward_hook") is True:
            raise RuntimeError(f"{who}: cannot use both regular backward hooks and full backward hooks "
                               "(register_full_backward_hook) on a single Module; use only one of them")
        object.__setattr__(self, "_is_full_backward_hook", False)
        return add_hook(who, self._hook_store("_backward_hooks"), hook)


def checked_hook(who, hook):
    if not callable(hook):
        raise TypeError(f"{who}: hook must be callable, got {type(hook).__name__} {hook!r}")
    return hook


def add_hook(who, store, hook, prepend=False):
    if not isinstance(prepend, bool):
        raise TypeError(f"{who}: prepend must be a bool, got {type(prepend).__name__} {prepend!r}")
    handle = RemovableHandle(store, checked_hook(who, hook))
    if prepend:
        store.move_to_end(handle.id, last=False)
    return handle

