"""nn.RMSNorm and nn.functional.rms_norm: values against the formula in float64
and against torch.nn.functional.rms_norm (when PyTorch is installed), gradients
by gradcheck and gradgradcheck (the recorded NormBackward's composite double
backward), eps=None per dtype, no affine, float16, the tape, and clear errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.nn import functional as F
from tinygrad_bn.testing import gradcheck, gradgradcheck


def ref_rms_norm(x, normalized_shape, weight=None, eps=None):
    """y = x / sqrt(mean(x^2 over the normalized dims) + eps) * weight, in float64."""
    nd = len(normalized_shape)
    if eps is None:
        eps = np.finfo(np.float32 if x.dtype == np.float16 else x.dtype).eps
    x = x.astype(np.float64)
    axes = tuple(range(x.ndim - nd, x.ndim))
    y = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + eps)
    return y if weight is None else y * weight.astype(np.float64)


def leaf(a):
    return tg.tensor(np.asarray(a, np.float64), requires_grad=True)


CASES = [((4, 5), 5), ((3, 4, 5), (5,)), ((3, 4, 5), (4, 5)), ((2, 3, 2, 3), [3, 2, 3]), ((7,), (7,))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized_shape", CASES, ids=[str(c) for c in CASES])
def test_functional_matches_the_formula(rng, shape, normalized_shape, dtype):
    x = (rng.standard_normal(shape) * 2 + 0.5).astype(dtype)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    w = rng.standard_normal(ns).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for eps in (None, 1e-5, 0.3):
        for weight in (None, w):
            y = F.rms_norm(tg.tensor(x), normalized_shape, None if weight is None else tg.tensor(weight), eps)
            assert y.dtype == tg.tensor(x).dtype and y.shape == shape
            np.testing.assert_allclose(y.numpy(), ref_rms_norm(x, ns, weight, eps), rtol=tol, atol=tol)


def test_module_matches_the_formula_and_has_pytorchs_state_and_repr(rng):
    m = nn.RMSNorm((4, 5))
    assert m.normalized_shape == (4, 5) and m.eps is None and m.elementwise_affine is True
    assert list(m.state_dict()) == ["weight"] and m.weight.shape == (4, 5)
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones((4, 5), np.float32))
    assert repr(m) == "RMSNorm((4, 5), eps=None, elementwise_affine=True)"
    assert repr(nn.RMSNorm(3, eps=1e-6, elementwise_affine=False)) == \
        "RMSNorm((3,), eps=1e-06, elementwise_affine=False)"
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    with tg.no_grad():
        m.weight.mul_(tg.tensor(rng.standard_normal((4, 5)).astype(np.float32)))
    np.testing.assert_allclose(m(tg.tensor(x)).detach().numpy(), ref_rms_norm(x, (4, 5), m.weight.detach().numpy()),
                               rtol=1e-6, atol=1e-6)
    m.reset_parameters()
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones((4, 5), np.float32))
    assert nn.RMSNorm(5, dtype=tg.float64).weight.dtype == tg.float64
    assert nn.RMSNorm(5, device="cpu").weight.device == "cpu"
    assert nn.RMSNorm(5).weight.requires_grad


def test_without_elementwise_affine_there_is_no_weight(rng):
    m = nn.RMSNorm(6, elementwise_affine=False)
    assert m.weight is None and list(m.parameters()) == [] and list(m.state_dict()) == []
    x = rng.standard_normal((5, 6))
    np.testing.assert_allclose(m(tg.tensor(x)).numpy(), ref_rms_norm(x, (6,)), rtol=1e-13)
    m.reset_parameters()  # nothing to reset


def test_eps_none_is_the_machine_epsilon_of_the_compute_dtype():
    # a row of tiny values: y = x / sqrt(x^2 + eps) shows eps
    for dtype, eps in [(tg.float32, np.finfo(np.float32).eps), (tg.float64, np.finfo(np.float64).eps),
                       (tg.float16, np.finfo(np.float32).eps)]:  # float16 computes in float32 (as PyTorch)
        v = 1e-3 if dtype == tg.float16 else 1e-4
        x = tg.full((2, 3), v, dtype=dtype)
        y = F.rms_norm(x, 3)
        assert y.dtype == dtype
        want = np.float64(x.numpy()[0, 0]) / np.sqrt(np.float64(x.numpy()[0, 0]) ** 2 + eps)
        tol = 1e-3 if dtype == tg.float16 else 1e-6
        np.testing.assert_allclose(y.numpy().astype(np.float64), want, rtol=tol)
        np.testing.assert_array_equal(nn.RMSNorm(3, elementwise_affine=False)(x).numpy(), y.numpy())
    xr = tg.tensor(np.ones((2, 3)), requires_grad=True)
    assert F.rms_norm(xr, 3).grad_fn.ctx.params["eps"] == np.finfo(np.float64).eps
    assert F.rms_norm(xr.float(), 3).grad_fn.ctx.params["eps"] == np.finfo(np.float32).eps
    assert F.rms_norm(xr, 3, eps=0.25).grad_fn.ctx.params["eps"] == 0.25


@pytest.mark.parametrize("normalized_shape, with_weight", [((5,), True), ((5,), False), ((3, 5), True)])
def test_gradcheck_in_float64(rng, normalized_shape, with_weight):
    x = leaf(rng.standard_normal((4, 3, 5)))
    w = leaf(rng.standard_normal(normalized_shape))
    args = (x, w) if with_weight else (x,)
    assert gradcheck(lambda x, *w: F.rms_norm(x, normalized_shape, *w, eps=1e-3), args)


@pytest.mark.parametrize("normalized_shape, with_weight", [((5,), True), ((5,), False), ((3, 5), True)])
def test_gradgradcheck_in_float64(rng, normalized_shape, with_weight):
    x = leaf(rng.standard_normal((4, 3, 5)) + 0.3)
    w = leaf(rng.standard_normal(normalized_shape))
    args = (x, w) if with_weight else (x,)
    assert gradgradcheck(lambda x, *w: F.rms_norm(x, normalized_shape, *w, eps=1e-3), args)


def test_the_double_backward_is_one_recorded_norm_backward_and_third_order_works(rng):
    x = leaf(rng.standard_normal((3, 4)))
    w = leaf(rng.standard_normal(4))
    y = F.rms_norm(x, 4, w)
    assert y.grad_fn.name == "RMSNorm" and y.grad_fn.ctx.kernel == "kernels.cpu.rmsnorm"
    assert y.grad_fn.ctx.params["normalized_shape"] == (4,)
    g = leaf(rng.standard_normal((3, 4)))
    dx, dw = tg.autograd.grad(y, (x, w), g, create_graph=True)
    assert dx.grad_fn.name == "NormBackward" and dx.grad_fn.ctx.params["norm"] == "rms"
    # the first order of the recorded op is the kernel's
    dx0, dw0 = tg.autograd.grad(F.rms_norm(x, 4, w), (x, w), g)
    np.testing.assert_allclose(dx.detach().numpy(), dx0.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dw.detach().numpy(), dw0.numpy(), rtol=1e-12)
    # third order: the composite double backward, recorded again, checked by gradgradcheck of the gradient
    assert gradgradcheck(lambda x, w: tg.autograd.grad(F.rms_norm(x, 4, w), x, g, create_graph=True)[0],
                         (x, w), fast_mode=True)


def test_training_steps_move_the_weight_and_float16_flows_back_in_float16(rng):
    model = nn.Sequential(nn.Linear(6, 8), nn.RMSNorm(8), nn.Linear(8, 3))
    opt = tg.optim.SGD(model.parameters(), lr=0.1)
    x = tg.tensor(rng.standard_normal((16, 6)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 3, 16))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert not np.allclose(model[1].weight.detach().numpy(), 1.0)
    xh = tg.tensor(rng.standard_normal((4, 8)).astype(np.float16), requires_grad=True)
    out = F.rms_norm(xh, 8, tg.ones(8, dtype=tg.float16))
    out.sum().backward()
    assert out.dtype == tg.float16 and xh.grad.dtype == tg.float16


def test_bad_arguments_are_clear_errors():
    x = tg.ones(2, 3)
    cases = [
        (lambda: F.rms_norm(x, (4,)), ValueError,
         r"rms_norm: normalized_shape \(4,\) must match the last dims of the input, got input shape \(2, 3\)"),
        (lambda: F.rms_norm(x, (2, 2, 3)), ValueError, "must match the last dims"),
        (lambda: F.rms_norm(x, ()), ValueError, "normalized_shape must be positive ints"),
        (lambda: F.rms_norm(x, 0), ValueError, "normalized_shape must be positive ints, got 0"),
        (lambda: F.rms_norm(x, (3.0,)), ValueError, "positive ints"),
        (lambda: F.rms_norm(x, "3"), TypeError, "normalized_shape must be an int or a tuple of ints"),
        (lambda: F.rms_norm(x, 3, eps=0.0), ValueError, "rms_norm: eps must be > 0.0, got 0.0"),
        (lambda: F.rms_norm(x, 3, eps=-1e-5), ValueError, "eps must be > 0.0"),
        (lambda: F.rms_norm(x, 3, eps=float("nan")), ValueError, "eps must be a finite number"),
        (lambda: F.rms_norm(x, 3, eps="1e-5"), TypeError, "eps must be a number"),
        (lambda: F.rms_norm(x, 3, tg.ones(4)), ValueError, r"weight has shape \(4,\), expected \(3,\)"),
        (lambda: F.rms_norm(x, 3, [1.0, 1.0, 1.0]), TypeError, "weight must be a Tensor or None"),
        (lambda: F.rms_norm(x, 3, tg.ones(3, dtype=tg.int64)), TypeError, "weight must be floating point"),
        (lambda: F.rms_norm(tg.ones(2, 3, dtype=tg.int64), 3), TypeError, "rms_norm"),
        (lambda: F.rms_norm(tg.zeros(0, 3), 3), ValueError, r"empty input of shape \(0, 3\)"),
        (lambda: F.rms_norm(x.numpy(), 3), TypeError, "rms_norm"),
        (lambda: nn.RMSNorm(0), ValueError, "RMSNorm: normalized_shape must be positive ints"),
        (lambda: nn.RMSNorm(3, eps=0), ValueError, "RMSNorm: eps must be > 0.0"),
        (lambda: nn.RMSNorm(3, dtype=tg.int64), TypeError, "RMSNorm: dtype must be a floating point type"),
        (lambda: nn.RMSNorm(4)(x), ValueError, "must match the last dims"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_nan_and_inf_inputs_are_named_errors():
    for bad in (np.nan, np.inf, -np.inf):
        x = tg.tensor([[1.0, 2.0], [bad, 1.0]])
        with pytest.raises(ValueError, match="rms_norm: the input contains NaN or Inf"):
            F.rms_norm(x, 2)
    big = tg.tensor([[1e200, 1.0]], dtype=tg.float64)  # squares overflow float64: rstd would be 0
    with pytest.raises(ValueError, match="overflow"):
        F.rms_norm(big, 2)
    assert np.isfinite(F.rms_norm(tg.zeros(2, 3), 3).numpy()).all()  # zero rows are fine: y = 0


def test_matches_torch_nn_functional_rms_norm(rng):
    torch = pytest.importorskip("torch")
    shapes = [((4, 5), (5,)), ((3, 4, 5), (4, 5)), ((2, 2, 3, 3), (2, 3, 3))]
    for (shape, ns), dtype, eps in [(s, d, e) for s in shapes for d in (np.float16, np.float32, np.float64)
                                    for e in (None, 1e-5)]:
        x = (rng.standard_normal(shape) + 0.2).astype(dtype)
        w = rng.standard_normal(ns).astype(dtype)
        dy = rng.standard_normal(shape).astype(dtype)
        xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
        yt = torch.nn.functional.rms_norm(xt, ns, wt, eps)
        yt.backward(torch.tensor(dy))
        xo, wo = tg.tensor(x, requires_grad=True), tg.tensor(w, requires_grad=True)
        yo = F.rms_norm(xo, ns, wo, eps)
        yo.backward(tg.tensor(dy))
        tol = {np.float16: 2e-2, np.float32: 2e-5, np.float64: 1e-12}[dtype]
        what = f"{shape} {ns} {dtype.__name__} eps={eps}"
        assert yo.dtype == tg.tensor(x).dtype, what
        for ours, theirs, name in [(yo.detach(), yt.detach(), "y"), (xo.grad, xt.grad, "dx"), (wo.grad, wt.grad, "dw")]:
            theirs = theirs.numpy().astype(np.float64)
            scale = max(1.0, np.abs(theirs).max())
            np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs, atol=tol * scale, rtol=tol,
                                       err_msg=f"{name} {what}")


def test_module_matches_torch_nn_rms_norm(rng):
    torch = pytest.importorskip("torch")
    for kwargs in ({}, {"eps": 1e-3}, {"elementwise_affine": False}):
        theirs = torch.nn.RMSNorm((3, 4), **kwargs)
        ours = nn.RMSNorm((3, 4), **kwargs)
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        if ours.weight is not None:
            w = rng.standard_normal((3, 4)).astype(np.float32)
            theirs.weight.data = torch.tensor(w)
            ours.load_state_dict({"weight": tg.tensor(w)})
        x = rng.standard_normal((2, 3, 4)).astype(np.float32)
        np.testing.assert_allclose(ours(tg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                                   rtol=2e-6, atol=2e-6)


# ------------------------------------------------------------------ property

@st.composite
def rms_inputs(draw):
    """x of 1-4 dims (sides 1-6; values of a drawn scale, zeros and all), the normalized dims, eps and a dtype."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=6))
    nd = draw(st.integers(1, len(shape)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    scale = draw(st.sampled_from([1e-2, 1.0, 1e3]))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-10, 10, allow_nan=False)))
    eps = draw(st.sampled_from([None, 1e-6, 1e-3]))
    return (x * scale).astype(dtype), tuple(shape[len(shape) - nd:]), eps


@given(rms_inputs())
def test_the_rms_of_the_output_without_affine_is_one_up_to_eps(case):
    """mean(y^2) = ms / (ms + eps) for ms = mean(x^2) over each row: 1 up to eps / ms
    (0 for a row of zeros), whatever the shape, scale and dtype."""
    x, ns, eps = case
    y = F.rms_norm(tg.tensor(x), ns, eps=eps).numpy().astype(np.float64)
    e = np.finfo(x.dtype).eps if eps is None else eps
    axes = tuple(range(x.ndim - len(ns), x.ndim))
    x64 = x.astype(np.float64)
    ms = (x64 * x64).mean(axis=axes)
    rms_y = np.sqrt((y * y).mean(axis=axes))
    tol = 1e-5 if x.dtype == np.float32 else 1e-12
    np.testing.assert_allclose(rms_y, np.sqrt(ms / (ms + e)), rtol=tol, atol=tol)
    well = ms > 1e3 * e  # rows well above eps: within eps / ms of 1
    assert np.all(np.abs(rms_y[well] - 1.0) <= 1e-3 + tol)
