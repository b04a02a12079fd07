"""``torch.nn.utils.parametrize``: a module's parameter or buffer computed from other
tensors through parametrization modules (``register_parametrization``).

Registering a parametrization on ``module.weight`` moves the tensor to
``module.parametrizations.weight.original`` (or, when the first parametrization's
``right_inverse`` returns several tensors, ``original0``, ``original1``, ...) and swaps
the module's class for a subclass ``Parametrized<Class>`` whose property ``weight``
computes ``parametrization(original)`` on every access (once inside ``cached()``).
Assigning ``module.weight = value`` stores ``right_inverse(value)`` in the originals.
The state dict keys are PyTorch's (``parametrizations.weight.original``), so weights
move between the two. Everything is Tensor ops: gradients reach the originals.

``import tinygrad_bn.nn.utils.parametrize as P`` works, as in PyTorch."""
import copy
import copyreg
from collections.abc import Sequence
from contextlib import contextmanager

from ..grad_mode import no_grad
from ..tensor import Tensor
from .containers import ModuleDict, ModuleList
from .module import Module
from .parameter import Parameter

__all__ = ["ParametrizationList", "cached", "is_parametrized", "register_parametrization", "remove_parametrizations",
           "transfer_parametrizations_and_params", "type_before_parametrizations"]

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Inside this context a parametrized tensor is computed once, the first time it is
    read, and the same tensor is returned after that; the values are dropped on leaving
    the (outermost) context. Wrap a forward that reads a parametrized weight several
    times (shared weights, a loop)."""
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, value):
    if isinstance(value, Parameter):
        module.register_parameter(name, value)
    else:
        module.register_buffer(name, value)


def _maybe_set(dest, src):
    """Give ``dest`` ``src``'s values (and shape) keeping ``dest`` itself, as PyTorch's
    ``set_``: an optimizer that holds ``dest`` keeps working."""
    with no_grad():
        dest.data = src.detach()


def _is_sequence(value):
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor (``module.parametrizations[tensor_name]``) and
    the original tensor(s) they are applied to: ``original``, or ``original0``,
    ``original1``, ... when the first parametrization's ``right_inverse`` returns
    several tensors. Built by ``register_parametrization``, not by hand.

    ``unsafe``: the parametrization may change the tensor's shape and dtype (then
    nothing is checked)."""

    def __init__(self, modules, original, unsafe=False):
        who = "ParametrizationList"
        modules = list(modules)
        if not modules:
            raise ValueError(f"{who}: requires one or more parametrization modules, got none")
        if not isinstance(original, Tensor):
            raise TypeError(f"{who}: original must be a Tensor (a parameter or buffer), got "
                            f"{type(original).__name__}")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, "right_inverse"):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
                # without one (or when it raises NotImplementedError) right_inverse is the identity
        if not isinstance(new, Tensor) and not _is_sequence(new):
            raise ValueError(f"register_parametrization: 'right_inverse' must return a Tensor or a Sequence of "
                             f"tensors (list, tuple...), got {type(new).__name__}")
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError(f"register_parametrization: when `right_inverse` outputs one tensor, it may not "
                                 f"change the dtype; original.dtype: {original.dtype}, right_inverse(original)"
                                 f".dtype: {new.dtype}")
            if new.device != original.device:
                raise ValueError(f"register_parametrization: when `right_inverse` outputs one tensor, it may not "
                                 f"change the device; original.device: {original.device}, "
                                 f"right_inverse(original).device: {new.device}")
            # the original tensor itself stays: an optimizer that holds it need not be told
            if new is not original:
                _maybe_set(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, originali in enumerate(new):
                if not isinstance(originali, Tensor):
                    raise ValueError(  # noqa: TRY004  (PyTorch's error type)
                        f"register_parametrization: 'right_inverse' must return a Tensor or a "
                                     f"Sequence of tensors (list, tuple...), got element {i} of the sequence with "
                                     f"type {type(originali).__name__}")
                # a Parameter gives Parameters: add them to the optimizer after registering (as in PyTorch)
                if isinstance(original, Parameter):
                    originali = Parameter(originali, original.requires_grad)
                originali.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", originali)
        if not self.unsafe:
            # forward(right_inverse(original)) must live where original does
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f"register_parametrization: a parametrization must return a tensor, got "
                                 f"{type(z).__name__}")
            if z.dtype != original_dtype:
                raise ValueError(f"register_parametrization: registering a parametrization may not change the dtype "
                                 f"of the tensor, unless unsafe=True; unparametrized dtype: {original_dtype}, "
                                 f"parametrized dtype: {z.dtype}; expected the dtype kept (or pass unsafe=True)")
            if z.shape != original_shape:
                raise ValueError(f"register_parametrization: registering a parametrization may not change the shape "
                                 f"of the tensor, unless unsafe=True; unparametrized shape: {original_shape}, "
                                 f"parametrized shape: {z.shape}; expected the shape kept (or pass unsafe=True)")

    def right_inverse(self, value):
        """Run the ``right_inverse`` of every parametrization on ``value``, last registered
        first, and store the result in ``original`` (or ``original0``, ``original1``, ...)."""
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"ParametrizationList.right_inverse: parametrization {type(module).__name__} "
                                       "does not implement right_inverse, so the parametrized tensor cannot be "
                                       "assigned; define right_inverse(value) in it")
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f"ParametrizationList.right_inverse: `right_inverse` should return a tensor, "
                                     f"got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"ParametrizationList.right_inverse: the tensor returned by `right_inverse` has "
                                     f"dtype {value.dtype} while `original` has dtype {self.original.dtype}")
                _maybe_set(self.original, value)
            else:
                if not _is_sequence(value):
                    raise ValueError(f"ParametrizationList.right_inverse: 'right_inverse' must return a sequence of "
                                     f"tensors, got {type(value).__name__}")
                if len(value) != self.ntensors:
                    raise ValueError(f"ParametrizationList.right_inverse: 'right_inverse' must return a sequence of "
                                     f"tensors of length {self.ntensors}, got a sequence of length {len(value)}")
                for i, tensor in enumerate(value):
                    original_i = getattr(self, f"original{i}")
                    if not isinstance(tensor, Tensor):
                        raise ValueError(  # noqa: TRY004  (PyTorch's error type)
                            f"ParametrizationList.right_inverse: 'right_inverse' must return a sequence "
                                         f"of tensors, got element {i} of type {type(tensor).__name__}")
                    if original_i.dtype != tensor.dtype:
                        raise ValueError(f"ParametrizationList.right_inverse: tensor {i} returned by `right_inverse` "
                                         f"has dtype {tensor.dtype} while `original{i}` has dtype {original_i.dtype}")
                    _maybe_set(original_i, tensor)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f"original{i}") for i in range(self.ntensors)))
        i = 1
        while str(i) in self._modules:
            x = self._modules[str(i)](x)
            i += 1
        return x


