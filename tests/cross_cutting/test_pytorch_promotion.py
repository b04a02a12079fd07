"""Binary and float-valued ops, and the joins (cat, stack, block_diag), give PyTorch's result dtype (``torch.result_type``)
and values for every pair of bool, int32, int64, float32 and float64 tensors,
0-d tensors and Python numbers, where NumPy's own promotion differs (an integer
tensor with a float32 tensor or a Python float is float32, not float64; a 0-d
float64 tensor leaves a float32 tensor float32; exp of an integer tensor is the
default float dtype).

PyTorch's answers are kept in ``pytorch_promotion.json`` so the comparison runs
without PyTorch installed; where it is installed, a test checks the file
against it (``python tests/cross_cutting/test_pytorch_promotion.py`` rewrites
it). Where we differ on purpose, ``differs`` says how (the README says so too)."""
from pathlib import Path

import numpy as np
import pytest
import pytorch_snapshots

import tinygrad_bn as tg

SNAPSHOT = Path(__file__).with_name("pytorch_promotion.json")
DTYPES = ["bool", "int32", "int64", "float32", "float64"]
# operands by name: tensors of each dtype, 0-d tensors, Python numbers
# and NumPy's numbers, which PyTorch takes as Python numbers (weak: float16 * np.float64 is float16)
OPERANDS = DTYPES + ["0d int64", "0d float64", "2", "2.5", "True", "np.int64(2)", "np.float32(2.5)", "np.float64(2.5)"]


def operand(M, name):
    if name in DTYPES:
        a = np.array([True, False, True]) if name == "bool" else np.array([1, 2, 3])
        return M.tensor(a.astype(name))
    if name.startswith("0d"):
        return M.tensor(np.array(3).astype(name.split()[1]))
    return {"2": 2, "2.5": 2.5, "True": True, "np.int64(2)": np.int64(2), "np.float32(2.5)": np.float32(2.5),
            "np.float64(2.5)": np.float64(2.5)}[name]


