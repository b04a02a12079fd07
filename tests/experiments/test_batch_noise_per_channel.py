"""small_batch.batch_noise measures each channel's noise over the draws first (the
root of the mean square over the draws) and only then averages the channels, as its
docstring defines it. With one or two channels the order shows: the root mean square
of a batch mean over draws is sqrt((N - b) / (b (N - 1))) exactly (a batch is a sample
without replacement from a standardized population), while a root taken draw by draw
first would give E|m| (about 0.80 of it for one Gaussian channel)."""
import math

import numpy as np
import pytest

from tinygrad_bn.experiments import small_batch

SIZES = [2, 4, 16]


@pytest.mark.parametrize("channels", [1, 2])
def test_few_channels_give_each_channels_root_mean_square(channels):
    rng = np.random.default_rng(5)
    n = 30000
    x = rng.standard_normal((n, channels)) * np.arange(1, channels + 1) + 4.0
    noise = small_batch.batch_noise(x, SIZES, draws=6000, seed=1)
    for b, mean, std in zip(SIZES, noise["mean"], noise["std"]):
        want = math.sqrt((n - b) / (b * (n - 1)))
        assert mean == pytest.approx(want, rel=0.04), (b, mean, want)
        # Gaussian channels: sqrt(E[(s / sigma - 1)^2]) for the biased std s of b draws
        assert std == pytest.approx(small_batch.gaussian_std_noise(b), rel=0.05), (b, std)


def test_channels_of_different_shapes_are_averaged_after_each_ones_own_measure():
    """A Gaussian channel beside a two-valued one (+-1, whose batch std is sqrt(1 - m^2)):
    the std noise is the mean of the two channels' own measures, each checked alone."""
    rng = np.random.default_rng(7)
    n = 30000
    gauss = rng.standard_normal(n)
    coin = rng.choice([-1.0, 1.0], n)
    both = small_batch.batch_noise(np.stack([gauss, coin], 1), SIZES, draws=6000, seed=2)
    alone = [small_batch.batch_noise(c[:, None], SIZES, draws=6000, seed=2) for c in (gauss, coin)]
    for key in ("mean", "std"):
        # the same draws (the same seed and row order): the same per-channel numbers, averaged
        np.testing.assert_allclose(both[key], [(a + c) / 2 for a, c in zip(alone[0][key], alone[1][key])],
                                   rtol=1e-5)
    # and the two channels' std noises really differ (the check has teeth)
    assert any(abs(a - c) > 0.05 for a, c in zip(alone[0]["std"], alone[1]["std"]))
