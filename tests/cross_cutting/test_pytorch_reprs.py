"""Every nn module that PyTorch also has prints as PyTorch's does: built with
its required arguments only, and again with each optional bool flipped and
each optional float halved, so a repr that shows a default instead of the
value given, or leaves an option out, differs. A printed model is how a user
checks what they built.

PyTorch's reprs are kept in ``pytorch_reprs.json`` so the comparison runs
without PyTorch installed; where it is installed, a test checks the file
against it (``python tests/cross_cutting/test_pytorch_reprs.py`` rewrites it).
Where we differ on purpose, ``DIFFERS`` says how."""
import inspect
from pathlib import Path

import pytest
import pytorch_snapshots

import tinygrad_bn as tg

SNAPSHOT = Path(__file__).with_name("pytorch_reprs.json")
# a value for each argument some module requires
REQUIRED = {"in_features": 3, "out_features": 2, "in1_features": 3, "in2_features": 2, "num_features": 4,
            "normalized_shape": 4, "num_groups": 2, "num_channels": 4, "num_embeddings": 5, "embedding_dim": 3,
            "dim": 1, "lambd": 0.4, "threshold": 0.5, "value": 0.1, "start_dim": 1, "unflattened_size": (2, 2),
            "size": 2, "padding": 1, "pad": (1, 1), "upscale_factor": 2, "downscale_factor": 2}
DIFFERS = {
    "TripletMarginWithDistanceLoss": "PyTorch registers its default distance (a PairwiseDistance) as a child "
                                     "module; ours computes it without one",
    "Embedding(sparse=True)": "sparse gradients are not supported: refused with a message",
    "Embedding(scale_grad_by_freq=True)": "not supported: refused with a message",
}


def _names():
    import tinygrad_bn.nn as ours
    return sorted(n for n in dir(ours) if isinstance(getattr(ours, n), type)
                  and issubclass(getattr(ours, n), tg.nn.Module) and not n.startswith("_"))


def _variants(cls):
    """(label, kwargs): the required arguments, then each optional bool flipped and
    each optional float halved, one at a time."""
    params = [p for p in inspect.signature(cls.__init__).parameters.values()
              if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    required = {p.name: REQUIRED[p.name] for p in params if p.default is inspect.Parameter.empty}
    yield "required", required
    for p in params:
        if isinstance(p.default, bool):
            yield f"{p.name}={not p.default}", {**required, p.name: not p.default}
        elif isinstance(p.default, float) and p.default:
            yield f"{p.name}={p.default / 2:g}", {**required, p.name: p.default / 2}


def _describe(lib, name, kwargs):
    cls = getattr(lib.nn, name, None)
    if cls is None:
        return None
    try:
        return repr(cls(**kwargs))
    except (TypeError, ValueError, RuntimeError, KeyError):
        return {"error": True}


def cases():
    for name in _names():
        cls = getattr(tg.nn, name)
        try:
            variants = list(_variants(cls))
        except KeyError:  # a required argument with no sample value
            continue
        for label, kwargs in variants:
            yield name, label, kwargs


def key(name, label):
    return f"{name}({label})"


def record():
    import torch
    out = {}
    for name, label, kwargs in cases():
        theirs = _describe(torch, name, kwargs)
        if theirs is not None:
            out[key(name, label)] = theirs
    return out


EXPECTED = pytorch_snapshots.load(SNAPSHOT)


def test_modules_print_as_pytorchs():
    wrong, compared = [], 0
    for name, label, kwargs in cases():
        k = key(name, label)
        if k not in EXPECTED or name in DIFFERS or k in DIFFERS or "error" in EXPECTED[k]:
            continue
        compared += 1
        ours = _describe(tg, name, kwargs)
        if ours != EXPECTED[k]:
            wrong.append(f"{k}:\n  ours    {ours}\n  PyTorch {EXPECTED[k]}")
    assert compared >= 140, compared
    assert not wrong, "\n".join(wrong)


def test_the_snapshot_is_pytorchs():
    pytest.importorskip("torch")
    assert record() == EXPECTED


if __name__ == "__main__":
    pytorch_snapshots.rewrite(SNAPSHOT, record())
