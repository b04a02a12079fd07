"""LinearLR's factor moves linearly from start_factor to end_factor over total_iters
epochs: lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters).
``step(epoch)`` (PyTorch's deprecated form) jumps there by the closed form, and the
plain ``step()`` gets there by its chain of ratios; both are checked against the formula
for rising and falling factors whose difference is not their product (0.5 -> 1.0 would
not tell the two apart)."""
import warnings

import numpy as np
import pytest

from tinygrad_bn import nn
from tinygrad_bn.optim import SGD
from tinygrad_bn.optim import lr_scheduler as S

BASE = [0.2, 0.05]
FACTORS = [(0.25, 0.75), (1.0, 0.1), (0.1, 1.0), (0.8, 0.0)]


def _opt():
    a, b = nn.Linear(2, 2), nn.Linear(2, 1)
    return SGD([{"params": a.parameters(), "lr": BASE[0]}, {"params": b.parameters(), "lr": BASE[1]}], lr=BASE[0])


def _want(epoch, start, end, total):
    return [b * (start + (end - start) * min(epoch, total) / total) for b in BASE]


@pytest.mark.parametrize("start,end", FACTORS)
def test_step_with_an_epoch_lands_on_the_linear_factor(start, end):
    sched = S.LinearLR(_opt(), start_factor=start, end_factor=end, total_iters=6)
    for e in (3, 1, 6, 9, 0, 4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sched.step(e)
        np.testing.assert_allclose(sched.get_last_lr(), _want(e, start, end, 6), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("start,end", FACTORS)
def test_stepping_one_epoch_at_a_time_follows_the_same_line(start, end):
    sched = S.LinearLR(_opt(), start_factor=start, end_factor=end, total_iters=5)
    np.testing.assert_allclose(sched.get_last_lr(), _want(0, start, end, 5), rtol=1e-12, atol=1e-15)
    for e in range(1, 9):
        sched.step()
        np.testing.assert_allclose(sched.get_last_lr(), _want(e, start, end, 5), rtol=1e-12, atol=1e-15)
