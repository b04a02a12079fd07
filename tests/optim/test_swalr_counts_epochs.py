"""SWALR's ``last_epoch`` counts the epochs stepped, as every PyTorch scheduler's does:
0 once built, then one more per ``step()`` (an explicit, deprecated ``step(epoch)`` sets
it), and the count travels in ``state_dict``."""
import warnings

from tinygrad_bn import nn
from tinygrad_bn.optim import SGD
from tinygrad_bn.optim.swa_utils import SWALR


def _scheduler(anneal_epochs=3):
    opt = SGD(nn.Linear(2, 1).parameters(), lr=0.5)
    return opt, SWALR(opt, swa_lr=0.05, anneal_epochs=anneal_epochs)


def test_last_epoch_is_the_number_of_steps_taken():
    _, s = _scheduler()
    assert s.last_epoch == 0
    for k in range(1, 8):
        s.step()
        assert s.last_epoch == k
    assert s.state_dict()["last_epoch"] == 7


def test_a_loaded_state_goes_on_counting_from_its_epoch():
    _, s = _scheduler()
    for _ in range(4):
        s.step()
    _, t = _scheduler()
    t.load_state_dict(s.state_dict())
    s.step()
    t.step()
    assert t.last_epoch == s.last_epoch == 5
    assert t.get_last_lr() == s.get_last_lr()


def test_an_explicit_epoch_sets_the_count_and_the_next_step_goes_on_from_it():
    _, s = _scheduler()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s.step(10)
    assert s.last_epoch == 10
    s.step()
    assert s.last_epoch == 11
