"""The landscape experiment's progress bar counts to its total whatever the number of
seeds (a total that is not the number of runs ticked shows a wrong fraction and ETA),
and each tick names the run that just ended (setting, net, seed):
the runs themselves are stand-ins here, and the experiment is stopped as the bar closes."""
import collections

import pytest
from progress_stand_in import bar_of_a_stand_in_run

from tinygrad_bn.experiments import landscape


def _stand_in_run(cls, seed, epochs, cfg, every, etas):
    r = {"setup": {}, "loss": [], "acc": [], "final_acc": 0.5, "diverged": False}
    return r, [], collections.defaultdict(list)


@pytest.mark.parametrize("quick", [True, False])
@pytest.mark.parametrize("seeds", [1, 3])
def test_the_bar_counts_every_run_of_every_setting_net_and_seed(monkeypatch, seeds, quick):
    calls = []

    def counted(*args):
        cls, seed, _, cfg = args[:4]
        setting = next(k for k, v in landscape.SETTINGS.items() if v is cfg)
        net = next(k for k, v in landscape.NETS.items() if v is cls)
        calls.append((setting, net, seed))
        return _stand_in_run(*args)
    bar = bar_of_a_stand_in_run(monkeypatch, landscape, "_probed_run", counted, seeds, quick)
    assert bar.ticks == len(calls) == bar.total
    assert sorted({seed for _, _, seed in calls}) == list(range(seeds))
    assert bar.labels == [f"{setting} {net} seed {seed}" for setting, net, seed in calls]