def _getstate(self):
    raise RuntimeError(f"{type(self).__name__}: serialization of parametrized modules is only supported through "
                       "state_dict(); save module.state_dict() and load it into a module parametrized the same way")


def _default_deepcopy(self, memo):
    """A deepcopy of a parametrized module (pickling is refused): a new object with a
    copy of the instance dict, and a class of its own, so removing a parametrization
    from one copy leaves the other's property in place."""
    obj = memo.get(id(self))
    if obj is not None:
        return obj
    cls = type(self)
    own = type(cls.__name__, cls.__bases__,
               {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")})
    replica = own.__new__(own)
    memo[id(self)] = replica
    object.__setattr__(replica, "__dict__", copy.deepcopy(self.__dict__, memo))
    for slot in copyreg._slotnames(cls):
        if hasattr(self, slot):
            object.__setattr__(replica, slot, copy.deepcopy(getattr(self, slot), memo))
    return replica


def _parametrized_setattr(self, name, value):
    """Assigning a tensor to a parametrized name goes through ``right_inverse``; a
    Parameter there is an error, as in PyTorch (it would hide behind the property)."""
    if isinstance(getattr(type(self), name, None), property) and is_parametrized(self, name):
        if isinstance(value, Parameter):
            raise KeyError(f"{type(self).__name__}: attribute '{name}' already exists (it is parametrized); assign a "
                           "Tensor to set it through right_inverse, or call remove_parametrizations first")
        object.__setattr__(self, name, value)
        return
    type(self).__bases__[0].__setattr__(self, name, value)


def _inject_new_class(module):
    """Swap the module's class for a subclass ``Parametrized<Class>`` that will hold the
    properties."""
    cls = module.__class__
    dct = {"__getstate__": _getstate, "__setattr__": _parametrized_setattr}
    if not hasattr(cls, "__deepcopy__"):
        dct["__deepcopy__"] = _default_deepcopy
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), dct)


