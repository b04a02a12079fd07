"""Every op that writes a given value into a tensor (masked_fill, index_fill,
scatter with a value, fill_, full_like, item assignment, and the in-place forms) takes the
value as PyTorch does, for every pair of a bool, uint8, int8, int32, int64,
float16, float32 or float64 tensor with a Python bool, int or float (at the
edges of PyTorch's cast too) or a 0-d bool, int64 or float64 tensor: the same
result dtype and values, or a refusal where PyTorch refuses.

PyTorch's answers are kept in ``pytorch_fills.json`` so the comparison runs
without PyTorch installed; where it is installed, a test checks the file
against it (``python tests/cross_cutting/test_pytorch_fills.py`` rewrites it).
Where we differ on purpose, ``differs`` says how."""
from pathlib import Path

import numpy as np
import pytest
import pytorch_snapshots

import tinygrad_bn as tg

SNAPSHOT = Path(__file__).with_name("pytorch_fills.json")
DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]
# and the edges of PyTorch's cast: a negative int into uint8 wraps, a float out of range, NaN and a
# float past float32's range are refused
VALUES = ["True", "2", "2.5", "0d bool", "0d int64", "0d float64", "-1", "300", "-0.5", "nan", "1e300"]


def tensor(M, dtype):
    a = np.array([True, False, True, False]) if dtype == "bool" else np.array([1, 0, 3, 4])
    return M.tensor(a.astype(dtype))


def value(M, name):
    if name.startswith("0d"):
        kind = name.split()[1]
        return M.tensor(np.array(True if kind == "bool" else 2 if kind == "int64" else 2.5).astype(kind))
    return {"True": True, "2": 2, "2.5": 2.5, "-1": -1, "300": 300, "-0.5": -0.5, "nan": float("nan"),
            "1e300": 1e300}[name]


def _mask(M):
    return M.tensor([True, False, False, True])


FILLS = {
    "masked_fill": lambda M, t, v: t.masked_fill(_mask(M), v),
    "masked_fill_": lambda M, t, v: t.masked_fill_(_mask(M), v),
    "index_fill": lambda M, t, v: t.index_fill(0, M.tensor([0, 2]), v),
    "index_fill_": lambda M, t, v: t.index_fill_(0, M.tensor([0, 2]), v),
    "scatter": lambda M, t, v: t.scatter(0, M.tensor([1, 3]), v),
    "scatter_": lambda M, t, v: t.scatter_(0, M.tensor([1, 3]), v),
    "fill_": lambda M, t, v: t.fill_(v),
    "full_like": lambda M, t, v: M.full_like(t, v),
    "setitem": lambda M, t, v: _assigned(t, (slice(1, 3),), v),
    "setitem of one place": lambda M, t, v: _assigned(t, (0,), v),
}


def _assigned(t, index, v):
    t[index] = v
    return t


def differs(op, dtype, val):
    """Why ours knowingly differs from PyTorch for (op, dtype, value), or None."""
    return None


def run(M, op, dtype, val):
    return pytorch_snapshots.dtype_and_values(lambda: FILLS[op](M, tensor(M, dtype), value(M, val)))


def cases():
    for op in FILLS:
        for dtype in DTYPES:
            for val in VALUES:
                yield op, dtype, val


def key(op, dtype, val):
    return f"{op}({dtype}, {val})"


def record():
    import torch
    return {key(*c): run(torch, *c) for c in cases()}


EXPECTED = pytorch_snapshots.load(SNAPSHOT)


@pytest.mark.parametrize("op", list(FILLS))
def test_fills_take_the_value_as_pytorch_does(op):
    wrong = []
    for c in cases():
        if c[0] != op or differs(*c):
            continue
        ours, theirs = run(tg, *c), EXPECTED[key(*c)]
        if ("error" in ours) != ("error" in theirs) or ("error" not in ours and ours != theirs):
            wrong.append(f"{key(*c)}: ours {ours}, PyTorch's {theirs}")
    assert not wrong, "\n".join(wrong)


def test_the_snapshot_covers_every_case():
    assert set(EXPECTED) == {key(*c) for c in cases()}


def test_the_snapshot_is_pytorchs():
    pytest.importorskip("torch")
    assert record() == EXPECTED


if __name__ == "__main__":
    pytorch_snapshots.rewrite(SNAPSHOT, record())
