"""The rest of torch.autograd's names a script reaches for: anomaly switches,
GradcheckError as an attribute of gradcheck, and set_materialize_grads."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import autograd


def test_set_detect_anomaly_switches_at_once_and_as_a_block():
    from tinygrad_bn.anomaly import is_anomaly_enabled
    assert not is_anomaly_enabled()
    autograd.set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        x = tg.tensor([0.0], requires_grad=True)
        with pytest.raises(tg.AnomalyError):
            (x / x).sum().backward()
    finally:
        autograd.set_detect_anomaly(False)
    assert not is_anomaly_enabled()
    with autograd.set_detect_anomaly(True):
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    with autograd.detect_anomaly():
        assert is_anomaly_enabled()
    with pytest.raises(TypeError, match="set_detect_anomaly: mode must be a bool, got int 1"):
        autograd.set_detect_anomaly(1)


def test_gradcheck_error_is_reachable_as_pytorch_spells_it():
    x = tg.tensor([0.5, 1.5], dtype=tg.float64, requires_grad=True)
    with pytest.raises(autograd.gradcheck.GradcheckError):
        autograd.gradcheck(_WrongSquare.apply, (x,))


class _WrongSquare(autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x  # should be 2 x


class _TwoOutputs(autograd.Function):
    seen = []

    @staticmethod
    def forward(ctx, x, materialize):
        ctx.set_materialize_grads(materialize)
        return x * 2, x * 3

    @staticmethod
    def backward(ctx, g1, g2):
        _TwoOutputs.seen.append((g1 is None, g2 is None))
        total = g1 * 2 if g1 is not None else 0
        total = total + (g2 * 3 if g2 is not None else 0)
        return total, None


@pytest.mark.parametrize("materialize", [True, False])
def test_set_materialize_grads_gives_none_for_outputs_without_a_gradient(materialize):
    _TwoOutputs.seen.clear()
    x = tg.tensor([1.0, 2.0], dtype=tg.float64, requires_grad=True)
    a, _ = _TwoOutputs.apply(x, materialize)
    (a * tg.tensor([1.0, -1.0], dtype=tg.float64)).sum().backward()
    assert _TwoOutputs.seen == [(False, not materialize)]
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, -2.0])
    ctx = autograd.FunctionCtx.__new__(autograd.FunctionCtx)
    with pytest.raises(TypeError, match="set_materialize_grads: expected a bool"):
        ctx.set_materialize_grads("no")
