"""number_arg's bounds: a value is taken only when it lies within them, so a NaN,
which lies within no bound, is refused wherever a bound is given, even where
infinities are allowed (``finite=False``)."""
import math

import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.arguments import number_arg

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("bounds, message", [
    ({"low": 0.0}, ">= 0.0"),
    ({"low": 0.0, "low_open": True}, "> 0.0"),
    ({"high": 1.0}, "<= 1.0"),
    ({"low": -1.0, "high": 1.0}, ">= -1.0 and <= 1.0"),
])
def test_a_nan_is_outside_every_bound(bounds, message):
    with pytest.raises(ValueError, match=rf"^op: p must be {message}, got nan$"):
        number_arg("op", "p", NAN, finite=False, **bounds)


def test_infinities_are_taken_within_a_bound_and_refused_past_it():
    assert number_arg("op", "p", INF, 0.0, low_open=True, finite=False) == INF
    assert number_arg("op", "p", -INF, high=1.0, finite=False) == -INF
    with pytest.raises(ValueError, match=r"^op: p must be <= 1.0, got inf$"):
        number_arg("op", "p", INF, high=1.0, finite=False)
    with pytest.raises(ValueError, match=r"^op: p must be > 0.0, got -inf$"):
        number_arg("op", "p", -INF, 0.0, low_open=True, finite=False)


def test_without_a_bound_finite_false_takes_a_nan_and_the_bounds_keep_their_edges():
    assert math.isnan(number_arg("op", "value", NAN, finite=False))
    assert number_arg("op", "p", 0.0, 0.0) == 0.0 and number_arg("op", "p", 1.0, high=1.0) == 1.0
    with pytest.raises(ValueError, match=r"^op: p must be > 0.0, got 0.0$"):
        number_arg("op", "p", 0.0, 0.0, low_open=True)


def test_the_public_checks_with_a_bound_refuse_a_nan_before_changing_anything():
    w = tg.zeros(3, 4)
    with pytest.raises(ValueError, match=r"trunc_normal_: b \(with a=-2.0\) must be > -2.0, got nan"):
        nn.init.trunc_normal_(w, a=-2.0, b=NAN)
    assert not w.numpy().any()
    with pytest.raises(ValueError, match=r"^trunc_normal_: a, the lower bound of the values, must be a number or -inf, "
                                         r"got nan$"):
        nn.init.trunc_normal_(w, a=NAN, b=2.0)
    assert not w.numpy().any()
    with pytest.raises(ValueError, match=r"norm_type must be > 0.0, got nan"):
        nn.functional.embedding(tg.tensor([0, 1]), tg.ones(3, 2), max_norm=1.0, norm_type=NAN)
    with pytest.raises(ValueError, match=r"renorm"):
        tg.ones(2, 3).renorm(NAN, 0, 1.0)
