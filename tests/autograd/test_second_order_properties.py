"""Second-order properties over drawn shapes: Hessians are symmetric, Hessian-
vector products equal finite differences of gradients, the functional API
agrees with itself, and the normalizations' invariances carry to second order.

The invariance identities: if L(x) does not change when a group of x is scaled
(L(c x_G) = L(x), c > 0), Euler's theorem gives g_G . x_G = 0, and
differentiating that in x gives H v = -g_G for v = x_G (x on the group, 0
elsewhere). If L does not change when a constant is added along a group
(L(x + c 1_G) = L(x)), then sum(g_G) = 0 and H 1_G = 0. Batch norm in training
is invariant to both per channel, layer norm per sample, group norm per
(sample, group) (exactly with eps = 0; eps = 1e-12 here).
"""
import numpy as np
from hypothesis import given, strategies as st

import tinygrad_bn as tg
from tinygrad_bn import autograd
from tinygrad_bn.testing import strategies as tst

EPS = 1e-12


def t(a, requires_grad=True):
    return tg.tensor(a, dtype=tg.float64, requires_grad=requires_grad)


def grad_and_hvp(loss_fn, x_np, v_np):
    x = t(x_np)
    (g,) = tg.grad(loss_fn(x), x, create_graph=True)
    (hv,) = tg.grad((g * t(v_np, False)).sum(), x)
    return g.detach().numpy(), hv.numpy()


def mlp_loss(weights):
    w1, w2, target = (t(w, False) for w in weights)

    def loss(x):
        return (((x @ w1).tanh() @ w2 - target) ** 2).mean()
    return loss


@st.composite
def mlp_problems(draw):
    n, d, h = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    arrays = [draw(tst.arrays(np.float64, s)) for s in ((n, d), (d, h), (h, 2), (n, 2))]
    return arrays[0], arrays[1:]


@given(problem=mlp_problems(), seed=st.integers(0, 2 ** 16))
def test_hvp_equals_finite_differences_of_gradients(problem, seed):
    x, weights = problem
    loss = mlp_loss(weights)
    v = np.random.default_rng(seed).standard_normal(x.shape)
    _, hv = grad_and_hvp(loss, x, v)
    step = 1e-6
    g_plus, _ = grad_and_hvp(loss, x + step * v, v)
    g_minus, _ = grad_and_hvp(loss, x - step * v, v)
    np.testing.assert_allclose(hv, (g_plus - g_minus) / (2 * step), rtol=1e-5, atol=1e-7)


@given(problem=mlp_problems())
def test_the_hessian_is_symmetric_and_matches_hvps(problem):
    x, weights = problem
    loss = mlp_loss(weights)
    h = autograd.functional.hessian(loss, t(x)).numpy().reshape(x.size, x.size)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    v = np.linspace(-1, 1, x.size).reshape(x.shape)
    _, hv = autograd.functional.hvp(loss, t(x), t(v, False))
    np.testing.assert_allclose(hv.numpy().ravel(), h @ v.ravel(), rtol=1e-10, atol=1e-12)


