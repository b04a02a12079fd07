"""``torch.nn.utils.stateless.functional_call`` (also ``torch.func.functional_call``'s form,
which takes a tuple of dicts): call a module with other tensors in place of its
parameters and buffers.

The given tensors are put in the module's registries for the call and the module's own
are put back after it, whatever happens; the forward uses the given tensors themselves,
so gradients flow to them (``{name: p - lr * g}`` and a loss of the call: the MAML idiom,
to any order with ``create_graph``)."""
from collections.abc import Mapping

from ..tensor import Tensor
from .module import Module

__all__ = ["functional_call"]

_MISSING = object()


def _named_tensors(module):
    """Every (dotted name, tensor) of the module's parameters and buffers, a tensor
    reached by two paths (tied, or a shared submodule) under each name."""
    for mod_prefix, m in module.named_modules(remove_duplicate=False):
        prefix = mod_prefix + "." if mod_prefix else ""
        for store in (m._parameters, m._buffers):
            for name, t in store.items():
                if t is not None:
                    yield prefix + name, t


def _untie(module, tensors):
    """``tensors`` with a value for every name tied to a given one (PyTorch's tie_weights)."""
    groups = {}
    for name, t in _named_tensors(module):
        groups.setdefault(id(t), set()).add(name)
    tied = {name: names for names in groups.values() if len(names) > 1 for name in names}
    given = [name for name in tensors if name in tied]
    for name in given:
        names = tied[name]
        if len({id(tensors[n]) for n in names if n in tensors}) > 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                             "Consider using tie_weights=False")
    out = dict(tensors)
    for name in given:
        for other in tied[name]:
            out[other] = tensors[name]
    return out


def _swap(module, name, tensor):
    """Put ``tensor`` (or, for _MISSING, nothing) at ``module.<name>``; return what was there."""
    d = module.__dict__
    for store in ("_parameters", "_buffers"):
        if name in d[store]:
            orig = d[store][name]
            if tensor is _MISSING:
                del d[store][name]
            else:
                d[store][name] = tensor
            return orig
    if name in d["_modules"]:
        raise TypeError(f"functional_call: `{name}` of {type(module).__name__} is a submodule, expected a parameter, "
                        "a buffer or a tensor attribute")
    orig = getattr(module, name, _MISSING)
    if orig is not _MISSING and not isinstance(orig, Tensor):
        raise TypeError(f"functional_call: attribute `{name}` of {type(module).__name__} is a "
                        f"{type(orig).__name__}, not a tensor; expected the name of a parameter or buffer")
    if tensor is _MISSING:
        d.pop(name, None)
    else:
        object.__setattr__(module, name, tensor)
    return orig


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """``module(*args, **kwargs)`` with the tensors of ``parameter_and_buffer_dicts`` (a dict
    of dotted name -> tensor, or a tuple of such dicts) in place of its parameters and
    buffers; the module's own are restored after the call. ``args`` not a tuple is one
    argument. ``tie_weights``: a value given for one of tied tensors is used for all of
    them. ``strict``: the names must be exactly the module's parameters and buffers."""
    who = "functional_call"
    if not isinstance(module, Module):
        raise TypeError(f"{who}: module must be an nn.Module, got {type(module).__name__}")
    if isinstance(parameter_and_buffer_dicts, Mapping):
        dicts = [parameter_and_buffer_dicts]
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)) and all(
            isinstance(d, Mapping) for d in parameter_and_buffer_dicts):
        dicts = list(parameter_and_buffer_dicts)
    else:
        raise TypeError(f"{who}: expected a dict of name -> tensor or a tuple of such dicts, got "
                        f"{type(parameter_and_buffer_dicts).__name__}")
    tensors, owner = {}, {}
    for d in dicts:
        for name, value in d.items():
            if not isinstance(name, str):
                raise TypeError(f"{who}: keys must be dotted names (str), got {type(name).__name__} {name!r}")
            if name in tensors:
                raise ValueError(f"{who}: {name!r} appeared in multiple dictionaries; behavior of functional call "
                                 "is ambiguous")
            if not isinstance(value, Tensor):
                raise TypeError(f"{who}: the value for {name!r} must be a Tensor, got {type(value).__name__}")
            if not name or name.split(".")[-1] == "":
                raise KeyError(f"{who}: {name!r} is not a parameter or buffer name")
            tensors[name], owner[name] = value, d
    if kwargs is None:
        kwargs = {}
    elif not isinstance(kwargs, Mapping):
        raise TypeError(f"{who}: kwargs must be a dict of keyword arguments, got {type(kwargs).__name__}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    if not isinstance(tie_weights, bool) or not isinstance(strict, bool):
        raise TypeError(f"{who}: tie_weights and strict must be bools, got {tie_weights!r} and {strict!r}")
    if tie_weights:
        tensors = _untie(module, tensors)
    if strict:
        expected = dict(_named_tensors(module))
        unexpected = [k for k in tensors if k not in expected]
        missing = [k for k in expected if k not in tensors]
        problems = []
        if unexpected:
            problems.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            problems.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if problems:
            raise RuntimeError(f"{who}: Error(s) in reparametrizing for {type(module).__name__}:\n\t"
                               + "\n\t".join(problems))
    # resolve every path first, so a bad name changes nothing
    places = []
    for name, t in tensors.items():
        path, _, attr = name.rpartition(".")
        try:
            places.append((module.get_submodule(path), attr, name, t))
        except AttributeError as exc:
            raise AttributeError(f"{who}: no submodule for {name!r}: {exc}") from None
    swapped = []
    try:
        for mod, attr, name, t in places:
            swapped.append((mod, attr, name, _swap(mod, attr, t)))
        return module(*args, **kwargs)
    finally:
        final = {}
        for mod, attr, name, orig in reversed(swapped):
            final[name] = _swap(mod, attr, orig)
        # a forward that assigned a new tensor to one of them leaves it in the caller's dict, as PyTorch
        for name, t in final.items():
            if name in owner and t is not _MISSING and t is not tensors[name] and isinstance(owner[name], dict):
                owner[name][name] = t
