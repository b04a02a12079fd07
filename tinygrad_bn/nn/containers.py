"""ModuleList, ModuleDict, ParameterList and ParameterDict: holders that register
their modules or parameters (so their parameters, buffers and state dict keys are the
model's), as in torch.nn. None has a forward: the owning module decides how to use them."""
import numbers
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from ..tensor import Tensor
from .module import Module
from .parameter import Parameter


def _checked(who, module, where):
    if not isinstance(module, Module):
        raise TypeError(f"{who}: {where} is a {type(module).__name__}, expected a Module")
    return module


class ModuleList(Module):
    """A list of modules, with keys "0", "1", ... in the state dict."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None and (isinstance(modules, (Module, str)) or not hasattr(modules, "__iter__")):
            raise TypeError(f"ModuleList: expected an iterable of modules, got {type(modules).__name__}")
        for m in modules or ():
            self.append(m)

    def _index(self, i):
        n = len(self._modules)
        if not isinstance(i, int) or isinstance(i, bool):
            raise TypeError(f"ModuleList: indices must be ints or slices, got {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"ModuleList: index {i} is out of range for {n} modules")
        return i % n

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return ModuleList(mods[i])
        return mods[self._index(i)]

    def __setitem__(self, i, module):
        self.add_module(str(self._index(i)), _checked("ModuleList", module, f"item {i}"))

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        self.add_module(str(len(self._modules)), _checked("ModuleList", module, f"item {len(self._modules)}"))
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward(); iterate over it in your module's forward")


class ModuleDict(Module):
    """Modules by name, in insertion order; the names are the state dict keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise KeyError(f"ModuleDict: no module named {key!r}; it has {list(self._modules)}")
        return self._modules[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__} {key!r}")
        self.add_module(key, _checked("ModuleDict", module, f"item {key!r}"))

    def __delitem__(self, key):
        del self._modules[key]

    def __contains__(self, key):
        return key in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules):
        pairs = modules.items() if isinstance(modules, (dict, OrderedDict, ModuleDict)) else modules
        for key, m in pairs:
            self[key] = m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward(); pick its modules in your module's forward")


def _as_parameter(value):
    """A Tensor that is not yet a Parameter becomes one (requiring grad), as in PyTorch;
    Parameters and other values are kept as they are."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _store(module, name, value):
    """Register ``value`` under ``name``: a Parameter (or None) as a parameter, a Module as a
    submodule, anything else as a plain attribute (PyTorch's containers hold any object)."""
    for key in ("_parameters", "_modules"):
        module.__dict__[key].pop(name, None)
    module.__dict__.pop(name, None)
    if isinstance(value, Parameter) or value is None:
        module.register_parameter(name, value)
    elif isinstance(value, Module):
        module.add_module(name, value)
    else:
        object.__setattr__(module, name, value)


def _fetch(module, name):
    d = module.__dict__
    for key in ("_parameters", "_modules"):
        if name in d[key]:
            return d[key][name]
    return d[name]


def _remove(module, name):
    d = module.__dict__
    for key in ("_parameters", "_modules"):
        if name in d[key]:
            del d[key][name]
            return
    d.pop(name, None)


def _describe(p):
    if isinstance(p, Tensor):
        size = "x".join(str(n) for n in p.shape)
        device = f" ({p.device})" if str(p.device) != "cpu" else ""
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        return f"{kind} containing: [{p.dtype} of size {size}{device}]"
    return f"Object of type: {type(p).__name__}"


class ParameterList(Module):
    """Parameters in a list, registered as "0", "1", ... (the state dict keys). A Tensor
    put in becomes a Parameter; other objects are kept as they are (as in PyTorch)."""

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def _index(self, idx):
        if isinstance(idx, bool) or not isinstance(idx, numbers.Integral):
            raise TypeError(f"ParameterList: indices must be ints or slices, got {type(idx).__name__} {idx!r}")
        n = self._size
        if not -n <= idx < n:
            raise IndexError(f"ParameterList: index {idx} is out of range for {n} parameters")
        return str(int(idx) % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            out = type(self)()
            for i in range(*idx.indices(self._size)):
                out.append(self[i])
            return out
        return _fetch(self, self._index(idx))

    def __setitem__(self, idx, param):
        _store(self, self._index(idx), _as_parameter(param))

    def __len__(self):
        return self._size

    def __iter__(self):
        return iter([self[i] for i in range(self._size)])

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value):
        """Add ``value`` at the end (a Tensor becomes a Parameter)."""
        n = self._size
        object.__setattr__(self, "_size", n + 1)
        _store(self, str(n), _as_parameter(value))
        return self

    def extend(self, values):
        """Append every element of ``values`` (an iterable, not a single Tensor)."""
        if isinstance(values, (Tensor, str, bytes)) or not isinstance(values, Iterable):
            raise TypeError(f"ParameterList.extend: expected an iterable of parameters, got {type(values).__name__}")
        for value in list(values):
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in enumerate(self))

    def __repr__(self):
        body = self.extra_repr()
        return f"{type(self).__name__}(\n{body}\n)" if body else f"{type(self).__name__}()"

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called; index it or iterate over it in your forward")


