"""detect_anomaly's error names the op, its tape entry, the module it ran in and
the user's line that made it (file, line number and source), in the message and
as attributes."""
import inspect

import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn


@pytest.mark.filterwarnings("ignore:invalid value encountered in log")
def test_a_forward_nan_is_named_with_the_file_line_and_code_that_made_it():
    x = tg.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(tg.AnomalyError) as caught, tg.detect_anomaly():
        line = inspect.currentframe().f_lineno + 1
        y = x.log()  # noqa: F841
    e = caught.value
    assert e.origin == (__file__, line, "y = x.log()  # noqa: F841")
    assert e.op == "Log" and e.phase == "forward"
    assert f"the forward output of Log (tape entry #{e.seq}), created at {__file__}:{line}: y = x.log()" in str(e)


def test_the_module_an_op_ran_in_is_named():
    layer = nn.Linear(2, 2)
    layer.weight.data.fill_(float("inf"))
    x = tg.ones(1, 2, requires_grad=True)
    with pytest.raises(tg.AnomalyError) as caught, tg.detect_anomaly():
        layer(x * -1.0)
    assert ", in module " in str(caught.value) and caught.value.module
