"""The CPU's fused cross entropy (kernels/cpu/crossentropy.py) against a float64
reference written from the formula, and the op (ops/loss.py) with the kernels
against its composed form, which other devices run: same values within
rounding, same gradients, same errors."""
import contextlib
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kernels.cpu as K
import tinygrad_bn as tg
from tinygrad_bn.backends import get_backend
from tinygrad_bn.ops import loss as loss_ops

IGNORE = -100
TOL = {np.float32: 2e-6, np.float64: 1e-14}


def _reference(z, target, ignore_index):
    """float64 log_probs, per-row losses (0 where ignored), the counted rows, and dz / scale."""
    z = z.astype(np.float64)
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    valid = target != ignore_index
    safe = np.where(valid & (target >= 0) & (target < z.shape[1]), target, 0)
    losses = np.where(valid, -log_probs[np.arange(len(z)), safe], 0.0)
    one_hot = np.zeros_like(z)
    one_hot[np.arange(len(z)), safe] = 1
    return log_probs, losses, valid, safe, np.exp(log_probs) - one_hot


CASES = st.tuples(st.integers(0, 9), st.integers(1, 12), st.sampled_from([np.float32, np.float64]),
                  st.floats(0.01, 30), st.integers(0, 2**32 - 1))


@settings(max_examples=60, deadline=None)
@given(CASES)
def test_forward_and_backward_match_the_float64_formula(case):
    rows, classes, dtype, spread, seed = case
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((rows, classes)) * spread + rng.uniform(-50, 50)).astype(dtype)
    target = rng.integers(0, classes, rows)
    target[rng.random(rows) < 0.3] = IGNORE
    lp, losses, valid, safe, bad, total, count = K.cross_entropy(z, target, IGNORE)
    ref_lp, ref_losses, ref_valid, ref_safe, ref_dz = _reference(z, target, IGNORE)
    tol = TOL[dtype] * max(1.0, spread)
    assert lp.dtype == losses.dtype == total.dtype == count.dtype == dtype
    np.testing.assert_allclose(lp, ref_lp, rtol=tol, atol=tol * 10)
    np.testing.assert_allclose(losses, ref_losses, rtol=tol, atol=tol * 10)
    np.testing.assert_array_equal(valid, ref_valid)
    np.testing.assert_array_equal(safe, ref_safe)
    assert not bad[0]
    assert total.shape == count.shape == ()
    np.testing.assert_allclose(total, ref_losses.sum(), rtol=tol, atol=tol * 10 * rows)
    if ref_valid.any():
        assert count == ref_valid.sum()
    else:
        assert np.isnan(count)
    # one scale for every row (mean, sum) and one per row (none)
    for scale in (np.array([rng.standard_normal()], dtype), rng.standard_normal(rows).astype(dtype)):
        dz = K.cross_entropy_backward(lp, safe, valid, scale)
        expected = ref_dz * (ref_valid * (scale if scale.size == rows else scale[0]))[:, None]
        assert dz.dtype == dtype
        np.testing.assert_allclose(dz, expected, rtol=tol, atol=tol * 10 * np.abs(scale).max(initial=1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, classes", [(1, 1), (7, 3), (64, 10)])
def test_the_replay_form_gives_the_functions_own_results(rows, classes, dtype):
    """A compiled step calls ``cross_entropy.replay_form(*traced_args)`` in place of the
    function, on new arrays of the traced shapes and dtypes: every output the same, bit
    for bit, with ignored rows, a target out of range, no counted row, and logits that
    are a transposed view."""
    rng = np.random.default_rng(rows * classes)
    traced = rng.standard_normal((rows, classes)).astype(dtype)
    form = K.cross_entropy.replay_form(traced, rng.integers(0, classes, rows), IGNORE)
    assert form is not K.cross_entropy
    targets = [rng.integers(0, classes, rows), np.full(rows, IGNORE), np.where(rng.random(rows) < 0.5, IGNORE, 0)]
    targets.append(np.where(np.arange(rows) == rows - 1, classes, rng.integers(0, classes, rows)))
    for k, target in enumerate(targets):
        z = (rng.standard_normal((rows, classes)) * (k + 1)).astype(dtype)
        for logits in (z, np.ascontiguousarray(z.T).T):
            want, got = K.cross_entropy(logits, target, IGNORE), form(logits, target, IGNORE)
            assert len(got) == len(want)
            for w, g in zip(want, got):
                assert type(g) is np.ndarray and g.dtype == w.dtype and g.shape == w.shape
                np.testing.assert_array_equal(g, w)


def test_a_counted_target_out_of_range_is_flagged_and_read_as_class_0():
    z = np.zeros((4, 3), np.float32)
    for target, flagged in (([0, 1, 2, IGNORE], False), ([0, 3, 1, 2], True), ([-1, 0, 0, 0], True),
                            ([IGNORE] * 4, False)):
        _, losses, valid, safe, bad, total, count = K.cross_entropy(z, np.array(target), IGNORE)
        assert bool(bad[0]) is flagged
        assert list(safe) == [t if 0 <= t < 3 else 0 for t in target]
        assert list(valid) == [t != IGNORE for t in target]
    assert np.isnan(count) and total == 0  # no counted rows: the mean is NaN
    # ignore_index may be a class: its rows do not count, and their safe target is 0
    _, losses, valid, safe, bad, total, count = K.cross_entropy(z, np.array([1, 2, 1, 0]), 1)
    assert list(valid) == [False, True, False, True] and list(safe) == [0, 2, 0, 0]
    assert list(losses) == [0, np.float32(np.log(3)), 0, np.float32(np.log(3))] and count == 2 and not bad[0]


def test_nan_and_infinities_propagate_as_in_the_composed_form():
    z = np.array([[1, np.nan, 2], [np.inf, 0, 1], [-np.inf, 0, 1], [-np.inf, -np.inf, -np.inf],
                  [np.nan, 1, 2]], np.float64)
    target = np.array([0, 1, 1, 0, 2])
    lp, losses, *_ = K.cross_entropy(z, target, IGNORE)
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted = z - z.max(axis=1, keepdims=True)
        composed = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(lp, composed)  # NaN where NaN, -inf where -inf, the values alike
    assert np.isnan(losses[[0, 1, 3, 4]]).all() and losses[2] == -composed[2, 1]


@pytest.mark.parametrize("bad", [(np.zeros((3, 2), np.float16), np.zeros(3, np.int64)),
                                 (np.zeros((3, 2)), np.zeros(3, np.int32)),
                                 (np.zeros((3, 0)), np.zeros(3, np.int64)),
                                 (np.zeros((3, 2)), np.zeros(2, np.int64)),
                                 (np.zeros(6), np.zeros(3, np.int64))])
def test_the_kernel_refuses_arrays_it_does_not_take_and_says_which(bad):
    with pytest.raises(TypeError, match="kernels.cpu.cross_entropy: expected NumPy logits"):
        K.cross_entropy(*bad, IGNORE)


def _composed():
    """The op without the fused kernels: the composed form other devices run."""
    return mock.patch.object(loss_ops, "_fused_kernels", lambda be, logits, target: False)


class _KernelsWithout:
    """A kernel package without the fused cross entropy (as kernels.cuda)."""

    def __getattr__(self, name):
        if name.startswith("cross_entropy"):
            raise AttributeError(name)
        return getattr(K, name)


class _DeviceWithout:
    kernels = _KernelsWithout()


def test_the_op_takes_the_kernels_only_where_they_apply():
    cpu = get_backend("cpu")
    z, t = np.zeros((3, 4), np.float32), np.zeros(3, np.int64)
    assert loss_ops._fused_kernels(cpu, z, t)
    assert not loss_ops._fused_kernels(_DeviceWithout(), z, t)
    assert not loss_ops._fused_kernels(cpu, z.astype(np.float16), t)
    assert not loss_ops._fused_kernels(cpu, z, t.astype(np.int32))
    assert not loss_ops._fused_kernels(cpu, np.zeros((3, 0), np.float32), t)


@pytest.mark.parametrize("targets, fused", [(np.int64, True), (np.int32, False)])
def test_the_backward_takes_the_fused_kernel_exactly_when_the_forward_did(targets, fused):
    """Its single pass is the reason for the kernel: a fused forward's backward calls
    it once; a composed forward (int32 targets here) never hands it its arrays."""
    logits = tg.tensor(np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4), requires_grad=True)
    weights = tg.tensor(np.array([0.5, -1.0, 2.0], np.float32))
    with mock.patch.object(K, "cross_entropy_backward", wraps=K.cross_entropy_backward) as spy:
        loss = tg.nn.functional.cross_entropy(logits, tg.tensor(np.array([0, 3, 1], targets)), reduction="none")
        (loss * weights).sum().backward()
    assert spy.call_count == (1 if fused else 0)
    assert logits.grad is not None


@settings(max_examples=25, deadline=None)
@given(CASES, st.sampled_from(["mean", "sum", "none"]))
def test_the_fused_op_gives_the_composed_ops_values_and_gradients(case, reduction):
    rows, classes, dtype, spread, seed = case
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal((rows, classes)) * spread).astype(dtype)
    target = rng.integers(0, classes, rows)
    target[rng.random(rows) < 0.3] = IGNORE
    weight = rng.standard_normal(rows if reduction == "none" else ()).astype(dtype)
    results = []
    for fused in (True, False):
        x = tg.tensor(z, requires_grad=True)
        with mock.patch.object(loss_ops, "_fused_kernels", wraps=loss_ops._fused_kernels) as chooser:
            if not fused:
                chooser.side_effect = lambda be, logits, target: False
            out = tg.nn.functional.cross_entropy(x, tg.tensor(target), reduction=reduction)
            (out * tg.tensor(weight)).sum().backward()
        assert chooser.call_count == 1
        results.append((out.detach().numpy(), x.grad.numpy()))
    (fused_out, fused_grad), (composed_out, composed_grad) = results
    tol = TOL[dtype] * max(1.0, spread) * 10
    np.testing.assert_allclose(fused_out, composed_out, rtol=tol, atol=tol * rows, equal_nan=True)
    np.testing.assert_allclose(fused_grad, composed_grad, rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("composed", [False, True])
def test_a_bad_target_raises_the_same_error_either_way(composed):
    expected = r"^cross_entropy: target 7 is out of bounds for 4 classes \(expected 0 <= target < 4, or ignore_index=-100\)$"
    with _composed() if composed else contextlib.nullcontext(), pytest.raises(IndexError, match=expected):
        tg.nn.functional.cross_entropy(tg.zeros(3, 4), tg.tensor([1, -100, 7]))


# ------------------------------------------------------------ the float32 exponential
@pytest.fixture(scope="module")
def exp32():
    """The kernels' exp, elementwise over a float32 array, compiled as they are."""
    from numba import njit

    from kernels.cpu import crossentropy
    from kernels.cpu._common import FASTMATH

    @njit(fastmath=FASTMATH)
    def each(a, out):
        for i in range(a.size):
            out[i] = crossentropy._exp(a[i])

    def run(a):
        out = np.empty_like(a)
        each(a, out)
        return out
    return run


def test_the_float32_exponential_is_within_about_an_ulp_of_the_exact_one(exp32):
    """Over [-87, 0] (every log-probability the kernels take) the float32 exp is
    within 1.5 ulp of exp in float64 rounded to the nearest float32's spacing
    (0.99 on the machine it was written on; NumPy's own float32 exp: 2.4)."""
    x = -np.linspace(0.0, 87.0, 400_001).astype(np.float32)
    x = np.concatenate([x, -np.float32(2.0) ** -np.arange(1, 30, dtype=np.float32)])  # near 0
    got = exp32(x).astype(np.float64)
    exact = np.exp(x.astype(np.float64))
    ulps = np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64)
    assert ulps.max() <= 1.5, (ulps.max(), x[ulps.argmax()])
    assert np.all(np.diff(got[:400_001]) <= 0)  # falls with x, as exp does


