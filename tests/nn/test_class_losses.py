"""Cross entropy and NLL with everything torch.nn.functional's take: class weights,
ignore_index, label smoothing, probability targets, unbatched (C,) and K-dim
(N, C, d1, ...) inputs, the deprecated size_average/reduce; values against the
float64 formulas written out in NumPy (and PyTorch's when it is installed),
gradients and second derivatives by gradcheck through a randomly weighted output."""
import re
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import nn
from tinygrad_bn.testing import gradcheck, gradgradcheck

IGNORE = -100


def _log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _rows(x, target=None):
    """(M, C) rows of classes and the targets laid out alike (class dim 1, or 0 unbatched)."""
    if x.ndim == 1:
        return x[None], (None if target is None else target.reshape(1, -1) if target.dtype.kind == "f"
                         else target.reshape(1))
    rows = np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    if target is None:
        return rows, None
    return rows, (np.moveaxis(target, 1, -1).reshape(-1, x.shape[1]) if target.dtype.kind == "f"
                  else target.reshape(-1))


def reference(x, target, weight=None, reduction="mean", label_smoothing=0.0, ignore_index=IGNORE, log_input=False):
    """PyTorch's cross entropy (nll_loss with log_input=True) in float64, from its definition."""
    batch = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
    rows, t = _rows(x, target)
    logp = rows if log_input else _log_softmax(rows, 1)
    classes = rows.shape[1]
    w = np.ones(classes) if weight is None else weight
    if t.dtype.kind == "f":  # probabilities
        p = t * (1 - label_smoothing) + label_smoothing / classes
        loss = -(logp * p * w).sum(1)
        total = loss.sum() / len(loss) if reduction == "mean" else None
    else:
        counted = t != ignore_index
        safe = np.where(counted, t, 0)
        row_w = w[safe] * counted
        loss = -logp[np.arange(len(t)), safe] * row_w
        smooth = -(logp * w).sum(1) * counted
        loss = (1 - label_smoothing) * loss + label_smoothing / classes * smooth
        with np.errstate(invalid="ignore", divide="ignore"):
            total = loss.sum() / row_w.sum() if reduction == "mean" else None
    if reduction == "none":
        return loss.reshape(batch)
    return loss.sum() if reduction == "sum" else total


CASES = {  # name -> (input shape, target kind)
    "rows": ((6, 4), "index"),
    "unbatched": ((5,), "index"),
    "3-d": ((2, 4, 3), "index"),
    "4-d": ((2, 3, 2, 2), "index"),
    "rows, probabilities": ((6, 4), "probs"),
    "4-d, probabilities": ((2, 3, 2, 2), "probs"),
    "unbatched, probabilities": ((5,), "probs"),
}


def _case(name, seed=0, ignore=True):
    rng = np.random.default_rng(seed)
    shape, kind = CASES[name]
    x = rng.standard_normal(shape) * 2
    classes = shape[0] if len(shape) == 1 else shape[1]
    if kind == "probs":
        t = rng.random(shape) + 0.05
        t /= t.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    else:
        batch = () if len(shape) == 1 else (shape[0],) + shape[2:]
        t = rng.integers(0, classes, batch)
        if ignore and t.size > 1:
            t.reshape(-1)[1] = IGNORE
    return x, t, rng.random(classes) + 0.5


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(CASES))
def test_cross_entropy_matches_the_float64_formula(name, reduction, weighted, smoothing):
    x, t, w = _case(name)
    kw = {"weight": tg.tensor(w) if weighted else None, "reduction": reduction, "label_smoothing": smoothing}
    got = F.cross_entropy(tg.tensor(x), tg.tensor(t), **kw)
    want = reference(x, t, w if weighted else None, reduction, smoothing)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    module = nn.CrossEntropyLoss(**kw)
    np.testing.assert_array_equal(module(tg.tensor(x), tg.tensor(t)).numpy(), got.numpy())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", [n for n, (_, kind) in CASES.items() if kind == "index"])
