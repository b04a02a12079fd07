"""The CPU's fused norm double backward (kernels/cpu/double_backward.py) against
the composite form it replaces (ops/norm_grad.py), which gradgradcheck checks
against finite differences (tests/ops/test_double_backward.py)."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels.cpu as K
from kernels.cpu import double_backward as D
from tinygrad_bn.backends import get_backend
from tinygrad_bn.ops import norm_grad

CPU = get_backend("cpu")


def _case(rng, kind, shape, training, dtype, missing):
    x = rng.standard_normal(shape) * 3 + 1
    g, a = rng.standard_normal(shape), rng.standard_normal(shape)
    if kind == "batch":
        C = shape[1]
        axes = (0,) + tuple(range(2, len(shape)))
        mean, invstd = x.mean(axis=axes), 1 / np.sqrt(x.var(axis=axes) + 1e-5)
        if not training:
            mean, invstd = rng.standard_normal(C), rng.uniform(0.5, 2, C)
        layout, pshape = norm_grad.Layout("batch", shape), (C,)
    else:
        nd = min(2, len(shape) - 1)
        pshape = shape[len(shape) - nd:]
        rows = x.reshape(-1, int(np.prod(pshape)))
        mean, invstd = rows.mean(1), 1 / np.sqrt(rows.var(1) + 1e-5)
        layout = norm_grad.Layout("layer", shape, normalized_ndim=nd)
    w, beta, gamma = (rng.standard_normal(pshape) for _ in range(3))
    parts = {"weight": w, "a": a, "beta": beta, "gamma": gamma}
    for name in missing:
        parts[name] = None
    cast = {k: (None if v is None else v.astype(dtype)) for k, v in parts.items()}
    return x.astype(dtype), g.astype(dtype), cast, mean, invstd, layout


def _fused(kind, x, g, p, mean, invstd, training, layout):
    if kind == "batch":
        return K.batch_norm_double_backward(x, g, p["weight"], p["a"], p["beta"], p["gamma"], mean, invstd, training)
    return K.layer_norm_double_backward(x, g, p["weight"], p["a"], p["beta"], p["gamma"], mean, invstd,
                                        len(layout.axes))


CASES = st.tuples(st.sampled_from(["batch", "layer"]), st.booleans(),
                  st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
                  st.sets(st.sampled_from(["weight", "a", "beta", "gamma"]), max_size=2),
                  st.integers(0, 2 ** 16))


@settings(max_examples=60, deadline=None)
@given(CASES)
def test_the_fused_double_backward_is_the_composite_one_in_float64(case):
    kind, training, shape, missing, seed = case
    training = training or kind == "layer"  # layer norm has no running statistics
    if kind == "batch" and training and np.prod(shape) // shape[1] < 2:
        shape = (2,) + shape[1:]
    x, g, p, mean, invstd, layout = _case(np.random.default_rng(seed), kind, shape, training, np.float64, missing)
    running = None if training else (mean, invstd)
    want = norm_grad.double_backward(CPU, layout, 1e-5, running, x, g, p["weight"], p["a"], p["beta"], p["gamma"])
    got = _fused(kind, x, g, p, mean, invstd, training, layout)
    for name, w_, g_ in zip(("dx", "dg", "dweight"), want, got):
        if w_ is None:  # nothing reaches it: the kernel's zeros, or None without weight
            assert g_ is None or not np.any(g_), name
            continue
        np.testing.assert_allclose(g_, w_, rtol=1e-9, atol=1e-9 * (1 + np.abs(w_).max()), err_msg=name)


@pytest.mark.parametrize("kind, shape", [("batch", (64, 64)), ("batch", (16, 8, 10)), ("layer", (32, 48))])
def test_float32_in_float32_out_close_to_float64(kind, shape):
    rng = np.random.default_rng(1)
    x, g, p, mean, invstd, layout = _case(rng, kind, shape, True, np.float64, ())
    want = _fused(kind, x, g, p, mean, invstd, True, layout)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    got = _fused(kind, x.astype(np.float32), g.astype(np.float32), p32, mean, invstd, True, layout)
    assert got[0].dtype == got[1].dtype == np.float32 and got[2].dtype == np.float64
    for w_, g_ in zip(want, got):
        np.testing.assert_allclose(g_, w_, rtol=1e-4, atol=1e-4 * np.abs(w_).max())


@pytest.mark.parametrize("kind, shape", [("batch", (2048, 520)), ("batch", (256, 8, 520)), ("layer", (1040, 1024))])
def test_the_parallel_sweeps_give_the_serial_results(kind, shape, monkeypatch):
    """Over 1M elements the sweeps split rows over the threads (partials added in
    chunk order); forced serial, the same sums in another order."""
    rng = np.random.default_rng(2)
    x, g, p, mean, invstd, layout = _case(rng, kind, shape, True, np.float64, ())
    parallel = _fused(kind, x, g, p, mean, invstd, True, layout)
    monkeypatch.setattr(D, "claim_pool", lambda numel, rows: False)
    monkeypatch.setattr("kernels.cpu._common.claim_pool", lambda numel, rows: False)
    serial = _fused(kind, x, g, p, mean, invstd, True, layout)
    for a_, b_ in zip(parallel, serial):
        np.testing.assert_allclose(a_, b_, rtol=1e-10, atol=1e-10 * np.abs(b_).max())
