"""gradcheck's pass rule is PyTorch's, ``|analytic - numeric| <= atol + rtol * |numeric|``,
in both modes: a gradient off by a relative 5e-4 passes rtol=1e-3 and one off by 2e-3
fails it (atol=0), the same for atol alone (rtol=0); and the GradcheckError it raises
carries the analytic and numeric values and their relative error."""
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import GradcheckError, gradcheck

SCALE = 100.0  # a gradient far from 1, so that rtol * |numeric| and rtol / |numeric| differ


def _scaled(delta, scale=SCALE):
    """y = scale * x, with a backward off by a factor of (1 + delta)."""

    class Off(tg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * scale

        @staticmethod
        def backward(ctx, g):
            return g * (scale * (1 + delta))

    return Off.apply


def _x():
    return tg.tensor([0.3, -1.2, 0.7], dtype=tg.float64, requires_grad=True)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_rtol_alone_is_relative_to_the_numeric_value(fast_mode):
    assert gradcheck(_scaled(5e-4), _x(), atol=0.0, rtol=1e-3, fast_mode=fast_mode)
    assert not gradcheck(_scaled(2e-3), _x(), atol=0.0, rtol=1e-3, fast_mode=fast_mode, raise_exception=False)
    assert not gradcheck(_scaled(-2e-3), _x(), atol=0.0, rtol=1e-3, fast_mode=fast_mode, raise_exception=False)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_atol_alone_bounds_the_absolute_difference(fast_mode):
    """Each compared value is at most a few hundred here: an error of 1e-4 of it stays
    under atol=0.1 and 1e-2 of it does not."""
    assert gradcheck(_scaled(1e-6), _x(), atol=0.1, rtol=0.0, fast_mode=fast_mode)
    assert not gradcheck(_scaled(1e-2), _x(), atol=0.1, rtol=0.0, fast_mode=fast_mode, raise_exception=False)


@pytest.mark.parametrize("scale", [SCALE, 0.01], ids=["large", "small"])
@pytest.mark.parametrize("fast_mode", [False, True])
def test_the_error_carries_both_values_and_their_relative_error(fast_mode, scale):
    """Relative to the numeric value, whether it is far above 1 or far below."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(_scaled(0.25, scale), _x(), atol=0.0, fast_mode=fast_mode)
    err = info.value
    assert err.input_index == 0
    assert err.index == ("direction 0" if fast_mode else (0,))
    assert err.analytic == pytest.approx(1.25 * err.numeric, rel=1e-6)
    assert err.rel_error == pytest.approx(0.25, rel=1e-6)
    assert f"relative error {err.rel_error:.3g}" in str(err) and "(atol 0.0, rtol 0.001)" in str(err)
