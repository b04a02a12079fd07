"""Losses of nn / nn.functional beyond CrossEntropy, NLL and MSE: each against a
float64 formula written here under every reduction, gradients by central
differences (away from the kinks), double backward, the modules, the stable
forms at extreme inputs, argument errors, and agreement with PyTorch when it
is installed."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck, gradgradcheck


def t64(a, grad=False):
    a = np.asarray(a)
    return tg.tensor(a.astype(np.float64) if a.dtype.kind == "f" else a, requires_grad=grad)


def numpy_of(t):
    return t.detach().cpu().numpy()


def log_sigmoid(x):
    return -np.logaddexp(0.0, -x)


def _bce(x, t, w=1.0):
    return -w * (t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log(1 - x), -100))


def _multi_margin(x, y, p=1, margin=1.0, w=None):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                z = max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
                out[i] += z * (1.0 if w is None else w[y[i]])
    return out / c


def _multilabel_margin(x, y):
    n, c = x.shape
    out = np.zeros(n)
    for k in range(n):
        listed = []
        for j in y[k]:
            if j < 0:
                break
            listed.append(j)
        for j in listed:
            for i in range(c):
                if i not in listed:
                    out[k] += max(0.0, 1 - (x[k, j] - x[k, i]))
    return out / c


def _triplet(a, p, n, margin=1.0, norm=2, eps=1e-6, swap=False):
    def d(u, v):
        return (np.abs(u - v + eps) ** norm).sum(-1) ** (1 / norm)
    dn = np.minimum(d(a, n), d(p, n)) if swap else d(a, n)
    return np.maximum(margin + d(a, p) - dn, 0)


def _cos(a, b):
    return (a * b).sum(-1) / np.sqrt(((a * a).sum(-1) + 1e-12) * ((b * b).sum(-1) + 1e-12))


def _data(rng):
    x, y = rng.standard_normal((2, 4, 3))
    probs = 1 / (1 + np.exp(-x))
    target = rng.random((4, 3))
    dist = rng.dirichlet(np.ones(3), 4)
    signs = np.where(rng.random((4, 3)) < 0.5, -1.0, 1.0)
    counts = rng.poisson(2.0, (4, 3)).astype(np.float64)
    var = rng.random((4, 3)) + 0.2
    return {"x": x, "y": y, "probs": probs, "target": target, "logp": np.log(rng.dirichlet(np.ones(3), 4)),
            "dist": dist, "signs": signs, "counts": counts, "var": var, "labels": np.array([0, 2, 1, 2]),
            "multi": (rng.random((4, 3)) < 0.5).astype(np.float64), "a": rng.standard_normal((4, 5)),
            "p": rng.standard_normal((4, 5)), "n": rng.standard_normal((4, 5))}


# name -> (functional, module factory, names of the data arguments, kwargs, per-element (or per-sample)
#          float64 reference, indices of the arguments to differentiate)
LOSSES = {
    "l1": (F.l1_loss, nn.L1Loss, ("x", "y"), {}, lambda x, y: np.abs(x - y), (0, 1)),
    "smooth_l1": (F.smooth_l1_loss, nn.SmoothL1Loss, ("x", "y"), {"beta": 0.7},
                  lambda x, y: np.where(np.abs(x - y) < 0.7, 0.5 * (x - y) ** 2 / 0.7, np.abs(x - y) - 0.35), (0, 1)),
    "smooth_l1_beta0": (F.smooth_l1_loss, nn.SmoothL1Loss, ("x", "y"), {"beta": 0.0},
                        lambda x, y: np.abs(x - y), (0, 1)),
    "huber": (F.huber_loss, nn.HuberLoss, ("x", "y"), {"delta": 0.6},
              lambda x, y: np.where(np.abs(x - y) < 0.6, 0.5 * (x - y) ** 2, 0.6 * (np.abs(x - y) - 0.3)), (0, 1)),
    "bce": (F.binary_cross_entropy, nn.BCELoss, ("probs", "target"), {}, _bce, (0, 1)),
    "bce_logits": (F.binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss, ("x", "target"), {},
                   lambda x, t: -(t * log_sigmoid(x) + (1 - t) * log_sigmoid(-x)), (0, 1)),
    "kl_div": (F.kl_div, nn.KLDivLoss, ("logp", "dist"), {}, lambda lp, t: t * (np.log(t) - lp), (0, 1)),
    "kl_div_log_target": (F.kl_div, nn.KLDivLoss, ("logp", "logq"), {"log_target": True},
                          lambda lp, lt: np.exp(lt) * (lt - lp), (0, 1)),
    "gaussian_nll": (F.gaussian_nll_loss, nn.GaussianNLLLoss, ("x", "y", "var"), {},
                     lambda x, y, v: 0.5 * (np.log(v) + (x - y) ** 2 / v), (0, 1, 2)),
    "gaussian_nll_full": (F.gaussian_nll_loss, nn.GaussianNLLLoss, ("x", "y", "var"), {"full": True},
                          lambda x, y, v: 0.5 * (np.log(v) + (x - y) ** 2 / v + np.log(2 * np.pi)), (0, 2)),
    "poisson_nll": (F.poisson_nll_loss, nn.PoissonNLLLoss, ("x", "counts"), {},
                    lambda x, c: np.exp(x) - c * x, (0,)),
    "poisson_nll_rate_full": (F.poisson_nll_loss, nn.PoissonNLLLoss, ("var", "counts"),
                              {"log_input": False, "full": True},
                              lambda r, c: r - c * np.log(r + 1e-8) + np.where(
                                  c > 1, c * np.log(np.maximum(c, 1)) - c + 0.5 * np.log(2 * np.pi * np.maximum(c, 1)),
                                  0), (0,)),
    "soft_margin": (F.soft_margin_loss, nn.SoftMarginLoss, ("x", "signs"), {},
                    lambda x, s: np.log1p(np.exp(-s * x)), (0,)),
    "margin_ranking": (F.margin_ranking_loss, nn.MarginRankingLoss, ("x", "y", "signs"), {"margin": 0.3},
                       lambda a, b, s: np.maximum(0, -s * (a - b) + 0.3), (0, 1)),
    "hinge_embedding": (F.hinge_embedding_loss, nn.HingeEmbeddingLoss, ("x", "signs"), {"margin": 0.8},
                        lambda x, s: np.where(s == 1, x, np.maximum(0, 0.8 - x)), (0,)),
    "cosine_embedding": (F.cosine_embedding_loss, nn.CosineEmbeddingLoss, ("a", "p", "sign4"), {"margin": -0.2},
                         lambda a, b, s: np.where(s == 1, 1 - _cos(a, b), np.maximum(0, _cos(a, b) + 0.2)), (0, 1)),
    "multilabel_soft_margin": (F.multilabel_soft_margin_loss, nn.MultiLabelSoftMarginLoss, ("x", "multi"), {},
                               lambda x, t: -(t * log_sigmoid(x) + (1 - t) * log_sigmoid(-x)).mean(-1), (0,)),
    "multi_margin": (F.multi_margin_loss, nn.MultiMarginLoss, ("x", "labels"), {}, _multi_margin, (0,)),
    "multi_margin_p2": (F.multi_margin_loss, nn.MultiMarginLoss, ("x", "labels"), {"p": 2, "margin": 0.5},
                        lambda x, y: _multi_margin(x, y, 2, 0.5), (0,)),
    "triplet_margin": (F.triplet_margin_loss, nn.TripletMarginLoss, ("a", "p", "n"), {"margin": 1.5},
                       lambda a, p, n: _triplet(a, p, n, 1.5), (0, 1, 2)),
    "multilabel_margin": (F.multilabel_margin_loss, nn.MultiLabelMarginLoss, ("x", "mlabels"), {},
                          _multilabel_margin, (0,)),
    "triplet_margin_with_distance": (F.triplet_margin_with_distance_loss, nn.TripletMarginWithDistanceLoss,
                                     ("a", "p", "n"), {"margin": 1.5, "swap": True},
                                     lambda a, p, n: _triplet(a, p, n, 1.5, swap=True), (0, 1, 2)),
    "triplet_margin_swap_p1": (F.triplet_margin_loss, nn.TripletMarginLoss, ("a", "p", "n"),
                               {"margin": 0.5, "p": 1, "swap": True},
                               lambda a, p, n: _triplet(a, p, n, 0.5, 1, swap=True), (0, 1, 2)),
}


def _arrays(rng, names):
    data = _data(rng)
    data["sign4"] = np.array([1.0, -1.0, -1.0, 1.0])
    data["logq"] = np.log(rng.dirichlet(np.ones(3), 4))
    data["mlabels"] = np.array([[2, 0, -1], [1, -1, 2], [0, 1, 2], [-1, 0, 1]])
    return [data[n] for n in names]


@pytest.mark.parametrize("name", list(LOSSES))
def test_every_reduction_matches_the_formula_and_the_module_agrees(name, rng):
    fn, module, names, kwargs, ref, _ = LOSSES[name]
    arrays = _arrays(rng, names)
    expected = ref(*arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kl_div's 'mean' warns, as PyTorch's
        for reduction, value in (("none", expected), ("sum", expected.sum()), ("mean", expected.mean())):
            out = fn(*map(t64, arrays), **kwargs, reduction=reduction)
            assert out.dtype == np.float64 and out.shape == np.shape(value), (reduction, out.shape)
            np.testing.assert_allclose(numpy_of(out), value, rtol=1e-12, atol=1e-14)
            m = module(**kwargs, reduction=reduction)
            np.testing.assert_allclose(numpy_of(m(*map(t64, arrays))), value, rtol=1e-12, atol=1e-14)
        assert module(**kwargs).reduction == "mean"


@pytest.mark.parametrize("name", list(LOSSES))
def test_gradients_match_central_differences(name, rng):
    fn, _, names, kwargs, _, diff = LOSSES[name]
    arrays = _arrays(rng, names)
    inputs = [t64(a, grad=i in diff) for i, a in enumerate(arrays)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gradcheck(lambda *t: fn(*t, **kwargs, reduction="none"), inputs)
        assert gradcheck(lambda *t: fn(*t, **kwargs), inputs)


@pytest.mark.parametrize("name", ["smooth_l1", "huber", "bce", "bce_logits", "kl_div", "gaussian_nll",
                                  "poisson_nll", "soft_margin", "cosine_embedding", "multilabel_soft_margin",
                                  "multi_margin_p2", "triplet_margin"])
def test_double_backward(name, rng):
    fn, _, names, kwargs, _, diff = LOSSES[name]
    arrays = _arrays(rng, names)
    inputs = [t64(a, grad=i in diff) for i, a in enumerate(arrays)]
    assert gradgradcheck(lambda *t: fn(*t, **kwargs, reduction="sum"), inputs)


def test_hinge_embedding_targets_other_than_plus_or_minus_one_get_both_terms():
    """PyTorch's form: the margin term wherever target != 1, the input wherever target != -1
    (so 0, 2, 0.5 or -2 get both: values from PyTorch 2.13)."""
    x = t64([0.3, -0.5, 2.0, 0.1, 1.5, 0.2])
    target = t64([0.0, 2.0, 0.5, -2.0, 1.0, -1.0])
    got = F.hinge_embedding_loss(x, target, margin=0.8, reduction="none").numpy()
    np.testing.assert_allclose(got, [0.8, 0.8, 2.0, 0.8, 1.5, 0.6], rtol=1e-15)


def test_kinks_have_pytorchs_gradients():
    def grad_of(fn, *values):
        xs = [t64(v, grad=True) for v in values]
        fn(*xs).backward()
        return [x.grad.numpy() for x in xs]

    # |d| at 0: 0; smooth_l1 and huber continuous at +-beta / +-delta
    assert grad_of(lambda a: F.l1_loss(a, t64([1.0]), reduction="sum"), [1.0])[0] == [0.0]
    assert grad_of(lambda a: F.smooth_l1_loss(a, t64([0.0]), reduction="sum", beta=0.5), [0.5])[0] == [1.0]
    assert grad_of(lambda a: F.huber_loss(a, t64([0.0]), reduction="sum", delta=0.5), [-0.5])[0] == [-0.5]
    # max(0, .) through clamp_min: the gradient passes at exactly 0 (PyTorch's clamp_min)
    assert grad_of(lambda a, b: F.margin_ranking_loss(a, b, t64([1.0]), reduction="sum"), [1.0], [1.0])[0] == [-1.0]
    assert grad_of(lambda a: F.hinge_embedding_loss(a, t64([-1.0]), reduction="sum"), [1.0])[0] == [-1.0]
    # multi_margin: a term at exactly 0 contributes nothing (PyTorch's z > 0)
    g = grad_of(lambda a: F.multi_margin_loss(a, tg.tensor([0]), reduction="sum"), [[1.0, 0.0, -5.0]])[0]
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0]])


def test_binary_cross_entropy_clamps_its_logs_at_minus_100():
    x = t64([0.0, 0.0, 1.0, 1.0, 0.5], grad=True)
    t = t64([1.0, 0.0, 0.0, 1.0, 0.5])
    out = F.binary_cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(numpy_of(out), [100.0, 0.0, 100.0, 0.0, math.log(2)], rtol=1e-14)
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    w = t64([1.0, 2.0, 3.0])
    np.testing.assert_allclose(numpy_of(F.binary_cross_entropy(t64([0.2, 0.5, 0.9]), t64([1.0, 0.0, 1.0]), w)),
                               _bce(np.array([0.2, 0.5, 0.9]), np.array([1.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0])).mean(),
                               rtol=1e-14)


def test_bce_with_logits_is_stable_and_weighs_positives(rng):
    x = t64([1000.0, -1000.0, 1000.0, -1000.0, 0.0], grad=True)
    t = t64([0.0, 1.0, 1.0, 0.0, 1.0])
    out = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(numpy_of(out), [1000.0, 1000.0, 0.0, 0.0, math.log(2)], rtol=1e-14, atol=1e-300)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 0.0, 0.0, -0.5], atol=1e-300)
    logits, target = rng.standard_normal((5, 3)), rng.random((5, 3))
    pos, w = np.array([1.0, 2.0, 0.5]), rng.random((5, 1)) + 0.5
    ref = -w * (pos * target * log_sigmoid(logits) + (1 - target) * log_sigmoid(-logits))
    out = F.binary_cross_entropy_with_logits(t64(logits), t64(target), t64(w), reduction="none", pos_weight=t64(pos))
    np.testing.assert_allclose(numpy_of(out), ref, rtol=1e-12)
    m = nn.BCEWithLogitsLoss(weight=t64(w), pos_weight=t64(pos), reduction="sum")
    np.testing.assert_allclose(numpy_of(m(t64(logits), t64(target))), ref.sum(), rtol=1e-12)
    assert {n for n, _ in m.named_buffers()} == {"weight", "pos_weight"} and list(m.parameters()) == []
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, t64(target), b, pos_weight=t64(pos)),
                     (t64(logits, grad=True), t64(w, grad=True)))


def test_weighted_losses(rng):
    x, y, w = rng.standard_normal((3, 4, 3))
    w = np.abs(w) + 0.1
    # l1: 'mean' divides by the weights' sum; huber: the plain mean (PyTorch's two rules)
    np.testing.assert_allclose(numpy_of(F.l1_loss(t64(x), t64(y), weight=t64(w))),
                               (np.abs(x - y) * w).sum() / w.sum(), rtol=1e-12)
    huber = np.where(np.abs(x - y) < 1, 0.5 * (x - y) ** 2, np.abs(x - y) - 0.5)
    np.testing.assert_allclose(numpy_of(F.huber_loss(t64(x), t64(y), weight=t64(w))), (huber * w).mean(),
                               rtol=1e-12)
    m = nn.BCELoss(weight=t64(w[0]))
    assert [n for n, _ in m.named_buffers()] == ["weight"]
    probs, target = 1 / (1 + np.exp(-x)), rng.random((4, 3))
    np.testing.assert_allclose(numpy_of(m(t64(probs), t64(target))), _bce(probs, target, w[0]).mean(), rtol=1e-12)
    ml = nn.MultiLabelSoftMarginLoss(weight=t64(w[0]), reduction="none")
    ref = (-(target * log_sigmoid(x) + (1 - target) * log_sigmoid(-x)) * w[0]).mean(-1)
    np.testing.assert_allclose(numpy_of(ml(t64(x), t64(target))), ref, rtol=1e-12)
    labels = np.array([0, 2, 1, 1])
    mm = nn.MultiMarginLoss(p=2, margin=0.7, weight=t64(w[0]), reduction="none")
    np.testing.assert_allclose(numpy_of(mm(t64(x), tg.tensor(labels))), _multi_margin(x, labels, 2, 0.7, w[0]),
                               rtol=1e-12)
    assert gradcheck(lambda a, b: F.multi_margin_loss(a, tg.tensor(labels), weight=b),
                     (t64(x, grad=True), t64(w[0], grad=True)))


def test_kl_div_reductions_and_log_target(rng):
    logp = np.log(rng.dirichlet(np.ones(5), 4))
    q = rng.dirichlet(np.ones(5), 4)
    q[0, 0] = 0.0  # 0 log 0 = 0
    pointwise = np.where(q > 0, q * (np.log(np.where(q > 0, q, 1)) - logp), 0.0)
    np.testing.assert_allclose(numpy_of(F.kl_div(t64(logp), t64(q), reduction="batchmean")), pointwise.sum() / 4,
                               rtol=1e-12)
    with pytest.warns(UserWarning, match="batchmean"):
        np.testing.assert_allclose(numpy_of(F.kl_div(t64(logp), t64(q))), pointwise.mean(), rtol=1e-12)
    qq = rng.dirichlet(np.ones(5), 4)
    np.testing.assert_allclose(numpy_of(F.kl_div(t64(logp), t64(np.log(qq)), reduction="sum", log_target=True)),
                               numpy_of(F.kl_div(t64(logp), t64(qq), reduction="sum")), rtol=1e-12)
    m = nn.KLDivLoss(reduction="batchmean", log_target=True)
    np.testing.assert_allclose(numpy_of(m(t64(logp), t64(np.log(qq)))), (qq * (np.log(qq) - logp)).sum() / 4,
                               rtol=1e-12)
    a = t64(logp, grad=True)
    F.kl_div(a, t64(q), reduction="batchmean").backward()
    np.testing.assert_allclose(a.grad.numpy(), -q / 4, rtol=1e-12)


def test_gaussian_nll_variance_shapes_and_the_eps_clamp(rng):
    x, y = rng.standard_normal((2, 4, 3))
    v_row = rng.random(4) + 0.2

    def ref(v):
        return 0.5 * (np.log(v) + (x - y) ** 2 / v)

    for var, full in ((v_row, v_row[:, None]), (v_row[:, None], v_row[:, None]), (0.7, 0.7)):
        out = F.gaussian_nll_loss(t64(x), t64(y), t64(var) if isinstance(var, np.ndarray) else var, reduction="none")
        np.testing.assert_allclose(numpy_of(out), ref(np.broadcast_to(full, x.shape)), rtol=1e-12)
    v = t64([0.0, 0.5], grad=True)
    a, b = t64([1.0, 1.0], grad=True), t64([0.0, 0.0])
    out = F.gaussian_nll_loss(a, b, v, eps=1e-3, reduction="sum")
    assert out.item() == pytest.approx(0.5 * (math.log(1e-3) + 1e3 + math.log(0.5) + 2.0), rel=1e-12)
    out.backward()
    # the clamp passes the gradient as if absent: d/dv at the clamped value
    np.testing.assert_allclose(v.grad.numpy(), [0.5 * (1 / 1e-3 - 1 / 1e-6), 0.5 * (1 / 0.5 - 1 / 0.25)], rtol=1e-12)
    m = nn.GaussianNLLLoss(full=True, eps=1e-4, reduction="sum")
    assert m(t64(x), t64(y), t64(v_row)).item() == pytest.approx(
        (ref(np.broadcast_to(v_row[:, None], x.shape)) + 0.5 * math.log(2 * math.pi)).sum(), rel=1e-12)


def test_poisson_nll_stirling_term_only_above_one():
    c = t64([0.0, 1.0, 2.0, 5.0])
    out = F.poisson_nll_loss(t64([0.1, 0.1, 0.1, 0.1]), c, full=True, reduction="none")
    base = np.exp(0.1) - np.array([0.0, 1.0, 2.0, 5.0]) * 0.1
    stirling = [0.0, 0.0, 2 * math.log(2) - 2 + 0.5 * math.log(4 * math.pi),
                5 * math.log(5) - 5 + 0.5 * math.log(10 * math.pi)]
    np.testing.assert_allclose(numpy_of(out), base + stirling, rtol=1e-12)


def test_multilabel_margin_reads_each_list_up_to_its_first_minus_one(rng):
    x = rng.standard_normal(4)
    y = np.array([3, 0, -1, 1])  # classes 3 and 0; the 1 after -1 is ignored
    ref = sum(max(0.0, 1 - (x[j] - x[i])) for j in (3, 0) for i in (1, 2)) / 4
    out = F.multilabel_margin_loss(t64(x), tg.tensor(y), reduction="none")
    assert out.shape == () and out.item() == pytest.approx(ref, rel=1e-12)
    full = F.multilabel_margin_loss(t64(x[None]), tg.tensor(np.array([[0, 1, 2, 3]])))
    assert full.item() == 0.0  # every class is a target: nothing to rank below them


def test_triplet_margin_with_a_distance_function_of_ones_own(rng):
    a, p, n = rng.standard_normal((3, 4, 5))

    def cosine_distance(u, v):
        return 1 - F.cosine_similarity(u, v, dim=-1)

    def ref_distance(u, v):
        return 1 - (u * v).sum(-1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))

    ref = np.maximum(0.4 + ref_distance(a, p) - ref_distance(a, n), 0)
    m = nn.TripletMarginWithDistanceLoss(distance_function=cosine_distance, margin=0.4, reduction="none")
    np.testing.assert_allclose(numpy_of(m(t64(a), t64(p), t64(n))), ref, rtol=1e-12)
    args = (t64(a, grad=True), t64(p, grad=True), t64(n, grad=True))
    assert gradcheck(lambda *t: F.triplet_margin_with_distance_loss(*t, distance_function=cosine_distance,
                                                                   margin=0.4), args)


def test_size_average_and_reduce_still_choose_the_reduction(rng):
    x, y = rng.standard_normal((2, 4, 3))
    cases = (({"size_average": False}, np.abs(x - y).sum()), ({"reduce": False}, np.abs(x - y)),
             ({"size_average": True, "reduce": True}, np.abs(x - y).mean()))
    for legacy, value in cases:
        with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
            np.testing.assert_allclose(numpy_of(F.l1_loss(t64(x), t64(y), **legacy)), value, rtol=1e-12)
        with pytest.warns(UserWarning, match="deprecated"):
            np.testing.assert_allclose(numpy_of(nn.L1Loss(**legacy)(t64(x), t64(y))), value, rtol=1e-12)


def test_an_mlp_trains_with_bce_with_logits(rng):
    tg.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 16), nn.ELU(), nn.Linear(16, 1))
    x = tg.tensor(rng.standard_normal((128, 2)).astype(np.float32))
    y = ((x[:, :1] * x[:, 1:2]) > 0).float().detach()
    opt = tg.optim.Adam(model.parameters(), lr=0.03)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    accuracy = ((model(x) > 0).float() == y).float().mean().item()
    assert loss.item() < 0.4 and accuracy > 0.85


# ------------------------------------------------------------------ errors

x43, y43 = tg.randn(4, 3), tg.randn(4, 3)
p43 = tg.rand(4, 3)
ERRORS = [
    (lambda: F.l1_loss(x43, tg.randn(3)), ValueError, r"l1_loss: input shape \(4, 3\) and target shape \(3,\) differ"),
    (lambda: F.l1_loss(x43, y43, reduction="avg"), ValueError, "l1_loss: reduction must be one of"),
    (lambda: nn.L1Loss(reduction="avg"), ValueError, "L1Loss: reduction must be one of"),
    (lambda: F.l1_loss(x43, [1.0]), TypeError, "l1_loss: target must be a Tensor"),
    (lambda: F.l1_loss(x43, y43, weight=tg.ones(3)), ValueError, "l1_loss: weight shape"),
    (lambda: F.smooth_l1_loss(x43, y43, beta=-1.0), ValueError, "smooth_l1_loss: beta must be >= 0"),
    (lambda: nn.SmoothL1Loss(beta=-1.0), ValueError, "SmoothL1Loss: beta must be >= 0"),
    (lambda: F.huber_loss(x43, y43, delta=0.0), ValueError, "huber_loss: delta must be > 0"),
    (lambda: nn.HuberLoss(delta=-1.0), ValueError, "HuberLoss: delta must be > 0"),
    (lambda: F.binary_cross_entropy(x43 * 10, p43), ValueError, "elements of input should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(p43, x43 * 10), ValueError, "elements of target should be between 0 and 1"),
    (lambda: F.binary_cross_entropy(p43, tg.ones(4, 3).long()), TypeError, "target must be floating point"),
    (lambda: F.binary_cross_entropy(p43, p43, weight=tg.ones(2)), ValueError, "weight of shape"),
    (lambda: F.binary_cross_entropy_with_logits(x43, tg.ones(4)), ValueError, "target size"),
    (lambda: F.binary_cross_entropy_with_logits(x43, p43, pos_weight=tg.ones(2)), ValueError, "pos_weight of shape"),
    (lambda: nn.BCELoss(weight=[1.0]), TypeError, "BCELoss: weight must be a Tensor"),
    (lambda: F.kl_div(x43, y43, reduction="batch"), ValueError, "kl_div: reduction must be one of"),
    (lambda: F.gaussian_nll_loss(x43, y43, -tg.ones(4, 3)), ValueError, "var has negative entries"),
    (lambda: F.gaussian_nll_loss(x43, y43, -1.0), ValueError, "var has a negative entry"),
    (lambda: F.gaussian_nll_loss(x43, y43, 1.0, eps=-1e-6), ValueError, "eps must be >= 0"),
    (lambda: F.gaussian_nll_loss(x43, y43, tg.ones(4, 2)), ValueError, "var is of incorrect size"),
    (lambda: F.gaussian_nll_loss(x43, y43, tg.ones(4, 3), reduction="x"), ValueError, "reduction must be one of"),
    (lambda: F.poisson_nll_loss(x43, tg.ones(3)), ValueError, "poisson_nll_loss: input shape"),
    (lambda: F.soft_margin_loss(x43, tg.ones(3)), ValueError, "soft_margin_loss: input shape"),
    (lambda: F.margin_ranking_loss(x43, y43, tg.ones(4)), ValueError, "margin_ranking_loss: all input tensors"),
    (lambda: F.margin_ranking_loss(x43, y43, tg.ones(4, 3), margin="1"), TypeError, "margin must be a number"),
    (lambda: F.cosine_embedding_loss(x43, y43, tg.ones(4, 1)), ValueError, "0-d or 1-d target tensor expected"),
    (lambda: F.cosine_embedding_loss(x43, y43, tg.tensor(1.0)), ValueError, "a 0-d target expects 1-d inputs"),
    (lambda: F.cosine_embedding_loss(tg.ones(3), tg.ones(3), tg.ones(3)), ValueError,
     "a 1-d target expects 2-d inputs of one shape"),
    (lambda: F.cosine_embedding_loss(x43, y43, tg.ones(3)), ValueError,
     r"target shape \(3,\) does not match the inputs' batch \(4,\)"),
    (lambda: F.multilabel_soft_margin_loss(x43, tg.ones(4)), ValueError, "multilabel_soft_margin_loss: input shape"),
    (lambda: F.multi_margin_loss(x43, tg.tensor([0, 1, 2, 0]), p=3), ValueError, "only p == 1 and p == 2"),
    (lambda: nn.MultiMarginLoss(p=3), ValueError, "only p == 1 and p == 2"),
    (lambda: F.multi_margin_loss(x43, tg.tensor([0, 1, 3, 0])), IndexError, "target 3 is out of range for 3 classes"),
    # the first bad target is the one named
    (lambda: F.cross_entropy(x43, tg.tensor([0, 5, 1, 7])), IndexError, "cross_entropy: target 5 is out of bounds"),
    (lambda: F.nll_loss(x43, tg.tensor([-3, 1, 9, 0])), IndexError, "nll_loss: target -3 is out of bounds"),
    (lambda: F.multi_margin_loss(x43, tg.tensor([0, 1, 2])), ValueError, "one class index per sample"),
    (lambda: F.multi_margin_loss(x43, tg.tensor([0.0, 1, 2, 0])), TypeError, "integer class indices"),
    (lambda: F.multi_margin_loss(x43, tg.tensor([0, 1, 2, 0]), weight=tg.ones(2)), ValueError, "weight must have"),
    (lambda: F.triplet_margin_loss(x43, x43, x43, margin=0.0), ValueError, "triplet_margin_loss: margin must be > 0"),
    (lambda: nn.TripletMarginLoss(margin=-1.0), ValueError, "TripletMarginLoss: margin must be > 0"),
    (lambda: F.triplet_margin_loss(x43, x43[0], x43), ValueError, "same number of dimensions"),
    (lambda: F.multilabel_margin_loss(x43, tg.tensor([[0, 3, -1]] * 4)), IndexError, "target 3 is out of range"),
    (lambda: F.multilabel_margin_loss(x43, tg.tensor([[0, -2, -1]] * 4)), IndexError, "target -2 is out of range"),
    (lambda: F.multilabel_margin_loss(x43, tg.tensor([[0, -1]] * 4)), ValueError, "inconsistent target size"),
    (lambda: F.multilabel_margin_loss(x43, y43), TypeError, "integer class indices"),
    (lambda: F.triplet_margin_with_distance_loss(x43, x43, x43, margin=0), ValueError, "margin must be > 0"),
    # PyTorch's layer refuses a margin of 0 when it is made, not when it is called
    (lambda: nn.TripletMarginWithDistanceLoss(margin=0.0), ValueError,
     "TripletMarginWithDistanceLoss: margin must be > 0"),
    (lambda: nn.TripletMarginWithDistanceLoss(distance_function=3), TypeError, "distance_function must be callable"),
    (lambda: F.triplet_margin_with_distance_loss(x43, x43, x43[0]), ValueError, "same number of dimensions"),
]


@pytest.mark.parametrize("call, error, match", ERRORS)
def test_bad_arguments_are_refused_clearly(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ------------------------------------------------------------------ PyTorch

@pytest.mark.parametrize("name", list(LOSSES))
def test_values_and_gradients_match_pytorch(name, rng):
    torch = pytest.importorskip("torch")
    fn, module, names, kwargs, _, diff = LOSSES[name]
    arrays = _arrays(rng, names)
    tfn = getattr(torch.nn.functional, fn.__name__)
    tmodule = getattr(torch.nn, module.__name__)
    if name == "bce":
        diff = (0,)  # PyTorch has no gradient for BCE's target
    for reduction in ("none", "sum", "mean", *(("batchmean",) if name.startswith("kl_div") else ())):
        mine = [t64(a, grad=i in diff) for i, a in enumerate(arrays)]
        ref = [torch.tensor(a, requires_grad=i in diff) for i, a in enumerate(arrays)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, expected = fn(*mine, **kwargs, reduction=reduction), tfn(*ref, **kwargs, reduction=reduction)
            from_module = tmodule(**kwargs, reduction=reduction)(*ref)
        assert out.shape == tuple(expected.shape)
        np.testing.assert_allclose(numpy_of(out), expected.detach().numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(numpy_of(out), from_module.detach().numpy(), rtol=1e-12, atol=1e-14)
        w = rng.standard_normal(out.shape)
        (out * t64(w)).sum().backward()
        (expected * torch.tensor(w)).sum().backward()
        for i in diff:
            np.testing.assert_allclose(mine[i].grad.numpy(), ref[i].grad.numpy(), rtol=1e-10, atol=1e-13)


def test_weights_and_special_forms_match_pytorch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, y, w = rng.standard_normal((3, 4, 3))
    w = np.abs(w) + 0.1
    probs, target = 1 / (1 + np.exp(-x)), rng.random((4, 3))
    probs[0, :2], target[0, :2] = [0.0, 1.0], [1.0, 0.0]  # logs clamped at -100
    T = torch.tensor
    pairs = [
        (F.l1_loss(t64(x), t64(y), weight=t64(w)), tf.l1_loss(T(x), T(y), weight=T(w))),
        (F.huber_loss(t64(x), t64(y), weight=t64(w), delta=0.5), tf.huber_loss(T(x), T(y), weight=T(w), delta=0.5)),
        (F.binary_cross_entropy(t64(probs), t64(target), t64(w[0])), tf.binary_cross_entropy(T(probs), T(target), T(w[0]))),
        (F.binary_cross_entropy_with_logits(t64(x * 50), t64(target), t64(w), pos_weight=t64(w[1])),
         tf.binary_cross_entropy_with_logits(T(x * 50), T(target), T(w), pos_weight=T(w[1]))),
        (F.multilabel_soft_margin_loss(t64(x), t64((target > 0.5) * 1.0), t64(w[0])),
         tf.multilabel_soft_margin_loss(T(x), T((target > 0.5) * 1.0), T(w[0]))),
        (F.multi_margin_loss(t64(x), tg.tensor([2, 0, 1, 1]), 2, 0.3, t64(w[0])),
         tf.multi_margin_loss(T(x), T([2, 0, 1, 1]), 2, 0.3, T(w[0]))),
        (F.multi_margin_loss(t64(x[0]), tg.tensor(1), reduction="none"),
         tf.multi_margin_loss(T(x[0]), T(1), reduction="none")),
        (F.gaussian_nll_loss(t64(x), t64(y), t64(w[:, :1] * 0)), tf.gaussian_nll_loss(T(x), T(y), T(w[:, :1] * 0))),
        (F.gaussian_nll_loss(t64(x), t64(y), t64(w[:, 0])), tf.gaussian_nll_loss(T(x), T(y), T(w[:, 0]))),
        (F.gaussian_nll_loss(t64(x), t64(y), 0.3), tf.gaussian_nll_loss(T(x), T(y), 0.3)),
        (F.cosine_embedding_loss(t64(x[0]), t64(y[0]), tg.tensor(-1.0, dtype=tg.float64)),
         tf.cosine_embedding_loss(T(x[0]), T(y[0]), T(-1.0, dtype=torch.float64))),
    ]
    for ours, theirs in pairs:
        np.testing.assert_allclose(numpy_of(ours), theirs.numpy(), rtol=1e-12, atol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(numpy_of(F.kl_div(t64(x), t64(probs), size_average=False)),
                                   tf.kl_div(T(x), T(probs), size_average=False).numpy(), rtol=1e-12)


# ------------------------------------------------------------------ the cuda device

@pytest.mark.cuda_sim
@pytest.mark.gpu
def test_the_cuda_device_gives_the_cpus_values_and_gradients(rng):
    for name, (fn, _, names, kwargs, _, diff) in LOSSES.items():
        arrays = _arrays(rng, names)
        results = []
        for device in ("cpu", "cuda"):
            inputs = [tg.tensor(a, requires_grad=i in diff, device=device) for i, a in enumerate(arrays)]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = fn(*inputs, **kwargs)
            out.backward()
            assert out.device.type == device
            results.append([out.item()] + [inputs[i].grad.cpu().numpy() for i in diff])
        for mine, ref in zip(results[1], results[0]):
            np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12, err_msg=name)


# ------------------------------------------------------------------ ignored targets


def _ce_reference(x, y, ignore_index, reduction):
    """Cross entropy in float64 with ignored rows: each row's -log_softmax at its target;
    mean over the rows kept (NaN when none is), as PyTorch."""
    logp = x - x.max(axis=1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
    keep = y != ignore_index
    rows = np.where(keep, -logp[np.arange(len(y)), np.where(keep, y, 0)], 0.0)
    if reduction == "none":
        return rows, keep
    if reduction == "sum":
        return rows.sum(), keep
    return (rows.sum() / keep.sum() if keep.any() else np.nan), keep


@pytest.mark.parametrize("classes", [1, 2, 5])
@pytest.mark.parametrize("ignore_index", [-100, 0, "last", 7])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_and_nll_with_ignored_rows_match_the_formula(classes, ignore_index, reduction):
    """Every number of classes down to one (log_softmax of one class is 0), an ignore_index
    that is a real class (0, the last) or none, some rows ignored and, in a second draw, all:
    the loss and the input gradient (the output weighted first, so 'none' is not summed
    away) match the float64 formula, and ignored rows get exactly zero gradient."""
    rng = np.random.default_rng(classes * 31 + len(reduction))
    ii = classes - 1 if ignore_index == "last" else ignore_index
    for n, ignored in ((6, [1, 4]), (3, [0, 1, 2])):
        x = rng.standard_normal((n, classes))
        y = rng.integers(0, classes, n)
        y[ignored] = ii
        want, keep = _ce_reference(x, y, ii, reduction)
        for fn in ("ce", "nll"):
            xt = t64(x, grad=True)
            inp = xt if fn == "ce" else F.log_softmax(xt, dim=1)
            loss_fn = F.cross_entropy if fn == "ce" else F.nll_loss
            out = loss_fn(inp, tg.tensor(y), ignore_index=ii, reduction=reduction)
            got = numpy_of(out)
            if not keep.any() and reduction == "mean":
                assert np.isnan(got), (fn, got)
                continue
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=fn)
            weight = rng.standard_normal(got.shape) if reduction == "none" else np.array(1.7)
            (out * t64(weight)).sum().backward()
            grad = numpy_of(xt.grad)
            assert np.all(grad[~keep] == 0), (fn, grad)
            # d/dx of w * (-log_softmax(x)[y]) = w * (softmax(x) - onehot(y)), w scaled by the reduction
            p = np.exp(x - x.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            onehot = np.eye(classes)[np.where(keep, y, 0)]
            scale = weight if reduction == "none" else np.full(n, float(weight))
            if reduction == "mean":
                scale = scale / keep.sum()
            expected = np.where(keep[:, None], scale[:, None] * (p - onehot), 0.0)
            np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-14, err_msg=fn)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_clamps_each_log_at_minus_100_for_tiny_and_zero_probabilities(dtype):
    """PyTorch clamps log(input) and log(1 - input) at -100: a probability of 1e-30 (whose
    log is -69) is not clamped, 1e-44 (log about -101 in float32 and float64) and 0 are."""
    x = np.array([1e-30, 1e-44, 0.0, 0.5], dtype)
    loss = F.binary_cross_entropy(tg.tensor(x), tg.tensor(np.ones(4, dtype)), reduction="none").numpy()
    np.testing.assert_allclose(loss, [-math.log(float(x[0])), 100.0, 100.0, math.log(2.0)], rtol=1e-6)
    loss = F.binary_cross_entropy(tg.tensor(1 - x), tg.tensor(np.zeros(4, dtype)), reduction="none").numpy()
    assert loss[2] == 100.0  # log(1 - 1) clamped


@pytest.mark.parametrize("ndims", [(2, 1, 1), (1, 2, 2), (2, 2, 1), (2, 1, 2)])
def test_triplet_losses_refuse_inputs_of_different_ranks(ndims):
    a, p, n = (tg.ones(*([3] if d == 1 else [2, 3])) for d in ndims)
    for fn in (F.triplet_margin_loss, F.triplet_margin_with_distance_loss):
        with pytest.raises(ValueError, match="expected to have the same number of dimensions"):
            fn(a, p, n)


@pytest.mark.parametrize("weight_shape", [(4,), (2,), (3, 1), (1, 3)])
def test_huber_loss_refuses_a_weight_of_another_shape_than_the_input(weight_shape):
    """Larger, smaller, or one that would broadcast: the weight must have the input's shape."""
    x, y = tg.tensor([1.0, 2.0, 3.0]), tg.tensor([0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=rf"huber_loss: weight shape \({weight_shape[0]},"):
        F.huber_loss(x, y, weight=tg.ones(*weight_shape))
    assert F.huber_loss(x, y, weight=tg.ones(3), delta=1.0).item() == pytest.approx((0.5 + 1.5 + 2.5) / 3)


def test_binary_cross_entropy_gradient_at_exactly_0_and_1_is_the_clamped_logs_derivative():
    """At an input of exactly 0 or 1 the gradient is the derivative of the clamped loss
    (README: PyTorch's formula gives 0 or +-1e12 there): 1 / (1 - p) for the unclamped term,
    0 for a clamped one; never NaN or inf."""
    p = tg.tensor([0.0, 1.0, 0.0, 1.0], dtype=tg.float64, requires_grad=True)
    y = tg.tensor([0.0, 1.0, 1.0, 0.0], dtype=tg.float64)
    weights = tg.tensor([1.0, 2.0, 3.0, 4.0], dtype=tg.float64)
    loss = F.binary_cross_entropy(p, y, reduction="none")
    assert loss.tolist() == [0.0, 0.0, 100.0, 100.0]
    (loss * weights).sum().backward()
    assert p.grad.tolist() == [1.0, -2.0, 0.0, 0.0]


@pytest.mark.parametrize("p, want", [(1, 0.8 / 3), (2, 0.34 / 3)])
def test_multi_margin_loss_of_one_unbatched_sample_has_its_targets_shape(p, want):
    """torch: multi_margin_loss(tensor([0.1, 0.8, 0.3]), tensor(1), reduction='none') is
    tensor(0.2667), shape (); with target tensor([1]) shape (1,); p=2 gives 0.1133."""
    x = tg.tensor([0.1, 0.8, 0.3], dtype=tg.float64)
    for target, shape in ((tg.tensor(1), ()), (tg.tensor([1]), (1,))):
        for reduction in ("none", "mean", "sum"):
            got = F.multi_margin_loss(x, target, p=p, reduction=reduction)
            assert got.shape == (shape if reduction == "none" else ()), (target.shape, reduction)
            assert got.item() == pytest.approx(want, rel=1e-12)
