"""Ops on the shapes where off-by-one bugs live (0-d tensors, dims of size 0 and
of size 1, dims counted from the end, keepdim) give PyTorch's answer: the
same shape, dtype and values, or the same class of error.

PyTorch's answers are kept in ``pytorch_edge_shapes.json`` so the comparison
runs without PyTorch installed; where it is installed, a test checks the file
against it (``python tests/cross_cutting/test_pytorch_edge_shapes.py``
rewrites the file). Where we differ on purpose, DIFFERENT says how and the
README's "How we differ from PyTorch" says so too."""
import math
from pathlib import Path

import numpy as np
import pytest
import pytorch_snapshots

import tinygrad_bn as tg

SNAPSHOT = Path(__file__).with_name("pytorch_edge_shapes.json")

# The inputs, by name: float64 values 1, 2, 3, ... (a 0-d one is 2.5), so that every
# reduction, sort and index has one answer.
SHAPES = {"0d": (), "empty": (0,), "2x0x3": (2, 0, 3), "1x3x1": (1, 3, 1), "2x3": (2, 3), "3": (3,)}


def values(shape):
    if shape == ():
        return np.array(2.5)
    n = math.prod(shape)
    # distinct values whose order is not their position: sorts and argmax must look
    return ((np.arange(n) * 7) % max(n, 1) + 1.0).reshape(shape) if n else np.zeros(shape)


