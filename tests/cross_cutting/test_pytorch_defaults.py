"""Every nn module, optimizer, scheduler, functional, Tensor method, top-level
function and function of autograd, autograd.functional, nn.init and nn.utils
that PyTorch also has takes PyTorch's default for each argument the two share (a
margin of 1.0, a reduction of "mean", an eps of 1e-5, unbind's dim=0,
log_normal_'s mean=1, ...), so a script that leaves an argument out means what
it meant with PyTorch. The few differences are listed with the reason.

PyTorch's defaults are kept in ``pytorch_defaults.json`` so the comparison runs
without PyTorch installed; where it is installed, a test checks the file against
it (``python tests/cross_cutting/test_pytorch_defaults.py`` rewrites the file).
PyTorch's Tensor methods and top-level functions are builtins without a Python
signature: their defaults are read from the signature line that opens each
docstring ("unbind(dim=0) -> seq")."""
import ast
import inspect
import json
import math
import re
from pathlib import Path

import pytest

import tinygrad_bn as tg

SNAPSHOT = Path(__file__).with_name("pytorch_defaults.json")

# (module, argument): why our default differs in spelling but not in meaning, or how it differs
DIFFERENT = {
    **{("nn." + m, a): "None means the class's own default (True for batch norm, False for instance norm), as "
                       "PyTorch's value does"
       for m in ("BatchNorm1d", "BatchNorm2d", "InstanceNorm1d", "InstanceNorm2d")
       for a in ("affine", "track_running_stats")},
    **{("Tensor." + f, "dim"): "PyTorch's None means the last dim, which is our -1" for f in ("kthvalue", "mode", "topk")},
    **{(f, "device"): "PyTorch's None means the default device; we have no set_default_device, so ours is always "
                      "the CPU, spelt out" for f in ("eye", "full", "linspace", "logspace", "randperm", "tensor")},
    ("cdist", "compute_mode"): "ours has no effect (distances are never computed through the matmul expansion), "
                               "so it defaults to None",
    ("asarray", "requires_grad"): "PyTorch's signature line says None, its text says the default is False, as ours",
    ("utils.data.random_split", "generator"): "PyTorch's default is its CPU default generator object; our None "
                                              "means the same stream",
    ("autograd.grad", "allow_unused"): "PyTorch's None means materialize_grads' value, False by default; we have "
                                       "no materialize_grads, so ours is False",
}


def docstring_signatures(fn, name, prefix=""):
    """The argument lists (``ast.arguments``) of the ``name(...)`` signature lines that
    open fn's docstring (PyTorch's builtins have no Python signature), ``prefix`` a
    pattern allowed before the name; lines that do not parse are skipped."""
    for line in re.finditer(rf"^\s*{prefix}{re.escape(name)}\((.*?)\)\s*(?:->|$)", fn.__doc__ or "", re.M):
        try:
            yield ast.parse(f"def f({line.group(1)}): pass").body[0].args
        except SyntaxError:
            continue


def _docstring_defaults(fn, name):
    """The literal defaults on the ``name(...)`` signature lines of fn's docstring."""
    found = {}
    for args in docstring_signatures(fn, name):
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for arg, default in pairs:
            try:
                found.setdefault(arg.arg, ast.literal_eval(default))
            except ValueError:  # torch.strided, torch.preserve_format: not a literal
                pass
    return found


def _signature_defaults(fn):
    try:
        return {p.name: p.default for p in inspect.signature(fn).parameters.values()
                if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}


CLASS_SPACES = ("nn", "optim", "optim.lr_scheduler")  # their classes only (their functions are helpers)
FUNCTION_SPACES = ("", "F", "autograd", "autograd.functional", "nn.init", "nn.utils")  # their functions only
MIXED_SPACES = ("nn.utils.parametrize", "nn.utils.parametrizations", "nn.utils.stateless", "optim.swa_utils",
                "utils.data", "distributions")  # both


def _space(root, dotted):
    for part in filter(None, dotted.split(".")):
        root = getattr(root, part)
    return root


def our_callables():
    """name ("nn.Linear", "Tensor.sum", "F.relu", "cat", ...) -> the function a call
    of it runs (a class's ``__init__``), for everything of ours PyTorch may also have."""
    out = {}
    for name in (n for n in dir(tg.Tensor) if not n.startswith("_")):
        out["Tensor." + name] = getattr(tg.Tensor, name)
    for space in CLASS_SPACES + FUNCTION_SPACES + MIXED_SPACES:
        module = tg.nn.functional if space == "F" else _space(tg, space)
        prefix = space + "." if space else ""
        for name in (n for n in dir(module) if not n.startswith("_")):
            thing = getattr(module, name)
            if space in MIXED_SPACES and not getattr(thing, "__module__", "").startswith("tinygrad_bn"):
                continue  # what the module imports (copy.deepcopy)
            if isinstance(thing, type) and space not in FUNCTION_SPACES:
                out[prefix + name] = thing.__init__
            elif callable(thing) and not isinstance(thing, type) and space not in CLASS_SPACES:
                out[prefix + name] = thing
    return out