@given(problem=mlp_problems(), seed=st.integers(0, 2 ** 16))
def test_vjp_jvp_and_jacobian_agree(problem, seed):
    x, (w1, _, _) = problem
    fn = lambda a: (a @ t(w1, False)).tanh()  # noqa: E731
    rng = np.random.default_rng(seed)
    jac = autograd.functional.jacobian(fn, t(x)).numpy()
    out_shape = jac.shape[:2]
    jac2 = jac.reshape(int(np.prod(out_shape)), x.size)
    u, v = rng.standard_normal(out_shape), rng.standard_normal(x.shape)
    _, vjp = autograd.functional.vjp(fn, t(x), t(u, False))
    _, jvp = autograd.functional.jvp(fn, t(x), t(v, False))
    np.testing.assert_allclose(vjp.numpy().ravel(), jac2.T @ u.ravel(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jvp.numpy().ravel(), jac2 @ v.ravel(), rtol=1e-10, atol=1e-12)


def _weighted(case, weight_seed):
    """The normalized output weighted by a fixed random tensor (never a plain sum: that is constant)."""
    out_w = t(np.random.default_rng(weight_seed).standard_normal(case.x.shape), False)
    w = None if case.weight is None else t(case.weight, False)
    b = None if case.bias is None else t(case.bias, False)
    case.params["eps"] = EPS

    def loss(x):
        y = case.call(x, w, b)
        return (y * out_w).sum() + 0.5 * (y * y * out_w).sum()  # not linear in y: a curved loss
    return loss


def _group_masks(case):
    """One 0/1 mask of x's shape per normalized group."""
    grouped, axes = case.grouped(np.zeros(case.x.shape))
    others = [a for a in range(grouped.ndim) if a not in axes]
    masks = []
    for idx in np.ndindex(*(grouped.shape[a] for a in others)):
        m = np.zeros(grouped.shape)
        sel = [slice(None)] * grouped.ndim
        for a, i in zip(others, idx):
            sel[a] = i
        m[tuple(sel)] = 1.0
        masks.append(m.reshape(case.x.shape))
    return masks


@given(data=st.data())
def test_normalization_invariances_hold_to_second_order(data):
    kind = data.draw(st.sampled_from(["batch", "layer", "group", "instance"]))
    case = data.draw(tst.normalization_inputs(kind, scale="well", max_side=3))
    loss = _weighted(case, data.draw(st.integers(0, 2 ** 16)))
    x = case.x
    for mask in _group_masks(case)[:3]:
        g, h_scale = grad_and_hvp(loss, x, x * mask)  # scaling the group
        _, h_shift = grad_and_hvp(loss, x, mask)       # shifting the group
        scale = max(1.0, np.abs(g).max())
        np.testing.assert_allclose((g * x * mask).sum(), 0, atol=1e-8 * scale)
        np.testing.assert_allclose((g * mask).sum(), 0, atol=1e-8 * scale)
        np.testing.assert_allclose(h_scale, -g * mask, atol=1e-7 * scale)
        np.testing.assert_allclose(h_shift, 0, atol=1e-7 * scale)


@given(data=st.data())
def test_second_derivatives_of_the_norms_against_a_float64_reference(data):
    """HVPs through our norms equal HVPs through the same normalization written in plain ops."""
    kind = data.draw(st.sampled_from(["batch", "layer", "group", "instance"]))
    case = data.draw(tst.normalization_inputs(kind, scale="well", max_side=3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    out_w = t(rng.standard_normal(case.x.shape), False)
    v = rng.standard_normal(case.x.shape)
    eps = case.params["eps"]

    def reference(x):
        grouped_shape = case.grouped(np.zeros(case.x.shape))[0].shape
        axes = case.grouped(np.zeros(case.x.shape))[1]
        xr = x.reshape(grouped_shape)
        mean = xr.mean(axes, keepdim=True)
        var = ((xr - mean) ** 2).mean(axes, keepdim=True)
        y = ((xr - mean) / (var + eps).sqrt()).reshape(case.x.shape)
        if case.weight is not None:
            shape = (case.weight.shape if kind == "layer" else (1, -1) + (1,) * (case.x.ndim - 2))
            y = y * t(case.weight, False).reshape(shape) + t(case.bias, False).reshape(shape)
        return y

    def ours(x):
        w = None if case.weight is None else t(case.weight, False)
        b = None if case.bias is None else t(case.bias, False)
        return case.call(x, w, b)

    results = []
    for fn in (ours, reference):
        loss = lambda x, fn=fn: ((fn(x) * out_w).tanh()).sum()  # noqa: E731
        results.append(grad_and_hvp(loss, case.x, v))
    (g1, h1), (g2, h2) = results
    np.testing.assert_allclose(g1, g2, rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(h1, h2, rtol=1e-7, atol=1e-8)