class ParameterDict(Module):
    """Parameters by name, in insertion order; the names are the state dict keys. A Tensor
    put in becomes a Parameter; other objects are kept as they are (as in PyTorch)."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _key(key):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__} {key!r}")
        return key

    def __getitem__(self, key):
        if self._key(key) not in self._keys:
            raise KeyError(f"ParameterDict: no parameter named {key!r}; it has {list(self._keys)}")
        return _fetch(self, key)

    def __setitem__(self, key, value):
        self._key(key)
        if not key or "." in key:
            raise KeyError(f"ParameterDict: keys must be non-empty and contain no '.', got {key!r}")
        _store(self, key, _as_parameter(value))
        self._keys[key] = None

    def __delitem__(self, key):
        if self._key(key) not in self._keys:
            raise KeyError(f"ParameterDict: no parameter named {key!r}; it has {list(self._keys)}")
        del self._keys[key]
        _remove(self, key)

    def __len__(self):
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(list(self._keys))

    def __contains__(self, key):
        return key in self._keys

    def copy(self):
        """A new ParameterDict holding the same parameters (not copies of them)."""
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        for k in list(self._keys):
            del self[k]

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        if not self._keys:
            raise KeyError("ParameterDict.popitem: the dict is empty")
        k = next(reversed(list(self._keys)))
        return k, self.pop(k)

    def get(self, key, default=None):
        return self[key] if key in self else default  # noqa: SIM401  (this is get itself)

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def keys(self):
        return self._keys.keys()

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def values(self):
        return [self[k] for k in self._keys]

    def update(self, parameters):
        """Add or replace entries from a mapping or an iterable of (key, value) pairs. A
        plain dict is taken in sorted key order, an OrderedDict, a ParameterDict or a
        sequence of pairs in its own order (PyTorch's rule)."""
        if isinstance(parameters, (str, bytes, Tensor)) or not isinstance(parameters, Iterable):
            raise TypeError(f"ParameterDict.update: expected a mapping or an iterable of (key, value) pairs, got "
                            f"{type(parameters).__name__}")
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = []
            for j, p in enumerate(parameters):
                if isinstance(p, (str, bytes)) or not isinstance(p, Iterable):
                    raise TypeError(f"ParameterDict.update: sequence element #{j} should be a (key, value) pair; "
                                    f"is {type(p).__name__}")
                p = list(p)
                if len(p) != 2:
                    raise ValueError(f"ParameterDict.update: sequence element #{j} has length {len(p)}; 2 is "
                                     "required (key, value)")
                pairs.append(p)
        for key, value in pairs:
            self[key] = value

    def __or__(self, other):
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other):
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self):
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self.items())

    def __repr__(self):
        body = self.extra_repr()
        return f"{type(self).__name__}(\n{body}\n)" if body else f"{type(self).__name__}()"

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called; look its parameters up by key in your forward")
