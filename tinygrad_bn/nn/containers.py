"""ModuleList and ModuleDict: holders that register their modules (so their
parameters, buffers and state dict keys are the model's), as in torch.nn.
Neither has a forward: the owning module decides how to call them."""
from collections import OrderedDict

from .module import Module


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
