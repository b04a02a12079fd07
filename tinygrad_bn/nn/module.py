"""``Module`` and ``Parameter``, with PyTorch's names and semantics."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping

from .. import attribution
from ..backends import get_backend, move
from ..creation import full
from ..dtypes import as_dtype, float32, float64
from ..grad_mode import no_grad
from ..tensor import RemovableHandle, Tensor, _is_device
from ..tensor_base import array_of, backend_of, replace_storage, write_in_place


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


class Module:
    """Base class of layers and models.

    Assigning a ``Parameter`` or a ``Module`` to an attribute registers it;
    ``register_buffer`` registers state that is saved but not trained (running
    statistics). ``forward`` is what a subclass defines; call the module itself.
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_name", "")

    # -------------------------------------------------------------- registry
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: cannot assign {name!r} before Module.__init__() "
                "is called; call super().__init__() first in your __init__."
            )
        params, modules, buffers = self._parameters, self._modules, self._buffers
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

    def add_module(self, name, module):
        _check_name("add_module", name)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module, got {type(module).__name__}")
        self._modules[name] = module
        if module is not None:
            module._set_qualified_name(f"{self._name}.{name}" if self._name else name)

    def _set_qualified_name(self, name):
        """Record this module's dotted path in its parent (``layers.1``) so tape
        entries can say which module ran them."""
        object.__setattr__(self, "_name", name)
        for child_name, child in self._modules.items():
            if child is not None:
                child._set_qualified_name(f"{name}.{child_name}")

    # ------------------------------------------------------------- traversal
    def named_modules(self, prefix=""):
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix="", recurse=True):
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, p in m._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

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

    def to(self, *args, dtype=None, device=None):
        """Move parameters and buffers to a device and/or cast the floating point
        ones to a dtype, in place: ``to("cuda")``, ``to(float64)``, ``to("cpu", float32)``.
        Parameters keep their identity, so an optimizer built before still holds them."""
        for a in args:
            if _is_device(a):
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

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to(float64)

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
        for hook in list(self._forward_pre_hooks.values()):
            res = hook(self, args)
            if res is not None:
                args = res if isinstance(res, tuple) else (res,)
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
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after forward; a returned value
        replaces the output. Returns a handle with ``remove()``."""
        return RemovableHandle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """``hook(module, inputs)`` runs before forward; may return new inputs."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    # ------------------------------------------------------------ state dict
    def state_dict(self, prefix=""):
        """Parameters and persistent buffers by dotted name (PyTorch's keys).
        The values are detached tensors sharing memory with the module."""
        out = OrderedDict()
        for mod_prefix, m in self.named_modules(prefix.rstrip(".")):
            skip = m.__dict__.get("_non_persistent", set())
            for name, p in m._parameters.items():
                if p is not None:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = p.detach()
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    out[f"{mod_prefix}.{name}" if mod_prefix else name] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into parameters and buffers. Keys and shapes are checked for
        every entry before anything is copied, so a bad dict changes nothing."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict of name -> tensor (a state_dict()), got "
                            f"{type(state_dict).__name__}; for a file, pass tinygrad_bn.load(path)")
        own = self.state_dict()
        targets = {}
        for mod_prefix, m in self.named_modules():
            for name, t in list(m._parameters.items()) + list(m._buffers.items()):
                if t is not None:
                    targets[f"{mod_prefix}.{name}" if mod_prefix else name] = t
        # entries a module can do without, filled with their default (PyTorch's
        # BatchNorm takes a state dict without num_batches_tracked, as old ones are)
        defaults = {}
        for mod_prefix, m in self.named_modules():
            for name, value in getattr(m, "_optional_state", {}).items():
                key = f"{mod_prefix}.{name}" if mod_prefix else name
                if key in own and key not in state_dict:
                    defaults[key] = value
        missing = [k for k in own if k not in state_dict and k not in defaults]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and (missing or unexpected):
            if missing:
                problems.append(f"missing keys: {missing}")
            if unexpected:
                problems.append(f"unexpected keys: {unexpected}")
        staged = []
        for k, v in state_dict.items():
            if k not in own:
                continue
            try:
                value = v.detach() if isinstance(v, Tensor) else Tensor(v)
            except (TypeError, ValueError):
                problems.append(f"{k}: a {type(v).__name__} that is not a numeric tensor or array")
                continue
            target = targets[k]
            if value.shape != target.shape:
                problems.append(f"{k}: shape {value.shape} in the state dict, {target.shape} in the model")
                continue
            staged.append((target, value))
        for k, value in defaults.items():
            staged.append((targets[k], full(targets[k].shape, value, dtype=targets[k].dtype)))
        if problems:
            raise RuntimeError(
                f"load_state_dict: Error(s) in loading state_dict for {type(self).__name__} (nothing was changed); "
                "expected the model's keys and shapes:\n  "
                + "\n  ".join(problems)
            )
        with no_grad():
            for target, value in staged:
                write_in_place(target, "copyto", array_of(value.to(target.device)))
        return _IncompatibleKeys(missing, unexpected)

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


def _check_name(who, name):
    """Attribute names for submodules, parameters and buffers: non-empty, no dots
    (a dot would split the state dict key), as PyTorch checks."""
    if not isinstance(name, str):
        raise TypeError(f"{who}: the name must be a str, got {type(name).__name__} {name!r}")
    if not name or "." in name:
        raise KeyError(f"{who}: the name must be non-empty and contain no '.', got {name!r}")