def pytorch_callable(torch, key, ours):
    """PyTorch's thing named ``key`` (as ``our_callables`` names it; ``ours`` is our
    callable of that name), or None where PyTorch has none or a class for a function."""
    import torch.nn.functional
    import torch.nn.utils.parametrizations
    import torch.nn.utils.parametrize
    import torch.nn.utils.stateless
    import torch.optim.swa_utils
    import torch.utils.data  # each space as an attribute of torch
    space, _, name = key.rpartition(".")
    module = torch.nn.functional if space == "F" else torch.Tensor if space == "Tensor" else _space(torch, space)
    thing = getattr(module, name, None)
    if thing is None:
        return None
    if isinstance(thing, type) != (getattr(ours, "__name__", "") == "__init__"):
        return None
    return thing.__init__ if isinstance(thing, type) else thing


def _ours():
    """name -> {argument: default} for everything of ours that PyTorch may also have."""
    return {key: _signature_defaults(fn) for key, fn in our_callables().items()}


def _pytorchs(torch, ours):
    """PyTorch's defaults for the arguments ``ours`` also has a default for."""
    out, callables = {}, our_callables()
    for key, mine in sorted(ours.items()):
        thing = pytorch_callable(torch, key, callables[key])
        if thing is None:
            continue
        name = key.rpartition(".")[2]
        defaults = _signature_defaults(thing)
        if not defaults and getattr(thing, "__name__", "") != "__init__":
            defaults = _docstring_defaults(thing, name)
        shared = {a: _jsonable(v) for a, v in defaults.items() if a in mine}
        if shared:
            out[key] = shared
    return out


def _jsonable(v):
    if isinstance(v, (tuple, list)):
        return list(map(_jsonable, v))
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return f"<{type(v).__name__} object>"  # random_split's generator=default_generator


def _same(ours, theirs):
    if isinstance(ours, tuple):
        ours = _jsonable(ours)
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return ours is theirs
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return ours == theirs or (math.isnan(ours) and math.isnan(theirs))  # PyTorch writes mean=1 for a float
    return type(ours) is type(theirs) and ours == theirs


def _compared():
    snapshot = json.loads(SNAPSHOT.read_text())["defaults"]
    ours = _ours()
    return [(key, arg, ours[key][arg], theirs) for key, args in snapshot.items() if key in ours
            for arg, theirs in args.items() if arg in ours[key]]


def test_we_take_pytorchs_defaults():
    shared = _compared()
    # the comparison reaches modules, Tensor methods, functions and functionals
    spaces = [key.rpartition(".")[0] for key, *_ in shared]
    for space, least in (("nn", 150), ("Tensor", 150), ("F", 150), ("", 60), ("autograd", 5),
                         ("autograd.functional", 8), ("nn.init", 10), ("nn.utils", 8), ("optim", 30),
                         ("optim.lr_scheduler", 30)):
        assert spaces.count(space) > least, (space, spaces.count(space))
    wrong = [row for row in shared if row[:2] not in DIFFERENT and not _same(row[2], row[3])]
    assert not wrong, f"defaults that differ from PyTorch's (name, argument, ours, PyTorch's): {wrong}"


def test_every_listed_difference_is_still_a_difference():
    differing = {(key, arg) for key, arg, ours, theirs in _compared() if not _same(ours, theirs)}
    assert set(DIFFERENT) <= differing, sorted(set(DIFFERENT) - differing)


def test_the_stored_defaults_are_pytorchs():
    torch = pytest.importorskip("torch")
    stored = json.loads(SNAPSHOT.read_text())
    if stored["torch"] != torch.__version__.split("+")[0]:
        pytest.skip(f"the stored defaults are PyTorch {stored['torch']}'s, this is {torch.__version__}")
    assert stored["defaults"] == _pytorchs(torch, _ours()), \
        "PyTorch's defaults or our arguments changed: run python tests/cross_cutting/test_pytorch_defaults.py"


if __name__ == "__main__":
    import torch
    SNAPSHOT.write_text(json.dumps({"torch": torch.__version__.split("+")[0],
                                    "defaults": _pytorchs(torch, _ours())}, indent=0, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
