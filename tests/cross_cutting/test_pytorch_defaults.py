"""Every nn module that PyTorch also has takes PyTorch's default for each
constructor argument the two share (a margin of 1.0, a reduction of "mean", an
eps of 1e-5, ...), so a script that leaves an argument out means what it meant
with PyTorch. The few differences are listed with the reason."""
import inspect

import pytest

import tinygrad_bn as tg

torch = pytest.importorskip("torch")

# (module, argument): why our default differs in spelling but not in meaning, or how it differs
DIFFERENT = {
    **{(m, a): "None means the class's own default (True for batch norm, False for instance norm), as PyTorch's "
              "value does" for m in ("BatchNorm1d", "BatchNorm2d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d")
       for a in ("affine", "track_running_stats")},
    ("Softmax", "dim"): "PyTorch's None (an implicit dim, deprecated) picks dim 0 for 0-, 1- and 3-d input; "
                        "ours is the last dim, which is PyTorch's choice for 2-d input",
    ("LogSoftmax", "dim"): "as Softmax",
}


def _shared_defaults():
    for name in sorted(dir(tg.nn)):
        ours, theirs = getattr(tg.nn, name), getattr(torch.nn, name, None)
        if not (isinstance(ours, type) and isinstance(theirs, type)):
            continue
        try:
            mine, pytorch = inspect.signature(ours.__init__), inspect.signature(theirs.__init__)
        except (TypeError, ValueError):
            continue
        for p in mine.parameters.values():
            q = pytorch.parameters.get(p.name)
            if q is not None and p.default is not inspect.Parameter.empty and q.default is not inspect.Parameter.empty:
                yield name, p.name, p.default, q.default


def test_modules_take_pytorchs_defaults():
    shared = list(_shared_defaults())
    assert len(shared) > 150  # the comparison reaches the modules
    wrong = [(m, a, ours, theirs) for m, a, ours, theirs in shared
             if (m, a) not in DIFFERENT and not (ours == theirs and type(ours) is type(theirs))]
    assert not wrong, f"defaults that differ from PyTorch's (module, argument, ours, PyTorch's): {wrong}"


def test_every_listed_difference_is_still_a_difference():
    differing = {(m, a) for m, a, ours, theirs in _shared_defaults() if ours != theirs}
    assert set(DIFFERENT) <= differing, sorted(set(DIFFERENT) - differing)
