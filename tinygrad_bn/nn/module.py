"""``Module``, ``Parameter`` and ``Buffer``, with PyTorch's names and semantics."""
from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Mapping

from .. import attribution
from ..backends import get_backend, move
from ..creation import full
from ..dtypes import as_dtype, float16, float32, float64, is_float
from ..grad_mode import GradMode, no_grad
from ..tensor import RemovableHandle, Tensor, _is_device
from ..tensor_base import (
    TensorBase,
    array_of,
    backend_of,
    make_tensor,
    replace_storage,
    write_in_place,
)

_EXTRA_STATE_KEY_SUFFIX = "_extra_state"


class Parameter(Tensor):
    """A tensor that a Module registers as trainable; requires grad by default."""

    __slots__ = ()
    is_parameter = True

    def __init__(self, data, requires_grad=True):
        if isinstance(data, Tensor):
            super().__init__(array_of(data), requires_grad=requires_grad, device=data.device)
        else:
            super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)`` (PyTorch >= 2.5): a tensor that, assigned to
    a module attribute, is registered as a buffer (``register_buffer``), saved in the
    state dict unless ``persistent=False``. It shares ``data``'s memory (a detached
    view of it), keeps its ``requires_grad``, and is a Tensor in every other way."""

    __slots__ = ()
    persistent = True

    def __new__(cls, data=None, *, persistent=True):
        if not isinstance(persistent, bool):
            raise TypeError(f"Buffer: persistent must be a bool, got {type(persistent).__name__} {persistent!r}")
        if data is None:
            t = Tensor([])
        elif isinstance(data, TensorBase):
            t = data.detach()
            t.requires_grad = data.requires_grad
        else:
            try:
                t = Tensor(data)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"Buffer: data must be a Tensor (or numbers to make one), got "
                                f"{type(data).__name__}: {exc}") from None
        t.__class__ = Buffer if persistent else _NonPersistentBuffer
        return t

    def __init__(self, data=None, *, persistent=True):
        pass  # built by __new__


class _NonPersistentBuffer(Buffer):
    """The class of ``Buffer(..., persistent=False)``: ``persistent`` lives on the class,
    since tensors have no per-instance attributes."""

    __slots__ = ()
    persistent = False


class Module:
    """Base class of layers and models.

    Assigning a ``Parameter``, a ``Buffer`` or a ``Module`` to an attribute registers it;
    ``register_buffer`` registers state that is saved but not trained (running
    statistics). ``forward`` is what a subclass defines; call the module itself.
    """

    _version = 1  # as PyTorch's, passed to state dict hooks in local_metadata

    def __init__(self):
        set_ = object.__setattr__
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_hooks", OrderedDict())
        set_(self, "_forward_pre_hooks", OrderedDict())
        set_(self, "_backward_hooks", OrderedDict())
        set_(self, "_backward_pre_hooks", OrderedDict())
        set_(self, "_is_full_backward_hook", None)
        set_(self, "_state_dict_pre_hooks", OrderedDict())
        set_(self, "_state_dict_hooks", OrderedDict())
        set_(self, "_load_state_dict_pre_hooks", OrderedDict())
        set_(self, "_load_state_dict_post_hooks", OrderedDict())
        object.__setattr__(self, "training", True)  # (spelled out: tools/api_coverage.py looks for it)
        set_(self, "_name", "")

    def _hook_store(self, name):
        """The hook dict ``name`` (made here for a module pickled before it existed)."""
        store = self.__dict__.get(name)
        if store is None:
            store = OrderedDict()
            object.__setattr__(self, name, store)
        return store

    # -------------------------------------------------------------- registry
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: cannot assign {name!r} before Module.__init__() "
                "is called; call super().__init__() first in your __init__."
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Buffer):
            params.pop(name, None)
            modules.pop(name, None)
            self.register_buffer(name, value, persistent=value.persistent)
            return
        for d in (params, modules, buffers):
            if name in d and not (d is buffers and (value is None or isinstance(value, Tensor))):
                del d[name]
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
            value._set_qualified_name(f"{self._name}.{name}" if self._name else name)
        elif name in buffers:
            buffers[name] = value
        elif name in params and value is None:
            params[name] = None
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__[key]:
                del self.__dict__[key][name]
                if key == "_buffers":
                    self.__dict__.get("_non_persistent", set()).discard(name)
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        _check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        _check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self.__dict__.pop(name, None)
        self._buffers[name] = tensor
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)
        else:
            self.__dict__.get("_non_persistent", set()).discard(name)

    def add_module(self, name, module):
        _check_name("add_module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module
        if module is not None:
            module._set_qualified_name(f"{self._name}.{name}" if self._name else name)

    def register_module(self, name, module):
        """Alias of ``add_module``."""
        self.add_module(name, module)

    def _set_qualified_name(self, name):
        """Record this module's dotted path in its parent (``layers.1``) so tape
        entries can say which module ran them."""
        object.__setattr__(self, "_name", name)
        for child_name, child in self._modules.items():
            if child is not None:
                child._set_qualified_name(f"{name}.{child_name}")

    def _get_name(self):
        return type(self).__name__

    # ------------------------------------------------------- lookup by path
    def get_submodule(self, target):
        """The submodule at dotted path ``target`` ("" is this module), or an AttributeError
        naming the first part of the path that is missing or is not a module."""
        if not isinstance(target, str):
            raise TypeError(f"get_submodule: target must be a dotted name (str), got {type(target).__name__} "
                            f"{target!r}")
        if target == "":
            return self
        mod = self
        for item in target.split("."):
            if not hasattr(mod, item):
                raise AttributeError(f"get_submodule: {mod._get_name()} has no attribute `{item}` (looking up "
                                     f"{target!r}); its submodules are {list(mod._modules)}")
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                # PyTorch's AttributeError (not a TypeError), which hasattr-style callers expect
                raise AttributeError(  # noqa: TRY004
                    f"get_submodule: `{item}` is not an nn.Module (it is a {type(mod).__name__}; "
                    f"looking up {target!r})")
        return mod

    def set_submodule(self, target, module, strict=False):
        """Put ``module`` at dotted path ``target``: replace the submodule there, or (unless
        ``strict``) add it when its parent exists."""
        if not isinstance(target, str):
            raise TypeError(f"set_submodule: target must be a dotted name (str), got {type(target).__name__} "
                            f"{target!r}")
        if target == "":
            raise ValueError("set_submodule: cannot set the submodule without a target name; got ''")
        if not isinstance(module, Module):
            raise ValueError(  # noqa: TRY004  (PyTorch's error type)
                f"set_submodule: `module` is not an nn.Module, found {type(module).__name__}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"set_submodule: {parent._get_name()} has no attribute `{name}` (strict=True "
                                 f"replaces existing submodules only; target {target!r})")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"set_submodule: `{name}` is not an nn.Module (it is a "
                                 f"{type(getattr(parent, name)).__name__}; target {target!r})")
        setattr(parent, name, module)

    def _owner_of(self, who, target, kind, store):
        """(the submodule that holds dotted path ``target``'s last name, that name), checked."""
        if not isinstance(target, str):
            raise TypeError(f"{who}: target must be a dotted name (str), got {type(target).__name__} {target!r}")
        module_path, _, name = target.rpartition(".")
        mod = self.get_submodule(module_path)
        if not hasattr(mod, name):
            raise AttributeError(f"{who}: {mod._get_name()} has no attribute `{name}` (looking up {target!r}); "
                                 f"its {kind} are {list(getattr(mod, store))}")
        return mod, name

    def get_parameter(self, target):
        """The Parameter at dotted path ``target`` (``"layers.0.weight"``)."""
        mod, name = self._owner_of("get_parameter", target, "parameters", "_parameters")
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError(  # noqa: TRY004  (PyTorch's error type)
                f"get_parameter: `{name}` is not an nn.Parameter (it is a {type(param).__name__}; "
                f"looking up {target!r})")
        return param

    def get_buffer(self, target):
        """The buffer at dotted path ``target`` (``"bn.running_mean"``)."""
        mod, name = self._owner_of("get_buffer", target, "buffers", "_buffers")
        if name not in mod._buffers:
            raise AttributeError(f"get_buffer: `{name}` is not a buffer (it is a {type(getattr(mod, name)).__name__}; "
                                 f"looking up {target!r})")
        return mod._buffers[name]

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

    # ------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, t in m.__dict__[store].items():
                if t is None or (remove_duplicate and id(t) in seen):
                    continue
                seen.add(id(t))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), t

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---------------------------------------------------------------- modes
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise TypeError(f"train(): mode must be a bool, got {type(mode).__name__} {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                write_in_place(p.grad, "fill", 0)

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Move parameters and buffers to a device and/or cast the floating point
        ones to a dtype, in place: ``to("cuda")``, ``to(float64)``, ``to("cpu", float32)``,
        ``to(tensor)`` (its device and dtype). Parameters keep their identity, so an
        optimizer built before still holds them."""
        for a in args:
            if isinstance(a, TensorBase):
                device, dtype = a.device, a.dtype
            elif _is_device(a):
                device = a
            else:
                dtype = a
        dtype = as_dtype(dtype, "Module.to")
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"Module.to: expected a floating point dtype, got {dtype}")
        target = get_backend(device) if device is not None else None
        for t in list(self.parameters()) + list(self.buffers()):
            for holder in (t, t.grad):
                if holder is None:
                    continue
                array, be = array_of(holder), backend_of(holder)
                if target is not None and be is not target:
                    array, be = move(array, be, target), target
                if dtype is not None and holder.dtype.kind == "f":
                    array = be.cast(array, dtype)
                # a new array, not a write, but values saved for backward are stale too
                replace_storage(holder, array, be)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

    def half(self):
        """Cast the floating point parameters and buffers to float16, in place."""
        return self.to(float16)

    def type(self, dst_type):
        """Cast every parameter and buffer (integer ones too, as PyTorch) to ``dst_type``:
        a dtype or a type name (``"torch.DoubleTensor"``), in place."""
        def cast(t):
            try:
                return t.type(dst_type)
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"Module.type: {exc}") from None
        return self._convert("Module.type", cast)

    def to_empty(self, *, device, recurse=True):
        """Give every parameter and buffer new, unfilled storage on ``device`` (None: each
        stays on its device), in place; the values are not copied (they are zeros here)."""
        if device is not None:
            try:
                get_backend(device)
            except ValueError as exc:
                raise ValueError(f"Module.to_empty: {exc}") from None

        def empty(t):
            be = backend_of(t) if device is None else get_backend(device)
            return make_tensor(be.zeros(t.shape, t.dtype), be)
        return self._convert("Module.to_empty", empty, recurse)

    def _convert(self, who, fn, recurse=True):
        """Replace the storage of every parameter and buffer (and gradient) with that of
        ``fn(tensor)``: all computed first, so a failure changes nothing."""
        seen, plan = set(), []
        mods = self.modules() if recurse else [self]
        with no_grad():
            for m in mods:
                for store in (m._parameters, m._buffers):
                    for name, t in store.items():
                        if t is None or id(t) in seen:
                            continue
                        seen.add(id(t))
                        for holder in (t, t.grad):
                            if holder is None:
                                continue
                            new = fn(holder.detach())
                            if holder.requires_grad and not is_float(new.dtype):
                                raise TypeError(f"{who}: {name!r} requires grad, so it must stay floating point; "
                                                f"got dtype {new.dtype}")
                            plan.append((holder, new))
        for holder, new in plan:
            replace_storage(holder, array_of(new), backend_of(new))
        return self

    def apply(self, fn):
        if not callable(fn):
            raise TypeError(f"apply: fn must be a callable taking a module, got {type(fn).__name__}")
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # --------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one in the subclass")

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
        return RemovableHandle(self._forward_hooks, _callable("register_forward_hook", hook))

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before forward; may return new inputs."""
        return RemovableHandle(self._forward_pre_hooks, _callable("register_forward_pre_hook", hook))

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
        return _add_hook(who, self._hook_store("_backward_hooks"), hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients with respect to the
        module's outputs are computed, before the full backward hooks; it may return new
        ``grad_output`` (a tuple), used in their place from there on."""
        return _add_hook("register_full_backward_pre_hook", self._hook_store("_backward_pre_hooks"), hook, prepend)

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
        return _add_hook(who, self._hook_store("_backward_hooks"), hook)

    # ------------------------------------------------------------ state dict
    def register_state_dict_pre_hook(self, hook):
        """``hook(module, prefix, keep_vars)`` runs before this module's ``state_dict``."""
        return _add_hook("register_state_dict_pre_hook", self._hook_store("_state_dict_pre_hooks"), hook)

    def register_state_dict_post_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata)`` runs after this module's
        entries (and its submodules') are in ``state_dict``; it may change the dict in
        place and must return None."""
        _callable("register_state_dict_post_hook", hook)
        try:
            hook._from_public_api = True
        except (AttributeError, TypeError):
            pass
        return _add_hook("register_state_dict_post_hook", self._hook_store("_state_dict_hooks"),
                         _PublicHook(hook) if not getattr(hook, "_from_public_api", False) else hook)

    def _register_state_dict_hook(self, hook):
        """PyTorch's private form of ``register_state_dict_post_hook``, whose returned
        dict (when not None) replaces the state dict."""
        if getattr(hook, "_from_public_api", False):
            raise RuntimeError("_register_state_dict_hook: this function is already registered via "
                               "register_state_dict_post_hook; register it with one of them only")
        return _add_hook("_register_state_dict_hook", self._hook_store("_state_dict_hooks"), hook)

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys,
        unexpected_keys, error_msgs)`` runs before this module's entries are loaded; it may
        change ``state_dict`` (a copy of the one given) and append to ``error_msgs``."""
        return _add_hook("register_load_state_dict_pre_hook", self._hook_store("_load_state_dict_pre_hooks"), hook)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        _callable("_register_load_state_dict_pre_hook", hook)
        wrapped = hook if with_module else _WithoutModule(hook)
        return _add_hook("_register_load_state_dict_pre_hook", self._hook_store("_load_state_dict_pre_hooks"),
                         wrapped)

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` runs after this module (and its submodules)
        loaded; it may change ``incompatible_keys.missing_keys`` / ``.unexpected_keys`` in
        place (the strict check sees that) and must return None."""
        return _add_hook("register_load_state_dict_post_hook", self._hook_store("_load_state_dict_post_hooks"),
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

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = []
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"{extra}" if extra else "")
        return head + "\n  " + "\n  ".join(lines) + "\n)"


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
    return getattr(type(module), name, None) is not getattr(Module, name)


def _callable(who, hook):
    if not callable(hook):
        raise TypeError(f"{who}: hook must be callable, got {type(hook).__name__} {hook!r}")
    return hook


def _add_hook(who, store, hook, prepend=False):
    if not isinstance(prepend, bool):
        raise TypeError(f"{who}: prepend must be a bool, got {type(prepend).__name__} {prepend!r}")
    handle = RemovableHandle(store, _callable(who, hook))
    if prepend:
        store.move_to_end(handle.id, last=False)
    return handle


def _check_name(who, name):
    """Attribute names for submodules, parameters and buffers: non-empty, no dots
    (a dot would split the state dict key), as PyTorch checks."""
    if not isinstance(name, str):
        raise TypeError(f"{who}: the name must be a str, got {type(name).__name__} {name!r}")
    if not name or "." in name:
        raise KeyError(f"{who}: the name must be non-empty and contain no '.', got {name!r}")