# op name -> a function of (M, x): M is tinygrad_bn or torch, x a float64 tensor
OPS = {
    "flatten": lambda M, x: M.flatten(x),
    "flatten(0,-1)": lambda M, x: M.flatten(x, 0, -1),
    "flatten(-1,-1)": lambda M, x: M.flatten(x, -1, -1),
    "squeeze": lambda M, x: M.squeeze(x),
    "squeeze(0)": lambda M, x: M.squeeze(x, 0),
    "squeeze(-1)": lambda M, x: M.squeeze(x, -1),
    "unsqueeze(0)": lambda M, x: M.unsqueeze(x, 0),
    "unsqueeze(-1)": lambda M, x: M.unsqueeze(x, -1),
    "unbind(0)": lambda M, x: M.unbind(x, 0),
    "unbind(-1)": lambda M, x: M.unbind(x, -1),
    "chunk(2)": lambda M, x: M.chunk(x, 2),
    "chunk(2,-1)": lambda M, x: M.chunk(x, 2, -1),
    "split(1)": lambda M, x: M.split(x, 1),
    "split(2,-1)": lambda M, x: M.split(x, 2, -1),
    "narrow(0,0,1)": lambda M, x: M.narrow(x, 0, 0, 1),
    "narrow(-1,1,0)": lambda M, x: M.narrow(x, -1, 1, 0),
    "movedim(0,-1)": lambda M, x: M.movedim(x, 0, -1),
    "transpose(0,-1)": lambda M, x: M.transpose(x, 0, -1),
    "t": lambda M, x: M.t(x),
    "flip(0)": lambda M, x: M.flip(x, [0]),
    "flip(-1)": lambda M, x: M.flip(x, [-1]),
    "roll(1)": lambda M, x: M.roll(x, 1),
    "roll(1,-1)": lambda M, x: M.roll(x, 1, -1),
    "tile(2)": lambda M, x: M.tile(x, (2,)),
    "repeat_interleave(2)": lambda M, x: M.repeat_interleave(x, 2),
    "repeat_interleave(2,-1)": lambda M, x: M.repeat_interleave(x, 2, -1),
    "cat(x,x)": lambda M, x: M.cat([x, x]),
    "cat(x,x,-1)": lambda M, x: M.cat([x, x], -1),
    "stack(x,x)": lambda M, x: M.stack([x, x]),
    "stack(x,x,-1)": lambda M, x: M.stack([x, x], -1),
    "atleast_2d": lambda M, x: M.atleast_2d(x),
    "ravel": lambda M, x: M.ravel(x),
    "sum": lambda M, x: M.sum(x),
    "sum(0)": lambda M, x: M.sum(x, 0),
    "sum(-1,keepdim)": lambda M, x: M.sum(x, -1, keepdim=True),
    "mean": lambda M, x: M.mean(x),
    "mean(0)": lambda M, x: M.mean(x, 0),
    "mean(-1,keepdim)": lambda M, x: M.mean(x, -1, keepdim=True),
    "prod": lambda M, x: M.prod(x),
    "prod(-1)": lambda M, x: M.prod(x, -1),
    "amax": lambda M, x: M.amax(x),
    "amax(-1)": lambda M, x: M.amax(x, -1),
    "amin(0,keepdim)": lambda M, x: M.amin(x, 0, keepdim=True),
    "max": lambda M, x: M.max(x),
    "max(-1)": lambda M, x: M.max(x, -1),
    "min(0,keepdim)": lambda M, x: M.min(x, 0, keepdim=True),
    "argmax": lambda M, x: M.argmax(x),
    "argmax(-1)": lambda M, x: M.argmax(x, -1),
    "argmin(0,keepdim)": lambda M, x: M.argmin(x, 0, keepdim=True),
    "std": lambda M, x: M.std(x),
    "var(-1)": lambda M, x: M.var(x, -1),
    "var(0,correction=0)": lambda M, x: M.var(x, 0, correction=0),
    "logsumexp(-1)": lambda M, x: M.logsumexp(x, -1),
    "logsumexp(0,keepdim)": lambda M, x: M.logsumexp(x, 0, keepdim=True),
    "norm": lambda M, x: M.norm(x),
    "all": lambda M, x: M.all(x),
    "any(-1)": lambda M, x: M.any(x, -1),
    "count_nonzero": lambda M, x: M.count_nonzero(x),
    "count_nonzero(-1)": lambda M, x: M.count_nonzero(x, -1),
    "cumsum(0)": lambda M, x: M.cumsum(x, 0),
    "cumsum(-1)": lambda M, x: M.cumsum(x, -1),
    "cumprod(-1)": lambda M, x: M.cumprod(x, -1),
    "cummax(-1)": lambda M, x: M.cummax(x, -1),
    "logcumsumexp(0)": lambda M, x: M.logcumsumexp(x, 0),
    "softmax(-1)": lambda M, x: M.softmax(x, -1),
    "log_softmax(0)": lambda M, x: M.log_softmax(x, 0),
    "sort": lambda M, x: M.sort(x),
    "sort(0,descending)": lambda M, x: M.sort(x, 0, descending=True),
    "argsort(-1)": lambda M, x: M.argsort(x, -1),
    "topk(1)": lambda M, x: M.topk(x, 1),
    "topk(0)": lambda M, x: M.topk(x, 0),
    "kthvalue(1)": lambda M, x: M.kthvalue(x, 1),
    "median": lambda M, x: M.median(x),
    "median(-1)": lambda M, x: M.median(x, -1),
    "mode(-1)": lambda M, x: M.mode(x, -1),
    "diff": lambda M, x: M.diff(x),
    "diff(0)": lambda M, x: M.diff(x, dim=0),
    "tril": lambda M, x: M.tril(x),
    "triu(1)": lambda M, x: M.triu(x, 1),
    "diag": lambda M, x: M.diag(x),
    "trace": lambda M, x: M.trace(x),
    "nonzero": lambda M, x: M.nonzero(x),
    "unique": lambda M, x: M.unique(x),
    "masked_select(x>2)": lambda M, x: M.masked_select(x, x > 2),
    "where(x>2,x,0)": lambda M, x: M.where(x > 2, x, M.zeros_like(x)),
    "clamp(2,3)": lambda M, x: M.clamp(x, 2, 3),
    "index_select(0,[0])": lambda M, x: M.index_select(x, 0, M.tensor([0])),
    "index_select(-1,[])": lambda M, x: M.index_select(x, -1, M.tensor([], dtype=M.int64)),
    "gather(-1,zeros)": lambda M, x: M.gather(x, -1, M.zeros(x.shape, dtype=M.int64)),
    "take_along_dim(zeros,0)": lambda M, x: M.take_along_dim(x, M.zeros(x.shape, dtype=M.int64), 0),
    "take([0])": lambda M, x: M.take(x, M.tensor([0])),
    "outer(flat,flat)": lambda M, x: M.outer(x.reshape(-1), x.reshape(-1)),
    "dot(flat,flat)": lambda M, x: M.dot(x.reshape(-1), x.reshape(-1)),
    "matmul(x,x.mT)": lambda M, x: M.matmul(x, x.mT),
    "x[...,None]": lambda M, x: x[..., None],
    "x[0]": lambda M, x: x[0],
    "x[-1:]": lambda M, x: x[-1:],
    "x.expand(2,*shape)": lambda M, x: x.expand(2, *x.shape),
    "x.reshape(-1,1)": lambda M, x: x.reshape(-1, 1),
    "x.view(-1)": lambda M, x: x.view(-1),
    "x.numel": lambda M, x: M.tensor(x.numel()),
    "x.dim": lambda M, x: M.tensor(x.dim()),
}