BINARY = {
    "add": lambda M, a, b: a + b,
    "sub": lambda M, a, b: a - b,
    "mul": lambda M, a, b: a * b,
    "truediv": lambda M, a, b: a / b,
    "floordiv": lambda M, a, b: a // b,
    "pow": lambda M, a, b: a ** b,
    "remainder": lambda M, a, b: a % b,
    "maximum": lambda M, a, b: M.maximum(a, b),
    "atan2": lambda M, a, b: M.atan2(a, b),
    "where": lambda M, a, b: M.where(M.tensor([True, False, True]), a, b),
    # the joins: NumPy's concatenate would promote an int32 and a float32 tensor to float64
    "cat": lambda M, a, b: M.cat([a, b]),
    "stack": lambda M, a, b: M.stack([a, b]),
    "block_diag": lambda M, a, b: M.block_diag(a, b),
}
UNARY = ["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "reciprocal", "log2", "rsqrt", "expm1"]


def differs(op, a, b):
    """Why ours knowingly differs from PyTorch for (op, a, b), or None."""
    if op == "sub" and "bool" in (a, b) or op == "sub" and "True" in (a, b):
        return "sub with a bool operand is computed (PyTorch refuses it)"
    if op in ("floordiv", "remainder", "pow") and all(x in ("bool", "True") for x in (a, b)):
        return "bool // % ** bool is int8, NumPy's (PyTorch refuses or keeps bool)"
    if op in ("floordiv", "remainder") and b == "bool":
        return "integer // and % by zero (False) give 0, NumPy's, with its warning (PyTorch raises)"
    if op in ("maximum", "atan2") and (a not in DTYPES[:5] + ["0d int64", "0d float64"]
                                       or b not in DTYPES[:5] + ["0d int64", "0d float64"]):
        return "a Python number operand is taken (PyTorch's maximum and atan2 take tensors only)"
    return None


def run(M, op, a, b=None):
    if b is None:
        return pytorch_snapshots.dtype_and_values(lambda: getattr(operand(M, a), op)())
    if not (a in DTYPES or a.startswith("0d") or b in DTYPES or b.startswith("0d")):
        return None  # two Python numbers: no tensor op
    return pytorch_snapshots.dtype_and_values(lambda: BINARY[op](M, operand(M, a), operand(M, b)))


def cases():
    for op in BINARY:
        for a in OPERANDS:
            for b in OPERANDS:
                if a in DTYPES or b in DTYPES or a.startswith("0d") or b.startswith("0d"):
                    yield op, a, b
    for op in UNARY:
        for a in DTYPES:
            yield op, a, None


def key(op, a, b):
    return f"{op}({a})" if b is None else f"{op}({a}, {b})"


def record():
    import torch
    return {key(*c): run(torch, *c) for c in cases()}


EXPECTED = pytorch_snapshots.load(SNAPSHOT)


def _agree(ours, theirs):
    if "error" in ours or "error" in theirs:
        return ("error" in ours) == ("error" in theirs)  # the class may differ: NumPy's TypeError, PyTorch's Runtime
    return ours["dtype"] == theirs["dtype"] and np.allclose(
        np.array(ours["values"], float), np.array(theirs["values"], float), rtol=1e-4, equal_nan=True)


@pytest.mark.parametrize("op", list(BINARY) + UNARY)
def test_result_dtypes_and_values_are_pytorchs(op):
    wrong = []
    for c in cases():
        if c[0] != op:
            continue
        ours, theirs = run(tg, *c), EXPECTED[key(*c)]
        if c[2] is not None and differs(*c):
            continue
        if not _agree(ours, theirs):
            wrong.append(f"{key(*c)}: ours {ours}, PyTorch's {theirs}")
    assert not wrong, "\n".join(wrong)


def test_float32_stays_float32_beside_python_floats_and_0d_float64_and_integer_tensors():
    """The training-time cases: a float32 activation beside a Python float, a 0-d
    float64 tensor or an integer tensor (labels, counts) stays float32, and its
    gradient comes back float32."""
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for other in (2.5, tg.tensor(3.0, dtype=tg.float64), tg.tensor([1, 2, 3]), tg.tensor([True, False, True])):
        for y in (x * other, x + other, x / other, other - x):
            assert y.dtype == tg.float32
    (x * tg.tensor([1, 2, 3]) / tg.tensor(2.0, dtype=tg.float64)).sum().backward()
    assert x.grad.dtype == tg.float32
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 1.0, 1.5])
    counts = tg.tensor([3, 4])
    assert (counts / 2).dtype == tg.float32 and (counts / counts).dtype == tg.float32
    assert counts.exp().dtype == tg.float32 and tg.tensor([True]).sigmoid().dtype == tg.float32
    tg.set_default_dtype(tg.float64)
    try:
        assert (counts / 2).dtype == tg.float64 and (counts * 2.5).dtype == tg.float64
    finally:
        tg.set_default_dtype(tg.float32)

# PyTorch 2.13's results: the Python int is cast into the tensor's dtype, wrapping (300 is 44 in int8)
WRAPPED = [("int8", [1, 100], "add", 300, [45, -112]), ("int8", [1, 100], "mul", 300, [44, 48]),
           ("int8", [1, 100], "sub", 300, [-43, 56]), ("int8", [1, 100], "floordiv", 300, [0, 2]),
           ("uint8", [1, 2], "add", -1, [0, 1]), ("uint8", [0, 255], "mul", 257, [0, 255]),
           ("int16", [1, 2], "add", 2 ** 40, [1, 2]), ("int32", [1, 2], "add", 2 ** 33 + 5, [6, 7]),
           ("int8", [1, 100], "radd", 300, [45, -112])]


@pytest.mark.parametrize("dtype, values, op, number, want", WRAPPED)
def test_a_python_int_outside_an_integer_tensors_range_wraps_into_it_as_pytorchs(dtype, values, op, number, want):
    """NumPy refuses such an int (OverflowError, naming no op); PyTorch casts it."""
    t = tg.tensor(values, dtype=getattr(tg, dtype))
    got = {"add": lambda: t + number, "mul": lambda: t * number, "sub": lambda: t - number,
           "floordiv": lambda: t // number, "radd": lambda: number + t}[op]()
    assert got.dtype == t.dtype and got.tolist() == want



def test_the_snapshot_covers_every_case():
    assert set(EXPECTED) == {key(*c) for c in cases()}


def test_the_snapshot_is_pytorchs():
    pytest.importorskip("torch")
    assert record() == EXPECTED


if __name__ == "__main__":
    pytorch_snapshots.rewrite(SNAPSHOT, record())
