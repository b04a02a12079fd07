"""The sharpness figure's loss axis (log scale, inverted) is ticked at every 1-2-5 value
between 0.01 and 5 that lies within the losses drawn, and at no value outside them,
whatever part of that range a run covers (its ends included)."""
import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt

from tinygrad_bn.experiments import sharpness

ONE_TWO_FIVE = [5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01]


@pytest.mark.parametrize("low,high", [(0.011, 4.0), (0.04, 0.6), (0.015, 0.06), (0.3, 3.0), (0.05, 2.0)])
def test_every_one_two_five_value_within_the_losses_is_a_tick(low, high):
    losses = list(np.geomspace(high, low, 7))
    by_net = {"plain": [{"hessian_batch_loss": losses, "top_eigenvalue": [1.0] * 7}],
              "bn": [{"hessian_batch_loss": [float("nan")] + losses[1:-1] + [float("inf")],
                      "top_eigenvalue": [2.0] * 7}]}
    fig, ax = plt.subplots()
    try:
        sharpness._against_loss(plt, ax, by_net)
        ticks = sorted(float(t) for t in ax.get_xticks())
    finally:
        plt.close(fig)
    want = sorted(t for t in ONE_TWO_FIVE if low <= t <= high)
    assert ticks == pytest.approx(want, rel=1e-12)
