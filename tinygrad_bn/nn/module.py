"""``Module``, with PyTorch's names and semantics: registration of parameters,
buffers and submodules, lookup by dotted path, traversal and modes. Its other
parts are its bases: hooks and ``__call__`` (``module_hooks``), the state dict
(``module_state``), moves and casts (``module_conversion``); ``Parameter`` and
``Buffer`` live in ``parameter``."""
from __future__ import annotations

from collections import OrderedDict

from .. import compile_state as tracing
from ..tensor import Tensor
from ..tensor_base import write_in_place
from .module_conversion import ModuleConversion
from .module_hooks import ModuleHooks
from .module_state import ModuleState
from .parameter import Buffer, Parameter


class Module(ModuleHooks, ModuleState, ModuleConversion):
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

    # -------------------------------------------------------------- registry
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: cannot assign {name!r} before Module.__init__() "
                "is called; call super().__init__() first in your __init__."
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            _refuse_class_attribute(self, "__setattr__", name, params)
        elif isinstance(value, Module):
            _refuse_class_attribute(self, "__setattr__", name, modules)
        if isinstance(value, Buffer):
            params.pop(name, None)
            modules.pop(name, None)
            self.register_buffer(name, value, persistent=value.persistent)
            return
        # PyTorch's rules: a registered parameter's or child module's name takes one of its kind or None
        # (None keeps the slot: state_dict and named_parameters leave it out), a buffer's a tensor or None
        who = type(self).__name__
        if isinstance(value, Parameter):
            modules.pop(name, None)
            self._forget_buffer(name)
            params[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(f"{who}: cannot assign a {type(value).__name__} as parameter {name!r}; expected a "
                                f"Parameter or None. Wrap it (nn.Parameter(t)), or write its values into the "
                                f"parameter (with no_grad(): self.{name}.copy_(t))")
            params[name] = None
        elif isinstance(value, Module):
            self._forget_buffer(name)
            modules[name] = value
            value._set_qualified_name(f"{self._name}.{name}" if self._name else name)
        elif name in modules:
            if value is not None:
                raise TypeError(f"{who}: cannot assign a {type(value).__name__} as child module {name!r}; "
                                "expected a Module or None")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{who}: cannot assign a {type(value).__name__} as buffer {name!r}; expected a "
                                "Tensor or None (tinygrad_bn.tensor(value) makes one)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)
            return
        self.__dict__.pop(name, None)

    def _forget_buffer(self, name):
        """Drop buffer ``name`` and its entry in the non-persistent set, as PyTorch
        does when a parameter or a module takes the name or it is deleted: nothing
        stale stays under a name that is no longer a buffer's."""
        self.__dict__["_buffers"].pop(name, None)
        self.__dict__.get("_non_persistent", set()).discard(name)

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
                if key == "_buffers":
                    self._forget_buffer(name)
                else:
                    del self.__dict__[key][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name, param):
        _check_name("register_parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        _refuse_class_attribute(self, "register_parameter", name, self._parameters)
        self.__dict__.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        _check_name("register_buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        _refuse_class_attribute(self, "register_buffer", name, self._buffers)
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
        _refuse_class_attribute(self, "add_module", name, self._modules)
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
        if set_to_none and (tracer := tracing.current()) is not None:
            tracer.cleared(self.parameters())  # replay repeats it
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                write_in_place(p.grad, "fill", 0)

    # --------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward(); define one in the subclass")

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


def _refuse_class_attribute(module, who, name, store):
    """A parameter, buffer or submodule may not take the name of a class attribute (a
    property or method): reads would find the class's attribute and the registered value
    would hide behind it. PyTorch's KeyError, before anything changes."""
    if name not in store and hasattr(type(module), name):
        kind = "a property" if isinstance(getattr(type(module), name), property) else "a class attribute"
        raise KeyError(f"{who}: attribute '{name}' already exists ({kind} of {type(module).__name__}); "
                       "choose another name")


def _check_name(who, name):
    """Attribute names for submodules, parameters and buffers: non-empty, no dots
    (a dot would split the state dict key), as PyTorch checks."""
    if not isinstance(name, str):
        raise TypeError(f"{who}: the name must be a str, got {type(name).__name__} {name!r}")
    if not name or "." in name:
        raise KeyError(f"{who}: the name must be non-empty and contain no '.', got {name!r}")