# (op, input): how and why ours differs from PyTorch's recorded answer (the README says so too)
DIFFERENT = {
    **{(op, "0d"): "dim 0 or -1 of a 0-d tensor is a 1-element dim, as in gather and most ops; PyTorch's "
                   "take_along_dim, roll and repeat_interleave raise IndexError there"
       for op in ("take_along_dim(zeros,0)", "roll(1,-1)", "repeat_interleave(2,-1)")},
    ("topk(0)", "0d"): "k=0 gives no element (shape (0,)); PyTorch's gives the 0-d value itself",
}


def describe(result):
    """A result as JSON: shape, dtype and values of each output tensor (a tuple of
    outputs as a list), or the class of the error."""
    if isinstance(result, (tuple, list)):
        return {"outputs": [describe(r) for r in result]}
    a = np.asarray(result.detach().numpy() if hasattr(result, "detach") else result)
    dtype = str(a.dtype)
    return {"shape": list(a.shape), "dtype": dtype,
            "values": [None if isinstance(v, float) and math.isnan(v) else v for v in a.reshape(-1).tolist()]}


def run(M, op, shape_name):
    x = M.tensor(values(SHAPES[shape_name]), dtype=M.float64)
    try:
        result = OPS[op](M, x)
    except (IndexError, RuntimeError, ValueError, TypeError) as exc:
        # PyTorch's IndexError is also a RuntimeError subclass in some builds: keep the most specific
        kind = next(k for k in (IndexError, ValueError, TypeError, RuntimeError) if isinstance(exc, k))
        return {"error": kind.__name__}
    return describe(result)


def record():
    import torch
    return {f"{op} on {s}": run(torch, op, s) for op in OPS for s in SHAPES}


def _same(ours, theirs):
    if "error" in theirs or "error" in ours:
        return ours == theirs
    if "outputs" in theirs or "outputs" in ours:
        return ("outputs" in ours and "outputs" in theirs and len(ours["outputs"]) == len(theirs["outputs"])
                and all(_same(a, b) for a, b in zip(ours["outputs"], theirs["outputs"])))
    if ours["shape"] != theirs["shape"] or ours["dtype"] != theirs["dtype"].replace("torch.", ""):
        return False
    a = np.array([np.nan if v is None else v for v in ours["values"]], dtype=float)
    b = np.array([np.nan if v is None else v for v in theirs["values"]], dtype=float)
    return np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


EXPECTED = pytorch_snapshots.load(SNAPSHOT)


@pytest.mark.parametrize("op", list(OPS))
def test_each_op_gives_pytorchs_answer_on_edge_shapes(op):
    wrong = []
    for s in SHAPES:
        key = f"{op} on {s}"
        ours = run(tg, op, s)
        if (op, s) in DIFFERENT:
            assert not _same(ours, EXPECTED[key]), f"{key}: listed in DIFFERENT but now agrees with PyTorch"
            continue
        if not _same(ours, EXPECTED[key]):
            wrong.append(f"{key}: ours {ours}, PyTorch's {EXPECTED[key]}")
    assert not wrong, "\n".join(wrong)


def test_the_edge_results_stay_on_the_tape():
    """softmax of a 0-d tensor, and the NaN median and -inf logsumexp of empty ones,
    are recorded ops: their gradients are PyTorch's (0 for a constant output, empty
    for an empty input)."""
    from tinygrad_bn.testing import gradcheck
    x = tg.tensor(2.5, dtype=tg.float64, requires_grad=True)
    assert gradcheck(lambda a: a.log_softmax(-1) * a, (x,))
    assert gradcheck(lambda a: a.softmax(0) * a, (x,))
    for f in (lambda e: e.median(), lambda e: e.logsumexp(-1).sum(), lambda e: e.softmax(-1).sum()):
        e = tg.zeros(2, 0, dtype=tg.float64, requires_grad=True)
        out = f(e)
        assert out.requires_grad
        out.backward()
        assert e.grad.shape == (2, 0)


def test_the_snapshot_covers_every_case():
    assert set(EXPECTED) == {f"{op} on {s}" for op in OPS for s in SHAPES}


def test_the_snapshot_is_pytorchs():
    pytest.importorskip("torch")
    assert record() == EXPECTED


if __name__ == "__main__":
    pytorch_snapshots.rewrite(SNAPSHOT, record())