def _inject_property(module, tensor_name):
    if hasattr(module, tensor_name):
        raise AssertionError(f"register_parametrization: module already has an attribute named '{tensor_name}'")

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        try:
            if _cache_enabled:
                key = (id(self), tensor_name)
                tensor = _cache.get(key)
                if tensor is None:
                    tensor = parametrization()
                    _cache[key] = tensor
                return tensor
            return parametrization()
        except AttributeError as exc:
            # an AttributeError out of a property would make Python report the attribute as missing
            raise RuntimeError(f"{type(self).__name__}.{tensor_name}: computing the parametrized tensor raised "
                               f"AttributeError: {exc}") from exc

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))


def _module_arg(who, name, module):
    if not isinstance(module, Module):
        raise TypeError(f"{who}: {name} must be an nn.Module, got {type(module).__name__}")
    return module


def _name_arg(who, tensor_name, allow_none=False):
    if not (isinstance(tensor_name, str) or (allow_none and tensor_name is None)):
        expected = "a str or None" if allow_none else "a str"
        raise TypeError(f"{who}: tensor_name must be {expected} (the attribute's name), got "
                        f"{type(tensor_name).__name__} {tensor_name!r}")
    return tensor_name


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Parametrize ``module.<tensor_name>`` (a parameter or buffer): from now on reading it
    returns ``parametrization(original)``, the tensor itself kept as
    ``module.parametrizations[tensor_name].original``. ``parametrization`` is a Module;
    its ``right_inverse(value)``, when it has one, gives the original(s) for a value (a
    tuple of tensors: ``original0``, ``original1``, ...). Registering on an already
    parametrized name chains: the new one is applied to the previous output. Unless
    ``unsafe``, the parametrization may not change the shape or dtype. Returns the module."""
    who = "register_parametrization"
    _module_arg(who, "module", module)
    _name_arg(who, tensor_name)
    if not isinstance(parametrization, Module):
        raise TypeError(f"{who}: parametrization must be an nn.Module (with a forward, and optionally a "
                        f"right_inverse), got {type(parametrization).__name__}")
    if not isinstance(unsafe, bool):
        raise TypeError(f"{who}: unsafe must be a bool, got {type(unsafe).__name__} {unsafe!r}")
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            y = getattr(module, tensor_name)
            x = parametrization(y)
            if not isinstance(x, Tensor):
                raise ValueError(f"{who}: a parametrization must return a tensor, got {type(x).__name__}")
            if x.dtype != y.dtype:
                raise ValueError(f"{who}: registering a parametrization may not change the dtype of the tensor, "
                                 f"unless unsafe=True; module.{tensor_name}.dtype: {y.dtype}, "
                                 f"parametrization(module.{tensor_name}).dtype: {x.dtype}; expected the dtype kept "
                                 "(or pass unsafe=True)")
            if x.shape != y.shape:
                raise ValueError(f"{who}: registering a parametrization may not change the shape of the tensor, "
                                 f"unless unsafe=True; module.{tensor_name}.shape: {y.shape}, "
                                 f"parametrization(module.{tensor_name}).shape: {x.shape}; expected the shape kept "
                                 "(or pass unsafe=True)")
            if hasattr(parametrization, "right_inverse"):
                try:
                    z = parametrization.right_inverse(x)
                except NotImplementedError:
                    pass
                else:
                    if not isinstance(z, Tensor):
                        raise ValueError(  # noqa: TRY004  (PyTorch's error type)
                            f"{who}: parametrization.right_inverse must return a tensor, got "
                                         f"{type(z).__name__}")
                    if z.dtype != y.dtype:
                        raise ValueError(f"{who}: the tensor returned by parametrization.right_inverse must have the "
                                         f"dtype of module.{tensor_name}, unless unsafe=True; expected {y.dtype}, "
                                         f"got {z.dtype}")
                    if z.shape != y.shape:
                        raise ValueError(f"{who}: the tensor returned by parametrization.right_inverse must have the "
                                         f"shape of module.{tensor_name}, unless unsafe=True; expected {y.shape}, "
                                         f"got {z.shape}")
        plist = module.parametrizations[tensor_name]
        plist.append(parametrization)
        plist.unsafe |= unsafe  # unsafe once, unsafe from then on
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"{who}: {type(module).__name__}.{tensor_name} is None; expected a tensor to parametrize")
        # built first, so that a failing check changes nothing on the module
        plist = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = plist
    else:
        names = [n for n, t in list(module._parameters.items()) + list(module._buffers.items()) if t is not None]
        if is_parametrized(module):
            names += list(module.parametrizations)
        raise ValueError(f"{who}: module {type(module).__name__} does not have a parameter, a buffer, or a "
                         f"parametrized element with name '{tensor_name}'; expected one of {names}")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has a parametrization on ``tensor_name`` (None: on anything)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations") if isinstance(module, Module) \
        else getattr(module, "parametrizations", None)
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization`` on ``module.<tensor_name>`` (all of its chained
    parametrizations). ``leave_parametrized=True``: the tensor keeps its current,
    parametrized value (in the original tensor object, when there is one original);
    False: it gets the original tensor back (one original only). Returns the module."""
    who = "remove_parametrizations"
    _module_arg(who, "module", module)
    _name_arg(who, tensor_name)
    if not isinstance(leave_parametrized, bool):
        raise TypeError(f"{who}: leave_parametrized must be a bool, got {type(leave_parametrized).__name__} "
                        f"{leave_parametrized!r}")
    if not is_parametrized(module, tensor_name):
        have = list(module.parametrizations) if is_parametrized(module) else []
        raise ValueError(f"{who}: module {type(module).__name__} does not have a parametrization on "
                         f"'{tensor_name}'; its parametrized tensors are {have} (register one with "
                         "register_parametrization first)")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
            if t.dtype != original.dtype:
                raise ValueError(f"{who}: the parametrized {tensor_name} has dtype {t.dtype}, the original "
                                 f"{original.dtype}; leave_parametrized=True needs the same dtype (pass "
                                 "leave_parametrized=False to get the original back)")
            _maybe_set(original, t)
    else:
        if not leave_parametrized:
            raise ValueError(f"{who}: cannot leave unparametrized (`leave_parametrized=False`) a tensor that is "
                             f"parametrized in terms of a sequence of tensors ({parametrizations.ntensors} "
                             f"originals for '{tensor_name}')")
        t = getattr(module, tensor_name)
        # a new Parameter: add it to the optimizer (as in PyTorch)
        original = Parameter(t) if t.requires_grad else t.detach()
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before parametrizations were registered (its class if none were)."""
    if is_parametrized(module):
        return module.__class__.__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Register ``from_module``'s parametrizations (the same parametrization modules) on
    ``to_module`` for ``tensor_name`` (None: every parametrized tensor), creating the
    tensor on ``to_module`` when it has none, and make ``to_module``'s originals
    ``from_module``'s (shared). Does nothing when ``from_module`` is not parametrized.
    Returns ``to_module``."""
    who = "transfer_parametrizations_and_params"
    _module_arg(who, "from_module", from_module)
    _module_arg(who, "to_module", to_module)
    _name_arg(who, tensor_name, allow_none=True)
    if not is_parametrized(from_module):
        return to_module
    if tensor_name is not None and not is_parametrized(from_module, tensor_name):
        raise ValueError(f"{who}: from_module {type(from_module).__name__} has no parametrization on "
                         f"'{tensor_name}'; its parametrized tensors are {list(from_module.parametrizations)}")
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name)))
        source = from_module.parametrizations[name]
        for param_func in source:
            register_parametrization(to_module, name, param_func)
        target = to_module.parametrizations[name]
        if "original" in source._parameters or "original" in source._buffers:
            target.original = source.original
        else:
            i = 0
            while hasattr(source, f"original{i}"):
                setattr(target, f"original{i}", getattr(source, f"original{i}"))
                i += 1
    return to_module
