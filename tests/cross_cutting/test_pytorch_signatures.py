"""Every call PyTorch takes, ours takes with the same meaning: an argument that
PyTorch accepts by keyword we accept by keyword (not positional-only), and one
PyTorch accepts by position we accept at the same position, for every nn module,
optimizer, scheduler, functional, Tensor method and function of ours that PyTorch
also has (``test_pytorch_defaults.our_callables``). A script that passes
``nn.Linear(3, 4, True, None, torch.float64)`` or
``register_parametrization(module=m, tensor_name="weight", parametrization=p)``
means the same here.

PyTorch's parameters are kept in ``pytorch_signatures.json`` so the comparison
runs without PyTorch installed (``python tests/cross_cutting/test_pytorch_signatures.py``
rewrites it). Builtins without a Python signature (most Tensor methods and
``torch.*`` functions) are read from their docstring's signature lines, whose
``*`` is not always where the builtin puts it (``cumsum(dim, dtype=None)``
takes dtype by keyword only): for those only the keyword rule and the
positions of arguments without a default are checked."""
import inspect
from pathlib import Path

import pytest
import pytorch_snapshots
from test_pytorch_defaults import docstring_signatures, our_callables, pytorch_callable

SNAPSHOT = Path(__file__).with_name("pytorch_signatures.json")
POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
BY_KEYWORD = ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")
# arguments of PyTorch's that we do not take, left out of the comparison
NOT_OURS = {"out", "memory_format", "layout", "pin_memory"}


def _parameters(fn):
    """[(name, kind, has a default)] of a Python signature, without self."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    if params and params[0].name == "self":
        params = params[1:]
    return [[p.name, p.kind.name, p.default is not inspect.Parameter.empty] for p in params]


def _docstring_parameters(fn, name, method):
    """The signatures on the ``name(...)`` lines of fn's docstring, each as ``_parameters``
    gives them (a method's leading ``input`` left out)."""
    found = []
    for args in docstring_signatures(fn, name, prefix=r"(?:torch\.)?"):
        positional = args.posonlyargs + args.args
        defaulted = {a.arg for a in positional[len(positional) - len(args.defaults):]}
        params = [[a.arg, "POSITIONAL_ONLY", a.arg in defaulted] for a in args.posonlyargs]
        params += [[a.arg, "POSITIONAL_OR_KEYWORD", a.arg in defaulted] for a in args.args]
        if args.vararg:
            params.append([args.vararg.arg, "VAR_POSITIONAL", False])
        params += [[a.arg, "KEYWORD_ONLY", d is not None] for a, d in zip(args.kwonlyargs, args.kw_defaults)]
        if method and params and params[0][0] in ("input", "self"):
            params = params[1:]
        if params not in found:
            found.append(params)
    return found


def record():
    import torch
    out, ours = {}, our_callables()
    for key in sorted(ours):
        thing = pytorch_callable(torch, key, ours[key])
        if thing is None:
            continue
        params = _parameters(thing)
        if params is not None:
            out[key] = {"from": "signature", "signatures": [params]}
        else:
            found = _docstring_parameters(thing, key.rpartition(".")[2], key.startswith("Tensor."))
            if found:
                out[key] = {"from": "docstring", "signatures": found}
    return out


def _problems(ours, theirs, trusted):
    """How a call PyTorch takes by ``theirs`` fails or changes meaning with ``ours``."""
    mine = {name: (i, kind) for i, (name, kind, _) in enumerate(ours)}
    var_positional = next((i for i, (_, kind, _) in enumerate(ours) if kind == "VAR_POSITIONAL"), None)
    their_positions = [name for name, kind, _ in theirs if kind in POSITIONAL]
    problems = []
    for name, kind, has_default in theirs:
        if kind.startswith("VAR_") or name.startswith("_") or name in NOT_OURS or name not in mine:
            continue
        at, my_kind = mine[name]
        if kind in BY_KEYWORD and my_kind not in BY_KEYWORD:
            problems.append(f"{name}: PyTorch takes it by keyword, we take it as {my_kind}")
        if kind in POSITIONAL and (trusted or not has_default):
            want = their_positions.index(name)
            if var_positional is not None and var_positional <= want:
                continue
            if my_kind not in POSITIONAL or at != want:
                problems.append(f"{name}: PyTorch takes it as positional argument {want}, we take it as "
                                f"{my_kind} {at}")
    return problems


def test_every_call_pytorch_takes_we_take_with_the_same_meaning():
    snapshot = pytorch_snapshots.load(SNAPSHOT)
    ours = our_callables()
    compared, wrong = 0, {}
    for key, entry in snapshot.items():
        if key not in ours or (mine := _parameters(ours[key])) is None:
            continue
        compared += 1
        found = [_problems(mine, theirs, entry["from"] == "signature") for theirs in entry["signatures"]]
        if all(found):  # fits none of PyTorch's signatures (a builtin's docstring may give several)
            wrong[key] = found[0]
    assert compared > 700, compared
    assert not wrong, f"calls PyTorch takes that ours refuses or reads otherwise: {wrong}"


@pytest.mark.parametrize("theirs, ours, trusted, expect", [
    ([["a", "POSITIONAL_OR_KEYWORD", False]], [["a", "POSITIONAL_ONLY", False]], True, "by keyword"),
    ([["a", "POSITIONAL_OR_KEYWORD", False], ["b", "POSITIONAL_OR_KEYWORD", True]],
     [["a", "POSITIONAL_OR_KEYWORD", False], ["c", "POSITIONAL_OR_KEYWORD", True], ["b", "POSITIONAL_OR_KEYWORD", True]],
     True, "positional argument 1"),
    ([["a", "POSITIONAL_OR_KEYWORD", False], ["b", "POSITIONAL_OR_KEYWORD", True]],
     [["a", "POSITIONAL_OR_KEYWORD", False], ["b", "KEYWORD_ONLY", True]], False, None),  # a docstring's default
    ([["dims", "POSITIONAL_OR_KEYWORD", False]], [["dims", "VAR_POSITIONAL", False]], True, "by keyword"),
    ([["dims", "POSITIONAL_OR_KEYWORD", False]], [["args", "VAR_POSITIONAL", False], ["dims", "KEYWORD_ONLY", True]],
     True, None),  # x.flip(0, 1) and x.flip(dims=(0, 1)) both
    ([["a", "KEYWORD_ONLY", True]], [["a", "POSITIONAL_OR_KEYWORD", True]], True, None),  # we take more
])
def test_the_comparison_sees_a_moved_or_positional_only_argument(theirs, ours, trusted, expect):
    found = _problems(ours, theirs, trusted)
    assert (expect is None and not found) or (expect is not None and any(expect in p for p in found)), found


def test_the_snapshot_is_pytorchs():
    pytest.importorskip("torch")
    assert pytorch_snapshots.load(SNAPSHOT) == record(), \
        "PyTorch's signatures or our callables changed: run python tests/cross_cutting/test_pytorch_signatures.py"


if __name__ == "__main__":
    pytorch_snapshots.rewrite(SNAPSHOT, record())
