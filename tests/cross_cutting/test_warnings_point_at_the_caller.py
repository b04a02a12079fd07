"""Every warning the package gives for a call of the user's points at that call: its
file and line are the caller's (``stacklevel`` counted through every frame between),
so a user sees which of their lines to change, as PyTorch's deprecation warnings do."""
import inspect
import warnings

import pytest

import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F
from tinygrad_bn import distributions as D
from tinygrad_bn import nn, optim
from tinygrad_bn.optim import lr_scheduler, swa_utils


def _opt():
    return optim.SGD([tg.zeros(2, requires_grad=True)], lr=0.1)


# name -> (a call made on this file's line, the warning's category)
CALLS = {
    "SWALR.get_lr outside step": (lambda s: s.get_lr(), lambda: swa_utils.SWALR(_opt(), swa_lr=0.05), UserWarning),
    "SWALR.step(epoch)": (lambda s: s.step(3), lambda: swa_utils.SWALR(_opt(), swa_lr=0.05), UserWarning),
    "ReduceLROnPlateau.step(metric, epoch)": (lambda s: s.step(1.0, 3), lambda: lr_scheduler.ReduceLROnPlateau(_opt()),
                                              UserWarning),
    "StepLR.step(epoch)": (lambda s: s.step(3), lambda: lr_scheduler.StepLR(_opt(), 2), UserWarning),
    "trunc_normal_ far outside [a, b]": (lambda _: nn.init.trunc_normal_(tg.empty(3), mean=10.0, a=-1.0, b=1.0),
                                         None, UserWarning),
    "xavier_uniform_ of nothing": (lambda _: nn.init.xavier_uniform_(tg.empty(0, 3)), None, UserWarning),
    "kaiming_normal_ of nothing": (lambda _: nn.init.kaiming_normal_(tg.empty(0, 3)), None, UserWarning),
    "l1_loss(size_average=)": (lambda _: F.l1_loss(tg.ones(2), tg.ones(2), size_average=False), None, UserWarning),
    "kl_div(reduction='mean')": (lambda _: F.kl_div(tg.zeros(2, 3), tg.ones(2, 3) / 3, reduction="mean"), None,
                                 UserWarning),
    "state_dict(positional)": (lambda m: m.state_dict(None, "p."), lambda: nn.Linear(2, 2), FutureWarning),
    "nn.utils.weight_norm": (lambda _: nn.utils.weight_norm(nn.Linear(2, 2)), None, FutureWarning),
    "Hardtanh(min_value=)": (lambda _: nn.Hardtanh(min_value=-2.0), None, FutureWarning),
    "clip_grad_norm_ of an empty generator": (lambda _: nn.utils.clip_grad_norm_((p for p in []), 1.0), None,
                                              UserWarning),
    "nn.utils.clip_grad_norm": (lambda _: nn.utils.clip_grad_norm([tg.zeros(2, requires_grad=True)], 1.0), None,
                                FutureWarning),
    "F.softmax without dim": (lambda _: F.softmax(tg.ones(2, 3)), None, UserWarning),
    "F.log_softmax without dim": (lambda _: F.log_softmax(tg.ones(2, 3)), None, UserWarning),
    "F.softmin without dim": (lambda _: F.softmin(tg.ones(2, 3)), None, UserWarning),
    "nn.Softmax() called": (lambda m: m(tg.ones(2, 3)), nn.Softmax, UserWarning),
    "nn.LogSoftmax() called": (lambda m: m(tg.ones(2, 3)), nn.LogSoftmax, UserWarning),
    "nn.Softmin() called": (lambda m: m(tg.ones(2, 3)), nn.Softmin, UserWarning),
    "tg.range": (lambda _: tg.range(0, 3), None, UserWarning),
    "Distribution.sample_n": (lambda d: d.sample_n(2), lambda: D.Normal(tg.zeros(1), tg.ones(1)), FutureWarning),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_the_warning_names_the_callers_file_and_line(name):
    call, make, category = CALLS[name]
    subject = make() if make else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(subject)
    ours = [w for w in caught if issubclass(w.category, category)]
    assert len(ours) == 1, [str(w.message) for w in caught]
    line = inspect.getsourcelines(call)[1]
    assert (ours[0].filename, ours[0].lineno) == (__file__, line), (ours[0].filename, ours[0].lineno, str(ours[0].message))