def test_nll_loss_matches_the_float64_formula(name, reduction, weighted):
    x, t, w = _case(name)
    logp = np.moveaxis(_log_softmax(np.moveaxis(x, 0 if x.ndim == 1 else 1, -1), -1), -1, 0 if x.ndim == 1 else 1)
    kw = {"weight": tg.tensor(w) if weighted else None, "reduction": reduction}
    got = F.nll_loss(tg.tensor(logp), tg.tensor(t), **kw)
    np.testing.assert_allclose(got.numpy(), reference(logp, t, w if weighted else None, reduction, log_input=True),
                               rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(nn.NLLLoss(**kw)(tg.tensor(logp), tg.tensor(t)).numpy(), got.numpy())


@pytest.mark.parametrize("name", ["rows", "4-d", "rows, probabilities", "unbatched, probabilities"])
def test_gradients_and_second_derivatives_of_weighted_smoothed_cross_entropy(name):
    x, t, w = _case(name, seed=1)
    target, weight = tg.tensor(t), tg.tensor(w, requires_grad=True)
    logits = tg.tensor(x, requires_grad=True)
    for reduction in ("mean", "none"):
        def f(z, wt, reduction=reduction):
            return F.cross_entropy(z, target, weight=wt, reduction=reduction, label_smoothing=0.2)
        assert gradcheck(f, (logits, weight))
        assert gradgradcheck(f, (logits, weight))


def test_the_plain_case_stays_one_fused_op_and_the_others_are_composed():
    x, t, w = _case("rows")
    logits = tg.tensor(x, requires_grad=True)
    with tg.Tape() as tape:
        F.cross_entropy(logits, tg.tensor(t))
    assert [r.op for r in tape.entries] == ["CrossEntropy"]
    with tg.Tape() as tape:
        F.cross_entropy(logits, tg.tensor(t), label_smoothing=0.1)
    assert "LogSoftmax" in {r.op for r in tape.entries} and "CrossEntropy" not in {r.op for r in tape.entries}


def test_a_mean_over_only_ignored_rows_is_nan_and_ignore_index_may_be_a_class():
    x = tg.tensor(np.random.default_rng(2).standard_normal((3, 4)))
    ignored = tg.tensor([IGNORE] * 3)
    for kw in ({}, {"weight": tg.ones(4, dtype=tg.float64)}, {"label_smoothing": 0.3}):
        assert np.isnan(F.cross_entropy(x, ignored, **kw).item())
        assert F.cross_entropy(x, ignored, reduction="sum", **kw).item() == 0.0
    t = np.array([2, 1, 2])
    got = F.cross_entropy(x, tg.tensor(t), ignore_index=2, weight=tg.tensor([1.0, 3.0, 1.0, 1.0], dtype=tg.float64))
    np.testing.assert_allclose(got.item(), reference(x.numpy(), t, np.array([1.0, 3.0, 1.0, 1.0]), ignore_index=2),
                               rtol=1e-14)


def test_modules_take_pytorchs_positional_arguments_and_keep_the_weight_as_a_buffer(alt_device):
    w = tg.tensor([1.0, 2.0, 0.5])
    ce = nn.CrossEntropyLoss(w, None, 1, None, "sum", 0.1)  # PyTorch's order
    assert (ce.ignore_index, ce.reduction, ce.label_smoothing) == (1, "sum", 0.1)
    assert ce.weight is w and list(ce.state_dict()) == ["weight"]
    nll = nn.NLLLoss(w, None, 2, None, "none")
    assert (nll.ignore_index, nll.reduction) == (2, "none")
    x, t = tg.randn(4, 3), tg.tensor([0, 1, 2, 1])
    want = ce(x, t).item()
    ce.to("alt")
    assert ce.weight.device == "alt" and ce(x.to("alt"), t.to("alt")).item() == want


def test_size_average_and_reduce_still_work_with_pytorchs_warning():
    x, t = tg.randn(4, 3), tg.tensor([0, 1, 2, 1])
    for make, fn in ((nn.CrossEntropyLoss, F.cross_entropy), (nn.NLLLoss, F.nll_loss)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module = make(size_average=False)
            by_function = fn(x, t, reduce=False)
        assert module.reduction == "sum" and by_function.shape == (4,)
        assert [str(w.message) for w in caught] == [
            "size_average and reduce args will be deprecated, please use reduction='sum' instead.",
            "size_average and reduce args will be deprecated, please use reduction='none' instead."]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nn.MSELoss(reduce=False)(tg.ones(2), tg.zeros(2)).tolist() == [1.0, 1.0]


def test_mse_loss_takes_pytorchs_weight():
    x, y, w = tg.tensor([1.0, 2.0, 3.0]), tg.zeros(3), tg.tensor([1.0, 2.0, 0.5])
    assert F.mse_loss(x, y, weight=w).item() == pytest.approx((1 + 8 + 4.5) / 3.5)
    assert F.mse_loss(x, y, weight=w, reduction="sum").item() == pytest.approx(13.5)
    assert F.mse_loss(x, y, weight=w, reduction="none").tolist() == [1.0, 8.0, 4.5]


def test_against_pytorch_when_it_is_installed():
    torch = pytest.importorskip("torch")
    for name in CASES:
        x, t, w = _case(name, seed=3)
        for kw in ({}, {"label_smoothing": 0.3}, {"weight": w, "label_smoothing": 0.1}):
            for reduction in ("mean", "none"):
                ours = F.cross_entropy(tg.tensor(x), tg.tensor(t), reduction=reduction,
                                       **{k: tg.tensor(v) if k == "weight" else v for k, v in kw.items()})
                theirs = torch.nn.functional.cross_entropy(
                    torch.tensor(x), torch.tensor(t), reduction=reduction,
                    **{k: torch.tensor(v) if k == "weight" else v for k, v in kw.items()})
                np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss", "multi_margin_loss"])
@pytest.mark.parametrize("shape", [(4,), (2,), (3, 1), (1, 3), (), (3, 3)], ids=str)
def test_a_class_weight_of_any_shape_but_one_per_class_is_refused_naming_it(loss, shape):
    """Three classes: the weight must be (3,). A longer or shorter vector, or the
    right count in another shape, is an error naming the op and both shapes (a
    weight that broadcast would weigh the wrong classes or none)."""
    x = tg.randn(4, 3)
    y = tg.tensor([0, 1, 2, 0])
    w = tg.ones(*shape) if shape else tg.tensor(1.0)
    with pytest.raises(ValueError, match=rf"^{loss}: weight must .*\(3,\).* got {re.escape(str(shape))}$"):
        getattr(tg.nn.functional, loss)(x, y, weight=w)
    assert getattr(tg.nn.functional, loss)(x, y, weight=tg.ones(3)).shape == ()


@pytest.mark.parametrize("shape1, shape2", [((3, 4), (3, 5)), ((3, 4), (1, 4)), ((3, 4), (4,)), ((4,), (3, 4))])
def test_cosine_embedding_loss_refuses_inputs_of_two_shapes_naming_both(shape1, shape2):
    """The two inputs are compared row by row: they must have one shape (no
    broadcasting), as many rows as the target has entries."""
    target = tg.ones(3) if len(shape1) == 2 else tg.tensor(1.0)
    x1, x2 = tg.randn(*shape1), tg.randn(*shape2)
    with pytest.raises(ValueError, match=rf"^cosine_embedding_loss: .* got input1 {re.escape(str(x1.shape))} and "
                                         rf"input2 {re.escape(str(x2.shape))}$"):
        F.cosine_embedding_loss(x1, x2, target)
    assert F.cosine_embedding_loss(x1, tg.randn(*shape1), target).shape == ()
