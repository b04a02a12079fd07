"""The EMA averaging functions take a decay anywhere in [0, 1], ends included, as
PyTorch's do: decay 0 makes the average the current parameters, decay 1 keeps it
as it is; just outside the interval is refused."""
import pytest

import tinygrad_bn as tg
from tinygrad_bn.optim.swa_utils import get_ema_avg_fn, get_ema_multi_avg_fn


@pytest.mark.parametrize("decay, want", [(0.0, [3.0, 6.0]), (1.0, [1.0, 2.0])])
def test_a_decay_at_either_end_is_taken_and_gives_the_current_or_the_old_average(decay, want):
    averaged = [tg.tensor([1.0, 2.0])]
    get_ema_multi_avg_fn(decay)(averaged, [tg.tensor([3.0, 6.0])], 1)
    assert averaged[0].tolist() == want
    assert get_ema_avg_fn(decay)(tg.tensor([1.0, 2.0]), tg.tensor([3.0, 6.0]), 1).tolist() == want


@pytest.mark.parametrize("make", [get_ema_avg_fn, get_ema_multi_avg_fn])
@pytest.mark.parametrize("decay", [-1e-9, 1.0 + 1e-9])
def test_a_decay_outside_zero_to_one_is_refused(make, decay):
    with pytest.raises(ValueError, match=r"invalid decay value .* expected a value in \[0, 1\]"):
        make(decay)