def test_the_float32_exponential_at_its_edges(exp32):
    x = np.array([0.0, -0.0, np.nan, -np.inf, -87.0, -87.0001, -100.0, -1e-30, -3.4e38], np.float32)
    got = exp32(x)
    assert got[0] == got[1] == 1.0 and np.isnan(got[2]) and got[3] == 0.0
    assert got[4] == pytest.approx(np.exp(-87.0), rel=2e-7)  # the last value it keeps
    assert got[5] == got[6] == got[8] == 0.0  # below -87: exact values are subnormals under 1.7e-38
    assert got[7] == 1.0


def test_float64_logits_keep_numpys_exponential():
    """float64 logits: the kernels' exp is np.exp, so a row's log-probabilities are
    the formula's to a few ulp of float64."""
    z = np.random.default_rng(4).standard_normal((50, 7)) * 30
    log_probs = K.crossentropy.cross_entropy(z, np.zeros(50, np.int64), IGNORE)[0]
    ref = _reference(z, np.zeros(50, np.int64), IGNORE)[0]
    np.testing.assert_allclose(log_probs, ref, rtol=1e-14, atol=1e-13)
    dz = K.crossentropy.cross_entropy_backward(log_probs, np.zeros(50, np.int64), np.ones(50, bool),
                                               np.ones(1))
    soft = np.exp(ref)
    soft[:, 0] -= 1
    np.testing.assert_allclose(dz, soft, rtol=1e-13, atol=1e-15)
